//! MESH401 tcp-listener-shadowed: several TCP owners want the match-all chain of one
//! `0.0.0.0:PORT` listener; istiod keeps the oldest and silently drops the rest.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::envoy::trace::chain_label;
use crate::mesh::owners::OwnerKind;
use crate::rules::dump::mesh704_unreached_outbound_cluster::NO_ROUTE_HELP;

use super::catch_all::{created, describe, port_field, scope_list};
use crate::mesh::owners::Owner;
use crate::rules::{Context, Rule, RuleMeta};

pub struct TcpListenerShadowed;

static META: RuleMeta = RuleMeta {
    code: "MESH401",
    name: "tcp-listener-shadowed",
    summary: "a TCP catch-all owner loses its 0.0.0.0 listener to an older one and is unreachable",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH401-tcp-listener-shadowed.md"),
};

/// Where one owner loses the match-all chain to another.
#[derive(Default)]
struct Shadowing {
    scopes: Vec<usize>,
    /// An owner ahead of the loser whose listener does not depend on the Istio version, so the
    /// loser is shadowed whatever the version (the winner itself when it is such an owner).
    certain: Option<usize>,
}

impl Rule for TcpListenerShadowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        check_dumps(cx);
        let table = cx.listeners();
        let store = cx.store;
        // An ExternalName Service has a listener only before Istio 1.21; with no version known
        // the table assumes it has one.
        let unknown = cx.settings.istio_version.is_none();
        let assumed = |i: usize| unknown && table.owners[i].kind == OwnerKind::ExternalName;
        let mut shadowed: BTreeMap<(usize, usize), Shadowing> = BTreeMap::new();
        for (s, sl) in table.scopes.iter().enumerate() {
            for w in sl.wildcard.values() {
                let Some(&winner) = w.tcp.first() else {
                    continue;
                };
                for (k, &loser) in w.tcp.iter().enumerate().skip(1) {
                    let e = shadowed.entry((loser, winner)).or_default();
                    e.scopes.push(s);
                    if e.certain.is_none() && !assumed(loser) {
                        e.certain = w.tcp[..k].iter().copied().find(|&o| !assumed(o));
                    }
                }
            }
        }
        for ((loser, winner), Shadowing { scopes, certain }) in shadowed {
            let (l, w) = (&table.owners[loser], &table.owners[winner]);
            let unparsable = |o: &Owner| store.get(o.resource).created_unparsable();
            let order = match (&l.created, &w.created) {
                (Some(_), Some(_)) => format!(
                    "{} was created first ({}; this one {})",
                    describe(store, w),
                    created(store, w),
                    created(store, l)
                ),
                (None, Some(_)) if unparsable(l) => format!(
                    "{} has a creationTimestamp and this entry's, `{}`, is not an RFC 3339 time and counts as missing, so istiod orders it first ({})",
                    describe(store, w),
                    store
                        .get(l.resource)
                        .creation_timestamp
                        .as_deref()
                        .unwrap_or_default(),
                    created(store, w)
                ),
                (None, Some(_)) => format!(
                    "{} has a creationTimestamp and this entry has none in the input, so istiod orders it first ({})",
                    describe(store, w),
                    created(store, w)
                ),
                _ if unparsable(l) || unparsable(w) => format!(
                    "neither has a creationTimestamp that parses as RFC 3339 in the input, so the older one in the cluster wins; with equal times istiod orders by name and {} comes first",
                    describe(store, w)
                ),
                _ => format!(
                    "neither sets creationTimestamp in the input, so the older one in the cluster wins; with equal times istiod orders by name and {} comes first",
                    describe(store, w)
                ),
            };
            let message = format!(
                "`{}:{}` is shadowed: listener 0.0.0.0:{} has one match-all TCP chain and istiod gives it to the oldest owner; {order}. Sidecars in {} send all TCP traffic on port {} to {}, so `{}` is unreachable from them",
                l.host,
                l.port,
                l.port,
                scope_list(store, &table, &scopes),
                l.port,
                w.cluster(),
                l.host,
            );
            let message = if assumed(loser) || assumed(winner) {
                let still = match certain {
                    Some(c) if c != winner => format!(
                        ", and {} shadows this entry instead",
                        describe(store, &table.owners[c])
                    ),
                    _ => String::new(),
                };
                format!(
                    "{message}; assuming Istio < 1.21 (no version given or detected; pass --istio-version): ExternalName Services get this listener there; from 1.21 they are aliases without one{still}"
                )
            } else {
                message
            };
            let severity = if certain.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            };
            cx.report(l.resource, port_field(l), message)
                .severity(severity)
                .help(format!(
                    "give the entries `addresses` (or enable DNS auto-allocation) so each gets its own listener; if the traffic is TLS declare the port TLS/HTTPS so SNI tells the hosts apart; narrow `exportTo` or Sidecar egress so no proxy sees both; or move one to another port than {}",
                    l.port
                ))
                .related(
                    w.resource,
                    port_field(w),
                    format!("{} owns 0.0.0.0:{} ({})", describe(store, w), w.port, created(store, w)),
                );
        }
    }
}

/// On a config dump: a service cluster nothing routes to because a TCP catch-all on its port
/// takes the connections first.
fn check_dumps(cx: &mut Context<'_>) {
    let unreached = cx.dump_unreached();
    let catch_alls = cx.dump_catch_alls();
    let dumps = cx.dumps;
    for (d, found) in unreached.iter().enumerate() {
        let dump = &dumps[d].dump;
        for u in found {
            let Some(k) = u.shadowed_by else { continue };
            let c = &dump.clusters[u.cluster];
            let name = c.cluster.name().to_string();
            let l = &dump.listeners[k];
            let winner = catch_alls[d].iter().find(|c| c.listener == k);
            let chain = winner.map_or_else(
                || "its catch-all chain".to_string(),
                |c| chain_label(&l.listener, c.chain),
            );
            let message = format!(
                "{} (port {}) is shadowed: no listener or route of this proxy sends to its cluster {name}; connections to it on port {} land on {} ({chain}), which sends them to {}",
                u.host,
                u.port,
                u.port,
                l.label(),
                winner.map(|c| c.clusters.join(", ")).unwrap_or_default(),
            );
            cx.report_dump(d, ("Cluster", name), &c.pointer, &["name"], message)
                .severity(Severity::Warning)
                .help(NO_ROUTE_HELP)
                .related_dump(
                    &l.pointer,
                    &["name"],
                    format!("{} takes port {}", l.label(), u.port),
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH401", text)
    }

    const ISTIOD_1_20: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  template:
    spec:
      containers:
      - {name: discovery, image: docker.io/istio/pilot:1.20.3}
---
";

    const OWNERS: &str = "\
apiVersion: v1
kind: Service
metadata: {name: cache-ext, namespace: app, creationTimestamp: '2023-01-01T00:00:00Z'}
spec:
  type: ExternalName
  externalName: cache.example.com
  ports: [{name: tcp-redis, port: 6379}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: app, creationTimestamp: '2024-01-01T00:00:00Z'}
spec:
  hosts: [a.example.com]
  resolution: DNS
  ports: [{number: 6379, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: app, creationTimestamp: '2024-02-01T00:00:00Z'}
spec:
  hosts: [b.example.com]
  resolution: DNS
  ports: [{number: 6379, name: tcp, protocol: TCP}]
";

    #[test]
    fn an_externalname_winner_with_no_version_is_an_assumption() {
        let f = run(OWNERS);
        assert_eq!(f.len(), 2, "{f:#?}");
        let a = f.iter().find(|f| f.resource.name == "a").expect("a");
        assert_eq!(a.severity, Severity::Warning, "{}", a.message);
        assert!(
            a.message.contains(
                "assuming Istio < 1.21 (no version given or detected; pass --istio-version)"
            ),
            "{}",
            a.message
        );
        // b loses to a when the ExternalName Service is an alias, so it is shadowed either way.
        let b = f.iter().find(|f| f.resource.name == "b").expect("b");
        assert_eq!(b.severity, Severity::Error, "{}", b.message);
        assert!(
            b.message
                .contains("ServiceEntry app/a (`a.example.com`) shadows this entry instead"),
            "{}",
            b.message
        );
    }

    #[test]
    fn a_known_version_drops_the_caveat() {
        let f = run(&format!("{ISTIOD_1_20}{OWNERS}"));
        assert_eq!(f.len(), 2, "{f:#?}");
        for x in &f {
            assert_eq!(x.severity, Severity::Error, "{}", x.message);
            assert!(!x.message.contains("assuming"), "{}", x.message);
        }
    }
}
