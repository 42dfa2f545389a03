//! What a client sidecar sends to a destination host and port: the TLS settings of the
//! DestinationRule istiod applies for the client's namespace (precedence from
//! [`crate::mesh::destination_rules::effective_drs`]), a `portLevelSettings` entry replacing
//! the rule's top-level policy for its port (`MergeTrafficPolicy` with `hasPortLevel`,
//! `pilot/pkg/model/destination_rule.go`), else auto mTLS when MeshConfig `enableAutoMtls` is
//! on (`buildUpstreamTLSSettings`, `pilot/pkg/networking/core/cluster_builder.go`).

use crate::mesh::destination_rules::{DrIndex, effective_drs};
use crate::model::istio::{ClientTls, DestinationRule};
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

use super::mode::{ClientMode, ServerMode};

/// The TLS a client is configured with for one destination port.
#[derive(Clone, Debug)]
pub struct Configured {
    pub mode: ClientMode,
    /// The DestinationRule in force, when one is.
    pub dr: Option<ResId>,
    /// The `tls` field that set the mode (`None`: no TLS setting, auto mTLS or plaintext).
    pub path: Option<FieldPath>,
}

pub fn spec(store: &Store, id: ResId) -> &DestinationRule {
    match &store.get(id).spec {
        Spec::DestinationRule(dr) => dr,
        _ => unreachable!("only DestinationRules are indexed"),
    }
}

/// The `tls` of `dr` for port `port` and where it is written: a `portLevelSettings` entry for
/// the port replaces the top-level policy (its `tls` may then be unset).
pub fn tls_for_port(dr: &DestinationRule, port: i64) -> (Option<&ClientTls>, FieldPath) {
    let base = FieldPath::parse("spec.trafficPolicy");
    let Some(tp) = &dr.traffic_policy else {
        return (None, base);
    };
    if let Some(i) = tp
        .port_level_settings
        .iter()
        .position(|p| p.port.as_ref().and_then(|s| s.number) == Some(port))
    {
        let path = base.key("portLevelSettings").index(i).key("tls");
        return (tp.port_level_settings[i].tls.as_ref(), path);
    }
    (tp.tls.as_ref(), base.key("tls"))
}

/// Where to look the destination up and from which client namespace.
pub struct Lookup<'a> {
    pub host: &'a str,
    pub host_ns: Option<&'a str>,
    pub port: i64,
    pub client_ns: &'a str,
}

/// What a client in `client_ns` is configured to send to `host:port`. DestinationRules with a
/// `workloadSelector` apply to the clients they select only and are left out here.
pub fn configured(
    store: &Store,
    drs: &DrIndex,
    root_ns: &str,
    auto_mtls: bool,
    at: &Lookup<'_>,
) -> Configured {
    let dr = effective_drs(drs, at.host, at.client_ns, at.host_ns, root_ns)
        .into_iter()
        .map(|e| e.id)
        .find(|&id| spec(store, id).workload_selector.is_none());
    let fallback = if auto_mtls {
        ClientMode::Auto
    } else {
        ClientMode::Disable
    };
    let Some(id) = dr else {
        return Configured {
            mode: fallback,
            dr: None,
            path: None,
        };
    };
    let (tls, path) = tls_for_port(spec(store, id), at.port);
    match tls.and_then(|t| ClientMode::parse(&t.mode())) {
        Some(mode) => Configured {
            mode,
            dr: Some(id),
            path: Some(path.key("mode")),
        },
        None => Configured {
            mode: fallback,
            dr: Some(id),
            path: None,
        },
    }
}

/// What auto mTLS sends: plaintext when the destination namespace's (or the mesh's)
/// PeerAuthentication disables mTLS (`BestEffortInferServiceMTLSMode`,
/// `pilot/pkg/model/push_context.go`) or the endpoint has no sidecar, else Istio mTLS. It does
/// not read workload-level policies.
pub fn auto_sends(namespace_mode: ServerMode, has_sidecar: Option<bool>) -> (ClientMode, String) {
    if namespace_mode == ServerMode::Disable {
        return (
            ClientMode::Disable,
            "auto mTLS sends plaintext because the namespace-wide (or mesh-wide) PeerAuthentication disables mTLS; it does not read workload-level policies".into(),
        );
    }
    if has_sidecar == Some(false) {
        return (
            ClientMode::Disable,
            "auto mTLS sends plaintext to endpoints without a sidecar".into(),
        );
    }
    (
        ClientMode::IstioMutual,
        "auto mTLS sends Istio mTLS to endpoints with a sidecar unless the namespace-wide PeerAuthentication disables mTLS; it does not read workload-level policies".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::destination_rules::DrIndex;
    use crate::model::from_documents;

    const RULES: &str = "
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mesh, namespace: istio-system}
spec:
  host: '*.local'
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: shop}
spec:
  host: api.shop.svc.cluster.local
  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {simple: ROUND_ROBIN}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: private, namespace: ops}
spec:
  host: api.shop.svc.cluster.local
  exportTo: ['.']
  trafficPolicy: {tls: {mode: DISABLE}}
";

    fn mode(client_ns: &str, host: &str, port: i64, auto: bool) -> Configured {
        let (sources, store) = from_documents(&[("t.yaml".into(), RULES.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        let drs = DrIndex::build(&store, &[]);
        let ns = crate::mesh::hosts::k8s_service_of(host).map(|(_, ns)| ns);
        let at = Lookup {
            host,
            host_ns: ns,
            port,
            client_ns,
        };
        configured(&store, &drs, "istio-system", auto, &at)
    }

    #[test]
    fn a_port_level_setting_replaces_the_top_level_tls_for_its_port() {
        let api = "api.shop.svc.cluster.local";
        assert_eq!(mode("shop", api, 80, true).mode, ClientMode::Simple);
        // The port-level entry has no `tls`: auto mTLS, or plaintext with auto mTLS off.
        assert_eq!(mode("shop", api, 9090, true).mode, ClientMode::Auto);
        assert_eq!(mode("shop", api, 9090, false).mode, ClientMode::Disable);
        let p = mode("shop", api, 80, true).path.expect("path").to_string();
        assert_eq!(p, "spec.trafficPolicy.tls.mode");
    }

    #[test]
    fn the_clients_namespace_comes_first_then_the_hosts_then_the_root() {
        let api = "api.shop.svc.cluster.local";
        assert_eq!(mode("ops", api, 80, true).mode, ClientMode::Disable);
        assert_eq!(mode("web", api, 80, true).mode, ClientMode::Simple);
        let other = "cart.shop.svc.cluster.local";
        assert_eq!(mode("web", other, 80, false).mode, ClientMode::IstioMutual);
    }

    #[test]
    fn auto_mtls_reads_only_namespace_wide_modes_and_sidecars() {
        assert_eq!(
            auto_sends(ServerMode::Disable, Some(true)).0,
            ClientMode::Disable
        );
        assert_eq!(
            auto_sends(ServerMode::Strict, Some(false)).0,
            ClientMode::Disable
        );
        assert_eq!(
            auto_sends(ServerMode::Permissive, None).0,
            ClientMode::IstioMutual
        );
    }
}
