//! `--fix` and `--diff`: MESH101's safe fix (adding `appProtocol` for a name whose prefix is a
//! typo of a protocol) edits the file where it stands, keeps comments and style, and leaves a
//! file that checks clean.

mod common;

use std::fs;

use common::{findings, root, run, temp_dir, write};

const BLOCK: &str = "\
# the shop's web front
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
  - name: htpp-web   # the public port
    port: 8080
  - {name: grcp, port: 9090}
";

const JSON: &str = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"j","namespace":"shop"},"spec":{"ports":[{"name":"tpc-db","port":5432}]}}
"#;

const JSON_SPACED: &str = r#"{
  "apiVersion": "v1",
  "kind": "Service",
  "metadata": {"name": "s", "namespace": "shop"},
  "spec": {"ports": [{"port": 80, "name": "htpp"}]}
}
"#;

#[test]
fn diff_shows_the_fix_and_changes_nothing() {
    let dir = temp_dir();
    write(&dir.path().join("svc.yaml"), BLOCK);
    let out = run(dir.path(), &["check", "svc.yaml", "--diff"]);
    out.expect_code(1);
    let expected = "\
--- a/svc.yaml
+++ b/svc.yaml
@@ -6,6 +6,7 @@
   namespace: shop
 spec:
   ports:
-  - name: htpp-web   # the public port
+  - appProtocol: http
+    name: htpp-web   # the public port
     port: 8080
-  - {name: grcp, port: 9090}
+  - {appProtocol: grpc, name: grcp, port: 9090}
";
    assert_eq!(out.stdout, expected);
    assert!(
        out.stderr.contains("2 fixes would be applied to 1 file"),
        "{}",
        out.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("svc.yaml")).expect("read"),
        BLOCK
    );
}

#[test]
fn fixed_files_keep_their_comments_and_check_clean() {
    let dir = temp_dir();
    write(&dir.path().join("svc.yaml"), BLOCK);
    write(&dir.path().join("j.json"), JSON);
    write(&dir.path().join("s.json"), JSON_SPACED);
    let before = run(dir.path(), &["check", ".", "--format", "json"]).json();
    let fixable = findings(&before)
        .iter()
        .filter(|f| f["fix"].is_object())
        .count();
    assert_eq!(fixable, 4, "{before:#}");
    let out = run(dir.path(), &["check", ".", "--fix", "--format", "json"]);
    out.expect_code(0);
    assert!(findings(&out.json()).is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("applied 4 fixes in 3 files"),
        "{}",
        out.stderr
    );
    let block = fs::read_to_string(dir.path().join("svc.yaml")).expect("read");
    assert!(block.starts_with("# the shop's web front\n"));
    assert!(block.contains("  - appProtocol: http\n    name: htpp-web   # the public port\n"));
    assert!(block.contains("  - {appProtocol: grpc, name: grcp, port: 9090}\n"));
    for (file, expected) in [("j.json", "tcp"), ("s.json", "http")] {
        let text = fs::read_to_string(dir.path().join(file)).expect("read");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(doc["spec"]["ports"][0]["appProtocol"], expected, "{text}");
    }
    let compact = fs::read_to_string(dir.path().join("j.json")).expect("read");
    assert!(
        compact.contains(r#"[{"appProtocol":"tcp","name":"tpc-db""#),
        "{compact}"
    );
    // Nothing is left to fix.
    let again = run(dir.path(), &["check", ".", "--diff"]);
    again.expect_code(0);
    assert_eq!(again.stdout, "");
}

#[test]
fn names_that_are_no_typos_get_no_fix() {
    let dir = temp_dir();
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: m\n  namespace: shop\nspec:\n  ports:\n  - name: metrics\n    port: 9100\n  - name: upd-x\n    port: 53\n    protocol: TCP\n  - port: 8080\n";
    write(&dir.path().join("svc.yaml"), text);
    let json = run(dir.path(), &["check", "svc.yaml", "--format", "json"]).json();
    assert!(!findings(&json).is_empty());
    assert!(findings(&json).iter().all(|f| f.get("fix").is_none()));
    let out = run(dir.path(), &["check", "svc.yaml", "--fix"]);
    out.expect_code(1);
    assert_eq!(
        fs::read_to_string(dir.path().join("svc.yaml")).expect("read"),
        text
    );
}

#[test]
fn rules_say_which_are_fixable() {
    let out = run(root(), &["rules", "--format", "json"]);
    let rules = out.json();
    let fixable: Vec<&str> = rules
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["fixable"] == true)
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(fixable, ["MESH101"]);
    let text = run(root(), &["rules"]).stdout;
    let line = text
        .lines()
        .find(|l| l.starts_with("MESH101"))
        .expect("MESH101");
    assert!(line.contains(" fix "), "{line}");
}

#[test]
fn fix_refuses_stdin_which_it_could_not_write() {
    let out = run(root(), &["check", "-", "--fix"]);
    out.expect_code(2);
    assert!(out.stderr.contains("use --diff"), "{}", out.stderr);
}
