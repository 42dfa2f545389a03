//! MESH102 port-protocol-conflict: Services selecting one workload disagree about a port.
//!
//! istio's semantics: for a meshed workload, Services that select it must not use one service
//! port with different protocols (IST0116), nor one targetPort from different ports (IST0137).

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::k8s::Workload;
use crate::model::{ResId, Resource};
use crate::source::FieldPath;

use crate::mesh::injection::{ISTIO_INJECTION, Platform, SIDECAR_INJECT};
use crate::rules::{Context, Rule, RuleMeta};

pub struct PortProtocolConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH102",
    name: "port-protocol-conflict",
    summary: "Services selecting one workload use a port with different protocols or a targetPort from different ports",
    severity: Severity::Warning,
    istio_codes: &["IST0116", "IST0137"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH102-port-protocol-conflict.md"),
};

/// istio's `DeploymentInMesh`: an `istio-proxy` container, the inject label or annotation,
/// else the namespace's `istio-injection=enabled`.
fn in_mesh(cx: &Context<'_>, res: &Resource, w: &Workload) -> bool {
    let proxy = Platform::Istio.proxy_container();
    if w.all_containers()
        .any(|(_, c)| c.name == proxy && c.image.as_deref().is_some_and(|i| !i.is_empty()))
    {
        return true;
    }
    if let Some(v) = w.pod_labels.get(SIDECAR_INJECT) {
        return v == "true";
    }
    if let Some(v) = w.pod_annotations.get(SIDECAR_INJECT) {
        return v == "true";
    }
    cx.namespace(&res.namespace).is_some_and(|ns| {
        cx.store
            .get(ns)
            .labels
            .get(ISTIO_INJECTION)
            .is_some_and(|v| v == "enabled")
    })
}

impl Rule for PortProtocolConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        for (id, res) in store.iter() {
            let Some(w) = res.workload() else { continue };
            if res.kind == "Pod"
                || res
                    .labels
                    .get("gateway.istio.io/managed")
                    .is_some_and(|v| v == "istio.io-mesh-controller")
                || !in_mesh(cx, res, w)
            {
                continue;
            }
            let services = cx.graph.selecting_services(id);
            // port → protocol → services; targetPort → port → services
            let mut by_port: BTreeMap<i64, BTreeMap<String, Vec<(ResId, usize)>>> = BTreeMap::new();
            let mut by_target: BTreeMap<String, BTreeMap<i64, Vec<(ResId, usize)>>> =
                BTreeMap::new();
            for &s in &services {
                let Some(svc) = store.get(s).service() else {
                    continue;
                };
                for (i, p) in svc.spec.ports.iter().enumerate() {
                    by_port
                        .entry(p.port)
                        .or_default()
                        .entry(p.l4_protocol().to_string())
                        .or_default()
                        .push((s, i));
                    let target = match &p.target_port {
                        Some(t) if t.to_string() != "0" && !t.to_string().is_empty() => {
                            t.to_string()
                        }
                        _ => p.port.to_string(),
                    };
                    by_target
                        .entry(target)
                        .or_default()
                        .entry(p.port)
                        .or_default()
                        .push((s, i));
                }
            }
            let name_of = |s: ResId| {
                let r = store.get(s);
                format!("{}/{}", r.namespace, r.name)
            };
            let meta = FieldPath::parse("metadata.name");
            for (port, protocols) in &by_port {
                if protocols.len() < 2 {
                    continue;
                }
                let detail: Vec<String> = protocols
                    .iter()
                    .map(|(proto, svcs)| {
                        let names: BTreeSet<String> =
                            svcs.iter().map(|(s, _)| name_of(*s)).collect();
                        format!(
                            "{proto} in {}",
                            names.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                let message = format!(
                    "Services selecting {} `{}` use port {port} with different protocols ({}); the sidecar builds one inbound listener per port and can apply only one protocol",
                    res.kind,
                    res.name,
                    detail.join("; ")
                );
                let mut r = cx
                    .report(id, meta.clone(), message)
                    .istio(&["IST0116"])
                    .help("use one protocol for the port in every Service that selects the workload, or give the protocols separate ports");
                for (s, i) in protocols.values().flatten() {
                    r = r.related(
                        *s,
                        FieldPath::parse("spec.ports").index(*i),
                        format!("port {port} in Service {}", name_of(*s)),
                    );
                }
            }
            for (target, ports) in &by_target {
                if ports.len() < 2 {
                    continue;
                }
                let listed: Vec<String> = ports.keys().map(|p| p.to_string()).collect();
                let names: BTreeSet<String> =
                    ports.values().flatten().map(|(s, _)| name_of(*s)).collect();
                let message = format!(
                    "Services {} send targetPort {target} of {} `{}` from different ports ({}); Istio requires Services that share a targetPort to use the same port",
                    names.into_iter().collect::<Vec<_>>().join(", "),
                    res.kind,
                    res.name,
                    listed.join(", ")
                );
                let mut r = cx
                    .report(id, meta.clone(), message)
                    .istio(&["IST0137"])
                    .help("use the same `port` for this targetPort in every Service that selects the workload");
                for (s, i) in ports.values().flatten() {
                    r = r.related(
                        *s,
                        FieldPath::parse("spec.ports").index(*i),
                        format!("Service {}", name_of(*s)),
                    );
                }
            }
        }
    }
}
