//! MESH914 jwks-fetch-unrestricted: RequestAuthentications make istiod fetch JWKS from URLs
//! their authors choose, and the istiod Deployment in the input sets no
//! `BLOCKED_CIDRS_IN_JWKS_URIS`, so those fetches may reach any in-cluster or private address.

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::model::{ResId, Resource};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node};

pub struct JwksFetchUnrestricted;

static META: RuleMeta = RuleMeta {
    code: "MESH914",
    name: "jwks-fetch-unrestricted",
    summary: "RequestAuthentications make istiod fetch JWKS while istiod blocks no private address ranges",
    severity: Severity::Info,
    istio_codes: &["IST0175"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH914-jwks-fetch-unrestricted.md"),
};

const ENV: &str = "BLOCKED_CIDRS_IN_JWKS_URIS";

/// How many RequestAuthentications a message names.
const SHOWN: usize = 5;

/// The first JWT rule of a RequestAuthentication that istiod fetches keys for: one without
/// inline `jwks` (with `jwksUri`, or with only an `issuer`, whose OpenID discovery document
/// istiod fetches).
fn fetching_rule(r: &Resource) -> Option<(usize, &'static str)> {
    let rules = raw(r, "spec.jwtRules").and_then(Node::as_seq)?;
    rules.iter().enumerate().find_map(|(i, rule)| {
        if rule
            .get("jwks")
            .and_then(Node::as_str)
            .is_some_and(|j| !j.is_empty())
        {
            return None;
        }
        let field = if rule.get("jwksUri").is_some() {
            "jwksUri"
        } else {
            "issuer"
        };
        Some((i, field))
    })
}

impl Rule for JwksFetchUnrestricted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mut fetching: Vec<(ResId, &Resource, usize, &'static str)> = store
            .iter()
            .filter(|(_, r)| {
                r.kind == "RequestAuthentication" && r.api_version.starts_with("security.istio.io/")
            })
            .filter_map(|(id, r)| fetching_rule(r).map(|(i, f)| (id, r, i, f)))
            .collect();
        if fetching.is_empty() {
            return;
        }
        fetching.sort_by(|a, b| (&a.1.namespace, &a.1.name).cmp(&(&b.1.namespace, &b.1.name)));
        for (id, r) in store.iter() {
            if r.kind != "Deployment" || r.labels.get("app").map(String::as_str) != Some("istiod") {
                continue;
            }
            let Some(w) = r.workload() else { continue };
            // Set in any container, or from a ConfigMap or Secret meshlint cannot read: nothing
            // to report.
            if w.all_containers()
                .flat_map(|(_, c)| c.env.iter())
                .any(|e| e.name == ENV && e.value.as_deref() != Some(""))
            {
                continue;
            }
            let Some((path, _)) = w
                .all_containers()
                .find(|(_, c)| c.name == "discovery")
                .or_else(|| w.all_containers().next())
            else {
                continue;
            };
            let mut names = fetching
                .iter()
                .take(SHOWN)
                .map(|(_, ra, _, _)| format!("{}/{}", ra.namespace, ra.name))
                .collect::<Vec<_>>()
                .join(", ");
            if fetching.len() > SHOWN {
                names.push_str(&format!(" and {} more", fetching.len() - SHOWN));
            }
            let mut reported = cx
                .report(
                    id,
                    path.key("env"),
                    format!(
                        "istiod sets no `{ENV}`, and {} RequestAuthentication{} make{} it fetch JWKS from URLs their authors choose ({names}): istiod blocks only link-local and cloud-metadata addresses, so a jwksUri can make it request any in-cluster or private address",
                        fetching.len(),
                        if fetching.len() == 1 { "" } else { "s" },
                        if fetching.len() == 1 { "s" } else { "" },
                    ),
                )
                .help(format!("set `{ENV}` on istiod's discovery container to the private ranges JWKS must not come from (e.g. `10.0.0.0/8,172.16.0.0/12,192.168.0.0/16`), leaving out an in-cluster identity provider's"));
            for (ra_id, ra, i, field) in fetching.iter().take(SHOWN) {
                reported = reported.related(
                    *ra_id,
                    FieldPath::parse("spec.jwtRules").index(*i).key(*field),
                    format!(
                        "RequestAuthentication {}/{} fetches keys",
                        ra.namespace, ra.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn input(rules: &str, env: &str) -> String {
        format!(
            "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {{name: ra, namespace: web}}\nspec:\n  jwtRules: {rules}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: istiod, namespace: istio-system, labels: {{app: istiod}}}}\nspec:\n  selector: {{matchLabels: {{app: istiod}}}}\n  template:\n    metadata: {{labels: {{app: istiod}}}}\n    spec:\n      containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.31.0\n        env: {env}\n"
        )
    }

    #[test]
    fn only_fetching_rules_and_an_unset_variable_count() {
        let uri = "[{issuer: a, jwksUri: 'https://a/jwks'}]";
        assert_eq!(findings_of("MESH914", &input(uri, "[]")).len(), 1);
        assert_eq!(
            findings_of("MESH914", &input("[{issuer: a}]", "[]")).len(),
            1
        );
        assert!(findings_of("MESH914", &input("[{issuer: a, jwks: '{}'}]", "[]")).is_empty());
        let set = "[{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: 10.0.0.0/8}]";
        assert!(findings_of("MESH914", &input(uri, set)).is_empty());
        let empty = "[{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: ''}]";
        assert_eq!(findings_of("MESH914", &input(uri, empty)).len(), 1);
    }
}
