//! The findings and input errors of the HTML report, each with its code frame.

use std::fmt::Write;

use crate::diagnostic::{Finding, Location, Outcome};

use super::escape::esc;
use super::frame;

/// Context lines around a finding, and around a related location.
const CONTEXT: usize = 2;
const RELATED_CONTEXT: usize = 0;

fn position(loc: &Location) -> String {
    if loc.line == 0 {
        return loc.file.clone();
    }
    format!("{}:{}:{}", loc.file, loc.line, loc.column)
}

fn finding(out: &mut String, outcome: &Outcome, i: usize, f: &Finding) {
    let severity = f.severity.as_str();
    let at = position(&f.location);
    let _ = write!(
        out,
        "<article class=\"finding {severity}\" id=\"finding-{i}\" data-code=\"{code}\" \
         data-location=\"{loc}\">\n<header><span class=\"badge {severity}\">{severity}</span> \
         <span class=\"code\">{code}</span> <span class=\"name\">{name}</span> \
         <span class=\"loc mono\">{loc}</span></header>\n\
         <p class=\"message\"><b>{resource}</b>: {message}</p>\n",
        code = esc(f.code),
        name = esc(f.name),
        loc = esc(&at),
        resource = esc(&f.resource.to_string()),
        message = esc(&f.message),
    );
    match frame::around(outcome, &f.location, CONTEXT) {
        Some(frame) => out.push_str(&frame),
        None if f.location.line > 0 => out.push_str(
            "<p class=\"empty\">No code frame: the line is too long, as in minified JSON.</p>",
        ),
        None => {}
    }
    if !f.related.is_empty() {
        out.push_str("<ul class=\"related\">\n");
        for r in &f.related {
            let _ = write!(
                out,
                "<li>{} <span class=\"loc mono\">{}</span>",
                esc(&r.message),
                esc(&position(&r.location))
            );
            if let Some(frame) = frame::around(outcome, &r.location, RELATED_CONTEXT) {
                out.push_str(&frame);
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "<p class=\"help\"><b>help:</b> {}</p>", esc(help));
    }
    if let Some(note) = super::super::clusters_note(f) {
        let _ = writeln!(out, "<p class=\"help\">{}</p>", esc(&note));
    }
    let mut peers = Vec::new();
    if !f.istio_codes.is_empty() {
        peers.push(format!("istioctl {}", f.istio_codes.join(", ")));
    }
    if !f.kiali_codes.is_empty() {
        peers.push(format!("Kiali {}", f.kiali_codes.join(", ")));
    }
    if let Some(k) = f.subkind {
        peers.push(format!("check {k}"));
    }
    if !peers.is_empty() {
        let _ = writeln!(out, "<p class=\"codes\">{}</p>", esc(&peers.join(" · ")));
    }
    out.push_str("</article>\n");
}

pub fn section(out: &mut String, outcome: &Outcome) {
    out.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    if outcome.findings.is_empty() {
        out.push_str("<p class=\"empty\">No findings.</p>\n");
    }
    for (i, f) in outcome.findings.iter().enumerate() {
        finding(out, outcome, i + 1, f);
    }
    out.push_str("</section>\n");
    if outcome.errors.is_empty() {
        return;
    }
    out.push_str("<section id=\"input-errors\">\n<h2>Input errors</h2>\n");
    for e in &outcome.errors {
        let at = if e.line > 0 {
            format!("{}:{}:{}", e.file, e.line, e.column)
        } else {
            e.file.clone()
        };
        let _ = write!(
            out,
            "<article class=\"finding error\" data-code=\"input-error\" data-location=\"{at}\">\n\
             <header><span class=\"badge error\">error</span> <span class=\"code\">input error</span> \
             <span class=\"loc mono\">{at}</span></header>\n<p class=\"message\">{message}</p>\n",
            at = esc(&at),
            message = esc(&e.message),
        );
        if let Some(frame) = frame::at(outcome, &e.file, e.line, e.column) {
            out.push_str(&frame);
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
}
