//! `--format html`: one self-contained page with every finding (code, file:line), the listener
//! tables with their conflicts, the resource graph as SVG, and nothing from the input able to
//! add markup.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

fn meshlint(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("meshlint runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn demo_report_has_every_finding_listener_conflict_and_graph_node() {
    let (code, html) = meshlint(root(), &["check", "testdata/demo", "--format", "html"]);
    let (json_code, json) = meshlint(root(), &["check", "testdata/demo", "--format", "json"]);
    assert_eq!(
        code, json_code,
        "the exit code is the same for every format"
    );
    let json: Value = serde_json::from_str(&json).expect("JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        let l = &f["location"];
        let at = format!(
            "data-code=\"{}\" data-location=\"{}:{}:{}\"",
            f["code"].as_str().expect("code"),
            l["file"].as_str().expect("file"),
            l["line"],
            l["column"]
        );
        assert!(html.contains(&at), "missing {at}");
    }
    assert_eq!(
        html.matches("<article class=\"finding").count(),
        findings.len()
    );

    let (_, listeners) = meshlint(root(), &["listeners", "testdata/demo", "--format", "json"]);
    let listeners: Value = serde_json::from_str(&listeners).expect("JSON");
    let scopes = listeners["scopes"].as_array().expect("scopes");
    // Scopes with the same listeners share one table.
    let mut tables: Vec<&Value> = Vec::new();
    for s in scopes {
        if !tables.contains(&&s["listeners"]) {
            tables.push(&s["listeners"]);
        }
    }
    assert!(tables.len() < scopes.len(), "the demo has scopes alike");
    let conflicts: usize = tables
        .iter()
        .flat_map(|t| t.as_array().expect("rows"))
        .filter(|r| r["conflict"].is_string())
        .count();
    assert!(conflicts > 0);
    assert_eq!(html.matches("<tr class=\"conflict\">").count(), conflicts);
    assert_eq!(html.matches("<table>").count(), tables.len());
    let headings: Vec<&str> = html.lines().filter(|l| l.starts_with("<h3>")).collect();
    for s in scopes {
        let label = s["scope"].as_str().expect("label");
        assert!(
            headings.iter().any(|h| h.contains(label)),
            "no table for {label}"
        );
    }

    let (_, graph) = meshlint(root(), &["graph", "testdata/demo", "--format", "json"]);
    let graph: Value = serde_json::from_str(&graph).expect("JSON");
    let nodes = graph["nodes"].as_array().expect("nodes").len();
    assert!(html.contains("<svg "));
    assert_eq!(html.matches("<g class=\"node\">").count(), nodes);
    assert_eq!(
        html.matches("<g class=\"edge\">").count(),
        graph["edges"].as_array().expect("edges").len()
    );
}

#[test]
fn page_is_self_contained() {
    let (_, html) = meshlint(root(), &["check", "testdata/demo", "--format", "html"]);
    for banned in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", " src=",
    ] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    for (i, _) in html.match_indices("url(") {
        assert!(
            html[i..].starts_with("url(#"),
            "an external url(): {}",
            &html[i..i + 40]
        );
    }
    for (i, _) in html.match_indices("href=\"") {
        assert!(
            html[i + 6..].starts_with('#'),
            "an external link: {}",
            &html[i..i + 40]
        );
    }
    let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_svg_namespace.contains("http://"));
    assert!(!without_svg_namespace.contains("https://"));
}

#[test]
fn hostile_input_stays_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  containers:\n  - name: \"<script>alert(1)</script>\\u202e\\e[2J\"\n    image: a\n    ports:\n    - containerPort: 8080  # <img src=x onerror=alert(1)>\n  - name: b\n    image: b\n    ports:\n    - containerPort: 8080\n";
    std::fs::write(dir.path().join("pod.yaml"), pod).expect("write");
    std::fs::write(dir.path().join("broken.yaml"), "kind: <blink>\n  x: [\n").expect("write");
    let (code, html) = meshlint(dir.path(), &["check", ".", "--format", "html"]);
    assert_eq!(code, 2, "the broken file is an input error");
    assert!(html.contains("MESH201"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<blink"));
    assert!(!html.contains('\u{202e}') && !html.contains('\u{1b}'));
    assert!(html.contains("id=\"input-errors\""));
    assert!(
        html.contains("kind: &lt;blink&gt;"),
        "the broken line is framed: {html}"
    );
}
