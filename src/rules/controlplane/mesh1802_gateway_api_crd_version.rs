//! MESH1802 gateway-api-crd-version: a Gateway API CRD istiod does not watch because of its
//! bundle version (below the minimum the target Istio version needs, above the maximum it can
//! read, or missing), so objects of that kind are not processed.

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::crds::{BUNDLE_VERSION, Ignored, LATEST_MINOR, ignored};
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node};

pub struct GatewayApiCrdVersion;

static META: RuleMeta = RuleMeta {
    code: "MESH1802",
    name: "gateway-api-crd-version",
    summary: "Gateway API CRD at a bundle version istiod does not watch, so its objects are ignored",
    severity: Severity::Warning,
    istio_codes: &["IST0176"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1802-gateway-api-crd-version.md"),
};

impl Rule for GatewayApiCrdVersion {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let (minor, note) = match cx.settings.istio_version {
            Some((1, minor)) => (
                minor,
                format!(
                    " (target Istio version from {})",
                    cx.settings.istio_version_source
                ),
            ),
            Some(_) => return,
            None => (
                LATEST_MINOR,
                format!(
                    " (Istio 1.{LATEST_MINOR} assumed: the input does not show the Istio version; set --istio-version)"
                ),
            ),
        };
        let target = format!("Istio 1.{minor}");
        for (id, r) in cx.store.iter() {
            if r.kind != "CustomResourceDefinition" {
                continue;
            }
            let version = r.annotations.get(BUNDLE_VERSION).map(String::as_str);
            let Some(why) = ignored(&r.name, version, minor) else {
                continue;
            };
            let kind = raw(r, "spec.names.kind")
                .and_then(Node::as_str)
                .unwrap_or_else(|| r.name.split('.').next().unwrap_or_default());
            let annotation = FieldPath::parse("metadata.annotations").key(BUNDLE_VERSION);
            let shown = version.unwrap_or_default();
            let (path, text, subkind, istio): (_, _, _, &'static [&'static str]) = match why {
                Ignored::Below(min) => (
                    annotation,
                    format!(
                        "is at bundle version `{shown}`, below {min}, the minimum for {target}"
                    ),
                    "below-minimum",
                    &["IST0176"],
                ),
                Ignored::Above(max) => (
                    annotation,
                    format!(
                        "is at bundle version `{shown}`, above {max}, the newest {target} reads"
                    ),
                    "above-maximum",
                    &[],
                ),
                Ignored::NoVersion => (
                    FieldPath::parse("metadata"),
                    format!("has no `{BUNDLE_VERSION}` annotation, which {target} requires"),
                    "no-bundle-version",
                    &[],
                ),
                Ignored::BadVersion => (
                    annotation,
                    format!(
                        "has a bundle version `{shown}` that is not a version, which {target} refuses"
                    ),
                    "bad-bundle-version",
                    &[],
                ),
            };
            cx.report(
                id,
                path,
                format!(
                    "Gateway API CRD `{}` {text}: istiod does not watch it, so {kind} objects are not processed{note}",
                    r.name
                ),
            )
            .subkind(subkind)
            .istio(istio)
            .help("install the Gateway API CRDs of a release this Istio version supports (`kubectl apply -f` the release's standard or experimental install)");
        }
    }
}
