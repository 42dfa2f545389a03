//! MESH301 externalname-catch-all: before Istio 1.21 an ExternalName Service's TCP port is a
//! `0.0.0.0:PORT` listener in every sidecar that sees it, capturing traffic to any IP on PORT.

use crate::diagnostic::Severity;
use crate::mesh::owners::OwnerKind;

use super::catch_all::{
    container_port_path, port_field, scope_list, scopes_with, victims, workload_list,
};
use crate::rules::listeners::dump_catch_all::{self, Behind};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ExternalNameCatchAll;

static META: RuleMeta = RuleMeta {
    code: "MESH301",
    name: "externalname-catch-all",
    summary: "ExternalName Service with a TCP port opens a 0.0.0.0 catch-all listener in every sidecar",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH301-externalname-catch-all.md"),
};

/// The help on a config dump's catch-all listener owned by this rule's kind of service.
const DUMP_HELP: &str = "annotate the ExternalName Service with `networking.istio.io/exportTo: \".\"`, drop its TCP port, use a ServiceEntry with `addresses` or a VirtualService instead, or upgrade to Istio ≥ 1.21 (ExternalName Services become aliases); `meshlint trace` shows where a given destination goes";

impl Rule for ExternalNameCatchAll {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        dump_catch_all::report(cx, Behind::ExternalName, DUMP_HELP);
        let table = cx.listeners();
        let store = cx.store;
        let flag = if cx.settings.external_name_alias == Some(false) {
            " with ENABLE_EXTERNAL_NAME_ALIAS=false on istiod"
        } else {
            ""
        };
        let version = match cx.settings.istio_version {
            Some((maj, min)) => format!(
                "Istio {maj}.{min} (from {}){flag} treats ExternalName Services as DNS services",
                cx.settings.istio_version_source
            ),
            None => "assuming Istio < 1.21 (no version given or detected; pass --istio-version): ExternalName Services are DNS services there".into(),
        };
        for (i, owner) in table.owners.iter().enumerate() {
            if owner.kind != OwnerKind::ExternalName || !owner.proto.is_tcp_like() {
                continue;
            }
            let scopes = scopes_with(&table, i);
            if scopes.is_empty() {
                continue;
            }
            let hit = victims(cx.graph, &table, i);
            let target = owner.target.as_deref().unwrap_or("?");
            let traffic = if hit.is_empty() {
                format!(
                    "no workload in the input serves port {} in those scopes, but any connection from them to another IP on port {} is captured",
                    owner.port, owner.port
                )
            } else {
                format!(
                    "traffic of {} to pod IPs on port {} now goes there too",
                    workload_list(store, &hit),
                    owner.port
                )
            };
            let message = format!(
                "port {port} ({proto}) of this ExternalName Service gives every sidecar in {scopes} a listener 0.0.0.0:{port} → {cluster} ({version}); connections to any IP on port {port} without their own listener go to {target} instead of PassthroughCluster: {traffic}",
                port = owner.port,
                proto = owner.proto.as_str(),
                scopes = scope_list(store, &table, &scopes),
                cluster = owner.cluster(),
            );
            let severity = if hit.is_empty() || cx.settings.istio_version.is_none() {
                Severity::Warning
            } else {
                Severity::Error
            };
            let mut r = cx
                .report(owner.resource, port_field(owner), message)
                .severity(severity)
                .help(format!(
                    "annotate the Service with `networking.istio.io/exportTo: \".\"` so only its namespace sees it; drop the TCP port if only HTTP is needed (HTTP ports are Host-routed); route to {target} with a ServiceEntry with `addresses` or a VirtualService instead of an ExternalName; or upgrade to Istio ≥ 1.21, where ExternalName Services are aliases"
                ));
            for w in hit {
                let wl = store.get(w);
                let path = container_port_path(wl, owner.port);
                r = r.related(
                    w,
                    path,
                    format!(
                        "{} {}/{} serves port {}; its pod-IP traffic is captured",
                        wl.kind, wl.namespace, wl.name, owner.port
                    ),
                );
            }
        }
    }
}
