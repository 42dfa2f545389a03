//! MESH002 duplicate-object: one object defined by several documents. The store already keeps
//! only the last copy, as `kubectl apply` does (`model::Store::copies`); this rule says so once.

use crate::diagnostic::Severity;
use serde_json::json;

use crate::model::{ResId, Resource, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct DuplicateObject;

static META: RuleMeta = RuleMeta {
    code: "MESH002",
    name: "duplicate-object",
    summary: "one object is defined more than once; only the last definition takes effect",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH002-duplicate-object.md"),
};

/// The fields of a resource meshlint's rules read, as JSON, so copies that differ only elsewhere
/// (an image tag, resource limits, a ConfigMap's data) are not called conflicting. `None` for
/// kinds no rule reads.
fn read_by_rules(res: &Resource) -> Option<serde_json::Value> {
    let at = |path: &str| {
        let (node, found) = res.node.lookup(&FieldPath::parse(path));
        found.then(|| node.to_json())
    };
    let meta =
        json!({ "labels": at("metadata.labels"), "annotations": at("metadata.annotations") });
    let fields = match &res.spec {
        Spec::Service(_) | Spec::Namespace => json!({ "spec": at("spec") }),
        Spec::IstioConfigMap(_) => json!({ "data": at("data") }),
        Spec::Workload(w) => {
            let pod = w.pod_spec_path.to_string();
            let containers = |key: &str| {
                let list = at(&format!("{pod}.{key}"))?;
                Some(
                    list.as_array()?
                        .iter()
                        .map(|c| {
                            json!({
                                "name": c.get("name"),
                                "ports": c.get("ports"),
                                "env": c.get("env"),
                                "restartPolicy": c.get("restartPolicy"),
                            })
                        })
                        .collect::<Vec<_>>(),
                )
            };
            // A Pod's own metadata, or the template's (`spec.template.metadata`).
            let pod_meta = match pod.strip_suffix(".spec") {
                Some(template) => format!("{template}.metadata"),
                None => "metadata".to_string(),
            };
            json!({
                "replicas": at("spec.replicas"),
                "pod_labels": at(&format!("{pod_meta}.labels")),
                "pod_annotations": at(&format!("{pod_meta}.annotations")),
                "hostNetwork": at(&format!("{pod}.hostNetwork")),
                "nodeSelector": at(&format!("{pod}.nodeSelector")),
                "affinity": at(&format!("{pod}.affinity")),
                "containers": containers("containers"),
                "initContainers": containers("initContainers"),
            })
        }
        _ if res.api_version.contains("istio.io/")
            || res.api_version.starts_with("gateway.networking.k8s.io/") =>
        {
            json!({ "spec": at("spec") })
        }
        _ => return None,
    };
    Some(json!({ "meta": meta, "fields": fields }))
}

impl Rule for DuplicateObject {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        for (&survivor, earlier) in &store.copies {
            let res = store.get(survivor);
            let own = read_by_rules(res);
            let differs = |e: ResId| own.is_some() && read_by_rules(store.get(e)) != own;
            let differ = earlier.iter().any(|&e| differs(e));
            // Copies in one file are applied together by any `kubectl apply -f`, so a difference
            // there is a mistake; copies in different files may be alternatives or per-cluster
            // variants that are never applied together, so they are only noted.
            let same_file = earlier
                .iter()
                .any(|&e| store.get(e).file == res.file && differs(e));
            let n = earlier.len() + 1;
            let others = match earlier.len() {
                1 => "the earlier definition never takes effect".to_string(),
                k => format!("the {k} earlier definitions never take effect"),
            };
            let (message, severity) = match (differ, same_file) {
                (true, true) => (
                    format!(
                        "this object is defined {n} times in the input, more than once in this file, and the definitions differ in fields meshlint reads: `kubectl apply` keeps only this last one, so {others}; meshlint checks this one"
                    ),
                    Severity::Warning,
                ),
                (true, false) => (
                    format!(
                        "this object is defined {n} times in the input and a copy in another file differs in fields meshlint reads: applied together, `kubectl apply` keeps only this last one, so {others}; meshlint checks this one (if the files are alternatives or per-environment variants, check each set on its own)"
                    ),
                    Severity::Info,
                ),
                (false, _) => (
                    format!(
                        "this object is defined {n} times in the input, alike in every field meshlint reads; `kubectl apply` keeps one object, and meshlint checks it once"
                    ),
                    Severity::Info,
                ),
            };
            let name = FieldPath::parse("metadata.name");
            let mut r = cx
                .report(survivor, name.clone(), message)
                .severity(severity)
                .help("keep one definition per object; if the files are alternatives applied one at a time, check each set on its own");
            for &e in earlier {
                r = r.related(e, name.clone(), "an earlier definition of the same object");
            }
        }
    }
}
