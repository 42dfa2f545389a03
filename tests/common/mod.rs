//! What the workflow tests share: running the binary in a directory and writing files.

// Each test crate that includes this module uses only some of the helpers.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// `meshlint ARGS` in `dir`, with a colour-neutral environment and extra variables.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("COLUMNS")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run meshlint");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert!(!stderr.contains("panicked"), "meshlint panicked:\n{stderr}");
    Output {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr,
    }
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temp dir")
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create dirs");
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A copy of `testdata/demo` in a fresh directory.
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let demo = dir.path().join("demo");
    fs::create_dir_all(&demo).expect("create demo dir");
    for e in fs::read_dir(root().join("testdata/demo")).expect("read demo") {
        let p = e.expect("entry").path();
        fs::copy(&p, demo.join(p.file_name().expect("name"))).expect("copy");
    }
    (dir, demo)
}

pub fn findings(doc: &Value) -> &[Value] {
    doc["findings"].as_array().expect("findings array")
}

pub fn codes(doc: &Value) -> Vec<String> {
    findings(doc)
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}
