//! DestinationRule references: the host must be declared where the rule is visible, and each
//! labelled subset must select some endpoint of that host.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::Severity;
use crate::model::istio::DestinationRule;
use crate::model::{ResId, Resource, Spec};
use crate::source::{FieldPath, Node};

use crate::mesh::hosts::{self, DeclKind, Declared, Viewers, fqdn, k8s_service_of};
use crate::mesh::workloads::{self, selector_text};
use crate::model::raw::raw;

use super::{Checker, SUBSET, partial};

/// Label sets of a host's endpoints, and the resources they come from.
type Endpoints = (Vec<BTreeMap<String, String>>, Vec<String>);

/// Endpoint labels the manifests do not hold: istiod adds the cluster and network to every
/// endpoint (`AugmentLabels`, `pilot/pkg/serviceregistry/util/label/label.go`), and controllers
/// add their revision hashes and pod names to the pods they create.
const ADDED_LATER: &[&str] = &[
    "topology.istio.io/cluster",
    "topology.istio.io/network",
    "pod-template-hash",
    "rollouts-pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
];

impl<'a> Checker<'a, '_> {
    pub(super) fn destination_rule(
        &mut self,
        id: ResId,
        res: &'a Resource,
        dr: &'a DestinationRule,
    ) {
        let ns = res.namespace.as_str();
        let host = fqdn(&dr.host, ns);
        if dr.host.is_empty() {
            return;
        }
        let viewers = Viewers::of(&dr.export_to, ns);
        let mut found: Vec<&Declared> = self.hosts.resolve(&host, &viewers);
        if found.is_empty() && host.starts_with('*') {
            found = self
                .hosts
                .entries
                .iter()
                .filter(|e| hosts::hosts_match(&host, &e.host) && viewers.sees(&e.export))
                .collect();
        }
        if found.is_empty() {
            let present =
                k8s_service_of(&host).is_none_or(|(_, n)| self.missing_services(n).is_none());
            let expanded = if host != dr.host {
                format!(" (expanded to `{host}`)")
            } else {
                String::new()
            };
            let suggestion = self.hosts.suggest(&host, ns);
            let hint = suggestion
                .as_ref()
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            // Only for hosts nothing in the input declares (not those hidden by exportTo).
            let unmodelled = self
                .hosts
                .declaring(&host)
                .is_empty()
                .then(|| {
                    self.unmodelled
                        .reason(self.store(), &host, ns, suggestion.is_some())
                })
                .flatten()
                .map(|u| format!("; it may be declared by something meshlint does not read: {u}"));
            self.cx
                .report(
                    id,
                    FieldPath::parse("spec.host"),
                    format!(
                        "host `{}`{expanded} matches no Service or ServiceEntry visible from {}{hint}, so this DestinationRule configures nothing{}",
                        dr.host,
                        viewers.describe(),
                        unmodelled.as_deref().unwrap_or_default()
                    ),
                )
                .subkind("host")
                .severity(partial(present && unmodelled.is_none()))
                .istio(&["IST0174"])
                .help("fix the host, or add the Service or ServiceEntry it is meant for");
            return;
        }
        let found: Vec<Declared> = found.into_iter().cloned().collect();
        let Some(endpoints) = self.endpoints(&found) else {
            return;
        };
        let labelled: Vec<(usize, &crate::model::istio::Subset)> = dr
            .subsets
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.labels.is_empty())
            .collect();
        if labelled.is_empty() {
            return;
        }
        let sources: Vec<String> = endpoints.1.clone();
        if endpoints.0.is_empty() {
            // One finding per DestinationRule: the host's workloads are not in the input.
            let names: Vec<String> = labelled
                .iter()
                .map(|(_, s)| format!("`{}` ({})", s.name, selector_text(&s.labels)))
                .collect();
            let (k, _) = labelled[0];
            self.cx
                .report(
                    id,
                    FieldPath::parse("spec.subsets").index(k).key("name"),
                    format!(
                        "{SUBSET}s {} cannot be checked: no workload of {} is in the input; a subset whose labels match no pod makes requests routed to it fail with 503 (no healthy upstream)",
                        names.join(", "),
                        sources.join(", ")
                    ),
                )
                .subkind("subset-labels")
                .kiali(&["KIA0203"])
                .severity(Severity::Info)
                .istio(&["IST0173"])
                .help("check the subset labels against the pod template labels of the host's workloads, or check the workloads together with this DestinationRule");
            return;
        }
        for (k, subset) in labelled {
            self.subset_selects(id, &endpoints, k, &subset.name, &subset.labels);
        }
    }

    /// Labels of a workload as istiod sees its endpoints: pod labels plus topology labels from
    /// the Pod's Node.
    fn endpoint_labels(
        &self,
        w: ResId,
        nodes: &HashMap<&str, BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let r = self.store().get(w);
        let mut labels = r
            .workload()
            .map(|w| w.pod_labels.clone())
            .unwrap_or_default();
        if let Some(node) = raw(r, "spec.nodeName").and_then(Node::as_str) {
            labels.insert("kubernetes.io/hostname".into(), node.to_string());
            if let Some(nl) = nodes.get(node) {
                let region = nl
                    .get("topology.kubernetes.io/region")
                    .filter(|v| !v.is_empty());
                if let Some(region) = region {
                    labels.insert("topology.kubernetes.io/region".into(), region.clone());
                    if let Some(zone) = nl
                        .get("topology.kubernetes.io/zone")
                        .filter(|v| !v.is_empty())
                    {
                        labels.insert("topology.kubernetes.io/zone".into(), zone.clone());
                        if let Some(sz) = nl
                            .get("topology.istio.io/subzone")
                            .filter(|v| !v.is_empty())
                        {
                            labels.insert("topology.istio.io/subzone".into(), sz.clone());
                        }
                    }
                }
            }
        }
        labels
    }

    /// Label sets of the endpoints behind `found` and where they come from; `None` when the
    /// hosts have no selector or endpoints to check subsets against.
    fn endpoints(&self, found: &[Declared]) -> Option<Endpoints> {
        let store = self.store();
        let nodes = &self.nodes;
        let mut endpoints: Vec<BTreeMap<String, String>> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        let mut checkable = false;
        for e in found {
            match (e.kind, &e.selector) {
                (DeclKind::Service, Some(sel)) if !sel.is_empty() => {
                    checkable = true;
                    sources.push(e.label(store));
                    for w in self.cx.graph.selected_workloads(e.resource) {
                        endpoints.push(self.endpoint_labels(w, nodes));
                    }
                }
                (DeclKind::ServiceEntry, Some(sel)) if !sel.is_empty() => {
                    checkable = true;
                    sources.push(e.label(store));
                    for w in self.workloads.matching(sel, Some(&e.namespace)) {
                        endpoints.push(self.endpoint_labels(w, nodes));
                    }
                    for &we_id in self
                        .workload_entries
                        .get(e.namespace.as_str())
                        .into_iter()
                        .flatten()
                    {
                        if let Spec::WorkloadEntry(we) = &store.get(we_id).spec
                            && workloads::selector_matches(sel, &we.labels)
                        {
                            endpoints.push(we.labels.clone());
                        }
                    }
                }
                (DeclKind::ServiceEntry, None) => {
                    if let Spec::ServiceEntry(se) = &store.get(e.resource).spec
                        && !se.endpoints.is_empty()
                    {
                        checkable = true;
                        sources.push(e.label(store));
                        for ep in &se.endpoints {
                            let labels = ep
                                .get("labels")
                                .and_then(|l| l.as_object())
                                .map(|m| {
                                    m.iter()
                                        .filter_map(|(k, v)| {
                                            Some((k.clone(), v.as_str()?.to_string()))
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            endpoints.push(labels);
                        }
                    }
                }
                _ => {}
            }
        }
        sources.sort();
        sources.dedup();
        checkable.then_some((endpoints, sources))
    }

    fn subset_selects(
        &mut self,
        id: ResId,
        (endpoints, sources): &Endpoints,
        k: usize,
        name: &str,
        subset_labels: &BTreeMap<String, String>,
    ) {
        // A label set outside the manifests (by istiod or a controller) and absent from the
        // pod template cannot be judged: it counts as matching.
        let matches = |labels: &BTreeMap<String, String>| {
            subset_labels.iter().all(|(k, v)| match labels.get(k) {
                Some(have) => have == v,
                None => ADDED_LATER.contains(&k.as_str()),
            })
        };
        if endpoints.iter().any(matches) {
            return;
        }
        let path = FieldPath::parse("spec.subsets").index(k).key("name");
        let sel = selector_text(subset_labels);
        let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for labels in endpoints {
            for key in subset_labels.keys() {
                seen.entry(key.as_str())
                    .or_default()
                    .insert(labels.get(key).map_or("(unset)", String::as_str));
            }
        }
        let have: Vec<String> = seen
            .iter()
            .map(|(k, vs)| format!("{k}: {}", vs.iter().copied().collect::<Vec<_>>().join(", ")))
            .collect();
        let routed = self.routed.get(&(id, name.to_string())).cloned();
        let consequence = match routed {
            Some((vs, _)) => {
                let r = self.store().get(vs);
                format!(
                    "VirtualService {}/{} routes to it, so those requests fail with 503 (no healthy upstream)",
                    r.namespace, r.name
                )
            }
            None => "no VirtualService in the input routes to it, but requests routed to this subset would fail with 503 (no healthy upstream)".to_string(),
        };
        let rep = self
            .cx
            .report(
                id,
                path,
                format!(
                    "{SUBSET} `{name}` ({sel}) selects none of the {} workload(s) of {} in the input (they have {}); {consequence}",
                    endpoints.len(),
                    sources.join(", "),
                    have.join("; ")
                ),
            )
            .subkind("subset-labels")
                .kiali(&["KIA0203"])
            .severity(if routed.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            })
            .istio(&["IST0173"])
            .help("make the subset labels match the pod template labels of the version it stands for, or remove the subset");
        if let Some((vs, path)) = routed {
            rep.related(vs, path, "routes to this subset");
        }
    }
}
