//! The pre-commit hook, run by the real `pre-commit` in a temporary git repository: a conflict
//! between files of two batches, or between a staged file and a committed one, fails the hook;
//! files that are no manifests do not. Skipped, saying so, when `pre-commit` is not installed
//! (`.ci/run` installs it).
//!
//! The hook repository is this repository's `.pre-commit-hooks.yaml` with `language: rust`
//! replaced by `language: system`, so the hook runs the binary under test (put on PATH through
//! a wrapper that logs each invocation's files) instead of building meshlint again with cargo;
//! every other key of the manifest is used as written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, root, write};

/// `pre-commit` from `PRE_COMMIT` or PATH, if it runs. A `PRE_COMMIT` that does not run is a
/// failure, so CI, which sets it, cannot skip the test by accident.
fn pre_commit() -> Option<PathBuf> {
    let given = std::env::var_os("PRE_COMMIT").map(PathBuf::from);
    let exe = given.clone().unwrap_or_else(|| PathBuf::from("pre-commit"));
    let ok = Command::new(&exe)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || given.is_none(),
        "PRE_COMMIT={} does not run",
        exe.display()
    );
    ok.then_some(exe)
}

struct Sandbox {
    _tmp: tempfile::TempDir,
    exe: PathBuf,
    project: PathBuf,
    hooks: PathBuf,
    bin: PathBuf,
    log: PathBuf,
    home: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn init_repo(dir: &Path) {
    fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

impl Sandbox {
    fn new(exe: PathBuf) -> Self {
        let tmp = common::temp_dir();
        let base = tmp.path().to_path_buf();
        let (project, hooks, bin) = (base.join("project"), base.join("hooks"), base.join("bin"));
        // The hook repository: the real manifest, run from PATH.
        init_repo(&hooks);
        let manifest = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("manifest");
        assert!(manifest.contains("language: rust"), "{manifest}");
        write(
            &hooks.join(".pre-commit-hooks.yaml"),
            manifest.replace("language: rust", "language: system"),
        );
        git(&hooks, &["add", "."]);
        git(&hooks, &["commit", "-qm", "hooks"]);
        // `meshlint` on PATH: logs the files of each invocation, then runs the binary.
        let log = base.join("invocations.log");
        write(
            &bin.join("meshlint"),
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{BIN}' \"$@\"\n",
                log.display()
            ),
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(bin.join("meshlint"), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        init_repo(&project);
        let home = base.join("pre-commit-home");
        Sandbox {
            _tmp: tmp,
            exe,
            project,
            hooks,
            bin,
            log,
            home,
        }
    }

    /// Writes `.pre-commit-config.yaml` naming the hook repository at its commit, with extra
    /// hook keys, and commits it.
    fn configure(&self, extra: &str) {
        let rev = git(&self.hooks, &["rev-parse", "HEAD"]);
        write(
            &self.project.join(".pre-commit-config.yaml"),
            format!(
                "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: meshlint\n{extra}",
                self.hooks.display()
            ),
        );
        git(&self.project, &["add", ".pre-commit-config.yaml"]);
        git(&self.project, &["commit", "-qm", "pre-commit config"]);
    }

    /// `pre-commit run ARGS` in the project: exit code and output; the invocation log is
    /// emptied first.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let _ = fs::remove_file(&self.log);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(&self.exe)
            .arg("run")
            .args(args)
            .current_dir(&self.project)
            .env("PATH", path)
            .env("PRE_COMMIT_HOME", &self.home)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1")
            .output()
            .expect("run pre-commit");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// The file arguments of each invocation of the last run.
    fn invocations(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn service_entry(name: &str, created: &str, host: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: {name}\n  namespace: shop\n  creationTimestamp: \"{created}\"\nspec:\n  hosts: [{host}]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 443\n    name: tcp\n    protocol: TCP\n"
    )
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n";
const OLD: &str = "k8s/a-old.yaml";
const NEW: &str = "k8s/z-new.yaml";

/// Enough files with long paths that pre-commit's command line (at most 128 KiB) must be
/// split: the two ServiceEntries sort first and last, so they land in different batches.
fn fill(project: &Path) {
    write(&project.join("k8s/namespace.yaml"), NAMESPACE);
    let dir = format!("k8s/m/{}/{}", "d".repeat(100), "e".repeat(100));
    for i in 0..500 {
        write(
            &project.join(format!("{dir}/{}-{i:03}.yaml", "c".repeat(100))),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: shop\n"
            ),
        );
    }
}

#[test]
fn the_hook_sees_conflicts_across_batches_and_beyond_the_staged_files() {
    let Some(exe) = pre_commit() else {
        eprintln!(
            "skipped: pre-commit is not installed (pip install pre-commit, or set PRE_COMMIT)"
        );
        return;
    };
    let sb = Sandbox::new(exe);
    sb.configure("");
    fill(&sb.project);
    write(
        &sb.project.join(OLD),
        service_entry("old", "2024-03-01T10:00:00Z", "www.huaweicloud.com"),
    );
    write(
        &sb.project.join(NEW),
        service_entry("new", "2024-05-12T08:30:00Z", "github.com"),
    );
    // Files that are YAML but no manifests: skipped, never a failure.
    write(
        &sb.project.join(".github/workflows/ci.yml"),
        "on: [push]\njobs: {a: {runs-on: x, steps: []}}\n",
    );
    write(
        &sb.project.join("chart/values.yaml"),
        "replicaCount: 2\nmetadata: {}\n",
    );
    write(&sb.project.join("package.json"), "{\"name\": \"x\"}\n");
    git(&sb.project, &["add", "."]);

    // Batched: the two entries are passed to different invocations, and the conflict between
    // them is still found.
    let (code, out) = sb.run(&["--all-files"]);
    let calls = sb.invocations();
    assert!(calls.len() >= 2, "pre-commit did not batch: {calls:?}");
    assert!(
        !calls.iter().any(|c| c.contains(OLD) && c.contains(NEW)),
        "both entries went to one invocation"
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MESH401") && out.contains(NEW), "{out}");
    assert!(!out.contains("input-error"), "{out}");

    // The same with pre-commit's parallel batching.
    let (code, out) = {
        git(&sb.project, &["commit", "-qm", "tree"]);
        sb.configure("        require_serial: false\n");
        sb.run(&["--all-files"])
    };
    assert!(sb.invocations().len() >= 2);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MESH401") && out.contains(NEW), "{out}");
    sb.configure("");

    // Staged only: the newer entry is committed and the older one changes, staged; the finding
    // sits on the committed file and names the staged one.
    let touched = service_entry("old", "2024-03-01T10:00:00Z", "www.huaweicloud.com")
        .replace("resolution: DNS", "resolution: NONE");
    write(&sb.project.join(OLD), &touched);
    git(&sb.project, &["add", OLD]);
    // An unstaged change elsewhere is stashed by pre-commit and must not matter.
    write(
        &sb.project.join("k8s/namespace.yaml"),
        format!("{NAMESPACE}# unstaged\n"),
    );
    let (code, out) = sb.run(&[]);
    let calls = sb.invocations();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].ends_with(OLD),
        "only the staged file is passed: {calls:?}"
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MESH401"), "{out}");
    git(
        &sb.project,
        &["commit", "-qm", "old", "--no-verify", "--", OLD],
    );

    // Staged only, the other way round: a new conflicting entry against a committed one.
    let newer = service_entry("newer", "2025-01-01T00:00:00Z", "example.org");
    write(&sb.project.join("k8s/newer.yaml"), &newer);
    git(&sb.project, &["add", "k8s/newer.yaml"]);
    let (code, out) = sb.run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("k8s/newer.yaml") && out.contains("MESH401"),
        "{out}"
    );
    git(&sb.project, &["rm", "-q", "--cached", "k8s/newer.yaml"]);
    fs::remove_file(sb.project.join("k8s/newer.yaml")).expect("remove");

    // A staged change with no conflict of its own passes, though the tree has one.
    let fine = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports:\n  - name: http-web\n    port: 8080\n";
    write(&sb.project.join("k8s/web.yaml"), fine);
    write(&sb.project.join("chart/values.yaml"), "replicaCount: 3\n");
    git(&sb.project, &["add", "k8s/web.yaml", "chart/values.yaml"]);
    let (code, out) = sb.run(&[]);
    assert_eq!(code, 0, "{out}");
}

/// `--context` without pre-commit: the tree is loaded, the named files are reported on, and
/// errors of other files are warnings.
#[test]
fn context_reports_what_concerns_the_named_files() {
    let dir = common::temp_dir();
    let d = dir.path();
    write(&d.join("k8s/namespace.yaml"), NAMESPACE);
    write(
        &d.join(OLD),
        service_entry("old", "2024-03-01T10:00:00Z", "a.example"),
    );
    write(
        &d.join(NEW),
        service_entry("new", "2024-05-12T08:30:00Z", "b.example"),
    );
    write(&d.join("k8s/broken.yaml"), "kind: [\n");
    let args = |files: &[&str]| {
        let mut a = vec![
            "check",
            "--context",
            ".",
            "--format",
            "json",
            "--select",
            "MESH401",
        ];
        a.extend_from_slice(files);
        common::run(d, &a)
    };
    let whole = common::run(
        d,
        &["check", "k8s", "--format", "json", "--select", "MESH401"],
    );
    whole.expect_code(2);
    for named in [NEW, OLD] {
        let out = args(&[named]);
        out.expect_code(1);
        let doc = out.json();
        let found = common::findings(&doc);
        assert_eq!(found.len(), 1, "{}", out.stdout);
        assert_eq!(found[0]["location"]["file"], NEW, "named as given, no ./");
        assert!(out.stderr.contains("k8s/broken.yaml") && out.stderr.contains("warning:"));
    }
    let unrelated = args(&["k8s/namespace.yaml"]);
    unrelated.expect_code(0);
    assert!(common::findings(&unrelated.json()).is_empty());
    let broken = args(&["k8s/broken.yaml"]);
    broken.expect_code(2);
    let missing = args(&["k8s/nope.yaml"]);
    missing.expect_code(2);
    assert!(
        missing.stdout.contains("k8s/nope.yaml"),
        "{}",
        missing.stdout
    );
}
