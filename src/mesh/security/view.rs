//! Both ends of every mesh connection the input describes: the mode each workload port
//! accepts, what clients send to each Service port, and whether the two fit. Shared by the
//! mTLS rules and `meshlint mtls`.

use std::collections::{BTreeSet, HashMap};

use crate::mesh::destination_rules::DrIndex;
use crate::mesh::graph::MeshGraph;
use crate::mesh::hosts::{CLUSTER_DOMAIN, fqdn};
use crate::mesh::settings::MeshSettings;
use crate::model::{ResId, Resource, Spec, Store};

use super::client::{self, Configured, Lookup};
use super::mode::{ClientMode, ServerMode, mismatch};
use super::peer::{Level, PeerAuthns, Resolved};
use super::ports::{self, Sidecar};

/// One workload port and the mode its sidecar accepts.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub workload: ResId,
    pub port: i64,
    /// `None` when the workload has no sidecar (it accepts what the application speaks).
    pub mode: Option<ServerMode>,
    pub level: Level,
    pub policy: Option<ResId>,
    pub sidecar: Sidecar,
}

/// Which clients a row is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Clients {
    /// Clients in this namespace.
    Namespace(String),
    /// Clients in every namespace not listed in other rows of the destination.
    Others,
}

/// What a destination's servers are: one workload port, or every workload of a namespace
/// that no workload policy selects (when no workload in the input stands for them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Server {
    Workload { workload: ResId, target: i64 },
    Namespace(String),
}

/// What clients send to one destination port and what the server does with it.
#[derive(Clone, Debug)]
pub struct Outbound {
    /// The host clients call, e.g. `reviews.shop.svc.cluster.local` or `*.shop.svc.cluster.local`.
    pub host: String,
    /// The Service and the index of its port, for a concrete destination.
    pub service: Option<(ResId, usize)>,
    pub port: i64,
    pub server: Server,
    pub clients: Clients,
    pub configured: Configured,
    /// What is sent once auto mTLS is resolved, and why.
    pub sends: ClientMode,
    pub why: Option<String>,
    pub accepts: Option<ServerMode>,
    /// The PeerAuthentication that set `accepts`, and its level.
    pub policy: (Level, Option<ResId>),
    pub sidecar: Sidecar,
    /// What goes wrong, when the two do not fit.
    pub problem: Option<&'static str>,
}

/// The mTLS view of the input.
pub struct MtlsView {
    pub peers: PeerAuthns,
    pub inbound: Vec<Inbound>,
    pub outbound: Vec<Outbound>,
}

fn namespaces(store: &Store) -> HashMap<&str, &Resource> {
    store
        .iter()
        .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
        .map(|(_, r)| (r.name.as_str(), r))
        .collect()
}

/// The namespaces whose clients may see a different DestinationRule for `host`: those of the
/// rules that cover it, and the host's own.
fn client_namespaces(store: &Store, drs: &DrIndex, host: &str, host_ns: &str) -> Vec<Clients> {
    let mut set: BTreeSet<String> = drs
        .for_host(host)
        .into_iter()
        .filter(|e| client::spec(store, e.id).workload_selector.is_none())
        .map(|e| e.namespace.clone())
        .collect();
    set.insert(host_ns.to_string());
    let mut out: Vec<Clients> = set.into_iter().map(Clients::Namespace).collect();
    out.push(Clients::Others);
    out
}

/// A client namespace no rule lives in, for [`Clients::Others`]: only rules exported to every
/// namespace reach it.
const OTHER_NS: &str = "\u{0}other";

impl MtlsView {
    pub fn build(store: &Store, graph: &MeshGraph, drs: &DrIndex, settings: &MeshSettings) -> Self {
        let root = settings.mesh.root_namespace();
        let auto = settings.mesh.auto_mtls();
        let peers = PeerAuthns::build(store, root);
        let nss = namespaces(store);
        let mut inbound = Vec::new();
        let mut outbound = Vec::new();
        let mut with_workloads: BTreeSet<&str> = BTreeSet::new();
        for (id, r) in store.iter() {
            if r.workload().is_none() {
                continue;
            }
            with_workloads.insert(r.namespace.as_str());
            let resolved = peers.for_workload(store, r);
            let sidecar = ports::sidecar(store, r, nss.get(r.namespace.as_str()).copied());
            let has = |s: &Sidecar| match s {
                Sidecar::Yes(_) => Some(true),
                Sidecar::No(_) => Some(false),
                Sidecar::Ambient | Sidecar::Unknown(_) => None,
            };
            let accepts = |port: i64| -> (Option<ServerMode>, Level, Option<ResId>) {
                let (m, level, from) = resolved.port(port);
                match sidecar {
                    Sidecar::No(_) => (None, level, from),
                    _ => (Some(m), level, from),
                }
            };
            for port in ports::served(store, graph, id) {
                let (mode, level, policy) = accepts(port);
                inbound.push(Inbound {
                    workload: id,
                    port,
                    mode,
                    level,
                    policy,
                    sidecar: sidecar.clone(),
                });
            }
            let ns_mode = peers.namespace_level(store, &r.namespace).mode;
            for e in ports::exposed(store, graph, id) {
                let svc = store.get(e.service);
                let host = fqdn(&svc.name, &svc.namespace);
                let (accepts, level, policy) = accepts(e.target);
                for clients in client_namespaces(store, drs, &host, &svc.namespace) {
                    let client_ns = match &clients {
                        Clients::Namespace(ns) => ns.as_str(),
                        Clients::Others => OTHER_NS,
                    };
                    let lookup = Lookup {
                        host: &host,
                        host_ns: Some(&svc.namespace),
                        port: e.port,
                        client_ns,
                    };
                    let configured = client::configured(store, drs, root, auto, &lookup);
                    outbound.push(row(
                        (host.clone(), Some((e.service, e.index)), e.port),
                        Server::Workload {
                            workload: id,
                            target: e.target,
                        },
                        clients,
                        configured,
                        (accepts, (level, policy)),
                        (ns_mode, sidecar.clone(), has(&sidecar)),
                    ));
                }
            }
        }
        outbound.extend(namespace_rows(store, drs, &peers, &with_workloads, auto));
        Self {
            peers,
            inbound,
            outbound,
        }
    }

    /// The rows where client and server do not fit.
    pub fn mismatches(&self) -> impl Iterator<Item = &Outbound> {
        self.outbound.iter().filter(|o| o.problem.is_some())
    }
}

fn row(
    (host, service, port): (String, Option<(ResId, usize)>, i64),
    server: Server,
    clients: Clients,
    configured: Configured,
    (accepts, policy): (Option<ServerMode>, (Level, Option<ResId>)),
    (ns_mode, sidecar, has_sidecar): (ServerMode, Sidecar, Option<bool>),
) -> Outbound {
    let (sends, why) = match configured.mode {
        ClientMode::Auto => {
            let (m, why) = client::auto_sends(ns_mode, has_sidecar);
            (m, Some(why))
        }
        m => (m, None),
    };
    Outbound {
        host,
        service,
        port,
        server,
        clients,
        configured,
        sends,
        why,
        accepts,
        policy,
        sidecar,
        problem: mismatch(sends, accepts),
    }
}

/// Namespace-wide rows: for every namespace with a namespace-wide policy or a DestinationRule
/// covering all its hosts, and no workload in the input, what clients send to
/// `*.NS.svc.cluster.local` and what its workloads accept; the root namespace stands for
/// every namespace without a policy of its own.
fn namespace_rows(
    store: &Store,
    drs: &DrIndex,
    peers: &PeerAuthns,
    with_workloads: &BTreeSet<&str>,
    auto: bool,
) -> Vec<Outbound> {
    let mut set: BTreeSet<String> = peers
        .wide_namespaces()
        .into_iter()
        .map(str::to_string)
        .collect();
    set.insert(peers.root().to_string());
    for (_, r) in store.iter() {
        if let Spec::DestinationRule(dr) = &r.spec
            && let Some(ns) = fqdn(&dr.host, &r.namespace)
                .strip_prefix("*.")
                .and_then(|h| h.strip_suffix(CLUSTER_DOMAIN))
                .and_then(|h| h.strip_suffix('.'))
            && !ns.is_empty()
            && !ns.contains('.')
        {
            set.insert(ns.to_string());
        }
    }
    let mut out = Vec::new();
    for ns in set {
        if with_workloads.contains(ns.as_str()) {
            continue;
        }
        let resolved: Resolved = peers.namespace_level(store, &ns);
        let host = format!("*.{ns}.{CLUSTER_DOMAIN}");
        for clients in client_namespaces(store, drs, &host, &ns) {
            let client_ns = match &clients {
                Clients::Namespace(c) => c.as_str(),
                Clients::Others => OTHER_NS,
            };
            let lookup = Lookup {
                host: &host,
                host_ns: Some(&ns),
                port: 0,
                client_ns,
            };
            let configured = client::configured(store, drs, peers.root(), auto, &lookup);
            out.push(row(
                (host.clone(), None, 0),
                Server::Namespace(ns.clone()),
                clients,
                configured,
                (Some(resolved.mode), resolved.mode_from),
                (
                    resolved.mode,
                    Sidecar::Unknown("no workload of the input serves it"),
                    None,
                ),
            ));
        }
    }
    out
}
