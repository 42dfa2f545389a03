//! Proxy scopes (a namespace, or the workloads a `Sidecar` selects) and what each can see.

use std::collections::BTreeMap;

use crate::mesh::injection::{SYSTEM_NAMESPACES, istio_reason};
use crate::model::istio::Sidecar;
use crate::model::{ResId, Spec, Store};

use super::owners::Owner;

/// A set of sidecars that get the same outbound listeners.
#[derive(Clone, Debug)]
pub struct Scope {
    pub namespace: String,
    /// The `Sidecar` resource that shapes this scope, if any.
    pub sidecar: Option<ResId>,
    /// Workloads in this scope that are in the input (may be empty).
    pub workloads: Vec<ResId>,
    /// These proxies capture DNS and auto-allocate ServiceEntry VIPs (their
    /// `proxy.istio.io/config` says so), so address-less ServiceEntries get no catch-all.
    pub auto_allocate: bool,
}

impl Scope {
    pub fn label(&self, store: &Store) -> String {
        let base = match self.sidecar {
            Some(id) => {
                let s = store.get(id);
                format!("Sidecar {}/{}", s.namespace, s.name)
            }
            None => format!("namespace {}", self.namespace),
        };
        if self.auto_allocate {
            format!("{base} (workloads with DNS auto-allocation)")
        } else {
            base
        }
    }
}

fn sidecar_spec(store: &Store, id: ResId) -> Option<&Sidecar> {
    match &store.get(id).spec {
        Spec::Sidecar(s) => Some(s),
        _ => None,
    }
}

/// One scope per namespace in the input, plus one per `Sidecar` with a workload selector.
/// A namespace-wide `Sidecar` (no selector) shapes its namespace's scope.
pub fn scopes(store: &Store) -> Vec<Scope> {
    let mut by_ns: BTreeMap<&str, (Vec<ResId>, Vec<ResId>)> = BTreeMap::new();
    for (id, r) in store.iter() {
        let entry = by_ns.entry(r.namespace.as_str()).or_default();
        if matches!(r.spec, Spec::Sidecar(_)) {
            entry.0.push(id);
        } else if r.workload().is_some() {
            entry.1.push(id);
        }
    }
    let selects = |sc: ResId, w: ResId| -> bool {
        let (Some(s), Some(wl)) = (sidecar_spec(store, sc), store.get(w).workload()) else {
            return false;
        };
        s.workload_selector.as_ref().is_some_and(|sel| {
            !sel.labels.is_empty()
                && sel
                    .labels
                    .iter()
                    .all(|(k, v)| wl.pod_labels.get(k) == Some(v))
        })
    };
    let ns_labels: BTreeMap<&str, &BTreeMap<String, String>> = store
        .iter()
        .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
        .map(|(_, r)| (r.name.as_str(), &r.labels))
        .collect();
    let meshed = |w: ResId| {
        let r = store.get(w);
        istio_reason(ns_labels.get(r.namespace.as_str()).copied(), r).is_some()
    };
    let mut out = Vec::new();
    for (ns, (sidecars, workloads)) in by_ns {
        // Only Istio proxies get these listeners: keep the namespace's meshed workloads; a
        // namespace whose workloads are all outside the mesh has no proxies to speak of, while
        // one with no workloads in the input may still have proxies.
        if SYSTEM_NAMESPACES.contains(&ns) {
            continue;
        }
        let had_workloads = !workloads.is_empty();
        let workloads: Vec<ResId> = workloads.into_iter().filter(|&w| meshed(w)).collect();
        let known_unmeshed = ns_labels.get(ns).is_some_and(|l| {
            l.get("istio-injection").is_some_and(|v| v != "enabled")
                || (!l.contains_key("istio-injection") && !l.contains_key("istio.io/rev"))
        });
        if workloads.is_empty() && (known_unmeshed || had_workloads) {
            continue;
        }
        let is_default = |id: ResId| {
            sidecar_spec(store, id).is_some_and(|s| {
                s.workload_selector
                    .as_ref()
                    .is_none_or(|sel| sel.labels.is_empty())
            })
        };
        let default = sidecars.iter().copied().find(|&id| is_default(id));
        let selective: Vec<ResId> = sidecars
            .iter()
            .copied()
            .filter(|&id| !is_default(id))
            .collect();
        let mut push = |sidecar: Option<ResId>, members: Vec<ResId>| {
            let (auto, plain): (Vec<ResId>, Vec<ResId>) = members
                .into_iter()
                .partition(|&w| dns_auto_allocation(store, w));
            if !auto.is_empty() {
                out.push(Scope {
                    namespace: ns.to_string(),
                    sidecar,
                    workloads: auto,
                    auto_allocate: true,
                });
            }
            out.push(Scope {
                namespace: ns.to_string(),
                sidecar,
                workloads: plain,
                auto_allocate: false,
            });
        };
        for &sc in &selective {
            push(
                Some(sc),
                workloads
                    .iter()
                    .copied()
                    .filter(|&w| selects(sc, w))
                    .collect(),
            );
        }
        push(
            default,
            workloads
                .iter()
                .copied()
                .filter(|&w| !selective.iter().any(|&sc| selects(sc, w)))
                .collect(),
        );
    }
    out
}

/// Whether a workload's `proxy.istio.io/config` turns on DNS capture with auto-allocation.
fn dns_auto_allocation(store: &Store, w: ResId) -> bool {
    let Some(text) = store
        .get(w)
        .workload()
        .and_then(|wl| wl.pod_annotations.get("proxy.istio.io/config"))
    else {
        return false;
    };
    let Some(doc) = crate::source::parse_yaml(text)
        .ok()
        .and_then(|d| d.into_iter().next())
    else {
        return false;
    };
    let Ok(cfg) = serde_json::from_value::<crate::model::istio::ProxyConfig>(doc.to_json()) else {
        return false;
    };
    let on = |k: &str| cfg.proxy_metadata.get(k).is_some_and(|v| v == "true");
    on("ISTIO_META_DNS_CAPTURE")
        && (on("ISTIO_META_DNS_AUTO_ALLOCATE") || on("PILOT_ENABLE_IP_AUTOALLOCATE"))
}

/// Whether `owner` is exported to `ns` (`*`, `.`, `~` or namespace names).
pub fn exported_to(owner: &Owner, ns: &str) -> bool {
    owner.export_to.iter().any(|e| match e.as_str() {
        "*" => true,
        "." => owner.namespace == ns,
        "~" => false,
        other => other == ns,
    })
}

/// Whether a Sidecar egress host `ns/host` imports `owner` for a proxy in `proxy_ns`.
fn egress_matches(entry: &str, owner: &Owner, proxy_ns: &str) -> bool {
    let (ns, host) = entry.split_once('/').unwrap_or(("*", entry));
    let ns_ok = match ns {
        "*" => true,
        "." => owner.namespace == proxy_ns,
        "~" => false,
        other => other == owner.namespace,
    };
    ns_ok && host_matches(host, &owner.host)
}

/// Istio host matching: `*` matches all, `*.suffix` matches by suffix, otherwise exact.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Whether a proxy in `scope` gets a listener for `owner`.
pub fn visible(store: &Store, scope: &Scope, owner: &Owner) -> bool {
    if !exported_to(owner, &scope.namespace) {
        return false;
    }
    let Some(sc) = scope.sidecar.and_then(|id| sidecar_spec(store, id)) else {
        return true;
    };
    if sc.egress.is_empty() {
        return true;
    }
    sc.egress.iter().any(|l| {
        let port_ok = l
            .port
            .as_ref()
            .and_then(|p| p.number)
            .is_none_or(|n| n == owner.port);
        port_ok
            && l.hosts
                .iter()
                .any(|h| egress_matches(h, owner, &scope.namespace))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "a.b"));
        assert!(host_matches("*.example.com", "www.example.com"));
        assert!(!host_matches("*.example.com", "example.org"));
        assert!(host_matches("github.com", "GitHub.com"));
    }
}
