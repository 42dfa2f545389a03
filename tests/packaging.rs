//! What ships around the binary: the version it reports, shell completions, manual pages, the
//! GitHub Action, and the package metadata the docs point at.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn meshlint(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .expect("meshlint runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}, stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_of_a_git_checkout() {
    let shown = stdout(&meshlint(&["--version"]));
    let version = env!("CARGO_PKG_VERSION");
    let own_checkout = git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| Path::new(&top).canonicalize().ok() == root().canonicalize().ok());
    let expected = if own_checkout {
        let hash = git(&["rev-parse", "--short", "HEAD"]).expect("HEAD");
        let date = git(&["log", "-1", "--format=%cs", "HEAD"]).expect("date");
        format!("meshlint {version} ({hash} {date})\n")
    } else {
        format!("meshlint {version}\n")
    };
    assert_eq!(shown, expected);
}

const COMMANDS: [&str; 8] = [
    "check",
    "listeners",
    "trace",
    "graph",
    "rules",
    "explain",
    "completions",
    "man",
];

#[test]
fn completions_for_every_shell_name_the_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&meshlint(&["completions", shell]));
        for word in COMMANDS.iter().chain(&["format", "failure-threshold"]) {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(meshlint(&["completions", "tcsh"]).status.code(), Some(2));
}

/// The bash script, loaded into bash, completes `meshlint ch` to `check` and offers the
/// formats after `check --format`.
#[test]
fn bash_completion_completes_commands_and_formats() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("bash is not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("meshlint.bash");
    std::fs::write(&script, stdout(&meshlint(&["completions", "bash"]))).expect("write");
    let complete = |words: &str| {
        let probe = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _meshlint meshlint \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash")
            .args(["-c", &probe])
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(complete("meshlint ch").trim(), "check");
    let formats = complete("meshlint check --format ''");
    for f in ["human", "concise", "json", "sarif", "github"] {
        assert!(formats.lines().any(|l| l == f), "{f} missing: {formats}");
    }
}

#[test]
fn man_page_describes_every_command() {
    let page = stdout(&meshlint(&["man"]));
    assert!(page.contains(".TH meshlint 1"), "{page}");
    for c in COMMANDS {
        assert!(page.contains(c), "meshlint(1) does not name {c}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = meshlint(&["man", "--out-dir", &dir.path().to_string_lossy()]);
    stdout(&out);
    for c in COMMANDS {
        let page = std::fs::read_to_string(dir.path().join(format!("meshlint-{c}.1")))
            .unwrap_or_else(|e| panic!("meshlint-{c}.1: {e}"));
        assert!(page.contains(&format!(".TH meshlint-{c} 1")), "{page}");
    }
    let check = std::fs::read_to_string(dir.path().join("meshlint-check.1")).expect("page");
    assert!(check.contains("failure\\-threshold"), "{check}");
    assert!(dir.path().join("meshlint.1").exists());
    // groff, where installed, formats every page without a warning.
    if Command::new("groff").arg("--version").output().is_ok() {
        for c in COMMANDS {
            let out = Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(dir.path().join(format!("meshlint-{c}.1")))
                .output()
                .expect("groff");
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "meshlint-{c}.1: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn package_metadata_matches_the_docs() {
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT OR Apache-2.0");
    for file in ["LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"] {
        assert!(root().join(file).is_file(), "{file} is missing");
    }
    let repo = env!("CARGO_PKG_REPOSITORY");
    for doc in ["README.md", "docs/ci.md", "action.yml"] {
        let text = std::fs::read_to_string(root().join(doc)).expect("doc");
        assert!(
            text.contains(&format!("--git {repo} ")),
            "{doc} installs from another repository than {repo}"
        );
    }
}

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    serde_saphyr::from_str(&text).expect("action.yml is YAML")
}

fn step<'a>(action: &'a Value, name: &str) -> &'a Value {
    action["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step `{name}`"))
}

#[test]
fn action_declares_inputs_and_passes_them_only_through_the_environment() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    for input in ["paths", "args", "version"] {
        assert!(
            action["inputs"][input]["description"].is_string(),
            "{input}"
        );
    }
    for s in action["runs"]["steps"].as_array().expect("steps") {
        if let Some(run) = s["run"].as_str() {
            assert_eq!(s["shell"], "bash", "{s}");
            // An expression inside a script is pasted into it before bash runs: injection.
            assert!(!run.contains("${{"), "expression inside a script: {run}");
        }
    }
    let upload = step(&action, "Upload to code scanning");
    assert!(
        upload["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
    );
}

/// The action's check step, run by bash as the runner would: the SARIF report and the exit
/// code land in the step's outputs, and hostile input is passed as words, never run.
#[test]
fn action_check_step_writes_sarif_and_the_exit_code() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("bash is not installed; skipped");
        return;
    }
    let action = action();
    let run = step(&action, "Check manifests")["run"]
        .as_str()
        .expect("run")
        .to_string();
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let step_run = |paths: &str, args: &str| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outputs = tmp.path().join("outputs");
        let status = Command::new("bash")
            .args(["-c", &run])
            .current_dir(root())
            .env("PATH", &path)
            .env("RUNNER_TEMP", tmp.path())
            .env("GITHUB_OUTPUT", &outputs)
            .env("MESHLINT_PATHS", paths)
            .env("MESHLINT_ARGS", args)
            .status()
            .expect("bash");
        assert!(status.success(), "the check step itself must not fail");
        let outputs = std::fs::read_to_string(&outputs).expect("outputs");
        let get = |key: &str| {
            outputs
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("no {key} in {outputs}"))
                .to_string()
        };
        let sarif = std::fs::read_to_string(get("sarif-file")).expect("sarif file");
        (get("exit-code"), sarif, tmp)
    };

    let (code, sarif, _tmp) = step_run("testdata/demo/shop.yaml\ntestdata/demo/app.yaml", "");
    assert_eq!(code, "1");
    let doc: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    assert!(
        !doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .is_empty()
    );

    let (code, _, _tmp) = step_run(
        "testdata/demo/shop.yaml",
        "--failure-threshold error --select MESH101",
    );
    assert_eq!(code, "0", "only warnings are selected");

    let marker = root().join("target").join("action-injection-marker");
    let _ = std::fs::remove_file(&marker);
    let (code, _, _tmp) = step_run(
        "testdata/demo/shop.yaml",
        &format!("$(touch {}) ; touch {}", marker.display(), marker.display()),
    );
    assert_eq!(code, "2", "the words are unknown arguments");
    assert!(!marker.exists(), "an input was run as a command");
}

/// The GitLab code quality recipe in docs/ci.md, run with jq (where installed) on the demo's
/// JSON report: one entry per finding, with the fields GitLab requires and distinct fingerprints.
#[test]
fn gitlab_code_quality_recipe_turns_findings_into_a_report() {
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("jq is not installed; skipped");
        return;
    }
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).expect("docs/ci.md");
    let start = doc.find("jq '").expect("the jq recipe") + 4;
    let len = doc[start..].find("' meshlint.json").expect("its end");
    let program = &doc[start..start + len];
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("meshlint.json");
    let json = meshlint(&["check", "testdata/demo", "--format", "json"]);
    std::fs::write(&report, &json.stdout).expect("write");
    let out = Command::new("jq")
        .arg(program)
        .arg(&report)
        .output()
        .expect("jq");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let quality: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let entries = quality.as_array().expect("an array");
    assert_eq!(
        entries.len(),
        findings["findings"].as_array().expect("findings").len()
    );
    let mut fingerprints = std::collections::BTreeSet::new();
    for (e, f) in entries
        .iter()
        .zip(findings["findings"].as_array().expect("findings"))
    {
        assert_eq!(e["check_name"], f["code"]);
        assert_eq!(e["location"]["path"], f["location"]["file"]);
        assert_eq!(e["location"]["lines"]["begin"], f["location"]["line"]);
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&e["severity"].as_str().expect("severity")),
            "{e}"
        );
        assert!(
            e["description"]
                .as_str()
                .is_some_and(|d| d.contains(f["code"].as_str().expect("code")))
        );
        assert!(fingerprints.insert(e["fingerprint"].as_str().expect("fingerprint").to_string()));
    }
}
