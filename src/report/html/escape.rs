//! Text from the input made safe for HTML: control characters and bidirectional overrides are
//! written as escapes (as in the terminal formats), then `&`, `<`, `>` and quotes as entities,
//! so no input can add markup, close an attribute or reorder the text around it.

use crate::report::text::visible;

/// `s` as HTML text or a quoted attribute value.
pub fn esc(s: &str) -> String {
    entities(&visible(s))
}

/// `&`, `<`, `>`, `"` and `'` as entities; everything else as is.
pub fn entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_controls_and_bidi_are_inert() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{1b}[31m\nb"), "a\\u{1b}[31m\\nb");
        assert_eq!(esc("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(esc("web-1.shop"), "web-1.shop");
    }
}
