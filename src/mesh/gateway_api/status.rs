//! The status a conforming controller (istiod) would write, predicted from the manifests: per
//! Gateway listener and per route parent, the conditions decidable offline. Condition types
//! and reasons are the spec's (`apis/v1/gateway_types.go`, `apis/v1/shared_types.go`); which
//! one istiod sets when follows `buildListener`, `ReportListenerConflict` and
//! `createRouteStatus` in istio's `pilot/pkg/config/kube/gateway{,common}/`.

use serde::Serialize;

use crate::model::{ResId, Store};

use super::GatewayApi;
use super::attach::{ParentResult, ParentTarget};
use super::gateways::Class;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub status: &'static str,
    pub reason: String,
    pub message: String,
}

fn cond(type_: &'static str, ok: bool, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        type_,
        status: if ok { "True" } else { "False" },
        reason: reason.into(),
        message: message.into(),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ListenerStatus {
    pub name: String,
    pub port: Option<i64>,
    pub protocol: String,
    pub hostname: Option<String>,
    #[serde(rename = "supportedKinds")]
    pub supported_kinds: Vec<&'static str>,
    #[serde(rename = "attachedRoutes")]
    pub attached_routes: usize,
    pub conditions: Vec<Condition>,
    /// What the prediction assumes about objects the input lacks, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GatewayStatus {
    #[serde(skip)]
    pub id: ResId,
    pub namespace: String,
    pub name: String,
    pub class: String,
    /// Who handles it: `istio`, `istio-remote`, `istio-waypoint`, `controller X`, or unknown.
    pub controller: String,
    /// The Service istiod generates (managed) or binds to (manual deployment).
    pub services: Vec<String>,
    pub managed: bool,
    pub conditions: Vec<Condition>,
    pub listeners: Vec<ListenerStatus>,
    /// What the prediction assumes about objects the input lacks, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ParentStatus {
    /// `Kind ns/name[:section][@port]`.
    pub parent: String,
    pub conditions: Vec<Condition>,
    /// The listeners attached to, by name.
    pub listeners: Vec<String>,
    /// Why no prediction is made, when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RouteStatus {
    #[serde(skip)]
    pub id: ResId,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub parents: Vec<ParentStatus>,
}

fn controller(class: &Class) -> String {
    match class {
        Class::Istio => "istio".into(),
        Class::Remote => "istio-remote (another cluster's istiod)".into(),
        Class::Waypoint => "istio-waypoint".into(),
        Class::Foreign(c) => format!("controller {c}"),
        Class::Unknown => "unknown: the GatewayClass is not in the input".into(),
    }
}

impl GatewayApi {
    pub fn gateway_status(&self, store: &Store) -> Vec<GatewayStatus> {
        let attached = self.attached();
        self.gateways
            .iter()
            .enumerate()
            .map(|(gi, g)| {
                let r = store.get(g.id);
                let ours = g.class.routes_converted() || g.class == Class::Waypoint;
                let listeners = g
                    .listeners
                    .iter()
                    .map(|l| {
                        let mut conditions = Vec::new();
                        if ours {
                            conditions = listener_conditions(l);
                        }
                        ListenerStatus {
                            name: l.name.clone(),
                            port: l.port,
                            protocol: l.protocol.clone(),
                            hostname: l.hostname.clone(),
                            supported_kinds: l.kinds.iter().map(|k| k.kind()).collect(),
                            attached_routes: attached.get(&(gi, l.index)).map_or(0, Vec::len),
                            conditions,
                            note: l.tls_result.assumed.clone(),
                        }
                    })
                    .collect();
                let mut conditions = Vec::new();
                let mut note = None;
                if ours {
                    let (accepted, assumed) = self.gateway_accepted(store, g);
                    conditions.push(accepted);
                    note = assumed;
                }
                GatewayStatus {
                    id: g.id,
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                    class: match &r.spec {
                        crate::model::Spec::K8sGateway(s) => s.gateway_class_name.clone(),
                        _ => String::new(),
                    },
                    controller: controller(&g.class),
                    // istiod deploys or binds only the Gateways of its own classes.
                    services: if matches!(g.class, Class::Istio | Class::Waypoint) {
                        g.deployment.services.clone()
                    } else {
                        Vec::new()
                    },
                    managed: g.deployment.managed,
                    conditions,
                    listeners,
                    note,
                }
            })
            .collect()
    }

    pub fn route_status(&self, store: &Store) -> Vec<RouteStatus> {
        self.routes
            .iter()
            .map(|rv| {
                let r = store.get(rv.id);
                let resolved = rv.unresolved();
                let parents = rv
                    .parents
                    .iter()
                    .map(|p| {
                        let pr = match &r.spec {
                            crate::model::Spec::Route(_, route) => route.parent_refs.get(p.index),
                            _ => None,
                        };
                        let mut parent = pr.map_or_else(String::new, |pr| {
                            format!(
                                "{} {}/{}",
                                pr.kind(),
                                pr.namespace.as_deref().unwrap_or(&r.namespace),
                                pr.name
                            )
                        });
                        if let Some(s) = pr.and_then(|p| p.section_name.as_deref()) {
                            parent.push_str(&format!(":{s}"));
                        }
                        if let Some(port) = pr.and_then(|p| p.port) {
                            parent.push_str(&format!("@{port}"));
                        }
                        let mut conditions = Vec::new();
                        let mut listeners = Vec::new();
                        let mut note = None;
                        match &p.result {
                            ParentResult::Accepted { listeners: ls, assumed } => {
                                conditions.push(cond("Accepted", true, "Accepted", "Route was valid"));
                                if let ParentTarget::Gateway(g) = p.target {
                                    listeners = ls
                                        .iter()
                                        .map(|&l| self.gateways[g].listeners[l].name.clone())
                                        .collect();
                                }
                                if *assumed {
                                    note = Some("a listener's namespace selector was assumed to admit this namespace, whose labels are not in the input".into());
                                }
                            }
                            ParentResult::Denied { denial, message, .. } => {
                                conditions.push(cond("Accepted", false, denial.reason(), message.clone()));
                                if let ParentTarget::Missing { .. } = p.target {
                                    note = Some("the parent is not in the input; istiod writes no status for a parent it does not know".into());
                                }
                            }
                            ParentResult::Unknown => {
                                note = Some(match &p.target {
                                    ParentTarget::Foreign(why) => why.clone(),
                                    ParentTarget::Gateway(g) if self.gateways[*g].class.routes_converted() => {
                                        "a ListenerSet adds listeners to this Gateway, which meshlint does not model: no prediction".into()
                                    }
                                    _ => "the parent's GatewayClass is not istio's: no prediction".into(),
                                });
                            }
                        }
                        if p.result != ParentResult::Unknown {
                            conditions.push(match resolved {
                                Some((b, reason)) => cond(
                                    "ResolvedRefs",
                                    false,
                                    reason,
                                    format!("backendRef {}/{} does not resolve", b.namespace, b.name),
                                ),
                                None => cond("ResolvedRefs", true, "ResolvedRefs", "All references resolved"),
                            });
                        }
                        ParentStatus {
                            parent,
                            conditions,
                            listeners,
                            note,
                        }
                    })
                    .collect();
                RouteStatus {
                    id: rv.id,
                    kind: rv.kind.kind(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                    parents,
                }
            })
            .collect()
    }
}

impl GatewayApi {
    /// The Gateway's `Accepted` condition (`reportGatewayStatus`), and what it assumes: an
    /// address istiod ignores on a manually deployed Gateway refuses it, then an
    /// `infrastructure.parametersRef` that is not a ConfigMap of the Gateway's namespace
    /// (`validateParametersRef` in `gateway_collection.go`); otherwise it is accepted while
    /// any listener is valid (`ListenerView::valid`), with reason `ListenersNotValid` when some
    /// are not.
    fn gateway_accepted(
        &self,
        store: &Store,
        g: &super::gateways::GatewayView,
    ) -> (Condition, Option<String>) {
        let r = store.get(g.id);
        if !g.deployment.managed
            && let crate::model::Spec::K8sGateway(spec) = &r.spec
        {
            let skipped: Vec<&str> = spec
                .addresses
                .iter()
                .filter(|a| a.kind() != "Hostname")
                .map(|a| a.value.as_str())
                .collect();
            if !skipped.is_empty() {
                let message = format!("only Hostname is supported, ignoring {skipped:?}");
                return (cond("Accepted", false, "UnsupportedAddress", message), None);
            }
        }
        let mut assumed = None;
        if let Some(params) = crate::model::raw::raw(r, "spec.infrastructure.parametersRef") {
            let field = |k: &str| {
                params
                    .get(k)
                    .and_then(crate::source::Node::as_str)
                    .unwrap_or("")
            };
            let (group, kind, name) = (field("group"), field("kind"), field("name"));
            let refused = |message: String| cond("Accepted", false, "InvalidParameters", message);
            if kind != "ConfigMap" || !group.is_empty() {
                let message = format!(
                    "Unsupported parametersRef group/kind {group}/{kind}, only ConfigMap is supported"
                );
                return (refused(message), None);
            }
            if self.object("ConfigMap", &r.namespace, name).is_none() {
                if self.kind_in_namespace("ConfigMap", &r.namespace) {
                    let message = format!(
                        "parametersRef ConfigMap {}/{name} does not exist",
                        r.namespace
                    );
                    return (refused(message), None);
                }
                assumed = Some(format!(
                    "the parametersRef ConfigMap {}/{name} is not in the input (nor any ConfigMap of {}): assumed to exist",
                    r.namespace, r.namespace
                ));
            }
        }
        let valid = g.listeners.iter().filter(|l| l.valid()).count();
        let accepted = match (g.listeners.len(), valid) {
            (0, _) => cond("Accepted", true, "Accepted", "Resource accepted"),
            (_, 0) => cond(
                "Accepted",
                false,
                "ListenersNotValid",
                "None of the Gateway's listeners are valid",
            ),
            (n, v) if v < n => cond(
                "Accepted",
                true,
                "ListenersNotValid",
                "One or more of the Gateway's listeners are invalid",
            ),
            _ => cond("Accepted", true, "Accepted", "Resource accepted"),
        };
        (accepted, assumed)
    }
}

fn listener_conditions(l: &super::gateways::ListenerView) -> Vec<Condition> {
    if let Some(c) = &l.conflict {
        let msg = "Listener has a conflict with another listener attached to the same Gateway";
        return vec![
            cond("Accepted", false, c.reason, msg),
            cond("Programmed", false, c.reason, msg),
            cond("Conflicted", true, c.reason, msg),
        ];
    }
    // `buildListener` sets `Programmed=False` only for TLS errors: a listener refused for its
    // protocol or, on a waypoint, its port stays programmed. The protocol and waypoint checks
    // run after the TLS one and overwrite its `Accepted`.
    let tls = l.tls_result.error.as_ref();
    let mut out = vec![
        match (&l.problem, tls) {
            (Some(p), _) => cond("Accepted", false, p.reason, p.message.clone()),
            (None, Some(t)) if t.refuses() => {
                cond("Accepted", false, "NoValidCACertificate", t.message.clone())
            }
            _ => cond("Accepted", true, "Accepted", "No errors found"),
        },
        cond("Conflicted", false, "NoConflicts", "No conflicts"),
    ];
    if let Some(t) = tls {
        out.push(cond("ResolvedRefs", false, t.reason, t.message.clone()));
        out.push(cond(
            "Programmed",
            false,
            "Invalid",
            "Bad TLS configuration",
        ));
        return out;
    }
    out.push(if l.invalid_kinds {
        cond(
            "ResolvedRefs",
            false,
            "InvalidRouteKinds",
            "Invalid route kinds",
        )
    } else {
        cond("ResolvedRefs", true, "ResolvedRefs", "No errors found")
    });
    out.push(cond("Programmed", true, "Programmed", "No errors found"));
    out
}
