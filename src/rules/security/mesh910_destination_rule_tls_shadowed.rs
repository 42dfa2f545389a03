//! MESH910 destination-rule-tls-shadowed: a DestinationRule without TLS settings is the most
//! specific rule for its host and so replaces a wider rule (`*.local`,
//! `*.NS.svc.cluster.local`) that enables Istio mTLS: istiod applies one DestinationRule per
//! host and does not merge rules of different hosts, so the wider rule's TLS is lost there.

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::mesh::destination_rules::{DrEntry, effective_drs};
use crate::mesh::hosts::k8s_service_of;
use crate::mesh::security::client;
use crate::model::raw::label;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct DestinationRuleTlsShadowed;

static META: RuleMeta = RuleMeta {
    code: "MESH910",
    name: "destination-rule-tls-shadowed",
    summary: "a DestinationRule without TLS replaces a wider one that enables Istio mTLS for its host",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0204"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH910-destination-rule-tls-shadowed.md"),
};

/// A client namespace no rule lives in, for clients of every other namespace.
const OTHER_NS: &str = "\u{0}other";

impl Rule for DestinationRuleTlsShadowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let drs = &cx.index.destination_rules;
        let root = cx.settings.mesh.root_namespace().to_string();
        let auto = cx.settings.mesh.auto_mtls();
        let mutual = |e: &DrEntry| {
            let dr = client::spec(store, e.id);
            dr.workload_selector.is_none()
                && dr
                    .traffic_policy
                    .as_ref()
                    .and_then(|tp| tp.tls.as_ref())
                    .is_some_and(|t| t.mode() == "ISTIO_MUTUAL")
        };
        let mut found = Vec::new();
        for d in drs.entries() {
            let spec = client::spec(store, d.id);
            let has_tls = spec.traffic_policy.as_ref().is_some_and(|tp| {
                tp.tls.is_some() || tp.port_level_settings.iter().any(|p| p.tls.is_some())
            });
            if has_tls || spec.workload_selector.is_some() {
                continue;
            }
            let mut wider: Vec<&DrEntry> = drs
                .for_host(&d.host)
                .into_iter()
                .filter(|w| {
                    w.id != d.id && w.host.starts_with('*') && w.host != d.host && mutual(w)
                })
                .collect();
            if wider.is_empty() {
                continue;
            }
            // The most specific wider rule first, then by namespace and name, whatever the input order.
            wider.sort_by_cached_key(|w| {
                let r = store.get(w.id);
                (
                    std::cmp::Reverse(w.host.len()),
                    r.namespace.clone(),
                    r.name.clone(),
                )
            });
            let host_ns =
                k8s_service_of(&d.host).map_or(d.namespace.clone(), |(_, ns)| ns.to_string());
            let mut clients: BTreeSet<String> = wider.iter().map(|w| w.namespace.clone()).collect();
            clients.insert(d.namespace.clone());
            clients.insert(host_ns.clone());
            clients.insert(OTHER_NS.to_string());
            let mut lost: Vec<(usize, String)> = Vec::new();
            for c in &clients {
                let eff = effective_drs(drs, &d.host, c, Some(&host_ns), &root);
                if eff.first().map(|e| e.id) != Some(d.id) {
                    continue;
                }
                for (i, w) in wider.iter().enumerate() {
                    let consulted =
                        w.namespace == *c || w.namespace == host_ns || w.namespace == root;
                    if consulted && w.export.visible_from(c) {
                        let who = if c == OTHER_NS {
                            "other namespaces".to_string()
                        } else {
                            format!("`{c}`")
                        };
                        lost.push((i, who));
                    }
                }
            }
            if let Some(&(i, _)) = lost.first() {
                let w = wider[i];
                let mut who: Vec<String> = lost
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .map(|(_, c)| c.clone())
                    .collect();
                who.sort_by_key(|c| (c == "other namespaces", c.clone()));
                found.push((d.id, d.host.clone(), w.id, w.host.clone(), who));
            }
        }
        for (d, host, w, whost, who) in found {
            let path = if client::spec(store, d).traffic_policy.is_some() {
                FieldPath::parse("spec.trafficPolicy")
            } else {
                FieldPath::parse("spec.host")
            };
            let (severity, then) = if auto {
                (
                    Severity::Info,
                    "auto mTLS still sends Istio mTLS to endpoints with a sidecar, so this matters only where auto mTLS cannot tell (endpoints without the `security.istio.io/tlsMode` label, a namespace-wide DISABLE)",
                )
            } else {
                (
                    Severity::Warning,
                    "with `enableAutoMtls` off these clients send plaintext to the host",
                )
            };
            cx.report(
                d,
                path,
                format!(
                    "this DestinationRule for `{host}` sets no TLS; for clients in {} it is the rule in force, so {} (`{whost}`, ISTIO_MUTUAL) no longer applies to the host: istiod applies one DestinationRule per host and does not merge rules of different hosts; {then}",
                    who.join(" and "),
                    label(store, w),
                ),
            )
            .severity(severity)
            .help("repeat `tls: {mode: ISTIO_MUTUAL}` in this DestinationRule's trafficPolicy (and in port-level settings)")
            .related(w, FieldPath::parse("spec.trafficPolicy.tls.mode"), "the wider rule that enables mTLS");
        }
    }
}
