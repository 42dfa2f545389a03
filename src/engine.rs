//! The `check` pipeline: load → model → graph → rules → suppressions → resolved findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use globset::{Glob, GlobMatcher};

use crate::config::{IgnoreEntry, LoadedConfig, Suppression};
use crate::diagnostic::{Finding, Location, RawFinding, Related, ResourceRef, Severity, Target};
use crate::mesh::graph::MeshGraph;
use crate::mesh::settings::MeshSettings;
use crate::mesh::version;
use crate::model::istio::MeshConfig;
use crate::model::{ModelOptions, Store};
use crate::report::graph::{GraphNode, GraphView};
use crate::rules::{self, Context, RULES, RuleMeta, UNUSED_SUPPRESSION};
use crate::source::{self, FieldPath, InputError, Sources};

/// Annotation listing rules (codes or names, comma-separated, or `*`) to ignore on a resource.
pub const IGNORE_ANNOTATION: &str = "meshlint.io/ignore";
/// istio's own suppression annotation; it silences findings whose istio codes it lists.
pub const GALLEY_ANNOTATION: &str = "galley.istio.io/analyze-suppress";

/// Everything that decides what `check` reports.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub exclude: Vec<String>,
    pub namespace: Option<String>,
    pub istio_version: Option<String>,
    /// A MeshConfig given with `--mesh-config`; overrides an `istio` ConfigMap in the input.
    pub mesh_config: Option<MeshConfig>,
    pub config: LoadedConfig,
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub sources: Sources,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub resources: usize,
    /// The resource graph, with each resource's findings, for `meshlint graph`.
    pub graph: GraphView,
}

/// Resolves `--select`/`--ignore` style keys (codes, names, code prefixes, `ALL`) to rules.
pub fn resolve_rules(keys: &[String]) -> Result<Vec<&'static RuleMeta>, String> {
    let mut out = Vec::new();
    for key in keys
        .iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if key.eq_ignore_ascii_case("all") {
            out.extend(RULES.iter().map(|r| r.meta()));
            continue;
        }
        if let Some(r) = rules::find(key) {
            out.push(r.meta());
            continue;
        }
        let upper = key.to_ascii_uppercase();
        let prefixed: Vec<_> = RULES
            .iter()
            .map(|r| r.meta())
            .filter(|m| upper.starts_with("MESH") && m.code.starts_with(&upper))
            .collect();
        if prefixed.is_empty() {
            return Err(format!(
                "unknown rule `{key}` (run `meshlint rules` for the list)"
            ));
        }
        out.extend(prefixed);
    }
    Ok(out)
}

/// Which rules run, from the command line and the config file.
pub fn enabled_rules(settings: &Settings) -> Result<BTreeSet<&'static str>, String> {
    let cfg = &settings.config.config;
    for (i, e) in cfg.ignore.iter().enumerate() {
        let IgnoreEntry::Finding(s) = e else { continue };
        let at = |field: &str| {
            let (line, column) = settings
                .config
                .position(&FieldPath::parse("ignore").index(i).key(field));
            format!(
                "{}:{line}:{column}",
                settings.config.path.clone().unwrap_or_default()
            )
        };
        if rules::find(&s.rule).is_none() {
            return Err(format!(
                "{}: unknown rule `{}` in ignore entry",
                at("rule"),
                s.rule
            ));
        }
        for (field, pattern) in [("resource", &s.resource), ("file", &s.file)] {
            if let Some(p) = pattern
                && let Err(e) = Glob::new(p)
            {
                return Err(format!("{}: invalid glob `{p}`: {e}", at(field)));
            }
        }
    }
    // `--select ""` (an empty variable in a script) selects nothing, so it means "all".
    let given = |keys: &[String]| keys.iter().any(|k| !k.trim().is_empty());
    let select = if given(&settings.select) {
        &settings.select
    } else {
        &cfg.select
    };
    let mut enabled: BTreeSet<&'static str> = if !given(select) {
        RULES.iter().map(|r| r.meta().code).collect()
    } else {
        resolve_rules(select)?.iter().map(|m| m.code).collect()
    };
    let mut ignored: Vec<String> = settings.ignore.clone();
    ignored.extend(cfg.ignore.iter().filter_map(|e| match e {
        IgnoreEntry::Rule(r) => Some(r.clone()),
        IgnoreEntry::Finding(_) => None,
    }));
    for m in resolve_rules(&ignored)? {
        enabled.remove(m.code);
    }
    Ok(enabled)
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
    let mut sources = source::load(paths, &discovery(settings));
    add_fetched(&mut sources, fetched);
    check_sources(sources, settings)
}

/// Checks already-loaded sources.
pub fn check_sources(mut sources: Sources, settings: &Settings) -> Result<Outcome, String> {
    let enabled = enabled_rules(settings)?;
    let severity = severity_overrides(&settings.config)?;
    let dumps = crate::envoy::load::take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    let graph = MeshGraph::build(&store);
    let rule_settings = rule_settings(settings, &store)?;
    let mut cx = Context::new(&store, &graph, &rule_settings);
    for rule in RULES.iter().filter(|r| enabled.contains(r.meta().code)) {
        cx.run(*rule);
    }
    let raw = cx.into_findings();
    // Config dumps: their own checks, on the listeners, clusters and routes they hold.
    let mut dump_findings = Vec::new();
    let mut dump_resources = 0;
    for ld in &dumps {
        let d = &ld.dump;
        dump_resources += d.listeners.len() + d.errors.len() + d.clusters.len() + d.routes.len();
        dump_findings.extend(rules::dump::mesh7_dump::check(
            ld,
            &sources.files[ld.file],
            &enabled,
        ));
    }
    let Suppressed { raw, dump, unused } = apply_suppressions(
        raw,
        dump_findings,
        &store,
        &sources,
        &settings.config,
        &enabled,
    );
    let mut findings: Vec<Finding> = raw
        .into_iter()
        .map(|f| resolve(&f, &store, &sources))
        .collect();
    findings.extend(dump);
    if enabled.contains(UNUSED_SUPPRESSION.code) {
        findings.extend(unused);
    }
    for f in &mut findings {
        if let Some(s) = severity.get(f.code) {
            f.severity = *s;
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    let mut errors = std::mem::take(&mut sources.errors);
    errors.sort();
    let graph = graph_view(&store, &graph, &findings);
    Ok(Outcome {
        resources: store.resources.len() + dump_resources,
        sources,
        findings,
        errors,
        graph,
    })
}

/// The resources that are linked or have findings, their edges, and their worst findings.
fn graph_view(store: &Store, graph: &MeshGraph, findings: &[Finding]) -> GraphView {
    let edges = graph.edges();
    let mut by_ref: HashMap<ResourceRef, (Option<Severity>, BTreeSet<&'static str>)> =
        HashMap::new();
    for f in findings {
        let e = by_ref.entry(f.resource.clone()).or_default();
        e.0 = e.0.max(Some(f.severity));
        e.1.insert(f.code);
    }
    let linked: BTreeSet<usize> = edges.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    let mut index = HashMap::new();
    let mut view = GraphView::default();
    for (id, _) in store.iter() {
        let r = resource_ref(store, id);
        let found = by_ref.get(&r);
        if !linked.contains(&id) && found.is_none() {
            continue;
        }
        index.insert(id, view.nodes.len());
        view.nodes.push(GraphNode {
            resource: r,
            worst: found.and_then(|f| f.0),
            codes: found
                .map(|f| f.1.iter().copied().collect())
                .unwrap_or_default(),
        });
    }
    view.edges = edges
        .into_iter()
        .filter_map(|(a, b, e)| Some((*index.get(&a)?, *index.get(&b)?, e.as_str())))
        .collect();
    view
}

/// Exclude globs from the flags and the config file.
fn discovery(settings: &Settings) -> source::Discovery {
    let mut exclude = settings.exclude.clone();
    exclude.extend(settings.config.config.exclude.iter().cloned());
    source::Discovery { exclude }
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
fn rule_settings(settings: &Settings, store: &Store) -> Result<MeshSettings, String> {
    let cfg = &settings.config.config;
    let mesh = match &settings.mesh_config {
        Some(m) => m.clone(),
        None => store.mesh_config().cloned().unwrap_or_default(),
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
        loopback_dependencies: cfg.mesh.loopback_dependencies,
        external_name_alias: version::istiod_flag(store, "ENABLE_EXTERNAL_NAME_ALIAS"),
    })
}

fn severity_overrides(cfg: &LoadedConfig) -> Result<BTreeMap<&'static str, Severity>, String> {
    let mut out = BTreeMap::new();
    for (key, sev) in &cfg.config.severity {
        for m in resolve_rules(std::slice::from_ref(key))? {
            out.insert(m.code, *sev);
        }
    }
    Ok(out)
}

/// Where a suppression was written, to report it when it matches nothing.
struct Source {
    location: Location,
    resource: ResourceRef,
    what: String,
}

struct AnnotationRule {
    resource: usize,
    codes: BTreeSet<&'static str>,
    source: Option<Source>,
    used: bool,
}

struct ConfigRule<'a> {
    entry: &'a Suppression,
    code: &'static str,
    resource: Option<GlobMatcher>,
    file: Option<GlobMatcher>,
    index: usize,
    used: bool,
}

fn glob(pattern: &Option<String>) -> Option<GlobMatcher> {
    pattern
        .as_ref()
        .and_then(|p| Glob::new(p).ok())
        .map(|g| g.compile_matcher())
}

/// Drops suppressed findings; returns the rest and MESH001 findings for unused suppressions.
/// Findings on config dumps have no manifest resource, so only config `ignore:` entries apply.
struct Suppressed {
    raw: Vec<RawFinding>,
    dump: Vec<Finding>,
    unused: Vec<Finding>,
}

fn apply_suppressions(
    raw: Vec<RawFinding>,
    dump: Vec<Finding>,
    store: &Store,
    sources: &Sources,
    config: &LoadedConfig,
    enabled: &BTreeSet<&'static str>,
) -> Suppressed {
    let mut annotation_rules = Vec::new();
    let mut galley: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut unused = Vec::new();
    for (id, res) in store.iter() {
        if let Some(value) = res.annotations.get(IGNORE_ANNOTATION) {
            let path = FieldPath::parse("metadata.annotations").key(IGNORE_ANNOTATION);
            let location = locate(store, sources, &Target { resource: id, path });
            for key in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let codes: BTreeSet<&'static str> = if key == "*" || key.eq_ignore_ascii_case("all")
                {
                    RULES.iter().map(|r| r.meta().code).collect()
                } else {
                    match rules::find(key) {
                        Some(r) => [r.meta().code].into(),
                        None => {
                            unused.push(unused_finding(
                                location.clone(),
                                resource_ref(store, id),
                                format!("`{IGNORE_ANNOTATION}` names `{key}`, which is not a meshlint rule"),
                            ));
                            continue;
                        }
                    }
                };
                // Entries for rules that did not run cannot be judged unused.
                let everything = key == "*" || key.eq_ignore_ascii_case("all");
                let judged = codes.iter().all(|c| enabled.contains(c)) && !everything;
                annotation_rules.push(AnnotationRule {
                    resource: id,
                    codes,
                    source: judged.then(|| Source {
                        location: location.clone(),
                        resource: resource_ref(store, id),
                        what: format!("`{IGNORE_ANNOTATION}: {key}`"),
                    }),
                    used: false,
                });
            }
        }
        if let Some(value) = res.annotations.get(GALLEY_ANNOTATION) {
            galley.insert(
                id,
                value
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .collect::<Vec<_>>(),
            );
        }
    }
    let mut config_rules: Vec<ConfigRule<'_>> = config
        .config
        .ignore
        .iter()
        .enumerate()
        .filter_map(|(index, e)| match e {
            IgnoreEntry::Finding(s) => rules::find(&s.rule).map(|r| ConfigRule {
                entry: s,
                code: r.meta().code,
                resource: glob(&s.resource),
                file: glob(&s.file),
                index,
                used: false,
            }),
            IgnoreEntry::Rule(_) => None,
        })
        .collect();

    let mut kept = Vec::with_capacity(raw.len());
    for f in raw {
        let res = store.get(f.target.resource);
        // istio's `*` covers istio's analyzers, so only findings that have an istio code.
        let mut suppressed = galley.get(&f.target.resource).is_some_and(|codes| {
            codes.iter().any(|c| {
                (c == "*" && !f.istio_codes.is_empty()) || f.istio_codes.contains(&c.as_str())
            })
        });
        for a in annotation_rules
            .iter_mut()
            .filter(|a| a.resource == f.target.resource && a.codes.contains(f.code))
        {
            a.used = true;
            suppressed = true;
        }
        let label = resource_ref(store, f.target.resource).to_string();
        let file = &sources.files[res.file].path;
        suppressed |= config_suppresses(&mut config_rules, f.code, &label, file);
        if !suppressed {
            kept.push(f);
        }
    }
    let dump: Vec<Finding> = dump
        .into_iter()
        .filter(|f| {
            let label = f.resource.to_string();
            !config_suppresses(&mut config_rules, f.code, &label, &f.location.file)
        })
        .collect();

    for a in annotation_rules.into_iter().filter(|a| !a.used) {
        if let Some(src) = a.source {
            unused.push(unused_finding(
                src.location,
                src.resource,
                format!(
                    "{} suppresses nothing: no such finding on this resource",
                    src.what
                ),
            ));
        }
    }
    for c in config_rules
        .into_iter()
        .filter(|c| !c.used && enabled.contains(c.code))
    {
        let path = FieldPath::parse("ignore").index(c.index);
        let (line, column) = config.position(&path);
        let file = config.path.clone().unwrap_or_default();
        let scope = c
            .entry
            .resource
            .as_deref()
            .map_or(String::new(), |r| format!(" on `{r}`"));
        unused.push(unused_finding(
            Location {
                file: file.clone(),
                line,
                column,
                end_line: line,
                end_column: column,
                ..Location::default()
            },
            ResourceRef {
                kind: "MeshlintConfig".into(),
                namespace: String::new(),
                name: file,
            },
            format!(
                "ignore entry for {}{scope} suppresses nothing",
                c.entry.rule
            ),
        ));
    }
    Suppressed {
        raw: kept,
        dump,
        unused,
    }
}

/// Whether a config `ignore:` entry matches; marks the entries that do as used.
fn config_suppresses(rules: &mut [ConfigRule<'_>], code: &str, label: &str, file: &str) -> bool {
    let file = file.trim_start_matches("./");
    let mut hit = false;
    for c in rules.iter_mut().filter(|c| c.code == code) {
        let res_ok = c.resource.as_ref().is_none_or(|g| g.is_match(label));
        let file_ok = c.file.as_ref().is_none_or(|g| g.is_match(file));
        if res_ok && file_ok {
            c.used = true;
            hit = true;
        }
    }
    hit
}

fn unused_finding(location: Location, resource: ResourceRef, message: String) -> Finding {
    Finding {
        code: UNUSED_SUPPRESSION.code,
        name: UNUSED_SUPPRESSION.name,
        severity: UNUSED_SUPPRESSION.severity,
        message,
        help: Some("remove the stale entry so it cannot hide a future finding".into()),
        resource,
        location,
        related: Vec::new(),
        istio_codes: Vec::new(),
    }
}

pub fn resource_ref(store: &Store, id: usize) -> ResourceRef {
    let r = store.get(id);
    ResourceRef {
        kind: r.kind.clone(),
        namespace: if r.kind == "Namespace" {
            String::new()
        } else {
            r.namespace.clone()
        },
        name: r.name.clone(),
    }
}

/// The source position of a field; a missing field points at its nearest present parent.
pub fn locate(store: &Store, sources: &Sources, target: &Target) -> Location {
    let res = store.get(target.resource);
    let file = &sources.files[res.file];
    let (node, _) = res.node.lookup(&target.path);
    let pos = node.pos;
    let (end_line, end_column) =
        crate::source::pointer::end_of(&file.text, pos.offset, pos.len, pos.line, pos.column);
    Location {
        file: file.path.clone(),
        line: pos.line,
        column: pos.column,
        end_line,
        end_column,
        offset: pos.offset,
        len: pos.len,
        pointer: None,
    }
}

fn resolve(f: &RawFinding, store: &Store, sources: &Sources) -> Finding {
    let meta = rules::find(f.code)
        .map(|r| r.meta())
        .expect("findings come from registered rules");
    Finding {
        code: meta.code,
        name: meta.name,
        severity: f.severity,
        message: f.message.clone(),
        help: f.help.clone(),
        resource: resource_ref(store, f.target.resource),
        location: locate(store, sources, &f.target),
        related: f
            .related
            .iter()
            .map(|r| Related {
                message: r.message.clone(),
                location: locate(store, sources, &r.target),
            })
            .collect(),
        istio_codes: f.istio_codes.to_vec(),
    }
}

/// The predicted listeners of every scope: (label, namespace, workload names, rows).
pub struct ListenerView {
    pub scopes: Vec<(
        String,
        String,
        Vec<String>,
        Vec<crate::model::listener::Row>,
    )>,
    pub errors: Vec<InputError>,
}

/// Loads `paths` and predicts every scope's outbound listeners.
pub fn listeners(paths: &[String], settings: &Settings) -> Result<ListenerView, String> {
    listeners_with(paths, Vec::new(), settings)
}

/// Loads `paths` plus fetched inputs: predicted scopes, then each config dump's listeners.
pub fn listeners_with(
    paths: &[String],
    fetched: Fetched,
    settings: &Settings,
) -> Result<ListenerView, String> {
    let mut sources = source::load(paths, &discovery(settings));
    add_fetched(&mut sources, fetched);
    let dumps = crate::envoy::load::take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    let rs = rule_settings(settings, &store)?;
    let table = crate::mesh::table::ListenerTable::build(&store, &rs);
    let scopes = table
        .scopes
        .iter()
        .map(|s| {
            (
                s.scope.label(&store),
                s.scope.namespace.clone(),
                s.scope
                    .workloads
                    .iter()
                    .map(|&w| store.get(w).name.clone())
                    .collect(),
                crate::mesh::table::rows(&store, &table, s),
            )
        })
        .collect::<Vec<_>>();
    let mut scopes = scopes;
    for ld in &dumps {
        let node = ld.dump.node.clone().unwrap_or_default();
        scopes.push((
            crate::envoy::table::scope_label(&ld.dump, &sources.files[ld.file].path),
            node.namespace.clone(),
            if node.pod.is_empty() {
                Vec::new()
            } else {
                vec![node.pod.clone()]
            },
            crate::envoy::table::rows(&ld.dump),
        ));
    }
    let mut errors = sources.errors;
    errors.sort();
    Ok(ListenerView { scopes, errors })
}
