//! How istiod names hosts and who sees them: short-name expansion, host matching, `exportTo`,
//! and every host the input declares (Services and ServiceEntries), indexed once per run.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::istio::MeshConfig;
use crate::model::k8s::IntOrString;
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

/// The cluster domain istiod appends to short names.
pub const CLUSTER_DOMAIN: &str = "svc.cluster.local";

/// The annotation that sets a Service's visibility.
pub const EXPORT_TO_ANNOTATION: &str = "networking.istio.io/exportTo";

/// Whether `host` is an IPv4 or IPv6 address (istiod never expands those).
fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// Whether istiod expands `host` with the resource's namespace: not empty, not `*`, not an IP
/// address and without a dot.
pub fn is_short(host: &str) -> bool {
    !host.is_empty() && host != "*" && !host.contains('.') && !is_ip(host)
}

/// istiod's `ResolveShortnameToFQDN`: `reviews` in namespace `shop` is
/// `reviews.shop.svc.cluster.local`; anything with a dot, `*` and IP addresses stay as written.
pub fn fqdn(host: &str, namespace: &str) -> String {
    if is_short(host) {
        format!("{host}.{namespace}.{CLUSTER_DOMAIN}")
    } else {
        host.to_string()
    }
}

/// `(name, namespace)` of a Kubernetes Service FQDN (`name.ns.svc.cluster.local`).
pub fn k8s_service_of(host: &str) -> Option<(&str, &str)> {
    let rest = host.strip_suffix(CLUSTER_DOMAIN)?.strip_suffix('.')?;
    let (name, ns) = rest.split_once('.')?;
    (!name.is_empty() && !ns.is_empty() && !ns.contains('.')).then_some((name, ns))
}

/// Whether `s` ends with `suffix`, ASCII case ignored; a host with non-ASCII characters may
/// not split where the suffix would start.
fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// istio's `host.Name.Matches`: true when either name covers the other (`*` and `*.suffix`
/// wildcards, compared by suffix; otherwise case-insensitive equality).
pub fn hosts_match(a: &str, b: &str) -> bool {
    let wa = a.strip_prefix('*');
    let wb = b.strip_prefix('*');
    let ends = ends_with_ignore_case;
    match (wa, wb) {
        (Some(sa), Some(sb)) => {
            if sa.len() < sb.len() {
                ends(sb, sa)
            } else {
                ends(sa, sb)
            }
        }
        (Some(sa), None) => ends(b, sa),
        (None, Some(sb)) => ends(a, sb),
        (None, None) => a.eq_ignore_ascii_case(b),
    }
}

/// Who sees a resource, from its `exportTo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Export {
    All,
    Namespaces(BTreeSet<String>),
}

impl Export {
    /// `exportTo` as written, else the mesh default, else everywhere; `.` is the resource's own
    /// namespace and `~` nobody.
    pub fn new(written: &[String], own: &str, default: &[String]) -> Export {
        let list = if written.is_empty() { default } else { written };
        if list.is_empty() || list.iter().any(|e| e.trim() == "*") {
            return Export::All;
        }
        Export::Namespaces(
            list.iter()
                .map(|e| e.trim())
                .filter(|e| *e != "~" && !e.is_empty())
                .map(|e| if e == "." { own } else { e }.to_string())
                .collect(),
        )
    }

    pub fn visible_from(&self, ns: &str) -> bool {
        match self {
            Export::All => true,
            Export::Namespaces(set) => set.contains(ns),
        }
    }

    /// Whether some namespace can see the resource.
    pub fn any(&self) -> bool {
        match self {
            Export::All => true,
            Export::Namespaces(set) => !set.is_empty(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Export::All => "every namespace".into(),
            Export::Namespaces(set) if set.is_empty() => "no namespace".into(),
            Export::Namespaces(set) => {
                let list: Vec<&str> = set.iter().map(String::as_str).collect();
                format!("namespace {}", list.join(", "))
            }
        }
    }
}

/// Where a VirtualService or DestinationRule takes effect, for resolving the hosts it names:
/// its own namespace unless `exportTo` says otherwise (istio's analyzers resolve from there);
/// `*` means "some namespace".
#[derive(Clone, Debug)]
pub enum Viewers {
    Any,
    Namespaces(Vec<String>),
}

impl Viewers {
    pub fn of(export_to: &[String], own: &str) -> Viewers {
        if export_to.is_empty() {
            return Viewers::Namespaces(vec![own.to_string()]);
        }
        if export_to.iter().any(|e| e == "*") {
            return Viewers::Any;
        }
        let mut out: Vec<String> = export_to
            .iter()
            .filter(|e| e.as_str() != "~")
            .map(|e| if e == "." { own } else { e.as_str() }.to_string())
            .collect();
        out.sort();
        out.dedup();
        Viewers::Namespaces(out)
    }

    pub fn sees(&self, export: &Export) -> bool {
        match self {
            Viewers::Any => export.any(),
            Viewers::Namespaces(list) => list.iter().any(|ns| export.visible_from(ns)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Viewers::Any => "any namespace".into(),
            Viewers::Namespaces(list) => format!("namespace {}", list.join(", ")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclKind {
    Service,
    ServiceEntry,
}

/// A port of a declared host.
#[derive(Clone, Debug)]
pub struct DeclPort {
    pub number: i64,
    pub name: Option<String>,
    /// Kubernetes L4 protocol (Services) or Istio protocol (ServiceEntries), upper case.
    pub protocol: String,
    pub target_port: Option<IntOrString>,
    /// `spec.ports[i]`.
    pub path: FieldPath,
}

/// One host declared by a Service or a ServiceEntry.
#[derive(Clone, Debug)]
pub struct Declared {
    pub resource: ResId,
    pub kind: DeclKind,
    /// FQDN (Services) or the host as written (ServiceEntries; wildcards keep their `*`).
    pub host: String,
    /// `spec.hosts[i]` for ServiceEntries, `metadata.name` for Services.
    pub path: FieldPath,
    pub namespace: String,
    pub ports: Vec<DeclPort>,
    pub export: Export,
    /// Service selector or ServiceEntry workloadSelector labels.
    pub selector: Option<BTreeMap<String, String>>,
}

impl Declared {
    pub fn is_wildcard(&self) -> bool {
        self.host.starts_with('*')
    }

    pub fn label(&self, store: &Store) -> String {
        let r = store.get(self.resource);
        format!("{} {}/{}", r.kind, r.namespace, r.name)
    }

    pub fn port_list(&self) -> String {
        let ports: Vec<String> = self.ports.iter().map(|p| p.number.to_string()).collect();
        if ports.is_empty() {
            "no ports".into()
        } else {
            ports.join(", ")
        }
    }
}

/// Positions of host-keyed entries: exact hosts by lowercased name, wildcard (`*…`) hosts in a
/// list that lookups scan with their own matching rule.
pub struct ByHost {
    exact: HashMap<String, Vec<usize>>,
    pub wildcard: Vec<usize>,
}

impl ByHost {
    /// Indexes the hosts of entries `0..`, in order.
    pub fn new<'a>(hosts: impl Iterator<Item = &'a str>) -> Self {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcard = Vec::new();
        for (i, host) in hosts.enumerate() {
            if host.starts_with('*') {
                wildcard.push(i);
            } else {
                exact.entry(host.to_ascii_lowercase()).or_default().push(i);
            }
        }
        Self { exact, wildcard }
    }

    /// The entries whose host is `host` exactly (case-insensitive).
    pub fn exact(&self, host: &str) -> &[usize] {
        self.exact
            .get(&host.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// Every host the input declares, indexed by host and by namespace.
pub struct HostIndex {
    pub entries: Vec<Declared>,
    by_host: ByHost,
    by_namespace: HashMap<String, Vec<usize>>,
    /// Kubernetes Services by name (lowercase), across namespaces.
    services_by_name: HashMap<String, Vec<usize>>,
}

/// Above this many candidates, "did you mean" suggestions are skipped so that many dangling
/// references in a huge input stay linear.
const SUGGEST_LIMIT: usize = 2000;

impl HostIndex {
    pub fn build(store: &Store, mesh: &MeshConfig) -> Self {
        let mut entries = Vec::new();
        for (id, r) in store.iter() {
            match &r.spec {
                Spec::Service(svc) => {
                    let written: Vec<String> = r
                        .annotations
                        .get(EXPORT_TO_ANNOTATION)
                        .map(|a| a.split(',').map(|s| s.trim().to_string()).collect())
                        .unwrap_or_default();
                    let ports = svc
                        .spec
                        .ports
                        .iter()
                        .enumerate()
                        .map(|(i, p)| DeclPort {
                            number: p.port,
                            name: p.name.clone(),
                            protocol: p.l4_protocol().to_ascii_uppercase(),
                            target_port: p.target_port.clone(),
                            path: FieldPath::parse("spec.ports").index(i),
                        })
                        .collect();
                    entries.push(Declared {
                        resource: id,
                        kind: DeclKind::Service,
                        host: format!("{}.{}.{CLUSTER_DOMAIN}", r.name, r.namespace),
                        path: FieldPath::parse("metadata.name"),
                        namespace: r.namespace.clone(),
                        ports,
                        export: Export::new(
                            &written,
                            &r.namespace,
                            &mesh.default_service_export_to,
                        ),
                        selector: svc.spec.selector.clone(),
                    });
                }
                Spec::ServiceEntry(se) => {
                    let ports: Vec<DeclPort> = se
                        .ports
                        .iter()
                        .enumerate()
                        .filter_map(|(i, p)| {
                            Some(DeclPort {
                                number: p.number?,
                                name: p.name.clone(),
                                protocol: p.protocol.clone().unwrap_or_default().to_uppercase(),
                                target_port: p.target_port.map(IntOrString::Int),
                                path: FieldPath::parse("spec.ports").index(i),
                            })
                        })
                        .collect();
                    let export =
                        Export::new(&se.export_to, &r.namespace, &mesh.default_service_export_to);
                    for (i, h) in se.hosts.iter().enumerate() {
                        entries.push(Declared {
                            resource: id,
                            kind: DeclKind::ServiceEntry,
                            // ServiceEntry hosts are taken literally by istiod; istio's
                            // analyzers expand short ones, which only matters for lookups
                            // by short name.
                            host: fqdn(h, &r.namespace),
                            path: FieldPath::parse("spec.hosts").index(i),
                            namespace: r.namespace.clone(),
                            ports: ports.clone(),
                            export: export.clone(),
                            selector: se.workload_selector.as_ref().map(|s| s.labels.clone()),
                        });
                    }
                }
                _ => {}
            }
        }
        let by_host = ByHost::new(entries.iter().map(|e| e.host.as_str()));
        let mut by_namespace: HashMap<String, Vec<usize>> = HashMap::new();
        let mut services_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_namespace.entry(e.namespace.clone()).or_default().push(i);
            if e.kind == DeclKind::Service
                && let Some((name, _)) = k8s_service_of(&e.host)
            {
                services_by_name
                    .entry(name.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        Self {
            entries,
            by_host,
            by_namespace,
            services_by_name,
        }
    }

    /// Entries declaring `host` (an FQDN or wildcard), whoever can see them: exact names
    /// first, then wildcard ServiceEntry hosts that cover it.
    pub fn declaring(&self, host: &str) -> Vec<&Declared> {
        let mut out: Vec<&Declared> = self
            .by_host
            .exact(host)
            .iter()
            .map(|&i| &self.entries[i])
            .collect();
        let bare = host.strip_prefix('*').unwrap_or(host);
        for &i in &self.by_host.wildcard {
            let e = &self.entries[i];
            let suffix = &e.host[1..];
            if host.eq_ignore_ascii_case(&e.host) || ends_with_ignore_case(bare, suffix) {
                out.push(e);
            }
        }
        out
    }

    /// Entries declaring `host` that `viewers` can see; exact declarations win over wildcard
    /// ones, as in istio's lookup.
    pub fn resolve(&self, host: &str, viewers: &Viewers) -> Vec<&Declared> {
        let all = self.declaring(host);
        let visible: Vec<&Declared> = all
            .iter()
            .copied()
            .filter(|e| viewers.sees(&e.export))
            .collect();
        let exact: Vec<&Declared> = visible
            .iter()
            .copied()
            .filter(|e| !e.is_wildcard() || e.host.eq_ignore_ascii_case(host))
            .collect();
        if exact.is_empty() { visible } else { exact }
    }

    /// Whether the input declares any host in namespace `ns`.
    pub fn namespace_has_hosts(&self, ns: &str) -> bool {
        self.by_namespace.contains_key(ns)
    }

    /// Hosts declared in `ns`, for "did you mean" suggestions.
    pub fn hosts_in(&self, ns: &str) -> impl Iterator<Item = &Declared> {
        self.by_namespace
            .get(ns)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// The declared host closest to `host` (a likely typo), preferring namespace `ns`.
    pub fn suggest(&self, host: &str, ns: &str) -> Option<String> {
        let wanted = host.to_ascii_lowercase();
        let key = |h: &str| -> String {
            k8s_service_of(h)
                .map(|(n, _)| n.to_string())
                .unwrap_or_else(|| h.to_string())
        };
        let wanted_key = key(&wanted);
        let limit = if wanted_key.len() >= 8 { 3 } else { 2 };
        let score = |h: &str| -> Option<(usize, String)> {
            let d = strsim::damerau_levenshtein(&wanted_key, &key(&h.to_ascii_lowercase()));
            (d > 0 && d <= limit).then(|| (d, h.to_string()))
        };
        let local = self.by_namespace.get(ns).map_or(0, Vec::len);
        let mut best = if local <= SUGGEST_LIMIT {
            self.hosts_in(ns).filter_map(|e| score(&e.host)).min()
        } else {
            None
        };
        if best.is_none() && self.entries.len() <= SUGGEST_LIMIT {
            best = self
                .entries
                .iter()
                .filter(|e| !e.is_wildcard())
                .filter_map(|e| score(&e.host))
                .min();
        }
        best.map(|(_, h)| h)
    }

    /// Kubernetes Services named `name` in any namespace (for "did you mean another namespace").
    pub fn services_named(&self, name: &str) -> Vec<&Declared> {
        let mut out: Vec<&Declared> = self
            .services_by_name
            .get(&name.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
            .collect();
        out.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_expand_like_istiod() {
        assert_eq!(fqdn("reviews", "shop"), "reviews.shop.svc.cluster.local");
        assert_eq!(fqdn("reviews.shop", "x"), "reviews.shop");
        assert_eq!(fqdn("*", "x"), "*");
        assert_eq!(fqdn("10.0.0.1", "x"), "10.0.0.1");
        assert_eq!(fqdn("::1", "x"), "::1");
        assert!(!is_short("*.example.com"));
        assert_eq!(
            k8s_service_of("reviews.shop.svc.cluster.local"),
            Some(("reviews", "shop"))
        );
        assert_eq!(k8s_service_of("a.b.c.svc.cluster.local"), None);
        assert_eq!(k8s_service_of("example.com"), None);
    }

    #[test]
    fn host_matching_is_symmetric_with_wildcards() {
        assert!(hosts_match("*", "foo.com"));
        assert!(hosts_match("*.foo.com", "a.foo.com"));
        assert!(hosts_match("a.foo.com", "*.foo.com"));
        assert!(hosts_match("*.foo.com", "*.a.foo.com"));
        assert!(!hosts_match("*.foo.com", "foo.com"));
        assert!(hosts_match("Foo.com", "foo.com"));
        assert!(!hosts_match("a.com", "b.com"));
    }

    #[test]
    fn export_scopes() {
        let e = Export::new(&[], "a", &[]);
        assert_eq!(e, Export::All);
        let e = Export::new(&[".".into(), "b".into()], "a", &[]);
        assert!(e.visible_from("a") && e.visible_from("b") && !e.visible_from("c"));
        let e = Export::new(&["~".into()], "a", &[]);
        assert!(!e.any());
        let e = Export::new(&[], "a", &[".".into()]);
        assert!(e.visible_from("a") && !e.visible_from("b"));
        assert!(Viewers::of(&[], "a").sees(&Export::new(&[".".into()], "a", &[])));
        assert!(!Viewers::of(&["bogus".into()], "a").sees(&Export::new(&[".".into()], "a", &[])));
        assert!(Viewers::of(&["*".into()], "a").sees(&Export::new(&[".".into()], "z", &[])));
    }
}
