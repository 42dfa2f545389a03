//! `meshlint graph`: the resource graph as DOT, Mermaid or JSON, with the resources that have
//! findings highlighted by their worst severity.

use std::fmt::Write;

use clap::ValueEnum;
use serde_json::json;

use crate::diagnostic::{GraphNode, GraphView, Severity};

use super::text::visible;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown)
    Mermaid,
    /// Nodes and edges as JSON
    Json,
}

fn label(n: &GraphNode) -> String {
    let r = &n.resource;
    let mut s = if r.namespace.is_empty() {
        format!("{} {}", r.kind, r.name)
    } else {
        format!("{} {}/{}", r.kind, r.namespace, r.name)
    };
    if !n.codes.is_empty() {
        s.push_str(&format!(" [{}]", n.codes.join(", ")));
    }
    visible(&s).into_owned()
}

pub(super) fn color(s: Option<Severity>) -> Option<&'static str> {
    match s? {
        Severity::Error => Some("#d73a49"),
        Severity::Warning => Some("#e36209"),
        Severity::Info => Some("#0366d6"),
    }
}

/// Quotes a DOT string.
fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn render(view: &GraphView, format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            out.push_str(
                "digraph mesh {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
            );
            for (i, n) in view.nodes.iter().enumerate() {
                let style = color(n.worst).map_or(String::new(), |c| {
                    format!(
                        ", color={}, penwidth=2, fontcolor={}",
                        dot_quote(c),
                        dot_quote(c)
                    )
                });
                let _ = writeln!(out, "  n{i} [label={}{style}];", dot_quote(&label(n)));
            }
            for (a, b, kind) in &view.edges {
                let _ = writeln!(out, "  n{a} -> n{b} [label={}];", dot_quote(kind));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for (i, n) in view.nodes.iter().enumerate() {
                // Mermaid labels cannot hold a raw double quote.
                let text = label(n).replace('"', "#quot;");
                let class = n
                    .worst
                    .map_or(String::new(), |s| format!(":::{}", s.as_str()));
                let _ = writeln!(out, "  n{i}[\"{text}\"]{class}");
            }
            for (a, b, kind) in &view.edges {
                let _ = writeln!(out, "  n{a} -->|{kind}| n{b}");
            }
            for s in [Severity::Error, Severity::Warning, Severity::Info] {
                if let Some(c) = color(Some(s)) {
                    let _ = writeln!(out, "  classDef {} stroke:{c},stroke-width:3px", s.as_str());
                }
            }
        }
        GraphFormat::Json => {
            let doc = json!({
                "version": 1,
                "nodes": view.nodes.iter().enumerate().map(|(i, n)| json!({
                    "id": i,
                    "kind": n.resource.kind,
                    "namespace": n.resource.namespace,
                    "name": n.resource.name,
                    "severity": n.worst,
                    "codes": n.codes,
                })).collect::<Vec<_>>(),
                "edges": view.edges.iter().map(|(a, b, k)| json!({"from": a, "to": b, "kind": k}))
                    .collect::<Vec<_>>(),
            });
            out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::ResourceRef;

    fn view() -> GraphView {
        let node = |kind: &str, name: &str, worst, codes| GraphNode {
            resource: ResourceRef {
                kind: kind.into(),
                namespace: "shop".into(),
                name: name.into(),
            },
            worst,
            codes,
        };
        GraphView {
            nodes: vec![
                node(
                    "Service",
                    "web \"x\"",
                    Some(Severity::Error),
                    vec!["MESH202"],
                ),
                node("Deployment", "web", None, vec![]),
            ],
            edges: vec![(0, 1, "selects")],
        }
    }

    #[test]
    fn dot_quotes_and_highlights() {
        let dot = render(&view(), GraphFormat::Dot);
        assert!(
            dot.contains(r##"n0 [label="Service shop/web \"x\" [MESH202]", color="#d73a49""##),
            "{dot}"
        );
        assert!(dot.contains(r#"n0 -> n1 [label="selects"];"#), "{dot}");
        assert!(
            dot.contains(r#"n1 [label="Deployment shop/web"];"#),
            "{dot}"
        );
    }

    #[test]
    fn mermaid_classes_by_severity() {
        let m = render(&view(), GraphFormat::Mermaid);
        assert!(
            m.contains("n0[\"Service shop/web #quot;x#quot; [MESH202]\"]:::error"),
            "{m}"
        );
        assert!(m.contains("n0 -->|selects| n1"), "{m}");
        assert!(m.contains("classDef error stroke:#d73a49"), "{m}");
    }

    #[test]
    fn json_lists_nodes_and_edges() {
        let j: serde_json::Value =
            serde_json::from_str(&render(&view(), GraphFormat::Json)).expect("json");
        assert_eq!(j["nodes"][0]["severity"], "error");
        assert_eq!(j["edges"][0]["kind"], "selects");
    }
}
