//! MESH1613 route-outside-waypoint-scope: a mesh VirtualService, or a DestinationRule with HTTP
//! traffic policy, for an ambient Service that uses a waypoint, which the waypoint does not
//! read: a VirtualService outside the Service's and the waypoint's namespaces
//! (`getVirtualServiceForWaypoint`, istio `pilot/pkg/networking/core/listener_waypoint.go`), a
//! DestinationRule istiod does not pick for the waypoint's namespace (`destinationRule`,
//! `pilot/pkg/model/push_context.go`).

use crate::diagnostic::Severity;
use crate::mesh::ambient_l7::fields_text;
use crate::mesh::destination_rules::effective_drs;
use crate::mesh::hosts::CLUSTER_DOMAIN;
use crate::rules::{Context, Rule, RuleMeta};

use super::l7::{RouteKind, RouteTarget, route_targets, waypoint_text};

pub struct RouteOutsideWaypointScope;

static META: RuleMeta = RuleMeta {
    code: "MESH1613",
    name: "route-outside-waypoint-scope",
    summary: "VirtualService or DestinationRule for an ambient Service that its waypoint does not read",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0212", "KIA1114"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1613-route-outside-waypoint-scope.md"),
};

impl Rule for RouteOutsideWaypointScope {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        if !ambient.any_ambient() {
            return;
        }
        let store = cx.store;
        let root = cx.settings.mesh.root_namespace().to_string();
        for (id, r) in store.iter() {
            let Some((kind, targets, fields)) = route_targets(r) else {
                continue;
            };
            // Gateway API routes reach a waypoint through their own rules of attachment.
            if kind == RouteKind::Route {
                continue;
            }
            let is_vs = kind == RouteKind::VirtualService;
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
                let Some(w) = enrolment.waypoint() else {
                    continue;
                };
                let message = if is_vs {
                    if r.namespace == ns || r.namespace == w.namespace {
                        continue;
                    }
                    let scope = if w.namespace == ns {
                        format!("namespace `{ns}`, the Service's and its own")
                    } else {
                        format!(
                            "the Service's namespace (`{ns}`) and its own (`{}`)",
                            w.namespace
                        )
                    };
                    format!(
                        "VirtualService in namespace `{}` routes Service {ns}/{name}, which uses {}: a waypoint reads VirtualServices only from {scope}, so clients in ambient mode never get its {} (only clients with a sidecar in `{}` do)",
                        r.namespace,
                        waypoint_text(w),
                        fields_text(&fields),
                        r.namespace,
                    )
                } else {
                    let fqdn = format!("{name}.{ns}.{CLUSTER_DOMAIN}");
                    let chosen = effective_drs(
                        &cx.index.destination_rules,
                        &fqdn,
                        &w.namespace,
                        Some(&ns),
                        &root,
                    );
                    if chosen.iter().any(|e| e.id == id) {
                        continue;
                    }
                    let instead = if chosen.is_empty() {
                        String::new()
                    } else {
                        let mut names: Vec<String> = chosen
                            .iter()
                            .map(|e| format!("{}/{}", e.namespace, store.get(e.id).name))
                            .collect();
                        names.sort();
                        format!(" (it picks DestinationRule {} instead)", names.join(", "))
                    };
                    let tiers = if w.namespace == ns {
                        format!(
                            "the DestinationRules of `{ns}` visible there, else of the root namespace `{root}`"
                        )
                    } else {
                        format!(
                            "the DestinationRules of `{}`, else of `{ns}` exported to it, else of the root namespace `{root}`",
                            w.namespace
                        )
                    };
                    format!(
                        "DestinationRule in namespace `{}` for Service {ns}/{name}, which uses {}: istiod gives the waypoint (in `{}`) {tiers}, and not this one{instead}, so clients in ambient mode never get its {}",
                        r.namespace,
                        waypoint_text(w),
                        w.namespace,
                        fields_text(&fields),
                    )
                };
                let kiali: &'static [&'static str] =
                    if is_vs { &["KIA1114"] } else { &["KIA0212"] };
                cx.report(id, path, message)
                    .kiali(kiali)
                    .related(w.label_at.0, w.label_at.1.clone(), "the waypoint is chosen here")
                    .help(format!(
                        "move the {} to namespace `{ns}` (the Service's) or `{}` (the waypoint's), exported to the waypoint's namespace",
                        r.kind, w.namespace
                    ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn dr(name: &str, ns: &str, extra: &str) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{host: reviews.bookinfo.svc.cluster.local, trafficPolicy: {{outlierDetection: {{consecutive5xxErrors: 3}}}}{extra}}}\n"
        )
    }

    const INPUT: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo, labels: {istio.io/dataplane-mode: ambient}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: bookinfo, labels: {istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: infra}}\nspec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}\n";

    #[test]
    fn the_waypoint_namespace_rule_wins_over_the_service_namespace_rule() {
        let text = format!(
            "{INPUT}{}{}",
            dr("own", "bookinfo", ""),
            dr("wp", "infra", "")
        );
        let f = findings_of("MESH1613", &text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource.name, "own");
        assert!(
            f[0].message
                .contains("it picks DestinationRule infra/wp instead"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].kiali_codes, ["KIA0212"]);
    }

    #[test]
    fn a_rule_hidden_from_the_waypoint_namespace_is_reported() {
        let text = format!("{INPUT}{}", dr("own", "bookinfo", ", exportTo: ['.']"));
        let f = findings_of("MESH1613", &text);
        assert_eq!(f.len(), 1, "{f:#?}");
        let exported = format!("{INPUT}{}", dr("own", "bookinfo", ""));
        assert!(findings_of("MESH1613", &exported).is_empty());
    }
}
