//! The predicted listener table: per proxy scope, the `0.0.0.0:PORT` listeners and their
//! owners in istiod's order, which is what the conflict rules read.

use std::collections::{BTreeMap, HashMap};

use crate::mesh::settings::MeshSettings;
use crate::model::listener::Row;
use crate::model::{ResId, Store};

use super::owners::{self, Addr, Owner, OwnerKind, Proto};
use super::scope::{self, Scope};

/// A shared `0.0.0.0:PORT` listener in one scope. Owner lists hold indexes into
/// [`ListenerTable::owners`], in istiod's order (the first TCP owner wins the match-all chain).
#[derive(Clone, Debug, Default)]
pub struct Wildcard {
    pub port: i64,
    /// TCP or sniffed owners without an address: each wants the match-all chain.
    pub tcp: Vec<usize>,
    /// HTTP owners: Host-routed through RDS route `"PORT"`.
    pub http: Vec<usize>,
    /// TLS/HTTPS owners without an address: SNI-routed chains.
    pub tls: Vec<usize>,
}

impl Wildcard {
    /// Whether a TCP match-all chain exists: unknown destinations on this port are captured.
    pub fn is_catch_all(&self) -> bool {
        !self.tcp.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct ScopeListeners {
    pub scope: Scope,
    pub wildcard: BTreeMap<i64, Wildcard>,
}

#[derive(Clone, Debug)]
pub struct ListenerTable {
    pub owners: Vec<Owner>,
    pub scopes: Vec<ScopeListeners>,
    /// Workloads in some scope that serve a TCP container port, by port.
    pub serving: HashMap<i64, Vec<ResId>>,
    /// The scope each such workload is in.
    pub scope_of: HashMap<ResId, usize>,
}

/// Whether ExternalName Services are aliases (no listener): the default from Istio 1.21, and
/// opt-in with `ENABLE_EXTERNAL_NAME_ALIAS=true` on 1.20; `=false` keeps the old behaviour.
pub fn external_name_is_alias(settings: &MeshSettings) -> bool {
    let Some(v) = settings.istio_version else {
        return false;
    };
    match settings.external_name_alias {
        Some(flag) => flag && v >= (1, 20),
        None => v >= (1, 21),
    }
}

impl ListenerTable {
    /// Predicts the wildcard listeners of every scope. Work is grouped by port: only ports that
    /// have a TCP catch-all owner somewhere are examined for HTTP and TLS owners.
    pub fn build(store: &Store, settings: &MeshSettings) -> ListenerTable {
        let alias = external_name_is_alias(settings);
        let owners: Vec<Owner> = owners::collect(store, settings)
            .into_iter()
            .filter(|o| !(alias && o.kind == OwnerKind::ExternalName))
            .collect();
        let mut catch_all: Vec<usize> = Vec::new();
        let mut others_by_port: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, o) in owners.iter().enumerate() {
            match (o.proto, &o.addr) {
                (p, Addr::Wildcard) if p.is_tcp_like() => catch_all.push(i),
                (Proto::Http, _) | (Proto::Tls, Addr::Wildcard) => {
                    others_by_port.entry(o.port).or_default().push(i)
                }
                _ => {}
            }
        }
        catch_all.sort_by(|&a, &b| owners[a].istiod_order(&owners[b]));
        let scopes: Vec<ScopeListeners> = scope::scopes(store)
            .into_iter()
            .map(|sc| {
                let mut wildcard: BTreeMap<i64, Wildcard> = BTreeMap::new();
                for &i in &catch_all {
                    let allocated = sc.auto_allocate && owners[i].kind == OwnerKind::ServiceEntry;
                    if !allocated && scope::visible(store, &sc, &owners[i]) {
                        let w = wildcard.entry(owners[i].port).or_default();
                        w.port = owners[i].port;
                        w.tcp.push(i);
                    }
                }
                for (port, w) in wildcard.iter_mut() {
                    for &i in others_by_port.get(port).into_iter().flatten() {
                        if scope::visible(store, &sc, &owners[i]) {
                            match owners[i].proto {
                                Proto::Http => w.http.push(i),
                                _ => w.tls.push(i),
                            }
                        }
                    }
                }
                ScopeListeners {
                    scope: sc,
                    wildcard,
                }
            })
            .collect();
        let mut serving: HashMap<i64, Vec<ResId>> = HashMap::new();
        let mut scope_of = HashMap::new();
        for (n, sl) in scopes.iter().enumerate() {
            for &w in &sl.scope.workloads {
                scope_of.insert(w, n);
                let Some(wl) = store.get(w).workload() else {
                    continue;
                };
                let mut ports: Vec<i64> = wl
                    .running_containers()
                    .flat_map(|(_, c)| c.ports.iter())
                    .filter(|p| p.l4_protocol() != "UDP")
                    .map(|p| p.container_port)
                    .collect();
                ports.sort_unstable();
                ports.dedup();
                for p in ports {
                    serving.entry(p).or_default().push(w);
                }
            }
        }
        ListenerTable {
            owners,
            scopes,
            serving,
            scope_of,
        }
    }
}

/// The owners (indexes into [`ListenerTable::owners`]) that give the sidecars of `scope` an
/// outbound listener. Scopes with the same owners and the same `auto_allocate` get the same
/// [`rows`], so a caller can build them once for all such scopes.
pub fn listener_owners(store: &Store, table: &ListenerTable, scope: &Scope) -> Vec<usize> {
    table
        .owners
        .iter()
        .enumerate()
        .filter(|(_, o)| o.proto != Proto::Udp && scope::visible(store, scope, o))
        .map(|(i, _)| i)
        .collect()
}

/// Every outbound listener the sidecars of a scope get (all owners, not only wildcards), from
/// its [`listener_owners`].
pub fn rows(
    store: &Store,
    table: &ListenerTable,
    visible: &[usize],
    auto_allocate: bool,
) -> Vec<Row> {
    let mut by_key: BTreeMap<(i64, Addr), Vec<usize>> = BTreeMap::new();
    for &i in visible {
        let o = &table.owners[i];
        let address = match (o.proto, &o.addr) {
            (Proto::Http, _) => Addr::Wildcard,
            (_, Addr::Wildcard) if auto_allocate && o.kind == OwnerKind::ServiceEntry => {
                Addr::Vip("<auto-allocated>".into())
            }
            _ => o.addr.clone(),
        };
        by_key.entry((o.port, address)).or_default().push(i);
    }
    let mut out = Vec::new();
    for ((port, addr), mut owners) in by_key {
        let address = addr.to_string();
        owners.sort_by(|&a, &b| table.owners[a].istiod_order(&table.owners[b]));
        let protos: Vec<Proto> = owners.iter().map(|&i| table.owners[i].proto).collect();
        let has = |p: fn(Proto) -> bool| protos.iter().any(|&x| p(x));
        let kind = match (
            has(|p| p == Proto::Http),
            has(Proto::is_tcp_like),
            has(|p| p == Proto::Tls),
        ) {
            (true, true, _) => "HTTP+TCP (sniffed)",
            (true, false, _) => "HTTP",
            (false, true, _) if protos.iter().all(|&p| p == Proto::Auto) => "sniffed",
            (false, true, _) => "TCP",
            _ => "TLS (SNI)",
        };
        let tcp_owners = owners
            .iter()
            .filter(|&&i| table.owners[i].proto.is_tcp_like())
            .count();
        let proxy_own = PROXY_LISTENERS.iter().find(|(p, _)| *p == port);
        let conflict = if let (Some((_, own)), "0.0.0.0") = (proxy_own, address.as_str()) {
            Some(if kind == "HTTP" {
                format!("istiod skips it: port {port} is the proxy's own {own}")
            } else {
                format!(
                    "same address as the proxy's own {own}: Envoy rejects whichever comes second"
                )
            })
        } else if address == "0.0.0.0" && tcp_owners > 1 {
            Some(format!(
                "{} TCP owners: only the first gets the match-all chain (MESH401)",
                tcp_owners
            ))
        } else if address == "0.0.0.0" && tcp_owners == 1 && kind == "HTTP+TCP (sniffed)" {
            Some("HTTP and TCP share the port (MESH402)".to_string())
        } else if address == "0.0.0.0" && tcp_owners == 1 {
            Some("catch-all: traffic to any IP on this port is captured".to_string())
        } else {
            None
        };
        let owners = owners
            .iter()
            .map(|&i| {
                let o = &table.owners[i];
                let r = store.get(o.resource);
                format!("{} ({} {}/{})", o.host, r.kind, r.namespace, r.name)
            })
            .collect();
        out.push(Row {
            address,
            port,
            kind: kind.to_string(),
            owners,
            conflict,
        });
    }
    // The sidecar's own listeners, which every scope has.
    for (port, what) in PROXY_LISTENERS {
        out.push(Row {
            address: "0.0.0.0".into(),
            port: *port,
            kind: "proxy".into(),
            owners: vec![format!("istio-proxy ({what})")],
            conflict: None,
        });
    }
    // Fully ordered, so rows on one port never follow the input's order.
    out.sort_by(|a, b| {
        (a.port, a.kind == "proxy", &a.address, &a.kind, &a.owners).cmp(&(
            b.port,
            b.kind == "proxy",
            &b.address,
            &b.kind,
            &b.owners,
        ))
    });
    out
}

/// The listeners every Istio sidecar has of its own, bound on all addresses.
const PROXY_LISTENERS: &[(i64, &str)] = &[
    (15001, "virtualOutbound"),
    (15006, "virtualInbound"),
    (15021, "health listener"),
    (15090, "Prometheus listener"),
];
