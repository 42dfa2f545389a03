//! MESH1604 waypoint-refuses-traffic: a waypoint that does not take the traffic of a Service or
//! workload naming it: its `istio.io/waypoint-for` does not cover that kind of enrolment
//! (`fetchWaypointForService`, `fetchWaypointForWorkload`), or its HBONE listener does not
//! allow the namespace (`AllowsAttachmentFromNamespace`), both in istio
//! `pilot/pkg/serviceregistry/ambient/waypoints.go`.

use crate::diagnostic::Severity;
use crate::mesh::ambient::EnrolmentSource;
use crate::mesh::ambient::waypoints::hbone_listener;
use crate::mesh::gateway_api::gateways::AllowedFrom;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::enrolments::{Subject, waypoint_labels};
use super::mesh1603_waypoint_not_found::uses_text;

pub struct WaypointRefusesTraffic;

static META: RuleMeta = RuleMeta {
    code: "MESH1604",
    name: "waypoint-refuses-traffic",
    summary: "a waypoint whose `istio.io/waypoint-for` or allowed namespaces refuse a Service or workload that names it",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &["KIA1313"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1604-waypoint-refuses-traffic.md"),
};

/// The annotation that binds ztunnel to another listener of the waypoint (`makeInboundBinding`).
const INBOUND_BINDING: &str = "ambient.istio.io/waypoint-inbound-binding";

impl Rule for WaypointRefusesTraffic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        let api = cx.gateway_api();
        let store = cx.store;
        for l in waypoint_labels(cx, &view) {
            let w = &l.waypoint;
            let Some(gateway) = w.gateway else { continue };
            let g_res = store.get(gateway);
            let Spec::K8sGateway(spec) = &g_res.spec else {
                continue;
            };
            let (at, path) = w.label_at.clone();
            let labelled = store.get(at);
            let target = format!("{}/{}", w.namespace, w.name);
            let traffic = view.waypoint_for(gateway);
            // A namespace label that a waypoint for services does not take for workloads is not
            // an error in istio: only the Services use it.
            let refused: Vec<Subject> = l
                .subjects
                .iter()
                .copied()
                .filter(|s| match s {
                    Subject::Service(_) => !traffic.accepts_service(),
                    Subject::Workload(_) => {
                        w.source == EnrolmentSource::Workload && !traffic.accepts_workload()
                    }
                })
                .collect();
            if !refused.is_empty() {
                let kind = match refused[0] {
                    Subject::Service(_) => "service",
                    Subject::Workload(_) => "workload",
                };
                let rep = cx
                    .report(
                        at,
                        path.clone(),
                        format!(
                            "{} {} names waypoint {target}, which takes `istio.io/waypoint-for: {}` traffic, not {kind} traffic: istiod refuses the waypoint for {} (WaypointAccepted=False, UnsupportedTrafficType), so that traffic skips it",
                            labelled.kind,
                            labelled.name,
                            traffic.text(),
                            uses_text(cx, &refused),
                        ),
                    )
                    .subkind("traffic-type")
                    .help(format!("label the waypoint `istio.io/waypoint-for: {kind}` (or `all`), or name another waypoint"));
                match view.traffic_type(gateway).and_then(|t| t.label_at.clone()) {
                    Some((tat, tpath)) => rep.related(tat, tpath, "the waypoint's traffic type"),
                    None => rep.related(
                        gateway,
                        FieldPath::parse("metadata.name"),
                        "the waypoint (traffic type `service` by default)",
                    ),
                };
            }
            if g_res.annotations.contains_key(INBOUND_BINDING) {
                continue;
            }
            let Some(g) = api.gateway_of(store, gateway) else {
                continue;
            };
            // `makeAllowedRoutes`: the HBONE listener's allowed namespaces, else `Same`.
            let listener = hbone_listener(spec).and_then(|i| g.listeners.get(i));
            let from = listener.map_or(AllowedFrom::Same, |l| l.from.clone());
            let denied: Vec<Subject> = l
                .subjects
                .iter()
                .copied()
                .filter(|s| {
                    let ns = &store.get(s.id()).namespace;
                    match &from {
                        AllowedFrom::All => false,
                        AllowedFrom::Selector(sel) => api
                            .namespaces
                            .labels(ns)
                            .is_some_and(|labels| !sel.matches(&labels)),
                        AllowedFrom::Same | AllowedFrom::Nothing(_) => *ns != w.namespace,
                    }
                })
                .collect();
            if denied.is_empty() {
                continue;
            }
            let allowed = match &from {
                AllowedFrom::Selector(_) => "namespaces its selector matches".to_string(),
                _ => format!("its own namespace {}", w.namespace),
            };
            let listener_path = hbone_listener(spec).map_or_else(
                || FieldPath::parse("spec.listeners"),
                |i| FieldPath::parse("spec.listeners").index(i),
            );
            cx.report(
                at,
                path,
                format!(
                    "{} {} names waypoint {target}, whose HBONE listener allows only {allowed}: istiod refuses the waypoint for {} (WaypointAccepted=False, AttachmentDenied), so that traffic skips it",
                    labelled.kind,
                    labelled.name,
                    uses_text(cx, &denied),
                ),
            )
            .subkind("namespace-not-allowed")
            .related(gateway, listener_path, "the waypoint's HBONE listener")
            .help("allow the namespace on the waypoint's HBONE listener (`allowedRoutes: {namespaces: {from: All}}` or a selector), or use a waypoint in the same namespace");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn input(wp_labels: &str, listener_extra: &str, objects: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {{istio.io/dataplane-mode: ambient}}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: wp, namespace: infra, labels: {wp_labels}}}\nspec: {{gatewayClassName: istio-waypoint, listeners: [{{name: mesh, port: 15008, protocol: HBONE{listener_extra}}}]}}\n---\n{objects}"
        )
    }

    const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop, labels: {istio.io/use-waypoint: wp, istio.io/use-waypoint-namespace: infra}}\nspec: {ports: [{port: 80}]}\n";
    const ALL_NS: &str = ", allowedRoutes: {namespaces: {from: All}}";

    #[test]
    fn traffic_type_and_namespace_are_checked_as_istiod_does() {
        let subkinds = |labels: &str, extra: &str| -> Vec<&'static str> {
            findings_of("MESH1604", &input(labels, extra, SVC))
                .iter()
                .filter_map(|f| f.subkind)
                .collect()
        };
        assert_eq!(subkinds("{}", ALL_NS), Vec::<&str>::new());
        assert_eq!(
            subkinds("{istio.io/waypoint-for: all}", ALL_NS),
            Vec::<&str>::new()
        );
        assert_eq!(
            subkinds("{istio.io/waypoint-for: workload}", ALL_NS),
            ["traffic-type"]
        );
        assert_eq!(
            subkinds("{istio.io/waypoint-for: none}", ALL_NS),
            ["traffic-type"]
        );
        // `Same` is the default: another namespace is refused.
        assert_eq!(subkinds("{}", ""), ["namespace-not-allowed"]);
    }

    #[test]
    fn a_namespace_label_on_workloads_a_service_waypoint_refuses_is_no_error() {
        let objects = "apiVersion: v1\nkind: Namespace\nmetadata: {name: infra, labels: {istio.io/use-waypoint: wp}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: infra}\nspec: {template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c}]}}}\n";
        assert!(findings_of("MESH1604", &input("{}", "", objects)).is_empty());
        let own = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: infra}\nspec: {template: {metadata: {labels: {app: d, istio.io/use-waypoint: wp}}, spec: {containers: [{name: c}]}}}\n";
        let f = findings_of("MESH1604", &input("{}", "", own));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("not workload traffic"),
            "{}",
            f[0].message
        );
    }
}
