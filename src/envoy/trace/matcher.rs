//! Filter-chain selection by `filter_chain_matcher`: the unified matcher tree, evaluated on the
//! inputs the connection and the listener filters provide.

use std::net::IpAddr;

use serde_json::Value as J;

use super::{ChainChoice, ChainRef, Connection, Detected, source_is_local};
use crate::envoy::model::{CidrRange, FilterChain, Listener, camel_case};

/// Deeper trees are taken as malformed rather than followed.
const MAX_DEPTH: usize = 32;

/// A field of a JSON object under its snake_case or lowerCamelCase name.
fn jget<'a>(v: &'a J, key: &str) -> Option<&'a J> {
    v.get(key).or_else(|| v.get(camel_case(key)))
}

fn matcher_input(input: &J, conn: &Connection, seen: &Detected) -> Result<String, String> {
    let t = jget(input, "typed_config")
        .and_then(|t| t.get("@type"))
        .and_then(J::as_str)
        .unwrap_or("");
    let kind = t.rsplit('.').next().unwrap_or("");
    Ok(match kind {
        "DestinationIPInput" => conn.dest.to_string(),
        "DestinationPortInput" => conn.port.to_string(),
        "ServerNameInput" => seen.sni.clone().unwrap_or_default(),
        "TransportProtocolInput" => seen.transport.clone(),
        "ApplicationProtocolInput" => seen
            .alpn
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(","),
        "SourceIPInput" | "DirectSourceIPInput" => conn
            .source
            .map(|s| s.to_string())
            .ok_or_else(|| "the matcher reads the source IP; give --source".to_string())?,
        "SourceTypeInput" => {
            if source_is_local(conn).unwrap_or(false) {
                "local".into()
            } else {
                String::new()
            }
        }
        other => return Err(format!("matcher input {other} is not simulated")),
    })
}

/// One evaluation of a matcher tree; `notes` records each decision on the way.
struct Eval<'a> {
    conn: &'a Connection,
    seen: &'a Detected,
    notes: Vec<String>,
}

type Yield = Result<Option<String>, String>;

impl Eval<'_> {
    fn input(&self, input: &J) -> Result<String, String> {
        matcher_input(input, self.conn, self.seen)
    }

    /// Evaluates a unified matcher; returns the chain name it yields (None: no match).
    fn matcher(&mut self, m: &J, depth: usize) -> Yield {
        if depth > MAX_DEPTH {
            return Err("matcher nested too deeply".into());
        }
        let mut result = None;
        if let Some(tree) = jget(m, "matcher_tree") {
            result = self.tree(tree, depth)?;
        } else if let Some(list) = jget(m, "matcher_list") {
            result = self.list(list, depth)?;
        }
        if result.is_none()
            && let Some(om) = jget(m, "on_no_match")
        {
            self.notes.push("no match: on_no_match".into());
            result = self.on_match(om, depth)?;
        }
        Ok(result)
    }

    /// An `OnMatch`: the action's chain name, or the nested matcher's result.
    fn on_match(&mut self, om: &J, depth: usize) -> Yield {
        if let Some(a) = jget(om, "action") {
            let name = jget(a, "typed_config")
                .and_then(|t| t.get("value"))
                .and_then(J::as_str)
                .or_else(|| a.get("name").and_then(J::as_str));
            return Ok(name.map(str::to_string));
        }
        if let Some(inner) = jget(om, "matcher") {
            return self.matcher(inner, depth + 1);
        }
        Ok(None)
    }

    fn tree(&mut self, tree: &J, depth: usize) -> Yield {
        let input = jget(tree, "input").ok_or("matcher_tree without input")?;
        let value = self.input(input)?;
        let iname = input.get("name").and_then(J::as_str).unwrap_or("input");
        if let Some(map) = jget(tree, "exact_match_map").and_then(|e| e.get("map")) {
            if let Some(om) = map.get(&value) {
                self.notes.push(format!("{iname} = {value:?}: exact match"));
                return self.on_match(om, depth);
            }
            self.notes
                .push(format!("{iname} = {value:?}: no exact match"));
            Ok(None)
        } else if let Some(map) = jget(tree, "prefix_match_map").and_then(|e| e.get("map")) {
            let best = map
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| value.starts_with(k.as_str()))
                .max_by_key(|(k, _)| k.len());
            let Some((k, om)) = best else {
                return Ok(None);
            };
            self.notes
                .push(format!("{iname} = {value:?}: prefix {k:?}"));
            self.on_match(om, depth)
        } else if let Some(custom) = jget(tree, "custom_match") {
            self.ip_ranges(custom, iname, &value, depth)
        } else {
            Err("matcher_tree kind is not simulated".into())
        }
    }

    /// A `custom_match` IP matcher: the longest range containing the value wins.
    fn ip_ranges(&mut self, custom: &J, iname: &str, value: &str, depth: usize) -> Yield {
        let ip: Option<IpAddr> = value.parse().ok();
        let ranges = jget(custom, "typed_config")
            .and_then(|t| jget(t, "range_matchers"))
            .and_then(J::as_array)
            .ok_or("custom matcher is not an IP matcher")?;
        let mut best: Option<(u32, &J)> = None;
        for rm in ranges {
            for r in jget(rm, "ranges")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
            {
                let cidr: CidrRange = serde_json::from_value(r.clone()).unwrap_or_default();
                if ip.is_some_and(|ip| cidr.contains(ip))
                    && best.is_none_or(|(l, _)| cidr.len() > l)
                {
                    best = Some((cidr.len(), rm));
                }
            }
        }
        let Some((len, rm)) = best else {
            self.notes.push(format!("{iname} = {value}: in no range"));
            return Ok(None);
        };
        self.notes.push(format!("{iname} = {value}: range /{len}"));
        match jget(rm, "on_match") {
            Some(om) => self.on_match(om, depth),
            None => Ok(None),
        }
    }

    /// A `matcher_list`: the first matcher whose predicate holds.
    fn list(&mut self, list: &J, depth: usize) -> Yield {
        for fm in jget(list, "matchers")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let pred = jget(fm, "predicate").ok_or("matcher without predicate")?;
            let single =
                jget(pred, "single_predicate").ok_or("only single predicates are simulated")?;
            let input = jget(single, "input").ok_or("predicate without input")?;
            let value = self.input(input)?;
            let vm = jget(single, "value_match").ok_or("only value_match is simulated")?;
            let hit = if let Some(e) = vm.get("exact").and_then(J::as_str) {
                value == e
            } else if let Some(p) = vm.get("prefix").and_then(J::as_str) {
                value.starts_with(p)
            } else if let Some(s) = vm.get("suffix").and_then(J::as_str) {
                value.ends_with(s)
            } else {
                return Err("string matcher kind is not simulated".into());
            };
            if hit && let Some(om) = jget(fm, "on_match") {
                return self.on_match(om, depth);
            }
        }
        Ok(None)
    }
}

pub(super) fn select_by_matcher(
    listener: &Listener,
    m: &J,
    conn: &Connection,
    seen: &Detected,
) -> ChainChoice {
    let mut eval = Eval {
        conn,
        seen,
        notes: Vec::new(),
    };
    let result = eval.matcher(m, 0);
    let mut notes = eval.notes;
    let name = match result {
        Ok(Some(name)) => name,
        Ok(None) => return default_or_closed(listener, notes),
        Err(e) => {
            notes.push(e);
            return ChainChoice {
                chosen: None,
                how: "filter_chain_matcher could not be simulated".into(),
                passed: Vec::new(),
                notes,
            };
        }
    };
    let named = |c: &FilterChain| c.name.as_deref() == Some(name.as_str());
    let chosen = if let Some(i) = listener.filter_chains.iter().position(named) {
        ChainRef::Index(i)
    } else if listener.default_chain().is_some_and(named) {
        ChainRef::Default
    } else {
        notes.push(format!(
            "the matcher names chain {name}, which the listener does not have"
        ));
        return default_or_closed(listener, notes);
    };
    ChainChoice {
        chosen: Some(chosen),
        how: format!("filter_chain_matcher → {name}"),
        passed: Vec::new(),
        notes,
    }
}

fn default_or_closed(listener: &Listener, notes: Vec<String>) -> ChainChoice {
    if listener.default_filter_chain.is_some() {
        ChainChoice {
            chosen: Some(ChainRef::Default),
            how: "filter_chain_matcher matched nothing: default_filter_chain".into(),
            passed: Vec::new(),
            notes,
        }
    } else {
        ChainChoice {
            chosen: None,
            how: "filter_chain_matcher matched nothing and there is no default_filter_chain: Envoy closes the connection".into(),
            passed: Vec::new(),
            notes,
        }
    }
}
