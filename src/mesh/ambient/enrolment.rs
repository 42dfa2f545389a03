//! Which waypoint a Service or workload uses: the `istio.io/use-waypoint` label on the object,
//! else on its namespace, as istio resolves it (`fetchWaypointForTarget` and `GetUseWaypoint`
//! in istio `pilot/pkg/serviceregistry/ambient/waypoints.go`):
//! - the object's own label wins; its value `none` opts the object out, and the namespace's
//!   label is then not read;
//! - the waypoint's namespace is `istio.io/use-waypoint-namespace` written beside the label
//!   (on the same object), else the namespace of the object (not of the labelled Namespace);
//! - a namespace label `none` means no waypoint, like no label.

use std::collections::BTreeMap;

use crate::model::ResId;
use crate::source::FieldPath;

pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
/// On a Service: ingress gateways send its traffic through its waypoint too.
pub const INGRESS_USE_WAYPOINT: &str = "istio.io/ingress-use-waypoint";

/// Where the `istio.io/use-waypoint` label that applies is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentSource {
    /// On the Namespace.
    Namespace,
    /// On the Service.
    Service,
    /// On the pod (template).
    Workload,
}

/// A waypoint a Service or workload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaypointRef {
    pub name: String,
    pub namespace: String,
    pub source: EnrolmentSource,
    /// Where the `istio.io/use-waypoint` label is written.
    pub label_at: (ResId, FieldPath),
    /// Where `istio.io/use-waypoint-namespace` is written, when it is.
    pub namespace_at: Option<(ResId, FieldPath)>,
    /// The waypoint Gateway (Gateway API), when the input has it.
    pub gateway: Option<ResId>,
}

/// Whether and how a Service or workload uses a waypoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    NotEnrolled,
    /// `istio.io/use-waypoint: none`.
    OptedOut {
        label_at: (ResId, FieldPath),
    },
    Waypoint(WaypointRef),
}

impl Enrolment {
    pub fn waypoint(&self) -> Option<&WaypointRef> {
        match self {
            Enrolment::Waypoint(w) => Some(w),
            _ => None,
        }
    }
}

/// The labels of one object that may carry `istio.io/use-waypoint`, and where they live.
pub struct Labelled<'a> {
    pub id: ResId,
    pub labels: &'a BTreeMap<String, String>,
    /// The path of the labels map, e.g. `metadata.labels` or `spec.template.metadata.labels`.
    pub labels_path: FieldPath,
    pub source: EnrolmentSource,
}

/// `GetUseWaypoint` on one object: `None` without the label.
pub fn read(object: &Labelled<'_>, default_namespace: &str) -> Option<Enrolment> {
    let value = object.labels.get(USE_WAYPOINT)?;
    let at = (
        object.id,
        object.labels_path.clone().key(USE_WAYPOINT.to_string()),
    );
    // istio reserves `none`: a waypoint of that name cannot be used.
    if value == "none" {
        return Some(Enrolment::OptedOut { label_at: at });
    }
    let ns_override = object.labels.get(USE_WAYPOINT_NAMESPACE);
    Some(Enrolment::Waypoint(WaypointRef {
        name: value.clone(),
        namespace: ns_override.map_or_else(|| default_namespace.to_string(), Clone::clone),
        source: object.source,
        label_at: at,
        namespace_at: ns_override.map(|_| {
            (
                object.id,
                object
                    .labels_path
                    .clone()
                    .key(USE_WAYPOINT_NAMESPACE.to_string()),
            )
        }),
        gateway: None,
    }))
}

/// `fetchWaypointForTarget`: the object's own label, else its namespace's (where `none` counts
/// as no label).
pub fn resolve(
    object: Option<&Labelled<'_>>,
    namespace: Option<&Labelled<'_>>,
    object_namespace: &str,
) -> Enrolment {
    if let Some(own) = object.and_then(|o| read(o, object_namespace)) {
        return own;
    }
    match namespace.and_then(|n| read(n, object_namespace)) {
        Some(e @ Enrolment::Waypoint(_)) => e,
        _ => Enrolment::NotEnrolled,
    }
}
