//! MESH504 conflicting-gateways: two Gateways configure one gateway workload with servers on
//! the same port and bind sharing a host (istio's IST0145), without the processing-order
//! dependence of istio's analyzer.
//!
//! Servers are indexed by `(port, bind, host)`; only gateways sharing such a key are compared.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::istio::{Gateway, Server};
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

use crate::mesh::hosts::hosts_match;
use crate::mesh::workloads::selector_text;
use crate::model::raw::label;
use crate::rules::{Context, Rule, RuleMeta};

pub struct ConflictingGateways;

static META: RuleMeta = RuleMeta {
    code: "MESH504",
    name: "conflicting-gateways",
    summary: "two Gateways of one gateway workload serve the same host on the same port",
    severity: Severity::Error,
    istio_codes: &["IST0145"],
    kiali_codes: &["KIA0301"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH504-conflicting-gateways.md"),
};

fn gateway(store: &Store, id: ResId) -> &Gateway {
    match &store.get(id).spec {
        Spec::Gateway(g) => g,
        _ => unreachable!("only Gateways are indexed"),
    }
}

/// Whether two gateways configure the same workload: equal selectors, one contained in the
/// other, or a workload in the input both select.
fn same_workload(cx: &Context<'_>, a: ResId, b: ResId) -> Option<String> {
    let (ga, gb) = (gateway(cx.store, a), gateway(cx.store, b));
    let contains = |outer: &BTreeMap<String, String>, inner: &BTreeMap<String, String>| {
        inner.iter().all(|(k, v)| outer.get(k) == Some(v))
    };
    if ga.selector == gb.selector {
        return Some(format!("same selector `{}`", selector_text(&ga.selector)));
    }
    let wa: BTreeSet<ResId> = cx.graph.gateway_workloads(a).into_iter().collect();
    if let Some(w) = cx
        .graph
        .gateway_workloads(b)
        .into_iter()
        .find(|w| wa.contains(w))
    {
        return Some(format!("both select {}", label(cx.store, w)));
    }
    let (wide, narrow) = if contains(&gb.selector, &ga.selector) {
        (&ga.selector, &gb.selector)
    } else if contains(&ga.selector, &gb.selector) {
        (&gb.selector, &ga.selector)
    } else {
        return None;
    };
    Some(format!(
        "selector `{}` is part of `{}`, so every workload of the narrower one is selected by both",
        selector_text(wide),
        selector_text(narrow)
    ))
}

fn protocol(s: &Server) -> String {
    s.port
        .protocol
        .clone()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

fn is_http(p: &str) -> bool {
    matches!(p, "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB")
}

/// What istiod does with the later of two conflicting servers (`mergeGateways`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Both carry TLS settings: the later is rejected for the duplicate host.
    DuplicateTls,
    /// Plain HTTP servers share the route configuration `http.PORT`; `https_redirect` when one
    /// of them sets `httpsRedirect`, which then applies to the shared virtual host.
    Merged { https_redirect: bool },
    /// Protocols that cannot share the listener: the later is skipped.
    Dropped,
}

fn effect(a: &Server, b: &Server) -> Effect {
    let (pa, pb) = (protocol(a), protocol(b));
    if a.tls.is_some() && b.tls.is_some() {
        Effect::DuplicateTls
    } else if is_http(&pa) && is_http(&pb) {
        // Only one has TLS settings, which on an HTTP server can only be `httpsRedirect`.
        Effect::Merged {
            https_redirect: a.tls.is_some() || b.tls.is_some(),
        }
    } else {
        Effect::Dropped
    }
}

impl Effect {
    fn describe(self, port: i64) -> String {
        match self {
            Effect::DuplicateTls => "istiod rejects the later TLS server because of the duplicate host (`skipping server ... duplicate host names`)".into(),
            Effect::Merged { https_redirect } => format!(
                "istiod merges both plain HTTP servers into route configuration `http.{port}` and appends the routes of both Gateways' VirtualServices to one virtual host per shared host: nothing is ignored, but the first Gateway's routes are matched first (catch-all routes are moved last, in the same order), so its catch-all shadows the other's{}",
                if https_redirect {
                    "; one server sets httpsRedirect, so the shared virtual host redirects plain HTTP for both"
                } else {
                    ""
                }
            ),
            Effect::Dropped => "istiod keeps only the server it processes first and drops the other (`skipping server ... conflict with existing server`)".into(),
        }
    }
}

/// istiod's processing order: creation time (resources without one last), then name, then
/// namespace.
fn order_key(store: &Store, id: ResId) -> (bool, Option<jiff::Timestamp>, String, String) {
    let r = store.get(id);
    (
        r.created.is_none(),
        r.created,
        r.name.clone(),
        r.namespace.clone(),
    )
}

/// A (gateway, server index) pair.
type ServerRef = (ResId, usize);

/// Gateways of one `(port, bind, host)` key with the same selector, with the two that istiod
/// processes first.
struct Bucket {
    members: Vec<ServerRef>,
    first: Vec<ServerRef>,
    /// Servers per gateway, so "everyone but me" is counted without a scan.
    per_gateway: BTreeMap<ResId, usize>,
}

impl Bucket {
    fn others(&self, g: ResId) -> usize {
        self.members.len() - self.per_gateway.get(&g).copied().unwrap_or(0)
    }
}

/// What a server conflicts with on one host: the overlapping buckets and why they overlap.
struct HostConflict {
    host: String,
    buckets: Vec<(usize, String)>,
}

impl Rule for ConflictingGateways {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        // (port, bind, host) → servers using it
        let mut index: BTreeMap<(i64, String, String), Vec<ServerRef>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::Gateway(gw) = &r.spec else { continue };
            for (i, s) in gw.servers.iter().enumerate() {
                // istiod skips a server without a port (`mergeGateways`).
                let Some(port) = s.port.number else { continue };
                let bind = s.bind.clone().unwrap_or_default();
                // `*/host` is `host` to istiod's duplicate check.
                let mut hosts: Vec<&str> = s
                    .hosts
                    .iter()
                    .map(|h| h.strip_prefix("*/").unwrap_or(h))
                    .collect();
                hosts.sort();
                hosts.dedup();
                for h in hosts {
                    index
                        .entry((port, bind.clone(), h.to_string()))
                        .or_default()
                        .push((id, i));
                }
            }
        }
        // Selector overlap is decided once per pair of gateways with different selectors.
        let mut overlap_cache: BTreeMap<(ResId, ResId), Option<String>> = BTreeMap::new();
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut conflicts: BTreeMap<ServerRef, Vec<HostConflict>> = BTreeMap::new();
        for ((_, _, host), servers) in &index {
            let gateways: BTreeSet<ResId> = servers.iter().map(|(g, _)| *g).collect();
            if gateways.len() < 2 {
                continue;
            }
            // Group by selector: equal selectors always overlap.
            let mut by_selector: BTreeMap<&BTreeMap<String, String>, Vec<ServerRef>> =
                BTreeMap::new();
            for &(g, i) in servers {
                by_selector
                    .entry(&gateway(store, g).selector)
                    .or_default()
                    .push((g, i));
            }
            let local: Vec<usize> = by_selector
                .into_values()
                .map(|members| {
                    let mut per_gateway: BTreeMap<ResId, usize> = BTreeMap::new();
                    for &(g, _) in &members {
                        *per_gateway.entry(g).or_default() += 1;
                    }
                    // The two gateways istiod processes first (one may be the reader itself).
                    let mut first: Vec<ServerRef> = Vec::with_capacity(3);
                    for &m in &members {
                        first.push(m);
                        first.sort_by_key(|&(g, _)| order_key(store, g));
                        first.truncate(2);
                    }
                    buckets.push(Bucket {
                        members,
                        first,
                        per_gateway,
                    });
                    buckets.len() - 1
                })
                .collect();
            for &a in &local {
                let mut hits: Vec<(usize, String)> = Vec::new();
                for &b in &local {
                    let why = if a == b {
                        let g = buckets[a].members[0].0;
                        Some(format!(
                            "same selector `{}`",
                            selector_text(&gateway(store, g).selector)
                        ))
                    } else {
                        let (ga, gb) = (buckets[a].members[0].0, buckets[b].members[0].0);
                        overlap_cache
                            .entry((ga.min(gb), ga.max(gb)))
                            .or_insert_with(|| same_workload(cx, ga.min(gb), ga.max(gb)))
                            .clone()
                    };
                    if let Some(why) = why {
                        hits.push((b, why));
                    }
                }
                for &member in &buckets[a].members {
                    // A gateway does not conflict with itself.
                    let others: usize =
                        hits.iter().map(|(b, _)| buckets[*b].others(member.0)).sum();
                    if others == 0 {
                        continue;
                    }
                    conflicts.entry(member).or_default().push(HostConflict {
                        host: host.clone(),
                        buckets: hits.clone(),
                    });
                }
            }
        }
        for ((g, i), hosts) in conflicts {
            self.report(cx, &buckets, g, i, &hosts);
        }
    }
}

/// Whether a VirtualService bound to `gateway` routes a host that matches `host`.
fn routes_host(cx: &Context<'_>, gateway: ResId, host: &str) -> bool {
    cx.graph
        .bound_virtual_services(gateway)
        .into_iter()
        .any(|vs| match &cx.store.get(vs).spec {
            Spec::VirtualService(v) => v.hosts.iter().any(|h| hosts_match(h, host)),
            _ => false,
        })
}

impl ConflictingGateways {
    fn report(
        &self,
        cx: &mut Context<'_>,
        buckets: &[Bucket],
        g: ResId,
        i: usize,
        hosts: &[HostConflict],
    ) {
        let store = cx.store;
        let r = store.get(g);
        let server = &gateway(store, g).servers[i];
        let port = server.port.number.unwrap_or(0);
        let name = |id: ResId| {
            let o = store.get(id);
            format!("{}/{}", o.namespace, o.name)
        };
        let mut parts = Vec::new();
        let mut first_other: Option<ServerRef> = None;
        // The Gateway istiod processes first among everything this server conflicts with.
        let mut oldest: Option<ServerRef> = None;
        for hc in hosts.iter().take(3) {
            let mut shown = Vec::new();
            let mut total = 0;
            for (b, why) in &hc.buckets {
                total += buckets[*b].others(g);
                let room = 3usize.saturating_sub(shown.len());
                for (og, oi) in buckets[*b]
                    .members
                    .iter()
                    .copied()
                    .filter(|(og, _)| *og != g)
                    .take(room)
                {
                    let oserver = &gateway(store, og).servers[oi];
                    shown.push(format!(
                        "Gateway {} (server {oi}, {}; {why})",
                        name(og),
                        if protocol(oserver).is_empty() {
                            "no protocol".to_string()
                        } else {
                            protocol(oserver)
                        }
                    ));
                    first_other.get_or_insert((og, oi));
                }
                for &(og, oi) in &buckets[*b].first {
                    if og != g
                        && oldest.is_none_or(|(o, _)| order_key(store, og) < order_key(store, o))
                    {
                        oldest = Some((og, oi));
                    }
                }
            }
            let more = if total > shown.len() {
                format!(" and {} more", total - shown.len())
            } else {
                String::new()
            };
            parts.push(format!("`{}` with {}{more}", hc.host, shown.join(", ")));
        }
        if hosts.len() > 3 {
            parts.push(format!("{} more hosts", hosts.len() - 3));
        }
        let effect = first_other.map(|(og, oi)| effect(server, &gateway(store, og).servers[oi]));
        let basis = match (&r.created, &r.creation_timestamp) {
            (Some(_), _) => "ordered by creationTimestamp, then name".to_string(),
            (None, Some(t)) => format!(
                "this Gateway's creationTimestamp `{t}` is not an RFC 3339 time and counts as missing, so the order shown is by name"
            ),
            (None, None) => {
                "this Gateway has no creationTimestamp in the input, so the order shown is by name"
                    .to_string()
            }
        };
        let merged = matches!(effect, Some(Effect::Merged { .. }));
        let fate = match oldest {
            Some((o, _)) if order_key(store, o) < order_key(store, g) && merged => format!(
                "this Gateway is processed after {o}, so the routes of {o} are matched before this Gateway's for the shared hosts ({basis})",
                o = name(o)
            ),
            Some((o, _)) if order_key(store, o) < order_key(store, g) => format!(
                "this Gateway is processed after {}, so it is the one that loses ({basis})",
                name(o)
            ),
            _ if merged => {
                format!(
                    "this Gateway is processed first, so its routes are matched first ({basis})"
                )
            }
            _ => format!("this Gateway is processed first and keeps the port ({basis})"),
        };
        let path = if server.port.number.is_some() {
            FieldPath::parse("spec.servers")
                .index(i)
                .key("port")
                .key("number")
        } else {
            FieldPath::parse("spec.servers").index(i)
        };
        // A merge only changes which route answers when both Gateways have routes for a shared
        // host; with routes on one side only (or none in the input) nothing is shadowed.
        let later = oldest.filter(|&(o, _)| order_key(store, o) < order_key(store, g));
        let shadowing = merged
            && later.is_some_and(|(o, _)| {
                hosts
                    .iter()
                    .any(|hc| routes_host(cx, g, &hc.host) && routes_host(cx, o, &hc.host))
            });
        let fate = if merged && later.is_some() && !shadowing {
            format!(
                "{fate}; no VirtualService in the input routes a shared host through both Gateways, so no route is shadowed"
            )
        } else {
            fate
        };
        let message = format!(
            "server on port {port} ({}, hosts {}) conflicts on {}; {}; {fate}",
            if protocol(server).is_empty() {
                "no protocol".to_string()
            } else {
                protocol(server)
            },
            server.hosts.join(", "),
            parts.join("; "),
            effect.map(|e| e.describe(port)).unwrap_or_default(),
        );
        let rep = cx
            .report(g, path, message)
            .severity(match (merged, shadowing) {
                (false, _) => Severity::Error,
                (true, true) => Severity::Warning,
                (true, false) => Severity::Info,
            })
            .help("serve each host and port from one Gateway (merge the servers), or use different ports, hosts or gateway workloads");
        if let Some((og, oi)) = first_other {
            rep.related(
                og,
                FieldPath::parse("spec.servers").index(oi),
                "conflicting server",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH504", text)
    }

    fn gw(name: &str, created: &str, selector: &str, servers: &str) -> String {
        format!(
            "---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}
spec:
  selector: {selector}
  servers: {servers}
"
        )
    }

    #[test]
    fn order_independent_and_names_the_loser() {
        let a = gw(
            "a",
            "2024-01-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 443, name: https, protocol: HTTPS}, tls: {mode: SIMPLE}, hosts: [x.com, y.com]}]",
        );
        let b = gw(
            "b",
            "2024-02-01T00:00:00Z",
            "{istio: ingressgateway, app: gw}",
            "[{port: {number: 443, name: https, protocol: HTTPS}, tls: {mode: SIMPLE}, hosts: [y.com]}]",
        );
        let c = gw(
            "c",
            "2024-03-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 443, name: https, protocol: HTTPS}, tls: {mode: SIMPLE}, hosts: [x.com]}, {port: {number: 443, name: https2, protocol: HTTPS}, bind: 10.0.0.1, tls: {mode: SIMPLE}, hosts: [y.com]}]",
        );
        for text in [format!("{a}{b}{c}"), format!("{c}{b}{a}")] {
            let f = run(&text);
            let mut got: Vec<String> = f.iter().map(|f| f.resource.to_string()).collect();
            got.sort();
            assert_eq!(
                got,
                [
                    "Gateway default/a",
                    "Gateway default/b",
                    "Gateway default/c"
                ],
                "{f:#?}"
            );
            let b = f.iter().find(|f| f.resource.name == "b").expect("b");
            assert!(
                b.message.contains("processed after default/a"),
                "{}",
                b.message
            );
            assert!(b.message.contains("is part of"), "{}", b.message);
            let a = f.iter().find(|f| f.resource.name == "a").expect("a");
            assert!(a.message.contains("keeps the port"), "{}", a.message);
        }
    }

    #[test]
    fn creation_times_compare_as_instants_and_unparsable_ones_count_as_missing() {
        let server = "[{port: {number: 443, name: https, protocol: HTTPS}, tls: {mode: SIMPLE}, hosts: [x.com]}]";
        // 06:00-05:00 is 11:00Z: later than b, although it sorts first as text.
        let a = gw(
            "a",
            "2024-01-01T06:00:00-05:00",
            "{istio: ingressgateway}",
            server,
        );
        let b = gw(
            "b",
            "2024-01-01T10:00:00Z",
            "{istio: ingressgateway}",
            server,
        );
        let f = run(&format!("{a}{b}"));
        let a = f.iter().find(|f| f.resource.name == "a").expect("a");
        assert!(
            a.message.contains("processed after default/b"),
            "{}",
            a.message
        );
        let a = gw("a", "last tuesday", "{istio: ingressgateway}", server);
        let b = gw("b", "not a time", "{istio: ingressgateway}", server);
        let f = run(&format!("{b}{a}"));
        let b = f.iter().find(|f| f.resource.name == "b").expect("b");
        assert!(
            b.message.contains("processed after default/a")
                && b.message.contains("`not a time` is not an RFC 3339 time"),
            "{}",
            b.message
        );
    }

    #[test]
    fn different_workloads_binds_and_hosts_do_not_conflict() {
        let text = [
            gw(
                "a",
                "2024-01-01T00:00:00Z",
                "{istio: a}",
                "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
            ),
            gw(
                "b",
                "2024-01-01T00:00:00Z",
                "{istio: b}",
                "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
            ),
            gw(
                "c",
                "2024-01-01T00:00:00Z",
                "{istio: a}",
                "[{port: {number: 80, name: http, protocol: HTTP}, bind: 1.2.3.4, hosts: [x.com]}]",
            ),
        ]
        .concat();
        assert!(run(&text).is_empty());
    }

    #[test]
    fn a_star_namespace_prefix_names_the_same_host_and_portless_servers_are_skipped() {
        let tls = |name: &str, host: &str| {
            gw(
                name,
                "2024-01-01T00:00:00Z",
                "{istio: a}",
                &format!(
                    "[{{port: {{number: 443, name: https, protocol: HTTPS}}, tls: {{mode: SIMPLE, credentialName: c}}, hosts: ['{host}']}}]"
                ),
            )
        };
        let f = run(&[tls("a", "x.com"), tls("b", "*/x.com")].concat());
        assert_eq!(f.len(), 2, "{f:#?}");
        let portless = |name: &str| {
            gw(
                name,
                "2024-01-01T00:00:00Z",
                "{istio: a}",
                "[{hosts: [x.com]}]",
            )
        };
        assert!(run(&[portless("a"), portless("b")].concat()).is_empty());
    }

    #[test]
    fn a_shared_workload_makes_different_selectors_conflict() {
        let text = [
            gw(
                "a",
                "2024-01-01T00:00:00Z",
                "{istio: ingressgateway}",
                "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
            ),
            gw(
                "b",
                "2024-01-01T00:00:00Z",
                "{app: edge}",
                "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
            ),
            "---
apiVersion: v1
kind: Pod
metadata: {name: edge, namespace: istio-system, labels: {istio: ingressgateway, app: edge}}
spec: {containers: [{name: istio-proxy}]}
"
            .to_string(),
        ]
        .concat();
        let f = run(&text);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].message.contains("both select Pod istio-system/edge"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("route configuration `http.80`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn plain_http_servers_merge_and_the_older_routes_match_first() {
        let text = [
            gw(
                "old",
                "2024-01-01T00:00:00Z",
                "{istio: ingressgateway}",
                "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
            ),
            gw(
                "new",
                "2024-02-01T00:00:00Z",
                "{istio: ingressgateway}",
                "[{port: {number: 80, name: http2, protocol: HTTP2}, tls: {httpsRedirect: true}, hosts: [x.com]}]",
            ),
        ]
        .concat();
        let f = run(&text);
        assert_eq!(f.len(), 2, "{f:#?}");
        for x in &f {
            // No VirtualService routes through both, so nothing is shadowed.
            assert_eq!(x.severity, Severity::Info, "{}", x.message);
            assert!(!x.message.contains("loses"), "{}", x.message);
            assert!(x.message.contains("redirects plain HTTP"), "{}", x.message);
        }
        let vs = |name: &str| {
            format!(
                "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}}}\nspec: {{hosts: [x.com], gateways: [{name}], http: [{{route: [{{destination: {{host: {name}}}}}]}}]}}\n"
            )
        };
        let routed = run(&format!("{text}{}{}", vs("old"), vs("new")));
        let severity = |name: &str| {
            routed
                .iter()
                .find(|f| f.resource.name == name)
                .map(|f| f.severity)
        };
        assert_eq!(severity("new"), Some(Severity::Warning), "{routed:#?}");
        assert_eq!(severity("old"), Some(Severity::Info), "{routed:#?}");
        let new = f.iter().find(|f| f.resource.name == "new").expect("new");
        assert!(
            new.message
                .contains("the routes of default/old are matched before this Gateway's"),
            "{}",
            new.message
        );
        let old = f.iter().find(|f| f.resource.name == "old").expect("old");
        assert!(
            old.message.contains("its routes are matched first"),
            "{}",
            old.message
        );
    }

    #[test]
    fn servers_istiod_drops_stay_errors() {
        let tcp = gw(
            "a",
            "2024-01-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 80, name: tcp, protocol: TCP}, hosts: [x.com]}]",
        );
        let http = gw(
            "b",
            "2024-02-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.com]}]",
        );
        let redirect = gw(
            "c",
            "2024-03-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 8080, name: http, protocol: HTTP}, tls: {httpsRedirect: true}, hosts: [x.com]}]",
        );
        let redirect2 = gw(
            "d",
            "2024-04-01T00:00:00Z",
            "{istio: ingressgateway}",
            "[{port: {number: 8080, name: http, protocol: HTTP}, tls: {httpsRedirect: true}, hosts: [x.com]}]",
        );
        let f = run(&[tcp, http, redirect, redirect2].concat());
        assert_eq!(f.len(), 4, "{f:#?}");
        assert!(f.iter().all(|f| f.severity == Severity::Error), "{f:#?}");
        let b = f.iter().find(|f| f.resource.name == "b").expect("b");
        assert!(
            b.message.contains("it is the one that loses"),
            "{}",
            b.message
        );
        let d = f.iter().find(|f| f.resource.name == "d").expect("d");
        assert!(d.message.contains("duplicate host"), "{}", d.message);
    }
}
