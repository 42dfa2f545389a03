//! `meshlint mtls`: both ends of every mesh connection the input describes, as rows of text
//! the report layer prints: what each workload port accepts, and what clients send to each
//! Service port with the setting that decides it.

use std::collections::BTreeMap;

use crate::envoy::load::take_dumps;
use crate::mesh::graph::MeshGraph;
use crate::mesh::injection::is_istio_gateway;
use crate::mesh::security::authz::AuthzPolicies;
use crate::mesh::security::mode::ClientMode;
use crate::mesh::security::peer::Level;
use crate::mesh::security::ports::Sidecar;
use crate::mesh::security::view::{Clients, MtlsView, Outbound, Server};
use crate::model::raw::label;
use crate::model::{ResId, Store};
use crate::rules::Indexes;
use crate::source::{InputError, Notice};

use super::{Settings, discovery, mesh_settings, model_options, warn_if_empty};

/// What a workload port accepts and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InboundRow {
    pub workload: String,
    pub namespace: String,
    pub port: i64,
    /// STRICT, PERMISSIVE, DISABLE, or `no sidecar` (the application's own protocol).
    pub mode: String,
    /// The PeerAuthentication that sets the mode, or `default`.
    pub policy: String,
    pub level: String,
    pub sidecar: String,
}

/// What one group of clients sends to a destination port and what the server does with it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutboundRow {
    pub destination: String,
    /// `Deployment ns/name:PORT`, or `namespace NS` for a namespace-wide row.
    pub server: String,
    pub server_namespace: String,
    pub clients: Vec<String>,
    /// The configured mode: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL or `auto`.
    pub configured: String,
    /// Where it comes from: a DestinationRule field, or why there is none.
    pub via: String,
    /// What goes on the wire: plaintext, TLS, mTLS (own certificates) or Istio mTLS.
    pub sends: String,
    pub accepts: String,
    pub accepts_via: String,
    pub problem: Option<String>,
}

/// The AuthorizationPolicies that apply to a workload, by action.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuthzRow {
    pub workload: String,
    pub namespace: String,
    pub custom: Vec<String>,
    pub deny: Vec<String>,
    pub audit: Vec<String>,
    pub allow: Vec<String>,
    /// Some ALLOW policy applies: what no ALLOW rule matches is denied.
    pub default_deny: bool,
}

pub struct MtlsTable {
    pub root_namespace: String,
    pub auto_mtls: bool,
    pub inbound: Vec<InboundRow>,
    pub authorization: Vec<AuthzRow>,
    pub outbound: Vec<OutboundRow>,
    pub errors: Vec<InputError>,
    pub notices: Vec<Notice>,
}

fn policy_text(store: &Store, level: Level, policy: Option<ResId>) -> String {
    match policy {
        Some(p) => format!("{} ({})", label(store, p), level.as_str()),
        None => "no PeerAuthentication: PERMISSIVE by default".into(),
    }
}

fn sidecar_text(s: &Sidecar) -> String {
    match s {
        Sidecar::Yes(why) => format!("yes: {why}"),
        Sidecar::No(why) => format!("no: {why}"),
        Sidecar::Ambient => "no: ambient mode, ztunnel applies mTLS".into(),
        Sidecar::Unknown(why) => format!("unknown: {why}"),
    }
}

fn wire(m: ClientMode) -> &'static str {
    match m {
        ClientMode::Disable => "plaintext",
        ClientMode::Simple => "TLS (no client certificate)",
        ClientMode::Mutual => "mTLS with its own certificates",
        ClientMode::IstioMutual | ClientMode::Auto => "Istio mTLS",
    }
}

fn outbound_row(store: &Store, o: &Outbound, auto: bool) -> OutboundRow {
    let (server, server_namespace) = match &o.server {
        Server::Workload { workload, target } => {
            let r = store.get(*workload);
            (
                format!("{}:{target}", label(store, *workload)),
                r.namespace.clone(),
            )
        }
        Server::Namespace(ns) => (format!("every workload of namespace {ns}"), ns.clone()),
    };
    let via = match (o.configured.dr, &o.configured.path) {
        (Some(dr), Some(path)) => format!("{} `{path}`", label(store, dr)),
        (Some(dr), None) if auto => format!("{} (no TLS setting: auto mTLS)", label(store, dr)),
        (Some(dr), None) => format!(
            "{} (no TLS setting, `enableAutoMtls` off: plaintext)",
            label(store, dr)
        ),
        (None, _) if auto => "no DestinationRule: auto mTLS".into(),
        (None, _) => "no DestinationRule, `enableAutoMtls` off: plaintext".into(),
    };
    let sends = match (o.configured.mode, o.sends, &o.sidecar) {
        (ClientMode::Auto, ClientMode::IstioMutual, _) => "Istio mTLS (auto)".to_string(),
        (ClientMode::Auto, _, Sidecar::No(_)) => {
            "plaintext (auto: the server has no sidecar)".into()
        }
        (ClientMode::Auto, _, _) => {
            "plaintext (auto: the namespace-wide or mesh-wide policy disables mTLS)".into()
        }
        (_, m, _) => wire(m).to_string(),
    };
    let (accepts, accepts_via) = match (o.accepts, &o.sidecar) {
        (Some(m), _) => (
            m.as_str().to_string(),
            policy_text(store, o.policy.0, o.policy.1),
        ),
        (None, Sidecar::No(why)) => ("no sidecar".into(), why.clone()),
        (None, _) => ("no sidecar".into(), String::new()),
    };
    let destination = if o.port == 0 {
        o.host.clone()
    } else {
        format!("{}:{}", o.host, o.port)
    };
    let clients = match &o.clients {
        Clients::Namespace(ns) => ns.clone(),
        Clients::Others => "other namespaces".into(),
    };
    OutboundRow {
        destination,
        server,
        server_namespace,
        clients: vec![clients],
        configured: match o.configured.mode {
            ClientMode::Auto => "auto".into(),
            m => m.as_str().to_string(),
        },
        via,
        sends,
        accepts,
        accepts_via,
        problem: o.problem.map(str::to_string),
    }
}

/// Loads `paths` and resolves both ends of every connection.
pub fn mtls(paths: &[String], settings: &Settings) -> Result<MtlsTable, String> {
    let mut sources = crate::source::load(paths, &discovery(settings)?);
    let dumps = take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    warn_if_empty(&mut sources, &store, &dumps);
    let mesh = mesh_settings(settings, &store)?;
    let index = Indexes::build(&store, &mesh);
    let graph = MeshGraph::build(&store, &index.hosts, &index.workloads);
    let view = MtlsView::build(&store, &graph, &index.destination_rules, &mesh);
    let auto = mesh.mesh.auto_mtls();
    let mut inbound: Vec<InboundRow> = view
        .inbound
        .iter()
        .map(|i| {
            let r = store.get(i.workload);
            InboundRow {
                workload: label(&store, i.workload),
                namespace: r.namespace.clone(),
                port: i.port,
                mode: i
                    .mode
                    .map_or("no sidecar".into(), |m| m.as_str().to_string()),
                policy: policy_text(&store, i.level, i.policy),
                level: i.level.as_str().to_string(),
                sidecar: sidecar_text(&i.sidecar),
            }
        })
        .collect();
    inbound.sort_by(|a, b| {
        (&a.namespace, &a.workload, a.port).cmp(&(&b.namespace, &b.workload, b.port))
    });
    // Client groups that are configured alike share one row.
    let mut merged: BTreeMap<(String, String, String, String, String), OutboundRow> =
        BTreeMap::new();
    for o in &view.outbound {
        // Namespace-wide rows that no policy or rule shapes say nothing the defaults do not.
        if matches!(o.server, Server::Namespace(_))
            && o.policy.1.is_none()
            && o.configured.dr.is_none()
        {
            continue;
        }
        let row = outbound_row(&store, o, auto);
        let key = (
            row.server_namespace.clone(),
            row.destination.clone(),
            row.server.clone(),
            row.via.clone(),
            row.sends.clone(),
        );
        match merged.get_mut(&key) {
            Some(existing) => existing.clients.extend(row.clients),
            None => {
                merged.insert(key, row);
            }
        }
    }
    let outbound = merged
        .into_values()
        .map(|mut r| {
            r.clients
                .sort_by_key(|c| (c == "other namespaces", c.clone()));
            r
        })
        .collect();
    let policies = AuthzPolicies::build(&store, mesh.mesh.root_namespace());
    let mut authorization = Vec::new();
    if !policies.is_empty() {
        for (_, r) in store.iter() {
            if r.workload().is_none() || is_istio_gateway(r) {
                continue;
            }
            let a = policies.for_workload(&store, r);
            let names = |ids: &[ResId]| ids.iter().map(|&i| label(&store, i)).collect::<Vec<_>>();
            authorization.push(AuthzRow {
                workload: format!("{} {}/{}", r.kind, r.namespace, r.name),
                namespace: r.namespace.clone(),
                custom: names(&a.custom),
                deny: names(&a.deny),
                audit: names(&a.audit),
                default_deny: !a.allow.is_empty(),
                allow: names(&a.allow),
            });
        }
        authorization.sort_by(|a, b| (&a.namespace, &a.workload).cmp(&(&b.namespace, &b.workload)));
    }
    let mut errors = sources.errors;
    errors.sort();
    Ok(MtlsTable {
        root_namespace: mesh.mesh.root_namespace().to_string(),
        auto_mtls: auto,
        inbound,
        authorization,
        outbound,
        errors,
        notices: sources.notices,
    })
}
