//! MESH1205 proxy-uid: an application container running as UID 1337, the sidecar's own user,
//! whose traffic the sidecar's iptables rules leave alone.

use crate::diagnostic::Severity;
use crate::mesh::ambient::DataplaneMode;
use crate::mesh::injection::{ISTIO_INJECTION, SIDECAR_INJECT, istio_reason};
use crate::model::Resource;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Value};

use super::{CONTROL_PLANE_NAMESPACE, namespace_labels};

pub struct ProxyUid;

static META: RuleMeta = RuleMeta {
    code: "MESH1205",
    name: "proxy-uid",
    summary: "application runs as UID 1337, the sidecar's user, so its traffic bypasses the sidecar",
    severity: Severity::Warning,
    istio_codes: &["IST0144"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1205-proxy-uid.md"),
};

/// The sidecar's UID: `istio-iptables -u 1337` exempts its traffic from redirection.
const PROXY_UID: i64 = 1337;

fn run_as_user(res: &Resource, path: &FieldPath) -> Option<i64> {
    match res.node.lookup(path) {
        (node, true) => match node.value {
            Value::Int(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the pods of `res` are kept out of Istio on purpose (namespace or pod opt-out).
fn opted_out(cx: &Context<'_>, res: &Resource) -> bool {
    let ns = namespace_labels(cx, res);
    let pod_off = res.workload().is_some_and(|w| {
        [&w.pod_labels, &w.pod_annotations]
            .iter()
            .any(|m| m.get(SIDECAR_INJECT).is_some_and(|v| v == "false"))
    });
    pod_off || ns.is_some_and(|l| l.get(ISTIO_INJECTION).is_some_and(|v| v != "enabled"))
}

impl Rule for ProxyUid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let ambient = cx.ambient();
        for (id, r) in store.iter() {
            let Some(w) = r.workload() else { continue };
            // ztunnel's in-pod redirection exempts no UID (istio `cni/pkg/iptables/iptables.go`).
            if r.namespace == CONTROL_PLANE_NAMESPACE
                || w.pod.host_network
                || opted_out(cx, r)
                || ambient.workload_mode(id) == DataplaneMode::Ambient
            {
                continue;
            }
            let spec = &w.pod_spec_path;
            let mut paths = Vec::new();
            // A container's own `runAsUser` overrides the pod's: the pod-level value matters
            // only for application containers that do not set one.
            let mut inherits = false;
            for (i, c) in w.pod.containers.iter().enumerate() {
                if c.name == "istio-proxy" {
                    continue;
                }
                let p = spec
                    .clone()
                    .key("containers")
                    .index(i)
                    .key("securityContext")
                    .key("runAsUser");
                match run_as_user(r, &p) {
                    Some(PROXY_UID) => paths.push((p, format!("container `{}`", c.name))),
                    Some(_) => {}
                    None => inherits = true,
                }
            }
            let pod_level = spec.clone().key("securityContext").key("runAsUser");
            if inherits && run_as_user(r, &pod_level) == Some(PROXY_UID) {
                paths.insert(0, (pod_level, "the pod's securityContext".to_string()));
            }
            if paths.is_empty() {
                continue;
            }
            let injected = istio_reason(namespace_labels(cx, r), r);
            for (path, what) in paths {
                let (severity, when) = match &injected {
                    Some(reason) => (
                        Severity::Warning,
                        format!("the pod gets a sidecar ({reason})"),
                    ),
                    None => (Severity::Info, "if the pod gets a sidecar".to_string()),
                };
                cx.report(
                    id,
                    path,
                    format!(
                        "{what} runs as UID {PROXY_UID}, the sidecar's own user: {when}, its outgoing traffic is exempt from redirection, so it leaves without mTLS, routing, retries or egress policy, and STRICT destinations refuse it"
                    ),
                )
                .help("run the application as another UID (any but 1337)")
                .severity(severity);
            }
        }
    }
}
