//! The sidecar injector's configuration as a cluster snapshot shows it: the
//! `istio-sidecar-injector[-REVISION]` ConfigMaps, the proxy image each injects, and the image
//! type (`distroless`, …) a pod gets from MeshConfig, ProxyConfig resources and its own
//! `proxy.istio.io/config` (istio/istio `pkg/config/analysis/analyzers/injection/injection-image.go`
//! and `pkg/config/analysis/analyzers/util/proxyconfig.go`).

use std::collections::BTreeMap;

use crate::model::istio::{MeshConfig, ProxyConfig};
use crate::model::raw::raw;
use crate::model::{ResId, Resource, Store};
use crate::source::{Node, Value};

const CONFIG_MAP_PREFIX: &str = "istio-sidecar-injector";

/// The injector ConfigMap name of a revision (`default` and no revision share one).
pub fn config_map_name(revision: &str) -> String {
    if revision.is_empty() || revision == "default" {
        CONFIG_MAP_PREFIX.to_string()
    } else {
        format!("{CONFIG_MAP_PREFIX}-{revision}")
    }
}

/// An injector ConfigMap and the proxy image it injects.
pub struct Injector {
    pub id: ResId,
    pub image: String,
}

/// The injector ConfigMaps of the input by name, with the proxy image their `values` give
/// (`global.proxy.image` when it is a full reference, else `hub/image:tag`, as the injection
/// template does). One whose values do not parse injects no image meshlint can compare.
pub fn injectors(store: &Store) -> BTreeMap<String, Injector> {
    let mut out = BTreeMap::new();
    for (id, r) in store.iter() {
        if r.kind != "ConfigMap" || !r.name.starts_with(CONFIG_MAP_PREFIX) {
            continue;
        }
        let Some(values) = raw(r, "data.values")
            .and_then(Node::as_str)
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        else {
            continue;
        };
        let text = |p: &str| {
            values
                .pointer(p)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        let image = text("/global/proxy/image");
        let image = if image.contains('/') {
            image.to_string()
        } else {
            format!("{}/{image}:{}", text("/global/hub"), text("/global/tag"))
        };
        // Of two ConfigMaps with one name (other namespaces), the first by namespace counts.
        let keep = out
            .get(&r.name)
            .is_none_or(|i: &Injector| store.get(i.id).namespace > r.namespace);
        if keep {
            out.insert(r.name.clone(), Injector { id, image });
        }
    }
    out
}

/// ProxyConfig resources by reach: the root namespace's, each namespace's without a selector,
/// and those with a selector.
pub struct ProxyConfigs<'a> {
    root: Option<&'a str>,
    namespace: BTreeMap<&'a str, &'a str>,
    workload: Vec<(&'a Resource, BTreeMap<String, String>, &'a str)>,
}

fn image_type(r: &Resource) -> Option<&str> {
    raw(r, "spec.image.imageType")
        .and_then(Node::as_str)
        .filter(|t| !t.is_empty())
}

impl<'a> ProxyConfigs<'a> {
    pub fn new(store: &'a Store, root_namespace: &str) -> Self {
        let mut configs: Vec<&Resource> = store
            .iter()
            .map(|(_, r)| r)
            .filter(|r| {
                r.kind == "ProxyConfig" && r.api_version.starts_with("networking.istio.io/")
            })
            .collect();
        // A fixed order, whatever the input's: the first by namespace and name wins.
        configs.sort_by(|a, b| (&b.namespace, &b.name).cmp(&(&a.namespace, &a.name)));
        let mut out = Self {
            root: None,
            namespace: BTreeMap::new(),
            workload: Vec::new(),
        };
        for r in configs {
            let selector = raw(r, "spec.selector.matchLabels");
            let Some(t) = image_type(r) else { continue };
            if r.namespace == root_namespace {
                out.root = Some(t);
            } else if let Some(sel) = selector {
                let labels = match &sel.value {
                    Value::Map(entries) => entries
                        .iter()
                        .filter_map(|(k, v)| Some((k.scalar_text(), v.as_str()?.to_string())))
                        .collect(),
                    _ => BTreeMap::new(),
                };
                out.workload.push((r, labels, t));
            } else {
                out.namespace.insert(&r.namespace, t);
            }
        }
        out
    }

    /// The image type a pod's proxy gets: MeshConfig `defaultConfig.image.imageType`, then the
    /// root namespace's ProxyConfig, the namespace's, a selecting one, and the pod's
    /// `proxy.istio.io/config` annotation, each overriding the one before; `default` is none.
    pub fn image_type(&self, mesh: &MeshConfig, pod: &Resource) -> String {
        let mut variant = mesh
            .default_config
            .image
            .as_ref()
            .and_then(|i| i.image_type.clone())
            .unwrap_or_default();
        let mut set = |t: &str| {
            if !t.is_empty() {
                variant = t.to_string();
            }
        };
        if let Some(t) = self.root {
            set(t);
        }
        if let Some(t) = self.namespace.get(pod.namespace.as_str()) {
            set(t);
        }
        for (r, labels, t) in &self.workload {
            if r.namespace == pod.namespace
                && labels.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
            {
                set(t);
            }
        }
        if let Some(t) = annotation_image_type(pod) {
            set(&t);
        }
        if variant == "default" {
            variant.clear();
        }
        variant
    }
}

fn annotation_image_type(pod: &Resource) -> Option<String> {
    let text = pod.annotations.get("proxy.istio.io/config")?;
    let doc = crate::source::parse_yaml(text).ok()?.into_iter().next()?;
    let cfg: ProxyConfig = serde_json::from_value(doc.to_json()).ok()?;
    cfg.image?.image_type
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_name_their_config_maps() {
        assert_eq!(config_map_name(""), "istio-sidecar-injector");
        assert_eq!(config_map_name("default"), "istio-sidecar-injector");
        assert_eq!(config_map_name("canary"), "istio-sidecar-injector-canary");
    }
}
