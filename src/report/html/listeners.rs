//! The predicted listener table of every proxy scope, as `meshlint listeners` prints it, with
//! conflicting listeners marked.

use std::fmt::Write;

use crate::diagnostic::Outcome;

use super::escape::esc;

pub fn section(out: &mut String, outcome: &Outcome) {
    out.push_str("<section id=\"listeners\">\n<h2>Listeners</h2>\n");
    if outcome.listeners.is_empty() {
        out.push_str(
            "<p class=\"empty\">No proxy scope: no namespace of the input has Istio sidecars, \
             and no config dump was read.</p>\n",
        );
    }
    for (label, _namespace, workloads, rows) in &outcome.listeners {
        let conflicts = rows.iter().filter(|r| r.conflict.is_some()).count();
        let _ = write!(out, "<h3>{}", esc(label));
        if conflicts > 0 {
            let _ = write!(
                out,
                " <span class=\"badge error\">{conflicts} conflict{}</span>",
                if conflicts == 1 { "" } else { "s" }
            );
        }
        out.push_str("</h3>\n");
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
