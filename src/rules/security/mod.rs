//! Security rules: mTLS modes of servers and clients (PeerAuthentication, DestinationRule TLS)
//! and AuthorizationPolicies.

pub mod mesh901_mtls_mode_mismatch;
