//! The only module that knows the YAML crate: parses a YAML (or JSON) stream into [`Node`]s.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::node::{Node, Pos, Value};

/// A parse failure with its position (1-based; 0 when the parser could not say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Nesting deeper than this is refused: no manifest needs it, and it would cost stack.
const MAX_DEPTH: usize = 128;
/// Floor of the limits that grow with the input, so small texts keep generous limits.
const MIN_SCALE: usize = 1 << 20;
/// Events aliases may replay in a small text: far more than manifests use.
const MIN_ALIAS_REPLAY: usize = 100_000;
/// Input bytes per event aliases may replay in a large text: a manifest spends more than this
/// on every node, so what aliases add stays below what the text itself holds.
const BYTES_PER_REPLAYED_EVENT: usize = 16;

/// Parser limits for a text of `len` bytes. What the text itself holds (documents, nodes,
/// scalar bytes, anchors, aliases) is bounded by its length, which `--max-file-size` bounds,
/// so those limits grow with it and never refuse an honest input. Only alias expansion makes
/// more than the text holds: it is capped in proportion to the text, which stops an alias
/// bomb at a hundred thousand events in a small text.
fn options(len: usize) -> serde_saphyr::Options {
    // Generous multiples: one byte can hold a node (`[a,b]`), and `!!str` spells a 21-byte tag.
    let scale = len.max(MIN_SCALE).saturating_mul(4);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: scale,
            max_nodes: scale,
            max_events: scale,
            max_total_scalar_bytes: scale,
            max_aliases: scale,
            max_anchors: scale,
            max_merge_keys: scale,
            max_recorded_anchor_events: scale,
            max_recorded_anchor_bytes: scale,
            // One anchor reused many times is common (a shared block); the replay limit below
            // is what stops a bomb.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: (len / BYTES_PER_REPLAYED_EVENT).max(MIN_ALIAS_REPLAY),
        },
        // Kubernetes decodes YAML 1.1 style: `0755` is octal.
        legacy_octal_numbers: true,
        with_snippet: false,
    }
}

/// Parses every document of a YAML stream. Empty documents come back as `Value::Null`.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, ParseError> {
    let docs: Vec<Option<Spanned<Tree>>> =
        serde_saphyr::from_multiple_with_options(text, options(text.len()))
            .map_err(to_parse_error)?;
    Ok(docs
        .into_iter()
        .map(|d| match d {
            Some(s) => into_node(s),
            None => Node::new(Value::Null, Pos::default()),
        })
        .collect())
}

fn to_parse_error(e: serde_saphyr::Error) -> ParseError {
    let (line, column) = e
        .location()
        .map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    // The crate's Display appends its own "at line X column Y"; keep only the message.
    let full = e.to_string();
    let message = full
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .split(" at line ")
        .next()
        .unwrap_or("invalid YAML")
        // Advice about the crate's own options means nothing to a user of meshlint.
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    ParseError {
        line,
        column,
        message,
    }
}

fn pos_of(loc: &serde_saphyr::Location) -> Pos {
    let span = loc.span();
    Pos {
        line: loc.line() as u32,
        column: loc.column() as u32,
        offset: span.byte_offset().unwrap_or(0) as usize,
        len: span.byte_len().unwrap_or(0) as usize,
    }
}

fn into_node(s: Spanned<Tree>) -> Node {
    Node::new(s.value.0, pos_of(&s.referenced))
}

/// A value whose children carry spans; private to this module.
struct Tree(Value);

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree(Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree(
            i64::try_from(v).map_or(Value::Float(v as f64), Value::Int),
        ))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Tree, E> {
        Ok(Tree(
            i64::try_from(v).map_or(Value::Float(v as f64), Value::Int),
        ))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Tree, E> {
        Ok(Tree(
            i64::try_from(v).map_or(Value::Float(v as f64), Value::Int),
        ))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree(Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree(Value::Str(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Tree, E> {
        Ok(Tree(Value::Str(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Tree, E> {
        Ok(Tree(Value::Str(String::from_utf8_lossy(v).into_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Spanned<Tree>>()? {
            items.push(into_node(item));
        }
        Ok(Tree(Value::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<Spanned<Tree>>()? {
            let v = map.next_value::<Spanned<Tree>>()?;
            entries.push((into_node(k), into_node(v)));
        }
        Ok(Tree(Value::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_stream(text).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keeps_positions_of_keys_and_values_across_documents() {
        let docs = parse_stream("a: 1\n---\nkind: Service\nspec:\n  ports:\n  - name: web\n")
            .expect("parses");
        assert_eq!(docs.len(), 2);
        let (key, val) = docs[1]
            .get("spec")
            .and_then(|s| s.get("ports"))
            .and_then(|p| match &p.value {
                Value::Seq(items) => items[0].entry("name"),
                _ => None,
            })
            .expect("name");
        assert_eq!((key.pos.line, key.pos.column), (6, 5));
        assert_eq!((val.pos.line, val.pos.column), (6, 11));
        assert_eq!(val.as_str(), Some("web"));
        assert_eq!(val.pos.offset, 48);
        assert_eq!(val.pos.len, 3);
    }

    #[test]
    fn reads_scalars_as_kubernetes_does() {
        let doc = one("a: 8080\nb: \"8080\"\nc: 0755\nd: yes\ne: ~\nf: 1.5\n");
        assert_eq!(doc.get("a").map(|n| &n.value), Some(&Value::Int(8080)));
        assert_eq!(
            doc.get("b").map(|n| &n.value),
            Some(&Value::Str("8080".into()))
        );
        assert_eq!(doc.get("c").map(|n| &n.value), Some(&Value::Int(493)));
        assert_eq!(doc.get("d").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(doc.get("e").map(|n| &n.value), Some(&Value::Null));
        assert_eq!(doc.get("f").map(|n| &n.value), Some(&Value::Float(1.5)));
    }

    #[test]
    fn empty_documents_and_comments() {
        let docs = parse_stream("# only a comment\n---\n---\na: 1 # trailing\n").expect("parses");
        // Empty documents are skipped; only the real one remains.
        assert_eq!(docs.len(), 1);
        assert!(docs[0].get("a").is_some());
    }

    #[test]
    fn anchors_resolve() {
        let doc = one("first: &p 8080\nsecond: *p\n");
        assert_eq!(doc.get("second").map(|n| &n.value), Some(&Value::Int(8080)));
    }

    #[test]
    fn json_is_yaml() {
        let doc = one("{\"kind\": \"Service\", \"spec\": {\"ports\": [{\"port\": 80}]}}");
        assert_eq!(doc.get("kind").and_then(Node::as_str), Some("Service"));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse_stream("a: 1\nb: [1, 2\nc: 3\n").expect_err("fails");
        assert!(err.line >= 2, "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                std::iter::repeat_n(prev.as_str(), 10)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        assert!(parse_stream(&text).is_err());
    }

    #[test]
    fn one_anchor_aliased_many_times_is_not_refused() {
        let mut text = String::from("base: &b {x: 1}\n");
        for i in 0..500 {
            text.push_str(&format!("k{i}: *b\n"));
        }
        assert!(parse_stream(&text).is_ok());
    }

    #[test]
    fn absurd_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_stream(&text).is_err());
    }
}
