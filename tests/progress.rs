//! Progress on stderr: drawn on a terminal, never in a pipe or a CI log.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

/// A directory of many small manifests, so a run has stages worth reporting.
fn many_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..300 {
        let text = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  namespace: ns{}\nspec:\n  ports:\n  - name: web\n    port: 80\n",
            i % 7
        );
        std::fs::write(dir.path().join(format!("s{i}.yaml")), text).expect("write");
    }
    dir
}

/// What a progress display would leave on stderr: a carriage return, an escape sequence, or a
/// stage name.
fn has_progress(stderr: &str) -> bool {
    stderr.contains('\r')
        || stderr.contains('\u{1b}')
        || stderr.contains("reading")
        || stderr.contains("checking")
}

#[test]
fn piped_and_ci_runs_print_no_progress() {
    let dir = many_files();
    for ci in [None, Some("true")] {
        let mut cmd = Command::new(BIN);
        cmd.args(["check", ".", "--format", "json"])
            .current_dir(dir.path())
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null());
        match ci {
            Some(v) => cmd.env("CI", v),
            None => cmd.env_remove("CI"),
        };
        let out = cmd.output().expect("meshlint runs");
        assert_eq!(out.status.code(), Some(1), "MESH101 warnings");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!has_progress(&stderr), "CI={ci:?}: {stderr:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(report["summary"]["files"], 300);
    }
}

/// Under a pseudo-terminal (util-linux `script`) the stages are drawn, and cleared before the
/// report; `CI` turns them off there too.
#[test]
fn a_terminal_shows_progress_unless_ci() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux `script` is not installed; skipped");
        return;
    }
    let dir = many_files();
    let run = |ci: bool| {
        let inner = format!("'{BIN}' check . --format json > report.json");
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &inner, "/dev/null"])
            .current_dir(dir.path())
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null());
        if ci {
            cmd.env("CI", "true");
        } else {
            cmd.env_remove("CI");
        }
        let out = cmd.output().expect("script runs");
        let report = std::fs::read_to_string(dir.path().join("report.json")).expect("report");
        assert!(
            !has_progress(&report),
            "progress reached stdout: {report:.200}"
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run(false);
    assert!(
        shown.contains("reading") && shown.contains("checking"),
        "{shown:?}"
    );
    // The last thing drawn clears the line.
    assert!(shown.trim_end().ends_with("\u{1b}[2K"), "{shown:?}");
    let ci = run(true);
    assert!(!has_progress(&ci), "{ci:?}");
}
