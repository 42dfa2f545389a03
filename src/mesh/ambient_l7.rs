//! What of a policy or route only a waypoint (or a sidecar) applies in ambient mode.
//!
//! ztunnel enforces AuthorizationPolicies without their HTTP attributes and supports only ALLOW
//! and DENY (`convertAuthorizationPolicy` in istio `pilot/pkg/serviceregistry/ambient/authorization.go`);
//! it reads no RequestAuthentication, Telemetry, WasmPlugin, VirtualService or DestinationRule.
//! Waypoints take AuthorizationPolicy, RequestAuthentication, Telemetry and WasmPlugin by
//! `targetRefs` only (`ShouldAttachPolicy` in `pilot/pkg/model/policyattachment.go`: "waypoints
//! never use selector"), except namespace-wide Telemetry (`pilot/pkg/model/telemetry.go`).
//! Pure functions over the model.

use std::collections::BTreeMap;

use crate::model::istio::VirtualService;
use crate::model::raw::raw;
use crate::model::security::{AuthorizationPolicy, AuthzRule};
use crate::model::{Resource, string_map};
use crate::source::{FieldPath, Node};

/// A field only a waypoint (or a sidecar) applies, and how a message names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L7Field {
    pub path: FieldPath,
    pub what: String,
}

impl L7Field {
    fn new(path: FieldPath, what: impl Into<String>) -> Self {
        Self {
            path,
            what: what.into(),
        }
    }
}

/// `a`, `a and b`, `a, b and 2 more`: the fields a message names.
pub fn fields_text(fields: &[L7Field]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .take(3)
        .map(|f| format!("`{}`", f.what))
        .collect();
    match (shown.len(), fields.len()) {
        (0, _) => String::new(),
        (1, 1) => shown[0].clone(),
        (n, total) if total > n => format!("{} and {} more", shown.join(", "), total - n),
        _ => {
            let (last, rest) = shown.split_last().expect("two or three fields");
            format!("{} and {last}", rest.join(", "))
        }
    }
}

/// The policy kinds a waypoint takes by `targetRefs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyKind {
    AuthorizationPolicy,
    RequestAuthentication,
    Telemetry,
    WasmPlugin,
}

impl PolicyKind {
    pub fn of(r: &Resource) -> Option<Self> {
        let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        Some(match (group, r.kind.as_str()) {
            ("security.istio.io", "AuthorizationPolicy") => Self::AuthorizationPolicy,
            ("security.istio.io", "RequestAuthentication") => Self::RequestAuthentication,
            ("telemetry.istio.io", "Telemetry") => Self::Telemetry,
            ("extensions.istio.io", "WasmPlugin") => Self::WasmPlugin,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AuthorizationPolicy => "AuthorizationPolicy",
            Self::RequestAuthentication => "RequestAuthentication",
            Self::Telemetry => "Telemetry",
            Self::WasmPlugin => "WasmPlugin",
        }
    }
}

/// One entry of `targetRef` / `targetRefs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef {
    pub path: FieldPath,
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl TargetRef {
    /// A core `Service` (`group` empty or `core`).
    pub fn is_service(&self) -> bool {
        self.kind == "Service" && matches!(self.group.as_str(), "" | "core")
    }

    pub fn is_service_entry(&self) -> bool {
        self.kind == "ServiceEntry" && self.group == "networking.istio.io"
    }
}

/// How a policy attaches: its selector's labels (empty without one) and its target references.
#[derive(Clone, Debug, Default)]
pub struct Attachment {
    pub selector: BTreeMap<String, String>,
    /// Whether `spec.selector` is written (even with no labels).
    pub selector_written: bool,
    pub target_refs: Vec<TargetRef>,
}

impl Attachment {
    /// Neither a selector with labels nor target references: every workload of the namespace
    /// (of the mesh, in the root namespace).
    pub fn namespace_wide(&self) -> bool {
        self.selector.is_empty() && self.target_refs.is_empty()
    }
}

fn target_ref(node: &Node, path: FieldPath) -> TargetRef {
    let text = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_string);
    TargetRef {
        path,
        group: text("group").unwrap_or_default(),
        kind: text("kind").unwrap_or_default(),
        name: text("name").unwrap_or_default(),
        namespace: text("namespace").filter(|n| !n.is_empty()),
    }
}

/// The attachment of a policy (`GetTargetRefs`: `targetRefs`, else the legacy `targetRef`).
pub fn attachment(r: &Resource) -> Attachment {
    let mut target_refs: Vec<TargetRef> = raw(r, "spec.targetRefs")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, n)| target_ref(n, FieldPath::parse("spec.targetRefs").index(i)))
        .collect();
    if target_refs.is_empty()
        && let Some(n) = raw(r, "spec.targetRef").filter(|n| n.is_map())
    {
        target_refs.push(target_ref(n, FieldPath::parse("spec.targetRef")));
    }
    Attachment {
        selector: string_map(raw(r, "spec.selector.matchLabels")),
        selector_written: raw(r, "spec.selector").is_some_and(|n| n.is_map()),
        target_refs,
    }
}

/// The `when` keys ztunnel evaluates (`l4WhenAttributes`); every other key is HTTP.
const L4_WHEN: [&str; 5] = [
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];

/// The HTTP attributes of one rule, as `handleRule` finds them (`httpOperations`,
/// `httpSources`, `when` keys outside `l4WhenAttributes`).
fn rule_l7_fields(rule: &AuthzRule, base: &FieldPath, out: &mut Vec<L7Field>) {
    for (j, from) in rule.from.iter().enumerate() {
        let s = &from.source;
        for (name, list) in [
            ("remoteIpBlocks", &s.remote_ip_blocks),
            ("notRemoteIpBlocks", &s.not_remote_ip_blocks),
            ("requestPrincipals", &s.request_principals),
            ("notRequestPrincipals", &s.not_request_principals),
        ] {
            if !list.is_empty() {
                let path = base.clone().key("from").index(j).key("source").key(name);
                out.push(L7Field::new(path, format!("from.source.{name}")));
            }
        }
    }
    for (j, to) in rule.to.iter().enumerate() {
        let o = &to.operation;
        for (name, list) in [
            ("hosts", &o.hosts),
            ("notHosts", &o.not_hosts),
            ("methods", &o.methods),
            ("notMethods", &o.not_methods),
            ("paths", &o.paths),
            ("notPaths", &o.not_paths),
        ] {
            if !list.is_empty() {
                let path = base.clone().key("to").index(j).key("operation").key(name);
                out.push(L7Field::new(path, format!("to.operation.{name}")));
            }
        }
    }
    for (j, c) in rule.when.iter().enumerate() {
        if !L4_WHEN.contains(&c.key.as_str()) {
            let path = base.clone().key("when").index(j).key("key");
            out.push(L7Field::new(path, format!("when {}", c.key)));
        }
    }
}

/// The fields of an AuthorizationPolicy that only a waypoint (or a sidecar) enforces: the HTTP
/// attributes of its rules, and a CUSTOM or AUDIT action, which ztunnel does not support.
pub fn authz_l7_fields(ap: &AuthorizationPolicy) -> Vec<L7Field> {
    let mut out = Vec::new();
    let action = ap.action().to_ascii_uppercase();
    if action == "CUSTOM" || action == "AUDIT" {
        out.push(L7Field::new(
            FieldPath::parse("spec.action"),
            format!("action: {action}"),
        ));
    }
    for (i, rule) in ap.rules().iter().enumerate() {
        rule_l7_fields(rule, &FieldPath::parse("spec.rules").index(i), &mut out);
    }
    out
}

/// What ztunnel makes of an AuthorizationPolicy that has HTTP attributes or an action it does
/// not support, attached by selector or namespace-wide (`convertAuthorizationPolicy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZtunnelAuthz {
    /// CUSTOM or AUDIT: ztunnel does not take the policy at all.
    Unsupported(String),
    /// ALLOW: the rules with HTTP attributes never match ("L7 policies never match for
    /// ALLOW"); `dropped` are their indexes, `kept` the rules left.
    AllowDropped { dropped: Vec<usize>, kept: usize },
    /// DENY: without its HTTP attributes no rule can match (`hasEffectiveRules`): no effect.
    DenyNoEffect,
    /// DENY enforced without its HTTP attributes: it denies more than written.
    DenyWidened,
}

fn rule_has_l7(rule: &AuthzRule) -> bool {
    let mut v = Vec::new();
    rule_l7_fields(rule, &FieldPath::root(), &mut v);
    !v.is_empty()
}

/// Whether a DENY rule still matches something once ztunnel has removed its HTTP attributes:
/// every `to`, `from` and `when` clause needs a match with an L4 field (an empty match matches
/// nothing at ztunnel), and a rule with no clause matches everything.
fn deny_rule_effective(rule: &AuthzRule) -> bool {
    let to_ok = rule.to.is_empty()
        || rule
            .to
            .iter()
            .any(|t| !t.operation.ports.is_empty() || !t.operation.not_ports.is_empty());
    let from_ok = rule.from.is_empty()
        || rule.from.iter().any(|f| {
            let s = &f.source;
            [
                &s.ip_blocks,
                &s.not_ip_blocks,
                &s.namespaces,
                &s.not_namespaces,
                &s.principals,
                &s.not_principals,
                &s.service_accounts,
                &s.not_service_accounts,
            ]
            .iter()
            .any(|l| !l.is_empty())
        });
    let when_ok = rule.when.iter().all(|c| {
        L4_WHEN.contains(&c.key.as_str()) && !(c.values.is_empty() && c.not_values.is_empty())
    });
    to_ok && from_ok && when_ok
}

/// ztunnel's reading of a policy attached by selector or namespace-wide; `None` when ztunnel
/// enforces it as written.
pub fn ztunnel_authz(ap: &AuthorizationPolicy) -> Option<ZtunnelAuthz> {
    let action = ap.action().to_ascii_uppercase();
    if action != "ALLOW" && action != "DENY" {
        return Some(ZtunnelAuthz::Unsupported(action));
    }
    let rules = ap.rules();
    if !rules.iter().any(rule_has_l7) {
        return None;
    }
    if action == "ALLOW" {
        let dropped: Vec<usize> = (0..rules.len())
            .filter(|&i| rule_has_l7(&rules[i]))
            .collect();
        let kept = rules.len() - dropped.len();
        return Some(ZtunnelAuthz::AllowDropped { dropped, kept });
    }
    if rules.iter().any(deny_rule_effective) {
        Some(ZtunnelAuthz::DenyWidened)
    } else {
        Some(ZtunnelAuthz::DenyNoEffect)
    }
}

/// The fields of a policy kind that need a waypoint (or a sidecar or gateway) to take effect.
/// Every RequestAuthentication (JWT) and WasmPlugin (an Envoy filter) does; a Telemetry does
/// for tracing, access logging and metric overrides.
pub fn policy_l7_fields(kind: PolicyKind, r: &Resource) -> Vec<L7Field> {
    let present = |path: &str| raw(r, path).is_some_and(|n| !is_empty(n));
    match kind {
        PolicyKind::AuthorizationPolicy => match &r.spec {
            crate::model::Spec::AuthorizationPolicy(ap) => authz_l7_fields(ap),
            _ => Vec::new(),
        },
        PolicyKind::RequestAuthentication => {
            if present("spec.jwtRules") {
                vec![L7Field::new(FieldPath::parse("spec.jwtRules"), "jwtRules")]
            } else {
                vec![L7Field::new(
                    FieldPath::parse("spec"),
                    "request authentication",
                )]
            }
        }
        PolicyKind::WasmPlugin => {
            let path = if present("spec.url") {
                "spec.url"
            } else {
                "spec"
            };
            vec![L7Field::new(FieldPath::parse(path), "Wasm plugin")]
        }
        PolicyKind::Telemetry => {
            let mut out = Vec::new();
            for name in ["tracing", "accessLogging"] {
                if present(&format!("spec.{name}")) {
                    out.push(L7Field::new(FieldPath::parse("spec").key(name), name));
                }
            }
            let metrics = raw(r, "spec.metrics").and_then(Node::as_seq).unwrap_or(&[]);
            for (i, m) in metrics.iter().enumerate() {
                if m.get("overrides").is_some_and(|n| !is_empty(n)) {
                    let path = FieldPath::parse("spec.metrics").index(i).key("overrides");
                    out.push(L7Field::new(path, format!("metrics[{i}].overrides")));
                }
            }
            out
        }
    }
}

fn is_empty(n: &Node) -> bool {
    use crate::source::Value;
    match &n.value {
        Value::Null => true,
        Value::Seq(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

/// The traffic policy fields of a DestinationRule that act on HTTP requests: HTTP connection
/// pool settings, outlier detection (ejection on 5xx and gateway errors) and consistent hashing
/// on a header, cookie or query parameter; at the top level, in port-level settings and in
/// subsets.
pub fn destination_rule_l7_fields(r: &Resource) -> Vec<L7Field> {
    let mut out = Vec::new();
    let mut policy = |node: Option<&Node>, path: FieldPath, label: &str| {
        let Some(tp) = node else { return };
        let mut one = |at: &Node, path: FieldPath, label: String| {
            if at
                .get("connectionPool")
                .and_then(|c| c.get("http"))
                .is_some_and(|n| !is_empty(n))
            {
                out.push(L7Field::new(
                    path.clone().key("connectionPool").key("http"),
                    format!("{label}connectionPool.http"),
                ));
            }
            if at.get("outlierDetection").is_some_and(|n| !is_empty(n)) {
                out.push(L7Field::new(
                    path.clone().key("outlierDetection"),
                    format!("{label}outlierDetection"),
                ));
            }
            if let Some(hash) = at.get("loadBalancer").and_then(|l| l.get("consistentHash")) {
                for key in ["httpHeaderName", "httpCookie", "httpQueryParameterName"] {
                    if hash.get(key).is_some_and(|n| !is_empty(n)) {
                        out.push(L7Field::new(
                            path.clone()
                                .key("loadBalancer")
                                .key("consistentHash")
                                .key(key),
                            format!("{label}loadBalancer.consistentHash.{key}"),
                        ));
                    }
                }
            }
        };
        one(tp, path.clone(), label.to_string());
        let ports = tp
            .get("portLevelSettings")
            .and_then(Node::as_seq)
            .unwrap_or(&[]);
        for (k, p) in ports.iter().enumerate() {
            one(
                p,
                path.clone().key("portLevelSettings").index(k),
                format!("{label}portLevelSettings[{k}]."),
            );
        }
    };
    policy(
        raw(r, "spec.trafficPolicy"),
        FieldPath::parse("spec.trafficPolicy"),
        "trafficPolicy.",
    );
    let subsets = raw(r, "spec.subsets").and_then(Node::as_seq).unwrap_or(&[]);
    for (i, s) in subsets.iter().enumerate() {
        policy(
            s.get("trafficPolicy"),
            FieldPath::parse("spec.subsets")
                .index(i)
                .key("trafficPolicy"),
            &format!("subsets[{i}].trafficPolicy."),
        );
    }
    out
}

/// Whether a VirtualService applies to mesh traffic: no `gateways`, or the reserved `mesh`.
pub fn applies_to_mesh(gateways: &[String]) -> bool {
    gateways.is_empty() || gateways.iter().any(|g| g == "mesh")
}

/// The route sections of a mesh VirtualService: in ambient mode only a waypoint routes by them
/// (`buildWaypointInboundHTTPRouteConfig`, `getWaypointTCPRoutes` in istio
/// `pilot/pkg/networking/core/listener_waypoint.go`); ztunnel routes by no VirtualService.
/// Empty for a VirtualService bound to gateways only.
pub fn mesh_route_sections(vs: &VirtualService) -> Vec<L7Field> {
    if !applies_to_mesh(&vs.gateways) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, n) in [
        ("http", vs.http.len()),
        ("tls", vs.tls.len()),
        ("tcp", vs.tcp.len()),
    ] {
        if n > 0 {
            out.push(L7Field::new(FieldPath::parse("spec").key(name), name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Spec, from_documents};

    fn resource(text: &str) -> Resource {
        let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        store.iter().next().expect("one resource").1.clone()
    }

    fn ap(spec: &str) -> AuthorizationPolicy {
        let r = resource(&format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: ns}}\nspec: {spec}\n"
        ));
        match r.spec {
            Spec::AuthorizationPolicy(ap) => *ap,
            _ => panic!("not an AuthorizationPolicy"),
        }
    }

    fn whats(fields: &[L7Field]) -> Vec<String> {
        fields
            .iter()
            .map(|f| format!("{} {}", f.path, f.what))
            .collect()
    }

    #[test]
    fn http_attributes_are_those_handle_rule_finds() {
        let p = ap(
            "{rules: [{from: [{source: {principals: [a], remoteIpBlocks: [1.2.3.4], requestPrincipals: ['*']}}], to: [{operation: {ports: ['80'], methods: [GET], notPaths: [/x]}}], when: [{key: source.ip, values: [1.2.3.4]}, {key: 'request.headers[x]', values: [v]}, {key: connection.sni, values: [z]}]}]}",
        );
        assert_eq!(
            whats(&authz_l7_fields(&p)),
            [
                "spec.rules[0].from[0].source.remoteIpBlocks from.source.remoteIpBlocks",
                "spec.rules[0].from[0].source.requestPrincipals from.source.requestPrincipals",
                "spec.rules[0].to[0].operation.methods to.operation.methods",
                "spec.rules[0].to[0].operation.notPaths to.operation.notPaths",
                "spec.rules[0].when[1].key when request.headers[x]",
                "spec.rules[0].when[2].key when connection.sni",
            ]
        );
        let l4 = ap(
            "{rules: [{from: [{source: {principals: [a], namespaces: [b], ipBlocks: [1.0.0.0/8]}}], to: [{operation: {ports: ['80']}}], when: [{key: destination.port, values: ['80']}]}]}",
        );
        assert!(authz_l7_fields(&l4).is_empty());
        assert_eq!(ztunnel_authz(&l4), None);
        let custom = ap("{action: CUSTOM, provider: {name: ext}, rules: [{}]}");
        assert_eq!(
            whats(&authz_l7_fields(&custom)),
            ["spec.action action: CUSTOM"]
        );
        assert_eq!(
            ztunnel_authz(&custom),
            Some(ZtunnelAuthz::Unsupported("CUSTOM".into()))
        );
    }

    #[test]
    fn ztunnel_drops_allow_rules_and_strips_deny_rules() {
        let allow = ap(
            "{rules: [{to: [{operation: {methods: [GET]}}]}, {from: [{source: {namespaces: [a]}}]}]}",
        );
        assert_eq!(
            ztunnel_authz(&allow),
            Some(ZtunnelAuthz::AllowDropped {
                dropped: vec![0],
                kept: 1
            })
        );
        let deny_only_http = ap("{action: DENY, rules: [{to: [{operation: {methods: [GET]}}]}]}");
        assert_eq!(
            ztunnel_authz(&deny_only_http),
            Some(ZtunnelAuthz::DenyNoEffect)
        );
        let deny_http_condition = ap(
            "{action: DENY, rules: [{from: [{source: {namespaces: [a]}}], when: [{key: 'request.headers[x]', values: [v]}]}]}",
        );
        assert_eq!(
            ztunnel_authz(&deny_http_condition),
            Some(ZtunnelAuthz::DenyNoEffect)
        );
        let deny_with_port =
            ap("{action: DENY, rules: [{to: [{operation: {ports: ['8080'], paths: [/admin]}}]}]}");
        assert_eq!(
            ztunnel_authz(&deny_with_port),
            Some(ZtunnelAuthz::DenyWidened)
        );
    }

    #[test]
    fn attachment_reads_target_refs_before_the_legacy_target_ref() {
        let r = resource(
            "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: ns}\nspec:\n  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: old}\n  targetRefs: [{kind: Service, group: '', name: web}]\n  tracing: [{randomSamplingPercentage: 10}]\n  metrics: [{providers: [{name: prometheus}]}, {overrides: [{match: {metric: REQUEST_COUNT}}]}]\n",
        );
        assert_eq!(PolicyKind::of(&r), Some(PolicyKind::Telemetry));
        let a = attachment(&r);
        assert_eq!(a.target_refs.len(), 1);
        assert!(a.target_refs[0].is_service());
        assert_eq!(a.target_refs[0].path.to_string(), "spec.targetRefs[0]");
        assert!(!a.namespace_wide());
        assert_eq!(
            whats(&policy_l7_fields(PolicyKind::Telemetry, &r)),
            [
                "spec.tracing tracing",
                "spec.metrics[1].overrides metrics[1].overrides"
            ]
        );
    }

    #[test]
    fn destination_rule_http_settings_and_mesh_routes() {
        let r = resource(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: ns}\nspec:\n  host: web\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: 10}}\n    loadBalancer: {consistentHash: {httpHeaderName: x-user}}\n    portLevelSettings: [{port: {number: 80}, outlierDetection: {consecutive5xxErrors: 3}}]\n  subsets: [{name: v1, labels: {v: '1'}, trafficPolicy: {connectionPool: {http: {http1MaxPendingRequests: 1}}}}]\n",
        );
        assert_eq!(
            whats(&destination_rule_l7_fields(&r)),
            [
                "spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName trafficPolicy.loadBalancer.consistentHash.httpHeaderName",
                "spec.trafficPolicy.portLevelSettings[0].outlierDetection trafficPolicy.portLevelSettings[0].outlierDetection",
                "spec.subsets[0].trafficPolicy.connectionPool.http subsets[0].trafficPolicy.connectionPool.http",
            ]
        );
        let vs = |gateways: &str| {
            let r = resource(&format!(
                "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: v, namespace: ns}}\nspec: {{hosts: [web], gateways: {gateways}, http: [{{route: [{{destination: {{host: web}}}}]}}], tcp: [{{route: [{{destination: {{host: web}}}}]}}]}}\n"
            ));
            match r.spec {
                Spec::VirtualService(v) => mesh_route_sections(&v),
                _ => panic!("not a VirtualService"),
            }
        };
        assert_eq!(whats(&vs("[]")), ["spec.http http", "spec.tcp tcp"]);
        assert_eq!(whats(&vs("[mesh, ingress]")).len(), 2);
        assert!(vs("[ingress]").is_empty());
        assert_eq!(fields_text(&vs("[]")), "`http` and `tcp`");
    }
}
