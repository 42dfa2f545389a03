//! Shared by MESH1610-MESH1614: which workloads a selector-based policy reaches, which of them
//! are waypoints, and how a message names a waypoint.

use std::collections::BTreeSet;

use crate::mesh::ambient::enrolment::{self, EnrolmentSource, Labelled};
use crate::mesh::ambient::{AmbientView, DataplaneMode, Enrolment, WaypointRef};
use crate::mesh::ambient_l7::{
    Attachment, L7Field, destination_rule_l7_fields, mesh_route_sections,
};
use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::gateway_api::gateways::{Class, GATEWAY_NAME_LABEL};
use crate::mesh::hosts::{fqdn, k8s_service_of};
use crate::model::{ResId, Resource, Spec};
use crate::rules::Context;
use crate::source::FieldPath;

/// The label istio's deployment controller puts on the waypoints it deploys.
const MANAGED: &str = "gateway.istio.io/managed";
const MESH_CONTROLLER: &str = "istio.io-mesh-controller";

/// Whether a workload is a waypoint's proxy: deployed by istio's mesh controller, or named
/// after a waypoint Gateway of the input.
pub fn is_waypoint(api: &GatewayApi, r: &Resource) -> bool {
    let Some(w) = r.workload() else { return false };
    let labels = &w.pod_labels;
    labels.get(MANAGED).map(String::as_str) == Some(MESH_CONTROLLER)
        || labels.get(GATEWAY_NAME_LABEL).is_some_and(|g| {
            api.gateway_index(&r.namespace, g)
                .is_some_and(|i| api.gateways[i].class == Class::Waypoint)
        })
}

/// The Kubernetes Service a host of a resource in `namespace` names, as `(namespace, name)`:
/// a short name in the resource's namespace, or `name.ns.svc.cluster.local`.
pub fn service_of_host(host: &str, namespace: &str) -> Option<(String, String)> {
    let full = fqdn(host, namespace);
    k8s_service_of(&full).map(|(name, ns)| (ns.to_string(), name.to_string()))
}

/// The workloads a policy attached by selector or namespace-wide reaches: those its selector
/// matches in its namespace (in every namespace from the root namespace), or every workload of
/// its namespace. A root-namespace policy without a selector is mesh-wide and left out.
pub fn reached(cx: &Context<'_>, r: &Resource, att: &Attachment) -> Vec<ResId> {
    let root = cx.settings.mesh.root_namespace();
    let in_root = r.namespace == root;
    if !att.selector.is_empty() {
        let ns = (!in_root).then_some(r.namespace.as_str());
        return cx.index.workloads.matching(&att.selector, ns);
    }
    if in_root {
        return Vec::new();
    }
    cx.index.workloads.in_namespace(&r.namespace).to_vec()
}

/// The workloads among `ids` that ztunnel captures and that are not waypoints, and the
/// waypoints among them.
pub fn split_ambient(
    cx: &Context<'_>,
    ambient: &AmbientView,
    api: &GatewayApi,
    ids: &[ResId],
) -> (Vec<ResId>, Vec<ResId>) {
    let (mut captured, mut waypoints) = (Vec::new(), Vec::new());
    for &id in ids {
        let r = cx.store.get(id);
        if is_waypoint(api, r) {
            waypoints.push(id);
        } else if ambient.workload_mode(id) == DataplaneMode::Ambient {
            captured.push(id);
        }
    }
    // Named in messages: in a fixed order, whatever the input order.
    let key = |&id: &ResId| {
        let r = cx.store.get(id);
        (r.namespace.clone(), r.name.clone(), r.kind.clone())
    };
    captured.sort_by_key(key);
    waypoints.sort_by_key(key);
    (captured, waypoints)
}

/// `waypoint ns/name`, for messages.
pub fn waypoint_text(w: &WaypointRef) -> String {
    format!("waypoint {}/{}", w.namespace, w.name)
}

/// Why an enrolment gives no waypoint, for messages.
pub fn no_waypoint_text(e: &Enrolment, what: &str) -> String {
    match e {
        Enrolment::OptedOut { .. } => {
            format!("{what} opts out of waypoints (`istio.io/use-waypoint: none`)")
        }
        _ => format!(
            "neither {what} nor its namespace has an `istio.io/use-waypoint` label, so it uses no waypoint"
        ),
    }
}

/// Whether the namespace's own `istio.io/use-waypoint` label gives its workloads a waypoint.
pub fn namespace_has_waypoint(cx: &Context<'_>, ns: &str) -> bool {
    cx.namespace(ns).is_some_and(|id| {
        let n = cx.store.get(id);
        let labelled = Labelled {
            id,
            labels: &n.labels,
            labels_path: FieldPath::parse("metadata.labels"),
            source: EnrolmentSource::Namespace,
        };
        matches!(
            enrolment::resolve(None, Some(&labelled), ns),
            Enrolment::Waypoint(_)
        )
    })
}

/// What routes or configures traffic to a Service: a mesh VirtualService, a DestinationRule,
/// or a Gateway API route whose parent is a Service.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    VirtualService,
    DestinationRule,
    Route,
}

/// A Service a route resource applies to, and the field naming it.
pub struct RouteTarget {
    pub path: FieldPath,
    pub namespace: String,
    pub name: String,
}

/// The Services a VirtualService, DestinationRule or Gateway API route applies to (each
/// once), with the fields only a waypoint applies in ambient mode; `None` for other kinds
/// and for resources without such fields.
pub fn route_targets(r: &Resource) -> Option<(RouteKind, Vec<RouteTarget>, Vec<L7Field>)> {
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    let mut push = |path: FieldPath, ns: String, name: String| {
        if seen.insert((ns.clone(), name.clone())) {
            targets.push(RouteTarget {
                path,
                namespace: ns,
                name,
            });
        }
    };
    let (kind, fields) = match &r.spec {
        Spec::VirtualService(vs) => {
            for (i, h) in vs.hosts.iter().enumerate() {
                if let Some((ns, name)) = service_of_host(h, &r.namespace) {
                    push(FieldPath::parse("spec.hosts").index(i), ns, name);
                }
            }
            (RouteKind::VirtualService, mesh_route_sections(vs))
        }
        // A rule with a workloadSelector is meant for the sidecars it selects only.
        Spec::DestinationRule(dr) if dr.workload_selector.is_some() => return None,
        Spec::DestinationRule(dr) => {
            if let Some((ns, name)) = service_of_host(&dr.host, &r.namespace) {
                push(FieldPath::parse("spec.host"), ns, name);
            }
            (RouteKind::DestinationRule, destination_rule_l7_fields(r))
        }
        Spec::Route(_, route) => {
            for (i, p) in route.parent_refs.iter().enumerate() {
                let core = matches!(p.group.as_deref(), None | Some("") | Some("core"));
                if p.kind() == "Service" && core {
                    let ns = p.namespace.clone().unwrap_or_else(|| r.namespace.clone());
                    push(
                        FieldPath::parse("spec.parentRefs").index(i),
                        ns,
                        p.name.clone(),
                    );
                }
            }
            let fields = if route.rules.is_empty() {
                Vec::new()
            } else {
                vec![L7Field {
                    path: FieldPath::parse("spec.rules"),
                    what: "rules".into(),
                }]
            };
            (RouteKind::Route, fields)
        }
        _ => return None,
    };
    (!fields.is_empty() && !targets.is_empty()).then_some((kind, targets, fields))
}
