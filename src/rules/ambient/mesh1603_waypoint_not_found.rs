//! MESH1603 waypoint-not-found: `istio.io/use-waypoint` naming a Gateway the input does not
//! define, or a Gateway that is no waypoint. istiod then gives the Service or workload no
//! waypoint (`ReportWaypointIsNotReady` in istio
//! `pilot/pkg/serviceregistry/ambient/waypoints.go`, `fetchWaypointForTarget`).

use crate::diagnostic::Severity;
use crate::mesh::ambient::waypoints::hbone_listener;
use crate::mesh::gateway_api::gateways::Class;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};

use super::enrolments::{Subject, waypoint_labels};

pub struct WaypointNotFound;

static META: RuleMeta = RuleMeta {
    code: "MESH1603",
    name: "waypoint-not-found",
    summary: "`istio.io/use-waypoint` names a Gateway the input lacks, or one that is no waypoint",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA1313"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1603-waypoint-not-found.md"),
};

impl Rule for WaypointNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        let api = cx.gateway_api();
        let store = cx.store;
        let any_gateway = !api.gateways.is_empty();
        for l in waypoint_labels(cx, &view) {
            let w = &l.waypoint;
            let (at, path) = w.label_at.clone();
            let labelled = store.get(at);
            let target = format!("{}/{}", w.namespace, w.name);
            let uses = uses_text(cx, &l.subjects);
            let Some(gateway) = w.gateway else {
                let (severity, partial) = if any_gateway {
                    (Severity::Warning, "")
                } else {
                    (
                        Severity::Info,
                        " (the input defines no Gateway API Gateway at all; if the waypoint is deployed from elsewhere, ignore this)",
                    )
                };
                let rep = cx
                    .report(
                        at,
                        path,
                        format!(
                            "{} {} names waypoint {target}, which the input does not define{partial}: istiod finds no waypoint for {uses}, so that traffic skips the waypoint and the L7 policy and routing meant for the waypoint do not apply",
                            labelled.kind, labelled.name
                        ),
                    )
                    .subkind("missing")
                    .severity(severity)
                    .help(format!(
                        "create the waypoint (`istioctl waypoint generate --for service -n {} {}`), or fix the name{}",
                        w.namespace,
                        w.name,
                        if w.namespace_at.is_some() { " and `istio.io/use-waypoint-namespace`" } else { " (add `istio.io/use-waypoint-namespace` when the waypoint is in another namespace)" }
                    ));
                if let Some((nat, npath)) = w.namespace_at.clone() {
                    rep.related(nat, npath, "the waypoint's namespace");
                }
                continue;
            };
            let Some(g) = api.gateway_of(store, gateway) else {
                continue;
            };
            let Spec::K8sGateway(spec) = &store.get(gateway).spec else {
                continue;
            };
            if g.class == Class::Waypoint || hbone_listener(spec).is_some() {
                continue;
            }
            // Another controller may implement waypoints (istiod sends them HBONE on 15008
            // whatever their listeners say); istio's own ingress classes are no waypoints.
            let class = gateway_class(store.get(gateway));
            let (severity, message) = match g.class {
                Class::Istio | Class::Remote => (
                    Severity::Error,
                    format!(
                        "{} {} names Gateway {target} as its waypoint, but it is no waypoint (class `{class}`, no listener on port 15008 with protocol HBONE): the traffic of {uses} is sent to it over HBONE on port 15008, where it does not listen, so those connections fail",
                        labelled.kind, labelled.name,
                    ),
                ),
                _ => (
                    Severity::Info,
                    format!(
                        "{} {} names Gateway {target} of another controller's class `{class}` as its waypoint; it has no listener on port 15008 with protocol HBONE, and istiod sends the traffic of {uses} to it over HBONE on port 15008, so that controller must serve HBONE there",
                        labelled.kind, labelled.name,
                    ),
                ),
            };
            cx.report(at, path, message)
            .subkind("not-a-waypoint")
            .severity(severity)
            .related(gateway, crate::source::FieldPath::parse("spec.gatewayClassName"), "the Gateway named")
            .help("name a Gateway of class `istio-waypoint` with a listener `{name: mesh, port: 15008, protocol: HBONE}`");
        }
    }
}

fn gateway_class(r: &crate::model::Resource) -> &str {
    match &r.spec {
        Spec::K8sGateway(g) => &g.gateway_class_name,
        _ => "",
    }
}

/// `Service a and 2 other objects`, for messages: the first by kind and name, so the text does
/// not depend on input order.
pub fn uses_text(cx: &Context<'_>, subjects: &[Subject]) -> String {
    let mut names: Vec<String> = subjects
        .iter()
        .map(|s| {
            let r = cx.store.get(s.id());
            format!("{} {}", r.kind, r.name)
        })
        .collect();
    names.sort();
    match names.as_slice() {
        [] => "the Services and workloads of the namespace".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} other objects", rest.len()),
    }
}
