//! MESH1401 negative-condition: an object whose `status` (written by istiod or a Gateway API
//! controller) has a condition that says it is not in effect: a Gateway or route not accepted,
//! not programmed or with unresolved references, an AuthorizationPolicy ztunnel or a waypoint
//! rejected, a Service or ServiceEntry not bound to its waypoint.

use crate::diagnostic::Severity;
use crate::model::Resource;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node};

pub struct NegativeCondition;

static META: RuleMeta = RuleMeta {
    code: "MESH1401",
    name: "negative-condition",
    summary: "the object's status says it is not accepted, programmed or bound",
    severity: Severity::Warning,
    istio_codes: &["IST0171"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1401-negative-condition.md"),
};

/// The condition types that mean "not in effect" when `False`, by kind (istio/istio
/// `pkg/config/analysis/analyzers/conditions/conditions.go`, `negativeConditionsToReport`).
fn watched(res: &Resource) -> &'static [&'static str] {
    let gateway_api = res.api_version.starts_with("gateway.networking.k8s.io/");
    match res.kind.as_str() {
        "Service" | "ServiceEntry" | "WorkloadEntry" => &["istio.io/WaypointBound"],
        "AuthorizationPolicy" => &["ZtunnelAccepted", "WaypointAccepted"],
        "Gateway" | "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" if gateway_api => {
            &["Accepted", "Programmed", "ResolvedRefs"]
        }
        _ => &[],
    }
}

/// `(path of the conditions list, its node, istioctl reports these)`: the object's own
/// conditions, a route's per parent, a Gateway's per listener.
fn condition_lists(res: &Resource) -> Vec<(FieldPath, &Node, bool)> {
    let Some(status) = res.node.get("status") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(c) = status.get("conditions") {
        out.push((FieldPath::parse("status.conditions"), c, true));
    }
    for (list, istioctl) in [("parents", true), ("listeners", false)] {
        for (i, item) in status
            .get(list)
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(c) = item.get("conditions") {
                let path = FieldPath::parse("status")
                    .key(list)
                    .index(i)
                    .key("conditions");
                out.push((path, c, istioctl));
            }
        }
    }
    out
}

impl Rule for NegativeCondition {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, r) in cx.store.iter() {
            let types = watched(r);
            if types.is_empty() {
                continue;
            }
            for (path, list, istioctl) in condition_lists(r) {
                for (i, c) in list.as_seq().unwrap_or_default().iter().enumerate() {
                    let field = |k: &str| c.get(k).and_then(Node::as_str).unwrap_or("");
                    let (ty, status, reason) = (field("type"), field("status"), field("reason"));
                    // A waypoint that accepts only part of a policy says so with a reason.
                    let partial = ty == "WaypointAccepted" && reason == "PartiallyInvalid";
                    if !types.contains(&ty) || !(status == "False" || partial) {
                        continue;
                    }
                    let message = field("message");
                    let detail = if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    };
                    cx.report(
                        id,
                        path.clone().index(i).key("status"),
                        format!(
                            "{} {} reports condition `{ty}` {status} (reason `{reason}`){detail}",
                            r.kind, r.name
                        ),
                    )
                    .help("the controller's message says what it could not apply; fix the object (or what it references) and check the condition again")
                    .istio(if istioctl { &["IST0171"] } else { &[] });
                }
            }
        }
    }
}
