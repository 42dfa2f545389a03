//! The only module that knows the YAML crate: parses a YAML (or JSON) stream into [`Node`]s.

use std::fmt;

use rayon::prelude::*;
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
fn options(len: usize, replay: usize) -> serde_saphyr::Options {
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
            max_total_replayed_events: replay,
        },
        // Kubernetes decodes YAML 1.1 style: `0755` is octal.
        legacy_octal_numbers: true,
        with_snippet: false,
    }
}

/// The events aliases may replay in a text of `len` bytes.
fn replay_budget(len: usize) -> usize {
    (len / BYTES_PER_REPLAYED_EVENT).max(MIN_ALIAS_REPLAY)
}

/// Parses every document of a YAML stream. Empty documents come back as `Value::Null`.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with_replay(text, replay_budget(text.len()))
}

fn parse_with_replay(text: &str, replay: usize) -> Result<Vec<Node>, ParseError> {
    let docs: Vec<Option<Spanned<Tree>>> =
        serde_saphyr::from_multiple_with_options(text, options(text.len(), replay))
            .map_err(to_parse_error)?;
    Ok(docs
        .into_iter()
        .map(|d| match d {
            Some(s) => into_node(s),
            None => Node::new(Value::Null, Pos::default()),
        })
        .collect())
}

/// Parses every document of a stream that parses and reports each one that does not, so one
/// broken document does not hide the objects beside it. Positions are in the whole text.
pub fn parse_documents(text: &str) -> (Vec<Node>, Vec<ParseError>) {
    if let Some(docs) = parse_in_pieces(text) {
        return (docs, Vec::new());
    }
    let whole = match parse_stream(text) {
        Ok(docs) => return (docs, Vec::new()),
        Err(e) => e,
    };
    let parts = document_parts(text);
    // An alias bomb is not a broken document next to good ones: parsing the parts one by one
    // would only spend the budget again.
    if parts.len() < 2 || whole.message.starts_with("alias replay limit") {
        return (Vec::new(), vec![whole]);
    }
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    // The parts share the whole text's alias budget in proportion to their size: a fresh
    // budget per part would let many small alias bombs through.
    let whole_replay = replay_budget(text.len()) as u128;
    for part in parts {
        let len = part.end - part.start;
        let replay = (whole_replay * len as u128 / text.len().max(1) as u128) as usize;
        match parse_with_replay(&text[part.start..part.end], replay.max(1)) {
            Ok(found) => docs.extend(found.into_iter().map(|mut n| {
                shift(&mut n, part.lines_before, part.start);
                n
            })),
            Err(mut e) => {
                if e.line > 0 {
                    e.line += part.lines_before;
                }
                errors.push(e);
            }
        }
    }
    // Every document parses alone but the stream does not (a directive out of place): the
    // stream's own error still has to be reported.
    if errors.is_empty() {
        errors.push(whole);
    }
    (docs, errors)
}

/// Texts from this size up are parsed a piece at a time on every core, as files are.
const PIECES_FROM: usize = 1 << 20;
/// The smallest piece worth a task of its own.
const MIN_PIECE: usize = 256 << 10;

/// Parses a large stream in pieces of whole documents, split before a `---` at column 0, in
/// parallel. `None` when the text is small or any piece fails: the whole stream is then parsed
/// as usual, so errors and limits are what they are for the stream.
fn parse_in_pieces(text: &str) -> Option<Vec<Node>> {
    if text.len() < PIECES_FROM {
        return None;
    }
    let size = (text.len() / (rayon::current_num_threads() * 4)).max(MIN_PIECE);
    let mut pieces: Vec<Part> = Vec::new();
    for part in document_parts(text) {
        match pieces.last_mut() {
            Some(last)
                if last.end - last.start < size || !is_marker(&text[part.start..], "---") =>
            {
                last.end = part.end;
            }
            _ => pieces.push(part),
        }
    }
    if pieces.len() < 2 {
        return None;
    }
    let whole_replay = replay_budget(text.len()) as u128;
    let parsed: Vec<Vec<Node>> = pieces
        .par_iter()
        .map(|p| {
            let len = p.end - p.start;
            let replay = (whole_replay * len as u128 / text.len() as u128) as usize;
            let mut docs = parse_with_replay(&text[p.start..p.end], replay.max(1)).ok()?;
            for n in &mut docs {
                shift(n, p.lines_before, p.start);
            }
            Some(docs)
        })
        .collect::<Option<_>>()?;
    Some(parsed.into_iter().flatten().collect())
}

/// A document's byte range and the number of lines before it.
struct Part {
    start: usize,
    end: usize,
    lines_before: u32,
}

/// Splits a stream at its document markers: `---` starts a document and `...` ends one, at
/// column 0 and followed by a space or the line's end. At column 0 they end any block scalar,
/// flow collection or quoted scalar too (YAML forbids them inside), so a marker is a boundary
/// wherever it stands; an indented `---` in a block scalar is text. Directives and comments
/// before a `---` stay with its document.
fn document_parts(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let (mut start, mut lines_before, mut has_content) = (0, 0, false);
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let i = i as u32;
        let starts = is_marker(line, "---");
        if starts && has_content {
            parts.push(Part {
                start,
                end: offset,
                lines_before,
            });
            (start, lines_before) = (offset, i);
        }
        let trimmed = line.trim_start();
        has_content |=
            starts || !(trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%'));
        offset += line.len();
        if is_marker(line, "...") {
            parts.push(Part {
                start,
                end: offset,
                lines_before,
            });
            (start, lines_before, has_content) = (offset, i + 1, false);
        }
    }
    if start < text.len() {
        parts.push(Part {
            start,
            end: text.len(),
            lines_before,
        });
    }
    parts
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Moves the positions of a tree parsed from a part of a text to the whole text's.
fn shift(node: &mut Node, lines: u32, offset: usize) {
    if node.pos.line > 0 {
        node.pos.line += lines;
        node.pos.offset += offset;
    }
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines, offset)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, lines, offset);
            shift(v, lines, offset);
        }),
        _ => {}
    }
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
        // The parser does not say how long a collection is, and a tree lives as long as the
        // run: capacity left over from growing would be most of its memory.
        items.shrink_to_fit();
        Ok(Tree(Value::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<Spanned<Tree>>()? {
            let v = map.next_value::<Spanned<Tree>>()?;
            entries.push((into_node(k), into_node(v)));
        }
        entries.shrink_to_fit();
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
    fn a_broken_document_leaves_the_others_at_their_own_positions() {
        // An indented `---` in a block scalar is text, and `...` ends a document.
        let text =
            "a: 1\n---\nkind: [\n---\nscript: |\n  echo\n  ---\nb: 2\n...\nc: {\n---\nd: 4\n";
        let (docs, errors) = parse_documents(text);
        let found: Vec<(String, u32, usize)> = docs
            .iter()
            .map(|d| match &d.value {
                Value::Map(entries) => {
                    let (k, _) = &entries[entries.len() - 1];
                    (
                        k.as_str().unwrap_or("").to_string(),
                        k.pos.line,
                        k.pos.offset,
                    )
                }
                v => panic!("{v:?}"),
            })
            .collect();
        let line = |n: usize| text.split_inclusive('\n').take(n - 1).map(str::len).sum();
        assert_eq!(
            found,
            [
                ("a".to_string(), 1, 0),
                ("b".to_string(), 8, line(8)),
                ("d".to_string(), 12, line(12))
            ]
        );
        let script = docs[1].get("script").and_then(Node::as_str);
        assert_eq!(script, Some("echo\n---\n"));
        let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 10], "{errors:?}");
    }

    #[test]
    fn a_stream_broken_across_documents_is_still_an_error() {
        // At column 0, `---` ends the flow sequence too soon: the first part is broken.
        let (_, errors) = parse_documents("a: [1,\n---\n2]\n");
        assert_eq!(errors.first().map(|e| e.line), Some(1), "{errors:?}");
        let (docs, errors) = parse_documents("%YAML 1.2\n---\na: 1\n---\nb: [\n");
        assert_eq!(docs.len(), 1, "the directive stays with its document");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5, "{errors:?}");
    }

    #[test]
    fn a_large_stream_parsed_in_pieces_is_the_stream_parsed_whole() {
        let mut text = String::from("# leading comment\n");
        let mut i = 0;
        while text.len() < 3 * PIECES_FROM {
            text.push_str(&format!(
                "---\nkind: Service\nmetadata: {{name: s{i}, labels: &l{i} {{a: b}}}}\nspec:\n  x: *l{i}\n  script: |\n    echo\n    ---\n  ports: [{{port: {i}}}]\n"
            ));
            if i % 7 == 0 {
                text.push_str("...\n# between\n");
            }
            i += 1;
        }
        let pieces = parse_in_pieces(&text).expect("parses in pieces");
        assert_eq!(pieces, parse_stream(&text).expect("parses whole"));
        assert_eq!(pieces.len(), i);
        let (docs, errors) = parse_documents(&format!("{text}---\nbroken: [\n"));
        assert_eq!(
            (docs.len(), errors.len()),
            (i, 1),
            "a broken piece falls back"
        );
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
