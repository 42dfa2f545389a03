use super::*;
use crate::mesh::hosts::HostIndex;
use crate::model::from_documents;
use crate::model::istio::MeshConfig;

fn view(text: &str) -> (Store, AmbientView) {
    let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
    assert!(sources.errors.is_empty(), "{:?}", sources.errors);
    let hosts = HostIndex::build(&store, &MeshConfig::default());
    let api = GatewayApi::build(&store, &hosts);
    let workloads = Workloads::build(&store);
    let v = AmbientView::build(&store, &api, &workloads);
    (store, v)
}

fn id(store: &Store, kind: &str, name: &str) -> ResId {
    store
        .iter()
        .find(|(_, r)| r.kind == kind && r.name == name)
        .map(|(i, _)| i)
        .expect("resource")
}

fn ns(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {labels}}}\n---\n")
}

fn deploy(name: &str, ns: &str, labels: &str, pod_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {pod_spec}\n---\n"
    )
}

const APP: &str = "{containers: [{name: app, image: app}]}";

#[test]
fn namespace_label_enrols_and_pod_label_none_opts_out() {
    let text = format!(
        "{}{}{}",
        ns("shop", "{istio.io/dataplane-mode: ambient}"),
        deploy("web", "shop", "{app: web}", APP),
        deploy(
            "db",
            "shop",
            "{app: db, istio.io/dataplane-mode: none}",
            APP
        ),
    );
    let (s, v) = view(&text);
    assert!(v.any_ambient());
    assert!(v.namespace_ambient("shop"));
    assert_eq!(
        v.workload_mode(id(&s, "Deployment", "web")),
        DataplaneMode::Ambient
    );
    let db = id(&s, "Deployment", "db");
    assert_eq!(v.workload_mode(db), DataplaneMode::None);
    assert!(
        v.workload_facts(db)
            .and_then(|f| f.opted_out.as_ref())
            .is_some()
    );
}

#[test]
fn pod_label_enrols_outside_an_ambient_namespace() {
    let text = deploy(
        "web",
        "shop",
        "{app: web, istio.io/dataplane-mode: ambient}",
        APP,
    );
    let (s, v) = view(&text);
    assert!(!v.namespace_ambient("shop"));
    assert_eq!(
        v.workload_mode(id(&s, "Deployment", "web")),
        DataplaneMode::Ambient
    );
}

#[test]
fn injection_wins_over_ambient_and_host_network_is_neither() {
    let text = format!(
        "{}{}{}",
        ns(
            "shop",
            "{istio.io/dataplane-mode: ambient, istio-injection: enabled}"
        ),
        deploy("web", "shop", "{app: web}", APP),
        deploy(
            "agent",
            "shop",
            "{app: agent}",
            "{hostNetwork: true, containers: [{name: a, image: a}]}"
        ),
    );
    let (s, v) = view(&text);
    let web = id(&s, "Deployment", "web");
    assert_eq!(v.workload_mode(web), DataplaneMode::Sidecar);
    let f = v.workload_facts(web).expect("facts");
    assert!(f.injected.is_some() && f.ambient_label.is_some());
    assert_eq!(
        v.workload_mode(id(&s, "Deployment", "agent")),
        DataplaneMode::None
    );
}

#[test]
fn snapshot_pods_show_the_mode_of_their_owner() {
    let text = format!(
        "{}{}apiVersion: v1\nkind: Pod\nmetadata: {{name: web-1, namespace: shop, labels: {{app: web}}, annotations: {{ambient.istio.io/redirection: enabled}}}}\nspec: {APP}\n",
        ns("shop", "{istio-injection: enabled}"),
        deploy("web", "shop", "{app: web}", APP),
    );
    let (s, v) = view(&text);
    let web = id(&s, "Deployment", "web");
    let pod = id(&s, "Pod", "web-1");
    assert_eq!(v.workload_mode(web), DataplaneMode::Ambient);
    assert_eq!(v.workload_mode(pod), DataplaneMode::Ambient);
    assert_eq!(v.owners_of_pod(pod), &[web]);
}

#[test]
fn use_waypoint_on_the_object_wins_over_the_namespace() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: wp, namespace: infra, labels: {istio.io/waypoint-for: all}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE}]\n---\n";
    let text = format!(
        "{}{gw}{}{}apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: shop, labels: {{istio.io/use-waypoint: none}}}}\nspec: {{ports: [{{port: 80}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec: {{ports: [{{port: 80}}]}}\n",
        ns(
            "shop",
            "{istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wp, istio.io/use-waypoint-namespace: infra}"
        ),
        deploy(
            "web",
            "shop",
            "{app: web, istio.io/use-waypoint: other}",
            APP
        ),
        deploy("db", "shop", "{app: db}", APP),
    );
    let (s, v) = view(&text);
    let gateway = id(&s, "Gateway", "wp");
    assert!(matches!(
        v.service_enrolment("shop", "api"),
        Enrolment::OptedOut { .. }
    ));
    let Enrolment::Waypoint(w) = v.service_enrolment("shop", "web") else {
        panic!("namespace waypoint")
    };
    assert_eq!((w.name.as_str(), w.namespace.as_str()), ("wp", "infra"));
    assert_eq!(w.source, EnrolmentSource::Namespace);
    assert_eq!(w.gateway, Some(gateway));
    assert_eq!(
        v.service_enrolment("shop", "absent")
            .waypoint()
            .map(|w| w.name.clone()),
        Some("wp".into())
    );
    let Enrolment::Waypoint(own) = v.workload_enrolment(id(&s, "Deployment", "web")) else {
        panic!("workload waypoint")
    };
    // The namespace's use-waypoint-namespace is not read for the pod's own label.
    assert_eq!(
        (own.name.as_str(), own.namespace.as_str()),
        ("other", "shop")
    );
    assert_eq!(own.source, EnrolmentSource::Workload);
    assert_eq!(own.gateway, None);
    assert_eq!(
        own.label_at.1.to_string(),
        "spec.template.metadata.labels.istio.io/use-waypoint"
    );
    assert_eq!(v.waypoint_for(gateway), WaypointFor::All);
}

#[test]
fn waypoint_for_falls_back_to_the_class_then_service() {
    let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: custom, labels: {istio.io/waypoint-for: workload}}\nspec: {controllerName: istio.io/mesh-controller}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: a, namespace: shop}\nspec: {gatewayClassName: custom, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: b, namespace: shop}\nspec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n";
    let (s, v) = view(text);
    assert_eq!(
        v.waypoint_for(id(&s, "Gateway", "a")),
        WaypointFor::Workload
    );
    assert_eq!(v.waypoint_for(id(&s, "Gateway", "b")), WaypointFor::Service);
    assert!(!v.waypoint_for(id(&s, "Gateway", "b")).accepts_workload());
    assert!(!v.any_ambient());
}
