//! Which rules run (`--select`, `--ignore`, the config file) and severity overrides.

use std::collections::{BTreeMap, BTreeSet};

use globset::Glob;

use crate::config::{IgnoreEntry, LoadedConfig};
use crate::diagnostic::Severity;
use crate::rules::{self, RULES, RuleMeta};
use crate::source::FieldPath;

use super::Settings;

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
            return Err(rules::unknown_rule(key));
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
                "{}: {} in ignore entry",
                at("rule"),
                rules::unknown_rule(&s.rule)
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

pub fn severity_overrides(cfg: &LoadedConfig) -> Result<BTreeMap<&'static str, Severity>, String> {
    let mut out = BTreeMap::new();
    for (key, sev) in &cfg.config.severity {
        let resolved = resolve_rules(std::slice::from_ref(key)).map_err(|e| {
            let pos = cfg
                .root
                .as_ref()
                .and_then(|r| r.key_pos(&FieldPath::parse("severity").key(key.as_str())));
            match (&cfg.path, pos) {
                (Some(file), Some(p)) => {
                    format!("{file}:{}:{}: {e} in `severity`", p.line, p.column)
                }
                _ => e,
            }
        })?;
        for m in resolved {
            out.insert(m.code, *sev);
        }
    }
    Ok(out)
}
