//! `meshlint listeners`.

use crate::engine::{self, AmbientNamespace, AmbientPath};
use crate::model::listener::Row;

use super::{
    AdminArgs, ListFormat, MeshArgs, ReadArgs, eprint_line, or_report, print, report_inputs,
};

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
    let mut out = String::new();
    let mut json_scopes = Vec::new();
    let mut printed = 0;
    for (label, namespace, workloads, rows) in &view.scopes {
        if args.namespace.as_ref().is_some_and(|n| n != namespace) {
            continue;
        }
        if args
            .workload
            .as_ref()
            .is_some_and(|w| !workloads.contains(w))
        {
            continue;
        }
        printed += 1;
        match args.format {
            ListFormat::Human => {
                out.push_str(&format!("{label}\n"));
                out.push_str(&format!(
                    "  {:<16} {:>6}  {:<20} {}\n",
                    "ADDRESS", "PORT", "TYPE", "OWNERS"
                ));
                for r in rows {
                    out.push_str(&format!(
                        "  {:<16} {:>6}  {:<20} {}{}\n",
                        r.address,
                        r.port,
                        r.kind,
                        r.owners.join(", "),
                        r.conflict
                            .as_ref()
                            .map_or(String::new(), |c| format!("  <- {c}"))
                    ));
                }
                out.push('\n');
            }
            ListFormat::Json => json_scopes.push(serde_json::json!({
                "scope": label,
                "namespace": namespace,
                "workloads": workloads,
                "listeners": rows.iter().map(|r| serde_json::json!({
                    "address": r.address, "port": r.port, "type": r.kind,
                    "owners": r.owners, "conflict": r.conflict,
                })).collect::<Vec<_>>(),
            })),
        }
    }
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
    printed += ambient.len();
    match args.format {
        ListFormat::Json => {
            out = serde_json::to_string_pretty(&serde_json::json!({
                "version": 1,
                "scopes": json_scopes,
                "ambient": ambient,
            }))
            .expect("JSON values always serialise");
            out.push('\n');
        }
        ListFormat::Human => {
            for a in &ambient {
                out.push_str(&ambient_text(a));
            }
        }
    }
    let code = report_inputs(&view.notices, &view.errors);
    if let Some(why) = &view.no_scopes {
        eprint_line("note", why);
    } else if printed == 0 && !(view.scopes.is_empty() && view.ambient.is_empty()) {
        eprint_line("note", &filtered_out(&args, &view.scopes));
    }
    print(&out);
    code
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
        a.namespace
    );
    for p in a.workloads.iter().chain(&a.services) {
        let via = match (&p.waypoint, p.named_by) {
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
            format!("{} {}", p.kind, p.name)
        ));
    }
    out.push('\n');
    out
}

/// Why `-n` or `--workload` left nothing to print, naming what there is.
fn filtered_out(
    args: &ListenersArgs,
    scopes: &[(String, String, Vec<String>, Vec<Row>)],
) -> String {
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
