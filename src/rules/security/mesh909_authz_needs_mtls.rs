//! MESH909 authz-needs-mtls: an AuthorizationPolicy matches on the peer's identity (principals,
//! namespaces, `source.*` and `connection.sni` conditions), which only Istio mTLS carries,
//! while the selected workloads receive plaintext from clients in the mesh: their PeerAuthentication
//! disables mTLS, or clients send plaintext (a DestinationRule disabling TLS, auto mTLS off
//! without one enabling it, auto mTLS towards a namespace that disables mTLS).

use crate::diagnostic::Severity;
use crate::mesh::hosts::{CLUSTER_DOMAIN, fqdn};
use crate::mesh::security::authz::{self, AuthzPolicies};
use crate::mesh::security::client::{self, Lookup};
use crate::mesh::security::mode::{ClientMode, ServerMode};
use crate::model::Spec;
use crate::model::raw::label;
use crate::model::security::AuthorizationPolicy;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzNeedsMtls;

static META: RuleMeta = RuleMeta {
    code: "MESH909",
    name: "authz-needs-mtls",
    summary: "AuthorizationPolicy matches peer identities on workloads that receive plaintext from mesh clients",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0105"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH909-authz-needs-mtls.md"),
};

/// Condition keys whose value comes from the peer certificate.
const IDENTITY_KEYS: &[&str] = &["source.principal", "source.namespace", "connection.sni"];

/// The identity fields of a policy, with their paths.
fn identity_fields(ap: &AuthorizationPolicy) -> Vec<(FieldPath, String)> {
    let mut out = Vec::new();
    for (i, rule) in ap.rules().iter().enumerate() {
        let base = FieldPath::parse("spec.rules").index(i);
        for (j, from) in rule.from.iter().enumerate() {
            let s = &from.source;
            for (name, list) in [
                ("principals", &s.principals),
                ("notPrincipals", &s.not_principals),
                ("namespaces", &s.namespaces),
                ("notNamespaces", &s.not_namespaces),
            ] {
                if !list.is_empty() {
                    let path = base.clone().key("from").index(j).key("source").key(name);
                    out.push((path, format!("`{name}`")));
                }
            }
        }
        for (j, c) in rule.when.iter().enumerate() {
            if IDENTITY_KEYS.contains(&c.key.as_str()) {
                let path = base.clone().key("when").index(j).key("key");
                out.push((path, format!("the `{}` condition", c.key)));
            }
        }
    }
    out
}

impl Rule for AuthzNeedsMtls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mesh = &cx.settings.mesh;
        let root = mesh.root_namespace().to_string();
        let auto = mesh.auto_mtls();
        let view = cx.mtls();
        let peers = &view.peers;
        let policies = AuthzPolicies::build(store, &root);
        for id in policies.all().collect::<Vec<_>>() {
            let ap = authz::spec(store, id);
            if ap.has_target_refs() {
                continue;
            }
            let fields = identity_fields(ap);
            let Some((path, first)) = fields.first().cloned() else {
                continue;
            };
            let ns = store.get(id).namespace.clone();
            let labels = ap.match_labels();
            let resolved = if labels.is_empty() {
                peers.namespace_level(store, &ns)
            } else {
                peers.for_labels(store, &ns, labels)
            };
            let ns_mode = peers.namespace_level(store, &ns).mode;
            let why = if resolved.mode == ServerMode::Disable {
                let by = resolved
                    .mode_from
                    .1
                    .map_or(String::new(), |p| format!(" ({})", label(store, p)));
                Some((
                    format!("their PeerAuthentication disables mTLS{by}"),
                    resolved.mode_from.1,
                ))
            } else {
                // The hosts clients call: the Services whose selector the policy's workloads
                // match, else (none in the input) every host of the namespace.
                let mut hosts = Vec::new();
                for (_, r) in store.iter() {
                    if let Spec::Service(s) = &r.spec
                        && r.namespace == ns
                        && let Some(sel) = &s.spec.selector
                        && !sel.is_empty()
                        && sel
                            .iter()
                            .all(|(k, v)| labels.is_empty() || labels.get(k) == Some(v))
                    {
                        hosts.push(fqdn(&r.name, &r.namespace));
                    }
                }
                if hosts.is_empty() {
                    hosts.push(format!("*.{ns}.{CLUSTER_DOMAIN}"));
                }
                hosts.sort();
                let mut found = None;
                'hosts: for host in &hosts {
                    for client_ns in [ns.as_str(), "\u{0}other"] {
                        let at = Lookup {
                            host,
                            host_ns: Some(&ns),
                            port: 0,
                            client_ns,
                        };
                        let c = client::configured(
                            store,
                            &cx.index.destination_rules,
                            &root,
                            auto,
                            &at,
                        );
                        let plain = match c.mode {
                            ClientMode::IstioMutual => false,
                            ClientMode::Auto => ns_mode == ServerMode::Disable,
                            _ => true,
                        };
                        if !plain {
                            continue;
                        }
                        let text = match (c.dr, c.mode) {
                            (Some(dr), ClientMode::Auto) => format!(
                                "auto mTLS sends plaintext to {host} because namespace `{ns}` disables mTLS ({} applies)",
                                label(store, dr)
                            ),
                            (None, ClientMode::Auto) => format!(
                                "auto mTLS sends plaintext to {host} because namespace `{ns}` disables mTLS"
                            ),
                            (Some(dr), ClientMode::Disable) if c.path.is_none() => format!(
                                "clients send plaintext to {host}: {} sets no TLS and `enableAutoMtls` is off",
                                label(store, dr)
                            ),
                            (Some(dr), ClientMode::Disable) => format!(
                                "clients send plaintext to {host} as {} says",
                                label(store, dr)
                            ),
                            (Some(dr), m) => format!(
                                "clients send {m} TLS, without an Istio identity, to {host} as {} says",
                                label(store, dr)
                            ),
                            (None, _) => format!(
                                "clients send plaintext to {host}: `enableAutoMtls` is off and no DestinationRule enables mTLS"
                            ),
                        };
                        found = Some((text, c.dr));
                        break 'hosts;
                    }
                }
                found
            };
            let Some((why, cause)) = why else { continue };
            let action = ap.action().to_ascii_uppercase();
            let effect = match action.as_str() {
                "ALLOW" => {
                    "plaintext requests carry no identity, so these rules never match them and they are denied"
                }
                "DENY" => {
                    "plaintext requests carry no identity, so these fields never match them and they are not denied (a `not…` field matches them instead)"
                }
                _ => "plaintext requests carry no identity for these fields to match",
            };
            let more = match fields.len() {
                1 => String::new(),
                n => format!(" (and {} more identity fields)", n - 1),
            };
            let reported = cx
                .report(
                    id,
                    path,
                    format!("{first}{more} match the peer's mTLS identity, but {why}: {effect}"),
                )
                .help("make the workloads receive Istio mTLS (a STRICT or PERMISSIVE PeerAuthentication, and auto mTLS or a DestinationRule with ISTIO_MUTUAL), or match on ipBlocks instead");
            if let Some(c) = cause {
                reported.related(
                    c,
                    FieldPath::parse("metadata.name"),
                    "why traffic is plaintext",
                );
            }
        }
    }
}
