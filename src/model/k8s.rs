//! Kubernetes core and workload resources, as far as meshlint reads them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::source::{FieldPath, Node, Value};

/// `IntOrString` as Kubernetes defines it; a string is a port name (see [`super::port`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::Str(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    pub external_name: Option<String>,
    pub selector: Option<BTreeMap<String, String>>,
    pub ports: Vec<ServicePort>,
}

impl ServiceSpec {
    pub fn service_type(&self) -> &str {
        self.type_.as_deref().unwrap_or("ClusterIP")
    }

    pub fn is_external_name(&self) -> bool {
        self.type_.as_deref() == Some("ExternalName")
    }

    pub fn is_headless(&self) -> bool {
        self.cluster_ip.as_deref() == Some("None")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: Option<String>,
    #[serde(deserialize_with = "super::port::port")]
    pub port: i64,
    #[serde(default, deserialize_with = "super::port::target_port")]
    pub target_port: Option<IntOrString>,
    pub protocol: Option<String>,
    pub app_protocol: Option<String>,
    #[serde(default, deserialize_with = "super::port::optional_port")]
    pub node_port: Option<i64>,
}

impl PodSpec {
    /// The service account the pods run as: `serviceAccountName`, else the deprecated
    /// `serviceAccount`, else `default`.
    pub fn service_account(&self) -> &str {
        self.service_account_name
            .as_deref()
            .or(self.service_account.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }
}

impl ServicePort {
    /// The Kubernetes protocol, defaulting to TCP.
    pub fn l4_protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }

    /// The container port this service port sends to: `targetPort`, defaulting to `port`.
    pub fn target(&self) -> IntOrString {
        self.target_port
            .clone()
            .unwrap_or(IntOrString::Int(self.port))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub service_account_name: Option<String>,
    /// The deprecated alias of `serviceAccountName`.
    pub service_account: Option<String>,
    pub init_containers: Vec<Container>,
    pub host_network: bool,
    pub node_selector: BTreeMap<String, String>,
    pub affinity: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub ports: Vec<ContainerPort>,
    pub env: Vec<EnvVar>,
    pub restart_policy: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(deserialize_with = "super::port::port")]
    pub container_port: i64,
    pub name: Option<String>,
    pub protocol: Option<String>,
    #[serde(default, deserialize_with = "super::port::optional_port")]
    pub host_port: Option<i64>,
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
}

impl ContainerPort {
    pub fn l4_protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

/// The `metadata` meshlint reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    pub name: Option<String>,
    /// The prefix the API server completes into a unique name (`kubectl create`).
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub creation_timestamp: Option<String>,
}

/// The metadata of a pod template.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TemplateMeta {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Any resource that runs pods: a Pod itself or a pod-template owner.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Labels the pods get (the template's labels; the Pod's own for a Pod).
    pub pod_labels: BTreeMap<String, String>,
    /// Annotations the pods get.
    pub pod_annotations: BTreeMap<String, String>,
    pub pod: PodSpec,
    /// Where the pod spec lives in the document, e.g. `spec.template.spec`.
    pub pod_spec_path: FieldPath,
    /// Where the pod labels live, e.g. `spec.template.metadata.labels`.
    pub pod_meta_path: FieldPath,
    pub replicas: Option<i64>,
}

const POD_TEMPLATE: &str = "spec.template";
const JOB_TEMPLATE: &str = "spec.jobTemplate.spec.template";

/// Where a resource keeps the template of the pods it runs: a Pod's own metadata and spec,
/// CronJob's job template, and for any other kind a `spec.template` (or a job template) whose
/// spec lists containers. That covers Argo Rollouts, Knative Services and Configurations,
/// OpenKruise CloneSets and Advanced StatefulSets without a list of them
/// (argo-rollouts `pkg/apis/rollouts/v1alpha1/types.go` `RolloutSpec.Template`; knative serving
/// `pkg/apis/serving/v1/revision_types.go`, a `RevisionSpec` inlines the `PodSpec`). A Rollout
/// with `spec.workloadRef` has no template: the Deployment it names describes its pods.
pub fn template_path(kind: &str, root: &Node) -> Option<&'static str> {
    match kind {
        "Pod" => Some(""),
        "CronJob" => Some(JOB_TEMPLATE),
        // Built-in controllers stay workloads when a partial document (a kustomize patch) has
        // no containers: its pod labels and annotations still count.
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some(POD_TEMPLATE),
        _ => [POD_TEMPLATE, JOB_TEMPLATE].into_iter().find(|tpl| {
            let (containers, found) =
                root.lookup(&FieldPath::parse(&format!("{tpl}.spec.containers")));
            found && matches!(containers.value, Value::Seq(_))
        }),
    }
}

impl Workload {
    pub fn all_containers(&self) -> impl Iterator<Item = (FieldPath, &Container)> {
        let base = self.pod_spec_path.clone();
        let init = base.clone();
        self.pod
            .containers
            .iter()
            .enumerate()
            .map(move |(i, c)| (base.clone().key("containers").index(i), c))
            .chain(
                self.pod
                    .init_containers
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| (init.clone().key("initContainers").index(i), c)),
            )
    }

    /// Containers that run alongside the app for the pod's life, in start order: native
    /// sidecars (init containers with `restartPolicy: Always`), then regular containers.
    pub fn running_containers(&self) -> impl Iterator<Item = (FieldPath, &Container)> {
        let base = self.pod_spec_path.clone();
        let init = base.clone();
        self.pod
            .init_containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
            .map(move |(i, c)| (init.clone().key("initContainers").index(i), c))
            .chain(
                self.pod
                    .containers
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| (base.clone().key("containers").index(i), c)),
            )
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Spec, Store, from_documents};

    fn store(text: &str) -> Store {
        let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        store
    }

    const POD: &str = "{metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}";

    #[test]
    fn any_kind_with_a_pod_template_is_a_workload() {
        for (api, kind) in [
            ("argoproj.io/v1alpha1", "Rollout"),
            ("serving.knative.dev/v1", "Service"),
            ("serving.knative.dev/v1", "Configuration"),
            ("apps.kruise.io/v1alpha1", "CloneSet"),
            ("apps.kruise.io/v1beta1", "StatefulSet"),
        ] {
            let s = store(&format!(
                "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: a}}\nspec: {{template: {POD}}}\n"
            ));
            let w = s.get(0).workload().unwrap_or_else(|| panic!("{kind}"));
            assert_eq!(w.pod_labels.get("app").map(String::as_str), Some("a"));
            assert_eq!(w.pod_spec_path.to_string(), "spec.template.spec");
        }
    }

    #[test]
    fn a_knative_service_is_no_kubernetes_service() {
        let s = store(&format!(
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {{name: a}}\nspec: {{template: {POD}}}\n"
        ));
        assert!(s.get(0).service().is_none());
        assert!(matches!(s.get(0).spec, Spec::Workload(_)));
    }

    #[test]
    fn job_templates_and_pods_keep_their_own_paths() {
        let cron = store(&format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: a}}\nspec: {{jobTemplate: {{spec: {{template: {POD}}}}}}}\n"
        ));
        let w = cron.get(0).workload().expect("CronJob");
        assert_eq!(
            w.pod_spec_path.to_string(),
            "spec.jobTemplate.spec.template.spec"
        );
        let scheduled = store(&format!(
            "apiVersion: example.com/v1\nkind: Nightly\nmetadata: {{name: a}}\nspec: {{jobTemplate: {{spec: {{template: {POD}}}}}}}\n"
        ));
        assert!(scheduled.get(0).workload().is_some());
        let pod = store(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: a}}\nspec: {containers: [{name: a}]}\n",
        );
        assert_eq!(
            pod.get(0)
                .workload()
                .expect("Pod")
                .pod_spec_path
                .to_string(),
            "spec"
        );
    }

    #[test]
    fn kinds_without_a_pod_template_are_not_workloads() {
        // An Argo Rollout that takes its template from a Deployment has none of its own.
        let s = store(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\nspec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: b}\nspec: {template: {spec: {containers: oops}}}\n",
        );
        assert!(s.iter().all(|(_, r)| r.workload().is_none()));
    }

    #[test]
    fn a_patch_of_a_built_in_controller_stays_a_workload() {
        let s = store(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    metadata: {annotations: {consul.hashicorp.com/mesh-inject: \"true\"}}\n",
        );
        let w = s.get(0).workload().expect("Deployment");
        assert!(w.pod.containers.is_empty());
        assert!(
            w.pod_annotations
                .contains_key("consul.hashicorp.com/mesh-inject")
        );
    }
}
