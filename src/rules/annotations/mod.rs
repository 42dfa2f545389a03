//! Istio annotations: unknown, misplaced, invalid, deprecated and (opt-in) alpha ones (istio's
//! `annotations.K8sAnalyzer` and `maturity.AlphaAnalyzer`), on every object whose annotations
//! Istio reads and on the pod templates of workloads, which istioctl does not look at.

pub mod mesh1101_unknown_annotation;
pub mod mesh1102_misplaced_annotation;
pub mod mesh1103_invalid_annotation;
pub mod mesh1104_deprecated_annotation;
pub mod mesh1105_alpha_annotation;

use std::collections::BTreeMap;

use crate::mesh::annotations::{self, Annotation};
use crate::model::{ResId, Store};
use crate::source::FieldPath;

/// Kinds whose own annotations are checked besides workloads: those Istio's table names.
const KINDS: &[&str] = &[
    "Namespace",
    "Service",
    "Pod",
    "Ingress",
    "ServiceEntry",
    "WorkloadEntry",
    "AuthorizationPolicy",
    "Gateway",
    "GatewayClass",
];

/// Kinds istioctl's analyzer checks (its own metadata only): findings elsewhere carry no IST
/// code, so istioctl users see what is new.
const ISTIOCTL_KINDS: &[&str] = &["Namespace", "Service", "Pod", "Deployment"];

/// One annotations map: a resource's own, or its pod template's.
pub struct Site<'a> {
    pub id: ResId,
    /// The kind the annotations are read as: the resource's, or `Pod` for a pod template.
    pub kind: &'a str,
    /// The resource's kind, for messages.
    pub owner_kind: &'a str,
    /// The `metadata` the annotations are in.
    pub meta: FieldPath,
    pub annotations: &'a BTreeMap<String, String>,
    /// Labels beside them (the pod template's labels for a template).
    pub labels: &'a BTreeMap<String, String>,
    pub template: bool,
}

impl Site<'_> {
    pub fn path(&self, name: &str) -> FieldPath {
        self.meta.clone().key("annotations").key(name)
    }

    /// The IST codes of a finding here: none where istioctl does not look.
    pub fn istio(&self, codes: &'static [&'static str]) -> &'static [&'static str] {
        if !self.template && ISTIOCTL_KINDS.contains(&self.kind) {
            codes
        } else {
            &[]
        }
    }
}

/// Every annotations map Istio may read, in store order.
pub fn sites(store: &Store) -> Vec<Site<'_>> {
    let mut out = Vec::new();
    for (id, r) in store.iter() {
        let workload = r.workload();
        if workload.is_some() || KINDS.contains(&r.kind.as_str()) {
            out.push(Site {
                id,
                kind: &r.kind,
                owner_kind: &r.kind,
                meta: FieldPath::parse("metadata"),
                annotations: &r.annotations,
                labels: &r.labels,
                template: false,
            });
        }
        if let Some(w) = workload.filter(|_| r.kind != "Pod") {
            out.push(Site {
                id,
                kind: "Pod",
                owner_kind: &r.kind,
                meta: w.pod_meta_path.clone(),
                annotations: &w.pod_annotations,
                labels: &w.pod_labels,
                template: true,
            });
        }
    }
    out
}

/// Every Istio annotation of `site` that Istio defines and users set: `(name, value, entry)`.
pub fn known<'a>(
    site: &'a Site<'_>,
) -> impl Iterator<Item = (&'a str, &'a str, &'static Annotation)> + 'a {
    site.annotations.iter().filter_map(|(name, value)| {
        if !annotations::is_istio(name) || annotations::set_by_istio(name) {
            return None;
        }
        annotations::lookup(name).map(|a| (name.as_str(), value.as_str(), a))
    })
}

/// "Pod" or "Deployment `web`'s pod template", for messages.
pub fn where_(site: &Site<'_>) -> String {
    if site.template {
        format!("the pod template of this {}", site.owner_kind)
    } else {
        format!("a {}", site.kind)
    }
}
