//! The human rendering of `meshlint trace`.

use std::fmt::Write as _;

use crate::envoy::trace::Trace;

use super::text::visible;

/// A connection through ztunnel (ambient mode), step by step.
pub fn render_ztunnel(t: &crate::envoy::ztunnel::Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "trace {} (ambient: ztunnel)", visible(&t.destination));
    for (i, step) in t.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, visible(step));
    }
    out
}

pub fn render(t: &Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace {}{}",
        visible(&t.destination),
        t.proxy
            .as_ref()
            .map_or(String::new(), |p| format!(" from {}", visible(p)))
    );
    let _ = writeln!(out, "connection: {}", visible(&t.connection));
    out.push('\n');
    for (i, s) in t.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>2}. {:<16} {}",
            i + 1,
            s.stage.replace('_', " "),
            visible(&s.chosen)
        );
        for n in &s.notes {
            let _ = writeln!(out, "    {}", visible(n));
        }
        if !s.passed_over.is_empty() {
            let _ = writeln!(out, "    passed over:");
            for p in &s.passed_over {
                let _ = writeln!(
                    out,
                    "      - {}: {}",
                    visible(&p.candidate),
                    visible(&p.reason)
                );
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "=> {}", visible(&t.outcome.summary));
    if let Some(w) = &t.without_listener {
        let _ = writeln!(
            out,
            "   without listener {} the connection would have reached: {}",
            visible(&w.listener),
            visible(&w.would_reach)
        );
    }
    out
}
