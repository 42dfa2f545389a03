//! MESH1204 image-auto-without-injection: an `istio-proxy` container with `image: auto`, which
//! only the injector replaces, in a pod the injector does not process: the pod cannot pull
//! `auto` and never starts.

use crate::diagnostic::Severity;
use crate::mesh::injection::{injector_selects, is_cluster_snapshot};
use crate::rules::{Context, Rule, RuleMeta};

use super::namespace_labels;

pub struct ImageAutoWithoutInjection;

static META: RuleMeta = RuleMeta {
    code: "MESH1204",
    name: "image-auto-without-injection",
    summary: "istio-proxy container with `image: auto` in a pod the injector does not process",
    severity: Severity::Error,
    istio_codes: &["IST0146", "IST0147"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1204-image-auto-without-injection.md"),
};

impl Rule for ImageAutoWithoutInjection {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let snapshot = is_cluster_snapshot(cx.store);
        for (id, r) in cx.store.iter() {
            let Some(w) = r.workload() else { continue };
            let Some(i) = w
                .pod
                .containers
                .iter()
                .position(|c| c.name == "istio-proxy" && c.image.as_deref() == Some("auto"))
            else {
                continue;
            };
            let path = w
                .pod_spec_path
                .clone()
                .key("containers")
                .index(i)
                .key("image");
            // A running Pod still showing `auto` was not injected, whatever its labels say.
            if r.kind == "Pod" && snapshot {
                cx.report(
                    id,
                    path,
                    format!("Pod `{}` runs with `image: auto`: the injector did not process it, so the proxy image cannot be pulled", r.name),
                )
                .help("label its namespace `istio-injection=enabled` (or the pod `sidecar.istio.io/inject: \"true\"`) and re-create it")
                .istio(&["IST0147"]);
                continue;
            }
            if injector_selects(namespace_labels(cx, r), r).is_some() {
                continue;
            }
            let ns_known = cx.namespace(&r.namespace).is_some();
            let (severity, why) = if ns_known {
                (
                    Severity::Error,
                    format!(
                        "neither namespace `{}` nor the pod template selects Istio's injector",
                        r.namespace
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "the pod template does not select Istio's injector and namespace `{}` is not in the input",
                        r.namespace
                    ),
                )
            };
            let codes: &'static [&'static str] = if r.kind == "Pod" {
                &["IST0147"]
            } else {
                &["IST0146"]
            };
            cx.report(
                id,
                path,
                format!(
                    "`image: auto` is replaced by the sidecar injector, but {why}: the pods keep `auto` as their image and fail to start (ErrImagePull)"
                ),
            )
            .help("label the namespace `istio-injection=enabled` (or `istio.io/rev=REVISION`), or the pod template `sidecar.istio.io/inject: \"true\"`")
            .severity(severity)
            .istio(codes);
        }
    }
}
