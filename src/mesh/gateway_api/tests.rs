//! The predicted status against what istiod's `buildListener`, `buildTLS`,
//! `reportGatewayStatus`, `buildHTTPDestination` and `waypointManagedByAnotherController` decide.

use base64::Engine;

use super::*;
use crate::model::from_documents;
use crate::model::istio::MeshConfig;

use status::{Condition, GatewayStatus, RouteStatus};

fn statuses(text: &str) -> (Vec<GatewayStatus>, Vec<RouteStatus>) {
    let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
    assert!(sources.errors.is_empty(), "{:?}", sources.errors);
    let hosts = HostIndex::build(&store, &MeshConfig::default());
    let api = GatewayApi::build(&store, &hosts);
    (api.gateway_status(&store), api.route_status(&store))
}

/// `(type, status, reason)` of each condition.
fn brief(conditions: &[Condition]) -> Vec<(&str, &str, &str)> {
    conditions
        .iter()
        .map(|c| (c.type_, c.status, c.reason.as_str()))
        .collect()
}

fn gateway(listeners: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: infra}}\nspec:\n  gatewayClassName: istio\n  listeners: {listeners}\n---\n"
    )
}

const CERT: &str = include_str!("../../../testdata/certs/valid-until-2125.pem");
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

fn secret(ns: &str, name: &str, cert: &str, key: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{tls.crt: {}, tls.key: {}}}\n---\n",
        b64(cert),
        b64(key)
    )
}

#[test]
fn a_listener_refused_for_its_protocol_stays_programmed() {
    let (gws, _) = statuses(&gateway(
        "[{name: a, port: 80, protocol: http}, {name: b, port: 81, protocol: HTTP}]",
    ));
    let l = &gws[0].listeners[0];
    assert_eq!(
        brief(&l.conditions),
        [
            ("Accepted", "False", "UnsupportedProtocol"),
            ("Conflicted", "False", "NoConflicts"),
            ("ResolvedRefs", "True", "ResolvedRefs"),
            ("Programmed", "True", "Programmed"),
        ]
    );
    assert_eq!(
        brief(&gws[0].conditions),
        [("Accepted", "True", "ListenersNotValid")]
    );
}

#[test]
fn https_without_tls_is_a_valid_placeholder() {
    let (gws, _) = statuses(&gateway("[{name: a, port: 443, protocol: HTTPS}]"));
    assert_eq!(
        brief(&gws[0].conditions),
        [("Accepted", "True", "Accepted")]
    );
}

#[test]
fn a_waypoint_listener_other_than_hbone_is_refused_but_counts_valid() {
    let (gws, _) = statuses(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: wp, namespace: shop}\nspec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 1234, protocol: HTTP}]}\n",
    );
    let l = &gws[0].listeners[0];
    assert_eq!(
        (
            l.conditions[0].reason.as_str(),
            l.conditions[0].message.as_str()
        ),
        (
            "UnsupportedProtocol",
            r#"Expected a single listener on port 15008 with protocol "HBONE""#
        )
    );
    assert_eq!(
        brief(&gws[0].conditions),
        [("Accepted", "True", "Accepted")]
    );
}

fn listener_tls(extra: &str, tls: &str) -> (Vec<(String, String, String)>, Option<String>) {
    let text = format!(
        "{extra}{}",
        gateway(&format!(
            "[{{name: https, port: 443, protocol: HTTPS, tls: {tls}}}]"
        ))
    );
    let (gws, _) = statuses(&text);
    let l = &gws[0].listeners[0];
    let conds = l
        .conditions
        .iter()
        .filter(|c| c.status == "False" && c.type_ != "Conflicted")
        .map(|c| (c.type_.to_string(), c.reason.clone(), c.message.clone()))
        .collect();
    (conds, l.note.clone())
}

fn reasons(conds: &[(String, String, String)]) -> Vec<(&str, &str)> {
    conds
        .iter()
        .map(|(t, r, _)| (t.as_str(), r.as_str()))
        .collect()
}

#[test]
fn certificate_refs_resolve_as_build_tls_does() {
    let good = secret("infra", "cert", CERT, KEY);
    let refs = |r: &str| format!("{{mode: Terminate, certificateRefs: [{r}]}}");
    let (ok, note) = listener_tls(&good, &refs("{name: cert}"));
    assert!(ok.is_empty() && note.is_none(), "{ok:?} {note:?}");

    let (kind, _) = listener_tls(&good, &refs("{name: cert, kind: ConfigMap}"));
    assert_eq!(
        reasons(&kind),
        [
            ("ResolvedRefs", "InvalidCertificateRef"),
            ("Programmed", "Invalid")
        ]
    );
    assert!(kind[0].2.contains("only secret is allowed"), "{kind:?}");

    // Another namespace without a ReferenceGrant: refused before the Secret is looked up.
    let (grant, _) = listener_tls(
        &secret("certs", "cert", CERT, KEY),
        &refs("{name: cert, namespace: certs}"),
    );
    assert_eq!(
        reasons(&grant),
        [
            ("Accepted", "NoValidCACertificate"),
            ("ResolvedRefs", "RefNotPermitted"),
            ("Programmed", "Invalid")
        ]
    );

    // Missing where the input has the namespace's Secrets: not found; else assumed.
    let (missing, _) = listener_tls(&good, &refs("{name: other}"));
    assert_eq!(missing[0].1, "InvalidCertificateRef");
    assert!(
        missing[0].2.ends_with("secret infra/other not found"),
        "{missing:?}"
    );
    let (assumed, note) = listener_tls("", &refs("{name: other}"));
    assert!(assumed.is_empty(), "{assumed:?}");
    assert!(note.is_some_and(|n| n.contains("infra/other")));

    let (malformed, _) = listener_tls(
        &secret("infra", "cert", "SGVsbG8gd29ybGQK", KEY),
        &refs("{name: cert}"),
    );
    assert_eq!(malformed[0].1, "InvalidCertificateRef");

    // A Secret stub without data is filled where it is deployed.
    let (stub, note) = listener_tls(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: infra}\n---\n",
        &refs("{name: cert}"),
    );
    assert!(stub.is_empty(), "{stub:?}");
    assert!(note.is_some_and(|n| n.contains("no data")));

    // istiod's own certificate needs no Secret.
    let (builtin, note) = listener_tls(
        "",
        "{mode: Terminate, options: {gateway.istio.io/tls-terminate-mode: ISTIO_SIMPLE}}",
    );
    assert!(builtin.is_empty() && note.is_none());
}

#[test]
fn frontend_validation_needs_a_ca_bundle() {
    let base = secret("infra", "cert", CERT, KEY);
    let tls = "{mode: Terminate, certificateRefs: [{name: cert}]}";
    let gw = |ca: &str| {
        format!(
            "{base}apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ca, namespace: infra}}\ndata:\n  ca.crt: |\n{}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: infra}}\nspec:\n  gatewayClassName: istio\n  tls: {{frontend: {{default: {{validation: {{caCertificateRefs: [{ca}]}}}}}}}}\n  listeners: [{{name: https, port: 443, protocol: HTTPS, tls: {tls}}}]\n",
            CERT.lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let reasons_of = |text: &str| {
        let (gws, _) = statuses(text);
        gws[0].listeners[0]
            .conditions
            .iter()
            .filter(|c| c.status == "False" && c.type_ != "Conflicted")
            .map(|c| c.reason.clone())
            .collect::<Vec<_>>()
    };
    assert!(reasons_of(&gw("{group: '', kind: ConfigMap, name: ca}")).is_empty());
    assert_eq!(
        reasons_of(&gw("{group: '', kind: Service, name: ca}")),
        [
            "NoValidCACertificate",
            "InvalidCACertificateKind",
            "Invalid"
        ]
    );
    assert_eq!(
        reasons_of(&gw("{group: '', kind: ConfigMap, name: nope}")),
        ["NoValidCACertificate", "InvalidCACertificateRef", "Invalid"]
    );
}

#[test]
fn parameters_ref_must_be_a_config_map_of_the_namespace() {
    let gw = |params: &str, extra: &str| {
        format!(
            "{extra}apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: infra}}\nspec:\n  gatewayClassName: istio\n  infrastructure: {{parametersRef: {params}}}\n  listeners: [{{name: h, port: 80, protocol: HTTP}}]\n"
        )
    };
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: params, namespace: infra}\n---\n";
    let accepted = |text: &str| {
        let (gws, _) = statuses(text);
        (gws[0].conditions[0].reason.clone(), gws[0].note.is_some())
    };
    assert_eq!(
        accepted(&gw("{group: x.io, kind: Params, name: p}", "")),
        ("InvalidParameters".into(), false)
    );
    assert_eq!(
        accepted(&gw("{group: '', kind: ConfigMap, name: params}", cm)),
        ("Accepted".into(), false)
    );
    assert_eq!(
        accepted(&gw("{group: '', kind: ConfigMap, name: other}", cm)),
        ("InvalidParameters".into(), false)
    );
    // No ConfigMap of the namespace in the input: it may be applied from elsewhere.
    assert_eq!(
        accepted(&gw("{group: '', kind: ConfigMap, name: other}", "")),
        ("Accepted".into(), true)
    );
}

fn route_resolved_refs(rules: &str) -> (String, String) {
    let text = format!(
        "{}apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: infra}}\nspec: {{ports: [{{port: 80}}]}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: infra}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: {rules}\n",
        gateway("[{name: h, port: 80, protocol: HTTP}]")
    );
    let (_, routes) = statuses(&text);
    let c = &routes[0].parents[0].conditions[1];
    assert_eq!(c.type_, "ResolvedRefs");
    (c.reason.clone(), c.message.clone())
}

#[test]
fn route_resolved_refs_reports_the_backend_istiod_reports() {
    // Within a rule the last unresolved backend, across rules the last rule with an error.
    let (reason, _) = route_resolved_refs(
        "[{backendRefs: [{name: missing, port: 80}, {name: web, port: 80}, {name: web, kind: Bucket, group: x.io}]}]",
    );
    assert_eq!(reason, "InvalidKind");
    let (reason, message) = route_resolved_refs(
        "[{backendRefs: [{name: web, kind: Bucket, group: x.io}]}, {backendRefs: [{name: missing, port: 80}]}]",
    );
    assert_eq!(reason, "BackendNotFound");
    assert!(message.contains("missing"), "{message}");
    // A backend of weight 0 is not resolved.
    let (reason, _) = route_resolved_refs(
        "[{backendRefs: [{name: missing, port: 80, weight: 0}, {name: web, port: 80}]}]",
    );
    assert_eq!(reason, "ResolvedRefs");
    // A backend istiod cannot convert stops the route there.
    let (reason, _) = route_resolved_refs(
        "[{backendRefs: [{name: web}]}, {backendRefs: [{name: missing, port: 80}]}]",
    );
    assert_eq!(reason, "InvalidDestination");
}

#[test]
fn a_service_whose_waypoint_is_another_controllers_gets_no_status() {
    let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: other}\nspec: {controllerName: example.com/waypoint}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: wp, namespace: shop}\nspec: {gatewayClassName: other, listeners: [{name: h, port: 80, protocol: HTTP}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop, labels: {istio.io/use-waypoint: wp}}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: shop}\nspec:\n  parentRefs: [{group: '', kind: Service, name: api}, {group: '', kind: Service, name: web}]\n  rules: [{backendRefs: [{name: web, port: 80}]}]\n";
    let (_, routes) = statuses(text);
    let parents = &routes[0].parents;
    assert!(parents[0].conditions.is_empty(), "{:?}", parents[0]);
    assert!(
        parents[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("example.com/waypoint")),
        "{:?}",
        parents[0].note
    );
    assert_eq!(
        brief(&parents[1].conditions),
        [
            ("Accepted", "True", "Accepted"),
            ("ResolvedRefs", "True", "ResolvedRefs")
        ]
    );
}
