//! Security rules: mTLS modes of servers and clients (PeerAuthentication, DestinationRule TLS)
//! and AuthorizationPolicies.

pub mod mesh901_mtls_mode_mismatch;
pub mod mesh902_port_level_mtls;
pub mod mesh903_multiple_peer_authentications;
pub mod mesh904_destination_rule_tls;
pub mod mesh905_strict_external_service;
pub mod mesh906_authz_unknown_reference;
pub mod mesh907_authz_deny_all;
pub mod mesh908_authz_http_on_tcp;
pub mod mesh909_authz_needs_mtls;
pub mod mesh910_destination_rule_tls_shadowed;
pub mod mesh911_mtls_not_enforced;
pub mod mesh912_authz_precedence;
pub mod mesh913_authz_method_case;
pub mod mesh914_jwks_fetch_unrestricted;
pub mod mesh915_gateway_credential_invalid;
