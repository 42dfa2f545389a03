//! The report's stylesheet, inlined in the page: no fonts, images or scripts are fetched.

pub const CSS: &str = r#"
:root { --error: #cf222e; --warning: #bc4c00; --info: #0969da; --muted: #57606a;
  --border: #d0d7de; --bg: #ffffff; --panel: #f6f8fa; --mark: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: #1f2328;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.summary { color: var(--muted); margin: 0 0 8px; }
.counts span { display: inline-block; margin-right: 12px; font-weight: 600; }
.counts .error { color: var(--error); } .counts .warning { color: var(--warning); } .counts .info { color: var(--info); }
nav a { margin-right: 16px; }
.finding { border: 1px solid var(--border); border-left: 4px solid var(--muted); border-radius: 6px;
  margin: 12px 0; padding: 10px 14px; background: var(--bg); }
.finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); }
.finding.info { border-left-color: var(--info); }
.finding header { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
.badge { font-size: 11px; font-weight: 700; text-transform: uppercase; border-radius: 10px; padding: 1px 8px; color: #fff; background: var(--muted); }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); } .badge.info { background: var(--info); }
.code { font-weight: 700; }
.loc { color: var(--muted); }
.message { margin: 6px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.help { margin: 6px 0 0; } .help b { color: var(--info); }
.frame { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; margin: 6px 0;
  padding: 6px 0; overflow-x: auto; tab-size: 4; }
.frame .line { white-space: pre; }
.frame .no { display: inline-block; width: 5ch; padding-right: 1ch; margin-right: 1ch; text-align: right;
  color: var(--muted); border-right: 1px solid var(--border); user-select: none; }
.frame mark { background: var(--mark); outline: 1px solid #d4a72c; border-radius: 2px; }
.frame .hit { background: #fff1f0; }
.related { margin: 6px 0 0 0; padding-left: 18px; }
.related li { margin: 4px 0; }
.codes { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; border-bottom: 1px solid var(--border); padding: 4px 8px; vertical-align: top; }
th { background: var(--panel); font-size: 12px; text-transform: uppercase; color: var(--muted); }
td.port { text-align: right; }
td.mono { white-space: nowrap; }
tr.conflict td { background: #fff1f0; }
tr.conflict td.why { color: var(--error); font-weight: 600; }
.graph { overflow-x: auto; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); }
.graph svg { max-width: 100%; height: auto; display: block; }
.graph svg text { font: 12px system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"#;
