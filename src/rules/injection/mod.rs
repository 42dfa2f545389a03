//! Sidecar injection: namespace labels that contradict each other or enable nothing, pods the
//! injector missed, `image: auto` proxies nothing replaces, apps running as the proxy's UID, and
//! running proxies older than the injector's image (istio's `injection` and `deployment`
//! analyzers).

pub mod mesh1201_multiple_injection_labels;
pub mod mesh1202_namespace_not_injected;
pub mod mesh1203_pod_missing_proxy;
pub mod mesh1204_image_auto_without_injection;
pub mod mesh1205_proxy_uid;
pub mod mesh1206_proxy_image_outdated;

use std::collections::BTreeMap;

use crate::model::Resource;
use crate::rules::Context;

/// The labels of `res`'s Namespace, when the input has it.
pub fn namespace_labels<'a>(
    cx: &Context<'a>,
    res: &Resource,
) -> Option<&'a BTreeMap<String, String>> {
    cx.namespace(&res.namespace)
        .map(|id| &cx.store.get(id).labels)
}

/// The `istio-system` namespace, where the control plane runs and nothing is injected.
pub const CONTROL_PLANE_NAMESPACE: &str = "istio-system";
