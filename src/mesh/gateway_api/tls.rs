//! A listener's `tls` as istiod resolves it for the listener's status (`buildTLS`,
//! `buildSecretReference`, `caCertificateResourceName` and `buildCaCertificateReference` in
//! istio's `pilot/pkg/config/kube/gateway/conversion.go`): the certificate Secrets, their
//! ReferenceGrants, and the Gateway's frontend client-certificate validation
//! (`spec.tls.frontend`, `resolveGatewayTLS`).

use crate::mesh::security::credential::{check_ca_bundle, check_key_pair, has_values};
use crate::model::gateway_api::{Listener, ObjectRef};
use crate::model::raw::raw;
use crate::model::{Resource, Store};
use crate::source::{FieldPath, Node};

use super::GatewayApi;

/// The `ResolvedRefs=False` reasons of a listener (`ConfigErrorReason` in `conditions.go`).
pub const INVALID_CERTIFICATE_REF: &str = "InvalidCertificateRef";
pub const INVALID_CA_CERTIFICATE_REF: &str = "InvalidCACertificateRef";
pub const INVALID_CA_CERTIFICATE_KIND: &str = "InvalidCACertificateKind";
pub const REF_NOT_PERMITTED: &str = "RefNotPermitted";

/// The option that makes istiod serve its own workload certificate, with no Secret.
const TERMINATE_MODE_OPTION: &str = "gateway.istio.io/tls-terminate-mode";

/// Why a listener's TLS does not resolve: the `ResolvedRefs=False` reason, istiod's message,
/// the reference at fault, and whether the cause may lie outside the input (a Secret, ConfigMap
/// or ReferenceGrant missing from a namespace that has others of its kind in the input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsError {
    pub reason: &'static str,
    pub message: String,
    pub path: FieldPath,
    pub partial: bool,
}

impl TlsError {
    fn new(reason: &'static str, message: String) -> Self {
        Self {
            reason,
            message,
            path: FieldPath::parse("spec.listeners"),
            partial: false,
        }
    }

    fn at(self, path: FieldPath) -> Self {
        Self { path, ..self }
    }

    fn partial(self, partial: bool) -> Self {
        Self { partial, ..self }
    }

    /// Errors that also refuse the listener (`Accepted=False`, `NoValidCACertificate`).
    pub fn refuses(&self) -> bool {
        matches!(
            self.reason,
            INVALID_CA_CERTIFICATE_REF | INVALID_CA_CERTIFICATE_KIND | REF_NOT_PERMITTED
        )
    }
}

/// The outcome of resolving a listener's `tls`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsResult {
    pub error: Option<TlsError>,
    /// What was assumed about objects the input lacks (a Secret or ConfigMap in a namespace
    /// the input has none of), when the result rests on it.
    pub assumed: Option<String>,
}

fn is_core(group: Option<&str>) -> bool {
    matches!(group.unwrap_or(""), "" | "core")
}

/// `spec.tls.frontend` for a port: its `perPort` entry, else `default`, with its path.
fn frontend_validation(gw: &Resource, port: Option<i64>) -> Option<(&Node, FieldPath)> {
    let frontend = raw(gw, "spec.tls.frontend")?;
    let per_port = frontend
        .get("perPort")
        .and_then(Node::as_seq)
        .and_then(|s| {
            s.iter().enumerate().find(|(_, p)| {
                p.get("port")
                    .and_then(|n| n.scalar_text().parse::<i64>().ok())
                    == port
            })
        });
    let (tls, path) = match per_port {
        Some((i, p)) => (
            p.get("tls")?,
            FieldPath::parse("spec.tls.frontend.perPort")
                .index(i)
                .key("tls"),
        ),
        None => (
            frontend.get("default")?,
            FieldPath::parse("spec.tls.frontend.default"),
        ),
    };
    Some((tls.get("validation")?, path.key("validation")))
}

impl GatewayApi {
    /// Resolves the `tls` of listener `index` of a Gateway of istio's class.
    pub(super) fn listener_tls(
        &self,
        store: &Store,
        gw: &Resource,
        index: usize,
        l: &Listener,
    ) -> TlsResult {
        let mut out = TlsResult::default();
        let Some(tls) = &l.tls else { return out };
        if tls.mode.as_deref().unwrap_or("Terminate") != "Terminate" {
            return out;
        }
        let option = raw(gw, "spec.listeners")
            .and_then(Node::as_seq)
            .and_then(|ls| ls.get(index))
            .and_then(|n| n.get("tls")?.get("options")?.get(TERMINATE_MODE_OPTION))
            .and_then(Node::as_str);
        if matches!(option, Some("ISTIO_SIMPLE" | "ISTIO_MUTUAL")) {
            return out;
        }
        let refs_path = FieldPath::parse("spec.listeners")
            .index(index)
            .key("tls")
            .key("certificateRefs");
        if tls.certificate_refs.len() > 2 {
            let message = "TLS mode can only support up to 2 server certificates".into();
            out.error = Some(TlsError::new(INVALID_CERTIFICATE_REF, message).at(refs_path));
            return out;
        }
        let mut errors: Vec<TlsError> = Vec::new();
        let mut valid = 0;
        for (i, c) in tls.certificate_refs.iter().enumerate() {
            match self.certificate(store, gw, c, &mut out.assumed) {
                Ok(()) => valid += 1,
                Err(e) => errors.push(e.at(refs_path.clone().index(i))),
            }
        }
        if valid == 0 {
            // `joinErrors`: the first error's reason, every message.
            out.error = errors.first().map(|first| TlsError {
                message: errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                partial: errors.iter().all(|e| e.partial),
                ..first.clone()
            });
            return out;
        }
        if let Some((v, path)) = frontend_validation(gw, l.port) {
            out.error = self
                .ca_certificate(store, gw, v, &mut out.assumed)
                .map_err(|e| e.at(path.key("caCertificateRefs")))
                .err();
        }
        out
    }

    fn certificate(
        &self,
        store: &Store,
        gw: &Resource,
        c: &ObjectRef,
        assumed: &mut Option<String>,
    ) -> Result<(), TlsError> {
        let ns = c.namespace.as_deref().unwrap_or(&gw.namespace);
        let shown = format!(
            "{}/{}/{}.{}",
            c.group.as_deref().unwrap_or(""),
            c.kind.as_deref().unwrap_or(""),
            c.name,
            c.namespace.as_deref().unwrap_or("")
        );
        // The grant is checked before the Secret is looked up, as istiod does.
        if ns != gw.namespace
            && self
                .grants
                .allows(store, "Gateway", &gw.namespace, ("", "Secret", &c.name, ns))
                .is_none()
        {
            return Err(TlsError::new(
                REF_NOT_PERMITTED,
                format!(
                    "certificateRef {}/{ns} not accessible to a Gateway in namespace {:?} (missing a ReferenceGrant?)",
                    c.name, gw.namespace
                ),
            )
            .partial(!self.grants.any_in(ns)));
        }
        if !is_core(c.group.as_deref()) || c.kind.as_deref().unwrap_or("Secret") != "Secret" {
            return Err(TlsError::new(
                INVALID_CERTIFICATE_REF,
                format!("invalid certificate reference {shown}, only secret is allowed"),
            ));
        }
        match self.object("Secret", ns, &c.name) {
            Some(s) if !has_values(store.get(s)) => {
                assumed.get_or_insert_with(|| {
                    format!(
                        "the certificate Secret {ns}/{} has no data in the input: assumed to be filled with a key pair where it is deployed",
                        c.name
                    )
                });
                Ok(())
            }
            Some(s) => check_key_pair(store.get(s)).map_err(|r| {
                TlsError::new(
                    INVALID_CERTIFICATE_REF,
                    format!("invalid certificate reference {shown}, {}", r.reason),
                )
            }),
            None if self.kind_in_namespace("Secret", ns) => Err(TlsError::new(
                INVALID_CERTIFICATE_REF,
                format!(
                    "invalid certificate reference {shown}, secret {ns}/{} not found",
                    c.name
                ),
            )
            .partial(true)),
            None => {
                assumed.get_or_insert_with(|| {
                    format!(
                        "the certificate Secret {ns}/{} is not in the input (nor any Secret of {ns}): assumed to exist and hold a key pair",
                        c.name
                    )
                });
                Ok(())
            }
        }
    }

    fn ca_certificate(
        &self,
        store: &Store,
        gw: &Resource,
        validation: &Node,
        assumed: &mut Option<String>,
    ) -> Result<(), TlsError> {
        let Some(refs) = validation
            .get("caCertificateRefs")
            .and_then(Node::as_seq)
            .filter(|r| !r.is_empty())
        else {
            return Ok(());
        };
        if refs.len() > 1 {
            return Err(TlsError::new(
                INVALID_CA_CERTIFICATE_REF,
                "only one caCertificateRef is supported".into(),
            ));
        }
        let field = |k: &str| refs[0].get(k).and_then(Node::as_str).unwrap_or("");
        let (group, kind, name) = (field("group"), field("kind"), field("name"));
        let ns = refs[0]
            .get("namespace")
            .and_then(Node::as_str)
            .unwrap_or(&gw.namespace);
        let shown = format!("{group}/{kind}/{name}.{}", field("namespace"));
        let core = is_core(Some(group));
        let is_secret = core && kind == "Secret";
        if ns != gw.namespace {
            let to_kind = if is_secret { "Secret" } else { "ConfigMap" };
            if self
                .grants
                .allows(store, "Gateway", &gw.namespace, ("", to_kind, name, ns))
                .is_none()
            {
                return Err(TlsError::new(
                    REF_NOT_PERMITTED,
                    format!(
                        "caCertificateRef {ns}/{name} not accessible to a Gateway in namespace {:?} (missing a ReferenceGrant?)",
                        gw.namespace
                    ),
                )
                .partial(!self.grants.any_in(ns)));
            }
        }
        let kind_key = match (core, kind) {
            (true, "Secret") => "Secret",
            (true, "ConfigMap") => "ConfigMap",
            _ => {
                return Err(TlsError::new(
                    INVALID_CA_CERTIFICATE_KIND,
                    format!(
                        "invalid CA certificate reference {shown}, only secret and configmap are allowed"
                    ),
                ));
            }
        };
        match self.object(kind_key, ns, name) {
            Some(id) if !has_values(store.get(id)) => {
                assumed.get_or_insert_with(|| {
                    format!(
                        "the CA {kind_key} {ns}/{name} has no data in the input: assumed to be filled with a CA bundle where it is deployed"
                    )
                });
                Ok(())
            }
            Some(id) => check_ca_bundle(store.get(id)).map_err(|e| {
                TlsError::new(
                    INVALID_CA_CERTIFICATE_REF,
                    format!("invalid CA certificate reference {shown}, {e}"),
                )
            }),
            None if self.kind_in_namespace(kind_key, ns) => Err(TlsError::new(
                INVALID_CA_CERTIFICATE_REF,
                format!(
                    "invalid CA certificate reference {shown}, {} {ns}/{name} not found",
                    kind_key.to_ascii_lowercase()
                ),
            )
            .partial(true)),
            None => {
                assumed.get_or_insert_with(|| {
                    format!(
                        "the CA {kind_key} {ns}/{name} is not in the input (nor any {kind_key} of {ns}): assumed to exist and hold a CA bundle"
                    )
                });
                Ok(())
            }
        }
    }

    /// Resolves the `tls` of every listener of istio's class that is not conflicted (istiod
    /// builds no listener for a conflicted one).
    pub(super) fn resolve_listener_tls(&mut self, store: &Store) {
        let mut results = Vec::new();
        for (gi, g) in self.gateways.iter().enumerate() {
            if !g.class.routes_converted() {
                continue;
            }
            let r = store.get(g.id);
            let crate::model::Spec::K8sGateway(spec) = &r.spec else {
                continue;
            };
            for (li, l) in spec.listeners.iter().enumerate() {
                if g.listeners.get(li).is_some_and(|v| v.conflict.is_none()) {
                    results.push((gi, li, self.listener_tls(store, r, li, l)));
                }
            }
        }
        for (gi, li, result) in results {
            self.gateways[gi].listeners[li].tls_result = result;
        }
    }
}
