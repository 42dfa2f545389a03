//! Positions of JSON pointers: in a JSON text without parsing it into a tree, and in a
//! positioned YAML tree; and the end position of a byte span.

use std::collections::HashMap;

use super::node::{FieldPath, Node, Pos, Value};

/// Finds the source span of JSON pointers in a JSON text without parsing it into a tree.
/// Array element offsets are remembered, so resolving many pointers costs about one pass.
pub struct JsonLocator<'a> {
    text: &'a [u8],
    arrays: HashMap<String, Vec<usize>>,
    lines: Option<LineIndex>,
}

impl<'a> JsonLocator<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            arrays: HashMap::new(),
            lines: None,
        }
    }

    fn ws(&self, mut i: usize) -> usize {
        while i < self.text.len() && self.text[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }

    /// End (exclusive) of the string starting at `i` (`"`).
    fn string_end(&self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < self.text.len() {
            match self.text[j] {
                b'\\' => j += 2,
                b'"' => return Some(j + 1),
                _ => j += 1,
            }
        }
        None
    }

    /// End (exclusive) of the value starting at `i`.
    fn value_end(&self, i: usize) -> Option<usize> {
        match *self.text.get(i)? {
            b'"' => self.string_end(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < self.text.len() {
                    match self.text[j] {
                        b'"' => {
                            j = self.string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => {
                let mut j = i;
                while j < self.text.len()
                    && !matches!(self.text[j], b',' | b'}' | b']')
                    && !self.text[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                Some(j)
            }
        }
    }

    /// Start of member `key`'s value in the object starting at `i`.
    fn member(&self, i: usize, key: &str) -> Option<usize> {
        let mut j = self.ws(i + 1);
        while j < self.text.len() && self.text[j] == b'"' {
            let end = self.string_end(j)?;
            let k = &self.text[j + 1..end - 1];
            j = self.ws(end);
            if self.text.get(j) != Some(&b':') {
                return None;
            }
            let v = self.ws(j + 1);
            if k == key.as_bytes() {
                return Some(v);
            }
            j = self.ws(self.value_end(v)?);
            if self.text.get(j) == Some(&b',') {
                j = self.ws(j + 1);
            }
        }
        None
    }

    /// Start of element `n` of the array starting at `i` (whose pointer is `at`).
    fn element(&mut self, at: &str, i: usize, n: usize) -> Option<usize> {
        let known = self.arrays.entry(at.to_string()).or_default();
        if let Some(&o) = known.get(n) {
            return Some(o);
        }
        let mut starts = std::mem::take(known);
        let mut j = match starts.last() {
            Some(&last) => {
                let e = self.ws(self.value_end(last)?);
                if self.text.get(e) != Some(&b',') {
                    self.arrays.insert(at.to_string(), starts);
                    return None;
                }
                self.ws(e + 1)
            }
            None => self.ws(i + 1),
        };
        let mut found = None;
        while j < self.text.len() && self.text[j] != b']' {
            starts.push(j);
            if starts.len() == n + 1 {
                found = Some(j);
                break;
            }
            j = self.ws(self.value_end(j)?);
            if self.text.get(j) == Some(&b',') {
                j = self.ws(j + 1);
            }
        }
        self.arrays.insert(at.to_string(), starts);
        found
    }

    /// The byte span of the value at `pointer`.
    pub fn span(&mut self, pointer: &str) -> Option<(usize, usize)> {
        let mut i = self.ws(0);
        if self.text.get(i..i + 3) == Some(&[0xef, 0xbb, 0xbf]) {
            i = self.ws(i + 3);
        }
        let mut at = String::new();
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            i = match self.text.get(i)? {
                b'{' => self.member(i, &token)?,
                b'[' => {
                    let n: usize = token.parse().ok()?;
                    self.element(&at, i, n)?
                }
                _ => return None,
            };
            at.push('/');
            at.push_str(raw);
        }
        let end = self.value_end(i)?;
        Some((i, end - i))
    }

    /// 1-based line and column (in characters) of a byte offset. Line starts and a running
    /// character count every [`BLOCK`] bytes are computed once, so a finding deep in a
    /// single-line (minified) dump costs one block, not a scan from the start of the line.
    pub fn line_col(&mut self, offset: usize) -> (u32, u32) {
        let text = self.text;
        let index = self.lines.get_or_insert_with(|| LineIndex::new(text));
        let line = index.starts.partition_point(|&s| s <= offset);
        let start = index.starts[line - 1];
        let column = index.chars_before(text, offset) - index.chars_before(text, start) + 1;
        (line as u32, column as u32)
    }
}

/// Bytes between character-count checkpoints.
const BLOCK: usize = 4096;

/// Where lines start, and how many characters precede each [`BLOCK`] boundary.
struct LineIndex {
    starts: Vec<usize>,
    chars_at_block: Vec<usize>,
}

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

impl LineIndex {
    fn new(text: &[u8]) -> Self {
        let mut starts = vec![0];
        let mut chars_at_block = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut chars = 0;
        for (i, &b) in text.iter().enumerate() {
            if i % BLOCK == 0 {
                chars_at_block.push(chars);
            }
            if b == b'\n' {
                starts.push(i + 1);
            }
            chars += usize::from(starts_char(b));
        }
        Self {
            starts,
            chars_at_block,
        }
    }

    /// Characters in `text[..offset]`.
    fn chars_before(&self, text: &[u8], offset: usize) -> usize {
        let offset = offset.min(text.len());
        let block = offset / BLOCK;
        let Some(&base) = self.chars_at_block.get(block) else {
            return text.iter().copied().filter(|&b| starts_char(b)).count();
        };
        base + text[block * BLOCK..offset]
            .iter()
            .filter(|&&b| starts_char(b))
            .count()
    }
}

/// A position for a pointer into a YAML dump, from its positioned tree.
pub fn yaml_pos(root: &Node, pointer: &str) -> Option<Pos> {
    let mut path = FieldPath::root();
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        path = match token.parse::<usize>() {
            Ok(n) if matches!(root.lookup(&path).0.value, Value::Seq(_)) => path.index(n),
            _ => path.key(token),
        };
    }
    let (node, found) = root.lookup(&path);
    found.then_some(node.pos)
}

/// Line and column just past `len` bytes from `offset`, given the start's line and column.
pub fn end_of(text: &str, offset: usize, len: usize, line: u32, column: u32) -> (u32, u32) {
    let Some(span) = text.get(offset..offset + len) else {
        return (line, column);
    };
    let mut l = line;
    let mut c = column;
    for ch in span.chars() {
        if ch == '\n' {
            l += 1;
            c = 1;
        } else {
            c += 1;
        }
    }
    (l, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_pointers_and_lines() {
        let text =
            "{\n \"configs\": [\n  {\"a\": 1},\n  {\"b\": [10, {\"name\": \"x/y\"}]}\n ]\n}\n";
        let mut loc = JsonLocator::new(text);
        let (o, l) = loc.span("/configs/1/b/1/name").expect("found");
        assert_eq!(&text[o..o + l], "\"x/y\"");
        assert_eq!(loc.line_col(o), (4, 23));
        let (o, _) = loc.span("/configs/0/a").expect("found");
        assert_eq!(&text[o..o + 1], "1");
        assert!(loc.span("/configs/2").is_none());
        assert!(loc.span("/configs/1/c").is_none());
        // A later element after a cached earlier one.
        let (o, _) = loc.span("/configs/1").expect("found");
        assert_eq!(&text[o..o + 6], "{\"b\": ");
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        let text = format!("{}\"é\": [1, {{\"k\": 2}}]", "ü".repeat(3 * BLOCK));
        let mut loc = JsonLocator::new(&text);
        let offset = text.find("{\"k").expect("present");
        assert_eq!(loc.line_col(offset), (1, 3 * BLOCK as u32 + 10));
        assert_eq!(loc.line_col(0), (1, 1));
        assert_eq!(
            loc.line_col(text.len()),
            (1, text.chars().count() as u32 + 1)
        );
    }
}
