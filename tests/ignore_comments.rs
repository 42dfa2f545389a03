//! `# meshlint: ignore[...]` comments: on the offending line, at the top of a document or in
//! `metadata`; unused or misplaced ones are MESH001.

mod common;

use common::{findings, run, temp_dir, write};
use serde_json::Value;

const TEXT: &str = "\
# meshlint: ignore[MESH101]
apiVersion: v1
kind: Service
metadata:
  name: top
  namespace: shop
spec:
  ports:
  - name: web
    port: 8080
  - name: metrics
    port: 9090
---
apiVersion: v1
kind: Service
metadata:  # meshlint: ignore[port-name-missing-protocol]
  name: meta
  namespace: shop
spec:
  ports:
  - name: web
    port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: closing
  namespace: shop
  # meshlint: ignore[MESH101]
spec:
  ports:
  - name: web
    port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: line
  namespace: shop
spec:
  ports:
  - name: web  # meshlint: ignore[MESH101]
    port: 8080
  - name: other
    port: 8081  # meshlint: ignore[MESH101]
  # meshlint: ignore[MESH101]
  - name: third
    port: 8082
---
apiVersion: v1
kind: Service
metadata:
  name: typo
  namespace: shop
  annotations: {}  # meshlint: ignore[MESH10l, host-port-colision]
spec:
  ports:
  - name: http
    port: 80
";

/// The line (1-based) of the `nth` line that is `line` once trimmed, or contains it.
fn line_of(line: &str, nth: usize) -> u64 {
    TEXT.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == line.trim() || l.contains(line) && !line.starts_with(' '))
        .nth(nth)
        .map(|(i, _)| i as u64 + 1)
        .unwrap_or_else(|| panic!("no {line}"))
}

/// The column (1-based) of `token` on line `line`.
fn column_of(line: u64, token: &str) -> u64 {
    let text = TEXT.lines().nth(line as usize - 1).expect("line");
    text.find(token).expect("token") as u64 + 1
}

fn brief(doc: &Value) -> Vec<(String, String, u64, u64)> {
    findings(doc)
        .iter()
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["resource"]["name"].as_str().expect("name").to_string(),
                f["location"]["line"].as_u64().expect("line"),
                f["location"]["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

#[test]
fn comments_cover_their_line_their_document_or_their_metadata() {
    let dir = temp_dir();
    write(&dir.path().join("a.yaml"), TEXT);
    let out = run(dir.path(), &["check", "a.yaml", "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    let got = brief(&doc);
    let s = |x: &str| x.to_string();
    let other = line_of("name: other", 0);
    let port = line_of("port: 8081", 0);
    // The third comment alone on its line: after the top one and the one closing metadata.
    let alone = line_of("  # meshlint: ignore[MESH101]", 2);
    let third = line_of("name: third", 0);
    let typo = line_of("annotations: {}", 0);
    let expected = vec![
        (s("MESH101"), s("line"), other, column_of(other, "other")),
        (s("MESH001"), s("line"), port, column_of(port, "#")),
        (s("MESH001"), s("line"), alone, column_of(alone, "#")),
        (s("MESH101"), s("line"), third, column_of(third, "third")),
        (s("MESH001"), s("typo"), typo, column_of(typo, "#")),
        (s("MESH001"), s("typo"), typo, column_of(typo, "#")),
    ];
    assert_eq!(got, expected, "{:#?}", findings(&doc));
    let messages: Vec<&str> = findings(&doc)
        .iter()
        .filter(|f| f["code"] == "MESH001")
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert!(messages[0].contains("suppresses nothing: no such finding on this line"));
    assert!(messages[1].contains("covers nothing"), "{}", messages[1]);
    assert!(
        messages[2].contains("did you mean `MESH101`?"),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].contains("did you mean `host-port-collision`?"),
        "{}",
        messages[3]
    );
}

#[test]
fn comments_of_rules_that_did_not_run_are_not_judged() {
    let dir = temp_dir();
    write(&dir.path().join("a.yaml"), TEXT);
    let out = run(
        dir.path(),
        &["check", "a.yaml", "--format", "json", "--ignore", "MESH101"],
    );
    let got = brief(&out.json());
    // Only the misplaced comment and the unknown names remain.
    assert_eq!(
        got.iter()
            .map(|(c, n, _, _)| (c.as_str(), n.as_str()))
            .collect::<Vec<_>>(),
        [
            ("MESH001", "line"),
            ("MESH001", "typo"),
            ("MESH001", "typo")
        ]
    );
}

#[test]
fn a_hash_inside_a_value_is_not_a_comment() {
    let dir = temp_dir();
    write(
        &dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: q\n  namespace: shop\n  annotations:\n    note: \"# meshlint: ignore[MESH101]\"\nspec:\n  ports:\n  - name: web\n    port: 8080\n",
    );
    let out = run(dir.path(), &["check", "a.yaml", "--format", "json"]);
    out.expect_code(1);
    let got = brief(&out.json());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "MESH101");
}
