//! Which AuthorizationPolicies apply to a workload, as istiod lists them
//! (`ListAuthorizationPolicies` in `pilot/pkg/model/authorization.go`,
//! `WorkloadPolicyMatcher.ShouldAttachPolicy` in `pilot/pkg/model/policyattachment.go`):
//! policies of the root namespace and of the workload's namespace whose selector matches its
//! labels (no selector: every workload there); a policy with `targetRef`/`targetRefs` applies
//! to gateways and waypoints only and is ignored for sidecars. Envoy then evaluates CUSTOM,
//! DENY, then ALLOW (`pilot/pkg/security/authz/builder/builder.go`): once any ALLOW policy
//! applies, a request no ALLOW rule matches is denied.

use std::collections::BTreeMap;

use crate::model::security::AuthorizationPolicy;
use crate::model::{ResId, Resource, Spec, Store};

pub fn spec(store: &Store, id: ResId) -> &AuthorizationPolicy {
    match &store.get(id).spec {
        Spec::AuthorizationPolicy(ap) => ap,
        _ => unreachable!("only AuthorizationPolicies are indexed"),
    }
}

/// The AuthorizationPolicies of the input by namespace, in name order.
pub struct AuthzPolicies {
    root: String,
    by_ns: BTreeMap<String, Vec<ResId>>,
}

/// The policies that apply to one workload, by action.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub allow: Vec<ResId>,
    pub deny: Vec<ResId>,
    pub audit: Vec<ResId>,
    pub custom: Vec<ResId>,
}

impl AuthzPolicies {
    pub fn build(store: &Store, root: &str) -> Self {
        let mut by_ns: BTreeMap<String, Vec<ResId>> = BTreeMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::AuthorizationPolicy(_)) {
                by_ns.entry(r.namespace.clone()).or_default().push(id);
            }
        }
        for list in by_ns.values_mut() {
            list.sort_by(|&a, &b| store.get(a).name.cmp(&store.get(b).name));
        }
        Self {
            root: root.to_string(),
            by_ns,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_ns.is_empty()
    }

    /// Every policy, by namespace then name.
    pub fn all(&self) -> impl Iterator<Item = ResId> + '_ {
        self.by_ns.values().flatten().copied()
    }

    /// The policies that apply to workload `res` (a sidecar workload, not a gateway).
    pub fn for_workload(&self, store: &Store, res: &Resource) -> Applied {
        let mut out = Applied::default();
        let Some(w) = res.workload() else {
            return out;
        };
        let mut namespaces = vec![self.root.as_str()];
        if res.namespace != self.root {
            namespaces.push(res.namespace.as_str());
        }
        for ns in namespaces {
            for &id in self.by_ns.get(ns).map_or(&[][..], Vec::as_slice) {
                let ap = spec(store, id);
                if ap.has_target_refs() {
                    continue;
                }
                let selected = ap
                    .match_labels()
                    .iter()
                    .all(|(k, v)| w.pod_labels.get(k) == Some(v));
                if !selected {
                    continue;
                }
                match ap.action().to_ascii_uppercase().as_str() {
                    "ALLOW" => out.allow.push(id),
                    "DENY" => out.deny.push(id),
                    "AUDIT" => out.audit.push(id),
                    "CUSTOM" => out.custom.push(id),
                    _ => {}
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    #[test]
    fn policies_attach_by_namespace_selector_and_root_and_never_by_target_refs() {
        let text = "
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-deny, namespace: istio-system}
spec: {action: DENY, rules: [{from: [{source: {namespaces: [guest]}}]}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ns-allow, namespace: shop}
spec: {rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-app, namespace: shop}
spec: {selector: {matchLabels: {app: web}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gateway-only, namespace: shop}
spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: elsewhere, namespace: web}
spec: {action: DENY}
";
        let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        let pod = store.iter().find(|(_, r)| r.kind == "Pod").expect("pod").1;
        let applied = AuthzPolicies::build(&store, "istio-system").for_workload(&store, pod);
        let names = |ids: &[ResId]| -> Vec<&str> {
            ids.iter().map(|&i| store.get(i).name.as_str()).collect()
        };
        assert_eq!(names(&applied.deny), ["mesh-deny"]);
        assert_eq!(names(&applied.allow), ["ns-allow"]);
        assert!(applied.custom.is_empty() && applied.audit.is_empty());
    }
}
