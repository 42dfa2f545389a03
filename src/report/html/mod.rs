//! `--format html`: one self-contained page (inline CSS and SVG, no scripts, fonts or other
//! fetched resources) with the findings and their code frames, the predicted listener table
//! of every proxy scope, and the resource graph. Everything from the input is escaped.

mod escape;
mod findings;
mod frame;
mod listeners;
mod style;
mod svg;

use std::fmt::Write;

use crate::diagnostic::Outcome;

use escape::esc;

fn header(out: &mut String, outcome: &Outcome) {
    let (error, warning, info) = super::counts(outcome);
    let _ = write!(
        out,
        "<header>\n<h1>meshlint report</h1>\n<p class=\"summary\">{} in {}, {}{}{}</p>\n\
         <p class=\"counts\"><span class=\"error\">{error} error</span><span class=\"warning\">\
         {warning} warning</span><span class=\"info\">{info} info</span></p>\n",
        super::plural(error + warning + info, "finding"),
        super::plural(outcome.sources.files.len(), "file"),
        super::plural(outcome.resources, "resource"),
        if outcome.errors.is_empty() {
            String::new()
        } else {
            format!("; {}", super::plural(outcome.errors.len(), "input error"))
        },
        outcome
            .config
            .as_deref()
            .map_or(String::new(), |c| format!("; config {}", esc(c))),
    );
    out.push_str("<nav><a href=\"#findings\">Findings</a>");
    if !outcome.errors.is_empty() {
        out.push_str("<a href=\"#input-errors\">Input errors</a>");
    }
    out.push_str("<a href=\"#listeners\">Listeners</a><a href=\"#graph\">Resource graph</a></nav>\n</header>\n");
}

pub fn render(outcome: &Outcome) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"meshlint {}\">\n<title>meshlint report</title>\n\
         <style>{}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        style::CSS
    );
    header(&mut out, outcome);
    findings::section(&mut out, outcome);
    listeners::section(&mut out, outcome);
    svg::section(&mut out, &outcome.graph);
    let _ = write!(
        out,
        "<footer>meshlint {}</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}
