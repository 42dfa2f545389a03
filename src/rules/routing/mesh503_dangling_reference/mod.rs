//! MESH503 dangling-reference: references from Istio resources to hosts, subsets, gateways,
//! workloads, namespaces and secrets that the input does not have (istio's IST0101 family,
//! IST0173 and IST0174).
//!
//! Every lookup goes through an index built once: hosts (`hosts::HostIndex`), workloads by
//! label (`workloads::Workloads`) and DestinationRules by host (`destination_rules::DrIndex`)
//! come from the run's shared indexes; gateways and secrets by name are built here. The checks
//! share them, one submodule per resource kind.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::{FieldPath, Node};

use crate::mesh::destination_rules::DrIndex;
use crate::mesh::hosts::{DeclKind, HostIndex};
use crate::mesh::routes;
use crate::mesh::workloads::{Workloads, selector_text};
use crate::model::raw::{label, raw};
use crate::rules::{Context, Peer, Rule, RuleMeta};

use unmodelled::Unmodelled;

mod authorization_policy;
mod destination_rule;
mod gateway;
mod sidecar;
mod telemetry;
mod unmodelled;
mod virtual_service;

#[cfg(test)]
mod tests;

pub struct DanglingReference;

static META: RuleMeta = RuleMeta {
    code: "MESH503",
    name: "dangling-reference",
    summary: "a route, subset, gateway, selector, namespace or secret reference points at nothing in the input",
    severity: Severity::Warning,
    istio_codes: &[
        "IST0101", "IST0127", "IST0132", "IST0165", "IST0173", "IST0174",
    ],
    kiali_codes: &["KIA0101", "KIA0203", "KIA1004", "KIA1102", "KIA1107"],
    opt_in: false,
    doc: include_str!("../../../../rules/MESH503-dangling-reference.md"),
};

/// Message openings shared by the checks that report them.
const DESTINATION_HOST: &str = "destination host";
const MIRROR_HOST: &str = "mirror host";
const SUBSET: &str = "subset";
const GATEWAY: &str = "gateway";

/// (DestinationRule, subset) → the VirtualService and the `subset` field of its first route there.
type RoutedSubsets = HashMap<(ResId, String), (ResId, FieldPath)>;

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

/// Severity for "X is not in the input": info when the namespace it would be in has nothing of
/// that kind in the input.
fn partial(present: bool) -> Severity {
    if present {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// Whether a Service fronts a gateway rather than an application: it selects a workload an Istio
/// Gateway applies to, has a Gateway's selector, selects `istio: …gateway` pods (istio's gateway
/// charts) or is the Service istio deploys for a Gateway API Gateway.
fn is_gateway_service(
    cx: &Context<'_>,
    id: ResId,
    res: &Resource,
    gateway_selectors: &HashSet<&BTreeMap<String, String>>,
) -> bool {
    const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";
    let Spec::Service(svc) = &res.spec else {
        return false;
    };
    let selector = svc.spec.selector.as_ref();
    res.labels.contains_key(GATEWAY_NAME)
        || selector.is_some_and(|sel| {
            sel.contains_key(GATEWAY_NAME)
                || sel.get("istio").is_some_and(|v| v.ends_with("gateway"))
                || gateway_selectors.contains(sel)
        })
        || cx
            .graph
            .selected_workloads(id)
            .into_iter()
            .any(|w| !cx.graph.gateways_of(w).is_empty())
}

/// Namespaces whose declared hosts are all gateway Services, with those Services: the input has
/// the gateway installation there, not the applications routes name.
fn gateway_only_namespaces(cx: &Context<'_>) -> HashMap<String, Vec<ResId>> {
    let store = cx.store;
    let gateway_selectors: HashSet<&BTreeMap<String, String>> = store
        .iter()
        .filter_map(|(_, r)| match &r.spec {
            Spec::Gateway(g) if !g.selector.is_empty() => Some(&g.selector),
            _ => None,
        })
        .collect();
    let mut gateway: HashMap<String, Vec<ResId>> = HashMap::new();
    let mut other: HashSet<&str> = HashSet::new();
    for e in &cx.index.hosts.entries {
        let res = store.get(e.resource);
        if e.kind == DeclKind::Service
            && is_gateway_service(cx, e.resource, res, &gateway_selectors)
        {
            gateway
                .entry(e.namespace.clone())
                .or_default()
                .push(e.resource);
        } else {
            other.insert(&e.namespace);
        }
    }
    gateway.retain(|ns, _| !other.contains(ns.as_str()));
    gateway
}

fn peer_services<'a>(peers: &'a [Peer<'a>]) -> HashMap<(&'a str, &'a str), (usize, ResId)> {
    let mut out = HashMap::new();
    for (i, p) in peers.iter().enumerate() {
        for (id, r) in p.store.iter() {
            if matches!(r.spec, Spec::Service(_)) {
                out.entry((r.namespace.as_str(), r.name.as_str()))
                    .or_insert((i, id));
            }
        }
    }
    out
}

struct Checker<'a, 'c> {
    cx: &'c mut Context<'a>,
    /// Node labels by Node name, for topology labels of Pods.
    nodes: HashMap<&'a str, BTreeMap<String, String>>,
    /// WorkloadEntries by namespace.
    workload_entries: HashMap<&'a str, Vec<ResId>>,
    hosts: &'a HostIndex,
    workloads: &'a Workloads<'a>,
    drs: &'a DrIndex,
    root_ns: String,
    gateways: BTreeSet<(String, String)>,
    gateway_namespaces: BTreeSet<String>,
    routed: RoutedSubsets,
    /// Namespaces whose only Services are gateways' (see [`gateway_only_namespaces`]).
    gateway_only: HashMap<String, Vec<ResId>>,
    unmodelled: Unmodelled,
    /// The Services of the other clusters of a multi-cluster run, by (namespace, name), with
    /// their cluster's index: the first one found, clusters in name order.
    peer_services: HashMap<(&'a str, &'a str), (usize, ResId)>,
}

impl<'a> Checker<'a, '_> {
    fn store(&self) -> &'a Store {
        self.cx.store
    }

    /// Why namespace `ns` looks absent from the input when a host there is not declared:
    /// `None` when it has Services (the missing host is then likely a mistake).
    fn missing_services(&self, ns: &str) -> Option<String> {
        if !self.hosts.namespace_has_hosts(ns) {
            return Some(format!("namespace {ns} has no Services in the input"));
        }
        let gateways: Vec<String> = self
            .gateway_only
            .get(ns)?
            .iter()
            .map(|&g| label(self.store(), g))
            .take(3)
            .collect();
        Some(format!(
            "namespace {ns} has no Services in the input but the gateway's ({})",
            gateways.join(", ")
        ))
    }

    /// The workload selector of a Sidecar or Telemetry: it only selects workloads in the
    /// resource's own namespace.
    fn selector_in_namespace(
        &mut self,
        id: ResId,
        res: &Resource,
        selector: &BTreeMap<String, String>,
        path: FieldPath,
        (what, istio): (&str, &'static [&'static str]),
    ) {
        let ns = res.namespace.as_str();
        if !self.workloads.matching(selector, Some(ns)).is_empty() {
            return;
        }
        let sel = selector_text(selector);
        let present = self.workloads.namespace_has_workloads(ns);
        let matches = self.workloads.matching(selector, None);
        // A resource without `metadata.namespace` gets one from `kubectl apply -n` or kustomize:
        // when it or the workloads it matches leave it unset, where they meet is not known.
        let unset = !res.namespace_explicit
            || (!matches.is_empty()
                && matches
                    .iter()
                    .all(|&w| !self.store().get(w).namespace_explicit));
        let elsewhere: Vec<String> = matches
            .into_iter()
            .map(|w| label(self.store(), w))
            .take(3)
            .collect();
        let mut message = format!(
            "{what} `{sel}` matches no workload in namespace {ns}, so this {} applies to nothing",
            res.kind
        );
        if !elsewhere.is_empty() && unset {
            message.push_str(&format!(
                " ({} match, but the input leaves the namespace of the {} or of those workloads unset, so whether they meet depends on the namespace they are applied to)",
                elsewhere.join(", "),
                res.kind
            ));
        } else if !elsewhere.is_empty() {
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
        let severity = if !elsewhere.is_empty() && unset {
            Severity::Info
        } else {
            partial(present || !elsewhere.is_empty())
        };
        self.cx
            .report(id, path, message)
            .subkind("workload-selector")
            .severity(severity)
            .istio(istio)
            .help(format!(
                "make the labels match the pod template labels of the intended workload, or move the {} to that workload's namespace",
                res.kind
            ));
    }
}

impl Rule for DanglingReference {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let peers = cx.peers;
        let mesh = &cx.settings.mesh;
        let index = cx.index;
        let root_ns = mesh.root_namespace().to_string();
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
        let gateway_only = gateway_only_namespaces(cx);
        let mut checker = Checker {
            cx,
            nodes,
            workload_entries,
            hosts: &index.hosts,
            workloads: &index.workloads,
            drs: &index.destination_rules,
            root_ns,
            gateways,
            gateway_namespaces,
            routed: RoutedSubsets::new(),
            gateway_only,
            unmodelled: Unmodelled::build(store),
            peer_services: peer_services(peers),
        };
        checker.routed = checker.routed_subsets();
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
