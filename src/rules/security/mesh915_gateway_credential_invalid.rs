//! MESH915 gateway-credential-invalid: a Gateway server's `credentialName` names a Secret in
//! the gateway's namespace that istiod refuses (no certificate and key under the keys it reads,
//! a certificate that is not PEM or X.509, or one outside its validity period), so the server
//! gets no certificate and TLS handshakes fail.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::security::credential::{check_tls_secret, has_values};
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct GatewayCredentialInvalid;

static META: RuleMeta = RuleMeta {
    code: "MESH915",
    name: "gateway-credential-invalid",
    summary: "Gateway credentialName names a Secret istiod refuses: keys missing, certificate unreadable or expired",
    severity: Severity::Error,
    istio_codes: &["IST0161"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH915-gateway-credential-invalid.md"),
};

impl Rule for GatewayCredentialInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let secrets: BTreeMap<(&str, &str), ResId> = store
            .iter()
            .filter(|(_, r)| r.kind == "Secret" && r.api_version == "v1")
            .map(|(id, r)| ((r.namespace.as_str(), r.name.as_str()), id))
            .collect();
        if secrets.is_empty() {
            return;
        }
        let now = jiff::Timestamp::now().as_second();
        for (id, r) in store.iter() {
            let Spec::Gateway(gw) = &r.spec else { continue };
            let mut namespaces: Vec<&str> = cx
                .graph
                .gateway_workloads(id)
                .into_iter()
                .map(|w| store.get(w).namespace.as_str())
                .collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            for (i, server) in gw.servers.iter().enumerate() {
                let Some(cn) = server.credential_secret() else {
                    continue;
                };
                for ns in &namespaces {
                    let Some(&secret) = secrets.get(&(*ns, cn)) else {
                        continue;
                    };
                    // A stub without values is filled where it is deployed.
                    if !has_values(store.get(secret)) {
                        continue;
                    }
                    let Err(refused) = check_tls_secret(store.get(secret), now) else {
                        continue;
                    };
                    cx.report(
                        id,
                        FieldPath::parse("spec.servers").index(i).key("tls").key("credentialName"),
                        format!(
                            "credentialName `{cn}`: istiod refuses Secret {ns}/{cn} because {}, so it sends the gateway no certificate for this server and TLS handshakes on port {} fail",
                            refused.reason,
                            server.port.number.map_or("?".to_string(), |n| n.to_string())
                        ),
                    )
                    .related(secret, refused.path, format!("Secret {ns}/{cn}"))
                    .help("store a PEM certificate chain and its key under `tls.crt` and `tls.key` (a `kubernetes.io/tls` Secret), and renew it before it expires (cert-manager does both)");
                }
            }
        }
    }
}
