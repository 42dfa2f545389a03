//! Strict typed decoding of a positioned tree.
//!
//! serde's derived structs also accept a sequence, read as their fields in order, so through
//! `serde_json::Value` `ports: [[5701, tcp, TCP]]` would be a port; and serde's wording
//! ("untagged enum", "expected struct PortSpec") names Rust types. This deserializer reads a
//! [`Node`] as the type asks for it: a struct or a map only from a mapping, a list only from a
//! sequence, a string only from a string. Every error carries the path of its field and says what
//! was expected and what was found.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};

use crate::source::{FieldPath, Node, Seg, Value};

/// A field that does not decode, and why (`expected …, found …`).
pub type DecodeError = (FieldPath, String);

#[derive(Debug)]
pub struct Error {
    /// The path below the decoded node, innermost segment first.
    rev: Vec<Seg>,
    message: String,
}

impl Error {
    fn at(mut self, seg: Seg) -> Self {
        self.rev.push(seg);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            rev: Vec::new(),
            message: msg.to_string(),
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!("expected {exp}, found {}", found(unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            rev: vec![Seg::Key(field.to_string())],
            message: "required, found nothing".into(),
        }
    }
}

/// What a message says was found: the value itself for a scalar, its kind otherwise.
pub fn found(unexp: Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("`{b}`"),
        Unexpected::Signed(i) => format!("`{i}`"),
        Unexpected::Unsigned(u) => format!("`{u}`"),
        Unexpected::Float(f) => format!("`{f}`"),
        Unexpected::Str(s) => {
            const MAX: usize = 40;
            match s.char_indices().nth(MAX) {
                Some((cut, _)) => format!("`\"{}…\"`", &s[..cut]),
                None => format!("`\"{s}\"`"),
            }
        }
        Unexpected::Unit | Unexpected::Option => "null".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a mapping".into(),
        other => other.to_string(),
    }
}

/// A node as serde describes an unexpected value.
pub fn unexpected(node: &Node) -> Unexpected<'_> {
    match &node.value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Str(s) => Unexpected::Str(s),
        Value::Seq(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
    }
}

/// `expected {what}, found …` for `node`.
pub fn expected(what: &str, node: &Node) -> String {
    format!("expected {what}, found {}", found(unexpected(node)))
}

/// Decodes `node`, which is at `at` in its document.
pub fn decode_node<T: DeserializeOwned>(node: &Node, at: &FieldPath) -> Result<T, DecodeError> {
    T::deserialize(Strict(node)).map_err(|e| {
        let mut path = at.clone();
        path.0.extend(e.rev.into_iter().rev());
        (path, e.message)
    })
}

/// A [`Node`] as a strict serde deserializer.
#[derive(Clone, Copy)]
pub struct Strict<'a>(pub &'a Node);

impl Strict<'_> {
    fn refuse(self, what: &str) -> Error {
        de::Error::custom(expected(what, self.0))
    }

    /// An integer; a float without a fraction counts, as `kubectl` sends YAML's `80.0` as `80`.
    fn int(self) -> Option<i64> {
        match self.0.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(f as i64),
            _ => None,
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self.int() {
                Some(i) => v.visit_i64(i),
                None => Err(self.refuse("an integer")),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Strict<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.0.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(f) => v.visit_f64(*f),
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Seq(items) => v.visit_seq(Items(items.iter().enumerate())),
            Value::Map(entries) => v.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Bool(b) => v.visit_bool(b),
            _ => Err(self.refuse("`true` or `false`")),
        }
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Int(i) => v.visit_f64(i as f64),
            Value::Float(f) => v.visit_f64(f),
            _ => Err(self.refuse("a number")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.0.value {
            Value::Str(s) => v.visit_borrowed_str(s),
            _ => Err(self.refuse("a string")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Null => v.visit_unit(),
            _ => Err(self.refuse("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Seq(_) => self.deserialize_any(v),
            _ => Err(self.refuse("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Map(_) => self.deserialize_any(v),
            _ => Err(self.refuse("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! { i128 u128 bytes byte_buf enum identifier }
}

struct Items<'a>(std::iter::Enumerate<std::slice::Iter<'a, Node>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some((i, item)) => seed
                .deserialize(Strict(item))
                .map(Some)
                .map_err(|e| e.at(Seg::Index(i))),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, &'a Node)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (k, v) in self.iter.by_ref() {
            // A null field is an unset field, as the Kubernetes API reads it (`env:` with
            // nothing under it, common in Helm output).
            if matches!(v.value, Value::Null) {
                continue;
            }
            self.value = Some((k, v));
            let key = match &k.value {
                Value::Str(s) => seed.deserialize(BorrowedStrDeserializer::new(s)),
                // Kubernetes' YAML-to-JSON conversion turns other keys into strings.
                _ => seed.deserialize(k.scalar_text().into_deserializer()),
            };
            return key
                .map(Some)
                .map_err(|e: Error| e.at(Seg::Key(k.scalar_text())));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (k, v) = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value without its key"))?;
        seed.deserialize(Strict(v))
            .map_err(|e| e.at(Seg::Key(k.scalar_text())))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Port {
        number: i64,
        name: String,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Spec {
        ports: Vec<Port>,
        labels: BTreeMap<String, String>,
        any: Option<serde_json::Value>,
    }

    fn decode(yaml: &str) -> Result<Spec, String> {
        let docs = crate::source::parse_yaml(yaml).expect("parses");
        decode_node::<Spec>(&docs[0], &FieldPath::parse("spec"))
            .map_err(|(path, message)| format!("{path}: {message}"))
    }

    #[test]
    fn a_list_is_no_struct() {
        assert_eq!(
            decode("ports: [[5701, tcp]]\n").unwrap_err(),
            "spec.ports[0]: expected a mapping, found a list"
        );
        assert_eq!(
            decode("ports: {number: 1}\n").unwrap_err(),
            "spec.ports: expected a list, found a mapping"
        );
    }

    #[test]
    fn scalars_keep_their_type_and_say_what_was_found() {
        assert_eq!(
            decode("ports: [{name: 5}]\n").unwrap_err(),
            "spec.ports[0].name: expected a string, found `5`"
        );
        assert_eq!(
            decode("ports: [{number: \"80\"}]\n").unwrap_err(),
            "spec.ports[0].number: expected an integer, found `\"80\"`"
        );
        assert_eq!(
            decode("labels: {app: [a]}\n").unwrap_err(),
            "spec.labels.app: expected a string, found a list"
        );
    }

    #[test]
    fn nulls_are_unset_and_whole_floats_are_integers() {
        let spec = decode("ports: [{number: 80.0, name: null}]\nlabels: {a: null}\n").unwrap();
        assert_eq!(
            spec.ports,
            vec![Port {
                number: 80,
                name: String::new()
            }]
        );
        assert!(spec.labels.is_empty());
    }

    #[test]
    fn untyped_fields_take_anything() {
        let spec = decode("any: {a: [1, x, {b: true}], n: null}\n").unwrap();
        assert_eq!(
            spec.any,
            Some(serde_json::json!({"a": [1, "x", {"b": true}]}))
        );
    }
}
