//! What a file is, told from its start: a JSON config dump is decoded by `envoy::load`,
//! everything else is parsed as YAML.
//!
//! A dump is told by markers only Envoy's output has, read from its first section or resource:
//! a list of Ansible tasks, a JSON patch, a pre-commit hook list or a values file with a
//! `configs` key is no dump. Reading stops as soon as the markers decide, so sniffing a 50 MB
//! dump reads a few hundred bytes.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Node, Value};

/// The first byte that is not whitespace (or a BOM).
pub fn first_significant(text: &str) -> Option<(usize, u8)> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skip = text.len() - t.len();
    t.bytes()
        .enumerate()
        .find(|(_, b)| !b.is_ascii_whitespace())
        .map(|(i, b)| (i + skip, b))
}

/// Whether a JSON text is a config dump: `{"configs": …}` whose first section is an Envoy
/// admin section, or an array whose first element is an Envoy resource.
pub fn json_is_dump(text: &str) -> bool {
    let Some((start, _)) = first_significant(text) else {
        return false;
    };
    verdict(&mut serde_json::Deserializer::from_str(&text[start..]))
}

/// Whether a YAML document is a config dump, by the same markers as [`json_is_dump`].
pub fn yaml_is_dump(root: &Node) -> bool {
    use serde_json::Value as J;
    let configs = match &root.value {
        Value::Seq(items) => {
            return verdict(J::Array(items.iter().take(1).map(Node::to_json).collect()));
        }
        Value::Map(entries) => entries.iter().find_map(|(k, v)| match k.as_str()? {
            "configs" => Some(Some(v)),
            k if OBJECT_KEYS.contains(&k) => Some(None),
            _ => None,
        }),
        _ => None,
    };
    // A section is read for its keys and `@type` only: the first may hold the whole dump.
    let section = |n: &Node| match &n.value {
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let k = k.scalar_text();
                    let v = if k == "@type" { v.to_json() } else { J::Null };
                    (k, v)
                })
                .collect(),
        ),
        _ => J::Null,
    };
    let head = match configs.flatten().map(|c| &c.value) {
        Some(Value::Seq(entries)) => J::Array(entries.iter().take(1).map(section).collect()),
        Some(Value::Map(entries)) => J::Object(
            entries
                .iter()
                .take(1)
                .map(|(k, v)| (k.scalar_text(), section(v)))
                .collect(),
        ),
        _ => return false,
    };
    verdict(J::Object(
        [("configs".to_string(), head)].into_iter().collect(),
    ))
}

/// Top-level keys of Kubernetes objects and lists; no dump has them.
const OBJECT_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "items"];

/// `@type` of the sections of `/config_dump` (`envoy.admin.v3.ListenersConfigDump`, …).
const ADMIN_TYPE: &str = "type.googleapis.com/envoy.admin.";

/// `@type` of Envoy resources (`envoy.config.listener.v3.Listener`, `envoy.api.v2.Cluster`).
const RESOURCE_TYPE: &str = "type.googleapis.com/envoy.";

/// Keys of a `configs` entry: a section, or one item of a section (`?resource=`).
const SECTION_KEYS: &[&str] = &[
    "bootstrap",
    "static_listeners",
    "dynamic_listeners",
    "dynamic_active_listeners",
    "dynamic_warming_listeners",
    "dynamic_draining_listeners",
    "static_clusters",
    "dynamic_active_clusters",
    "dynamic_warming_clusters",
    "static_route_configs",
    "dynamic_route_configs",
    "static_endpoint_configs",
    "dynamic_endpoint_configs",
    "active_state",
    "warming_state",
    "draining_state",
    "error_state",
    "route_config",
    "endpoint_config",
];

/// Keys only a Listener or a Cluster has.
const RESOURCE_KEYS: &[&str] = &[
    "filter_chains",
    "listener_filters",
    "default_filter_chain",
    "filter_chain_matcher",
    "internal_listener",
    "use_original_dst",
    "connect_timeout",
    "lb_policy",
    "eds_cluster_config",
    "load_assignment",
    "cluster_type",
    "circuit_breakers",
    "dns_lookup_family",
    "transport_socket_matches",
];

/// A Listener's `address` holds one of these.
const ADDRESS_KEYS: &[&str] = &["socket_address", "pipe", "envoy_internal_address"];

/// A Cluster's `type`.
const DISCOVERY_TYPES: &[&str] = &["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"];

/// Whether `key` is one of `keys`, spelled in snake_case or lowerCamelCase.
fn is_one_of(key: &str, keys: &[&str]) -> bool {
    keys.iter().any(|k| key == *k || key == camel(k))
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        match c {
            '_' => up = true,
            c if up => {
                out.push(c.to_ascii_uppercase());
                up = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// Set once the markers decide; reading then stops with an error that carries no meaning.
type Verdict<'a> = &'a Cell<Option<bool>>;

fn decide<E: de::Error>(verdict: Verdict, dump: bool) -> Result<(), E> {
    verdict.set(Some(dump));
    Err(E::custom("decided"))
}

/// Reads `d` until the markers decide; malformed input is no dump.
fn verdict<'de, D: Deserializer<'de>>(d: D) -> bool {
    let v = Cell::new(None);
    let _ = d.deserialize_any(Top(&v));
    v.get().unwrap_or(false)
}

/// A value read only as far as the tests need: a string's text, an object's keys, or its kind.
enum Shallow {
    Str(String),
    Map(Vec<String>),
    List,
    Other,
}

impl<'de> serde::Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shallow;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Shallow, E> {
                Ok(Shallow::Str(v.to_string()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_unit<E>(self) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Shallow, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Shallow::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Shallow, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = a.next_key::<String>()? {
                    a.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Shallow::Map(keys))
            }
        }
        d.deserialize_any(V)
    }
}

/// The document: `{"configs": …}` or a bare array of resources.
struct Top<'a>(Verdict<'a>);

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or an array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(k) = a.next_key::<String>()? {
            if k == "configs" {
                a.next_value_seed(FirstSection(self.0))?;
                return decide(self.0, false);
            }
            if OBJECT_KEYS.contains(&k.as_str()) {
                // Spares a `kubectl get -o json` list a scan to its end.
                return decide(self.0, false);
            }
            a.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        a.next_element_seed(Resource(self.0))?;
        decide(self.0, false)
    }
}

/// `configs`: its first entry (the first value when it is an object, as in Envoy ≤ 1.7).
struct FirstSection<'a>(Verdict<'a>);

impl<'de> DeserializeSeed<'de> for FirstSection<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstSection<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list or an object of config dump sections")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        a.next_element_seed(Section(self.0)).map(drop)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        if a.next_key::<IgnoredAny>()?.is_some() {
            a.next_value_seed(Section(self.0))?;
        }
        Ok(())
    }
}

/// A `configs` entry: its `@type` or a section key decides.
struct Section<'a>(Verdict<'a>);

impl<'de> DeserializeSeed<'de> for Section<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Section<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a config dump section")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(k) = a.next_key::<String>()? {
            if k == "@type" {
                let admin = matches!(a.next_value()?, Shallow::Str(t) if t.starts_with(ADMIN_TYPE));
                return decide(self.0, admin);
            }
            if is_one_of(&k, SECTION_KEYS) {
                return decide(self.0, true);
            }
            a.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// The first element of a bare array: a Listener, Cluster, RouteConfiguration or
/// ClusterLoadAssignment by its `@type` or keys only such a resource has.
struct Resource<'a>(Verdict<'a>);

impl<'de> DeserializeSeed<'de> for Resource<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Resource<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Envoy resource")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let (mut cluster_name, mut endpoints) = (false, false);
        while let Some(k) = a.next_key::<String>()? {
            if is_one_of(&k, RESOURCE_KEYS) {
                return decide(self.0, true);
            }
            let value: Shallow = a.next_value()?;
            let found = match (k.as_str(), value) {
                ("@type", Shallow::Str(t)) => return decide(self.0, t.starts_with(RESOURCE_TYPE)),
                ("address", Shallow::Map(keys)) => keys.iter().any(|k| is_one_of(k, ADDRESS_KEYS)),
                ("type", Shallow::Str(t)) => DISCOVERY_TYPES.contains(&t.as_str()),
                ("virtual_hosts" | "virtualHosts", Shallow::List) => true,
                ("cluster_name" | "clusterName", Shallow::Str(_)) => {
                    cluster_name = true;
                    endpoints
                }
                ("endpoints", Shallow::List) => {
                    endpoints = true;
                    cluster_name
                }
                _ => false,
            };
            if found {
                return decide(self.0, true);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> bool {
        let docs = crate::source::yaml::parse_stream(text).expect("yaml");
        yaml_is_dump(&docs[0])
    }

    #[test]
    fn detects_dumps_by_their_markers() {
        for dump in [
            "  {\n  \"configs\": [{\"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\"}]}",
            "{\"configs\": {\"listeners\": {\"dynamicActiveListeners\": []}}}",
            "{\"configs\": [{\"version_info\": \"1\", \"dynamic_listeners\": []}]}",
            "[{\"name\": \"0.0.0.0_80\", \"address\": {\"socket_address\": {}}}]",
            "[{\"name\": \"l\", \"filterChains\": []}]",
            "[{\"name\": \"c\", \"type\": \"EDS\"}]",
            "[{\"@type\": \"type.googleapis.com/envoy.config.cluster.v3.Cluster\"}]",
            "[{\"name\": \"r\", \"virtualHosts\": [{\"domains\": [\"*\"]}]}]",
            "[{\"clusterName\": \"c\", \"endpoints\": []}]",
            "\u{feff}[{\"connect_timeout\": \"1s\"}]",
        ] {
            assert!(json_is_dump(dump), "{dump}");
        }
        for other in [
            "{\"apiVersion\": \"v1\", \"kind\": \"Service\"}",
            "{\"kind\": \"X\", \"configs\": [{\"@type\": \"type.googleapis.com/envoy.admin.v3.X\"}]}",
            "[{\"kind\": \"Service\"}]",
            "[\n  {\"op\": \"replace\", \"path\": \"/spec/type\", \"value\": \"NodePort\"}]",
            "[{\"name\": \"install\", \"apt\": {\"name\": \"nginx\"}}]",
            "[{\"name\": \"web\", \"address\": \"10.0.0.1\", \"type\": \"server\"}]",
            "[{\"clusterName\": \"c\"}]",
            "[1, 2]",
            "[]",
            "{\"configs\": []}",
            "{\"configs\": [{\"name\": \"a\", \"value\": 1}]}",
            "{\"configs\": [{\"@type\": \"type.googleapis.com/google.protobuf.Struct\", \"bootstrap\": {}}]}",
            "{\"replicaCount\": 2, \"configs\": {\"cm\": {\"data\": 1}}}",
            "{\"configs\": [{\"@type\": ",
            "kind: Service\n",
            "",
        ] {
            assert!(!json_is_dump(other), "{other}");
        }
    }

    #[test]
    fn yaml_documents_are_told_by_the_same_markers() {
        assert!(yaml(
            "configs:\n- '@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump\n"
        ));
        assert!(yaml(
            "- name: 10.0.0.1_80\n  address: {socketAddress: {address: 10.0.0.1}}\n"
        ));
        assert!(!yaml("- name: install nginx\n  apt: {name: nginx}\n"));
        assert!(!yaml("- hosts: all\n  tasks: [{name: a}]\n"));
        assert!(!yaml(
            "- id: meshlint\n  name: meshlint\n  entry: meshlint check\n  language: rust\n"
        ));
        assert!(!yaml("configs:\n  cm: {data: 1}\nreplicaCount: 2\n"));
        assert!(!yaml("kind: Service\n"));
        assert!(!yaml(
            "kind: X\nconfigs:\n- '@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump\n"
        ));
    }

    #[test]
    fn sniffing_stops_at_the_first_section() {
        // Everything after the first section's `@type` is left unread, even when invalid.
        assert!(json_is_dump(
            "{\"configs\": [{\"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\", \"bootstrap\": ["
        ));
    }
}
