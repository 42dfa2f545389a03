//! The cluster IDs an istiod knows: its own (`CLUSTER_ID`, `pilot/pkg/features/pilot.go`,
//! default `Kubernetes` from `pkg/config/constants/constants.go`) and one per key of each
//! remote secret, a Secret labelled `istio/multiCluster: "true"`
//! (`pkg/kube/multicluster/secretcontroller.go`, which reads every `data` key as a cluster ID).

use std::collections::BTreeMap;

use crate::model::raw::raw;
use crate::model::{ResId, Store};
use crate::source::{FieldPath, Value};

use super::version::istiod_env;

/// istiod's default cluster ID.
pub const DEFAULT_CLUSTER_ID: &str = "Kubernetes";

const SECRET_LABEL: &str = "istio/multiCluster";

pub struct ClusterIds<'a> {
    /// This cluster's ID.
    pub local: &'a str,
    /// The istiod workload and env entry that set `CLUSTER_ID`; `None` when the default is
    /// assumed.
    pub local_from: Option<(ResId, FieldPath)>,
    /// Remote cluster IDs, each with the first remote secret that names it.
    pub remote: BTreeMap<&'a str, ResId>,
}

impl<'a> ClusterIds<'a> {
    pub fn build(store: &'a Store) -> Self {
        let (local_from, local) = match istiod_env(store, "CLUSTER_ID") {
            Some((id, path, v)) if !v.is_empty() => (Some((id, path)), v),
            _ => (None, DEFAULT_CLUSTER_ID),
        };
        let mut remote = BTreeMap::new();
        for (id, r) in store.iter() {
            if r.kind != "Secret" || r.labels.get(SECRET_LABEL).map(String::as_str) != Some("true")
            {
                continue;
            }
            // The API server merges `stringData` into `data`; manifests may use either.
            for field in ["data", "stringData"] {
                if let Some(Value::Map(entries)) = raw(r, field).map(|n| &n.value) {
                    for (key, _) in entries {
                        if let Value::Str(k) = &key.value {
                            remote.entry(k.as_str()).or_insert(id);
                        }
                    }
                }
            }
        }
        Self {
            local,
            local_from,
            remote,
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        id == self.local || self.remote.contains_key(id)
    }

    /// Every known ID, this cluster's first.
    pub fn all(&self) -> impl Iterator<Item = &'a str> + '_ {
        std::iter::once(self.local).chain(self.remote.keys().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelOptions, Store};
    use crate::source::Sources;

    fn ids(yaml: &str) -> (String, Vec<String>) {
        let mut sources = Sources::default();
        sources.add_text("t.yaml".into(), yaml.into());
        let store = Store::build(&mut sources, &ModelOptions::default());
        let ids = ClusterIds::build(&store);
        (
            ids.local.to_string(),
            ids.remote.keys().map(|k| k.to_string()).collect(),
        )
    }

    #[test]
    fn reads_istiod_cluster_id_and_remote_secret_keys() {
        let (local, remote) = ids(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system}\nspec:\n  template:\n    spec:\n      containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.24.0\n        env:\n        - {name: CLUSTER_ID, value: east}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: istio-remote-secret-west\n  namespace: istio-system\n  labels: {istio/multiCluster: \"true\"}\nstringData:\n  west: kubeconfig\ndata:\n  north: a3ViZWNvbmZpZw==\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: istio-system}\nstringData: {south: x}\n",
        );
        assert_eq!(local, "east");
        assert_eq!(remote, ["north", "west"]);
    }

    #[test]
    fn defaults_without_istiod() {
        assert_eq!(
            ids("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
            ("Kubernetes".into(), vec![])
        );
    }
}
