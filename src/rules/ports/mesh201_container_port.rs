//! MESH201 container-port-collision: two containers of one pod declare the same port.
//!
//! Containers of a pod share one network namespace, so only one of them can bind a
//! port/protocol (per host IP). Regular init containers run before the app and are skipped;
//! init containers with `restartPolicy: Always` are native sidecars and run alongside it.

use std::collections::HashMap;

use crate::diagnostic::Severity;
use crate::source::FieldPath;

use crate::rules::{Context, Rule, RuleMeta};

pub struct ContainerPortCollision;

static META: RuleMeta = RuleMeta {
    code: "MESH201",
    name: "container-port-collision",
    summary: "two containers of one pod declare the same port and protocol",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH201-container-port-collision.md"),
};

impl Rule for ContainerPortCollision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, res) in cx.store.iter() {
            let Some(w) = res.workload() else {
                continue;
            };
            let mut seen: HashMap<(i64, String, String), (FieldPath, String)> = HashMap::new();
            for (cpath, container) in w.running_containers() {
                for (i, port) in container.ports.iter().enumerate() {
                    // hostIP only matters for a port published on the host.
                    let host_ip = if port.host_port.is_some() {
                        port.host_ip.clone().unwrap_or_default()
                    } else {
                        String::new()
                    };
                    let key = (
                        port.container_port,
                        port.l4_protocol().to_ascii_uppercase(),
                        host_ip,
                    );
                    let path = cpath.clone().key("ports").index(i).key("containerPort");
                    match seen.get(&key) {
                        None => {
                            seen.insert(key, (path, container.name.clone()));
                        }
                        Some((first_path, first_name)) => {
                            let (first_path, first_name) = (first_path.clone(), first_name.clone());
                            if first_name == container.name {
                                // One listener declared twice: strategic merge patches key
                                // container ports by port and protocol.
                                let message = format!(
                                    "container `{}` declares port {}/{} twice; `kubectl apply` merges container ports by port and protocol, so one entry (and its name) is lost or the patch fails, and Services or probes naming the other stop matching",
                                    container.name, key.0, key.1
                                );
                                cx.report(id, path, message)
                                    .help("keep one `ports` entry per port and protocol")
                                    .related(id, first_path, "first declared here");
                                continue;
                            }
                            let message = format!(
                                "port {}/{} collides: containers `{first_name}` and `{}` both declare it, but containers share the pod's network namespace, so only one can bind it",
                                key.0, key.1, container.name
                            );
                            cx.report(id, path, message)
                                .help("give each container its own port, or remove the duplicate `ports` entry if it is the same listener")
                                .related(id, first_path, format!("port {} first declared by `{first_name}`", key.0));
                        }
                    }
                }
            }
        }
    }
}
