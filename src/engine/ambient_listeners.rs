//! What `meshlint listeners` says of ambient namespaces and workloads: they have no sidecar, so
//! no sidecar listeners; ztunnel carries their traffic, and a waypoint when one is named.

use std::collections::BTreeMap;

use crate::mesh::ambient::{AmbientView, DataplaneMode, Enrolment, EnrolmentSource};
use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::hosts::HostIndex;
use crate::mesh::settings::MeshSettings;
use crate::mesh::workloads::Workloads;
use crate::model::{Spec, Store};

/// One object of an ambient namespace and where its traffic goes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AmbientPath {
    /// `Deployment`, `Service`, ...
    pub kind: String,
    pub name: String,
    /// `ns/name` of the waypoint its traffic goes through after ztunnel, when one is named.
    pub waypoint: Option<String>,
    /// Where the waypoint is named: `namespace label` or `own label`.
    pub named_by: Option<&'static str>,
    /// The waypoint is in the input and its `istio.io/waypoint-for` refuses this kind of
    /// traffic, so istiod gives the object no waypoint.
    pub refused: bool,
}

/// An ambient namespace: its ambient workloads and its Services, with their paths.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AmbientNamespace {
    pub namespace: String,
    /// The Namespace itself is labelled `istio.io/dataplane-mode=ambient`.
    pub labelled: bool,
    pub workloads: Vec<AmbientPath>,
    pub services: Vec<AmbientPath>,
}

fn path(view: &AmbientView, kind: &str, name: &str, e: Enrolment) -> AmbientPath {
    let refused = e.waypoint().and_then(|w| w.gateway).is_some_and(|g| {
        let t = view.waypoint_for(g);
        if kind == "Service" {
            !t.accepts_service()
        } else {
            !t.accepts_workload()
        }
    });
    let (waypoint, named_by) = match e {
        Enrolment::Waypoint(w) => (
            Some(format!("{}/{}", w.namespace, w.name)),
            Some(match w.source {
                EnrolmentSource::Namespace => "namespace label",
                EnrolmentSource::Service | EnrolmentSource::Workload => "own label",
            }),
        ),
        _ => (None, None),
    };
    AmbientPath {
        kind: kind.to_string(),
        name: name.to_string(),
        waypoint,
        named_by,
        refused,
    }
}

/// The ambient namespaces of the input, sorted by name; a namespace counts when it is labelled
/// ambient or holds an ambient workload.
pub fn ambient_namespaces(store: &Store, rs: &MeshSettings) -> Vec<AmbientNamespace> {
    let hosts = HostIndex::build(store, &rs.mesh);
    let api = GatewayApi::build(store, &hosts);
    let workloads = Workloads::build(store);
    let view = AmbientView::build(store, &api, &workloads);
    if !view.any_ambient() {
        return Vec::new();
    }
    let mut out: BTreeMap<String, AmbientNamespace> = BTreeMap::new();
    fn entry<'m>(
        out: &'m mut BTreeMap<String, AmbientNamespace>,
        view: &AmbientView,
        ns: &str,
    ) -> &'m mut AmbientNamespace {
        out.entry(ns.to_string())
            .or_insert_with(|| AmbientNamespace {
                namespace: ns.to_string(),
                labelled: view.namespace_ambient(ns),
                workloads: Vec::new(),
                services: Vec::new(),
            })
    }
    for (id, r) in store.iter() {
        if matches!(r.spec, Spec::Namespace) && view.namespace_ambient(&r.name) {
            entry(&mut out, &view, &r.name);
        }
        if r.workload().is_some()
            && view.workload_mode(id) == DataplaneMode::Ambient
            && view.owners_of_pod(id).is_empty()
        {
            entry(&mut out, &view, &r.namespace).workloads.push(path(
                &view,
                &r.kind,
                &r.name,
                view.workload_enrolment(id),
            ));
        }
    }
    for (_, r) in store.iter() {
        if matches!(r.spec, Spec::Service(_))
            && let Some(ns) = out.get_mut(&r.namespace)
        {
            ns.services.push(path(
                &view,
                "Service",
                &r.name,
                view.service_enrolment(&r.namespace, &r.name),
            ));
        }
    }
    let mut out: Vec<AmbientNamespace> = out.into_values().collect();
    for ns in &mut out {
        ns.workloads
            .sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
        ns.services.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}
