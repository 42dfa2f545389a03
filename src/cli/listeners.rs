//! `meshlint listeners`.

use std::io::Write;

use crate::engine::{self, AmbientNamespace, AmbientPath};
use crate::model::listener::{Row, ScopeRows};
use crate::report::text::visible;

use super::{AdminArgs, ListFormat, MeshArgs, ReadArgs, eprint_line, or_report, report_inputs};

#[derive(Debug, clap::Args)]
pub struct ListenersArgs {
    /// Files or directories; `-` reads stdin.
    pub paths: Vec<String>,
    /// Only scopes of this namespace (also the namespace of resources that do not set one).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Only the scope of the Sidecar or namespace that applies to this workload.
    #[arg(long)]
    pub workload: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    /// Walk directories without honouring ignore files (`.gitignore`, `.ignore`).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub mesh: MeshArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub(super) fn listeners(args: ListenersArgs) -> u8 {
    // `-n` picks the scopes to print and is also the namespace of resources without one, so
    // `... | meshlint listeners - -n payments` shows them.
    let Some(mut settings) = or_report(args.mesh.settings(args.namespace.clone(), &args.read))
    else {
        return 2;
    };
    settings.no_ignore = args.no_ignore;
    let paths = if args.paths.is_empty() && args.admin.admin.is_none() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let Some(view) = or_report(engine::listeners_with(
        &paths,
        args.admin.fetch(),
        &settings,
    )) else {
        return 2;
    };
    let shown: Vec<&ScopeRows> = view
        .scopes
        .iter()
        .filter(|(_, namespace, workloads, _)| {
            args.namespace.as_ref().is_none_or(|n| n == namespace)
                && args.workload.as_ref().is_none_or(|w| workloads.contains(w))
        })
        .collect();
    let ambient: Vec<AmbientNamespace> = view
        .ambient
        .iter()
        .filter(|a| args.namespace.as_ref().is_none_or(|n| *n == a.namespace))
        .filter_map(|a| match &args.workload {
            None => Some(a.clone()),
            Some(w) => {
                let workloads: Vec<AmbientPath> = a
                    .workloads
                    .iter()
                    .filter(|p| p.name == *w)
                    .cloned()
                    .collect();
                (!workloads.is_empty()).then(|| AmbientNamespace {
                    workloads,
                    services: Vec::new(),
                    ..a.clone()
                })
            }
        })
        .collect();
    let code = report_inputs(&view.notices, &view.errors);
    if let Some(why) = &view.no_scopes {
        eprint_line("note", why);
    } else if shown.is_empty()
        && ambient.is_empty()
        && !(view.scopes.is_empty() && view.ambient.is_empty())
    {
        eprint_line("note", &filtered_out(&args, &view.scopes));
    }
    // Written as it is produced: a large mesh's tables are never held twice in memory. A closed
    // pipe (`meshlint ... | head`) is not an error worth reporting.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = match args.format {
        ListFormat::Human => write_human(&mut out, &shown).and_then(|()| {
            ambient
                .iter()
                .try_for_each(|a| out.write_all(ambient_text(a).as_bytes()))
        }),
        ListFormat::Json => write_json(&mut out, &shown, &ambient),
    }
    .and_then(|()| out.flush());
    // The process ends here: freeing a large mesh's tables piece by piece would only cost time.
    std::mem::forget(view);
    code
}

fn write_human(out: &mut impl Write, scopes: &[&ScopeRows]) -> std::io::Result<()> {
    for (label, _, _, rows) in scopes {
        writeln!(out, "{}", visible(label))?;
        writeln!(
            out,
            "  {:<16} {:>6}  {:<20} OWNERS",
            "ADDRESS", "PORT", "TYPE"
        )?;
        for r in rows.iter() {
            write!(
                out,
                "  {:<16} {:>6}  {:<20} ",
                visible(&r.address),
                r.port,
                r.kind
            )?;
            for (i, o) in r.owners.iter().enumerate() {
                if i > 0 {
                    out.write_all(b", ")?;
                }
                out.write_all(visible(o).as_bytes())?;
            }
            if let Some(c) = &r.conflict {
                write!(out, "  <- {}", visible(c))?;
            }
            out.write_all(b"\n")?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `{"version": 1, "scopes": [...], "ambient": [...]}`, pretty-printed with its keys in sorted
/// order.
fn write_json(
    out: &mut impl Write,
    scopes: &[&ScopeRows],
    ambient: &[AmbientNamespace],
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Document<'a> {
        ambient: &'a [AmbientNamespace],
        scopes: Vec<ScopeJson<'a>>,
        version: u32,
    }
    #[derive(serde::Serialize)]
    struct ScopeJson<'a> {
        listeners: RowsJson<'a>,
        namespace: &'a str,
        scope: &'a str,
        workloads: &'a [String],
    }
    struct RowsJson<'a>(&'a [Row]);
    #[derive(serde::Serialize)]
    struct RowJson<'a> {
        address: &'a str,
        conflict: &'a Option<String>,
        owners: &'a [String],
        port: i64,
        #[serde(rename = "type")]
        kind: &'a str,
    }
    impl serde::Serialize for RowsJson<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(|r| RowJson {
                address: &r.address,
                conflict: &r.conflict,
                owners: &r.owners,
                port: r.port,
                kind: &r.kind,
            }))
        }
    }
    let doc = Document {
        ambient,
        scopes: scopes
            .iter()
            .map(|(label, namespace, workloads, rows)| ScopeJson {
                listeners: RowsJson(rows),
                namespace,
                scope: label,
                workloads,
            })
            .collect(),
        version: 1,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// An ambient namespace as `meshlint listeners` prints it: no sidecar listeners, and each
/// workload's and Service's path (ztunnel, then its waypoint when one is named).
fn ambient_text(a: &AmbientNamespace) -> String {
    let what = if a.labelled {
        "`istio.io/dataplane-mode=ambient`"
    } else {
        "ambient workloads"
    };
    let mut out = format!(
        "namespace {} ({what}): no sidecar, so no sidecar listeners; the node's ztunnel carries the traffic of its ambient workloads (mTLS over HBONE, port 15008), and a waypoint the L7 part when one is named\n",
        visible(&a.namespace)
    );
    for p in a.workloads.iter().chain(&a.services) {
        let waypoint = p.waypoint.as_deref().map(visible);
        let via = match (&waypoint, p.named_by) {
            (Some(w), Some(by)) if p.refused => format!(
                "ztunnel (waypoint {w}, {by}, takes no {} traffic)",
                if p.kind == "Service" {
                    "service"
                } else {
                    "workload"
                }
            ),
            (Some(w), Some(by)) => format!("ztunnel → waypoint {w} ({by})"),
            _ => "ztunnel".to_string(),
        };
        out.push_str(&format!(
            "  {:<36} {via}\n",
            format!("{} {}", visible(&p.kind), visible(&p.name))
        ));
    }
    out.push('\n');
    out
}

/// Why `-n` or `--workload` left nothing to print, naming what there is.
fn filtered_out(args: &ListenersArgs, scopes: &[ScopeRows]) -> String {
    let mut namespaces: Vec<&str> = scopes.iter().map(|s| s.1.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let which = match (&args.namespace, &args.workload) {
        (Some(ns), Some(w)) => format!("for workload `{w}` in namespace {ns}"),
        (Some(ns), None) => format!("in namespace {ns}"),
        (None, Some(w)) => format!("for workload `{w}`"),
        (None, None) => String::new(),
    };
    format!(
        "no proxy scope {which}; scopes are in namespace{} {}",
        if namespaces.len() == 1 { "" } else { "s" },
        namespaces.join(", ")
    )
}
