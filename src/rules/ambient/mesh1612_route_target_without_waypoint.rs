//! MESH1612 route-target-without-waypoint: mesh routes of a VirtualService, or HTTP traffic
//! policy of a DestinationRule, for a Service of an ambient namespace that no waypoint serves.
//! ztunnel routes by no VirtualService and reads no DestinationRule; a waypoint applies them
//! (istio `pilot/pkg/networking/core/listener_waypoint.go`, `cluster_waypoint.go`).

use crate::diagnostic::Severity;
use crate::mesh::ambient::Enrolment;
use crate::mesh::ambient_l7::fields_text;
use crate::rules::{Context, Rule, RuleMeta};

use super::l7::{RouteKind, RouteTarget, no_waypoint_text, route_targets};

pub struct RouteTargetWithoutWaypoint;

static META: RuleMeta = RuleMeta {
    code: "MESH1612",
    name: "route-target-without-waypoint",
    summary: "mesh routes or HTTP traffic policy for an ambient Service no waypoint serves: ambient clients do not get them",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0210", "KIA0211", "KIA1109", "KIA1113"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1612-route-target-without-waypoint.md"),
};

impl Rule for RouteTargetWithoutWaypoint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        if !ambient.any_ambient() {
            return;
        }
        let store = cx.store;
        let api = cx.gateway_api();
        for (id, r) in store.iter() {
            let Some((kind, targets, fields)) = route_targets(r) else {
                continue;
            };
            for RouteTarget {
                path,
                namespace: ns,
                name,
            } in targets
            {
                if !ambient.namespace_ambient(&ns) {
                    continue;
                }
                let enrolment = ambient.service_enrolment(&ns, &name);
                if enrolment.waypoint().is_some() {
                    continue;
                }
                let service = api.object("Service", &ns, &name);
                let why = no_waypoint_text(&enrolment, &format!("Service {ns}/{name}"));
                let missing = if service.is_some() {
                    ""
                } else {
                    " (the Service is not in the input, so its own labels are not known)"
                };
                let (what, ztunnel, kiali): (_, _, &'static [&'static str]) = match kind {
                    RouteKind::VirtualService => (
                        "routes",
                        "ztunnel routes by no VirtualService",
                        if service.is_some() {
                            &["KIA1113"]
                        } else {
                            &["KIA1109"]
                        },
                    ),
                    RouteKind::DestinationRule => (
                        "HTTP traffic policy",
                        "ztunnel reads no DestinationRule",
                        if service.is_some() {
                            &["KIA0211"]
                        } else {
                            &["KIA0210"]
                        },
                    ),
                    RouteKind::Route => ("routes", "ztunnel applies no Gateway API route", &[]),
                };
                let message = format!(
                    "{} {what} for Service {ns}/{name} of ambient namespace `{ns}`, but {why}{missing}: {ztunnel} and only a waypoint applies its {}, so clients in ambient mode get none of it (clients with a sidecar, and gateways, still do)",
                    r.kind,
                    fields_text(&fields),
                );
                let mut f = cx
                    .report(id, path, message)
                    .kiali(kiali)
                    .help("enrol the Service or its namespace with a waypoint (`istio.io/use-waypoint: NAME`, e.g. `istioctl waypoint apply -n NAMESPACE --enroll-namespace`)");
                if let Enrolment::OptedOut { label_at } = &enrolment {
                    f = f.related(
                        label_at.0,
                        label_at.1.clone(),
                        "opts the Service out of waypoints",
                    );
                }
            }
        }
    }
}
