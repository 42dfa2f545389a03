//! MESH901 mtls-mode-mismatch: what a client sidecar sends to a workload port does not fit
//! what the server's sidecar accepts there (see [`crate::mesh::security::view`]).
//!
//! The finding is on the setting that breaks the pair: an explicit DestinationRule TLS mode
//! (DISABLE, SIMPLE or MUTUAL towards STRICT; ISTIO_MUTUAL towards a workload without a
//! sidecar), else the PeerAuthentication mode clients cannot meet (STRICT while clients send
//! plaintext, DISABLE while they send mTLS). Rows are grouped by that setting.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::security::mode::{ClientMode, ServerMode};
use crate::mesh::security::peer::Level;
use crate::mesh::security::view::{Clients, Outbound, Server};
use crate::model::raw::label;
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct MtlsModeMismatch;

static META: RuleMeta = RuleMeta {
    code: "MESH901",
    name: "mtls-mode-mismatch",
    summary: "a client's TLS mode does not fit the mTLS mode the server's sidecar accepts",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[
        "KIA0207", "KIA0208", "KIA0401", "KIA0501", "KIA0505", "KIA0506",
    ],
    opt_in: false,
    doc: include_str!("../../../rules/MESH901-mtls-mode-mismatch.md"),
};

/// The setting a finding is reported on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Blame {
    resource: ResId,
    path: FieldPath,
}

fn server_text(store: &Store, o: &Outbound) -> String {
    match &o.server {
        Server::Workload { workload, target } => {
            format!("{} port {target}", label(store, *workload))
        }
        Server::Namespace(ns) => {
            format!("every workload of namespace `{ns}` without a workload policy")
        }
    }
}

fn destination_text(o: &Outbound) -> String {
    if o.port == 0 {
        o.host.clone()
    } else {
        format!("{}:{}", o.host, o.port)
    }
}

fn accepts_text(o: &Outbound) -> String {
    match o.accepts {
        Some(m) => format!("accepts {m}"),
        None => "has no sidecar".into(),
    }
}

fn policy_path(o: &Outbound) -> FieldPath {
    match (o.policy.0, &o.server) {
        (Level::Port, Server::Workload { target, .. }) => FieldPath::parse("spec.portLevelMtls")
            .key(target.to_string())
            .key("mode"),
        _ => FieldPath::parse("spec.mtls.mode"),
    }
}

fn blame(o: &Outbound) -> Option<(Blame, &'static [&'static str])> {
    let explicit_dr = o.configured.dr.zip(o.configured.path.clone());
    match (o.sends, o.accepts) {
        (
            ClientMode::Disable | ClientMode::Simple | ClientMode::Mutual,
            Some(ServerMode::Strict),
        )
        | (ClientMode::IstioMutual, None)
            if explicit_dr.is_some() =>
        {
            let (resource, path) = explicit_dr?;
            let kiali: &'static [&'static str] = match (
                o.sends,
                o.policy.0,
                matches!(o.server, Server::Namespace(_)),
            ) {
                (ClientMode::Disable, Level::Namespace, true) => &["KIA0207"],
                (ClientMode::Disable, Level::Mesh, true) => &["KIA0208"],
                _ => &[],
            };
            Some((Blame { resource, path }, kiali))
        }
        (_, Some(mode)) => {
            let resource = o.policy.1?;
            let kiali: &'static [&'static str] = match (mode, o.policy.0) {
                (ServerMode::Strict, Level::Mesh) => &["KIA0401"],
                (ServerMode::Strict, Level::Namespace) => &["KIA0501"],
                (ServerMode::Disable, Level::Namespace) => &["KIA0505"],
                (ServerMode::Disable, Level::Mesh) => &["KIA0506"],
                _ => &[],
            };
            Some((
                Blame {
                    resource,
                    path: policy_path(o),
                },
                kiali,
            ))
        }
        _ => None,
    }
}

/// The clients of the rows, `clients in `a` and `b``, other namespaces last.
fn clients_text(rows: &[&Outbound]) -> String {
    let mut set: Vec<&Clients> = rows.iter().map(|o| &o.clients).collect();
    set.sort();
    set.dedup();
    let names: Vec<String> = set
        .iter()
        .map(|c| match c {
            Clients::Namespace(ns) => format!("`{ns}`"),
            Clients::Others => "other namespaces".into(),
        })
        .collect();
    format!("clients in {}", names.join(" and "))
}

fn client_text(o: &Outbound, clients: &str) -> String {
    let how = match (o.configured.mode, &o.why) {
        (ClientMode::Auto, Some(why)) => format!("{} ({why})", o.sends),
        (_, _) if o.configured.dr.is_none() && o.sends == ClientMode::Disable => {
            "plaintext (no DestinationRule sets TLS and `enableAutoMtls` is off)".into()
        }
        (_, _) if o.configured.path.is_none() && o.sends == ClientMode::Disable => {
            "plaintext (the DestinationRule in force sets no TLS and `enableAutoMtls` is off)"
                .into()
        }
        (ClientMode::Disable, _) => "plaintext (`tls.mode: DISABLE`)".into(),
        (ClientMode::Simple, _) => "TLS without a client certificate (`SIMPLE`)".into(),
        (ClientMode::Mutual, _) => "TLS with their own client certificate (`MUTUAL`)".into(),
        (m, _) => format!("Istio mTLS ({m})"),
    };
    format!("{clients} send {how}")
}

impl Rule for MtlsModeMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.mtls();
        let store = cx.store;
        let mut groups: BTreeMap<Blame, (Vec<&Outbound>, &'static [&'static str])> =
            BTreeMap::new();
        for o in view.mismatches() {
            if let Some((b, kiali)) = blame(o) {
                groups.entry(b).or_insert((Vec::new(), kiali)).0.push(o);
            }
        }
        for (b, (mut rows, kiali)) in groups {
            // Input order must not choose the row the message shows.
            rows.sort_by_cached_key(|o| {
                (
                    destination_text(o),
                    server_text(store, o),
                    o.clients.clone(),
                )
            });
            let first = rows[0];
            // Clients the input shows no workload of may not exist: a warning then.
            let hypothetical = rows.iter().all(|o| match &o.clients {
                Clients::Others => true,
                Clients::Namespace(ns) => {
                    !cx.index.workloads.namespace_has_workloads(ns)
                        && !matches!(&o.server, Server::Namespace(s) if s == ns)
                }
            });
            let mut servers: Vec<(String, String)> = rows
                .iter()
                .map(|o| (destination_text(o), server_text(store, o)))
                .collect();
            servers.sort();
            servers.dedup();
            let more = match servers.len() {
                1 => String::new(),
                n => format!(" ({} more destinations alike)", n - 1),
            };
            let message = format!(
                "{} to {}, but {} {}: {}{more}",
                client_text(first, &clients_text(&rows)),
                destination_text(first),
                server_text(store, first),
                accepts_text(first),
                first.problem.unwrap_or_default(),
            );
            let on_dr = first.configured.dr == Some(b.resource) && first.configured.path.is_some();
            let help = if on_dr {
                "make the client's TLS mode fit the server: ISTIO_MUTUAL (or no `tls`, with auto mTLS) towards sidecars that require mTLS, DISABLE towards workloads without a sidecar or whose PeerAuthentication disables mTLS"
            } else if first.accepts == Some(ServerMode::Strict) {
                "let clients send Istio mTLS (turn `enableAutoMtls` on, or add a DestinationRule with `tls.mode: ISTIO_MUTUAL` for the hosts), or use PERMISSIVE until every client does"
            } else {
                "add a DestinationRule with `tls.mode: DISABLE` for the hosts of the workloads that disable mTLS (auto mTLS does not read workload-level policies), or stop disabling mTLS"
            };
            let mut reported = cx
                .report(b.resource, b.path.clone(), message)
                .help(help)
                .kiali(kiali);
            if hypothetical {
                reported = reported.severity(Severity::Warning);
            }
            if !on_dr && let Some(dr) = first.configured.dr {
                reported = reported.related(
                    dr,
                    FieldPath::parse("spec.host"),
                    "DestinationRule in force",
                );
            }
            if on_dr && let Some(pa) = first.policy.1 {
                reported = reported.related(pa, policy_path(first), "PeerAuthentication in force");
            }
            if let Server::Workload { workload, .. } = first.server {
                reported = reported.related(
                    workload,
                    FieldPath::parse("metadata.name"),
                    "server workload",
                );
            }
            if let Some((svc, i)) = first.service {
                reported.related(
                    svc,
                    FieldPath::parse("spec.ports").index(i),
                    "Service port clients call",
                );
            }
        }
    }
}
