//! MESH902 port-level-mtls: a PeerAuthentication `portLevelMtls` entry that never applies:
//! written without a selector (rejected by validation), keyed by a Service port instead of the
//! workload port istiod matches, or naming a port the selected workloads do not serve.

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::mesh::security::peer::{self, port_key};
use crate::mesh::security::ports::{self, exposed};
use crate::model::raw::label;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct PortLevelMtls;

static META: RuleMeta = RuleMeta {
    code: "MESH902",
    name: "port-level-mtls",
    summary: "PeerAuthentication portLevelMtls entry that never applies: no selector, a Service port, or a port the workloads do not serve",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH902-port-level-mtls.md"),
};

impl Rule for PortLevelMtls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let pas: Vec<ResId> = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::PeerAuthentication(_)))
            .map(|(id, _)| id)
            .collect();
        for id in pas {
            let pa = peer::spec(store, id);
            if pa.port_level_mtls.is_empty() {
                continue;
            }
            let base = FieldPath::parse("spec.portLevelMtls");
            if pa.match_labels().is_empty() {
                cx.report(
                    id,
                    base,
                    "`portLevelMtls` on a PeerAuthentication without a selector: istio's validation rejects it (`portLevelMtls requires selector`), so the whole policy is not applied",
                )
                .severity(Severity::Error)
                .subkind("no-selector")
                .help("add `selector.matchLabels` for the workloads whose ports these are, or move the port settings to a workload policy");
                continue;
            }
            let ns = store.get(id).namespace.clone();
            let mut workloads = cx.index.workloads.matching(pa.match_labels(), Some(&ns));
            // Input order must not choose the workload a message names first.
            workloads.sort_by_cached_key(|&w| label(store, w));
            if workloads.is_empty() {
                continue;
            }
            let served: BTreeSet<i64> = workloads
                .iter()
                .flat_map(|&w| ports::served(store, cx.graph, w))
                .collect();
            for key in pa.port_level_mtls.keys() {
                let Some(port) = port_key(key) else {
                    continue;
                };
                if served.contains(&port) {
                    continue;
                }
                let path = base.clone().key(key.clone());
                // A Service port selecting the workloads with this number and another target.
                let via = workloads.iter().find_map(|&w| {
                    exposed(store, cx.graph, w)
                        .into_iter()
                        .find(|e| e.port == port && e.target != port)
                        .map(|e| (w, e))
                });
                if let Some((w, e)) = via {
                    cx.report(
                        id,
                        path,
                        format!(
                            "port {port} is the Service port of {}, which sends to port {} of {}: istiod matches `portLevelMtls` against the workload's port, so this entry never applies and port {} keeps the workload's mode",
                            label(store, e.service),
                            e.target,
                            label(store, w),
                            e.target
                        ),
                    )
                    .subkind("service-port")
                    .help(format!("key the entry by the target port: `{}`", e.target))
                    .related(
                        e.service,
                        FieldPath::parse("spec.ports").index(e.index),
                        "Service port and its targetPort",
                    );
                } else {
                    let list: Vec<String> = served.iter().map(i64::to_string).collect();
                    let names: Vec<String> = workloads.iter().map(|&w| label(store, w)).collect();
                    let verb = if names.len() == 1 { "serves" } else { "serve" };
                    let serves = if list.is_empty() {
                        format!("{verb} no declared port")
                    } else {
                        format!("{verb} {}", list.join(", "))
                    };
                    cx.report(
                        id,
                        path,
                        format!(
                            "no selected workload serves port {port} ({} {serves}): the entry applies to nothing unless the application listens on a port it does not declare",
                            names.join(", ")
                        ),
                    )
                    .severity(Severity::Info)
                    .subkind("unknown-port")
                    .help("key the entry by a port the workload listens on (the Service's targetPort), or remove it")
                    .related(workloads[0], FieldPath::parse("metadata.name"), "selected workload");
                }
            }
        }
    }
}
