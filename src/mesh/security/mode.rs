//! The TLS modes of both ends of a connection, as istiod names them.

use std::fmt;

/// What a server sidecar accepts on a port (`model.MutualTLSMode`,
/// `pilot/pkg/model/authentication.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerMode {
    /// Only mTLS with an Istio certificate.
    Strict,
    /// mTLS and plaintext.
    Permissive,
    /// Plaintext only: the sidecar terminates no TLS.
    Disable,
}

impl ServerMode {
    /// A written PeerAuthentication mode; `None` for UNSET and for what istio does not know.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "STRICT" => Some(Self::Strict),
            "PERMISSIVE" => Some(Self::Permissive),
            "DISABLE" => Some(Self::Disable),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "STRICT",
            Self::Permissive => "PERMISSIVE",
            Self::Disable => "DISABLE",
        }
    }

    /// Whether a plaintext client is served.
    pub fn accepts_plaintext(self) -> bool {
        self != Self::Strict
    }

    /// Whether an Istio mTLS client is served.
    pub fn accepts_istio_mtls(self) -> bool {
        self != Self::Disable
    }
}

impl fmt::Display for ServerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client sidecar sends (`ClientTLSSettings.TLSmode`), or auto mTLS when nothing is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientMode {
    Disable,
    Simple,
    Mutual,
    IstioMutual,
    /// No TLS setting and `enableAutoMtls` on: Istio mTLS to endpoints with a sidecar,
    /// plaintext to the others and to namespaces whose PeerAuthentication disables mTLS.
    Auto,
}

impl ClientMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "DISABLE" => Some(Self::Disable),
            "SIMPLE" => Some(Self::Simple),
            "MUTUAL" => Some(Self::Mutual),
            "ISTIO_MUTUAL" => Some(Self::IstioMutual),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "DISABLE",
            Self::Simple => "SIMPLE",
            Self::Mutual => "MUTUAL",
            Self::IstioMutual => "ISTIO_MUTUAL",
            Self::Auto => "auto mTLS",
        }
    }
}

impl fmt::Display for ClientMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server sidecar does with a client's traffic, when the two do not fit.
pub fn mismatch(client: ClientMode, server: Option<ServerMode>) -> Option<&'static str> {
    match (client, server) {
        (ClientMode::Disable, Some(ServerMode::Strict)) => Some(
            "the client sends plaintext and the server's sidecar accepts only mTLS: the connection is reset (503 `upstream connect error`, `connection termination`)",
        ),
        (ClientMode::Simple, Some(ServerMode::Strict)) => Some(
            "the client originates TLS without an Istio client certificate and the server's sidecar requires one: the handshake fails",
        ),
        (ClientMode::Mutual, Some(ServerMode::Strict)) => Some(
            "the client presents its own certificate, not the mesh's, and the server's sidecar verifies against the Istio CA: the handshake fails",
        ),
        (ClientMode::IstioMutual, Some(ServerMode::Disable)) => Some(
            "the client sends Istio mTLS and the server's sidecar terminates no TLS: the application receives TLS bytes",
        ),
        (ClientMode::IstioMutual, None) => Some(
            "the client sends Istio mTLS and the server has no sidecar to terminate it: the application receives TLS bytes",
        ),
        _ => None,
    }
}
