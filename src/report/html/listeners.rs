//! The predicted listener table of every proxy scope, as `meshlint listeners` prints it, with
//! conflicting listeners marked. Scopes whose tables are the same (namespaces that see the same
//! services, as most do) share one table, so a large mesh gives a page of a readable size.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::diagnostic::Outcome;
use crate::model::listener::Row;

use super::escape::esc;

/// Scope labels named in a shared table's heading before the rest are counted.
const SHOWN_LABELS: usize = 8;

/// Scopes grouped by their rows, in the order each table first appears.
fn groups(outcome: &Outcome) -> Vec<(Vec<&str>, Vec<&str>, &[Row])> {
    let mut index: BTreeMap<&[Row], usize> = BTreeMap::new();
    let mut out: Vec<(Vec<&str>, Vec<&str>, &[Row])> = Vec::new();
    for (label, _namespace, workloads, rows) in &outcome.listeners {
        let i = *index.entry(&rows[..]).or_insert_with(|| {
            out.push((Vec::new(), Vec::new(), &rows[..]));
            out.len() - 1
        });
        out[i].0.push(label);
        out[i].1.extend(workloads.iter().map(String::as_str));
    }
    out
}

fn heading(labels: &[&str]) -> String {
    let mut text = labels[..labels.len().min(SHOWN_LABELS)].join(", ");
    let more = labels.len().saturating_sub(SHOWN_LABELS);
    if more > 0 {
        let _ = write!(text, " and {more} more scopes");
    }
    text
}

pub fn section(out: &mut String, outcome: &Outcome) {
    out.push_str("<section id=\"listeners\">\n<h2>Listeners</h2>\n");
    if outcome.listeners.is_empty() {
        out.push_str(
            "<p class=\"empty\">No proxy scope: no namespace of the input has Istio sidecars, \
             and no config dump was read.</p>\n",
        );
    }
    for (labels, workloads, rows) in groups(outcome) {
        let conflicts = rows.iter().filter(|r| r.conflict.is_some()).count();
        let _ = write!(out, "<h3>{}", esc(&heading(&labels)));
        if conflicts > 0 {
            let _ = write!(
                out,
                " <span class=\"badge error\">{conflicts} conflict{}</span>",
                if conflicts == 1 { "" } else { "s" }
            );
        }
        out.push_str("</h3>\n");
        if labels.len() > 1 {
            let _ = writeln!(
                out,
                "<p class=\"summary\">{} scopes with the same listeners: {}</p>",
                labels.len(),
                esc(&labels.join(", "))
            );
        }
        if !workloads.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"summary\">workloads: {}</p>",
                esc(&workloads.join(", "))
            );
        }
        out.push_str(
            "<table>\n<thead><tr><th>address</th><th>port</th><th>type</th><th>owners</th>\
             <th>conflict</th></tr></thead>\n<tbody>\n",
        );
        for r in rows {
            let _ = writeln!(
                out,
                "<tr{}><td class=\"mono\">{}</td><td class=\"port mono\">{}</td><td>{}</td>\
                 <td>{}</td><td class=\"why\">{}</td></tr>",
                if r.conflict.is_some() {
                    " class=\"conflict\""
                } else {
                    ""
                },
                esc(&r.address),
                r.port,
                esc(&r.kind),
                esc(&r.owners.join(", ")),
                esc(r.conflict.as_deref().unwrap_or("")),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}
