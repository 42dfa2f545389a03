//! MESH903 multiple-peer-authentications: several PeerAuthentications at one level for one
//! namespace or workload, of which istiod applies only the oldest, and workload policies in the
//! root namespace, which it ignores.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::security::peer::PeerAuthns;
use crate::mesh::workloads::selector_text;
use crate::model::raw::label;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct MultiplePeerAuthentications;

static META: RuleMeta = RuleMeta {
    code: "MESH903",
    name: "multiple-peer-authentications",
    summary: "several PeerAuthentications for one namespace or workload (only the oldest applies), or a selector in the root namespace",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0002", "KIA0003"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH903-multiple-peer-authentications.md"),
};

impl Rule for MultiplePeerAuthentications {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let peers = cx.mtls();
        let peers: &PeerAuthns = &peers.peers;
        let root = peers.root().to_string();
        for ns in peers.wide_namespaces() {
            let list = peers.namespace_wide(ns);
            let Some((&winner, losers)) = list.split_first() else {
                continue;
            };
            let scope = if ns == root {
                "mesh-wide".to_string()
            } else {
                format!("namespace-wide in `{ns}`")
            };
            for &loser in losers {
                cx.report(
                    loser,
                    FieldPath::parse("metadata.name"),
                    format!(
                        "another selector-less PeerAuthentication is {scope}: istiod applies only the oldest, {} ({}), and ignores this one ({})",
                        label(store, winner),
                        store.get(winner).created_text(),
                        store.get(loser).created_text()
                    ),
                )
                .kiali(&["KIA0002"])
                .subkind("namespace")
                .help("keep one selector-less PeerAuthentication per namespace (conventionally named `default`)")
                .related(winner, FieldPath::parse("metadata.name"), "the policy in force");
            }
        }
        // Workload policies: for each workload, the ones selecting it after the oldest.
        let mut shadowed: BTreeMap<ResId, (ResId, Vec<ResId>)> = BTreeMap::new();
        for (w, r) in store.iter() {
            let Some(wl) = r.workload() else { continue };
            let sel = peers.selecting(store, &r.namespace, &wl.pod_labels);
            if let Some((&winner, losers)) = sel.split_first() {
                for &loser in losers {
                    shadowed
                        .entry(loser)
                        .or_insert((winner, Vec::new()))
                        .1
                        .push(w);
                }
            }
        }
        for (loser, (winner, workloads)) in shadowed {
            let mut names: Vec<String> = workloads.iter().map(|&w| label(store, w)).collect();
            names.sort();
            cx.report(
                loser,
                FieldPath::parse("spec.selector"),
                format!(
                    "{} also selects {}: istiod applies only the oldest workload policy, so this one ({}) is ignored there",
                    label(store, winner),
                    names.join(", "),
                    store.get(loser).created_text()
                ),
            )
            .kiali(&["KIA0003"])
            .subkind("workload")
            .help("merge the policies, or make their selectors pick different workloads")
            .related(winner, FieldPath::parse("spec.selector"), "the policy in force");
        }
        for (id, r) in store.iter() {
            if r.namespace != root {
                continue;
            }
            if let Spec::PeerAuthentication(pa) = &r.spec
                && !pa.match_labels().is_empty()
            {
                cx.report(
                    id,
                    FieldPath::parse("spec.selector"),
                    format!(
                        "a PeerAuthentication with a selector (`{}`) in the root namespace `{root}` is ignored: istiod reads only selector-less policies there (mesh-wide), and workload policies from the workload's own namespace",
                        selector_text(pa.match_labels())
                    ),
                )
                .kiali(&[])
                .subkind("root-selector")
                .help("move the policy to the namespace of the workloads it selects");
            }
        }
    }
}
