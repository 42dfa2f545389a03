//! Positions inside YAML embedded in a string field, such as the `mesh` and `meshNetworks`
//! keys of the `istio` ConfigMap. A literal block scalar (`|`) keeps its text line for line,
//! only indented, so a field of the embedded document maps back to its own line and column in
//! the file. Any other style (folded, quoted, escaped) does not keep lines, and gives `None`, as
//! does a block whose text starts with a blank line or a field on no line of the text.

use super::node::{Node, Pos, Seg, Value};

/// The file position of `inner` inside the YAML text of `scalar`, a string node of `file`.
pub fn locate(file: &str, scalar: &Node, inner: &[Seg]) -> Option<Pos> {
    let Value::Str(text) = &scalar.value else {
        return None;
    };
    let doc = super::parse_yaml(text).ok()?.into_iter().next()?;
    let (node, found) = doc.lookup(&super::FieldPath(inner.to_vec()));
    if !found || node.pos.line == 0 {
        return None;
    }
    let lines = block_lines(file, scalar.pos)?;
    let target = node.pos.line as usize - 1;
    // The text's lines up to the target must be the file's lines without their indentation;
    // otherwise the scalar is not a plain literal block and positions would be wrong.
    let mut checked = 0;
    for (i, want) in text.lines().take(target + 1).enumerate() {
        let got = lines.get(i)?.1;
        if got != want && !(want.is_empty() && got.trim().is_empty()) {
            return None;
        }
        checked += 1;
    }
    if checked <= target {
        return None;
    }
    let start = lines.get(target)?.0;
    let line_start = text
        .get(..node.pos.offset)?
        .rfind('\n')
        .map_or(0, |n| n + 1);
    Some(Pos {
        line: scalar.pos.line + target as u32,
        column: node.pos.column + scalar.pos.column - 1,
        offset: start + (node.pos.offset - line_start),
        len: node.pos.len,
    })
}

/// The content lines of the literal block scalar whose text starts at `at`: each one's offset
/// after the block's indentation, and its text from there.
fn block_lines(file: &str, at: Pos) -> Option<Vec<(usize, &str)>> {
    let indent = at.column.checked_sub(1)? as usize;
    let first = at.offset.checked_sub(indent)?;
    if indent == 0 || !is_literal_indicator(file.get(..first)?) {
        return None;
    }
    let mut out = Vec::new();
    let mut offset = first;
    for line in file.get(first..)?.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let leading = content.len() - content.trim_start_matches(' ').len();
        if !content.trim().is_empty() && leading < indent {
            break;
        }
        out.push((offset + indent, content.get(indent..).unwrap_or("")));
        offset += line.len();
    }
    Some(out)
}

/// Whether the text before a block's first content line ends with a literal block indicator
/// (`|`, `|-`, `|+`, `|2`…), possibly followed by a comment.
fn is_literal_indicator(before: &str) -> bool {
    let line = before.trim_end().rsplit('\n').next().unwrap_or("");
    let line = line.split(" #").next().unwrap_or(line).trim_end();
    line.rsplit([' ', '\t'])
        .next()
        .and_then(|t| t.strip_prefix('|'))
        .is_some_and(|rest| rest.chars().all(|c| matches!(c, '-' | '+' | '0'..='9')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FieldPath, parse_yaml};

    const MAP: &str = "apiVersion: v1\nkind: ConfigMap\ndata:\n  meshNetworks: |-\n    networks:\n      network1:\n\n        endpoints:\n        - fromRegistry: Kubernetes\n  mesh: x\n";

    fn at(file: &str, outer: &str, inner: &str) -> Option<(u32, u32, String)> {
        let doc = parse_yaml(file).unwrap().remove(0);
        let scalar = doc.lookup(&FieldPath::parse(outer)).0;
        let pos = locate(file, scalar, &FieldPath::parse(inner).0)?;
        Some((
            pos.line,
            pos.column,
            file[pos.offset..pos.offset + pos.len].to_string(),
        ))
    }

    #[test]
    fn a_literal_block_maps_each_field_to_its_line() {
        assert_eq!(
            at(
                MAP,
                "data.meshNetworks",
                "networks.network1.endpoints[0].fromRegistry"
            ),
            Some((9, 25, "Kubernetes".into()))
        );
        assert_eq!(
            at(MAP, "data.meshNetworks", "networks.network1.endpoints[0]").map(|(l, c, _)| (l, c)),
            Some((9, 11))
        );
    }

    #[test]
    fn other_styles_and_missing_fields_have_no_position() {
        let quoted = "data:\n  meshNetworks: \"networks:\\n  n1:\\n    endpoints: []\\n\"\n";
        assert_eq!(at(quoted, "data.meshNetworks", "networks.n1"), None);
        let folded = "data:\n  meshNetworks: >\n    networks:\n      n1: {}\n";
        assert_eq!(at(folded, "data.meshNetworks", "networks.n1"), None);
        assert_eq!(at(MAP, "data.meshNetworks", "networks.nope"), None);
        // An explicit key without a value is placed past the text's last line.
        let past = "data:\n  mesh: |2\n    ?\n        #\u{2028}\r\n        b\"\t\n  x: 1\n";
        assert_eq!(at(past, "data.mesh", "b\""), None);
        assert_eq!(at(MAP, "data.mesh", "x"), None);
    }
}
