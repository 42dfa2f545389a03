//! The resource graph as an inline SVG: one column per kind of resource (routes, gateways and
//! policies, Services, workloads, the rest), nodes in the graph's own order within a column,
//! edges as curves from left to right. Drawn here, so the report needs no layout program.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::diagnostic::{GraphNode, GraphView};
use crate::report::graph::color;

use super::escape::esc;

const NODE_W: usize = 210;
const NODE_H: usize = 40;
const COL_GAP: usize = 90;
const ROW_GAP: usize = 14;
const TOP: usize = 34;
const PAD: usize = 16;
/// Characters of a name that fit in a box; longer names are cut, the tooltip has them whole.
const NAME_CHARS: usize = 30;
/// Above this many resources only those with findings and their neighbours are drawn.
pub const MAX_NODES: usize = 300;

const COLUMNS: [&str; 5] = [
    "routes",
    "gateways and policies",
    "services",
    "workloads",
    "other",
];

fn column(kind: &str) -> usize {
    match kind {
        "VirtualService" | "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" => 0,
        "Gateway"
        | "DestinationRule"
        | "ServiceEntry"
        | "Sidecar"
        | "WorkloadEntry"
        | "AuthorizationPolicy"
        | "PeerAuthentication"
        | "RequestAuthentication"
        | "EnvoyFilter" => 1,
        "Service" => 2,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "Pod"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "CronJob"
        | "Rollout"
        | "CloneSet"
        | "Configuration" => 3,
        _ => 4,
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= NAME_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(NAME_CHARS - 1).collect();
    out.push('…');
    out
}

/// The nodes drawn: all of them, or for a large graph those with findings and their neighbours.
fn shown(view: &GraphView) -> BTreeSet<usize> {
    let all: BTreeSet<usize> = (0..view.nodes.len()).collect();
    if all.len() <= MAX_NODES {
        return all;
    }
    let flagged: BTreeSet<usize> = all
        .iter()
        .copied()
        .filter(|&i| view.nodes[i].worst.is_some())
        .collect();
    let mut keep = flagged.clone();
    for &(a, b, _) in &view.edges {
        if flagged.contains(&a) || flagged.contains(&b) {
            keep.extend([a, b]);
        }
    }
    keep.into_iter().take(MAX_NODES).collect()
}

fn node(out: &mut String, n: &GraphNode, x: usize, y: usize) {
    let r = &n.resource;
    let name = if r.namespace.is_empty() {
        r.name.clone()
    } else {
        format!("{}/{}", r.namespace, r.name)
    };
    let stroke = color(n.worst).unwrap_or("#8c959f");
    let width = if n.worst.is_some() { 2.5 } else { 1.0 };
    let mut title = format!("{} {name}", r.kind);
    if !n.codes.is_empty() {
        let _ = write!(title, " [{}]", n.codes.join(", "));
    }
    let _ = writeln!(
        out,
        "<g class=\"node\"><title>{title}</title>\
         <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\" fill=\"#ffffff\" \
         stroke=\"{stroke}\" stroke-width=\"{width}\"/>\
         <text x=\"{tx}\" y=\"{ky}\" fill=\"#57606a\" font-size=\"11\">{kind}</text>\
         <text x=\"{tx}\" y=\"{ny}\" fill=\"{name_fill}\">{name}</text></g>",
        title = esc(&title),
        tx = x + 8,
        ky = y + 15,
        ny = y + 32,
        kind = esc(&cut(&if n.codes.is_empty() {
            r.kind.clone()
        } else {
            format!("{} · {}", r.kind, n.codes.join(", "))
        })),
        name_fill = if n.worst.is_some() { stroke } else { "#1f2328" },
        name = esc(&cut(&name)),
    );
}

pub fn section(out: &mut String, view: &GraphView) {
    out.push_str("<section id=\"graph\">\n<h2>Resource graph</h2>\n");
    if view.nodes.is_empty() {
        out.push_str("<p class=\"empty\">No resources refer to each other.</p>\n</section>\n");
        return;
    }
    let shown = shown(view);
    if shown.len() < view.nodes.len() {
        let _ = writeln!(
            out,
            "<p class=\"summary\">{} of {} resources: those with findings and their neighbours.</p>",
            shown.len(),
            view.nodes.len()
        );
    }
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); COLUMNS.len()];
    for &i in &shown {
        columns[column(&view.nodes[i].resource.kind)].push(i);
    }
    let used: Vec<usize> = (0..COLUMNS.len())
        .filter(|&c| !columns[c].is_empty())
        .collect();
    let mut at = vec![(0, 0); view.nodes.len()];
    for (slot, &c) in used.iter().enumerate() {
        for (row, &i) in columns[c].iter().enumerate() {
            at[i] = (
                PAD + slot * (NODE_W + COL_GAP),
                TOP + row * (NODE_H + ROW_GAP),
            );
        }
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let width = 2 * PAD + used.len() * NODE_W + used.len().saturating_sub(1) * COL_GAP + 60;
    let height = TOP + rows * (NODE_H + ROW_GAP) + PAD;
    let _ = writeln!(
        out,
        "<div class=\"graph\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"resource graph\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" \
         refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#8c959f\"/></marker></defs>"
    );
    for (slot, &c) in used.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"20\" fill=\"#57606a\" font-weight=\"600\">{}</text>",
            PAD + slot * (NODE_W + COL_GAP),
            COLUMNS[c]
        );
    }
    // Labels of edges into one node are stacked, so they do not overlap.
    let mut incoming = vec![0; view.nodes.len()];
    for &(a, b, kind) in &view.edges {
        if !shown.contains(&a) || !shown.contains(&b) {
            continue;
        }
        let stack = incoming[b] * 11;
        incoming[b] += 1;
        let ((ax, ay), (bx, by)) = (at[a], at[b]);
        let (y1, y2) = (ay + NODE_H / 2, by + NODE_H / 2);
        // Forward edges run right edge to left edge; others loop out to the right and back.
        let (x1, x2, path) = if bx > ax {
            let (x1, x2) = (ax + NODE_W, bx);
            let mid = (x1 + x2) / 2;
            (
                x1,
                x2,
                format!("M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"),
            )
        } else {
            let (x1, x2) = (ax + NODE_W, bx + NODE_W);
            let out_x = x1.max(x2) + 50;
            (
                x1,
                x2,
                format!("M {x1} {y1} C {out_x} {y1}, {out_x} {y2}, {x2} {y2}"),
            )
        };
        let _ = writeln!(
            out,
            "<g class=\"edge\"><title>{kind}</title><path d=\"{path}\" fill=\"none\" \
             stroke=\"#8c959f\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>\
             <text x=\"{lx}\" y=\"{ly}\" fill=\"#57606a\" font-size=\"10\" text-anchor=\"middle\">{kind}</text></g>",
            kind = esc(kind),
            // Beside the target, in the gap before its column, where no box covers it.
            lx = if bx > ax {
                x2 - COL_GAP / 2
            } else {
                x1.max(x2) + 40
            },
            ly = if bx > ax {
                (y2 - 4).saturating_sub(stack)
            } else {
                (y1 + y2) / 2 - 3
            },
        );
    }
    for &i in &shown {
        node(out, &view.nodes[i], at[i].0, at[i].1);
    }
    out.push_str("</svg></div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{ResourceRef, Severity};

    fn n(kind: &str, name: &str, worst: Option<Severity>) -> GraphNode {
        GraphNode {
            resource: ResourceRef {
                kind: kind.into(),
                namespace: "shop".into(),
                name: name.into(),
            },
            worst,
            codes: if worst.is_some() {
                vec!["MESH201"]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn columns_by_kind_and_escaped_labels() {
        let view = GraphView {
            nodes: vec![
                n("Deployment", "web", Some(Severity::Error)),
                n("Service", "<web>", None),
                n("VirtualService", "web", None),
            ],
            edges: vec![(1, 0, "selects"), (2, 1, "routes-to")],
        };
        let mut out = String::new();
        section(&mut out, &view);
        assert!(
            out.contains("shop/&lt;web&gt;") && !out.contains("<web>"),
            "{out}"
        );
        let x_of = |label: &str| {
            let i = out.find(label).expect(label);
            let rect = out[..i].rfind("<rect x=\"").expect("rect") + 9;
            out[rect..]
                .split('"')
                .next()
                .expect("x")
                .parse::<usize>()
                .expect("x")
        };
        assert!(
            x_of(">VirtualService<") < x_of(">Service<")
                && x_of(">Service<") < x_of(">Deployment · MESH201<")
        );
        assert_eq!(out.matches("class=\"edge\"").count(), 2);
        assert!(
            out.contains("stroke=\"#d73a49\""),
            "the error node is coloured"
        );
    }

    #[test]
    fn large_graphs_keep_flagged_nodes_and_neighbours() {
        let mut nodes: Vec<GraphNode> = (0..MAX_NODES + 50)
            .map(|i| n("Service", &format!("s{i}"), None))
            .collect();
        nodes.push(n("Deployment", "bad", Some(Severity::Warning)));
        let bad = nodes.len() - 1;
        let view = GraphView {
            nodes,
            edges: vec![(3, bad, "selects"), (4, 5, "aliases")],
        };
        assert_eq!(shown(&view), BTreeSet::from([3, bad]));
    }
}
