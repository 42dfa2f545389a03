//! The Kubernetes Gateway API as istiod reads it: Gateways with their generated deployment and
//! listeners (`gateways`), route attachment (`attach`), backends and ReferenceGrants
//! (`backends`), conflicts between routes (`l4`) and the status a conforming controller would
//! write (`status`). Built once per run, in input order, with lookups by key.

pub mod attach;
pub mod backends;
pub mod crds;
pub mod gateways;
pub mod l4;
pub mod status;
pub mod tls;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::mesh::hosts::HostIndex;
use crate::model::gateway_api::{BackendRef, GROUP, RouteFilter, RouteKind};
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

use attach::{ParentTarget, ParentView};
use backends::{BackendView, Grants};
use gateways::GatewayView;

/// The label Kubernetes puts on every Namespace (and istio assumes when it is missing).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The Namespace objects of the input.
#[derive(Default)]
pub struct Namespaces {
    labels: HashMap<String, BTreeMap<String, String>>,
}

impl Namespaces {
    fn build(store: &Store) -> Self {
        let labels = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
            .map(|(_, r)| (r.name.clone(), r.labels.clone()))
            .collect();
        Self { labels }
    }

    /// Whether the input has Namespace objects at all (then the list is taken as complete).
    pub fn declared(&self) -> bool {
        !self.labels.is_empty()
    }

    pub fn contains(&self, ns: &str) -> bool {
        self.labels.contains_key(ns)
    }

    /// The labels of a Namespace of the input, with the name label istio adds when missing.
    pub fn labels(&self, ns: &str) -> Option<BTreeMap<String, String>> {
        let mut labels = self.labels.get(ns)?.clone();
        labels
            .entry(NAMESPACE_NAME_LABEL.into())
            .or_insert_with(|| ns.into());
        Some(labels)
    }

    /// The labels every namespace has.
    pub fn implicit(ns: &str) -> BTreeMap<String, String> {
        [(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())]
            .into_iter()
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct RouteView {
    pub id: ResId,
    pub kind: RouteKind,
    pub parents: Vec<ParentView>,
    pub backends: Vec<BackendView>,
}

impl RouteView {
    /// The backend whose problem istiod reports as the route's `ResolvedRefs=False`, with the
    /// reason. Rules are converted in order and the last rule with an error decides; within a
    /// rule the last unresolved backendRef of non-zero weight, else a mirror's error. A backend
    /// istiod cannot convert at all (`InvalidDestination`) stops the conversion there and is
    /// the one reported (`buildHTTPDestination`, `buildTCPDestination`, `convertHTTPRoute` in
    /// istio's `pilot/pkg/config/kube/gateway/conversion.go`; `computeRoute` in
    /// `route_collections.go`).
    pub fn unresolved(&self) -> Option<(&BackendView, &'static str)> {
        let mut found: Option<(&BackendView, &'static str)> = None;
        let mut rule: Option<(usize, Option<(&BackendView, &'static str)>)> = None;
        for b in &self.backends {
            if rule.as_ref().is_some_and(|(r, _)| *r != b.rule) {
                found = rule.take().and_then(|(_, e)| e).or(found);
            }
            let (_, err) = rule.get_or_insert((b.rule, None));
            let Some(p) = &b.problem else { continue };
            let Some(reason) = p.reason() else { continue };
            if !b.resolved_by_istiod() {
                continue;
            }
            if b.mirror {
                // A backend's error outranks a mirror's in the rule.
                if err.is_none_or(|(e, _)| e.mirror) {
                    *err = Some((b, reason));
                }
                continue;
            }
            if !p.soft() {
                return Some((b, reason));
            }
            *err = Some((b, reason));
        }
        rule.and_then(|(_, e)| e).or(found)
    }

    pub fn parent_path(&self, index: usize) -> FieldPath {
        FieldPath::parse("spec.parentRefs").index(index)
    }

    /// Whether istiod programs the route: a parent is a Gateway of istio's class, or a
    /// Service (a mesh route) or a parent the input lacks, in an input that uses Istio. Routes
    /// of other controllers (Consul, Envoy Gateway, ...) follow their own rules.
    pub fn istio_programs(&self, api: &GatewayApi) -> bool {
        self.parents.iter().any(|p| match &p.target {
            ParentTarget::Gateway(i) => api.gateways[*i].class.routes_converted(),
            ParentTarget::Service(_) | ParentTarget::Missing { .. } => api.istio_mesh,
            ParentTarget::Foreign(_) => false,
        })
    }
}

/// The Gateway API view of the input.
pub struct GatewayApi {
    pub gateways: Vec<GatewayView>,
    pub routes: Vec<RouteView>,
    pub grants: Grants,
    pub namespaces: Namespaces,
    /// Whether the input uses Istio rather than another mesh (`mesh_is_istio`).
    pub istio_mesh: bool,
    gateway_by_key: HashMap<(String, String), usize>,
    /// (kind, namespace, name) → object, for Services, ServiceEntries, Secrets and ConfigMaps.
    objects: HashMap<(&'static str, String, String), ResId>,
    /// (kind, namespace) that have objects in the input.
    kinds: HashSet<(&'static str, String)>,
    /// Hosts declared by Services and ServiceEntries → a declaring resource.
    hosts: HashMap<String, ResId>,
    wildcard_hosts: Vec<(String, ResId)>,
    /// Gateways (namespace, name) that ListenerSets of the input add listeners to; meshlint
    /// does not model those listeners, so a route it cannot attach there is not judged.
    pub extended: HashSet<(String, String)>,
}

fn kind_key(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Service" => "Service",
        "ServiceEntry" => "ServiceEntry",
        "Secret" => "Secret",
        "Gateway" => "Gateway",
        "ConfigMap" => "ConfigMap",
        _ => return None,
    })
}

/// The `RequestMirror` backendRefs of `filters` written under `at`, with their paths.
fn mirrors<'a>(filters: &'a [RouteFilter], at: &FieldPath) -> Vec<(FieldPath, &'a BackendRef)> {
    filters
        .iter()
        .enumerate()
        .filter_map(|(fi, f)| {
            let m = f.request_mirror.as_ref()?;
            let path = at.clone().key("filters").index(fi);
            Some((path.key("requestMirror").key("backendRef"), &m.backend_ref))
        })
        .collect()
}

impl GatewayApi {
    pub fn build(store: &Store, host_index: &HostIndex) -> Self {
        let gateways = gateways::gateways(store);
        let gateway_by_key = gateways
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let r = store.get(g.id);
                ((r.namespace.clone(), r.name.clone()), i)
            })
            .collect();
        let mut objects = HashMap::new();
        let mut kinds = HashSet::new();
        for (id, r) in store.iter() {
            let kind = match &r.spec {
                Spec::Service(_) => "Service",
                Spec::ServiceEntry(_) => "ServiceEntry",
                Spec::K8sGateway(_) => "Gateway",
                _ if r.kind == "Secret" && r.api_version == "v1" => "Secret",
                _ if r.kind == "ConfigMap" && r.api_version == "v1" => "ConfigMap",
                _ => continue,
            };
            objects.insert((kind, r.namespace.clone(), r.name.clone()), id);
            kinds.insert((kind, r.namespace.clone()));
        }
        let mut hosts = HashMap::new();
        let mut wildcard_hosts = Vec::new();
        for e in &host_index.entries {
            if e.is_wildcard() {
                wildcard_hosts.push((e.host.clone(), e.resource));
            } else {
                hosts
                    .entry(e.host.to_ascii_lowercase())
                    .or_insert(e.resource);
            }
        }
        let extended = store
            .iter()
            .filter(|(_, r)| {
                r.kind == "ListenerSet" && r.api_version.starts_with("gateway.networking.k8s.io/")
            })
            .filter_map(|(_, r)| {
                let name = crate::model::raw::raw(r, "spec.parentRef.name")?.as_str()?;
                let ns = crate::model::raw::raw(r, "spec.parentRef.namespace")
                    .and_then(crate::source::Node::as_str)
                    .unwrap_or(&r.namespace);
                Some((ns.to_string(), name.to_string()))
            })
            .collect();
        let mut api = GatewayApi {
            gateways,
            routes: Vec::new(),
            grants: Grants::build(store),
            namespaces: Namespaces::build(store),
            istio_mesh: crate::mesh::injection::mesh_is_istio(store),
            gateway_by_key,
            objects,
            kinds,
            hosts,
            wildcard_hosts,
            extended,
        };
        for (id, r) in store.iter() {
            let Spec::Route(kind, route) = &r.spec else {
                continue;
            };
            let parents = api.parents(store, id, *kind, route);
            let enforce = route
                .parent_refs
                .iter()
                .any(|p| p.kind() == "Gateway" && p.group() == GROUP);
            let mut backends = Vec::new();
            for (ri, rule) in route.rules.iter().enumerate() {
                let rule_path = FieldPath::parse("spec.rules").index(ri);
                // `createMirrorFilter` resolves a mirror's backend like a backendRef.
                for (bi, b) in rule.backend_refs.iter().enumerate() {
                    let at = rule_path.clone().key("backendRefs").index(bi);
                    for (mat, m) in mirrors(&b.filters, &at) {
                        backends.push(api.backend(store, id, (mat, ri, true), m, enforce));
                    }
                    backends.push(api.backend(store, id, (at, ri, false), b, enforce));
                }
                for (mat, m) in mirrors(&rule.filters, &rule_path) {
                    backends.push(api.backend(store, id, (mat, ri, true), m, enforce));
                }
            }
            api.routes.push(RouteView {
                id,
                kind: *kind,
                parents,
                backends,
            });
        }
        api.record_certificate_grants(store);
        api.resolve_listener_tls(store);
        api
    }

    pub fn gateway_index(&self, ns: &str, name: &str) -> Option<usize> {
        self.gateway_by_key
            .get(&(ns.to_string(), name.to_string()))
            .copied()
    }

    /// The gateway view of a Gateway resource.
    pub fn gateway_of(&self, store: &Store, id: ResId) -> Option<&GatewayView> {
        let r = store.get(id);
        self.gateway_index(&r.namespace, &r.name)
            .map(|i| &self.gateways[i])
    }

    /// A Service, ServiceEntry, Secret, ConfigMap or Gateway of the input by namespace and name.
    pub fn object(&self, kind: &str, ns: &str, name: &str) -> Option<ResId> {
        self.objects
            .get(&(kind_key(kind)?, ns.to_string(), name.to_string()))
            .copied()
    }

    /// Whether the input has objects of `kind` in `ns`.
    pub fn kind_in_namespace(&self, kind: &str, ns: &str) -> bool {
        kind_key(kind).is_some_and(|k| self.kinds.contains(&(k, ns.to_string())))
    }

    /// A Service or ServiceEntry declaring `host` (istio's `LookupHostname`).
    fn hosts_declaring(&self, host: &str) -> Option<ResId> {
        self.hosts
            .get(&host.to_ascii_lowercase())
            .copied()
            .or_else(|| {
                self.wildcard_hosts
                    .iter()
                    .find(|(w, _)| crate::mesh::hosts::hosts_match(w, host))
                    .map(|&(_, id)| id)
            })
    }

    /// Listener `certificateRefs` to Secrets of other namespaces use grants from Gateways.
    fn record_certificate_grants(&mut self, store: &Store) {
        for g in &self.gateways {
            let r = store.get(g.id);
            let Spec::K8sGateway(spec) = &r.spec else {
                continue;
            };
            for (li, l) in spec.listeners.iter().enumerate() {
                let Some(tls) = &l.tls else { continue };
                for (ci, c) in tls.certificate_refs.iter().enumerate() {
                    let Some(ns) = c.namespace.as_deref().filter(|ns| *ns != r.namespace) else {
                        continue;
                    };
                    let to = (
                        c.group.as_deref().unwrap_or(""),
                        c.kind.as_deref().unwrap_or("Secret"),
                        c.name.as_str(),
                        ns,
                    );
                    if let Some(grant) = self.grants.allows(store, "Gateway", &r.namespace, to) {
                        let path = FieldPath::parse("spec.listeners")
                            .index(li)
                            .key("tls")
                            .key("certificateRefs")
                            .index(ci);
                        self.grants.record(grant, g.id, path);
                    }
                }
            }
        }
    }

    /// Routes attached to each listener: (gateway index, listener index) → routes.
    pub fn attached(&self) -> BTreeMap<(usize, usize), Vec<usize>> {
        let mut out: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (ri, r) in self.routes.iter().enumerate() {
            for p in &r.parents {
                if let (
                    attach::ParentTarget::Gateway(g),
                    attach::ParentResult::Accepted { listeners, .. },
                ) = (&p.target, &p.result)
                {
                    for &l in listeners {
                        let routes = out.entry((*g, l)).or_default();
                        if routes.last() != Some(&ri) {
                            routes.push(ri);
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
