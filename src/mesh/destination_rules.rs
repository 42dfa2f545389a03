//! Which DestinationRule istiod applies to a host for a proxy: DestinationRules indexed by host,
//! and the precedence of `pilot/pkg/model/sidecar.go` / `destination_rule.go` (the proxy's
//! namespace, then the host's, then the root namespace; the most specific host within a tier).

use crate::model::{ResId, Spec, Store};

use super::hosts::{ByHost, Export, fqdn, hosts_match};

/// A DestinationRule's host, visibility and subsets.
pub struct DrEntry {
    pub id: ResId,
    /// The host as istiod reads it (short names expanded in the rule's namespace).
    pub host: String,
    pub namespace: String,
    pub export: Export,
    pub subsets: Vec<String>,
}

/// DestinationRules by host: exact hosts in a map, wildcard ones in a list.
pub struct DrIndex {
    entries: Vec<DrEntry>,
    by_host: ByHost,
}

impl DrIndex {
    /// `default_export` is MeshConfig's `defaultDestinationRuleExportTo`.
    pub fn build(store: &Store, default_export: &[String]) -> Self {
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
        let by_host = ByHost::new(entries.iter().map(|e| e.host.as_str()));
        Self { entries, by_host }
    }

    /// Every DestinationRule, in input order.
    pub fn entries(&self) -> &[DrEntry] {
        &self.entries
    }

    /// DestinationRules whose host covers `host`, most specific first (exact, then the longest
    /// wildcard).
    pub fn for_host(&self, host: &str) -> Vec<&DrEntry> {
        let mut out: Vec<&DrEntry> = self
            .by_host
            .exact(host)
            .iter()
            .map(|&i| &self.entries[i])
            .collect();
        let mut wild: Vec<&DrEntry> = self
            .by_host
            .wildcard
            .iter()
            .map(|&i| &self.entries[i])
            .filter(|e| hosts_match(&e.host, host) && e.host.len() <= host.len() + 1)
            .collect();
        wild.sort_by_key(|e| std::cmp::Reverse(e.host.len()));
        out.extend(wild);
        out
    }
}

/// Which DestinationRules istiod applies to `host` for proxies in `proxy_ns`: those in the
/// proxy's namespace, else those in the host's namespace exported to it, else those in the
/// root namespace exported to it; within that tier the most specific host. For proxies in the
/// root namespace the first tier holds only the root namespace's private rules (exported to it
/// alone), so a catch-all `*.local` rule there does not hide the host namespace's own
/// (`destinationRule` in `pilot/pkg/model/push_context.go`).
pub fn effective_drs<'a>(
    drs: &'a DrIndex,
    host: &str,
    proxy_ns: &str,
    host_ns: Option<&str>,
    root_ns: &str,
) -> Vec<&'a DrEntry> {
    let all = drs.for_host(host);
    let visible = |e: &DrEntry| e.export.visible_from(proxy_ns);
    let private = |e: &DrEntry| matches!(&e.export, Export::Namespaces(set) if set.len() == 1 && set.contains(&e.namespace));
    let tiers = [Some(proxy_ns), host_ns, Some(root_ns)];
    for (i, tier) in tiers.into_iter().enumerate() {
        let Some(tier) = tier else { continue };
        let root_private_only = i == 0 && proxy_ns == root_ns;
        let hit: Vec<&DrEntry> = all
            .iter()
            .copied()
            .filter(|e| e.namespace == tier && visible(e) && (!root_private_only || private(e)))
            .collect();
        if let Some(first) = hit.first() {
            let host = first.host.clone();
            return hit.into_iter().filter(|e| e.host == host).collect();
        }
    }
    Vec::new()
}
