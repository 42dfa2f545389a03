//! Config dumps: parsing (JSON directly with serde_json, YAML through the positioned loader)
//! and taking them out of the loaded sources before the manifests are modelled.

use crate::source::{FileId, InputError, Node, Sources, Value, sniff};

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, SeqAccess, Visitor};

use super::model::{ArrayDump, Dump, RawDump};

/// A dump read from one input file.
#[derive(Clone, Debug)]
pub struct LoadedDump {
    pub file: FileId,
    pub dump: Dump,
    /// The positioned tree, when the dump was YAML.
    pub yaml: Option<Node>,
}

/// Keys dumps have, in snake_case and in lowerCamelCase (counted near the start of the text).
const SPELLINGS: &[(&str, &str)] = &[
    ("socket_address", "socketAddress"),
    ("port_value", "portValue"),
    ("filter_chains", "filterChains"),
    ("dynamic_active_listeners", "dynamicActiveListeners"),
    ("dynamic_active_clusters", "dynamicActiveClusters"),
    ("dynamic_listeners", "dynamicListeners"),
    ("static_listeners", "staticListeners"),
    ("active_state", "activeState"),
    ("static_clusters", "staticClusters"),
    ("cluster_name", "clusterName"),
    ("lb_endpoints", "lbEndpoints"),
    ("virtual_hosts", "virtualHosts"),
];

/// Whether the document spells its keys in lowerCamelCase: more of its keys are spelled so
/// than in snake_case. Counting keys, not looking for a name, keeps a camelCase name inside a
/// string (a plugin's JSON config) from giving a snake_case dump pointers that lead nowhere.
pub fn is_camel(text: &str) -> bool {
    let head = match text.char_indices().nth(1 << 20) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let keys = |name: &str| {
        head.match_indices(name)
            .filter(|(i, _)| is_key(&head[i + name.len()..]))
            .count()
    };
    let (snake, camel) = SPELLINGS.iter().fold((0, 0), |(s, c), (snake, camel)| {
        (s + keys(snake), c + keys(camel))
    });
    camel > snake
}

/// Whether what follows a name makes it a key: a colon, after the closing quote if any (an
/// escaped quote is a string's content).
fn is_key(rest: &str) -> bool {
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    rest.trim_start_matches([' ', '\t']).starts_with(':')
}

/// A parse failure with its position (1-based; 0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses a JSON config dump.
pub fn parse_json(text: &str) -> Result<Dump, DumpError> {
    let camel = is_camel(text);
    let err = |e: serde_json::Error| DumpError {
        line: e.line() as u32,
        column: e.column() as u32,
        message: format!("invalid config dump JSON: {e}"),
    };
    match sniff::first_significant(text) {
        Some((_, b'[')) => {
            let mut dump = ArrayDump::new(camel);
            let mut failed = None;
            let mut de = serde_json::Deserializer::from_str(text);
            let read = de
                .deserialize_seq(Items {
                    dump: &mut dump,
                    failed: &mut failed,
                })
                .and_then(|()| de.end());
            if let Some(message) = failed {
                return Err(DumpError {
                    line: 0,
                    column: 0,
                    message,
                });
            }
            read.map_err(err)?;
            Ok(dump.finish())
        }
        _ => {
            let raw: RawDump = serde_json::from_str(text).map_err(err)?;
            Ok(Dump::from_raw(raw, camel))
        }
    }
}

/// Reads a bare array item by item into an [`ArrayDump`]; why an item is refused goes to
/// `failed`, not into a JSON syntax error.
struct Items<'a> {
    dump: &'a mut ArrayDump,
    failed: &'a mut Option<String>,
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Envoy resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(v) = a.next_element::<serde_json::Value>()? {
            if let Err(m) = self.dump.push(v) {
                *self.failed = Some(m);
                return Err(de::Error::custom("refused"));
            }
        }
        Ok(())
    }
}

/// If a YAML document is a config dump, its model (or why it is not a valid one).
pub fn from_yaml(root: &Node, text: &str) -> Option<Result<Dump, String>> {
    if !sniff::yaml_is_dump(root) {
        return None;
    }
    let camel = is_camel(text);
    Some(match &root.value {
        Value::Seq(items) => Dump::from_array(items.iter().map(Node::to_json), camel),
        _ => serde_json::from_value::<RawDump>(root.to_json())
            .map(|raw| Dump::from_raw(raw, camel))
            .map_err(|e| format!("invalid config dump: {e}")),
    })
}

/// Takes the config dumps out of `sources`: the files the loader recognised as JSON dumps, and
/// the YAML documents that are dumps. What remains are the manifests. A dump that does not
/// decode becomes an input error.
pub fn take_dumps(sources: &mut Sources) -> Vec<LoadedDump> {
    let mut dumps = Vec::new();
    for &file in &sources.dump_files {
        let f = &sources.files[file];
        match parse_json(&f.text) {
            Ok(dump) => dumps.push(LoadedDump {
                file,
                dump,
                yaml: None,
            }),
            Err(e) => sources.errors.push(InputError {
                file: f.path.clone(),
                line: e.line,
                column: e.column,
                message: e.message,
            }),
        }
    }
    let documents = std::mem::take(&mut sources.documents);
    for doc in documents {
        let f = &sources.files[doc.file];
        match from_yaml(&doc.root, &f.text) {
            Some(Ok(dump)) => dumps.push(LoadedDump {
                file: doc.file,
                dump,
                yaml: Some(doc.root),
            }),
            Some(Err(message)) => sources.errors.push(InputError {
                file: f.path.clone(),
                line: doc.root.pos.line,
                column: doc.root.pos.column,
                message,
            }),
            None => sources.documents.push(doc),
        }
    }
    dumps.sort_by_key(|d| d.file);
    dumps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_is_detected() {
        assert!(is_camel("{\"socketAddress\": {}}"));
        assert!(is_camel("- address: {socketAddress: {portValue: 80}}"));
        assert!(!is_camel("{\"socket_address\": {}}"));
        // Names in string values are no keys.
        assert!(!is_camel(
            "{\"config\": \"{\\\"clusterName\\\": 1}\", \"socket_address\": {}}"
        ));
        assert!(!is_camel(
            "{\"plugin\": \"{'virtualHosts': 1, 'portValue': 2}\", \"port_value\": 80, \"cluster_name\": \"c\"}"
        ));
    }
}
