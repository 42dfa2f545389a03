//! MESH503 dangling-reference: references from Istio resources to hosts, subsets, gateways,
//! workloads, namespaces and secrets that the input does not have (istio's IST0101 family,
//! IST0173 and IST0174).
//!
//! Every lookup goes through an index built once: hosts (`hosts::HostIndex`), workloads by
//! label (`workloads::Workloads`), DestinationRules by host, gateways and secrets by name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::Severity;
use crate::model::istio::DestinationRule;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::{FieldPath, Node};

use crate::mesh::hosts::{
    self, DeclKind, Declared, Export, HostIndex, Viewers, fqdn, is_short, k8s_service_of,
};
use crate::mesh::routes;
use crate::mesh::workloads::{self, Workloads, selector_text};
use crate::model::raw::{label, raw, raw_strings};
use crate::rules::{Context, Rule, RuleMeta};

pub struct DanglingReference;

static META: RuleMeta = RuleMeta {
    code: "MESH503",
    name: "dangling-reference",
    summary: "a route, subset, gateway, selector, namespace or secret reference points at nothing in the input",
    severity: Severity::Warning,
    istio_codes: &["IST0101", "IST0132", "IST0165", "IST0173", "IST0174"],
    doc: include_str!("../../../rules/MESH503-dangling-reference.md"),
};

/// Message openings the conformance script uses to tell istio's IST0101 analyzers apart.
pub const DESTINATION_HOST: &str = "destination host";
pub const MIRROR_HOST: &str = "mirror host";
pub const SUBSET: &str = "subset";
pub const GATEWAY: &str = "gateway";

/// A DestinationRule's host and subsets, for subset lookups.
struct DrEntry {
    id: ResId,
    host: String,
    namespace: String,
    export: Export,
    subsets: Vec<String>,
}

/// DestinationRules by host: exact hosts in a map, wildcard ones in a list.
struct DrIndex {
    entries: Vec<DrEntry>,
    exact: HashMap<String, Vec<usize>>,
    wildcard: Vec<usize>,
}

impl DrIndex {
    fn build(store: &Store, default_export: &[String]) -> Self {
        let mut entries = Vec::new();
        for (id, r) in store.iter() {
            if let Spec::DestinationRule(dr) = &r.spec {
                entries.push(DrEntry {
                    id,
                    host: fqdn(&dr.host, &r.namespace),
                    namespace: r.namespace.clone(),
                    export: Export::new(&dr.export_to, &r.namespace, default_export),
                    subsets: dr.subsets.iter().map(|s| s.name.clone()).collect(),
                });
            }
        }
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcard = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if e.host.starts_with('*') {
                wildcard.push(i);
            } else {
                exact
                    .entry(e.host.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        Self {
            entries,
            exact,
            wildcard,
        }
    }

    /// DestinationRules whose host covers `host`, most specific first (exact, then the longest
    /// wildcard).
    fn for_host(&self, host: &str) -> Vec<&DrEntry> {
        let mut out: Vec<&DrEntry> = self
            .exact
            .get(&host.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
            .collect();
        let mut wild: Vec<&DrEntry> = self
            .wildcard
            .iter()
            .map(|&i| &self.entries[i])
            .filter(|e| hosts::hosts_match(&e.host, host) && e.host.len() <= host.len() + 1)
            .collect();
        wild.sort_by_key(|e| std::cmp::Reverse(e.host.len()));
        out.extend(wild);
        out
    }
}

/// Which DestinationRules istiod applies to `host` for proxies in `proxy_ns`: those in the
/// proxy's namespace, else those in the host's namespace exported to it, else those in the
/// root namespace exported to it; within that tier the most specific host.
fn effective_drs<'a>(
    drs: &'a DrIndex,
    host: &str,
    proxy_ns: &str,
    host_ns: Option<&str>,
    root_ns: &str,
) -> Vec<&'a DrEntry> {
    let all = drs.for_host(host);
    let visible = |e: &DrEntry| e.export.visible_from(proxy_ns);
    let tiers = [Some(proxy_ns), host_ns, Some(root_ns)];
    for tier in tiers.into_iter().flatten() {
        let hit: Vec<&DrEntry> = all
            .iter()
            .copied()
            .filter(|e| e.namespace == tier && visible(e))
            .collect();
        if let Some(first) = hit.first() {
            let host = first.host.clone();
            return hit.into_iter().filter(|e| e.host == host).collect();
        }
    }
    Vec::new()
}

/// Label sets of a host's endpoints, and the resources they come from.
type Endpoints = (Vec<BTreeMap<String, String>>, Vec<String>);

/// Secrets by `(namespace, name)`: Secrets, and what creates them (cert-manager Certificates,
/// SealedSecrets, ExternalSecrets).
fn secrets(store: &Store) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut namespaces = BTreeSet::new();
    for (_, r) in store.iter() {
        let name = match r.kind.as_str() {
            "Secret" | "SealedSecret" => Some(r.name.clone()),
            "Certificate" if r.api_version.starts_with("cert-manager.io/") => {
                raw(r, "spec.secretName")
                    .and_then(Node::as_str)
                    .map(str::to_string)
            }
            "ExternalSecret" => Some(
                raw(r, "spec.target.name")
                    .and_then(Node::as_str)
                    .map_or_else(|| r.name.clone(), str::to_string),
            ),
            _ => None,
        };
        if let Some(n) = name {
            names.insert((r.namespace.clone(), n));
            namespaces.insert(r.namespace.clone());
        }
    }
    (names, namespaces)
}

/// `namespaces` entries of AuthorizationPolicy sources: `*`, `prefix*`, `*suffix` or exact.
fn namespace_pattern_matches(pattern: &str, ns: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return ns.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return ns.starts_with(prefix);
    }
    pattern.eq_ignore_ascii_case(ns)
}

/// Severity for "X is not in the input": info when the namespace it would be in has nothing of
/// that kind in the input.
fn partial(present: bool) -> Severity {
    if present {
        Severity::Warning
    } else {
        Severity::Info
    }
}

struct Checker<'a, 'c> {
    cx: &'c mut Context<'a>,
    /// Node labels by Node name, for topology labels of Pods.
    nodes: HashMap<&'a str, BTreeMap<String, String>>,
    /// WorkloadEntries by namespace.
    workload_entries: HashMap<&'a str, Vec<ResId>>,
    hosts: HostIndex,
    workloads: Workloads<'a>,
    drs: DrIndex,
    root_ns: String,
    gateways: BTreeSet<(String, String)>,
    gateway_namespaces: BTreeSet<String>,
}

impl<'a> Checker<'a, '_> {
    fn store(&self) -> &'a Store {
        self.cx.store
    }

    fn virtual_service(&mut self, id: ResId, res: &'a Resource) {
        let Spec::VirtualService(vs) = &res.spec else {
            return;
        };
        let ns = res.namespace.as_str();
        let viewers = Viewers::of(&vs.export_to, ns);
        for d in routes::route_destinations(res) {
            let what = if d.mirror {
                MIRROR_HOST
            } else {
                DESTINATION_HOST
            };
            if d.host.is_empty() {
                self.cx
                    .report(
                        id,
                        d.host_path(),
                        format!(
                            "{what} is missing: this {} names no host, so istiod has no cluster to send its share of the traffic to",
                            d.what()
                        ),
                    )
                    .istio(&["IST0101"])
                    .help("set `host` to a Service (`reviews` or `reviews.<ns>.svc.cluster.local`) or a ServiceEntry host, or remove the entry");
            } else {
                self.destination_host(id, ns, &viewers, &d, what);
            }
            if let Some(subset) = &d.subset {
                self.subset(id, ns, &viewers, &d, subset);
            }
        }
        for (i, g) in vs.gateways.iter().enumerate() {
            self.gateway_ref(id, ns, g, FieldPath::parse("spec.gateways").index(i), true);
        }
        // Per-match gateways narrow a rule to some of the bound gateways; istio does not check
        // them, so these findings carry no istio code.
        for section in ["http", "tcp", "tls"] {
            let Some(rules) = raw(res, &format!("spec.{section}")).and_then(Node::as_seq) else {
                continue;
            };
            for (i, rule) in rules.iter().enumerate() {
                let Some(matches) = rule.get("match").and_then(Node::as_seq) else {
                    continue;
                };
                for (j, m) in matches.iter().enumerate() {
                    for (k, g) in raw_strings(m.get("gateways")) {
                        let path = FieldPath::parse("spec")
                            .key(section)
                            .index(i)
                            .key("match")
                            .index(j)
                            .key("gateways")
                            .index(k);
                        self.gateway_ref(id, ns, &g, path, false);
                    }
                }
            }
        }
    }

    fn destination_host(
        &mut self,
        id: ResId,
        ns: &str,
        viewers: &Viewers,
        d: &routes::RouteDest,
        what: &str,
    ) {
        let host = fqdn(&d.host, ns);
        if !self.hosts.resolve(&host, viewers).is_empty() {
            return;
        }
        let expanded = if host != d.host {
            format!(" (istiod expands `{}` to `{host}`)", d.host)
        } else {
            String::new()
        };
        let declared = self.hosts.declaring(&host);
        if let Some(first) = declared.first() {
            let owner = first.label(self.store());
            let by = if first.is_wildcard() && !first.host.eq_ignore_ascii_case(&host) {
                format!(
                    "is only covered by wildcard host `{}` of {owner}",
                    first.host
                )
            } else {
                format!("is declared by {owner}")
            };
            let message = format!(
                "{what} `{}`{expanded} {by}, but its exportTo ({}) hides it from {} where this VirtualService applies, so istiod drops the route there",
                d.host,
                first.export.describe(),
                viewers.describe()
            );
            let (res, path) = (first.resource, first.path.clone());
            self.cx
                .report(id, d.host_path(), message)
                .istio(&["IST0101"])
                .help(format!(
                    "export {owner} to the VirtualService's namespace (`exportTo` or the `networking.istio.io/exportTo` annotation), or move the VirtualService"
                ))
                .related(res, path, "declared here");
            return;
        }
        let target_ns = k8s_service_of(&host).map(|(_, n)| n.to_string());
        let present = match &target_ns {
            Some(n) => self.hosts.namespace_has_hosts(n),
            None => true,
        };
        let suggestion = self.hosts.suggest(&host, ns).map(|s| {
            // Suggest in the form the author used: a short name for a short name.
            match k8s_service_of(&s) {
                Some((name, sns)) if is_short(&d.host) && sns == ns => name.to_string(),
                _ => s,
            }
        });
        let mut message = format!(
            "{what} `{}`{expanded} is not declared by any Service or ServiceEntry in the input",
            d.host
        );
        if let Some(s) = &suggestion {
            message.push_str(&format!(" (did you mean `{s}`?)"));
        }
        if !present {
            message.push_str(&format!(
                "; namespace {} has no Services in the input, so it may be deployed from elsewhere",
                target_ns.as_deref().unwrap_or(ns)
            ));
        } else {
            message.push_str("; requests routed here fail with 503 (no cluster)");
        }
        let help = match &suggestion {
            Some(s) => format!("use `{s}`, or add the Service or ServiceEntry for `{host}`"),
            None => format!(
                "add a Service or ServiceEntry for `{host}`, or fix the host (short names are resolved in the VirtualService's namespace)"
            ),
        };
        self.cx
            .report(id, d.host_path(), message)
            .severity(partial(present))
            .istio(&["IST0101"])
            .help(help);
    }

    fn subset(
        &mut self,
        id: ResId,
        ns: &str,
        viewers: &Viewers,
        d: &routes::RouteDest,
        subset: &str,
    ) {
        let host = fqdn(&d.host, ns);
        let host_ns: Option<String> =
            k8s_service_of(&host)
                .map(|(_, n)| n.to_string())
                .or_else(|| {
                    self.hosts
                        .resolve(&host, viewers)
                        .first()
                        .map(|e| e.namespace.clone())
                });
        let chosen = effective_drs(&self.drs, &host, ns, host_ns.as_deref(), &self.root_ns);
        if chosen.iter().any(|e| e.subsets.iter().any(|s| s == subset)) {
            return;
        }
        if self.hosts.declaring(&host).is_empty() && self.drs.for_host(&host).is_empty() {
            // The unknown host is reported already; its subset adds nothing.
            return;
        }
        let path = d.path.clone().key("subset");
        if chosen.is_empty() {
            let elsewhere: Vec<&DrEntry> = self
                .drs
                .for_host(&host)
                .into_iter()
                .filter(|e| e.subsets.iter().any(|s| s == subset))
                .collect();
            let mut message = format!(
                "{SUBSET} `{subset}` of `{host}`: no DestinationRule that applies in namespace {ns} defines subsets for this host, so istiod has no `outbound|...|{subset}|{host}` cluster and requests routed here fail with 503"
            );
            let mut related = None;
            if let Some(e) = elsewhere.first() {
                let r = self.store().get(e.id);
                message.push_str(&format!(
                    " (DestinationRule {}/{} defines it, but istiod only uses DestinationRules from the client's namespace, the host's namespace or the root namespace {}, exported to {ns})",
                    r.namespace, r.name, self.root_ns
                ));
                related = Some(e.id);
            }
            let rep = self
                .cx
                .report(id, path, message)
                .istio(&["IST0101"])
                .help(format!(
                    "add a DestinationRule for `{host}` with a subset `{subset}` (labels selecting those pods), or drop `subset`"
                ));
            if let Some(r) = related {
                rep.related(r, FieldPath::parse("spec.subsets"), "defines the subset");
            }
            return;
        }
        let defined: Vec<&str> = chosen
            .iter()
            .flat_map(|e| e.subsets.iter().map(String::as_str))
            .collect();
        let names: Vec<String> = chosen
            .iter()
            .map(|e| {
                let r = self.store().get(e.id);
                format!("{}/{}", r.namespace, r.name)
            })
            .collect();
        let suggestion = defined
            .iter()
            .map(|s| (strsim::damerau_levenshtein(s, subset), *s))
            .filter(|(dist, s)| *dist <= 2 && s.len().min(subset.len()) >= 4)
            .min()
            .map(|(_, s)| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let message = format!(
            "{SUBSET} `{subset}` of `{host}` is not defined by DestinationRule {}, the one istiod applies for this host in namespace {ns} (it defines {}){suggestion}; requests routed here fail with 503",
            names.join(", "),
            if defined.is_empty() {
                "no subsets".to_string()
            } else {
                defined.join(", ")
            }
        );
        let first = chosen[0].id;
        self.cx
            .report(id, path, message)
            .severity(Severity::Error)
            .istio(&["IST0101"])
            .help(format!(
                "add subset `{subset}` to that DestinationRule, or route to a defined subset"
            ))
            .related(
                first,
                FieldPath::parse("spec.subsets"),
                "the subsets istiod knows",
            );
    }

    fn gateway_ref(&mut self, id: ResId, ns: &str, g: &str, path: FieldPath, top: bool) {
        if g == "mesh" {
            return;
        }
        if routes::is_internal_gateway_ref(g) {
            self.cx
                .report(
                    id,
                    path,
                    format!(
                        "{GATEWAY} `{g}` is the internal name istiod generates for a Kubernetes Gateway API listener; it is not a stable API and changes when the Gateway or listener is renamed"
                    ),
                )
                .istio(if top { &["IST0165"] } else { &[] })
                .help("bind to the Gateway API Gateway by its own name (`ns/name`), or use an HTTPRoute/TCPRoute attached to it");
            return;
        }
        let (gns, gname) = routes::resolve_gateway_ref(g, ns);
        if self.gateways.contains(&(gns.clone(), gname.clone())) {
            return;
        }
        let present = self.gateway_namespaces.contains(&gns);
        let candidates: Vec<&(String, String)> = self
            .gateways
            .iter()
            .take(if self.gateways.len() <= 2000 {
                usize::MAX
            } else {
                0
            })
            .filter(|(n, name)| {
                *n == gns && strsim::damerau_levenshtein(name, &gname) <= 2
                    || (*n != gns && *name == gname)
            })
            .collect();
        let hint = match candidates.first() {
            Some((n, name)) if *n == ns => format!(" (did you mean `{name}`?)"),
            Some((n, name)) => format!(" (did you mean `{n}/{name}`?)"),
            None => String::new(),
        };
        let mut message =
            format!("{GATEWAY} `{g}` (Gateway {gns}/{gname}) is not in the input{hint}");
        if present || gns == ns {
            message.push_str(if top {
                "; istiod ignores the binding, so no gateway serves this VirtualService's routes"
            } else {
                "; this match never applies"
            });
        } else {
            message.push_str(&format!(
                "; namespace {gns} has no Gateways in the input, so it may be deployed from elsewhere"
            ));
        }
        let codes: &'static [&'static str] = if top { &["IST0101", "IST0132"] } else { &[] };
        self.cx
            .report(id, path, message)
            .severity(partial(present || gns == ns))
            .istio(codes)
            .help("name an existing Gateway as `name` (same namespace) or `namespace/name`, or `mesh` for sidecars");
    }

    fn destination_rule(&mut self, id: ResId, res: &'a Resource, dr: &'a DestinationRule) {
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
            let target_ns = k8s_service_of(&host).map(|(_, n)| n.to_string());
            let present = target_ns
                .as_deref()
                .is_none_or(|n| self.hosts.namespace_has_hosts(n));
            let expanded = if host != dr.host {
                format!(" (expanded to `{host}`)")
            } else {
                String::new()
            };
            let hint = self
                .hosts
                .suggest(&host, ns)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            self.cx
                .report(
                    id,
                    FieldPath::parse("spec.host"),
                    format!(
                        "host `{}`{expanded} matches no Service or ServiceEntry visible from {}{hint}, so this DestinationRule configures nothing",
                        dr.host,
                        viewers.describe()
                    ),
                )
                .severity(partial(present))
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
        let matches = |labels: &BTreeMap<String, String>| {
            subset_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
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
        self.cx
            .report(
                id,
                path,
                format!(
                    "{SUBSET} `{name}` ({sel}) selects none of the {} workload(s) of {} in the input (they have {}); requests routed to this subset fail with 503 (no healthy upstream)",
                    endpoints.len(),
                    sources.join(", "),
                    have.join("; ")
                ),
            )
            .severity(Severity::Error)
            .istio(&["IST0173"])
            .help("make the subset labels match the pod template labels of the version it stands for, or remove the subset");
    }

    fn selector_in_namespace(
        &mut self,
        id: ResId,
        res: &Resource,
        selector: &BTreeMap<String, String>,
        path: FieldPath,
        what: &str,
    ) {
        let ns = res.namespace.as_str();
        if !self.workloads.matching(selector, Some(ns)).is_empty() {
            return;
        }
        let sel = selector_text(selector);
        let present = self.workloads.namespace_has_workloads(ns);
        let elsewhere: Vec<String> = self
            .workloads
            .matching(selector, None)
            .into_iter()
            .map(|w| label(self.store(), w))
            .take(3)
            .collect();
        let mut message = format!(
            "{what} `{sel}` matches no workload in namespace {ns}, so this {} applies to nothing",
            res.kind
        );
        if !elsewhere.is_empty() {
            message.push_str(&format!(
                " ({} match, but a {} only selects workloads in its own namespace)",
                elsewhere.join(", "),
                res.kind
            ));
        } else if !present {
            message.push_str(&format!(
                "; namespace {ns} has no workloads in the input, so they may be deployed from elsewhere"
            ));
        }
        self.cx
            .report(id, path, message)
            .severity(partial(present || !elsewhere.is_empty()))
            .istio(&["IST0101"])
            .help(format!(
                "make the labels match the pod template labels of the intended workload, or move the {} to that workload's namespace",
                res.kind
            ));
    }

    fn sidecar(&mut self, id: ResId, res: &'a Resource) {
        let Spec::Sidecar(sc) = &res.spec else {
            return;
        };
        if let Some(sel) = &sc.workload_selector
            && !sel.labels.is_empty()
        {
            let first = sel.labels.keys().next().cloned().unwrap_or_default();
            self.selector_in_namespace(
                id,
                res,
                &sel.labels,
                FieldPath::parse("spec.workloadSelector.labels").key(first),
                "workloadSelector",
            );
        }
        let ns = res.namespace.as_str();
        for (i, l) in sc.egress.iter().enumerate() {
            for (j, entry) in l.hosts.iter().enumerate() {
                let Some((hns, host)) = entry.split_once('/') else {
                    continue;
                };
                if host.contains('*') || is_short(host) || hns == "~" {
                    continue;
                }
                let target_ns = match hns {
                    "." => Some(ns),
                    "*" => None,
                    other => Some(other),
                };
                let declared = self.hosts.declaring(host);
                let ok = declared.iter().any(|e| {
                    target_ns.is_none_or(|t| e.namespace == t) && e.export.visible_from(ns)
                });
                if ok {
                    continue;
                }
                let present = target_ns.is_none_or(|t| self.hosts.namespace_has_hosts(t));
                let where_ = match target_ns {
                    Some(t) => format!("namespace {t}"),
                    None => "any namespace".into(),
                };
                let hint = self
                    .hosts
                    .suggest(host, target_ns.unwrap_or(ns))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let other = declared
                    .first()
                    .map(|e| {
                        format!(
                            "; it is declared by {} (exported to {}), which this entry does not import",
                            e.label(self.store()),
                            e.export.describe()
                        )
                    })
                    .unwrap_or_default();
                self.cx
                    .report(
                        id,
                        FieldPath::parse("spec.egress")
                            .index(i)
                            .key("hosts")
                            .index(j),
                        format!(
                            "egress host `{host}` is not declared in {where_} by any Service or ServiceEntry visible to namespace {ns}{hint}{other}; proxies selected by this Sidecar get no route for it"
                        ),
                    )
                    .severity(partial(present))
                    .istio(&[])
                    .help("use `<namespace>/<FQDN>` of a declared host, or a wildcard such as `./*` or `istio-system/*`");
            }
        }
    }

    fn telemetry(&mut self, id: ResId, res: &'a Resource) {
        let sel = crate::model::string_map(raw(res, "spec.selector.matchLabels"));
        if sel.is_empty() {
            return;
        }
        let first = sel.keys().next().cloned().unwrap_or_default();
        self.selector_in_namespace(
            id,
            res,
            &sel,
            FieldPath::parse("spec.selector.matchLabels").key(first),
            "selector",
        );
    }

    fn authorization_policy(
        &mut self,
        id: ResId,
        res: &'a Resource,
        known: &BTreeSet<&str>,
        declared: bool,
    ) {
        let Some(rules) = raw(res, "spec.rules").and_then(Node::as_seq) else {
            return;
        };
        for (i, rule) in rules.iter().enumerate() {
            let Some(froms) = rule.get("from").and_then(Node::as_seq) else {
                continue;
            };
            for (j, from) in froms.iter().enumerate() {
                let source = from.get("source");
                for field in ["namespaces", "notNamespaces"] {
                    for (k, pattern) in raw_strings(source.and_then(|s| s.get(field))) {
                        if known
                            .iter()
                            .any(|ns| namespace_pattern_matches(&pattern, ns))
                        {
                            continue;
                        }
                        let path = FieldPath::parse("spec.rules")
                            .index(i)
                            .key("from")
                            .index(j)
                            .key("source")
                            .key(field)
                            .index(k);
                        let effect = if field == "namespaces" {
                            "it allows or denies no caller"
                        } else {
                            "it excludes nothing"
                        };
                        let basis = if declared {
                            "no Namespace in the input"
                        } else {
                            "no namespace of any resource in the input (the input has no Namespace objects)"
                        };
                        self.cx
                            .report(
                                id,
                                path,
                                format!("namespace `{pattern}` in `{field}` matches {basis}, so {effect}"),
                            )
                            .severity(if declared { Severity::Warning } else { Severity::Info })
                            .istio(&["IST0101"])
                            .help("fix the namespace name or pattern (`prefix*`, `*suffix`, `*`)");
                    }
                }
            }
        }
    }

    fn gateway_secrets(
        &mut self,
        id: ResId,
        res: &'a Resource,
        secrets: &BTreeSet<(String, String)>,
        secret_namespaces: &BTreeSet<String>,
    ) {
        let Spec::Gateway(gw) = &res.spec else {
            return;
        };
        let workloads = self.cx.graph.gateway_workloads(id);
        if workloads.is_empty() {
            // MESH501 reports the missing workload; without it the secret's namespace is unknown.
            return;
        }
        let mut namespaces: Vec<String> = workloads
            .iter()
            .map(|&w| self.store().get(w).namespace.clone())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        for (i, server) in gw.servers.iter().enumerate() {
            let Some(cn) = server
                .tls
                .as_ref()
                .and_then(|t| t.get("credentialName"))
                .and_then(|c| c.as_str())
                .filter(|c| !c.is_empty() && !c.contains("://"))
            else {
                continue;
            };
            if namespaces
                .iter()
                .any(|ns| secrets.contains(&(ns.clone(), cn.to_string())))
            {
                continue;
            }
            let present = namespaces.iter().any(|ns| secret_namespaces.contains(ns));
            let elsewhere: Vec<String> = secrets
                .iter()
                .filter(|(_, n)| n == cn)
                .map(|(ns, _)| ns.clone())
                .collect();
            let mut message = format!(
                "credentialName `{cn}`: no Secret `{cn}` in namespace {} where the gateway workload runs; the gateway cannot load the certificate and refuses TLS on this server",
                namespaces.join(", ")
            );
            if !elsewhere.is_empty() {
                message.push_str(&format!(
                    " (a Secret `{cn}` exists in namespace {}, but a Gateway reads secrets from its workload's namespace)",
                    elsewhere.join(", ")
                ));
            } else if !present {
                message.push_str(&format!(
                    "; namespace {} has no Secrets or Certificates in the input, so the secret may be created elsewhere",
                    namespaces.join(", ")
                ));
            }
            self.cx
                .report(
                    id,
                    FieldPath::parse("spec.servers")
                        .index(i)
                        .key("tls")
                        .key("credentialName"),
                    message,
                )
                .severity(partial(present || !elsewhere.is_empty()))
                .istio(&["IST0101"])
                .help(format!(
                    "create the TLS Secret `{cn}` in namespace {} (for example with a cert-manager Certificate there)",
                    namespaces[0]
                ));
        }
    }
}

impl Rule for DanglingReference {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mesh = &cx.settings.mesh;
        let hosts = HostIndex::build(store, mesh);
        let drs = DrIndex::build(store, &mesh.default_destination_rule_export_to);
        let root_ns = mesh
            .root_namespace
            .clone()
            .unwrap_or_else(|| "istio-system".to_string());
        let mut gateways = BTreeSet::new();
        let mut gateway_namespaces = BTreeSet::new();
        for (_, r) in store.iter() {
            if matches!(r.spec, Spec::Gateway(_)) || routes::is_k8s_gateway(r) {
                gateways.insert((r.namespace.clone(), r.name.clone()));
                gateway_namespaces.insert(r.namespace.clone());
            }
        }
        let mut known_namespaces: BTreeSet<&str> = BTreeSet::new();
        let mut declared_namespaces = false;
        for (_, r) in store.iter() {
            known_namespaces.insert(r.namespace.as_str());
            declared_namespaces |= matches!(r.spec, Spec::Namespace);
        }
        let (secret_names, secret_namespaces) = secrets(store);
        let nodes = store
            .iter()
            .filter(|(_, r)| r.kind == "Node")
            .map(|(_, r)| (r.name.as_str(), r.labels.clone()))
            .collect();
        let mut workload_entries: HashMap<&str, Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::WorkloadEntry(_)) {
                workload_entries
                    .entry(r.namespace.as_str())
                    .or_default()
                    .push(id);
            }
        }
        let mut checker = Checker {
            cx,
            nodes,
            workload_entries,
            hosts,
            workloads: Workloads::build(store),
            drs,
            root_ns,
            gateways,
            gateway_namespaces,
        };
        for (id, res) in store.iter() {
            match &res.spec {
                Spec::VirtualService(_) => checker.virtual_service(id, res),
                Spec::DestinationRule(dr) => checker.destination_rule(id, res, dr),
                Spec::Sidecar(_) => checker.sidecar(id, res),
                Spec::Gateway(_) => {
                    checker.gateway_secrets(id, res, &secret_names, &secret_namespaces)
                }
                _ if res.kind == "Telemetry"
                    && res.api_version.starts_with("telemetry.istio.io/") =>
                {
                    checker.telemetry(id, res)
                }
                _ if res.kind == "AuthorizationPolicy"
                    && res.api_version.starts_with("security.istio.io/") =>
                {
                    checker.authorization_policy(id, res, &known_namespaces, declared_namespaces)
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::findings_of("MESH503", text)
    }

    fn summary(f: &[Finding]) -> Vec<(u32, Severity, Vec<&'static str>)> {
        f.iter()
            .map(|f| (f.location.line, f.severity, f.istio_codes.clone()))
            .collect()
    }

    #[test]
    fn export_to_hides_a_service_from_other_namespaces() {
        let text = "\
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: default
  annotations: {networking.istio.io/exportTo: banana}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: banana}
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: default}
spec:
  hosts: [details]
  exportTo: [bogus]
  http:
  - route:
    - destination: {host: details}
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![
                (16, Severity::Warning, vec!["IST0101"]),
                (35, Severity::Warning, vec!["IST0101"]),
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message.contains("exportTo (namespace banana)"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].related.len(), 1);
    }

    #[test]
    fn wildcard_service_entries_and_partial_inputs() {
        let text = "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: eu, namespace: default}
spec: {hosts: ['*.eu.example.com'], ports: [{number: 443, name: tls, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  tls:
  - match: [{sniHosts: [a.example.com]}]
    route:
    - destination: {host: shop.eu.example.com}
    - destination: {host: api.payments.svc.cluster.local}
    - {}
";
        let f = run(text);
        // The payments namespace has nothing in the input: info. The empty destination: warning.
        assert_eq!(
            summary(&f),
            vec![
                (15, Severity::Info, vec!["IST0101"]),
                (16, Severity::Warning, vec!["IST0101"]),
            ],
            "{f:#?}"
        );
    }

    #[test]
    fn subsets_follow_destination_rule_precedence() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets: [{name: v1}, {name: v2}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-local, namespace: frontend}
spec:
  host: reviews.bookinfo.svc.cluster.local
  subsets: [{name: v1}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: frontend}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: other}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}
    mirror: {host: reviews.bookinfo.svc.cluster.local, subset: v3}
";
        let f = run(text);
        // frontend's own DestinationRule wins there and lacks v2; `other` uses bookinfo's.
        assert_eq!(
            summary(&f),
            vec![
                (27, Severity::Error, vec!["IST0101"]),
                (37, Severity::Error, vec!["IST0101"]),
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message.contains("frontend/reviews-local"),
            "{}",
            f[0].message
        );
        assert!(f[1].message.starts_with("subset `v3`"), "{}", f[1].message);
    }

    #[test]
    fn subset_labels_use_service_workloads_and_node_topology() {
        let text = "\
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {topology.kubernetes.io/region: us-west-1, topology.kubernetes.io/zone: us-west-1a}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin, namespace: default, labels: {app: httpbin, version: v1}}
spec: {nodeName: n1, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other, version: v2}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  subsets:
  - {name: west, labels: {topology.kubernetes.io/zone: us-west-1a}}
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
";
        let f = run(text);
        // v2 only exists on a pod that is not behind the Service.
        assert_eq!(
            summary(&f),
            vec![(30, Severity::Error, vec!["IST0173"])],
            "{f:#?}"
        );
        assert!(f[0].message.contains("version: v1"), "{}", f[0].message);
    }

    #[test]
    fn selectors_namespaces_and_secrets() {
        let text = "\
apiVersion: v1
kind: Namespace
metadata: {name: httpbin}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews, namespace: default, labels: {app: reviews}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: other}
spec:
  workloadSelector: {labels: {app: reviews}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: default}
spec:
  selector: {matchLabels: {app: bogus}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: httpbin}
spec:
  rules:
  - from:
    - source: {namespaces: [httpbin, 'http*', '*-bogus']}
---
apiVersion: v1
kind: Pod
metadata: {name: gw, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: cert}
    hosts: ['*']
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![
                (14, Severity::Warning, vec!["IST0101"]),
                (20, Severity::Warning, vec!["IST0101"]),
                (28, Severity::Warning, vec!["IST0101"]),
                (46, Severity::Warning, vec!["IST0101"]),
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message.contains("Pod default/reviews match"),
            "{}",
            f[0].message
        );
        assert!(
            f[3].message.contains("exists in namespace default"),
            "{}",
            f[3].message
        );
    }

    #[test]
    fn gateway_references() {
        let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: k8s-gw, namespace: default}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: ['*']
  gateways:
  - mesh
  - k8s-gw
  - default/k8s-gw
  - k8s-gw.default.svc.cluster.local
  - k8s-gwx
  - edge/main
  - istio-ingress/gateway~istio-autogenerated-k8s-gateway~http
  tcp:
  - match: [{gateways: [nope]}]
    route: [{destination: {host: a.example.com}}]
";
        let f: Vec<Finding> = run(text)
            .into_iter()
            .filter(|f| f.message.starts_with("gateway"))
            .collect();
        assert_eq!(
            summary(&f),
            vec![
                (16, Severity::Warning, vec!["IST0101", "IST0132"]),
                (17, Severity::Info, vec!["IST0101", "IST0132"]),
                (18, Severity::Warning, vec!["IST0165"]),
                (20, Severity::Warning, vec![]),
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message.contains("did you mean `k8s-gw`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn sidecar_egress_hosts() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: bookinfo}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: hidden, namespace: bookinfo, annotations: {networking.istio.io/exportTo: .}}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: frontend}
spec:
  egress:
  - hosts:
    - bookinfo/ratings.bookinfo.svc.cluster.local
    - '*/ratings.bookinfo.svc.cluster.local'
    - ./*
    - bookinfo/hidden.bookinfo.svc.cluster.local
    - payments/api.payments.svc.cluster.local
    - bookinfo/ratings
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![
                (20, Severity::Warning, vec![]),
                (21, Severity::Info, vec![])
            ],
            "{f:#?}"
        );
    }

    #[test]
    fn fixtures() {
        let bad = crate::rules::fixture("MESH503", "bad.yaml");
        let f = run(&bad);
        let got: Vec<(String, u32)> = f
            .iter()
            .map(|f| (f.resource.to_string(), f.location.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("VirtualService default/tcp-echo".into(), 59),
                ("VirtualService default/tcp-echo".into(), 66),
                ("DestinationRule default/tcp-echo-destination".into(), 82),
            ],
            "{f:#?}"
        );
        let good = crate::rules::fixture("MESH503", "good.yaml");
        assert!(run(&good).is_empty(), "{:#?}", run(&good));
    }
}
