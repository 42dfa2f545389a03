//! `meshlint check --show-settings`: what a run would use, as YAML, without checking anything.

use std::fmt::Write;

use serde_json::json;

use crate::diagnostic::Severity;
use crate::engine::{self, Settings};
use crate::rules::RULES;

use super::check_args::CheckArgs;

/// The settings in effect, each with where it came from when that is not obvious. Fails as
/// the run would on a bad `--select`, `--ignore` or severity override.
pub(super) fn show(
    args: &CheckArgs,
    settings: &Settings,
    paths: &[String],
    clusters: &[engine::ClusterPaths],
    threshold: Severity,
    style: crate::report::Style,
) -> Result<String, String> {
    let cfg = &settings.config.config;
    let enabled = engine::enabled_rules(settings)?;
    let overrides = engine::severity_overrides(&settings.config)?;
    let disabled: Vec<&str> = RULES
        .iter()
        .map(|r| r.meta().code)
        .filter(|c| !enabled.contains(c))
        .collect();
    let mut exclude = settings.exclude.clone();
    exclude.extend(cfg.exclude.iter().cloned());
    let from = |flag: bool, config: bool| {
        if flag {
            "command line"
        } else if config {
            "config file"
        } else {
            "default"
        }
    };
    let namespace = settings
        .namespace
        .clone()
        .or_else(|| cfg.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let istio_version = match settings
        .istio_version
        .as_ref()
        .or(cfg.istio_version.as_ref())
    {
        Some(v) => v.clone(),
        None => "detected from the input".into(),
    };
    let mesh_config = match &args.mesh.mesh_config {
        Some(p) => p.clone(),
        None => "the `istio` ConfigMap in the input, if any".into(),
    };
    // Each value is a JSON string or list, which is also valid YAML.
    let rows = [
        (
            "config",
            json!(settings.config.path.as_deref().unwrap_or("none")),
        ),
        ("paths", json!(paths)),
        (
            "clusters",
            json!(
                clusters
                    .iter()
                    .map(|c| (c.name.clone(), json!(c.paths)))
                    .collect::<serde_json::Map<_, _>>()
            ),
        ),
        ("format", json!(format!("{:?}", args.format).to_lowercase())),
        (
            "failure-threshold",
            json!(format!(
                "{threshold} ({})",
                from(
                    args.failure_threshold.is_some(),
                    cfg.failure_threshold.is_some()
                )
            )),
        ),
        ("output-threshold", json!(args.output_threshold.as_str())),
        ("exit-zero", json!(args.exit_zero)),
        ("rules", json!(enabled)),
        ("disabled", json!(disabled)),
        (
            "severity",
            json!(
                overrides
                    .iter()
                    .map(|(c, s)| format!("{c}: {s}"))
                    .collect::<Vec<_>>()
            ),
        ),
        ("exclude", json!(exclude)),
        ("no-ignore", json!(settings.no_ignore)),
        ("namespace", json!(namespace)),
        ("istio-version", json!(istio_version)),
        ("mesh-config", json!(mesh_config)),
        (
            "baseline",
            json!(
                settings
                    .baseline
                    .as_ref()
                    .map_or("none", |b| b.path.as_str())
            ),
        ),
        ("max-file-size", json!(settings.max_file_size.to_string())),
        ("color", json!(style.color)),
        ("width", json!(style.width)),
    ];
    let mut out = String::new();
    for (key, value) in rows {
        let _ = writeln!(out, "{key}: {value}");
    }
    Ok(out)
}
