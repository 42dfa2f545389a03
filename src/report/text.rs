//! Text from the input, made safe for a terminal or a log: control characters are escaped, so
//! a resource name, a path or a quoted Envoy error cannot move the cursor, recolour the terminal
//! or forge an output line.

use std::borrow::Cow;

/// Characters that act on the terminal instead of showing: controls (C0, DEL, C1) and the
/// bidirectional overrides and isolates that reorder the text around them.
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Names from the input, each made [`visible`], joined with `, `.
pub fn visible_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| visible(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` with every control character (C0, DEL, C1; newlines and tabs too) and bidirectional
/// override written as its Rust escape (`\n`, `\u{1b}`, `\u{202e}`).
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else if acts(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A file's text for a code frame: control characters other than newline and tab become
/// placeholders of the same byte length, so spans into the original text still line up.
pub fn frame_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| acts(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            // C0 and DEL are one byte in UTF-8, C1 two: keep the width in bytes.
            c if acts(c) && c.len_utf8() == 1 => out.push('?'),
            c if acts(c) && c.len_utf8() == 2 => out.push('·'),
            c if acts(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(visible("web-1.shop"), Cow::Borrowed(_)));
        assert_eq!(visible("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(visible("x\u{85}y"), "x\\u{85}y");
        assert_eq!(visible("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn frame_text_keeps_byte_offsets() {
        let text = "name: a\u{1b}[2J\u{85}b\n\tport: 80\r\n";
        let safe = frame_text(text);
        assert_eq!(safe.len(), text.len());
        assert!(!safe.chars().any(|c| acts(c) && c != '\n' && c != '\t'));
        assert!(safe.contains("\tport: 80?\n"));
    }
}
