//! MESH804 l4-route-conflict: several TCPRoutes (or TLSRoutes for the same hostname) on one
//! listener: all are Accepted, and only the oldest receives connections.

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::attach::ParentTarget;
use crate::mesh::gateway_api::l4::L4Conflict;
use crate::mesh::gateway_api::{GatewayApi, RouteView};
use crate::model::gateway_api::RouteKind;
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct L4RouteConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH804",
    name: "l4-route-conflict",
    summary: "several TCPRoutes, or TLSRoutes for one hostname, on one listener: only the oldest gets connections",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH804-l4-route-conflict.md"),
};

/// The parentRef of `route` that attaches it to gateway `g` (the first that does).
fn parent_path(api: &GatewayApi, route: ResId, g: usize) -> FieldPath {
    api.routes
        .iter()
        .find(|r| r.id == route)
        .and_then(|r: &RouteView| {
            r.parents
                .iter()
                .find(|p| p.target == ParentTarget::Gateway(g) && p.accepted())
                .map(|p| r.parent_path(p.index))
        })
        .unwrap_or_else(|| FieldPath::parse("spec.parentRefs"))
}

fn basis(store: &Store, ids: &[ResId]) -> &'static str {
    if ids.iter().all(|&id| store.get(id).created.is_some()) {
        "ordered by creationTimestamp, then namespace/name"
    } else {
        "ordered by creationTimestamp where the input has one (routes without one count as newer), then namespace/name; apply order decides on a cluster"
    }
}

impl Rule for L4RouteConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for L4Conflict {
            gateway,
            listener,
            kind,
            winner,
            losers,
        } in api.l4_conflicts(store)
        {
            let g = &api.gateways[gateway];
            let gr = store.get(g.id);
            let l = &g.listeners[listener];
            let w = store.get(winner);
            let mut all = vec![winner];
            all.extend(&losers);
            let basis = basis(store, &all);
            for &loser in &losers {
                let r = store.get(loser);
                cx.report(
                    loser,
                    parent_path(&api, loser, gateway),
                    format!(
                        "{} {}/{} ({}) and {} {}/{} ({}) both attach to listener {:?} of Gateway {}/{}; both are Accepted, but the listener sends every connection{} to {}/{}, which takes precedence ({basis}), so this route gets none",
                        kind.kind(), r.namespace, r.name, r.created_text(),
                        kind.kind(), w.namespace, w.name, w.created_text(),
                        l.name, gr.namespace, gr.name,
                        if kind == RouteKind::Tls { " for the hostnames they share" } else { "" },
                        w.namespace, w.name
                    ),
                )
                .help("give each route its own listener (a listener per port), or merge the backends into one route with weights")
                .related(winner, parent_path(&api, winner, gateway), "the route that receives the connections")
                .related(g.id, FieldPath::parse("spec.listeners").index(listener), "the shared listener");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const GW: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tcp, port: 9000, protocol: TCP}
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}
";

    fn route(kind: &str, name: &str, created: &str, extra: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: {kind}\nmetadata: {{name: {name}, namespace: infra, creationTimestamp: '{created}'}}\nspec: {{parentRefs: [{{name: gw}}], {extra} rules: [{{backendRefs: [{{name: {name}, port: 1}}]}}]}}\n"
        )
    }

    #[test]
    fn the_older_tcp_route_wins_whatever_the_input_order() {
        let a = route("TCPRoute", "a", "2024-02-01T00:00:00Z", "");
        let b = route("TCPRoute", "b", "2024-01-01T00:00:00Z", "");
        for text in [format!("{GW}{a}{b}"), format!("{GW}{b}{a}")] {
            let f = findings_of("MESH804", &text);
            assert_eq!(f.len(), 1, "{f:#?}");
            assert_eq!(f[0].resource.name, "a");
            assert!(
                f[0].message.contains("sends every connection to infra/b"),
                "{}",
                f[0].message
            );
        }
    }

    #[test]
    fn tls_routes_conflict_only_on_a_shared_hostname() {
        let tls = |name: &str, created: &str, host: &str| {
            route(
                "TLSRoute",
                name,
                created,
                &format!("hostnames: ['{host}'],"),
            )
        };
        let a = tls("a", "2024-01-01T00:00:00Z", "a.example.com");
        let b = tls("b", "2024-01-02T00:00:00Z", "b.example.com");
        // The most specific server name wins: a wildcard takes only what the others leave.
        let c = tls("c", "2024-01-03T00:00:00Z", "*.example.com");
        assert!(findings_of("MESH804", &format!("{GW}{a}{b}{c}")).is_empty());
        let d = tls("d", "2024-01-04T00:00:00Z", "B.example.com");
        let f = findings_of("MESH804", &format!("{GW}{a}{b}{c}{d}"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource.name, "d");
    }
}
