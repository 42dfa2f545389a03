//! Istio's ambient data plane as istiod and the CNI agent see the manifests: which workloads
//! ztunnel captures rather than a sidecar (`mode`), which waypoint a Service or workload uses
//! (`enrolment`) and which traffic a waypoint Gateway accepts (`waypoints`). Built once per run;
//! every answer is a lookup.

pub mod enrolment;
pub mod mode;
pub mod waypoints;

use std::collections::{BTreeMap, HashMap};

use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::gateway_api::gateways::GATEWAY_NAME_LABEL;
use crate::mesh::injection::{self, Platform};
use crate::mesh::workloads::Workloads;
use crate::model::k8s::Workload;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::FieldPath;

pub use enrolment::{Enrolment, EnrolmentSource, WaypointRef};
pub use mode::{DataplaneMode, ModeFacts, Observed};
pub use waypoints::WaypointFor;

use enrolment::Labelled;

/// The label istio's deployment controller puts on the waypoint and east-west gateway
/// Services it generates; those Services never use a waypoint (`fetchWaypointForService`).
const GATEWAY_MANAGED: &str = "gateway.istio.io/managed";
const NOT_WAYPOINT_CLIENTS: [&str; 2] =
    ["istio.io-mesh-controller", "istio.io-eastwest-controller"];

/// `istio.io/waypoint-for` of one Gateway, and where it is written when it is.
#[derive(Debug, Clone)]
pub struct TrafficType {
    pub value: WaypointFor,
    /// The Gateway's or its GatewayClass's label; `None` for the default (`service`).
    pub label_at: Option<(ResId, FieldPath)>,
}

/// The ambient view of the input.
#[derive(Default)]
pub struct AmbientView {
    /// Namespaces labelled `istio.io/dataplane-mode=ambient`.
    ambient_namespaces: HashMap<String, ResId>,
    /// Every workload's facts and mode.
    workloads: HashMap<ResId, ModeFacts>,
    workload_enrolment: HashMap<ResId, Enrolment>,
    /// Services of the input by (namespace, name), with their enrolment.
    services: HashMap<(String, String), Enrolment>,
    /// ServiceEntries, which istiod enrols as it does Services.
    service_entries: HashMap<ResId, Enrolment>,
    /// What a Service the input lacks gets: its namespace's label.
    namespace_enrolment: HashMap<String, Enrolment>,
    traffic: HashMap<ResId, TrafficType>,
    /// Pods of a snapshot that some other workload's template labels match.
    owned_pods: HashMap<ResId, Vec<ResId>>,
}

fn labels_path() -> FieldPath {
    FieldPath::parse("metadata.labels")
}

fn is_ambient_label(labels: &BTreeMap<String, String>) -> bool {
    labels.get(mode::DATAPLANE_MODE).map(String::as_str) == Some("ambient")
}

/// What a snapshot Pod shows it runs.
fn observe(pod: &Resource, into: &mut Observed, id: ResId) {
    let Some(w) = pod.workload() else { return };
    if pod.annotations.contains_key(mode::SIDECAR_STATUS)
        || w.all_containers()
            .any(|(_, c)| c.name == Platform::Istio.proxy_container())
    {
        into.with_sidecar.push(id);
    } else if pod.annotations.get(mode::REDIRECTION).map(String::as_str) == Some("enabled") {
        into.redirected.push(id);
    }
}

/// The waypoint a Service or ServiceEntry uses (`fetchWaypointForService` in istio
/// `pilot/pkg/serviceregistry/ambient/waypoints.go`): waypoints and east-west gateways use
/// none; else its own `istio.io/use-waypoint`, then its namespace's.
fn enrol_service(
    api: &GatewayApi,
    id: ResId,
    r: &Resource,
    ns: Option<(ResId, &Resource)>,
) -> Enrolment {
    if NOT_WAYPOINT_CLIENTS
        .iter()
        .any(|v| r.labels.get(GATEWAY_MANAGED).map(String::as_str) == Some(v))
    {
        return Enrolment::NotEnrolled;
    }
    let own = Labelled {
        id,
        labels: &r.labels,
        labels_path: labels_path(),
        source: EnrolmentSource::Service,
    };
    enrol_own_or_namespace(api, &own, ns, &r.namespace)
}

impl AmbientView {
    pub fn build(store: &Store, api: &GatewayApi, workloads: &Workloads<'_>) -> Self {
        let mut view = AmbientView::default();
        let mut namespaces: HashMap<&str, (ResId, &Resource)> = HashMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::Namespace) {
                namespaces.insert(r.name.as_str(), (id, r));
                if is_ambient_label(&r.labels) {
                    view.ambient_namespaces.insert(r.name.clone(), id);
                }
                let labelled = Labelled {
                    id,
                    labels: &r.labels,
                    labels_path: labels_path(),
                    source: EnrolmentSource::Namespace,
                };
                let e = enrolment::resolve(None, Some(&labelled), &r.name);
                view.namespace_enrolment
                    .insert(r.name.clone(), resolved(e, api));
            }
        }
        let classes: HashMap<&str, (ResId, &Resource)> = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::GatewayClass(_)))
            .map(|(id, r)| (r.name.as_str(), (id, r)))
            .collect();
        for (id, r) in store.iter() {
            match &r.spec {
                Spec::Workload(w) => {
                    let ns = namespaces.get(r.namespace.as_str()).copied();
                    let facts = view.facts(store, workloads, id, r, w, ns);
                    view.workloads.insert(id, facts);
                    let e = enrol_workload(api, id, r, w, ns);
                    view.workload_enrolment.insert(id, e);
                }
                Spec::Service(_) => {
                    let ns = namespaces.get(r.namespace.as_str()).copied();
                    let e = enrol_service(api, id, r, ns);
                    view.services
                        .insert((r.namespace.clone(), r.name.clone()), e);
                }
                Spec::ServiceEntry(_) => {
                    let ns = namespaces.get(r.namespace.as_str()).copied();
                    view.service_entries
                        .insert(id, enrol_service(api, id, r, ns));
                }
                Spec::K8sGateway(_) => {
                    view.traffic.insert(id, traffic_type(&classes, id, r));
                }
                _ => {}
            }
        }
        view
    }

    fn facts(
        &mut self,
        store: &Store,
        workloads: &Workloads<'_>,
        id: ResId,
        r: &Resource,
        w: &Workload,
        ns: Option<(ResId, &Resource)>,
    ) -> ModeFacts {
        let injected = injection::injections(r, ns.map(|(_, n)| n))
            .into_iter()
            .find(|i| i.platform == Platform::Istio)
            .map(|i| i.reason);
        let pod_label = w.pod_labels.get(mode::DATAPLANE_MODE).map(String::as_str);
        let pod_label_at = || {
            (
                id,
                w.pod_meta_path
                    .clone()
                    .key("labels")
                    .key(mode::DATAPLANE_MODE),
            )
        };
        let ns_ambient = ns.filter(|(_, n)| is_ambient_label(&n.labels));
        let ns_label_at = |nid: ResId| (nid, labels_path().key(mode::DATAPLANE_MODE));
        let (ambient_label, opted_out) = match (pod_label, ns_ambient) {
            (Some("ambient"), _) => (Some(pod_label_at()), None),
            (Some("none"), Some(_)) => (None, Some(pod_label_at())),
            (_, Some((nid, _))) => (Some(ns_label_at(nid)), None),
            _ => (None, None),
        };
        let mut observed = Observed::default();
        if r.kind == "Pod" {
            observe(r, &mut observed, id);
        } else if !w.pod_labels.is_empty() {
            for pod in workloads.matching(&w.pod_labels, Some(&r.namespace)) {
                let p = store.get(pod);
                if pod != id && p.kind == "Pod" {
                    observe(p, &mut observed, pod);
                    self.owned_pods.entry(pod).or_default().push(id);
                }
            }
        }
        // By name, so messages and related locations do not depend on input order.
        let by_name = |a: &ResId, b: &ResId| store.get(*a).name.cmp(&store.get(*b).name);
        observed.redirected.sort_by(by_name);
        observed.with_sidecar.sort_by(by_name);
        let mut facts = ModeFacts {
            mode: DataplaneMode::None,
            injected,
            ambient_label,
            opted_out,
            host_network: w.pod.host_network,
            gateway: injection::is_istio_gateway(r),
            observed,
        };
        facts.mode = mode::decide(&facts);
        facts
    }

    /// Whether any namespace or workload of the input is ambient.
    pub fn any_ambient(&self) -> bool {
        !self.ambient_namespaces.is_empty()
            || self
                .workloads
                .values()
                .any(|f| f.mode == DataplaneMode::Ambient)
    }

    /// Whether Namespace `ns` of the input is labelled `istio.io/dataplane-mode=ambient`.
    pub fn namespace_ambient(&self, ns: &str) -> bool {
        self.ambient_namespaces.contains_key(ns)
    }

    /// The Namespace resource that makes `ns` ambient.
    pub fn ambient_namespace(&self, ns: &str) -> Option<ResId> {
        self.ambient_namespaces.get(ns).copied()
    }

    /// The Namespace resource of ambient namespace `ns` when no proxy there reads a Sidecar
    /// resource: no injection label or revision keeps it on sidecars and none of its workloads
    /// has one (waypoints ignore Sidecar resources too).
    pub fn sidecar_resources_unread(
        &self,
        store: &Store,
        workloads: &Workloads<'_>,
        ns: &str,
    ) -> Option<ResId> {
        let id = self.ambient_namespace(ns)?;
        let labels = &store.get(id).labels;
        let injected = labels.get(injection::ISTIO_INJECTION).map(String::as_str)
            == Some("enabled")
            || labels
                .get(injection::ISTIO_REV)
                .is_some_and(|v| !v.is_empty());
        let sidecars = workloads
            .in_namespace(ns)
            .iter()
            .any(|&w| self.workload_mode(w) == DataplaneMode::Sidecar);
        (!injected && !sidecars).then_some(id)
    }

    /// The data plane of a workload (a Pod or a pod-template owner); `None` for anything else.
    pub fn workload_mode(&self, id: ResId) -> DataplaneMode {
        self.workloads
            .get(&id)
            .map_or(DataplaneMode::None, |f| f.mode)
    }

    /// Everything that decides a workload's mode.
    pub fn workload_facts(&self, id: ResId) -> Option<&ModeFacts> {
        self.workloads.get(&id)
    }

    /// The workloads whose template labels match snapshot Pod `pod`.
    pub fn owners_of_pod(&self, pod: ResId) -> &[ResId] {
        self.owned_pods.get(&pod).map_or(&[], Vec::as_slice)
    }

    /// The waypoint Service `namespace/name` uses: its own label, else its namespace's.
    pub fn service_enrolment(&self, namespace: &str, name: &str) -> Enrolment {
        self.services
            .get(&(namespace.to_string(), name.to_string()))
            .or_else(|| self.namespace_enrolment.get(namespace))
            .cloned()
            .unwrap_or(Enrolment::NotEnrolled)
    }

    /// The waypoint ServiceEntry `id` uses, as for a Service.
    pub fn service_entry_enrolment(&self, id: ResId) -> Enrolment {
        self.service_entries
            .get(&id)
            .cloned()
            .unwrap_or(Enrolment::NotEnrolled)
    }

    /// The waypoint Namespace `ns` of the input names for its Services and workloads.
    pub fn namespace_enrolment(&self, ns: &str) -> Enrolment {
        self.namespace_enrolment
            .get(ns)
            .cloned()
            .unwrap_or(Enrolment::NotEnrolled)
    }

    /// The waypoint a workload's pods use: their own label, else their namespace's.
    pub fn workload_enrolment(&self, id: ResId) -> Enrolment {
        self.workload_enrolment
            .get(&id)
            .cloned()
            .unwrap_or(Enrolment::NotEnrolled)
    }

    /// The traffic Gateway `gateway` accepts as a waypoint (`service` when not labelled).
    pub fn waypoint_for(&self, gateway: ResId) -> WaypointFor {
        self.traffic
            .get(&gateway)
            .map_or(WaypointFor::Service, |t| t.value.clone())
    }

    /// The same, with where the label is written.
    pub fn traffic_type(&self, gateway: ResId) -> Option<&TrafficType> {
        self.traffic.get(&gateway)
    }
}

fn enrol_workload(
    api: &GatewayApi,
    id: ResId,
    r: &Resource,
    w: &Workload,
    ns: Option<(ResId, &Resource)>,
) -> Enrolment {
    // A waypoint's own pods never use a waypoint (`computeWaypoint`,
    // `fetchWaypointForInstance`).
    if w.pod_labels
        .get(GATEWAY_NAME_LABEL)
        .is_some_and(|g| api.gateway_index(&r.namespace, g).is_some())
    {
        return Enrolment::NotEnrolled;
    }
    let own = Labelled {
        id,
        labels: &w.pod_labels,
        labels_path: w.pod_meta_path.clone().key("labels"),
        source: EnrolmentSource::Workload,
    };
    enrol_own_or_namespace(api, &own, ns, &r.namespace)
}

/// The waypoint `own`'s label names, else its namespace's, as found in the input.
fn enrol_own_or_namespace(
    api: &GatewayApi,
    own: &Labelled<'_>,
    ns: Option<(ResId, &Resource)>,
    namespace: &str,
) -> Enrolment {
    let ns_labelled = ns.map(|(nid, n)| Labelled {
        id: nid,
        labels: &n.labels,
        labels_path: labels_path(),
        source: EnrolmentSource::Namespace,
    });
    resolved(
        enrolment::resolve(Some(own), ns_labelled.as_ref(), namespace),
        api,
    )
}

/// Fills in the waypoint Gateway when the input has it.
fn resolved(mut e: Enrolment, api: &GatewayApi) -> Enrolment {
    if let Enrolment::Waypoint(w) = &mut e {
        w.gateway = api
            .gateway_index(&w.namespace, &w.name)
            .map(|i| api.gateways[i].id);
    }
    e
}

/// `istio.io/waypoint-for` on the Gateway, else on its GatewayClass in the input.
fn traffic_type(
    classes: &HashMap<&str, (ResId, &Resource)>,
    id: ResId,
    r: &Resource,
) -> TrafficType {
    let at = |rid: ResId| (rid, labels_path().key(waypoints::WAYPOINT_FOR));
    if let Some(v) = r.labels.get(waypoints::WAYPOINT_FOR) {
        return TrafficType {
            value: WaypointFor::parse(v),
            label_at: Some(at(id)),
        };
    }
    let class = match &r.spec {
        Spec::K8sGateway(g) => g.gateway_class_name.as_str(),
        _ => "",
    };
    let from_class = classes
        .get(class)
        .and_then(|(cid, c)| c.labels.get(waypoints::WAYPOINT_FOR).map(|v| (*cid, v)));
    match from_class {
        Some((cid, v)) => TrafficType {
            value: WaypointFor::parse(v),
            label_at: Some(at(cid)),
        },
        None => TrafficType {
            value: WaypointFor::Service,
            label_at: None,
        },
    }
}

#[cfg(test)]
mod tests;
