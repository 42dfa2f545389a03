//! Hosts the input hands to something meshlint does not read: multicluster stub domains, Maistra
//! federation imports, Istio's own installation, and services known only by their
//! WorkloadEntries. An undeclared host there
//! is not evidence of a broken route.

use std::collections::{BTreeMap, HashMap};

use crate::model::{ResId, Spec, Store};

use crate::mesh::hosts::{CLUSTER_DOMAIN, k8s_service_of};
use crate::mesh::workloads::selector_text;
use crate::model::raw::label;

/// Selectors that pick WorkloadEntries: a ServiceEntry's `workloadSelector` or a Service's
/// selector, in one namespace, keyed by one of their labels so a WorkloadEntry only meets
/// selectors sharing a label with it.
type SelectorIndex<'a> = HashMap<(&'a str, &'a str, &'a str), Vec<&'a BTreeMap<String, String>>>;

pub(super) struct Unmodelled {
    /// A Maistra federation resource in the input (the first by namespace, name and kind).
    federation: Option<ResId>,
    /// Per namespace, a labelled WorkloadEntry that no ServiceEntry or Service in the input
    /// selects.
    orphan_entries: HashMap<String, ResId>,
}

fn is_federation(kind: &str, api_version: &str) -> bool {
    api_version.starts_with("federation.maistra.io/")
        && matches!(
            kind,
            "ServiceMeshPeer" | "ExportedServiceSet" | "ImportedServiceSet"
        )
}

/// Services an Istio installation creates (`manifests/charts/istio-control/istio-discovery` and
/// the gateway charts): `istiod`, `istiod-<revision>`, `istiod-remote` and the default gateways.
fn is_istio_installation(name: &str) -> bool {
    name == "istiod"
        || name.starts_with("istiod-")
        || matches!(
            name,
            "istio-ingressgateway" | "istio-egressgateway" | "istio-eastwestgateway"
        )
}

impl Unmodelled {
    pub(super) fn build(store: &Store) -> Self {
        let federation = store
            .iter()
            .filter(|(_, r)| is_federation(&r.kind, &r.api_version))
            .min_by(|(_, a), (_, b)| {
                (&a.namespace, &a.name, &a.kind).cmp(&(&b.namespace, &b.name, &b.kind))
            })
            .map(|(id, _)| id);
        let mut selectors: SelectorIndex<'_> = HashMap::new();
        for (_, r) in store.iter() {
            let sel = match &r.spec {
                Spec::ServiceEntry(se) => se.workload_selector.as_ref().map(|s| &s.labels),
                Spec::Service(svc) => svc.spec.selector.as_ref(),
                _ => None,
            };
            if let Some((sel, (k, v))) = sel.and_then(|s| Some((s, s.iter().next()?))) {
                selectors
                    .entry((r.namespace.as_str(), k.as_str(), v.as_str()))
                    .or_default()
                    .push(sel);
            }
        }
        let mut orphan_entries = HashMap::new();
        for (id, r) in store.iter() {
            let Spec::WorkloadEntry(we) = &r.spec else {
                continue;
            };
            if we.labels.is_empty() {
                continue;
            }
            let selected = we.labels.iter().any(|(k, v)| {
                selectors
                    .get(&(r.namespace.as_str(), k.as_str(), v.as_str()))
                    .into_iter()
                    .flatten()
                    .any(|sel| sel.iter().all(|(k, v)| we.labels.get(k) == Some(v)))
            });
            if !selected {
                // The first by name, whatever the input order.
                let keep = orphan_entries
                    .get(&r.namespace)
                    .is_none_or(|&other: &ResId| store.get(other).name > r.name);
                if keep {
                    orphan_entries.insert(r.namespace.clone(), id);
                }
            }
        }
        Self {
            federation,
            orphan_entries,
        }
    }

    /// Why `host` (an FQDN, named by a resource in namespace `ns`) may be declared by something
    /// meshlint does not read. `typo`: the host is close to a declared one; a WorkloadEntry
    /// nearby does not explain it then.
    pub(super) fn reason(&self, store: &Store, host: &str, ns: &str, typo: bool) -> Option<String> {
        let lower = host.to_ascii_lowercase();
        if lower.ends_with(".global") {
            return Some("`.global` is the stub domain of Istio multicluster setups, whose remote services meshlint does not model".into());
        }
        if lower.ends_with(".local") && !lower.ends_with(&format!(".{CLUSTER_DOMAIN}")) {
            return Some(format!(
                "`.local` hosts outside `{CLUSTER_DOMAIN}` belong to another cluster domain or to a multicluster or federation setup, which meshlint does not model"
            ));
        }
        if let Some(f) = self.federation {
            return Some(format!(
                "the input has Maistra federation resources ({}), and meshlint does not model the services they import",
                label(store, f)
            ));
        }
        if typo {
            return None;
        }
        if let Some((name, svc_ns)) = k8s_service_of(&lower)
            && is_istio_installation(name)
        {
            return Some(format!(
                "`{name}` in namespace {svc_ns} is a Service of Istio's own installation (istioctl or the istiod and gateway Helm charts create it), which the input does not hold"
            ));
        }
        let home = k8s_service_of(host).map_or(ns, |(_, n)| n);
        let we = *self.orphan_entries.get(home)?;
        let Spec::WorkloadEntry(entry) = &store.get(we).spec else {
            return None;
        };
        Some(format!(
            "{} ({}) is selected by no ServiceEntry or Service in the input, so the service it belongs to is declared elsewhere",
            label(store, we),
            selector_text(&entry.labels)
        ))
    }
}
