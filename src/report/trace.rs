//! The human rendering of `meshlint trace`.

use std::fmt::Write as _;

use crate::envoy::trace::Trace;

pub fn render(t: &Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace {}{}",
        t.destination,
        t.proxy
            .as_ref()
            .map_or(String::new(), |p| format!(" from {p}"))
    );
    let _ = writeln!(out, "connection: {}", t.connection);
    out.push('\n');
    for (i, s) in t.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>2}. {:<16} {}",
            i + 1,
            s.stage.replace('_', " "),
            s.chosen
        );
        for n in &s.notes {
            let _ = writeln!(out, "    {n}");
        }
        if !s.passed_over.is_empty() {
            let _ = writeln!(out, "    passed over:");
            for p in &s.passed_over {
                let _ = writeln!(out, "      - {}: {}", p.candidate, p.reason);
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "=> {}", t.outcome.summary);
    if let Some(w) = &t.without_listener {
        let _ = writeln!(
            out,
            "   without listener {} the connection would have reached: {}",
            w.listener, w.would_reach
        );
    }
    out
}
