//! Istio's security policy as istiod resolves it: the mTLS mode each workload port accepts
//! (PeerAuthentication), what a client sidecar sends to each destination (DestinationRule TLS
//! and auto mTLS), and which AuthorizationPolicies apply to a workload.

pub mod authz;
pub mod client;
pub mod credential;
pub mod mode;
pub mod peer;
pub mod ports;
pub mod view;
