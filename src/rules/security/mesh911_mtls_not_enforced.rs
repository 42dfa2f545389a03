//! MESH911 mtls-not-enforced: with auto mTLS off, a mesh-wide or namespace-wide
//! DestinationRule turns Istio mTLS on for clients, but no PeerAuthentication sets a mode for
//! the servers, which stay PERMISSIVE: mTLS is used but not required.

use crate::diagnostic::Severity;
use crate::mesh::hosts::CLUSTER_DOMAIN;
use crate::mesh::security::client;
use crate::mesh::security::peer::{self, PeerAuthns};
use crate::model::ResId;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct MtlsNotEnforced;

static META: RuleMeta = RuleMeta {
    code: "MESH911",
    name: "mtls-not-enforced",
    summary: "a mesh-wide or namespace-wide DestinationRule enables mTLS while no PeerAuthentication requires it (auto mTLS off)",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &["KIA0205", "KIA0206"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH911-mtls-not-enforced.md"),
};

/// Whether a selector-less policy of `ns` sets a mode (UNSET inherits).
fn sets_mode(store: &crate::model::Store, peers: &PeerAuthns, ns: &str) -> bool {
    peers
        .namespace_wide(ns)
        .first()
        .is_some_and(|&id| peer::spec(store, id).mode().is_some())
}

impl Rule for MtlsNotEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        if cx.settings.mesh.auto_mtls() {
            return;
        }
        let store = cx.store;
        let view = cx.mtls();
        let peers = &view.peers;
        let root = peers.root().to_string();
        let mut found: Vec<(ResId, String, &'static [&'static str])> = Vec::new();
        for e in cx.index.destination_rules.entries() {
            let dr = client::spec(store, e.id);
            let mutual = dr
                .traffic_policy
                .as_ref()
                .and_then(|tp| tp.tls.as_ref())
                .is_some_and(|t| t.mode() == "ISTIO_MUTUAL");
            if !mutual || dr.workload_selector.is_some() {
                continue;
            }
            let mesh_wide = matches!(e.host.as_str(), "*" | "*.local" | "*.cluster.local")
                || e.host == format!("*.{CLUSTER_DOMAIN}");
            if mesh_wide {
                if !sets_mode(store, peers, &root) {
                    found.push((
                        e.id,
                        format!("no mesh-wide PeerAuthentication (selector-less, in the root namespace `{root}`) sets a mode"),
                        &["KIA0205"],
                    ));
                }
                continue;
            }
            let Some(ns) = e
                .host
                .strip_prefix("*.")
                .and_then(|h| h.strip_suffix(CLUSTER_DOMAIN))
                .and_then(|h| h.strip_suffix('.'))
                .filter(|ns| !ns.is_empty() && !ns.contains('.'))
            else {
                continue;
            };
            if !sets_mode(store, peers, ns) && !sets_mode(store, peers, &root) {
                found.push((
                    e.id,
                    format!("no PeerAuthentication for namespace `{ns}` or the mesh sets a mode"),
                    &["KIA0206"],
                ));
            }
        }
        for (id, why, kiali) in found {
            cx.report(
                id,
                FieldPath::parse("spec.trafficPolicy.tls.mode"),
                format!(
                    "clients send Istio mTLS to these hosts, but {why}: the servers run PERMISSIVE (istiod's default) and still accept plaintext from clients outside the mesh, so mTLS is used but not required"
                ),
            )
            .kiali(kiali)
            .help("add a PeerAuthentication with `mtls.mode: STRICT` (mesh-wide in the root namespace, or for the namespace) once every client has a sidecar; PERMISSIVE states the current behaviour explicitly");
        }
    }
}
