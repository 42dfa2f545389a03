//! A YAML/JSON document tree where every key and value keeps its source position.
//!
//! Typed models are decoded from this tree; rules report a field path and the engine
//! resolves it back to a position here.

use std::fmt;

/// A position in a source file: 1-based line and column (in characters), and a byte span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// One step of a field path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path from a document root to a field, e.g. `spec.ports[1].name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses `spec.ports[1].name`. Keys may not contain `.` or `[`; use [`FieldPath::key`]
    /// for annotation keys that do.
    pub fn parse(s: &str) -> Self {
        let mut segs = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                if i > 0 {
                    segs.push(Seg::Key(rest[..i].to_string()));
                }
                rest = &rest[i..];
                while let Some(end) = rest.find(']') {
                    if let Ok(n) = rest[1..end].parse() {
                        segs.push(Seg::Index(n));
                    }
                    rest = &rest[end + 1..];
                }
            } else {
                segs.push(Seg::Key(rest.to_string()));
            }
        }
        Self(segs)
    }

    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.0.push(Seg::Key(k.into()));
        self
    }

    pub fn index(mut self, i: usize) -> Self {
        self.0.push(Seg::Index(i));
        self
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Self {
        Self { value, pos }
    }

    /// The value of mapping key `key` (string keys only).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of mapping key `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// Follows `path` as far as it goes; returns the deepest node reached and whether the whole
    /// path resolved. A finding on a field that is absent points at its nearest parent.
    pub fn lookup(&self, path: &FieldPath) -> (&Node, bool) {
        let (node, rest) = self.lookup_rest(path);
        (node, rest.is_empty())
    }

    /// The deepest node on `path`, and the segments past it (none when the whole path exists).
    pub fn lookup_rest<'p>(&self, path: &'p FieldPath) -> (&Node, &'p [Seg]) {
        let mut cur = self;
        for (i, seg) in path.0.iter().enumerate() {
            let next = match (seg, &cur.value) {
                (Seg::Key(k), Value::Map(_)) => cur.get(k),
                (Seg::Index(n), Value::Seq(items)) => items.get(*n),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return (cur, &path.0[i..]),
            }
        }
        (cur, &[])
    }

    /// The position of the key of the last path segment, if it is a mapping key.
    pub fn key_pos(&self, path: &FieldPath) -> Option<Pos> {
        let (last, parent) = path.0.split_last()?;
        let (node, found) = self.lookup(&FieldPath(parent.to_vec()));
        match (found, last) {
            (true, Seg::Key(k)) => node.entry(k).map(|(k, _)| k.pos),
            _ => None,
        }
    }

    /// Converts to a JSON value for typed decoding. Non-string keys are stringified, as
    /// Kubernetes' YAML-to-JSON conversion does, and null fields are left out.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            // A null field is an unset field, as the Kubernetes API reads it (`env:` with
            // nothing under it, common in Helm output).
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .filter(|(_, v)| v.value != Value::Null)
                    .map(|(k, v)| (k.scalar_text(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A scalar rendered as text (used for keys).
    pub fn scalar_text(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Seq(_) => "[...]".into(),
            Value::Map(_) => "{...}".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_fields_are_unset_in_json() {
        let pos = Pos::default();
        let key = |k: &str| Node::new(Value::Str(k.into()), pos);
        let node = Node::new(
            Value::Map(vec![
                (key("env"), Node::new(Value::Null, pos)),
                (key("name"), Node::new(Value::Str("web".into()), pos)),
            ]),
            pos,
        );
        assert_eq!(node.to_json(), serde_json::json!({"name": "web"}));
    }

    #[test]
    fn parses_and_prints_paths() {
        let p = FieldPath::parse("spec.ports[1].name");
        assert_eq!(
            p.0,
            vec![
                Seg::Key("spec".into()),
                Seg::Key("ports".into()),
                Seg::Index(1),
                Seg::Key("name".into())
            ]
        );
        assert_eq!(p.to_string(), "spec.ports[1].name");
        assert_eq!(FieldPath::parse("a[0][2]").to_string(), "a[0][2]");
    }
}
