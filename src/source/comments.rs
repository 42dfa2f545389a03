//! `# meshlint: ignore[CODE,name]` comments. The YAML parser drops comments, so they are found
//! in the text: a `#` outside quotes, at the start of a line or after a space, followed by
//! `meshlint: ignore[...]`. Which finding a comment covers is the engine's business; this only
//! says where each one is and what it lists.

use super::Pos;

/// One ignore comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreComment {
    /// The span of the directive, from `#` to `]`.
    pub pos: Pos,
    /// Whether the comment is alone on its line (else it follows a value).
    pub own_line: bool,
    /// The rule codes or names listed, as written.
    pub keys: Vec<String>,
}

const DIRECTIVE: &str = "meshlint:";

/// Every ignore comment of `text`, in order.
pub fn ignore_comments(text: &str) -> Vec<IgnoreComment> {
    if !text.contains(DIRECTIVE) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some((hash, keys, len)) = directive(line) {
            let column = line[..hash].chars().count() as u32 + 1;
            out.push(IgnoreComment {
                pos: Pos {
                    line: i as u32 + 1,
                    column,
                    offset: offset + hash,
                    len,
                },
                own_line: line[..hash].trim().is_empty(),
                keys,
            });
        }
        offset += line.len();
    }
    out
}

/// The byte index of the comment's `#`, the keys, and the directive's length in bytes.
fn directive(line: &str) -> Option<(usize, Vec<String>, usize)> {
    let hash = comment_start(line)?;
    let comment = &line[hash + 1..];
    let rest = comment.trim_start();
    let rest = rest.strip_prefix(DIRECTIVE)?.trim_start();
    let rest = rest.strip_prefix("ignore[")?;
    let close = rest.find(']')?;
    let keys = rest[..close]
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    let end = line.len() - rest.len() + close + 1;
    Some((hash, keys, end - hash))
}

/// Where a line's comment starts: the first `#` outside single or double quotes that begins
/// the line or follows whitespace (YAML's rule; `a#b` is a plain scalar).
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && !escaped => double = !double,
            '#' if !single && !double && prev.is_none_or(char::is_whitespace) => {
                return Some(i);
            }
            _ => {}
        }
        escaped = double && c == '\\' && !escaped;
        prev = Some(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_directives_on_their_own_line_and_after_values() {
        let text = "# meshlint: ignore[MESH101]\nkind: Service\n  name: web   #meshlint:ignore[ MESH101 , host-port-collision ]  why\n";
        let found = ignore_comments(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].pos.line, 1);
        assert_eq!(found[0].pos.column, 1);
        assert!(found[0].own_line);
        assert_eq!(found[0].keys, ["MESH101"]);
        assert_eq!(found[1].pos.line, 3);
        assert!(!found[1].own_line);
        assert_eq!(found[1].keys, ["MESH101", "host-port-collision"]);
        let span = &text[found[1].pos.offset..found[1].pos.offset + found[1].pos.len];
        assert_eq!(span, "#meshlint:ignore[ MESH101 , host-port-collision ]");
        assert_eq!(found[1].pos.column, 15);
    }

    #[test]
    fn hashes_in_values_and_quotes_are_no_comments() {
        for line in [
            "url: a#meshlint: ignore[MESH101]\n",
            "msg: \"x # meshlint: ignore[MESH101]\"\n",
            "msg: 'x # meshlint: ignore[MESH101]'\n",
            "msg: \"a \\\" # meshlint: ignore[MESH101]\"\n",
            "# meshlint: ignore MESH101\n",
            "# meshlint: ignore[MESH101\n",
        ] {
            assert!(ignore_comments(line).is_empty(), "{line}");
        }
        assert_eq!(
            ignore_comments("msg: 'it''s' # meshlint: ignore[MESH101]\n").len(),
            1
        );
    }
}
