//! Several TCPRoutes (or TLSRoutes for the same SNI hostname) on one listener: every one is
//! Accepted, but a listener forwards a connection to one route only. The spec's order decides
//! (`apis/v1/gateway_types.go`, `AllowedRoutes`: the oldest Route by creationTimestamp, then
//! `namespace/name`), as the conformance test `TCPRouteMultipleRoutesAttachment` checks; istiod
//! orders the generated configuration by creation time (`sortRoutesByCreationTime`).

use std::collections::BTreeMap;

use crate::model::gateway_api::RouteKind;
use crate::model::{ResId, Spec, Store};

use super::GatewayApi;

/// Routes of one kind on one listener that shadow each other.
#[derive(Clone, Debug)]
pub struct L4Conflict {
    pub gateway: usize,
    pub listener: usize,
    pub kind: RouteKind,
    /// The route that receives the connections.
    pub winner: ResId,
    /// The routes that never do, in order.
    pub losers: Vec<ResId>,
}

/// The spec's route precedence: created first (routes without a creationTimestamp after those
/// with one), then `namespace/name`.
pub fn order_key(store: &Store, id: ResId) -> (bool, Option<jiff::Timestamp>, String, String) {
    let r = store.get(id);
    (
        r.created.is_none(),
        r.created,
        r.namespace.clone(),
        r.name.clone(),
    )
}

fn hostnames(store: &Store, id: ResId) -> &[String] {
    match &store.get(id).spec {
        Spec::Route(_, r) => &r.hostnames,
        _ => &[],
    }
}

/// Whether two TLS routes compete for one SNI name: Envoy matches the most specific server
/// name, so `a.example.com` and `*.example.com` split the names between them, and only a
/// hostname both list (or both listing none: every name) is contested.
fn overlap(a: &[String], b: &[String]) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => true,
        (false, false) => a
            .iter()
            .any(|x| b.iter().any(|y| x.eq_ignore_ascii_case(y))),
        _ => false,
    }
}

impl GatewayApi {
    /// Every listener with more than one TCP route, or TLS routes sharing a hostname.
    pub fn l4_conflicts(&self, store: &Store) -> Vec<L4Conflict> {
        let mut out = Vec::new();
        for ((g, l), routes) in self.attached() {
            let mut by_kind: BTreeMap<RouteKind, Vec<ResId>> = BTreeMap::new();
            for ri in routes {
                let r = &self.routes[ri];
                if matches!(r.kind, RouteKind::Tcp | RouteKind::Tls) {
                    by_kind.entry(r.kind).or_default().push(r.id);
                }
            }
            for (kind, mut ids) in by_kind {
                if ids.len() < 2 {
                    continue;
                }
                ids.sort_by_key(|&id| order_key(store, id));
                // Each route loses to the first earlier route it overlaps with; TCP routes
                // always overlap.
                let mut winners: Vec<(ResId, Vec<ResId>)> = Vec::new();
                for id in ids {
                    let hit = winners.iter_mut().find(|(w, _)| {
                        kind == RouteKind::Tcp
                            || overlap(hostnames(store, *w), hostnames(store, id))
                    });
                    match hit {
                        Some((_, losers)) => losers.push(id),
                        None => winners.push((id, Vec::new())),
                    }
                }
                for (winner, losers) in winners {
                    if !losers.is_empty() {
                        out.push(L4Conflict {
                            gateway: g,
                            listener: l,
                            kind,
                            winner,
                            losers,
                        });
                    }
                }
            }
        }
        out
    }
}
