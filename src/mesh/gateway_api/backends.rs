//! Route backends and ReferenceGrants: what each `backendRefs` entry names, whether istiod
//! resolves it (`buildDestination` in istio's `pilot/pkg/config/kube/gateway/conversion.go`),
//! and which ReferenceGrant permits a cross-namespace reference
//! (`gatewaycommon/references.go`).

use std::collections::HashMap;

use crate::model::gateway_api::{BackendRef, GROUP, ReferenceGrant};
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

use super::GatewayApi;

/// Why a backend does not resolve, with the spec reason istiod reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendProblem {
    /// `RefNotPermitted`: another namespace, and no ReferenceGrant there allows it.
    NotPermitted,
    /// `BackendNotFound`: no such Service (or host). `kind_in_namespace` as for parents.
    NotFound { kind_in_namespace: bool },
    /// `InvalidKind`: a kind istiod cannot route to.
    InvalidKind,
    /// istiod's `InvalidDestination`: a host name instead of a Service name, no port, or a
    /// namespace on a `Hostname` reference.
    Invalid(&'static str),
    /// Resolved, but the Service has no such port: istiod accepts the route and the
    /// requests fail (a route to a cluster that does not exist answers 500).
    PortMissing,
}

impl BackendProblem {
    /// Whether istiod drops the backend and keeps converting the route (`isInvalidBackend`),
    /// rather than giving up on the route at this reference.
    pub fn soft(&self) -> bool {
        !matches!(self, BackendProblem::Invalid(_))
    }

    /// The `ResolvedRefs=False` reason, when istiod reports one.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            BackendProblem::NotPermitted => Some("RefNotPermitted"),
            BackendProblem::NotFound { .. } => Some("BackendNotFound"),
            BackendProblem::InvalidKind => Some("InvalidKind"),
            BackendProblem::Invalid(_) => Some("InvalidDestination"),
            BackendProblem::PortMissing => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct BackendView {
    /// Where it is written: `spec.rules[i].backendRefs[j]`, or a mirror filter's
    /// `spec.rules[i].filters[j].requestMirror.backendRef`.
    pub at: FieldPath,
    /// A request mirror: its requests are copies whose answers are discarded.
    pub mirror: bool,
    /// Index of the rule in `spec.rules`.
    pub rule: usize,
    /// `weight` (1 when unset); istiod does not resolve a backendRef of weight 0.
    pub weight: i64,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub port: Option<i64>,
    /// The Service or ServiceEntry it resolves to.
    pub target: Option<ResId>,
    pub problem: Option<BackendProblem>,
    /// The ReferenceGrant that permits it, for a cross-namespace reference.
    pub grant: Option<ResId>,
}

impl BackendView {
    pub fn path(&self) -> FieldPath {
        self.at.clone()
    }

    /// Whether istiod resolves the reference: `buildHTTPDestination` and
    /// `buildTCPDestination` skip a backendRef of weight 0, which receives no requests.
    pub fn resolved_by_istiod(&self) -> bool {
        self.mirror || self.weight != 0
    }
}

/// ReferenceGrants by namespace, and which `from` entries the input uses.
#[derive(Default)]
pub struct Grants {
    by_namespace: HashMap<String, Vec<ResId>>,
    /// (grant, from index) → a reference that uses it.
    pub used: HashMap<(ResId, usize), (ResId, FieldPath)>,
}

impl Grants {
    pub fn build(store: &Store) -> Self {
        let mut by_namespace: HashMap<String, Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::ReferenceGrant(_)) {
                by_namespace
                    .entry(r.namespace.clone())
                    .or_default()
                    .push(id);
            }
        }
        Self {
            by_namespace,
            used: HashMap::new(),
        }
    }

    /// The grant in `to_ns` that lets a `from_kind` in `from_ns` reference the `to` object, and
    /// the `from` entry that matched. Each ReferenceGrant is read whole, as the spec's
    /// `from`×`to` product.
    pub fn allows(
        &self,
        store: &Store,
        from_kind: &str,
        from_ns: &str,
        (to_group, to_kind, to_name, to_ns): (&str, &str, &str, &str),
    ) -> Option<(ResId, usize)> {
        let norm = |g: &str| {
            if g == "core" {
                String::new()
            } else {
                g.to_string()
            }
        };
        for &g in self.by_namespace.get(to_ns)? {
            let Spec::ReferenceGrant(grant) = &store.get(g).spec else {
                continue;
            };
            let to_ok = grant.to.iter().any(|t| {
                norm(&t.group) == norm(to_group)
                    && t.kind == to_kind
                    && t.name.as_deref().is_none_or(|n| n == to_name)
            });
            if !to_ok {
                continue;
            }
            if let Some(i) = grant
                .from
                .iter()
                .position(|f| f.group == GROUP && f.kind == from_kind && f.namespace == from_ns)
            {
                return Some((g, i));
            }
        }
        None
    }

    /// Whether the input has ReferenceGrants in `ns`.
    pub fn any_in(&self, ns: &str) -> bool {
        self.by_namespace.contains_key(ns)
    }

    pub fn record(&mut self, grant: (ResId, usize), by: ResId, path: FieldPath) {
        self.used.entry(grant).or_insert((by, path));
    }
}

/// The kinds a grant's `from` can name that meshlint reads references of; a grant from other
/// kinds is not judged.
pub fn modelled_from(kind: &str) -> bool {
    matches!(
        kind,
        "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" | "UDPRoute" | "Gateway"
    )
}

/// The ReferenceGrant of a resource.
pub fn grant(store: &Store, id: ResId) -> Option<&ReferenceGrant> {
    match &store.get(id).spec {
        Spec::ReferenceGrant(g) => Some(g),
        _ => None,
    }
}

/// The Kubernetes multi-cluster services API group (istiod's `MCS_API_GROUP` default,
/// `pilot/pkg/features/experimental.go`).
const MCS_API_GROUP: &str = "multicluster.x-k8s.io";

impl GatewayApi {
    /// `buildDestination` for one backendRef of a route in `ns`; `enforce`: the route has a
    /// Gateway parent (istiod checks ReferenceGrants only for those, not for mesh routes).
    pub(super) fn backend(
        &mut self,
        store: &Store,
        route: ResId,
        (at, rule, mirror): (FieldPath, usize, bool),
        b: &BackendRef,
        enforce: bool,
    ) -> BackendView {
        let r = store.get(route);
        let ns = r.namespace.as_str();
        let namespace = b.namespace.clone().unwrap_or_else(|| ns.to_string());
        let mut view = BackendView {
            at,
            mirror,
            rule,
            weight: b.weight.unwrap_or(1),
            kind: b.kind().to_string(),
            namespace: namespace.clone(),
            name: b.name.clone(),
            port: b.port,
            target: None,
            problem: None,
            grant: None,
        };
        let path = view.path();
        if namespace != ns {
            let to = (b.group(), b.kind(), b.name.as_str(), namespace.as_str());
            match self.grants.allows(store, &r.kind, ns, to) {
                Some(g) => {
                    self.grants.record(g, route, path.clone().key("namespace"));
                    view.grant = Some(g.0);
                }
                None if enforce => {
                    view.problem = Some(BackendProblem::NotPermitted);
                    return view;
                }
                None => {}
            }
        }
        let group = b.group();
        match (group, b.kind()) {
            ("" | "core", "Service") => {
                if b.name.contains('.') {
                    view.problem = Some(BackendProblem::Invalid(
                        "service name invalid; the name of the Service must be used, not the hostname",
                    ));
                    return view;
                }
                view.target = self.object("Service", &namespace, &b.name);
                if view.target.is_none() {
                    view.problem = Some(BackendProblem::NotFound {
                        kind_in_namespace: self.kind_in_namespace("Service", &namespace),
                    });
                }
            }
            // A multi-cluster ServiceImport resolves to the Service of its name and namespace
            // (`buildDestination`, whichever host form `ENABLE_MCS_HOST` picks).
            (MCS_API_GROUP, "ServiceImport") => {
                view.target = self.object("Service", &namespace, &b.name);
                if view.target.is_none() {
                    view.problem = Some(BackendProblem::NotFound {
                        kind_in_namespace: self.kind_in_namespace("Service", &namespace),
                    });
                }
            }
            ("networking.istio.io", "Hostname") => {
                if b.namespace.is_some() {
                    view.problem = Some(BackendProblem::Invalid(
                        "namespace may not be set with Hostname type",
                    ));
                    return view;
                }
                view.target = self.hosts_declaring(&b.name);
                if view.target.is_none() {
                    view.problem = Some(BackendProblem::NotFound {
                        kind_in_namespace: true,
                    });
                }
            }
            _ => {
                view.problem = Some(BackendProblem::InvalidKind);
                return view;
            }
        }
        match b.port {
            None => view.problem = Some(BackendProblem::Invalid("port is required in backendRef")),
            Some(p) if view.problem.is_none() => {
                if let Some(t) = view.target
                    && !self.has_port(store, t, p)
                {
                    view.problem = Some(BackendProblem::PortMissing);
                }
            }
            Some(_) => {}
        }
        view
    }

    fn has_port(&self, store: &Store, id: ResId, port: i64) -> bool {
        match &store.get(id).spec {
            Spec::Service(s) => s.spec.ports.iter().any(|p| p.port == port),
            Spec::ServiceEntry(se) => se.ports.iter().any(|p| p.number == Some(port)),
            _ => true,
        }
    }
}
