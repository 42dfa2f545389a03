//! Every `istio.io/use-waypoint` label of the input with what it applies to, grouped by where it
//! is written, so a namespace label is judged once for all its Services, ServiceEntries and
//! workloads.

use std::collections::BTreeMap;

use crate::mesh::ambient::{AmbientView, Enrolment, WaypointRef};
use crate::model::{ResId, Spec};
use crate::rules::Context;
use crate::source::FieldPath;

/// What uses a waypoint through one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A Service or a ServiceEntry: service traffic.
    Service(ResId),
    Workload(ResId),
}

impl Subject {
    pub fn id(self) -> ResId {
        match self {
            Subject::Service(id) | Subject::Workload(id) => id,
        }
    }
}

/// One `istio.io/use-waypoint` label naming a waypoint, and the Services and workloads it
/// applies to (none for a namespace label whose objects all name their own).
pub struct Labelled {
    pub waypoint: WaypointRef,
    pub subjects: Vec<Subject>,
}

/// The labels naming a waypoint, in input order of where they are written.
pub fn waypoint_labels(cx: &Context<'_>, view: &AmbientView) -> Vec<Labelled> {
    let mut out: BTreeMap<(ResId, FieldPath), Labelled> = BTreeMap::new();
    let mut add = |e: Enrolment, subject: Option<Subject>| {
        if let Enrolment::Waypoint(w) = e {
            let entry = out.entry(w.label_at.clone()).or_insert_with(|| Labelled {
                waypoint: w,
                subjects: Vec::new(),
            });
            if let Some(s) = subject {
                entry.subjects.push(s);
            }
        }
    };
    for (id, r) in cx.store.iter() {
        match &r.spec {
            Spec::Namespace => add(view.namespace_enrolment(&r.name), None),
            Spec::Service(_) => add(
                view.service_enrolment(&r.namespace, &r.name),
                Some(Subject::Service(id)),
            ),
            Spec::ServiceEntry(_) => {
                add(view.service_entry_enrolment(id), Some(Subject::Service(id)))
            }
            Spec::Workload(_) if view.owners_of_pod(id).is_empty() => {
                add(view.workload_enrolment(id), Some(Subject::Workload(id)))
            }
            _ => {}
        }
    }
    out.into_values().collect()
}
