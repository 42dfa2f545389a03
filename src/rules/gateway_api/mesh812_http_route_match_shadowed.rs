//! MESH812 http-route-match-shadowed: two HTTPRoutes attached to one listener with the same
//! hostname and an identical match. The spec breaks the tie by age: the older route's rule
//! takes every such request.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::l4::order_key;
use crate::model::gateway_api::RouteKind;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct HttpRouteMatchShadowed;

static META: RuleMeta = RuleMeta {
    code: "MESH812",
    name: "http-route-match-shadowed",
    summary: "two HTTPRoutes on one listener have the same hostname and match; only the older route's rule gets the requests",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH812-http-route-match-shadowed.md"),
};

/// A rule's match: (route, rule index, match index).
type MatchRef = (ResId, usize, usize);

/// A match as the spec compares it: an absent path is `PathPrefix /`, an absent type is the
/// field's default.
fn canonical(m: &serde_json::Value) -> String {
    let mut m = m.clone();
    if let Some(obj) = m.as_object_mut() {
        let path = obj.entry("path").or_insert_with(|| serde_json::json!({}));
        if let Some(p) = path.as_object_mut() {
            p.entry("type").or_insert_with(|| "PathPrefix".into());
            p.entry("value").or_insert_with(|| "/".into());
        }
        for key in ["headers", "queryParams"] {
            if let Some(list) = obj.get_mut(key).and_then(|v| v.as_array_mut()) {
                for h in list.iter_mut() {
                    if let Some(h) = h.as_object_mut() {
                        h.entry("type").or_insert_with(|| "Exact".into());
                    }
                }
                list.sort_by_key(|h| h.to_string());
            }
        }
    }
    // serde_json keeps object keys sorted, so equal matches print equal.
    m.to_string()
}

impl Rule for HttpRouteMatchShadowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for ((g, l), routes) in api.attached() {
            let listener = &api.gateways[g].listeners[l];
            // (hostname, match) → (route, rule, match index), every route once.
            let mut by_key: BTreeMap<(String, String), Vec<MatchRef>> = BTreeMap::new();
            for ri in routes {
                let rv = &api.routes[ri];
                if rv.kind != RouteKind::Http {
                    continue;
                }
                let Spec::Route(_, route) = &store.get(rv.id).spec else {
                    continue;
                };
                let hosts: Vec<String> = if route.hostnames.is_empty() {
                    vec![listener.host().to_ascii_lowercase()]
                } else {
                    route
                        .hostnames
                        .iter()
                        .map(|h| h.to_ascii_lowercase())
                        .collect()
                };
                for (ru, rule) in route.rules.iter().enumerate() {
                    let matches: Vec<String> = if rule.matches.is_empty() {
                        vec![canonical(&serde_json::json!({}))]
                    } else {
                        rule.matches.iter().map(canonical).collect()
                    };
                    for (mi, m) in matches.into_iter().enumerate() {
                        for h in &hosts {
                            let entry = by_key.entry((h.clone(), m.clone())).or_default();
                            if !entry.iter().any(|(id, _, _)| *id == rv.id) {
                                entry.push((rv.id, ru, mi));
                            }
                        }
                    }
                }
            }
            // One finding per shadowed rule match, naming the first host it is shadowed on.
            let mut reported: BTreeSet<MatchRef> = BTreeSet::new();
            for ((host, _), mut members) in by_key {
                if members.len() < 2 {
                    continue;
                }
                members.sort_by_key(|&(id, _, _)| order_key(store, id));
                let (winner, wr, wm) = members[0];
                let w = store.get(winner);
                for &(id, ru, mi) in &members[1..] {
                    if !reported.insert((id, ru, mi)) {
                        continue;
                    }
                    let r = store.get(id);
                    let rule_path = FieldPath::parse("spec.rules").index(ru);
                    let path = if r.node.lookup(&rule_path.clone().key("matches").index(mi)).1 {
                        rule_path.key("matches").index(mi)
                    } else {
                        rule_path
                    };
                    cx.report(
                        id,
                        path,
                        format!(
                            "this match of HTTPRoute {}/{} ({}) is the same as one of HTTPRoute {}/{} ({}) for host {host} on listener {:?}: the spec gives the request to the older route (creationTimestamp, then namespace/name), so this rule never gets it",
                            r.namespace, r.name, r.created_text(), w.namespace, w.name, w.created_text(), listener.name
                        ),
                    )
                    .help("merge the two rules into one route, or make the matches differ (path, headers, method)")
                    .related(winner, FieldPath::parse("spec.rules").index(wr).key("matches").index(wm), "the match that wins");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const GW: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
";

    fn route(name: &str, created: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: web, creationTimestamp: '{created}'}}\nspec: {{parentRefs: [{{name: gw}}], {spec}}}\n"
        )
    }

    #[test]
    fn the_newer_identical_match_is_shadowed() {
        let a = route(
            "a",
            "2024-01-01T00:00:00Z",
            "hostnames: [x.com], rules: [{matches: [{path: {value: /api}}]}]",
        );
        let b = route(
            "b",
            "2024-02-01T00:00:00Z",
            "hostnames: [x.com], rules: [{matches: [{path: {type: PathPrefix, value: /api}}]}]",
        );
        let f = findings_of("MESH812", &format!("{GW}{b}{a}"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource.name, "b");
        let c = route(
            "c",
            "2024-02-01T00:00:00Z",
            "hostnames: [y.com], rules: [{matches: [{path: {value: /api}}]}]",
        );
        assert!(findings_of("MESH812", &format!("{GW}{a}{c}")).is_empty());
        let d = route(
            "d",
            "2024-02-01T00:00:00Z",
            "hostnames: [x.com], rules: [{matches: [{path: {value: /api}, method: GET}]}]",
        );
        assert!(findings_of("MESH812", &format!("{GW}{a}{d}")).is_empty());
    }

    #[test]
    fn rules_without_matches_are_prefix_slash() {
        let a = route("a", "2024-01-01T00:00:00Z", "rules: [{backendRefs: []}]");
        let b = route(
            "b",
            "2024-02-01T00:00:00Z",
            "rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]",
        );
        assert_eq!(findings_of("MESH812", &format!("{GW}{a}{b}")).len(), 1);
    }
}
