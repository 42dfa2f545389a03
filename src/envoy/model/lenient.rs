//! Lenient field readers: proto3 JSON wrappers and polymorphic values of any shape.
//!
//! One visitor, [`read`], serves every field. A [`Shape`] says what a field takes from each kind
//! of value; null and every kind it does not take read as the default (`None`, empty), the value
//! being drained so parsing carries on after it. The named readers below are the shapes the
//! model's `deserialize_with` attributes use.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor,
};

/// A value that is neither an object nor a list.
#[derive(Clone, Copy)]
pub enum Scalar<'a> {
    Str(&'a str),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar<'_> {
    /// serde's "invalid type" error, for the few shapes that reject a scalar outright.
    pub fn refuse<E: de::Error>(self, expected: &str) -> E {
        let unexpected = match self {
            Scalar::Str(s) => Unexpected::Str(s),
            Scalar::Unsigned(n) => Unexpected::Unsigned(n),
            Scalar::Signed(n) => Unexpected::Signed(n),
            Scalar::Float(n) => Unexpected::Float(n),
            Scalar::Bool(b) => Unexpected::Bool(b),
        };
        E::invalid_type(unexpected, &expected)
    }
}

/// What a field reads from each kind of value; the defaults skip it.
pub trait Shape {
    type Value: Default;
    /// What serde's messages say was expected.
    const EXPECTING: &'static str;

    fn scalar<E: de::Error>(_: Scalar<'_>) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }

    fn map<'de, A: MapAccess<'de>>(mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::Value::default())
    }

    fn seq<'de, A: SeqAccess<'de>>(mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::Value::default())
    }
}

/// Reads a value of shape `S`, whatever its kind.
pub fn read<'de, S: Shape, D: Deserializer<'de>>(d: D) -> Result<S::Value, D::Error> {
    d.deserialize_any(Reader::<S>(PhantomData))
}

struct Reader<S>(PhantomData<S>);

impl<'de, S: Shape> Visitor<'de> for Reader<S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(S::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        S::scalar(Scalar::Str(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        S::scalar(Scalar::Unsigned(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        S::scalar(Scalar::Signed(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Value, E> {
        S::scalar(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Value, E> {
        S::scalar(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        Ok(S::Value::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<S::Value, E> {
        Ok(S::Value::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<S::Value, A::Error> {
        S::map(a)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<S::Value, A::Error> {
        S::seq(a)
    }
}

/// A value of shape `S` as a type, for list elements and nested values.
pub struct Lenient<S: Shape>(pub S::Value);

impl<'de, S: Shape> Deserialize<'de> for Lenient<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read::<S, D>(d).map(Lenient)
    }
}

/// `{"value": x}`, how old dumps wrap numbers and bools: `x` read as `S`, other keys ignored.
fn wrapped<'de, S: Shape, A: MapAccess<'de>>(mut a: A) -> Result<S::Value, A::Error> {
    let mut out = S::Value::default();
    while let Some(k) = a.next_key::<String>()? {
        if k == "value" {
            out = a.next_value::<Lenient<S>>()?.0;
        } else {
            a.next_value::<IgnoredAny>()?;
        }
    }
    Ok(out)
}

/// A string; a number reads as its decimal text.
pub enum Text {}

impl Shape for Text {
    type Value = Option<String>;
    const EXPECTING: &'static str = "a string";

    fn scalar<E: de::Error>(v: Scalar<'_>) -> Result<Option<String>, E> {
        Ok(match v {
            Scalar::Str(s) => Some(s.to_string()),
            Scalar::Unsigned(n) => Some(n.to_string()),
            Scalar::Signed(n) => Some(n.to_string()),
            Scalar::Float(_) | Scalar::Bool(_) => None,
        })
    }
}

/// A `u32` (proto3 JSON may quote it, and old dumps wrap it as `{"value": n}`); out of range
/// is skipped.
pub enum Number {}

impl Shape for Number {
    type Value = Option<u32>;
    const EXPECTING: &'static str = "a number";

    fn scalar<E: de::Error>(v: Scalar<'_>) -> Result<Option<u32>, E> {
        let n = match v {
            Scalar::Unsigned(n) => Some(n),
            Scalar::Signed(n) => u64::try_from(n).ok(),
            Scalar::Float(n) => (n >= 0.0 && n.fract() == 0.0).then_some(n as u64),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(_) => None,
        };
        Ok(n.and_then(|n| u32::try_from(n).ok()))
    }

    fn map<'de, A: MapAccess<'de>>(a: A) -> Result<Option<u32>, A::Error> {
        wrapped::<Self, A>(a)
    }
}

/// A bool (bare, quoted, or `{"value": b}`).
pub enum Flag {}

impl Shape for Flag {
    type Value = Option<bool>;
    const EXPECTING: &'static str = "a bool";

    fn scalar<E: de::Error>(v: Scalar<'_>) -> Result<Option<bool>, E> {
        Ok(match v {
            Scalar::Bool(b) => Some(b),
            Scalar::Str(s) => s.parse().ok(),
            _ => None,
        })
    }

    fn map<'de, A: MapAccess<'de>>(a: A) -> Result<Option<bool>, A::Error> {
        wrapped::<Self, A>(a)
    }
}

/// An object decoded as `T`.
pub struct Object<T>(PhantomData<T>);

impl<T: DeserializeOwned> Shape for Object<T> {
    type Value = Option<T>;
    const EXPECTING: &'static str = "an object";

    fn map<'de, A: MapAccess<'de>>(a: A) -> Result<Option<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(a)).map(Some)
    }
}

/// A list of `T`, each element read by `T`'s own `Deserialize`.
pub struct List<T>(PhantomData<T>);

impl<T: DeserializeOwned> Shape for List<T> {
    type Value = Vec<T>;
    const EXPECTING: &'static str = "a list";

    fn seq<'de, A: SeqAccess<'de>>(mut a: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(4096));
        while let Some(x) = a.next_element()? {
            out.push(x);
        }
        // Growth leaves up to 4 slots for a list of one; a dump has hundreds of thousands.
        out.shrink_to_fit();
        Ok(out)
    }
}

// The names `deserialize_with` uses.

pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    read::<Text, D>(d)
}

pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    read::<Number, D>(d)
}

pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    read::<Flag, D>(d)
}

pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    read::<Object<T>, D>(d)
}

pub fn seq<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    read::<List<T>, D>(d)
}

/// A list of strings, skipping what does not read as one.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Vec<Lenient<Text>> = seq(d)?;
    Ok(items.into_iter().filter_map(|s| s.0).collect())
}

/// A list of numbers, skipping what does not read as one.
pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let items: Vec<Lenient<Number>> = seq(d)?;
    Ok(items.into_iter().filter_map(|s| s.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Fields {
        #[serde(deserialize_with = "string")]
        s: Option<String>,
        #[serde(deserialize_with = "u32")]
        n: Option<u32>,
        #[serde(deserialize_with = "bool")]
        b: Option<bool>,
        #[serde(deserialize_with = "object")]
        o: Option<serde_json::Value>,
        #[serde(deserialize_with = "strings")]
        ss: Vec<String>,
        #[serde(deserialize_with = "numbers")]
        ns: Vec<u32>,
    }

    fn read(text: &str) -> Fields {
        serde_json::from_str(text).expect("lenient")
    }

    #[test]
    fn each_kind_reads_or_is_skipped() {
        let f = read(
            r#"{"s": 7, "n": {"value": " 8 "}, "b": {"value": "true"}, "o": {"k": 1},
                "ss": ["a", 1, null, [], "b"], "ns": [1, "2", -3, 4.0, 4.5, 4294967296]}"#,
        );
        assert_eq!(f.s.as_deref(), Some("7"));
        assert_eq!(f.n, Some(8));
        assert_eq!(f.b, Some(true));
        assert_eq!(f.o, Some(serde_json::json!({"k": 1})));
        assert_eq!(f.ss, ["a", "1", "b"]);
        assert_eq!(f.ns, [1, 2, 4]);

        let skipped = read(r#"{"s": 1.5, "n": [1], "b": 1, "o": "x", "ss": {}, "ns": "1"}"#);
        assert_eq!(skipped, Fields::default());
    }

    #[test]
    fn lists_hold_no_spare_slots() {
        #[derive(Deserialize)]
        struct Outer {
            #[serde(deserialize_with = "seq")]
            items: Vec<Fields>,
        }
        let o: Outer = serde_json::from_str(r#"{"items": [{"s": "a"}]}"#).expect("lenient");
        assert_eq!(o.items.capacity(), 1);
    }
}
