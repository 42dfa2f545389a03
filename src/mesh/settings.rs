//! Run-wide facts about the mesh, from flags, the config file and the input: the Istio version
//! targeted, the mesh config, and platform switches.

use crate::model::istio::MeshConfig;

/// Run-wide facts rules may depend on, from flags, config and the input.
#[derive(Clone, Debug, Default)]
pub struct MeshSettings {
    /// Target Istio version `(major, minor)`; `None` when neither given nor detected.
    pub istio_version: Option<(u32, u32)>,
    /// Where the version came from, for messages ("--istio-version", "image istio/pilot:1.20.3").
    pub istio_version_source: String,
    /// The mesh config: `--mesh-config`, else the `istio` ConfigMap in the input, else defaults.
    pub mesh: MeshConfig,
    /// Where the mesh config came from; `None` when it is istio's defaults (the input may then
    /// be missing settings such as `extensionProviders`).
    pub mesh_source: Option<String>,
    /// The platform maps each dependency onto the same port on 127.0.0.1 (e.g. Rainbond).
    pub loopback_dependencies: bool,
    /// istiod's `ENABLE_EXTERNAL_NAME_ALIAS` env var, when the istiod Deployment is in the input.
    pub external_name_alias: Option<bool>,
}
