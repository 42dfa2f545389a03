//! Route attachment: which parent each `parentRefs` entry names and whether istiod attaches
//! the route there (`referenceAllowed`, `extractParentReferenceInfo` and `createRouteStatus` in
//! istio's `pilot/pkg/config/kube/gateway/conversion.go` and `conditions.go`).

use crate::mesh::ambient::enrolment::{USE_WAYPOINT, USE_WAYPOINT_NAMESPACE};
use crate::mesh::hosts::hosts_match;
use crate::model::gateway_api::{GROUP, ParentRef, Route, RouteKind};
use crate::model::{ResId, Store};

use super::gateways::{AllowedFrom, Class, GatewayView, ListenerView};
use super::{GatewayApi, Namespaces};

/// What a parentRef names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentTarget {
    /// A Gateway API Gateway of the input (index in [`GatewayApi::gateways`]).
    Gateway(usize),
    /// A Service (GAMMA mesh route) or ServiceEntry.
    Service(ResId),
    /// A Gateway, Service or ServiceEntry the input does not have. `kind_in_namespace`: the
    /// input has objects of that kind in that namespace, so the input is not just partial.
    Missing {
        kind: String,
        namespace: String,
        name: String,
        kind_in_namespace: bool,
    },
    /// A parent istiod writes no status for, and why: a kind it does not handle (another
    /// controller's parent, or a ListenerSet, which meshlint does not model), or a Service whose
    /// waypoint belongs to another controller.
    Foreign(String),
}

/// The spec's reasons for `Accepted=False` on a route parent, in istio's ranking order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denial {
    NotAllowedByListeners,
    NoMatchingListenerHostname,
    NoMatchingParent,
}

impl Denial {
    pub fn reason(self) -> &'static str {
        match self {
            Denial::NotAllowedByListeners => "NotAllowedByListeners",
            Denial::NoMatchingListenerHostname => "NoMatchingListenerHostname",
            Denial::NoMatchingParent => "NoMatchingParent",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentResult {
    /// Attached to these listeners (empty for a Service parent). `assumed`: a listener's
    /// namespace selector was assumed to admit the route's namespace, whose labels the input
    /// does not have.
    Accepted {
        listeners: Vec<usize>,
        assumed: bool,
    },
    /// Not attached; the message says why, as istiod words it, and `field` names the
    /// deciding field: `name`, `sectionName`, `port` or `namespace` of the parentRef, or the
    /// route's `hostnames`, or `kind` (the route's kind); empty when the Gateway decides.
    Denied {
        denial: Denial,
        message: String,
        field: &'static str,
    },
    /// The parent's class is not istio's, or the parent is not in the input: no prediction.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct ParentView {
    /// Index in `spec.parentRefs`.
    pub index: usize,
    pub target: ParentTarget,
    pub result: ParentResult,
    /// For a Gateway parent: whether any of its listeners admits the route's namespace
    /// (`None` when undecidable or the Gateway has no listeners), whatever the hostnames.
    pub namespace_admitted: Option<bool>,
}

impl ParentView {
    pub fn accepted(&self) -> bool {
        matches!(self.result, ParentResult::Accepted { .. })
    }
}

/// Whether a listener admits routes from `ns`: `Some(true|false)`, or `None` when its selector
/// needs labels of a namespace the input does not have.
fn namespace_allowed(
    l: &ListenerView,
    gw_ns: &str,
    ns: &str,
    namespaces: &Namespaces,
) -> Option<bool> {
    match &l.from {
        AllowedFrom::Same => Some(ns == gw_ns),
        AllowedFrom::All => Some(true),
        AllowedFrom::Nothing(_) => Some(false),
        AllowedFrom::Selector(sel) => match namespaces.labels(ns) {
            Some(labels) => Some(sel.matches(&labels)),
            // Only the name label is known: a selector on it alone still decides.
            None => {
                let only_name = sel
                    .match_labels
                    .keys()
                    .chain(sel.match_expressions.iter().map(|e| &e.key))
                    .all(|k| k == super::NAMESPACE_NAME_LABEL);
                let labels = Namespaces::implicit(ns);
                match sel.matches(&labels) {
                    true => Some(true),
                    false if only_name => Some(false),
                    false => None,
                }
            }
        },
    }
}

/// Whether any listener of a Gateway admits routes from `ns`.
fn admitted(gw: &GatewayView, store: &Store, ns: &str, namespaces: &Namespaces) -> Option<bool> {
    let gw_ns = store.get(gw.id).namespace.as_str();
    let mut out = None;
    for l in &gw.listeners {
        match namespace_allowed(l, gw_ns, ns, namespaces) {
            Some(true) => return Some(true),
            None => return None,
            Some(false) => out = Some(false),
        }
    }
    out
}

/// `referenceAllowed` for one listener of a Gateway parent.
fn listener_allows(
    pr: &ParentRef,
    l: &ListenerView,
    kind: RouteKind,
    hostnames: &[String],
    gw_ns: &str,
    ns: &str,
    namespaces: &Namespaces,
) -> Result<bool, (Denial, String, &'static str)> {
    if let Some(port) = pr.port
        && Some(port) != l.port
    {
        return Err((
            Denial::NoMatchingParent,
            format!("port {port} not found"),
            "port",
        ));
    }
    if let Some(section) = pr.section_name.as_deref().filter(|s| !s.is_empty())
        && section != l.name
    {
        return Err((
            Denial::NoMatchingParent,
            format!("sectionName {section:?} not found"),
            "sectionName",
        ));
    }
    let host_matched = hostnames.is_empty() || hostnames.iter().any(|h| hosts_match(l.host(), h));
    let allowed = namespace_allowed(l, gw_ns, ns, namespaces);
    if !host_matched {
        return Err((
            Denial::NoMatchingListenerHostname,
            format!(
                "no hostnames matched parent hostname {:?}",
                l.hostname.clone().unwrap_or_default()
            ),
            "hostnames",
        ));
    }
    if allowed == Some(false) {
        return Err((
            Denial::NotAllowedByListeners,
            format!(
                "hostnames matched parent hostname {:?}, but namespace {ns:?} is not allowed by the parent",
                l.hostname.clone().unwrap_or_default()
            ),
            "namespace",
        ));
    }
    if !l.kinds.contains(&kind) {
        return Err((
            Denial::NotAllowedByListeners,
            format!("kind {} is not allowed", kind.kind()),
            "kind",
        ));
    }
    Ok(allowed.is_none())
}

/// The result for a Gateway parent: accepted on any usable listener, else the denial of the
/// best rank (`createRouteStatus` joins the messages of equal rank).
fn gateway_result(
    pr: &ParentRef,
    gw: &GatewayView,
    store: &Store,
    kind: RouteKind,
    route: &Route,
    ns: &str,
    namespaces: &Namespaces,
) -> ParentResult {
    if !gw.class.routes_converted() {
        return ParentResult::Unknown;
    }
    let gw_ns = store.get(gw.id).namespace.as_str();
    let mut listeners = Vec::new();
    let mut assumed = false;
    let mut worst: Option<(Denial, Vec<String>, &'static str)> = None;
    for l in gw.listeners.iter().filter(|l| l.server()) {
        match listener_allows(pr, l, kind, &route.hostnames, gw_ns, ns, namespaces) {
            Ok(a) => {
                listeners.push(l.index);
                assumed |= a;
            }
            Err((d, msg, field)) => match &mut worst {
                Some((w, msgs, _)) if *w == d => msgs.push(msg),
                Some((w, _, _)) if *w < d => {}
                _ => worst = Some((d, vec![msg], field)),
            },
        }
    }
    if !listeners.is_empty() {
        return ParentResult::Accepted { listeners, assumed };
    }
    match worst {
        Some((denial, mut msgs, field)) => {
            msgs.dedup();
            ParentResult::Denied {
                denial,
                message: msgs.join("; "),
                field,
            }
        }
        None => ParentResult::Denied {
            denial: Denial::NoMatchingParent,
            message: "the Gateway has no listener that istiod programs".into(),
            field: "",
        },
    }
}

impl GatewayApi {
    /// Every parentRef of a route with its target and result.
    pub(super) fn parents(
        &self,
        store: &Store,
        id: ResId,
        kind: RouteKind,
        route: &Route,
    ) -> Vec<ParentView> {
        let ns = store.get(id).namespace.as_str();
        route
            .parent_refs
            .iter()
            .enumerate()
            .map(|(index, pr)| {
                let target_ns = pr.namespace.as_deref().unwrap_or(ns);
                let group = pr.group();
                let mut namespace_admitted = None;
                let (target, result) = match pr.kind() {
                    "Gateway" if group == GROUP => match self.gateway_index(target_ns, &pr.name) {
                        Some(g) => {
                            let gw = &self.gateways[g];
                            namespace_admitted = admitted(gw, store, ns, &self.namespaces);
                            let mut result =
                                gateway_result(pr, gw, store, kind, route, ns, &self.namespaces);
                            let key = (target_ns.to_string(), pr.name.clone());
                            if matches!(result, ParentResult::Denied { .. })
                                && self.extended.contains(&key)
                            {
                                // A ListenerSet's listener may take the route.
                                result = ParentResult::Unknown;
                                namespace_admitted = None;
                            }
                            (ParentTarget::Gateway(g), result)
                        }
                        None => self.missing(pr, "Gateway", target_ns),
                    },
                    k @ ("Service" | "ServiceEntry")
                        if matches!(group, "" | "core" | "networking.istio.io") =>
                    {
                        match self.object(k, target_ns, &pr.name) {
                            Some(s) => match self.foreign_waypoint(store, s, target_ns) {
                                Some(why) => (ParentTarget::Foreign(why), ParentResult::Unknown),
                                None => (
                                    ParentTarget::Service(s),
                                    ParentResult::Accepted {
                                        listeners: Vec::new(),
                                        assumed: false,
                                    },
                                ),
                            },
                            None => self.missing(pr, k, target_ns),
                        }
                    }
                    "ListenerSet" if group == GROUP => (
                        ParentTarget::Foreign(
                            "a ListenerSet parent, which meshlint does not model".into(),
                        ),
                        ParentResult::Unknown,
                    ),
                    k => (
                        ParentTarget::Foreign(format!(
                            "a parent kind istiod does not handle ({k})"
                        )),
                        ParentResult::Unknown,
                    ),
                };
                ParentView {
                    index,
                    target,
                    result,
                    namespace_admitted,
                }
            })
            .collect()
    }

    /// `waypointManagedByAnotherController` (istio's `conversion.go`): a Service or
    /// ServiceEntry parent whose `istio.io/use-waypoint` (its own label, else its namespace's)
    /// names a Gateway of a class whose controller is neither istio's gateway nor its mesh
    /// controller. istiod leaves such a route to that controller and writes no status for it.
    fn foreign_waypoint(&self, store: &Store, parent: ResId, ns: &str) -> Option<String> {
        let own = &store.get(parent).labels;
        let labels = if own.contains_key(USE_WAYPOINT) {
            own.clone()
        } else {
            self.namespaces.labels(ns)?
        };
        let name = labels
            .get(USE_WAYPOINT)
            .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("none"))?;
        let wns = labels
            .get(USE_WAYPOINT_NAMESPACE)
            .filter(|n| !n.is_empty())
            .map_or(ns, String::as_str);
        let g = self.gateway_index(wns, name)?;
        let controller = match &self.gateways[g].class {
            Class::Foreign(c) => c.as_str(),
            Class::Remote => "istio.io/unmanaged-gateway",
            _ => return None,
        };
        Some(format!(
            "its waypoint {wns}/{name} belongs to controller {controller}, which handles the route: istiod writes no status for it"
        ))
    }

    fn missing(&self, pr: &ParentRef, kind: &str, ns: &str) -> (ParentTarget, ParentResult) {
        let message = match kind {
            "Gateway" => format!("Gateway {ns}/{} not found", pr.name),
            "Service" => format!("parent service: {:?} not found", pr.name),
            _ => format!("parent service entry: {:?} not found", pr.name),
        };
        (
            ParentTarget::Missing {
                kind: kind.into(),
                namespace: ns.into(),
                name: pr.name.clone(),
                kind_in_namespace: self.kind_in_namespace(kind, ns),
            },
            ParentResult::Denied {
                denial: Denial::NoMatchingParent,
                message,
                field: "name",
            },
        )
    }
}
