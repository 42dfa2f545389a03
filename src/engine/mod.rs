//! The `check` pipeline: load → model → graph → rules → suppressions → resolved findings.

mod ambient_listeners;
pub mod baseline;
mod clusters;
mod comments;
mod context;
mod fingerprint;
pub mod fix;
mod gateways;
mod graph;
mod listeners;
mod locate;
mod mtls;
mod select;
mod suppress;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::LoadedConfig;
use crate::diagnostic::{Finding, Outcome, Severity};
use crate::envoy::load::{LoadedDump, take_dumps};
use crate::mesh::graph::MeshGraph;
use crate::mesh::settings::MeshSettings;
use crate::mesh::version;
use crate::model::istio::MeshConfig;
use crate::model::{ModelOptions, Store};
use crate::rules::{Context, Indexes, Peer, RULES, UNUSED_SUPPRESSION};
use crate::source::{self, FieldPath, InputError, Level, Notice, Sources};

pub use ambient_listeners::{AmbientNamespace, AmbientPath};
pub use clusters::{ClusterPaths, check_cluster_paths, check_clusters};
pub use context::check_in_context;
pub use gateways::{GatewayView, gateways};
pub use listeners::{ListenerView, listeners, listeners_with};
pub use locate::resource_ref;
pub use mtls::{AuthzRow, InboundRow, MtlsTable, OutboundRow, mtls};
pub use select::{enabled_rules, resolve_rules, severity_overrides};
pub use suppress::{GALLEY_ANNOTATION, IGNORE_ANNOTATION};

/// Everything that decides what `check` reports.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub select: Vec<String>,
    /// Rules run besides the selected ones (`--extend-select`).
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub exclude: Vec<String>,
    /// Walk directories without ignore files.
    pub no_ignore: bool,
    /// Inputs larger than this are input errors.
    pub max_file_size: source::FileSize,
    pub namespace: Option<String>,
    pub istio_version: Option<String>,
    /// A MeshConfig given with `--mesh-config`; overrides an `istio` ConfigMap in the input.
    pub mesh_config: Option<MeshConfig>,
    pub config: LoadedConfig,
    /// Also predict every scope's listener table into the outcome (the HTML report shows it).
    pub listener_table: bool,
    /// Where reading and checking report their progress.
    pub progress: source::Progress,
    /// Findings to leave out (`--baseline`).
    pub baseline: Option<baseline::Baseline>,
}

/// Loads `paths` and checks them.
pub fn check(paths: &[String], settings: &Settings) -> Result<Outcome, String> {
    check_with(paths, Vec::new(), settings)
}

/// Inputs that did not come from a path: `(name, text or why it could not be had)`, e.g. a
/// dump fetched with `--admin URL`.
pub type Fetched = Vec<(String, Result<String, String>)>;

fn add_fetched(sources: &mut Sources, fetched: Fetched) {
    for (name, got) in fetched {
        match got {
            Ok(text) => sources.add_text(name, text),
            Err(message) => sources.errors.push(InputError {
                file: name,
                line: 0,
                column: 0,
                message,
            }),
        }
    }
}

/// Loads `paths` plus fetched inputs and checks them.
pub fn check_with(
    paths: &[String],
    fetched: Fetched,
    settings: &Settings,
) -> Result<Outcome, String> {
    let mut sources = source::load(paths, &discovery(settings)?);
    add_fetched(&mut sources, fetched);
    check_sources(sources, settings)
}

/// Checks already-loaded sources.
pub fn check_sources(sources: Sources, settings: &Settings) -> Result<Outcome, String> {
    let selection = Selection::new(settings)?;
    let cluster = Cluster::load(sources, settings)?;
    let checked = cluster.check(&[], None, &selection, settings);
    let Cluster {
        mut sources,
        dumps,
        store,
        mesh,
    } = cluster;
    let mut findings = checked.findings;
    let read = sources.files.iter().map(|f| f.path.as_str()).collect();
    let baselined = finish(&mut findings, &read, &selection, settings);
    let mut errors = std::mem::take(&mut sources.errors);
    errors.sort();
    let graph = graph::view(&store, &checked.graph, &findings);
    let listeners = if settings.listener_table {
        listeners::scopes(&store, &mesh, &dumps, &sources)
    } else {
        Vec::new()
    };
    Ok(Outcome {
        resources: cluster_resources(&store, &dumps),
        sources,
        findings,
        errors,
        graph,
        listeners,
        config: settings.config.path.clone(),
        baselined,
    })
}

/// Which rules run and how their findings are filtered and graded, decided once per run.
struct Selection {
    enabled: BTreeSet<&'static str>,
    ist: select::IstFilter,
    severity: BTreeMap<&'static str, Severity>,
}

impl Selection {
    fn new(settings: &Settings) -> Result<Self, String> {
        Ok(Self {
            enabled: enabled_rules(settings)?,
            ist: select::IstFilter::new(settings)?,
            severity: select::severity_overrides(&settings.config)?,
        })
    }
}

/// One cluster's input, modelled: what its API server would hold, with its own mesh settings.
struct Cluster {
    sources: Sources,
    dumps: Vec<LoadedDump>,
    store: Store,
    mesh: MeshSettings,
}

/// What the rules found on one cluster: suppressed, located, with severity overrides applied.
struct Checked {
    findings: Vec<Finding>,
    graph: MeshGraph,
}

impl Cluster {
    fn load(mut sources: Sources, settings: &Settings) -> Result<Self, String> {
        let dumps = take_dumps(&mut sources);
        let store = Store::build(&mut sources, &model_options(settings));
        warn_if_empty(&mut sources, &store, &dumps);
        let mesh = mesh_settings(settings, &store)?;
        Ok(Self {
            sources,
            dumps,
            store,
            mesh,
        })
    }

    /// Runs the enabled rules on this cluster (named `name` beside `peers` in a multi-cluster
    /// run) and resolves their findings.
    fn check(
        &self,
        peers: &[Peer<'_>],
        name: Option<&str>,
        selection: &Selection,
        settings: &Settings,
    ) -> Checked {
        let store = &self.store;
        let index = Indexes::build(store, &self.mesh);
        let graph = MeshGraph::build(store, &index.hosts, &index.workloads);
        let mut cx = Context::new(store, &graph, &self.mesh, &index, &self.dumps);
        if let Some(name) = name {
            cx = cx.with_peers(name, peers);
        }
        let rules: Vec<_> = RULES
            .iter()
            .filter(|r| selection.enabled.contains(r.meta().code))
            .collect();
        settings.progress.stage("checking", rules.len());
        for rule in rules {
            cx.run(*rule);
            settings.progress.tick();
        }
        let raw = cx.into_findings();
        let locator = locate::Locator::new(store, &self.sources, &self.dumps).with_peers(peers);
        let enabled = &selection.enabled;
        let suppressed = suppress::apply(raw, &locator, store, &settings.config, enabled);
        let mut findings: Vec<Finding> = suppressed
            .kept
            .iter()
            .filter(|f| selection.ist.keep(f.rule.code, f.istio_codes))
            .map(|f| locator.resolve(f))
            .collect();
        if enabled.contains(UNUSED_SUPPRESSION.code) {
            findings.extend(suppressed.unused);
        }
        for f in &mut findings {
            if let Some(s) = selection.severity.get(f.code) {
                f.severity = *s;
            }
        }
        Checked { findings, graph }
    }
}

/// Leaves out the findings of the baseline (its stale entries become MESH001), sorts and
/// removes duplicates; returns how many findings the baseline matched.
fn finish(
    findings: &mut Vec<Finding>,
    read: &BTreeSet<&str>,
    selection: &Selection,
    settings: &Settings,
) -> usize {
    let mut baselined = 0;
    if let Some(b) = &settings.baseline {
        let applied = baseline::apply(b, std::mem::take(findings), read, &selection.enabled);
        baselined = applied.matched;
        *findings = applied.kept;
        if selection.enabled.contains(UNUSED_SUPPRESSION.code) {
            findings.extend(applied.stale);
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    baselined
}

/// Objects in a cluster's input: resources, and the listeners, clusters and routes of its dumps.
fn cluster_resources(store: &Store, dumps: &[LoadedDump]) -> usize {
    let dump_resources: usize = dumps
        .iter()
        .map(|ld| {
            let d = &ld.dump;
            d.listeners.len() + d.errors.len() + d.clusters.len() + d.routes.len()
        })
        .sum();
    store.len() + dump_resources
}

/// A run that found nothing to check says so, as a wrong path in CI would otherwise pass
/// silently. Input errors already say what went wrong, so they need no warning beside them.
fn warn_if_empty(sources: &mut Sources, store: &Store, dumps: &[LoadedDump]) {
    if !store.is_empty() || !dumps.is_empty() || !sources.errors.is_empty() {
        return;
    }
    let message = match sources.files.len() {
        0 => "No YAML or JSON files found under the given path(s)".to_string(),
        n => format!(
            "No Kubernetes objects found in the {n} file{} read; Helm values, templates and other files that are no objects are skipped",
            if n == 1 { "" } else { "s" }
        ),
    };
    sources.notices.push(Notice {
        level: Level::Warning,
        file: String::new(),
        line: 0,
        column: 0,
        message,
    });
}

/// Exclude globs from the flags and the config file, and how to walk and read.
/// A bad glob of the config file is reported at its position there, not as a flag.
fn discovery(settings: &Settings) -> Result<source::Discovery, String> {
    let cfg = &settings.config;
    for (i, pattern) in cfg.config.exclude.iter().enumerate() {
        if let Err(e) = globset::Glob::new(pattern) {
            let (line, column) = cfg.position(&FieldPath::parse("exclude").index(i));
            return Err(format!(
                "{}:{line}:{column}: invalid glob `{pattern}` in `exclude`: {e}",
                cfg.path.clone().unwrap_or_default()
            ));
        }
    }
    let mut exclude = settings.exclude.clone();
    exclude.extend(cfg.config.exclude.iter().cloned());
    Ok(source::Discovery {
        exclude,
        no_ignore: settings.no_ignore,
        max_file_size: settings.max_file_size,
        progress: settings.progress.clone(),
    })
}

/// The default namespace: the flag, then the config file, then `default`.
fn model_options(settings: &Settings) -> ModelOptions {
    ModelOptions {
        default_namespace: settings
            .namespace
            .clone()
            .or_else(|| settings.config.config.namespace.clone())
            .unwrap_or_else(|| "default".into()),
    }
}

/// Version, mesh config and platform facts: flags first, then the config file, then the input.
fn mesh_settings(settings: &Settings, store: &Store) -> Result<MeshSettings, String> {
    let cfg = &settings.config.config;
    let (mesh, mesh_source) = match &settings.mesh_config {
        Some(m) => (m.clone(), Some("--mesh-config".to_string())),
        None => match store.mesh_config() {
            Some(m) => (
                m.clone(),
                Some("the `istio` ConfigMap in the input".to_string()),
            ),
            None => (Default::default(), None),
        },
    };
    let (istio_version, istio_version_source) = match settings
        .istio_version
        .as_ref()
        .or(cfg.istio_version.as_ref())
    {
        Some(v) => (
            Some(version::parse(v).ok_or_else(|| {
                format!("invalid Istio version `{v}` (expected MAJOR.MINOR, e.g. 1.20)")
            })?),
            if settings.istio_version.is_some() {
                "--istio-version".to_string()
            } else {
                "istio-version in the config file".to_string()
            },
        ),
        None => match version::detect(store) {
            Some((v, src)) => (Some(v), src),
            None => (None, String::new()),
        },
    };
    Ok(MeshSettings {
        istio_version,
        istio_version_source,
        mesh,
        mesh_source,
        loopback_dependencies: cfg.mesh.loopback_dependencies,
        external_name_alias: version::istiod_flag(store, "ENABLE_EXTERNAL_NAME_ALIAS"),
    })
}
