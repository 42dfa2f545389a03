//! The chosen chain's terminal network filter: `tcp_proxy` here, the HTTP connection manager in
//! `route`, anything else left unresolved.

use std::net::IpAddr;

use super::{ChainRef, Outcome, Walk, chain_of, chain_pointer, outcome};
use crate::envoy::model::{DumpListener, FilterChain, FilterConfig, Terminal};

/// The clusters `tcp_proxy` sends to, with weights: `weighted_clusters`, the Istio 1.0 v1
/// routes, else the clusters the filter names (`named`).
fn tcp_targets(
    conf: Option<&FilterConfig>,
    named: Vec<String>,
    dest: IpAddr,
) -> Vec<(String, Option<u32>)> {
    let no_cluster = conf.is_some_and(|c| c.cluster.is_none());
    if let Some(w) = conf.and_then(|c| c.weighted_clusters.as_ref())
        && no_cluster
    {
        return w
            .clusters
            .iter()
            .filter_map(|c| c.name.clone().map(|n| (n, c.weight)))
            .collect();
    }
    if let Some(v1) = conf
        .and_then(|c| c.value.as_ref())
        .and_then(|v| v.route_config.as_ref())
        && no_cluster
    {
        // Istio 1.0 v1 routes: first whose destination_ip_list holds the IP.
        let hit = v1.routes.iter().find(|r| {
            r.destination_ip_list.is_empty()
                || r.destination_ip_list.iter().any(|c| c.contains(dest))
        });
        return hit
            .and_then(|r| r.cluster.clone())
            .map(|c| (c, None))
            .into_iter()
            .collect();
    }
    named.into_iter().map(|c| (c, None)).collect()
}

impl Walk<'_> {
    /// Follows a chain to its clusters.
    pub(super) fn chain(&mut self, listener: &DumpListener, r: ChainRef) -> Outcome {
        let Some(chain) = chain_of(&listener.listener, r) else {
            return outcome("closed", Vec::new(), "no such chain".into());
        };
        let chain_ptr = chain_pointer(self.dump, listener, r);
        match chain.terminal() {
            Terminal::Tcp { filter, clusters } => {
                self.tcp_proxy(chain, filter, clusters, &chain_ptr)
            }
            Terminal::Http { filter, rds, .. } => {
                self.http(chain, filter, rds.as_deref(), &chain_ptr)
            }
            Terminal::Other { filter, name } => {
                let s = self.step("filter", name.clone());
                s.pointer = Some(format!("{chain_ptr}/filters/{filter}"));
                s.notes
                    .push("this terminal filter picks its upstream itself (not simulated)".into());
                outcome("unresolved", Vec::new(), format!("terminal filter {name}"))
            }
            Terminal::None => {
                self.step("filter", "(none)".into())
                    .notes
                    .push("the chain has no terminal network filter".into());
                outcome("unresolved", Vec::new(), "no terminal filter".into())
            }
        }
    }

    fn tcp_proxy(
        &mut self,
        chain: &FilterChain,
        filter: usize,
        clusters: Vec<String>,
        chain_ptr: &str,
    ) -> Outcome {
        let f = &chain.filters[filter];
        let targets = tcp_targets(f.conf(), clusters, self.conn.dest);
        let s = self.step("filter", format!("{} (tcp_proxy)", f.name()));
        s.pointer = Some(format!("{chain_ptr}/filters/{filter}"));
        if targets.is_empty() {
            s.notes.push("tcp_proxy names no cluster".into());
            return outcome(
                "unresolved",
                Vec::new(),
                "tcp_proxy without a cluster".into(),
            );
        }
        self.clusters_outcome(&targets)
    }
}
