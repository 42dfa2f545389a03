//! The control plane as the cluster sees it: Istio's admission webhooks and the Gateway API
//! CRDs istiod watches (istio's `externalcontrolplane`, `webhook` and `k8sgateway.CRDVersionAnalyzer`
//! analyzers).

pub mod mesh1801_webhook_address;
pub mod mesh1802_gateway_api_crd_version;
pub mod mesh1803_injector_webhook_conflict;

use crate::model::Resource;

/// Whether `res` is one of Istio's webhook configurations: the sidecar injector
/// (`istio-sidecar-injector[-REVISION][-NAMESPACE]`) or the validator (`istio-validator…`,
/// `istiod-default-validator`), as the istio-discovery chart names them.
pub fn is_istio_webhook(res: &Resource) -> bool {
    match res.kind.as_str() {
        "MutatingWebhookConfiguration" => res.name.starts_with("istio-sidecar-injector"),
        "ValidatingWebhookConfiguration" => {
            res.name == "istiod-default-validator" || res.name.starts_with("istio-validator")
        }
        _ => false,
    }
}
