//! PeerAuthentication resolution per workload and port, as istiod does it
//! (`ComposePeerAuthentication` in `pilot/pkg/security/authn/policy_applier.go`, the policy
//! lists of `pilot/pkg/model/authentication.go`):
//!
//! - a selector-less policy in the root namespace is mesh-wide, one elsewhere namespace-wide;
//!   a policy with a selector is workload-wide, except in the root namespace, where istiod
//!   ignores it;
//! - within each level the oldest policy wins (creation time, then name, then namespace);
//! - UNSET (or no `mtls`) inherits: workload from namespace, namespace from mesh, mesh from
//!   the default PERMISSIVE; an UNSET `portLevelMtls` entry takes the workload's mode;
//! - `portLevelMtls` is keyed by the port the workload listens on (the endpoint port, the
//!   Service's `targetPort`), `GetMutualTLSModeForPort(endpointPort)`.

use std::collections::{BTreeMap, HashMap};

use crate::model::security::PeerAuthentication;
use crate::model::{ResId, Resource, Spec, Store};

use super::mode::ServerMode;

/// The PeerAuthentications of the input by namespace, oldest first.
pub struct PeerAuthns {
    root: String,
    /// Selector-less policies per namespace (the root namespace's are mesh-wide).
    wide: HashMap<String, Vec<ResId>>,
    /// Policies with a selector per namespace (none for the root namespace).
    selected: HashMap<String, Vec<ResId>>,
}

/// Where a workload port's mode comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Default,
    Mesh,
    Namespace,
    Workload,
    Port,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Default => "default",
            Level::Mesh => "mesh-wide",
            Level::Namespace => "namespace-wide",
            Level::Workload => "workload",
            Level::Port => "port-level",
        }
    }
}

/// The policies that apply to one workload (or to a namespace, without a workload policy) and
/// the mode they give.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub mesh: Option<ResId>,
    pub namespace: Option<ResId>,
    pub workload: Option<ResId>,
    /// The mode of ports without a port-level entry.
    pub mode: ServerMode,
    /// The policy that set `mode`, and at which level.
    pub mode_from: (Level, Option<ResId>),
    /// `portLevelMtls` of the workload policy, by endpoint port.
    pub per_port: BTreeMap<i64, ServerMode>,
}

impl Resolved {
    /// The mode of endpoint port `port` and the policy that decided it.
    pub fn port(&self, port: i64) -> (ServerMode, Level, Option<ResId>) {
        match self.per_port.get(&port) {
            Some(&m) => (m, Level::Port, self.workload),
            None => (self.mode, self.mode_from.0, self.mode_from.1),
        }
    }
}

pub fn spec(store: &Store, id: ResId) -> &PeerAuthentication {
    match &store.get(id).spec {
        Spec::PeerAuthentication(pa) => pa,
        _ => unreachable!("only PeerAuthentications are indexed"),
    }
}

/// istiod's config order: oldest first (no creation time last), then name, then namespace.
pub fn istiod_order(store: &Store, ids: &mut [ResId]) {
    ids.sort_by(|&a, &b| {
        let (ra, rb) = (store.get(a), store.get(b));
        (ra.created.is_none(), ra.created, &ra.name, &ra.namespace).cmp(&(
            rb.created.is_none(),
            rb.created,
            &rb.name,
            &rb.namespace,
        ))
    });
}

/// A `portLevelMtls` key as istio reads it: a port number 1-65535.
pub fn port_key(key: &str) -> Option<i64> {
    key.trim()
        .parse::<i64>()
        .ok()
        .filter(|p| (1..=65535).contains(p))
}

impl PeerAuthns {
    pub fn build(store: &Store, root: &str) -> Self {
        let mut wide: HashMap<String, Vec<ResId>> = HashMap::new();
        let mut selected: HashMap<String, Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if let Spec::PeerAuthentication(pa) = &r.spec {
                if pa.match_labels().is_empty() {
                    wide.entry(r.namespace.clone()).or_default().push(id);
                } else if r.namespace != root {
                    selected.entry(r.namespace.clone()).or_default().push(id);
                }
            }
        }
        for list in wide.values_mut().chain(selected.values_mut()) {
            istiod_order(store, list);
        }
        Self {
            root: root.to_string(),
            wide,
            selected,
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// Selector-less policies of `ns`, oldest (the one in force) first.
    pub fn namespace_wide(&self, ns: &str) -> &[ResId] {
        self.wide.get(ns).map_or(&[], Vec::as_slice)
    }

    /// Policies with a selector in `ns`, oldest first.
    pub fn with_selector(&self, ns: &str) -> &[ResId] {
        self.selected.get(ns).map_or(&[], Vec::as_slice)
    }

    /// Namespaces that have a selector-less policy, sorted.
    pub fn wide_namespaces(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.wide.keys().map(String::as_str).collect();
        out.sort_unstable();
        out
    }

    /// The workload-level policies selecting `labels` in `ns`, oldest (the one in force) first.
    pub fn selecting(
        &self,
        store: &Store,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Vec<ResId> {
        self.with_selector(ns)
            .iter()
            .copied()
            .filter(|&id| {
                spec(store, id)
                    .match_labels()
                    .iter()
                    .all(|(k, v)| labels.get(k) == Some(v))
            })
            .collect()
    }

    /// The mode of workloads in `ns` that no workload policy selects.
    pub fn namespace_level(&self, store: &Store, ns: &str) -> Resolved {
        self.compose(store, ns, None)
    }

    /// The policies and mode of workload `res`.
    pub fn for_workload(&self, store: &Store, res: &Resource) -> Resolved {
        match res.workload() {
            Some(w) => self.for_labels(store, &res.namespace, &w.pod_labels),
            None => self.namespace_level(store, &res.namespace),
        }
    }

    /// The policies and mode of a workload with pod labels `labels` in `ns`.
    pub fn for_labels(
        &self,
        store: &Store,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Resolved {
        let workload = self
            .selecting(store, ns, labels)
            .first()
            .copied()
            .filter(|_| ns != self.root);
        self.compose(store, ns, workload)
    }

    fn compose(&self, store: &Store, ns: &str, workload: Option<ResId>) -> Resolved {
        let mesh = self.namespace_wide(&self.root).first().copied();
        let namespace = if ns == self.root {
            None
        } else {
            self.namespace_wide(ns).first().copied()
        };
        let mut mode = ServerMode::Permissive;
        let mut mode_from = (Level::Default, None);
        for (level, id) in [
            (Level::Mesh, mesh),
            (Level::Namespace, namespace),
            (Level::Workload, workload),
        ] {
            let Some(id) = id else { continue };
            if let Some(m) = spec(store, id).mode().and_then(ServerMode::parse) {
                mode = m;
                mode_from = (level, Some(id));
            }
        }
        let mut per_port = BTreeMap::new();
        if let Some(id) = workload {
            for (key, mtls) in &spec(store, id).port_level_mtls {
                if let Some(port) = port_key(key) {
                    let m = mtls.set_mode().and_then(ServerMode::parse).unwrap_or(mode);
                    per_port.insert(port, m);
                }
            }
        }
        Resolved {
            mesh,
            namespace,
            workload,
            mode,
            mode_from,
            per_port,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    fn store(text: &str) -> Store {
        let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        store
    }

    const WORKLOAD: &str = "
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: app, image: a, ports: [{containerPort: 8080}]}]}
";

    fn pa(name: &str, ns: &str, created: &str, body: &str) -> String {
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: \"{created}\"}}\nspec: {body}\n"
        )
    }

    fn resolve(text: &str) -> (Store, Resolved) {
        let s = store(text);
        let pod = s.iter().find(|(_, r)| r.kind == "Pod").expect("pod").1;
        let r = PeerAuthns::build(&s, "istio-system").for_workload(&s, pod);
        (s, r)
    }

    #[test]
    fn without_policies_the_mode_is_permissive() {
        let (_, r) = resolve(WORKLOAD);
        assert_eq!(r.port(8080), (ServerMode::Permissive, Level::Default, None));
    }

    #[test]
    fn narrower_levels_win_and_unset_inherits() {
        let text = format!(
            "{WORKLOAD}{}{}{}",
            pa(
                "mesh",
                "istio-system",
                "2024-01-01T00:00:00Z",
                "{mtls: {mode: STRICT}}"
            ),
            pa(
                "ns",
                "shop",
                "2024-01-01T00:00:00Z",
                "{mtls: {mode: UNSET}}"
            ),
            pa(
                "api",
                "shop",
                "2024-01-01T00:00:00Z",
                "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"9000\": {mode: DISABLE}, \"8080\": {}}}"
            ),
        );
        let (s, r) = resolve(&text);
        let name = |id: Option<ResId>| id.map(|i| s.get(i).name.clone());
        // UNSET at namespace and workload level: the mesh's STRICT comes through.
        assert_eq!(r.mode, ServerMode::Strict);
        assert_eq!(r.mode_from.0, Level::Mesh);
        assert_eq!(name(r.workload).as_deref(), Some("api"));
        // An UNSET port entry takes the workload's mode; a set one its own.
        assert_eq!(r.port(8080).0, ServerMode::Strict);
        assert_eq!(r.port(8080).1, Level::Port);
        assert_eq!(r.port(9000).0, ServerMode::Disable);
        assert_eq!(r.port(7000).1, Level::Mesh);
    }

    #[test]
    fn the_oldest_policy_of_a_level_wins_and_root_selectors_are_ignored() {
        let text = format!(
            "{WORKLOAD}{}{}{}",
            pa(
                "newer",
                "shop",
                "2024-02-01T00:00:00Z",
                "{mtls: {mode: DISABLE}}"
            ),
            pa(
                "older",
                "shop",
                "2024-01-01T00:00:00Z",
                "{mtls: {mode: STRICT}}"
            ),
            pa(
                "root-selector",
                "istio-system",
                "2023-01-01T00:00:00Z",
                "{selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}"
            ),
        );
        let (s, r) = resolve(&text);
        assert_eq!(r.mode, ServerMode::Strict);
        assert_eq!(r.mode_from.1.map(|i| s.get(i).name.as_str()), Some("older"));
        assert_eq!(r.workload, None);
    }

    #[test]
    fn port_keys_are_port_numbers() {
        assert_eq!(port_key("8080"), Some(8080));
        assert_eq!(port_key("0"), None);
        assert_eq!(port_key("http"), None);
        assert_eq!(port_key("70000"), None);
    }
}
