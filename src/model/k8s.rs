//! Kubernetes core and workload resources, as far as meshlint reads them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::source::FieldPath;

/// `IntOrString` as Kubernetes defines it: `"8080"` stays a (named-port) string.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
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
    pub port: i64,
    pub target_port: Option<IntOrString>,
    pub protocol: Option<String>,
    pub app_protocol: Option<String>,
    pub node_port: Option<i64>,
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
    pub container_port: i64,
    pub name: Option<String>,
    pub protocol: Option<String>,
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

/// Where a pod-template owner keeps its template, by kind.
pub fn template_path(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some(""),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some("spec.template"),
        "CronJob" => Some("spec.jobTemplate.spec.template"),
        _ => None,
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
