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
    for key in split_keys(keys) {
        if key.eq_ignore_ascii_case("all") {
            out.extend(RULES.iter().map(|r| r.meta()));
            continue;
        }
        if let Some(r) = rules::find(key) {
            out.push(r.meta());
            continue;
        }
        if is_ist(key) {
            let upper = key.to_ascii_uppercase();
            let covering: Vec<_> = RULES
                .iter()
                .map(|r| r.meta())
                .filter(|m| m.istio_codes.contains(&upper.as_str()))
                .collect();
            if covering.is_empty() {
                return Err(format!(
                    "no meshlint rule reports istioctl's `{upper}` (`meshlint rules --format json` lists the IST codes of every rule)"
                ));
            }
            out.extend(covering);
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

/// Whether `key` is an istioctl message code (`IST0118`).
pub fn is_ist(key: &str) -> bool {
    key.len() == 7
        && key[..3].eq_ignore_ascii_case("IST")
        && key[3..].chars().all(|c| c.is_ascii_digit())
}

/// The keys of `--select`/`--ignore` style lists, split at commas.
fn split_keys(lists: &[String]) -> impl Iterator<Item = &str> {
    lists
        .iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Selection by istioctl code, applied to findings: `--select IST0118` keeps the findings that
/// carry IST0118 (and those of rules selected by code or name), `--ignore IST0136` drops the
/// findings that carry IST0136 — a rule with several IST codes keeps its other findings.
#[derive(Debug, Default)]
pub struct IstFilter {
    select: BTreeSet<String>,
    /// Rules selected by their own code or name beside IST codes.
    rules: BTreeSet<&'static str>,
    ignore: BTreeSet<String>,
}

impl IstFilter {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let upper = |k: &str| k.to_ascii_uppercase();
        // As for rules: `--select` replaces the config file's `select`.
        let chosen = if split_keys(&settings.select).next().is_some() {
            &settings.select
        } else {
            &settings.config.config.select
        };
        let select: BTreeSet<String> = split_keys(chosen)
            .filter(|k| is_ist(k))
            .map(upper)
            .collect();
        let others: Vec<String> = split_keys(chosen)
            .filter(|k| !is_ist(k))
            .map(str::to_string)
            .collect();
        // Rules added with `extend-select` keep all their findings.
        let extended: Vec<String> = split_keys(&settings.extend_select)
            .chain(split_keys(&settings.config.config.extend_select))
            .map(str::to_string)
            .collect();
        let rules = resolve_rules(&others)?
            .iter()
            .chain(resolve_rules(&extended)?.iter())
            .map(|m| m.code)
            .collect();
        let mut ignore: BTreeSet<String> = split_keys(&settings.ignore)
            .filter(|k| is_ist(k))
            .map(upper)
            .collect();
        ignore.extend(
            settings
                .config
                .config
                .ignore
                .iter()
                .filter_map(|e| match e {
                    IgnoreEntry::Rule(r) if is_ist(r) => Some(upper(r)),
                    _ => None,
                }),
        );
        Ok(Self {
            select,
            rules,
            ignore,
        })
    }

    pub fn keep(&self, code: &str, istio_codes: &[&str]) -> bool {
        let carries = |set: &BTreeSet<String>| istio_codes.iter().any(|c| set.contains(*c));
        (self.select.is_empty() || self.rules.contains(code) || carries(&self.select))
            && !carries(&self.ignore)
    }
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
        RULES
            .iter()
            .map(|r| r.meta())
            .filter(|m| !m.opt_in)
            .map(|m| m.code)
            .collect()
    } else {
        resolve_rules(select)?.iter().map(|m| m.code).collect()
    };
    let extended: Vec<String> = split_keys(&settings.extend_select)
        .chain(split_keys(&cfg.extend_select))
        .map(str::to_string)
        .collect();
    enabled.extend(resolve_rules(&extended)?.iter().map(|m| m.code));
    // IST codes are ignored finding by finding (`IstFilter`), not by turning rules off.
    let mut ignored: Vec<String> = split_keys(&settings.ignore)
        .filter(|k| !is_ist(k))
        .map(str::to_string)
        .collect();
    ignored.extend(cfg.ignore.iter().filter_map(|e| match e {
        IgnoreEntry::Rule(r) if !is_ist(r) => Some(r.clone()),
        _ => None,
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
