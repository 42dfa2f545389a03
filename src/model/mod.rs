//! Typed resources built from positioned documents.

mod decode;
pub mod gateway_api;
pub mod istio;
pub mod k8s;
pub mod listener;
mod port;
pub mod raw;
pub mod security;
mod shape;
mod template;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use crate::source::{
    FieldPath, FileId, InputError, Node, Pos, SourceFile, Sources, Value, embedded,
};

use decode::DecodeError;

/// Index of a resource in [`Store::resources`].
pub type ResId = usize;

#[derive(Clone, Debug)]
pub enum Spec {
    Namespace,
    Service(k8s::Service),
    Workload(Box<k8s::Workload>),
    VirtualService(istio::VirtualService),
    DestinationRule(istio::DestinationRule),
    Gateway(istio::Gateway),
    ServiceEntry(istio::ServiceEntry),
    Sidecar(istio::Sidecar),
    WorkloadEntry(istio::WorkloadEntry),
    EnvoyFilter(Box<istio::EnvoyFilter>),
    PeerAuthentication(security::PeerAuthentication),
    AuthorizationPolicy(Box<security::AuthorizationPolicy>),
    /// The `istio` ConfigMap carrying the mesh config and mesh networks.
    IstioConfigMap(Box<istio::IstioConfigMap>),
    /// Gateway API (`gateway.networking.k8s.io`) kinds.
    GatewayClass(gateway_api::GatewayClass),
    K8sGateway(gateway_api::Gateway),
    Route(gateway_api::RouteKind, Box<gateway_api::Route>),
    ReferenceGrant(gateway_api::ReferenceGrant),
    /// A kind meshlint does not read; kept so counts and suppressions stay honest.
    Other,
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub file: FileId,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The effective namespace (`metadata.namespace`, else the default namespace).
    pub namespace: String,
    /// Whether `metadata.namespace` was written in the document.
    pub namespace_explicit: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `metadata.creationTimestamp` as written, for messages.
    pub creation_timestamp: Option<String>,
    /// The same, parsed as RFC 3339. Offsets differ between writers, so only this is compared;
    /// an unparsable value is `None`, like a missing one (the API server would not keep it).
    pub created: Option<jiff::Timestamp>,
    pub node: Node,
    pub spec: Spec,
    /// A later document defines the same object; `kubectl apply` keeps that one, so this copy
    /// is skipped by [`Store::iter`].
    pub replaced_by: Option<ResId>,
}

impl Resource {
    pub fn service(&self) -> Option<&k8s::Service> {
        match &self.spec {
            Spec::Service(s) => Some(s),
            _ => None,
        }
    }

    pub fn workload(&self) -> Option<&k8s::Workload> {
        match &self.spec {
            Spec::Workload(w) => Some(w),
            _ => None,
        }
    }

    pub fn is_istio_networking(&self) -> bool {
        self.api_version.starts_with("networking.istio.io/")
    }

    pub fn is_istio_security(&self) -> bool {
        self.api_version.starts_with("security.istio.io/")
    }

    /// The creation time as a message shows it: `created T`, `no creationTimestamp`, or that
    /// the written one does not parse and so counts as missing.
    pub fn created_text(&self) -> String {
        match (&self.created, &self.creation_timestamp) {
            (Some(_), Some(t)) => format!("created {t}"),
            (None, Some(t)) => {
                format!("creationTimestamp `{t}` is not an RFC 3339 time and counts as missing")
            }
            _ => "no creationTimestamp".into(),
        }
    }

    /// Whether a creationTimestamp is written but does not parse.
    pub fn created_unparsable(&self) -> bool {
        self.created.is_none() && self.creation_timestamp.is_some()
    }
}

/// All resources of one run, in input order, including copies that a later document of the
/// same object replaces (see [`Resource::replaced_by`]).
#[derive(Debug, Default)]
pub struct Store {
    pub resources: Vec<Resource>,
    /// For each object defined more than once: the surviving copy and the ones it replaces.
    pub copies: BTreeMap<ResId, Vec<ResId>>,
    /// The kinds skipped kustomize patches change (`*`: unknown), from the sources.
    pub patched_kinds: std::collections::BTreeSet<String>,
}

/// Options for building the model.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    pub default_namespace: String,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            default_namespace: "default".into(),
        }
    }
}

const MAX_LIST_DEPTH: usize = 8;

/// Models one document (a `List` into its items) into `resources`; problems go to `errors`.
fn add_document(
    file: FileId,
    src: &SourceFile,
    root: Node,
    opts: &ModelOptions,
    resources: &mut Vec<Resource>,
    errors: &mut Vec<InputError>,
    depth: usize,
) {
    let err = |node: &Node, message: String| InputError {
        file: src.path.clone(),
        line: node.pos.line,
        column: node.pos.column,
        message,
    };
    if root.value == Value::Null {
        return;
    }
    if !root.is_map() {
        errors.push(err(
            &root,
            "document is not an object; expected a Kubernetes resource".into(),
        ));
        return;
    }
    let Some(kind) = root.get("kind").and_then(Node::as_str).map(str::to_string) else {
        errors.push(err(&root, "resource has no `kind`".into()));
        return;
    };
    if kind.ends_with("List") && root.get("items").is_some() {
        if depth >= MAX_LIST_DEPTH {
            errors.push(err(&root, "lists nested too deeply".into()));
            return;
        }
        let Value::Map(entries) = root.value else {
            return;
        };
        for (k, items) in entries {
            if k.as_str() != Some("items") {
                continue;
            }
            match items.value {
                Value::Seq(list) => {
                    for item in list {
                        add_document(file, src, item, opts, resources, errors, depth + 1);
                    }
                }
                Value::Null => {}
                _ => errors.push(err(&items, format!("`items` of {kind} is not a list"))),
            }
        }
        return;
    }
    let kind = kind.as_str();
    let api_version = match root.get("apiVersion") {
        Some(Node {
            value: Value::Str(v),
            ..
        }) => v.clone(),
        Some(v) if v.value != Value::Null => {
            let msg = decode::expected("a string", v);
            errors.push(err(v, format!("{kind}: `apiVersion`: {msg}")));
            return;
        }
        _ => String::new(),
    };
    let meta: k8s::ObjectMeta = match decode(&root, "metadata") {
        Ok(meta) => meta,
        Err((p, msg)) => {
            errors.push(err(root.lookup(&p).0, format!("{kind}: `{p}`: {msg}")));
            return;
        }
    };
    let Some(name) = meta.name else {
        let at = root.get("metadata").unwrap_or(&root);
        errors.push(err(at, format!("{kind} has no `metadata.name`")));
        return;
    };
    let created = meta
        .creation_timestamp
        .as_deref()
        .and_then(|t| t.trim().parse::<jiff::Timestamp>().ok());
    let mut res = Resource {
        file,
        api_version,
        kind: kind.to_string(),
        name,
        namespace: meta
            .namespace
            .clone()
            .unwrap_or_else(|| opts.default_namespace.clone()),
        namespace_explicit: meta.namespace.is_some(),
        labels: meta.labels,
        annotations: meta.annotations,
        creation_timestamp: meta.creation_timestamp,
        created,
        node: root,
        spec: Spec::Other,
        replaced_by: None,
    };
    let decoded = decode_spec(&res).and_then(|spec| shape::check(&res).map(|()| spec));
    match decoded {
        Ok(spec) => res.spec = spec,
        Err((p, msg)) => {
            // A field of YAML embedded in a string (the mesh config) is shown at its own line
            // when the string is a literal block.
            let (node, rest) = res.node.lookup_rest(&p);
            let mut e = err(
                node,
                format!("{kind} {}/{}: `{p}`: {msg}", res.namespace, res.name),
            );
            if let Some(pos) = embedded::locate(&src.text, node, rest).filter(|_| !rest.is_empty())
            {
                (e.line, e.column) = (pos.line, pos.column);
            }
            errors.push(e);
            return;
        }
    }
    if kind == "Namespace" {
        res.namespace = res.name.clone();
    }
    resources.push(res);
}

impl Store {
    /// Builds typed resources from every document; problems become errors on `sources`.
    pub fn build(sources: &mut Sources, opts: &ModelOptions) -> Store {
        let mut store = Store::default();
        let mut errors = Vec::new();
        let documents = std::mem::take(&mut sources.documents);
        // A file with an unrendered template is not read as if it were real, none of its
        // documents: one note says why.
        let found: Vec<Option<(FileId, Pos)>> = documents
            .par_iter()
            .map(|doc| template::unrendered(&doc.root).map(|at| (doc.file, at)))
            .collect();
        let mut templated: BTreeMap<FileId, Pos> = BTreeMap::new();
        for (file, at) in found.into_iter().flatten() {
            templated.entry(file).or_insert(at);
        }
        for (&file, &at) in &templated {
            let f = &sources.files[file];
            let (path, note) = (
                f.path.clone(),
                crate::source::template_note(&f.text, at.line),
            );
            sources.note(&path, at, note);
        }
        // Documents move into their resources: large inputs are not copied. They are decoded in
        // parallel and added in input order, so output never depends on scheduling.
        let files = &sources.files;
        let modelled: Vec<(Vec<Resource>, Vec<InputError>)> = documents
            .into_par_iter()
            .filter(|doc| !templated.contains_key(&doc.file))
            .map(|doc| {
                let (mut resources, mut errors) = (Vec::new(), Vec::new());
                add_document(
                    doc.file,
                    &files[doc.file],
                    doc.root,
                    opts,
                    &mut resources,
                    &mut errors,
                    0,
                );
                (resources, errors)
            })
            .collect();
        for (resources, errs) in modelled {
            store.resources.extend(resources);
            errors.extend(errs);
        }
        sources.errors.extend(errors);
        store.patched_kinds = sources.patched_kinds.clone();
        store.resolve_copies();
        store
    }

    /// Models `kubectl apply` of the whole input: one object per (API group, kind, namespace,
    /// name), the last document in input order wins.
    fn resolve_copies(&mut self) {
        let mut last: HashMap<(&str, &str, &str, &str), ResId> = HashMap::new();
        let mut replaced = Vec::new();
        for (id, r) in self.resources.iter().enumerate() {
            let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            let key = (
                group,
                r.kind.as_str(),
                r.namespace.as_str(),
                r.name.as_str(),
            );
            if let Some(earlier) = last.insert(key, id) {
                replaced.push((earlier, key));
            }
        }
        let survivors: Vec<(ResId, ResId)> = replaced
            .into_iter()
            .map(|(earlier, key)| (earlier, last[&key]))
            .collect();
        for (earlier, survivor) in survivors {
            self.resources[earlier].replaced_by = Some(survivor);
            self.copies.entry(survivor).or_default().push(earlier);
        }
    }

    /// Whether a skipped kustomize patch may change objects of `kind`.
    pub fn may_be_patched(&self, kind: &str) -> bool {
        self.patched_kinds.contains(kind) || self.patched_kinds.contains("*")
    }

    pub fn get(&self, id: ResId) -> &Resource {
        &self.resources[id]
    }

    /// Every object the input defines, once: copies replaced by a later document are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (ResId, &Resource)> {
        self.resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.replaced_by.is_none())
    }

    /// How many objects the input defines (copies of one object count once).
    pub fn len(&self) -> usize {
        self.resources.len()
            - self
                .resources
                .iter()
                .filter(|r| r.replaced_by.is_some())
                .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mesh config from an `istio` ConfigMap in the input, if any.
    pub fn mesh_config(&self) -> Option<&istio::MeshConfig> {
        self.iter().find_map(|(_, r)| match &r.spec {
            Spec::IstioConfigMap(m) => m.mesh.as_ref(),
            _ => None,
        })
    }
}

/// Reads a map of strings (a raw label selector); what is not a string is left out.
pub fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Node {
        value: Value::Map(entries),
        ..
    }) = node
    {
        for (k, v) in entries {
            if let Some(v) = v.as_str() {
                out.insert(k.scalar_text(), v.to_string());
            }
        }
    }
    out
}

/// Decodes the part of the document at `at` into `T`; absent or null, it is `T`'s default.
fn decode<T: DeserializeOwned + Default>(root: &Node, at: &str) -> Result<T, DecodeError> {
    let path = FieldPath::parse(at);
    match root.lookup(&path) {
        (node, true) if node.value != Value::Null => decode::decode_node(node, &path),
        _ => Ok(T::default()),
    }
}

/// Decodes an Istio spec, refused when a port number istiod requires is unset.
fn istio_spec<T: DeserializeOwned + Default>(
    root: &Node,
    unset_port: impl Fn(&T) -> Option<FieldPath>,
) -> Result<T, DecodeError> {
    let spec = decode(root, "spec")?;
    match unset_port(&spec) {
        Some(path) => Err(port::required(root, path)),
        None => Ok(spec),
    }
}

/// Kinds the API server keeps outside namespaces (built-in ones, and the Gateway API's
/// GatewayClass): their objects are named without a namespace.
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "GatewayClass"
    )
}

fn decode_spec(res: &Resource) -> Result<Spec, DecodeError> {
    let root = &res.node;
    let istio = res.is_istio_networking();
    if res.api_version.starts_with("gateway.networking.k8s.io/") {
        return gateway_api_spec(res);
    }
    let security = res.is_istio_security();
    Ok(match res.kind.as_str() {
        "Namespace" => Spec::Namespace,
        "Service" if res.api_version == "v1" || res.api_version.is_empty() => {
            Spec::Service(decode(root, "")?)
        }
        "VirtualService" if istio => {
            Spec::VirtualService(istio_spec(root, istio::VirtualService::unset_port)?)
        }
        "DestinationRule" if istio => Spec::DestinationRule(decode(root, "spec")?),
        "Gateway" if istio => {
            Spec::Gateway(istio_spec(root, |g: &istio::Gateway| g.unset_port(root))?)
        }
        "ServiceEntry" if istio => {
            Spec::ServiceEntry(istio_spec(root, istio::ServiceEntry::unset_port)?)
        }
        "Sidecar" if istio => Spec::Sidecar(istio_spec(root, istio::Sidecar::unset_port)?),
        "WorkloadEntry" if istio => Spec::WorkloadEntry(decode(root, "spec")?),
        "EnvoyFilter" if istio => Spec::EnvoyFilter(Box::new(decode(root, "spec")?)),
        "PeerAuthentication" if security => Spec::PeerAuthentication(decode(root, "spec")?),
        "AuthorizationPolicy" if security => {
            Spec::AuthorizationPolicy(Box::new(decode(root, "spec")?))
        }
        "ConfigMap" if is_istio_config_map(res) => {
            Spec::IstioConfigMap(Box::new(istio::IstioConfigMap {
                mesh: mesh_config(root)?,
                networks: mesh_networks(root),
            }))
        }
        kind => match k8s::template_path(kind, root) {
            Some(tpl) => Spec::Workload(Box::new(workload(root, tpl)?)),
            None => Spec::Other,
        },
    })
}

fn gateway_api_spec(res: &Resource) -> Result<Spec, DecodeError> {
    let root = &res.node;
    Ok(match res.kind.as_str() {
        "GatewayClass" => Spec::GatewayClass(decode(root, "spec")?),
        "Gateway" => Spec::K8sGateway(decode(root, "spec")?),
        "ReferenceGrant" => Spec::ReferenceGrant(decode(root, "spec")?),
        kind => match gateway_api::RouteKind::from_kind(kind) {
            Some(k) => Spec::Route(k, Box::new(decode(root, "spec")?)),
            None => Spec::Other,
        },
    })
}

fn is_istio_config_map(res: &Resource) -> bool {
    (res.name == "istio" || res.name.starts_with("istio-"))
        && ["data.mesh", "data.meshNetworks"]
            .iter()
            .any(|p| res.node.lookup(&FieldPath::parse(p)).1)
}

/// `data.meshNetworks` when set. What does not parse is kept as an error at its field (inside
/// the embedded text where it can), as istiod rejects the whole networks then and a rule says so.
fn mesh_networks(root: &Node) -> Option<Result<istio::MeshNetworks, (FieldPath, String)>> {
    let path = FieldPath::parse("data.meshNetworks");
    let (node, found) = root.lookup(&path);
    let text = node.as_str().filter(|_| found)?;
    let docs = match crate::source::parse_yaml(text) {
        Ok(docs) => docs,
        Err(e) => return Some(Err((path, format!("is not valid YAML: {}", e.message)))),
    };
    let Some(doc) = docs.first() else {
        return Some(Ok(istio::MeshNetworks::default()));
    };
    Some(
        decode::decode_node(doc, &FieldPath::root()).map_err(|(inner, msg)| {
            let why = format!("field `{inner}`: {msg}");
            let mut at = path.clone();
            at.0.extend(inner.0);
            (at, why)
        }),
    )
}

fn mesh_config(root: &Node) -> Result<Option<istio::MeshConfig>, DecodeError> {
    let path = FieldPath::parse("data.mesh");
    let Some(text) = root.lookup(&path).0.as_str() else {
        return Ok(None);
    };
    let docs = crate::source::parse_yaml(text).map_err(|e| {
        (
            path.clone(),
            format!("mesh config is not valid YAML: {}", e.message),
        )
    })?;
    let Some(doc) = docs.first() else {
        return Ok(Some(istio::MeshConfig::default()));
    };
    decode::decode_node(doc, &FieldPath::root())
        .map(Some)
        .map_err(|(inner, msg)| {
            let mut at = path;
            at.0.extend(inner.0);
            (at, msg)
        })
}

fn workload(root: &Node, tpl: &str) -> Result<k8s::Workload, DecodeError> {
    let join = |suffix: &str| {
        if tpl.is_empty() {
            suffix.to_string()
        } else {
            format!("{tpl}.{suffix}")
        }
    };
    let meta: k8s::TemplateMeta = decode(root, &join("metadata"))?;
    let replicas = decode(root, "spec.replicas")?;
    Ok(k8s::Workload {
        pod_labels: meta.labels,
        pod_annotations: meta.annotations,
        pod: decode(root, &join("spec"))?,
        pod_spec_path: FieldPath::parse(&join("spec")),
        pod_meta_path: FieldPath::parse(&join("metadata")),
        replicas,
    })
}

/// Builds the store straight from documents (used by tests and the doc runner).
pub fn from_documents(files: &[(String, String)]) -> (Sources, Store) {
    let mut sources = Sources::default();
    for (path, text) in files {
        sources.add_text(path.clone(), text.clone());
    }
    let store = Store::build(&mut sources, &ModelOptions::default());
    (sources, store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(t: &str) -> Resource {
        let text = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: a, creationTimestamp: \"{t}\"}}\n"
        );
        let (_, store) = from_documents(&[("a.yaml".into(), text)]);
        store.resources[0].clone()
    }

    #[test]
    fn creation_timestamps_are_instants_whatever_the_offset() {
        let east = created("2024-01-01T06:00:00-05:00");
        let utc = created("2024-01-01T10:00:00Z");
        assert!(utc.created < east.created, "{east:?} {utc:?}");
        assert_eq!(east.created_text(), "created 2024-01-01T06:00:00-05:00");
    }

    #[test]
    fn an_unparsable_creation_timestamp_counts_as_missing_and_says_so() {
        let r = created("01/01/2024 09:00");
        assert_eq!(r.created, None);
        assert!(r.created_unparsable());
        assert!(
            r.created_text().contains("is not an RFC 3339 time"),
            "{}",
            r.created_text()
        );
    }
}
