//! MESH907 authz-deny-all: an AuthorizationPolicy that makes its workloads deny every request
//! by accident: an ALLOW policy with an empty `rules` list, or a CUSTOM policy whose provider
//! the mesh config does not define.

use crate::diagnostic::Severity;
use crate::mesh::security::authz::{self, AuthzPolicies};
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzDenyAll;

static META: RuleMeta = RuleMeta {
    code: "MESH907",
    name: "authz-deny-all",
    summary: "AuthorizationPolicy that denies every request by accident: ALLOW with an empty rule list, CUSTOM with an undefined provider",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH907-authz-deny-all.md"),
};

impl Rule for AuthzDenyAll {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mesh = &cx.settings.mesh;
        let policies = AuthzPolicies::build(store, mesh.root_namespace());
        for id in policies.all().collect::<Vec<_>>() {
            let ap = authz::spec(store, id);
            let action = ap.action().to_ascii_uppercase();
            if action == "ALLOW" && ap.rules.as_ref().is_some_and(Vec::is_empty) {
                cx.report(
                    id,
                    FieldPath::parse("spec.rules"),
                    "`rules: []` matches no request: this ALLOW policy allows nothing, and since an ALLOW policy now applies, its workloads deny every request no other ALLOW policy allows",
                )
                .subkind("empty-rules")
                .help("to allow every request write `rules: [{}]` (one empty rule); to deny every request on purpose, omit `rules` (`spec: {}`)");
            }
            if action != "CUSTOM" {
                continue;
            }
            let Some(name) = ap.provider.as_ref().and_then(|p| p.name.as_deref()) else {
                continue;
            };
            if mesh.extension_providers.iter().any(|p| p.name == name) {
                continue;
            }
            let path = FieldPath::parse("spec.provider.name");
            // A mesh config from the input that a skipped kustomize patch may change (one
            // adding `extensionProviders`, typically) is no proof of absence.
            let source = cx.settings.mesh_source.as_ref().filter(|s| {
                s.as_str() == "--mesh-config"
                    || !store.iter().any(|(_, r)| {
                        matches!(&r.spec, Spec::IstioConfigMap(m) if m.mesh.is_some())
                            && store.may_be_patched("ConfigMap", r)
                    })
            });
            match source {
                Some(source) => {
                    let known: Vec<&str> = mesh
                        .extension_providers
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect();
                    let known = if known.is_empty() {
                        "defines none".to_string()
                    } else {
                        format!("defines {}", known.join(", "))
                    };
                    cx.report(
                        id,
                        path,
                        format!(
                            "CUSTOM provider `{name}` is not in the mesh config's `extensionProviders` ({source} {known}): istiod cannot build the external authorization filter and denies every request to the policy's workloads instead"
                        ),
                    )
                    .severity(Severity::Error)
                    .subkind("unknown-provider")
                    .help("add the provider to MeshConfig `extensionProviders`, or fix its name");
                }
                None => {
                    cx.report(
                        id,
                        path,
                        format!(
                            "CUSTOM provider `{name}` must be defined in MeshConfig `extensionProviders`, which the input does not show for certain (no mesh config, or one a kustomize patch changes; pass --mesh-config): if it is missing, istiod denies every request to the policy's workloads"
                        ),
                    )
                    .severity(Severity::Info)
                    .subkind("unknown-provider")
                    .help("check that the mesh config defines the provider");
                }
            }
        }
    }
}
