//! `--format human`: miette-rendered findings with a code frame and help, then a summary.

use std::fmt::{self, Write};

use clap::ValueEnum;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostic::Outcome;
use crate::diagnostic::{Finding, Location, Severity};

use super::text::{frame_text, visible};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal that supports it; honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb
    Auto,
    /// Always colour, even through a pipe
    Always,
    /// Never colour
    Never,
}

impl ColorChoice {
    /// For `auto`, the conventions of <https://no-color.org> and <https://bixense.com/clicolors>:
    /// `NO_COLOR` turns colour off, then `CLICOLOR_FORCE` on, then `CLICOLOR=0` off; otherwise
    /// a terminal is coloured unless `TERM` is `dumb`.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if anstyle_query::no_color() {
                    false
                } else if anstyle_query::clicolor_force() {
                    true
                } else if anstyle_query::clicolor() == Some(false) {
                    false
                } else {
                    is_terminal && anstyle_query::term_supports_color()
                }
            }
        }
    }
}

struct Frame {
    code: String,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<Source>,
    labels: Vec<LabeledSpan>,
    related: Vec<Frame>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Frame {}

impl Diagnostic for Frame {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<_>)
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)) as Box<_>)
    }
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

/// A file's text for code frames. The frame header's column counts characters, as the other
/// formats do (miette's own `str` source counts bytes).
struct Source {
    name: String,
    text: String,
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let start = inner.span().offset();
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..start].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

fn source_for(outcome: &Outcome, file: &str) -> Option<Source> {
    outcome
        .sources
        .files
        .iter()
        .find(|f| f.path == file)
        .map(|f| Source {
            name: visible(&f.path).into_owned(),
            text: frame_text(&f.text).into_owned(),
        })
}

/// A label at a location; a zero-length span still marks the start of the field.
fn label(loc: &Location, text: &str) -> LabeledSpan {
    LabeledSpan::new(Some(visible(text).into_owned()), loc.offset, loc.len.max(1))
}

/// Lines longer than this (minified JSON, say) are not shown as a code frame: the renderer
/// cannot draw them, and they would not help.
const MAX_FRAME_LINE: usize = 2_000;

/// Related spans within this many lines of the finding are drawn in its frame.
const NEAR_LINES: u32 = 8;

/// Whether the line holding `loc` can be shown as a code frame.
pub(super) fn framable(outcome: &Outcome, loc: &Location) -> bool {
    outcome
        .sources
        .files
        .iter()
        .find(|f| f.path == loc.file)
        .is_some_and(|f| {
            let start = f.text[..loc.offset.min(f.text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let end = f.text[start..]
                .find('\n')
                .map_or(f.text.len(), |i| start + i);
            end - start <= MAX_FRAME_LINE && loc.line > 0
        })
}

fn position(loc: &Location) -> String {
    format!("{}:{}:{}", visible(&loc.file), loc.line, loc.column)
}

fn frame(outcome: &Outcome, f: &Finding) -> Frame {
    let own = framable(outcome, &f.location);
    // The primary label heads the snippet with the finding's own file:line:column.
    let mut labels = Vec::new();
    if own {
        labels.push(LabeledSpan::new_primary_with_span(
            None,
            (f.location.offset, f.location.len.max(1)),
        ));
    }
    let mut related = Vec::new();
    for r in &f.related {
        let shown = framable(outcome, &r.location);
        // Nearby related spans share the finding's frame; distant ones get their own, so the
        // first header is always the finding's position.
        let near = r.location.file == f.location.file
            && r.location.line.abs_diff(f.location.line) <= NEAR_LINES;
        if own && shown && near {
            labels.push(label(&r.location, &r.message));
        } else {
            related.push(Frame {
                code: "related location".into(),
                severity: miette::Severity::Advice,
                message: if shown {
                    visible(&r.message).into_owned()
                } else {
                    format!("{}: {}", position(&r.location), visible(&r.message))
                },
                help: None,
                source: shown
                    .then(|| source_for(outcome, &r.location.file))
                    .flatten(),
                labels: if shown {
                    vec![LabeledSpan::new_primary_with_span(
                        None,
                        (r.location.offset, r.location.len.max(1)),
                    )]
                } else {
                    Vec::new()
                },
                related: Vec::new(),
            });
        }
    }
    let mut what = visible(&format!("{}: {}", f.resource, f.message)).into_owned();
    if let Some(note) = super::clusters_note(f) {
        what.push_str(&format!("\n= {}", visible(&note)));
    }
    let message = if own {
        what
    } else if f.location.line == 0 {
        format!("{}: {what}", visible(&f.location.file))
    } else if !outcome
        .sources
        .files
        .iter()
        .any(|s| s.path == f.location.file)
    {
        // A file that is no input (the config file, a baseline): its position is enough.
        format!("{}: {what}", position(&f.location))
    } else {
        format!(
            "{}: {what} (no code frame: the line is too long, as in minified JSON)",
            position(&f.location),
        )
    };
    Frame {
        code: format!("{} {}", f.code, f.name),
        severity: miette_severity(f.severity),
        message,
        help: f.help.as_deref().map(|h| visible(h).into_owned()),
        source: own.then(|| source_for(outcome, &f.location.file)).flatten(),
        labels,
        related,
    }
}

pub fn render(outcome: &Outcome, style: super::Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for f in &outcome.findings {
        let _ = handler.render_report(&mut out, &frame(outcome, f));
        out.push('\n');
    }
    for e in &outcome.errors {
        let source = source_for(outcome, &e.file).filter(|_| e.line > 0);
        let labels = match &source {
            Some(src) => offset_of(&src.text, e.line, e.column)
                .map(|o| vec![LabeledSpan::new(None, o, 1)])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let position = if e.line > 0 {
            format!("{}:{}:{}", visible(&e.file), e.line, e.column)
        } else {
            visible(&e.file).into_owned()
        };
        let err = Frame {
            code: "input-error".into(),
            severity: miette::Severity::Error,
            message: format!("{position}: {}", visible(&e.message)),
            help: None,
            source: if labels.is_empty() { None } else { source },
            labels,
            related: Vec::new(),
        };
        let _ = handler.render_report(&mut out, &err);
        out.push('\n');
    }
    if style.quiet {
        return out;
    }
    let (error, warning, info) = super::counts(outcome);
    let total = error + warning + info;
    let _ = writeln!(
        out,
        "{} ({error} error, {warning} warning, {info} info) in {}, {}{}{}{}",
        super::plural(total, "finding"),
        super::plural(outcome.sources.files.len(), "file"),
        super::plural(outcome.resources, "resource"),
        if outcome.errors.is_empty() {
            String::new()
        } else {
            format!("; {}", super::plural(outcome.errors.len(), "input error"))
        },
        if outcome.baselined == 0 {
            String::new()
        } else {
            format!("; {} in the baseline", outcome.baselined)
        },
        outcome
            .config
            .as_deref()
            .map_or(String::new(), |c| format!("; config {}", visible(c)))
    );
    out
}

/// Byte offset of a 1-based line and character column.
pub(super) fn offset_of(text: &str, line: u32, column: u32) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line as usize - 2)?.0 + 1
    };
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(rest.len(), |(i, _)| i);
    Some(start + col)
}
