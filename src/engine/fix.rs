//! Fixes as text edits: a rule's [`FixAction`] becomes an insertion at a byte offset of the
//! file as written, with the indentation, quoting and style (block, flow, JSON) found there.
//! Nothing is serialised again, so comments and layout stay as they were.

use crate::diagnostic::{FixAction, RawFinding, Target, TextEdit, TextFix};
use crate::model::Store;
use crate::source::Sources;

/// The text edits of `f`'s fix, if it has one and its place can be found.
pub fn edits(f: &RawFinding, store: &Store, sources: &Sources) -> Option<TextFix> {
    let fix = f.fix.as_ref()?;
    let Target::Field { resource, .. } = &f.target else {
        return None;
    };
    let res = store.get(*resource);
    let text = &sources.files[res.file].text;
    let edit = match &fix.action {
        FixAction::AddKey { beside, key, value } => {
            let at = res.node.key_pos(beside)?;
            add_key(text, at.offset, key, value)?
        }
    };
    Some(TextFix {
        title: fix.title.clone(),
        edits: vec![edit],
    })
}

/// Inserts `key: value` before the key starting at byte `at`.
fn add_key(text: &str, at: usize, key: &str, value: &str) -> Option<TextEdit> {
    let before = text.get(..at)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let previous = before.trim_end().chars().last();
    let quoted = text[at..].starts_with('"');
    // Compact JSON (`{"a":1,"b":2}`) stays compact: the existing key's colon tells.
    let tight = quoted
        && text[at + 1..]
            .find('"')
            .and_then(|q| text.get(at + q + 2..at + q + 4))
            .is_some_and(|after| after.starts_with(':') && !after[1..].starts_with(' '));
    let inserted = if tight {
        format!("{}:{},", json_string(key), json_string(value))
    } else if matches!(previous, Some('{' | ',')) {
        // Flow style or JSON: one more entry of the mapping, before this one.
        if quoted {
            format!("{}: {}, ", json_string(key), json_string(value))
        } else {
            format!("{key}: {value}, ")
        }
    } else {
        let entry = format!("{key}: {value}");
        // Block style: its own line, the key at the same column (a `- ` before it becomes
        // spaces).
        let indent: String = before[line_start..]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        if !before[line_start..]
            .chars()
            .all(|c| c.is_whitespace() || c == '-')
        {
            return None;
        }
        format!("{entry}\n{indent}")
    };
    Some(TextEdit {
        offset: at,
        len: 0,
        text: inserted,
    })
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// `text` with `edits` applied. Edits are applied from the last to the first; one that
/// overlaps an edit already taken is left out (the next run offers it again).
pub fn apply(text: &str, edits: &[TextEdit]) -> (String, usize) {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out = text.to_string();
    let mut applied = 0;
    let mut limit = usize::MAX;
    for e in sorted.into_iter().rev() {
        let end = e.offset + e.len;
        if end > limit || end > out.len() || !out.is_char_boundary(e.offset) {
            continue;
        }
        out.replace_range(e.offset..end, &e.text);
        limit = e.offset;
        applied += 1;
    }
    (out, applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(text: &str, key_at: &str) -> String {
        let at = text.find(key_at).expect("key");
        let edit = add_key(text, at, "appProtocol", "http").expect("edit");
        apply(text, &[edit]).0
    }

    #[test]
    fn block_flow_and_json_mappings_get_an_entry_in_their_own_style() {
        assert_eq!(
            insert(
                "  ports:\n  - name: htpp-web  # keep\n    port: 80\n",
                "name"
            ),
            "  ports:\n  - appProtocol: http\n    name: htpp-web  # keep\n    port: 80\n"
        );
        assert_eq!(
            insert("ports: [{name: htpp, port: 80}]\n", "name"),
            "ports: [{appProtocol: http, name: htpp, port: 80}]\n"
        );
        assert_eq!(
            insert("ports:\n- {port: 80, name: htpp}\n", "name"),
            "ports:\n- {port: 80, appProtocol: http, name: htpp}\n"
        );
        assert_eq!(
            insert(
                "{\"ports\": [{\"name\": \"htpp\", \"port\": 80}]}",
                "\"name\""
            ),
            "{\"ports\": [{\"appProtocol\": \"http\", \"name\": \"htpp\", \"port\": 80}]}"
        );
        assert_eq!(
            insert("{\"ports\":[{\"name\":\"htpp\"}]}", "\"name\""),
            "{\"ports\":[{\"appProtocol\":\"http\",\"name\":\"htpp\"}]}"
        );
    }

    #[test]
    fn overlapping_and_repeated_edits_apply_once() {
        let e = |offset, len, text: &str| TextEdit {
            offset,
            len,
            text: text.into(),
        };
        let (out, n) = apply(
            "abcdef",
            &[e(1, 2, "X"), e(1, 2, "X"), e(2, 2, "Y"), e(5, 0, "Z")],
        );
        assert_eq!((out.as_str(), n), ("abYeZf", 2));
    }
}
