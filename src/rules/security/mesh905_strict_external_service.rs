//! MESH905 strict-external-service: a LoadBalancer or NodePort Service sends clients from
//! outside the mesh straight to a workload port whose sidecar accepts only mTLS.

use crate::diagnostic::Severity;
use crate::mesh::security::mode::ServerMode;
use crate::mesh::security::peer::Level;
use crate::mesh::security::ports::{self, Sidecar};
use crate::model::raw::label;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct StrictExternalService;

static META: RuleMeta = RuleMeta {
    code: "MESH905",
    name: "strict-external-service",
    summary: "LoadBalancer or NodePort Service exposes a STRICT mTLS workload port to clients outside the mesh",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH905-strict-external-service.md"),
};

impl Rule for StrictExternalService {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let view = cx.mtls();
        let services: Vec<ResId> = store
            .iter()
            .filter(|(_, r)| {
                matches!(&r.spec, Spec::Service(s)
                    if matches!(s.spec.service_type(), "LoadBalancer" | "NodePort"))
            })
            .map(|(id, _)| id)
            .collect();
        for svc in services {
            let Some(s) = store.get(svc).service() else {
                continue;
            };
            let kind = s.spec.service_type().to_string();
            for w in cx.graph.selected_workloads(svc) {
                let res = store.get(w);
                if crate::mesh::injection::is_istio_gateway(res) {
                    continue;
                }
                let sidecar = ports::sidecar(
                    store,
                    res,
                    cx.namespace(&res.namespace).map(|n| store.get(n)),
                );
                if matches!(sidecar, Sidecar::No(_)) {
                    continue;
                }
                let Some(wl) = res.workload() else { continue };
                let resolved = view.peers.for_workload(store, res);
                for (i, p) in s.spec.ports.iter().enumerate() {
                    let Some(target) = ports::target_port(wl, p) else {
                        continue;
                    };
                    let (mode, level, policy) = resolved.port(target);
                    if mode != ServerMode::Strict {
                        continue;
                    }
                    let Some(policy) = policy else { continue };
                    let policy_path = match level {
                        Level::Port => FieldPath::parse("spec.portLevelMtls")
                            .key(target.to_string())
                            .key("mode"),
                        _ => FieldPath::parse("spec.mtls.mode"),
                    };
                    let (severity, certainty) = match &sidecar {
                        Sidecar::Yes(why) => (Severity::Error, format!("has a sidecar: {why}")),
                        Sidecar::Ambient => (
                            Severity::Warning,
                            "is in ambient mode, where ztunnel applies the policy to inbound traffic".into(),
                        ),
                        Sidecar::Unknown(why) => {
                            (Severity::Warning, format!("may have a sidecar ({why})"))
                        }
                        Sidecar::No(_) => continue,
                    };
                    let node = p
                        .node_port
                        .map(|n| format!(", node port {n}"))
                        .unwrap_or_default();
                    cx.report(
                        svc,
                        FieldPath::parse("spec.ports").index(i),
                        format!(
                            "{kind} Service port {}{node} reaches port {target} of {}, where {} ({} mode) requires mTLS, and the workload {certainty}: clients outside the mesh connect without Istio certificates and are reset",
                            p.port,
                            label(store, w),
                            label(store, policy),
                            level.as_str(),
                        ),
                    )
                    .severity(severity)
                    .help(format!(
                        "expose the workload through an Istio ingress gateway, or keep this port PERMISSIVE with `portLevelMtls: {{{target}: {{mode: PERMISSIVE}}}}` on a workload policy"
                    ))
                    .related(policy, policy_path, "the policy that requires mTLS")
                    .related(w, FieldPath::parse("metadata.name"), "selected workload");
                }
            }
        }
    }
}
