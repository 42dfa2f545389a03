//! `meshlint rules`: every rule, as a table or as JSON.

use std::fmt::Write;

use serde_json::json;

use crate::rules::RULES;

use super::ListFormat;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

pub(super) fn render(format: ListFormat) -> String {
    match format {
        ListFormat::Json => {
            let rules: Vec<_> = RULES
                .iter()
                .map(|r| {
                    let m = r.meta();
                    json!({
                        "code": m.code,
                        "name": m.name,
                        "severity": m.severity,
                        "istio_codes": m.istio_codes,
                        "kiali_codes": m.kiali_codes,
                        "fixable": r.fixable(),
                        "opt_in": m.opt_in,
                        "summary": m.summary,
                    })
                })
                .collect();
            let mut out =
                serde_json::to_string_pretty(&rules).expect("JSON values always serialise");
            out.push('\n');
            out
        }
        ListFormat::Human => {
            let mut out = String::new();
            for r in RULES {
                let m = r.meta();
                let istio = if m.istio_codes.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", m.istio_codes.join(", "))
                };
                let fix = if r.fixable() { "fix" } else { "" };
                let opt_in = if m.opt_in {
                    " (opt-in: --extend-select)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "{}  {:<32} {:<8} {:<3}  {}{opt_in}{istio}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    fix,
                    m.summary
                );
            }
            out
        }
    }
}
