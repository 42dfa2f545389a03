//! MESH202 sidecar-reserved-port: the app uses a port its injected sidecar reserves, or, for an
//! ambient workload, one ztunnel listens on inside the pod.
//!
//! An app container declaring such a port fails to bind it (or takes it from the proxy); a
//! Service whose targetPort is such a port sends its traffic to the proxy, not the app.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::k8s::IntOrString;
use crate::model::{ResId, Spec};
use crate::source::FieldPath;

use crate::mesh::ambient::DataplaneMode;
use crate::mesh::ambient::mode::ZTUNNEL_POD_PORTS;
use crate::mesh::injection::{Injection, Platform, ReservedPort, injections};
use crate::rules::{Context, Rule, RuleMeta};

pub struct SidecarReservedPort;

static META: RuleMeta = RuleMeta {
    code: "MESH202",
    name: "sidecar-reserved-port",
    summary: "app port or Service targetPort is one of the injected sidecar's reserved ports",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH202-sidecar-reserved-port.md"),
};

/// The proxy that binds ports in a workload's pods: an injected sidecar, or ztunnel for an
/// ambient workload.
#[derive(Clone)]
struct Holder {
    /// The injected platform; `None` for ztunnel.
    platform: Option<Platform>,
    reason: String,
    ports: Vec<ReservedPort>,
}

impl Holder {
    fn ztunnel() -> Self {
        Holder {
            platform: None,
            reason: "the workload is in ambient mode".into(),
            ports: ZTUNNEL_POD_PORTS
                .iter()
                .map(|&(port, purpose)| ReservedPort { port, purpose })
                .collect(),
        }
    }

    /// `the injected Istio sidecar (`istio-proxy`)`, or ztunnel.
    fn what(&self) -> String {
        match self.platform {
            Some(p) => format!(
                "the injected {} sidecar (`{}`)",
                p.name(),
                p.proxy_container()
            ),
            None => "ztunnel (it listens inside the network namespace of every ambient pod)".into(),
        }
    }

    /// Who a Service's pods have listening: `pods that get the Istio sidecar, which`.
    fn pods(&self) -> String {
        match self.platform {
            Some(p) => format!("pods that get the {} sidecar, which", p.name()),
            None => "ambient pods, where ztunnel".into(),
        }
    }

    /// `the sidecar's reserved ports`, or ztunnel's.
    fn ports_of(&self) -> &'static str {
        match self.platform {
            Some(_) => "the sidecar's reserved ports",
            None => "the ports ztunnel listens on in the pod",
        }
    }

    /// `the sidecar`, or `ztunnel`.
    fn short(&self) -> &'static str {
        match self.platform {
            Some(_) => "the sidecar",
            None => "ztunnel",
        }
    }
}

impl From<Injection> for Holder {
    fn from(i: Injection) -> Self {
        Holder {
            platform: Some(i.platform),
            reason: i.reason,
            ports: i.ports,
        }
    }
}

fn reserved(inj: &[Holder], port: i64) -> Option<(&Holder, &'static str)> {
    inj.iter().find_map(|i| {
        i.ports
            .iter()
            .find(|r| r.port == port)
            .map(|r| (i, r.purpose))
    })
}

impl Rule for SidecarReservedPort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        let mut by_workload: BTreeMap<ResId, Vec<Holder>> = BTreeMap::new();
        for (id, res) in cx.store.iter() {
            if res.workload().is_some() {
                let mut inj: Vec<Holder> =
                    injections(res, cx.namespace(&res.namespace).map(|n| cx.store.get(n)))
                        .into_iter()
                        .map(Holder::from)
                        .collect();
                if ambient.workload_mode(id) == DataplaneMode::Ambient {
                    inj.push(Holder::ztunnel());
                }
                if !inj.is_empty() {
                    by_workload.insert(id, inj);
                }
            }
        }
        for (&id, inj) in &by_workload {
            check_containers(cx, id, inj);
        }
        for (id, res) in cx.store.iter() {
            if matches!(res.spec, Spec::Service(_)) {
                check_service(cx, id, &by_workload);
            }
        }
    }
}

fn check_containers(cx: &mut Context<'_>, id: ResId, inj: &[Holder]) {
    let res = cx.store.get(id);
    let Some(w) = res.workload() else {
        return;
    };
    let mut hits = Vec::new();
    for (cpath, c) in w.all_containers() {
        if inj
            .iter()
            .any(|i| i.platform.is_some_and(|p| p.owns_container(&c.name)))
        {
            continue;
        }
        for (i, p) in c.ports.iter().enumerate() {
            if let Some((by, purpose)) = reserved(inj, p.container_port) {
                hits.push((
                    cpath.clone().key("ports").index(i).key("containerPort"),
                    c.name.clone(),
                    p.container_port,
                    by.clone(),
                    purpose,
                ));
            }
        }
    }
    let who = res_name(cx, id);
    for (path, container, port, by, purpose) in hits {
        let message = format!(
            "container `{container}` declares port {port}, which {} reserves for {purpose}; one of them fails to bind it (EADDRINUSE) or traffic meant for the app reaches the proxy",
            by.what(),
        );
        cx.report(id, path, message).help(format!(
            "move the app to a port outside {} ({}); {} gets {} because {}",
            by.ports_of(),
            port_list(&by),
            who,
            by.short(),
            by.reason
        ));
    }
}

fn check_service(cx: &mut Context<'_>, id: ResId, by_workload: &BTreeMap<ResId, Vec<Holder>>) {
    let store = cx.store;
    let res = store.get(id);
    let Some(svc) = res.service() else {
        return;
    };
    let targets = cx.graph.selected_workloads(id);
    let mut hits = Vec::new();
    for (i, port) in svc.spec.ports.iter().enumerate() {
        let IntOrString::Int(target) = port.target() else {
            // A named targetPort resolves to a container port, which the container check covers.
            continue;
        };
        let hit: Vec<(ResId, &Holder, &'static str)> = targets
            .iter()
            .filter_map(|w| {
                let inj = by_workload.get(w)?;
                reserved(inj, target).map(|(by, purpose)| (*w, by, purpose))
            })
            .collect();
        let Some(&(_, by, purpose)) = hit.first() else {
            continue;
        };
        let field = if port.target_port.is_some() {
            "targetPort"
        } else {
            "port"
        };
        hits.push((
            FieldPath::parse("spec.ports").index(i).key(field),
            target,
            by.clone(),
            purpose,
            hit.iter().map(|(w, _, _)| *w).collect::<Vec<_>>(),
        ));
    }
    for (path, target, by, purpose, workloads) in hits {
        let message = format!(
            "port {target} is sent to {} reserves {target} for {purpose}; the traffic reaches the proxy, not the app",
            by.pods(),
        );
        let mut reported = cx.report(id, path, message).help(format!(
            "point targetPort at the app's own port, outside {} ({})",
            by.ports_of(),
            port_list(&by)
        ));
        for w in workloads {
            let r = store.get(w);
            let meta = r
                .workload()
                .map(|w| w.pod_meta_path.clone())
                .unwrap_or_default();
            reported = reported.related(
                w,
                meta,
                format!(
                    "{} `{}` is selected and gets {} because {}",
                    r.kind,
                    r.name,
                    by.short(),
                    by.reason
                ),
            );
        }
    }
}

fn port_list(inj: &Holder) -> String {
    inj.ports
        .iter()
        .map(|p| p.port.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn res_name(cx: &Context<'_>, id: ResId) -> String {
    let r = cx.store.get(id);
    format!("{} `{}`", r.kind, r.name)
}
