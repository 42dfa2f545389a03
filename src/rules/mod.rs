//! The rule trait, the registry and the context rules report through; one folder per family.

pub mod ambient;
pub mod annotations;
mod context;
pub mod controlplane;
pub mod dump;
pub mod envoyfilter;
pub mod gateway_api;
pub mod injection;
pub mod input;
pub mod listeners;
pub mod multicluster;
pub mod ports;
pub mod routing;
pub mod security;
pub mod selectors;
pub mod status;
pub mod suppression;
pub mod telemetry;

pub use crate::diagnostic::RuleMeta;

pub use context::{Context, DumpId, Indexes, Peer, Reported};
pub use suppression::mesh001_unused_suppression::UNUSED_SUPPRESSION;

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the manifests and config dumps of the context. MESH001 keeps the default: the
    /// engine reports it after suppression.
    fn check(&self, _cx: &mut Context<'_>) {}
    /// Whether some findings of the rule carry a fix that `--fix` applies.
    fn fixable(&self) -> bool {
        false
    }
}

/// Every rule, sorted by code number (`MESH` and three or four digits).
pub static RULES: &[&dyn Rule] = &[
    &suppression::mesh001_unused_suppression::UnusedSuppression,
    &input::mesh002_duplicate_object::DuplicateObject,
    &ports::mesh101_port_name::PortNameMissingProtocol,
    &ports::mesh102_port_protocol_conflict::PortProtocolConflict,
    &ports::mesh201_container_port::ContainerPortCollision,
    &ports::mesh202_reserved_port::SidecarReservedPort,
    &ports::mesh203_loopback_dependency::LoopbackDependencyCollision,
    &ports::mesh204_host_port::HostPortCollision,
    &listeners::mesh301_externalname_catch_all::ExternalNameCatchAll,
    &listeners::mesh302_serviceentry_catch_all::ServiceEntryCatchAll,
    &listeners::mesh401_tcp_listener_shadowed::TcpListenerShadowed,
    &listeners::mesh402_port_protocol_clash::PortProtocolClash,
    &listeners::mesh403_serviceentry_conflict::ServiceEntryConflict,
    &routing::mesh501_gateway_port::GatewayPortNotExposed,
    &routing::mesh502_route_port::RoutePortUnbound,
    &routing::mesh503_dangling_reference::DanglingReference,
    &routing::mesh504_conflicting_gateways::ConflictingGateways,
    &routing::mesh505_route_weights::RouteWeights,
    &routing::mesh506_gateway_host::GatewayHostMismatch,
    &routing::mesh507_conflicting_mesh_hosts::ConflictingMeshHosts,
    &routing::mesh508_unreachable_route::UnreachableRoute,
    &routing::mesh509_gateway_route_subsets::GatewayRouteSkipsSubsets,
    &routing::mesh510_gateway_duplicate_certificate::GatewayDuplicateCertificate,
    &routing::mesh511_jwt_claim_route_without_authn::JwtClaimRouteWithoutAuthn,
    &routing::mesh512_deprecated_field::DeprecatedField,
    &routing::mesh601_short_hostname::ShortHostname,
    &dump::mesh701_listener_error_state::ListenerErrorState,
    &dump::mesh702_listener_not_serving::ListenerNotServing,
    &dump::mesh703_duplicate_listener_address::DuplicateListenerAddress,
    &dump::mesh704_unreached_outbound_cluster::UnreachedOutboundCluster,
    &listeners::mesh705_tcp_catch_all_listener::TcpCatchAllListener,
    &gateway_api::mesh801_route_not_attached::RouteNotAttached,
    &gateway_api::mesh802_listener_conflict::ListenerConflict,
    &gateway_api::mesh803_gateway_address_conflict::GatewayAddressConflict,
    &gateway_api::mesh804_l4_route_conflict::L4RouteConflict,
    &gateway_api::mesh805_backend_not_found::BackendNotFound,
    &gateway_api::mesh806_reference_not_permitted::ReferenceNotPermitted,
    &gateway_api::mesh807_unused_reference_grant::UnusedReferenceGrant,
    &gateway_api::mesh808_listener_port_unusable::ListenerPortUnusable,
    &gateway_api::mesh809_gateway_port_overlap::GatewayPortOverlap,
    &gateway_api::mesh810_mesh_route_port_missing::MeshRoutePortMissing,
    &gateway_api::mesh811_virtualservice_httproute_overlap::VirtualServiceHttpRouteOverlap,
    &gateway_api::mesh812_http_route_match_shadowed::HttpRouteMatchShadowed,
    &security::mesh901_mtls_mode_mismatch::MtlsModeMismatch,
    &security::mesh902_port_level_mtls::PortLevelMtls,
    &security::mesh903_multiple_peer_authentications::MultiplePeerAuthentications,
    &security::mesh904_destination_rule_tls::DestinationRuleTls,
    &security::mesh905_strict_external_service::StrictExternalService,
    &security::mesh906_authz_unknown_reference::AuthzUnknownReference,
    &security::mesh907_authz_deny_all::AuthzDenyAll,
    &security::mesh908_authz_http_on_tcp::AuthzHttpOnTcp,
    &security::mesh909_authz_needs_mtls::AuthzNeedsMtls,
    &security::mesh910_destination_rule_tls_shadowed::DestinationRuleTlsShadowed,
    &security::mesh911_mtls_not_enforced::MtlsNotEnforced,
    &security::mesh912_authz_precedence::AuthzPrecedence,
    &security::mesh913_authz_method_case::AuthzMethodCase,
    &security::mesh914_jwks_fetch_unrestricted::JwksFetchUnrestricted,
    &security::mesh915_gateway_credential_invalid::GatewayCredentialInvalid,
    &annotations::mesh1101_unknown_annotation::UnknownAnnotation,
    &annotations::mesh1102_misplaced_annotation::MisplacedAnnotation,
    &annotations::mesh1103_invalid_annotation::InvalidAnnotation,
    &annotations::mesh1104_deprecated_annotation::DeprecatedAnnotation,
    &annotations::mesh1105_alpha_annotation::AlphaAnnotation,
    &injection::mesh1201_multiple_injection_labels::MultipleInjectionLabels,
    &injection::mesh1202_namespace_not_injected::NamespaceNotInjected,
    &injection::mesh1203_pod_missing_proxy::PodMissingProxy,
    &injection::mesh1204_image_auto_without_injection::ImageAutoWithoutInjection,
    &injection::mesh1205_proxy_uid::ProxyUid,
    &injection::mesh1206_proxy_image_outdated::ProxyImageOutdated,
    &selectors::mesh1301_sidecar_conflict::SidecarConflict,
    &selectors::mesh1302_telemetry_conflict::TelemetryConflict,
    &selectors::mesh1303_gateway_policy_selector::GatewayPolicySelector,
    &status::mesh1401_negative_condition::NegativeCondition,
    &telemetry::mesh1501_access_log_without_provider::AccessLogWithoutProvider,
    &ambient::mesh1601_sidecar_and_ambient::SidecarAndAmbient,
    &ambient::mesh1602_sidecar_in_ambient_namespace::SidecarInAmbientNamespace,
    &ambient::mesh1603_waypoint_not_found::WaypointNotFound,
    &ambient::mesh1604_waypoint_refuses_traffic::WaypointRefusesTraffic,
    &ambient::mesh1605_waypoint_without_ambient::WaypointWithoutAmbient,
    &ambient::mesh1606_waypoint_without_hbone::WaypointWithoutHbone,
    &ambient::mesh1607_host_network_unmeshed::HostNetworkUnmeshed,
    &ambient::mesh1610_waypoint_ignores_selector::WaypointIgnoresSelector,
    &ambient::mesh1611_policy_target_without_waypoint::PolicyTargetWithoutWaypoint,
    &ambient::mesh1612_route_target_without_waypoint::RouteTargetWithoutWaypoint,
    &ambient::mesh1613_route_outside_waypoint_scope::RouteOutsideWaypointScope,
    &ambient::mesh1614_workload_l7_authz_without_waypoint::WorkloadL7AuthzWithoutWaypoint,
    &ambient::mesh1615_sidecar_resource_in_ambient::SidecarResourceInAmbient,
    &envoyfilter::mesh1701_relative_operation::RelativeOperation,
    &envoyfilter::mesh1702_replace_unsupported::ReplaceUnsupported,
    &envoyfilter::mesh1703_add_misused::AddMisused,
    &envoyfilter::mesh1704_remove_misused::RemoveMisused,
    &controlplane::mesh1801_webhook_address::WebhookAddress,
    &controlplane::mesh1802_gateway_api_crd_version::GatewayApiCrdVersion,
    &controlplane::mesh1803_injector_webhook_conflict::InjectorWebhookConflict,
    &multicluster::mesh1901_inconsistent_service::InconsistentService,
    &multicluster::mesh1902_mesh_networks_endpoints::MeshNetworksEndpoints,
];

/// Finds a rule by code or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| {
        r.meta().code.eq_ignore_ascii_case(key) || r.meta().name.eq_ignore_ascii_case(key)
    })
}

/// The rule code or name closest to a key that names no rule (`port-name-mising-protocol`,
/// `MESH10`), for a "did you mean" hint; `None` when nothing is close.
pub fn suggest(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    RULES
        .iter()
        .flat_map(|r| [r.meta().name, r.meta().code])
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&key, &candidate.to_ascii_lowercase());
            (distance, candidate)
        })
        // Within a third of the length: `mesh11` → MESH101 is a hint, `web` → MESH201 is not.
        .filter(|(d, c)| *d > 0 && *d <= (c.len() / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// `unknown rule `KEY``, with the closest rule when there is one.
pub fn unknown_rule(key: &str) -> String {
    match suggest(key) {
        Some(s) => {
            format!("unknown rule `{key}`; did you mean `{s}`? (run `meshlint rules` for the list)")
        }
        None => format!("unknown rule `{key}` (run `meshlint rules` for the list)"),
    }
}

/// Helpers for the rules' unit tests.
#[cfg(test)]
mod testing {
    /// Test support: the findings of rule `code` on one YAML text, checked with default settings.
    pub(crate) fn findings_of(code: &str, text: &str) -> Vec<crate::diagnostic::Finding> {
        findings_at(code, text, None)
    }

    /// The same with rules added to the selection (`--extend-select`), for opt-in rules.
    pub(crate) fn findings_with(
        code: &str,
        text: &str,
        extend: &[&str],
    ) -> Vec<crate::diagnostic::Finding> {
        let settings = crate::engine::Settings {
            extend_select: extend.iter().map(|s| s.to_string()).collect(),
            ..crate::engine::Settings::default()
        };
        findings_for(code, text, &settings)
    }

    /// The same for a target Istio version (`--istio-version`).
    pub(crate) fn findings_at(
        code: &str,
        text: &str,
        version: Option<&str>,
    ) -> Vec<crate::diagnostic::Finding> {
        let settings = crate::engine::Settings {
            istio_version: version.map(str::to_string),
            ..crate::engine::Settings::default()
        };
        findings_for(code, text, &settings)
    }

    fn findings_for(
        code: &str,
        text: &str,
        settings: &crate::engine::Settings,
    ) -> Vec<crate::diagnostic::Finding> {
        let mut sources = crate::source::Sources::default();
        sources.add_text("t.yaml".into(), text.into());
        let outcome = crate::engine::check_sources(sources, settings).expect("valid settings");
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .findings
            .into_iter()
            .filter(|f| f.code == code)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_rules_get_the_closest_name_or_code() {
        assert_eq!(
            suggest("port-name-mising-protocol"),
            Some("port-name-missing-protocol")
        );
        assert_eq!(suggest("MESH10"), Some("MESH101"));
        assert_eq!(suggest("web"), None);
        assert!(
            unknown_rule("container-port-colision")
                .contains("did you mean `container-port-collision`?")
        );
    }

    #[test]
    fn codes_and_names_are_unique_sorted_and_well_formed() {
        let number = |code: &str| {
            code.strip_prefix("MESH")
                .and_then(|n| n.parse::<u32>().ok())
        };
        let codes: Vec<_> = RULES.iter().map(|r| number(r.meta().code)).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes must be unique and sorted by number");
        for r in RULES {
            let m = r.meta();
            assert!(
                m.code.starts_with("MESH") && matches!(m.code.len(), 7 | 8),
                "{}",
                m.code
            );
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                m.name
            );
            assert!(find(m.name).is_some() && find(&m.code.to_lowercase()).is_some());
        }
    }
}
