//! MESH507 conflicting-mesh-hosts: several mesh-bound VirtualServices defining one host for an
//! overlapping set of namespaces (istio's IST0109).
//!
//! Hosts are keyed by `(scope, FQDN)` where the scope is `*` or one exported-to namespace; a
//! namespace-scoped host also meets exported-everywhere hosts that cover it, as in istio's
//! analyzer. Exact hosts are found through a map; only wildcard hosts are scanned.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::Severity;
use crate::model::{ResId, Spec};
use crate::source::FieldPath;

use crate::mesh::hosts::{fqdn, hosts_match};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ConflictingMeshHosts;

static META: RuleMeta = RuleMeta {
    code: "MESH507",
    name: "conflicting-mesh-hosts",
    summary: "several VirtualServices for sidecars define the same host in overlapping namespaces",
    severity: Severity::Error,
    istio_codes: &["IST0109"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH507-conflicting-mesh-hosts.md"),
};

const ALL: &str = "*";

/// One host of one VirtualService: (VirtualService, host index).
type HostRef = (ResId, usize);

impl Rule for ConflictingMeshHosts {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let default_export = &cx.settings.mesh.default_virtual_service_export_to;
        // (scope, host) → host refs
        let mut keys: BTreeMap<(String, String), Vec<HostRef>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::VirtualService(vs) = &r.spec else {
                continue;
            };
            if !(vs.gateways.is_empty() || vs.gateways.iter().any(|g| g == "mesh")) {
                continue;
            }
            let export = if vs.export_to.is_empty() {
                default_export
            } else {
                &vs.export_to
            };
            let scopes: BTreeSet<String> = if export.is_empty() || export.iter().any(|e| e == ALL) {
                [ALL.to_string()].into()
            } else {
                export
                    .iter()
                    .filter(|e| e.as_str() != "~")
                    .map(|e| {
                        if e == "." {
                            r.namespace.clone()
                        } else {
                            e.clone()
                        }
                    })
                    .collect()
            };
            for scope in scopes {
                for (k, h) in vs.hosts.iter().enumerate() {
                    keys.entry((scope.clone(), fqdn(h, &r.namespace).to_ascii_lowercase()))
                        .or_default()
                        .push((id, k));
                }
            }
        }
        let star_exact: HashMap<&str, &Vec<HostRef>> = keys
            .iter()
            .filter(|((s, h), _)| s == ALL && !h.starts_with('*'))
            .map(|((_, h), v)| (h.as_str(), v))
            .collect();
        let star_wild: Vec<(&str, &Vec<HostRef>)> = keys
            .iter()
            .filter(|((s, h), _)| s == ALL && h.starts_with('*'))
            .map(|((_, h), v)| (h.as_str(), v))
            .collect();
        // VirtualService → (first conflicting host ref, the host, scope, every VirtualService in
        // the conflict).
        let mut reported: BTreeMap<ResId, (usize, String, String, BTreeSet<ResId>)> =
            BTreeMap::new();
        for ((scope, host), refs) in &keys {
            let mut group: Vec<HostRef> = refs.clone();
            if scope != ALL {
                if host.starts_with('*') {
                    for (h, v) in star_exact.iter() {
                        if hosts_match(h, host) {
                            group.extend(v.iter().copied());
                        }
                    }
                } else if let Some(v) = star_exact.get(host.as_str()) {
                    group.extend(v.iter().copied());
                }
                for (h, v) in &star_wild {
                    if hosts_match(h, host) {
                        group.extend(v.iter().copied());
                    }
                }
            }
            group.sort_unstable();
            group.dedup();
            let ids: BTreeSet<ResId> = group.iter().map(|(id, _)| *id).collect();
            if ids.len() < 2 {
                continue;
            }
            for &(id, k) in &group {
                reported
                    .entry(id)
                    .or_insert_with(|| (k, host.clone(), scope.clone(), ids.clone()));
            }
        }
        for (id, (k, host, scope, ids)) in reported {
            let me = store.get(id);
            let others: Vec<String> = ids
                .iter()
                .filter(|&&o| o != id)
                .map(|&o| {
                    let r = store.get(o);
                    format!("{}/{}", r.namespace, r.name)
                })
                .collect();
            let visible = if scope == ALL {
                "every namespace".to_string()
            } else {
                format!("namespace {scope}")
            };
            let mut oldest: Vec<ResId> = ids.iter().copied().collect();
            oldest.sort_by_key(|&o| {
                let r = store.get(o);
                (
                    r.created.is_none(),
                    r.created,
                    r.name.clone(),
                    r.namespace.clone(),
                )
            });
            let winner = if oldest[0] == id {
                "this one, as the oldest,".to_string()
            } else {
                let w = store.get(oldest[0]);
                format!("{}/{}", w.namespace, w.name)
            };
            let unparsable: Vec<String> = ids
                .iter()
                .map(|&o| store.get(o))
                .filter(|r| r.created_unparsable())
                .map(|r| {
                    format!(
                        "`{}` of {}/{}",
                        r.creation_timestamp.as_deref().unwrap_or_default(),
                        r.namespace,
                        r.name
                    )
                })
                .collect();
            let caveat = if unparsable.is_empty() {
                String::new()
            } else {
                format!(
                    "; the creationTimestamp {} is not an RFC 3339 time and counts as missing",
                    unparsable.join(", ")
                )
            };
            let written = match &me.spec {
                Spec::VirtualService(vs) => vs.hosts.get(k).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            let message = format!(
                "host `{}` ({host}) is also defined by VirtualService {} for sidecars in {visible}; a sidecar keeps one virtual host per domain, so istiod uses the routes of one VirtualService ({winner} by creationTimestamp, then name{caveat}) and silently drops the others' for this host",
                written,
                others.join(", "),
            );
            let mut rep = cx
                .report(id, FieldPath::parse("spec.hosts").index(k), message)
                .help("merge the VirtualServices for this host into one, narrow `exportTo` so their namespaces do not overlap, or use delegate VirtualServices");
            for &o in ids.iter().filter(|&&o| o != id).take(3) {
                rep = rep.related(o, FieldPath::parse("spec.hosts"), "also defines the host");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Finding;

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH507", text)
    }

    fn vs(ns: &str, name: &str, hosts: &str, extra: &str) -> String {
        format!(
            "---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: {ns}}}
spec: {{hosts: {hosts}{extra}}}
"
        )
    }

    #[test]
    fn scopes_and_wildcards() {
        let text = [
            vs("foo", "a", "['*.productpage.d']", ", exportTo: ['.']"),
            vs("bar", "b", "['*.d']", ""),
            vs("foo", "c", "['*.productpage.b']", ", exportTo: [foo]"),
            vs("bar", "d", "['*.productpage.b']", ", exportTo: ['.']"),
            vs("x", "e", "[same.example.com, same.example.com]", ""),
            vs(
                "v",
                "f",
                "[only.example.com]",
                ", gateways: [istio-system/gw]",
            ),
            vs("z", "g", "[only.example.com]", ""),
        ]
        .concat();
        let mut got: Vec<String> = run(&text).iter().map(|f| f.resource.to_string()).collect();
        got.sort();
        assert_eq!(got, ["VirtualService bar/b", "VirtualService foo/a"]);
    }

    #[test]
    fn the_oldest_wins_by_instant_not_by_text() {
        let stamped = |ns: &str, name: &str, t: &str| {
            vs(ns, name, "[ratings.foo.svc.cluster.local]", "").replace(
                "namespace: ",
                &format!("creationTimestamp: \"{t}\", namespace: "),
            )
        };
        // 06:00-05:00 is 11:00Z, after b's 10:00Z, although it sorts first as text.
        let text = [
            stamped("foo", "a", "2024-01-01T06:00:00-05:00"),
            stamped("foo", "b", "2024-01-01T10:00:00Z"),
        ]
        .concat();
        let f = run(&text);
        let a = f.iter().find(|f| f.resource.name == "a").expect("a");
        assert!(
            a.message.contains("(foo/b by creationTimestamp"),
            "{}",
            a.message
        );
        let text = [
            stamped("foo", "a", "2024-01-01T10:00:00Z"),
            stamped("foo", "b", "yesterday"),
        ]
        .concat();
        let f = run(&text);
        let b = f.iter().find(|f| f.resource.name == "b").expect("b");
        assert!(
            b.message.contains("(foo/a by creationTimestamp, then name; the creationTimestamp `yesterday` of foo/b is not an RFC 3339 time"),
            "{}",
            b.message
        );
    }

    #[test]
    fn names_the_winner() {
        let text = [
            vs("foo", "a", "[ratings]", ""),
            vs(
                "bar",
                "b",
                "[ratings.foo.svc.cluster.local]",
                ", gateways: [mesh]",
            ),
        ]
        .concat();
        let f = run(&text);
        assert_eq!(f.len(), 2);
        assert!(
            f[0].message
                .contains("uses the routes of one VirtualService (this one"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.contains("(foo/a by creationTimestamp"),
            "{}",
            f[1].message
        );
    }
}
