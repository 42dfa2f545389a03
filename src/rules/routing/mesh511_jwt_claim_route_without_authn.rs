//! MESH511 jwt-claim-route-without-authn: a VirtualService bound to a Gateway matches on a JWT
//! claim (`@request.auth.claims.…` headers), and no RequestAuthentication applies to the
//! gateway's workloads, so the claim is never set and the match never matches.

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::model::{ResId, Resource, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Value};

pub struct JwtClaimRouteWithoutAuthn;

static META: RuleMeta = RuleMeta {
    code: "MESH511",
    name: "jwt-claim-route-without-authn",
    summary: "gateway route matching a JWT claim while no RequestAuthentication applies to the gateway",
    severity: Severity::Error,
    istio_codes: &["IST0149"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH511-jwt-claim-route-without-authn.md"),
};

/// The header-match prefix istiod turns into a JWT claim match (istio/istio
/// `pkg/jwt/routing.go`, `ToRoutingClaim`).
const CLAIM_PREFIX: &str = "@request.auth.claims";

/// The first header or withoutHeaders key of the VirtualService that matches on a claim, where
/// it is written, and whether it is a `withoutHeaders` key.
fn first_claim(vs: &Resource) -> Option<(String, FieldPath, bool)> {
    let Spec::VirtualService(spec) = &vs.spec else {
        return None;
    };
    for (i, route) in spec.http.iter().enumerate() {
        for (j, m) in route.matches.iter().enumerate() {
            for field in ["headers", "withoutHeaders"] {
                let Some(keys) = m.get(field).and_then(|h| h.as_object()) else {
                    continue;
                };
                if let Some(key) = keys.keys().find(|k| k.starts_with(CLAIM_PREFIX)) {
                    let path = FieldPath::parse("spec.http")
                        .index(i)
                        .key("match")
                        .index(j)
                        .key(field)
                        .key(key.as_str());
                    return Some((key.clone(), path, field == "withoutHeaders"));
                }
            }
        }
    }
    None
}

/// `spec.selector.matchLabels` of a RequestAuthentication; `None` when it targets by
/// `targetRef(s)`, which meshlint does not resolve (treated as applying).
fn ra_selector(r: &Resource) -> Option<Vec<(String, String)>> {
    if raw(r, "spec.targetRef").is_some() || raw(r, "spec.targetRefs").is_some() {
        return None;
    }
    Some(
        match raw(r, "spec.selector.matchLabels").map(|n| &n.value) {
            Some(Value::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| Some((k.scalar_text(), v.as_str()?.to_string())))
                .collect(),
            _ => Vec::new(),
        },
    )
}

impl Rule for JwtClaimRouteWithoutAuthn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let authns: Vec<&Resource> = store
            .iter()
            .map(|(_, r)| r)
            .filter(|r| {
                r.kind == "RequestAuthentication" && r.api_version.starts_with("security.istio.io/")
            })
            .collect();
        let root = cx.settings.mesh.root_namespace().to_string();
        let applies = |w: &Resource| {
            let Some(labels) = w.workload().map(|wl| &wl.pod_labels) else {
                return false;
            };
            authns.iter().any(|ra| {
                (ra.namespace == root || ra.namespace == w.namespace)
                    && ra_selector(ra)
                        .is_none_or(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
            })
        };
        for (vs_id, vs) in store.iter() {
            let Some((key, path, without)) = first_claim(vs) else {
                continue;
            };
            let mut gateways = cx.graph.bound_gateways(vs_id);
            gateways.sort_by_key(|&g| (&store.get(g).namespace, &store.get(g).name));
            for gw in gateways {
                let mut bare: Vec<ResId> = cx
                    .graph
                    .gateway_workloads(gw)
                    .into_iter()
                    .filter(|&w| !applies(store.get(w)))
                    .collect();
                if bare.is_empty() {
                    continue;
                }
                bare.sort_by_key(|&w| {
                    (
                        &store.get(w).namespace,
                        &store.get(w).name,
                        &store.get(w).kind,
                    )
                });
                let g = store.get(gw);
                let names = bare
                    .iter()
                    .map(|&w| {
                        let r = store.get(w);
                        format!("{} {}/{}", r.kind, r.namespace, r.name)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let claim = key.trim_start_matches(CLAIM_PREFIX).trim_start_matches('.');
                let effect = if without {
                    "this match, which requires the claim to be absent, matches every request"
                } else {
                    "this match never matches"
                };
                let mut reported = cx
                    .report(
                        vs_id,
                        path.clone(),
                        format!(
                            "routes on JWT claim `{claim}` through Gateway {}/{}, but no RequestAuthentication (in its workloads' namespace or `{root}`) applies to {names}: without one the gateway validates no JWT and sets no claims, so {effect}",
                            g.namespace, g.name
                        ),
                    )
                    .help(format!("add a RequestAuthentication whose selector matches the gateway's pods (e.g. in `{root}` with `selector.matchLabels` of the gateway), so the token is validated and its claims are available for routing"))
                    .related(gw, FieldPath::parse("spec.selector"), "the gateway the route is bound to");
                if authns.is_empty() {
                    // Nothing of RequestAuthentication in the input: it may be managed elsewhere.
                    reported = reported.severity(Severity::Warning);
                }
                for &w in &bare {
                    let meta = store
                        .get(w)
                        .workload()
                        .map(|wl| wl.pod_meta_path.clone())
                        .unwrap_or_else(|| FieldPath::parse("metadata"));
                    reported = reported.related(
                        w,
                        meta,
                        "gateway workload without a RequestAuthentication",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    const GATEWAY: &str = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: gw-1, namespace: istio-system, labels: {istio: ingressgateway}}\nspec:\n  containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.24.0}]\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: web}\nspec:\n  hosts: ['*']\n  gateways: [istio-system/gw]\n  http:\n  - match: [{headers: {'@request.auth.claims.group': {exact: beta}}}]\n    route: [{destination: {host: web.web.svc.cluster.local}}]\n---\n";

    fn ra(ns: &str, selector: &str) -> String {
        format!(
            "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {{name: ra, namespace: {ns}}}\nspec:\n  {selector}\n  jwtRules: [{{issuer: a}}]\n---\n"
        )
    }

    #[test]
    fn a_request_authentication_applies_from_the_root_or_the_workload_namespace() {
        let found = findings_of("MESH511", GATEWAY);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        let matching = ra(
            "istio-system",
            "selector: {matchLabels: {istio: ingressgateway}}",
        );
        assert!(findings_of("MESH511", &format!("{GATEWAY}{matching}")).is_empty());
        let everywhere = ra("istio-system", "");
        assert!(findings_of("MESH511", &format!("{GATEWAY}{everywhere}")).is_empty());
        // In the route's namespace it applies to the route's workloads, not the gateway's.
        let elsewhere = ra("web", "");
        let found = findings_of("MESH511", &format!("{GATEWAY}{elsewhere}"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        let other = ra(
            "istio-system",
            "selector: {matchLabels: {istio: eastwestgateway}}",
        );
        assert_eq!(
            findings_of("MESH511", &format!("{GATEWAY}{other}")).len(),
            1
        );
    }
}
