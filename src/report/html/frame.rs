//! Code frames: the lines around a location with the offending text marked, as the human
//! format draws them, from the same sanitised text (controls as placeholders of equal length).

use std::fmt::Write;

use crate::diagnostic::{Location, Outcome};
use crate::report::human::{framable, offset_of};
use crate::report::text::frame_text;

use super::escape::entities;

/// The most lines of a multi-line span that are shown.
const MAX_SPAN_LINES: usize = 12;

/// The text of the file a location is in.
fn text_of<'a>(outcome: &'a Outcome, file: &str) -> Option<&'a str> {
    outcome
        .sources
        .files
        .iter()
        .find(|f| f.path == file)
        .map(|f| f.text.as_str())
}

/// A frame around `loc` with `context` lines before and after, or nothing when the line cannot
/// be shown (no position, no text, or a line longer than the human format draws).
pub fn around(outcome: &Outcome, loc: &Location, context: usize) -> Option<String> {
    if !framable(outcome, loc) {
        return None;
    }
    let text = text_of(outcome, &loc.file)?;
    draw(text, loc.line, loc.offset, loc.len.max(1), context)
}

/// A frame around a 1-based line and column, for input errors, which carry no byte span.
pub fn at(outcome: &Outcome, file: &str, line: u32, column: u32) -> Option<String> {
    if line == 0 {
        return None;
    }
    let text = text_of(outcome, file)?;
    let offset = offset_of(text, line, column)?;
    let loc = Location {
        file: file.to_string(),
        line,
        column,
        offset,
        len: 1,
        ..Location::default()
    };
    framable(outcome, &loc)
        .then(|| draw(text, line, offset, 1, 2))
        .flatten()
}

fn draw(text: &str, line: u32, offset: usize, len: usize, context: usize) -> Option<String> {
    let start = offset.min(text.len());
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if !text.is_char_boundary(start) {
        return None;
    }
    let mut first = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut number = line as usize;
    for _ in 0..context {
        if first == 0 {
            break;
        }
        first = text[..first - 1].rfind('\n').map_or(0, |i| i + 1);
        number -= 1;
    }
    // A byte on the span's last line.
    let last = end.saturating_sub(1).max(start);
    let mut out = String::from("<pre class=\"frame\">");
    let mut at = first;
    let mut after: Option<usize> = None;
    let mut span_lines = 0;
    loop {
        if at >= text.len() && at > first {
            break;
        }
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[at..line_end];
        let shown = line.strip_suffix('\r').unwrap_or(line);
        let hit = at <= last && line_end >= start;
        let _ = write!(
            out,
            "<span class=\"line{}\"><span class=\"no\">{number}</span>",
            if hit { " hit" } else { "" }
        );
        if hit {
            let a = start.clamp(at, at + shown.len()) - at;
            let b = end.clamp(at, at + shown.len()) - at;
            out.push_str(&safe(&shown[..a]));
            out.push_str("<mark>");
            out.push_str(&safe(&shown[a..b]));
            out.push_str("</mark>");
            out.push_str(&safe(&shown[b..]));
            span_lines += 1;
        } else {
            out.push_str(&safe(shown));
        }
        out.push_str("</span>\n");
        match after.as_mut() {
            Some(left) => *left -= 1,
            None if line_end >= last => after = Some(context),
            None => {}
        }
        if after == Some(0) || line_end >= text.len() || span_lines >= MAX_SPAN_LINES {
            break;
        }
        at = line_end + 1;
        number += 1;
    }
    out.push_str("</pre>");
    Some(out)
}

/// A piece of a source line as HTML: controls and bidirectional overrides as placeholders
/// (as in the human frame), markup characters as entities.
fn safe(s: &str) -> String {
    entities(&frame_text(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drawn lines (the closing tag follows the last one).
    fn lines(frame: &str) -> Vec<&str> {
        frame
            .lines()
            .filter(|l| l.contains("class=\"line"))
            .collect()
    }

    #[test]
    fn marks_the_span_with_context() {
        let text = "a: 1\nb: 2\nname: <web>\nc: 3\nd: 4\ne: 5\n";
        let offset = text.find("<web>").expect("span");
        let f = draw(text, 3, offset, 5, 1).expect("frame");
        let l = lines(&f);
        assert_eq!(l.len(), 3, "{f}");
        assert!(l[0].contains(">2</span>b: 2"), "{f}");
        assert!(
            l[1].contains("name: <mark>&lt;web&gt;</mark></span>") && l[1].contains("hit"),
            "{f}"
        );
        assert!(l[2].contains(">4</span>c: 3"), "{f}");
    }

    #[test]
    fn first_and_last_lines_and_hostile_text() {
        let text = "x: \u{1b}[2J\u{202e}\r\ny: 2";
        let f = draw(text, 1, 0, 1, 2).expect("frame");
        assert!(
            !f.contains('\u{1b}') && !f.contains('\u{202e}') && !f.contains('\r'),
            "{f}"
        );
        assert_eq!(lines(&f).len(), 2, "{f}");
        let g = draw(text, 2, text.len() - 1, 1, 2).expect("frame");
        assert!(g.contains("y: <mark>2</mark>"), "{g}");
    }
}
