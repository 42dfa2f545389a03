//! Hostile and broken inputs, one case per failure class: what meshlint prints for each must be
//! a clear error or the right result, never raw control characters, leaked credentials, a hang
//! or a panic.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn meshlint(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("meshlint runs");
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A Service whose name carries a terminal escape and a newline that would forge a line.
const INJECTED: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"x\\e[31mred\\nfake.yaml:1:1: error[MESH999] injected\"\nspec:\n  ports: [{name: web, port: 80}]\n";

/// Names with escapes and a bell in the objects the table commands print.
const INJECTED_TABLES: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: \"s\\e[31m\", namespace: \"n\\a\"}\nspec:\n  selector: {app: a}\n  ports: [{name: http, port: 80}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: \"d\\e[1m\", namespace: \"n\\a\"}\nspec:\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: c, image: c}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: \"g\\e[2J\", namespace: x}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: \"l\\a\", port: 80, protocol: HTTP, hostname: \"a.example.com\\nforged line\"}]\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: \"amb\\nforged line\", labels: {istio.io/dataplane-mode: ambient}}\n";

#[test]
fn control_characters_are_escaped_in_the_table_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("in.yaml"), INJECTED_TABLES).expect("write");
    for command in ["listeners", "mtls", "gateways"] {
        let run = meshlint(&[command, "in.yaml"], dir.path());
        assert_eq!(run.code, 0, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains(['\u{1b}', '\u{7}']),
            "{command} prints a raw control character:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("\\u{1b}") || run.stdout.contains("\\u{7}"),
            "{command} shows the escaped names:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.lines().any(|l| l.starts_with("forged")),
            "{command} lets a value forge a line:\n{}",
            run.stdout
        );
    }
}

#[test]
fn control_characters_are_escaped_in_every_text_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), INJECTED).expect("write");
    for format in ["human", "concise", "github"] {
        let run = meshlint(
            &["check", "--format", format, "--color", "never", "svc.yaml"],
            dir.path(),
        );
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains('\u{1b}'),
            "{format} prints a raw escape:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.lines().any(|l| l.starts_with("fake.yaml")),
            "{format} lets a name forge a line:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("\\u{1b}[31m"),
            "{format}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn admin_credentials_are_refused_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = meshlint(
        &[
            "listeners",
            "--admin",
            "http://admin:s3cret@127.0.0.1:9",
            "--admin-timeout",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains("s3cret") && !all.contains("admin:"), "{all}");
    assert!(all.contains("credentials"), "{all}");
}

#[test]
fn config_mistakes_are_named_with_position_and_a_close_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), INJECTED).expect("write");
    std::fs::write(
        dir.path().join(".meshlint.yaml"),
        "ignore:\n  - rule: MESH101\n    resourse: \"Service default/*\"\n",
    )
    .expect("write");
    let run = meshlint(&["check", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(".meshlint.yaml:3:5: invalid config: unknown key `resourse`")
            && run.stderr.contains("did you mean `resource`?"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join(".meshlint.yaml"), "exclude: [\"a[b\"]\n").expect("write");
    let run = meshlint(&["check", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".meshlint.yaml:1:11: invalid glob `a[b` in `exclude`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_above_the_repository_is_not_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".meshlint.yaml"), "ignore: [ALL]\n").expect("write");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    std::fs::write(repo.join("svc.yaml"), INJECTED).expect("write");
    let run = meshlint(&["check", "--format", "json", "svc.yaml"], &repo);
    assert_eq!(
        run.code, 1,
        "the planted config silenced the run: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("\"config\""), "{}", run.stdout);
    std::fs::write(repo.join(".meshlint.yaml"), "select: [MESH101]\n").expect("write");
    let run = meshlint(&["check", "--format", "json", "svc.yaml"], &repo);
    assert!(
        run.stdout.contains("\"config\": \".meshlint.yaml\""),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// What is read: every document that parses, nothing that blocks, nothing unbounded, nothing
// skipped by an ignore file that does not apply
// ---------------------------------------------------------------------------------------------

/// No run should come near this; one that does is treated as a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `cmd` with `stdin`, killing it if it hangs.
fn bounded(mut cmd: Command, stdin: Stdio) -> Run {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .env_remove("NO_COLOR")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hung: {what}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().expect("exited, not killed"),
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

/// `meshlint check --format concise ARGS` in `dir`, bounded, stdin empty.
fn concise(args: &[&str], dir: &Path) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--format", "concise"])
        .args(args)
        .current_dir(dir);
    bounded(cmd, Stdio::null())
}

/// A Service whose port name MESH101 reports at line 4.
const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec: {ports: [{name: web, port: 80}]}\n";

/// The lines of `file` with a MESH101 finding in concise output.
fn mesh101_lines(run: &Run, file: &str) -> Vec<u32> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with(&format!("{file}:")) && l.contains("[MESH101]"))
        .filter_map(|l| l.split(':').nth(1)?.parse().ok())
        .collect()
}

fn input_errors(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.contains("error[input]"))
        .collect()
}

#[test]
fn a_broken_document_does_not_hide_the_others_in_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A `---` indented in a block scalar is text, not a document boundary.
    let script = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s, namespace: x}\ndata:\n  run.sh: |\n    echo\n    ---\n    kind: [\n";
    let text = format!(
        "{SERVICE}---\nkind: [\n---\n{script}---\n{}",
        SERVICE.replace("name: a", "name: b")
    );
    std::fs::write(dir.path().join("r1.yaml"), &text).expect("write");
    let run = concise(&["r1.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(mesh101_lines(&run, "r1.yaml"), [4, 20], "{}", run.stdout);
    let errors = input_errors(&run);
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(
        errors[0].starts_with("r1.yaml:6:7: error[input] invalid YAML"),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

#[cfg(unix)]
#[test]
fn named_pipes_are_refused_without_blocking_and_process_substitution_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), SERVICE).expect("write");
    mkfifo(&dir.path().join("f.yaml"));
    let run = concise(&["f.yaml", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(mesh101_lines(&run, "svc.yaml"), [4], "{}", run.stdout);
    assert_eq!(
        input_errors(&run),
        [
            "f.yaml: error[input] file is a named pipe, not a regular file; pass what it holds on stdin as `-`"
        ]
    );
    for (flag, what) in [("--config", "config"), ("--mesh-config", "mesh config")] {
        let run = concise(&[flag, "f.yaml", "svc.yaml"], dir.path());
        assert_eq!(run.code, 2, "{flag}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "f.yaml: {what} is a named pipe, not a regular file"
            )),
            "{flag}: {}",
            run.stderr
        );
    }
    // A walked directory passes over the pipe.
    std::fs::create_dir(dir.path().join("walked")).expect("mkdir");
    std::fs::write(dir.path().join("walked/svc.yaml"), SERVICE).expect("write");
    mkfifo(&dir.path().join("walked/p.yaml"));
    let run = concise(&["walked"], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // `<(…)` names a pipe the shell has already connected, at /dev/fd/N: it is read.
    let mut sh = Command::new("bash");
    sh.arg("-c")
        .arg(format!("'{BIN}' check --format concise <(cat svc.yaml)"))
        .current_dir(dir.path());
    let run = bounded(sh, Stdio::null());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("/dev/fd/"), "{}", run.stdout);
}

#[cfg(unix)]
#[test]
fn inputs_are_read_up_to_max_file_size_and_endless_ones_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), SERVICE).expect("write");
    std::fs::write(dir.path().join("big.yaml"), "# padding\n".repeat(200)).expect("write");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("z.yaml")).expect("symlink");
    let run = concise(
        &["--max-file-size", "1K", "z.yaml", "big.yaml", "svc.yaml"],
        dir.path(),
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(mesh101_lines(&run, "svc.yaml"), [4], "{}", run.stdout);
    assert_eq!(
        input_errors(&run),
        [
            "big.yaml: error[input] file is larger than --max-file-size (1 KiB); raise the limit to read it",
            "z.yaml: error[input] file is a character device, not a regular file; pass what it holds on stdin as `-`",
        ]
    );
    // stdin has no size to look at first: it is read up to the limit and no further.
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--format", "concise", "--max-file-size", "1M", "-"])
        .current_dir(dir.path());
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let run = bounded(cmd, Stdio::from(zero));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        input_errors(&run),
        [
            "<stdin>: error[input] stdin is larger than --max-file-size (1 MiB); raise the limit to read it"
        ]
    );
    let run = concise(&["--config", "/dev/zero", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("/dev/zero: config is a character device, not a regular file"),
        "{}",
        run.stderr
    );
    let run = concise(&["--max-file-size", "lots", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("`lots` is not a size"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_million_documents_and_a_reused_anchor_are_not_refused_by_budgets() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Past the former limit of 1,000,000 documents in one stream.
    let text = format!("{}{SERVICE}", "---\n".repeat(1_000_100));
    std::fs::write(dir.path().join("docs.yaml"), text).expect("write");
    // One anchor, aliased far more often than a ratio heuristic allows.
    let mut shared =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  base: &b x\n");
    for i in 0..200 {
        shared.push_str(&format!("  k{i}: *b\n"));
    }
    std::fs::write(dir.path().join("shared.yaml"), shared).expect("write");
    let run = concise(&["docs.yaml", "shared.yaml"], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        mesh101_lines(&run, "docs.yaml"),
        [1_000_104],
        "{}",
        run.stdout
    );
    assert!(input_errors(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn ignore_files_apply_only_inside_a_git_work_tree_and_never_to_named_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("d");
    std::fs::create_dir_all(d.join("sub")).expect("mkdir");
    std::fs::write(d.join(".gitignore"), "*.yaml\n").expect("write");
    std::fs::write(d.join("sub/svc.yaml"), SERVICE).expect("write");
    // A global excludes file, as `core.excludesFile` names it.
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(home.join("excludes"), "svc.yaml\n").expect("write");
    std::fs::write(
        home.join(".gitconfig"),
        format!(
            "[core]\n\texcludesFile = {}\n",
            home.join("excludes").display()
        ),
    )
    .expect("write");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["check", "--format", "concise"])
            .args(args)
            .current_dir(dir.path())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"));
        bounded(cmd, Stdio::null())
    };
    // Outside a repository, no ignore file applies.
    assert_eq!(mesh101_lines(&run(&["d/sub"]), "d/sub/svc.yaml"), [4]);
    // Inside one, they do, unless --no-ignore; a file named on the command line is read.
    std::fs::create_dir(d.join(".git")).expect("mkdir");
    let walked = run(&["d/sub"]);
    assert!(
        mesh101_lines(&walked, "d/sub/svc.yaml").is_empty(),
        "{}",
        walked.stdout
    );
    assert_eq!(
        mesh101_lines(&run(&["d/sub", "--no-ignore"]), "d/sub/svc.yaml"),
        [4]
    );
    assert_eq!(
        mesh101_lines(&run(&["d/sub/svc.yaml"]), "d/sub/svc.yaml"),
        [4]
    );
    // A `.gitignore` above the work tree's root is not the repository's.
    std::fs::remove_dir(d.join(".git")).expect("rmdir");
    std::fs::write(d.join(".gitignore"), "").expect("write");
    std::fs::write(dir.path().join(".gitignore"), "*.yaml\n").expect("write");
    std::fs::create_dir(d.join(".git")).expect("mkdir");
    std::fs::remove_file(home.join(".gitconfig")).expect("rm");
    assert_eq!(mesh101_lines(&run(&["d/sub"]), "d/sub/svc.yaml"), [4]);
}

/// Runs `check --format concise` on `r.yaml` holding `text`.
fn check_text(text: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.yaml"), text).expect("write");
    meshlint(&["check", "--format", "concise", "r.yaml"], dir.path())
}

/// Asserts an input error (exit 2) with exactly this concise line.
fn assert_input_error(text: &str, line: &str) {
    let run = check_text(text);
    assert_eq!(run.code, 2, "{text}\n{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.lines().any(|l| l == line),
        "{text}\nwant: {line}\ngot:\n{}",
        run.stdout
    );
}

fn service_entry(ports: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: se, namespace: x}}\nspec:\n  hosts: [a.example.com]\n  ports: {ports}\n  resolution: DNS\n"
    )
}

fn service(ports: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: a, namespace: x}}\nspec:\n  ports: {ports}\n"
    )
}

#[test]
fn lists_and_scalars_where_objects_belong_are_input_errors_at_the_field() {
    assert_input_error(
        &service_entry("[[5701, tcp, TCP]]"),
        "r.yaml:6:11: error[input] ServiceEntry x/se: `spec.ports[0]`: expected a mapping, found a list",
    );
    assert_input_error(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: x}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [[[80, http, HTTP], null, [\"*\"]]]\n",
        "r.yaml:6:13: error[input] Gateway x/gw: `spec.servers[0]`: expected a mapping, found a list",
    );
    assert_input_error(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: x}\nspec:\n  hosts: [a]\n  http:\n  - route:\n    - destination: [h, v1]\n",
        "r.yaml:8:20: error[input] VirtualService x/vs: `spec.http[0].route[0].destination`: expected a mapping, found a list",
    );
    assert_input_error(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: 123}\n",
        "r.yaml:3:32: error[input] Service: `metadata.namespace`: expected a string, found `123`",
    );
    assert_input_error(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: [x]}\n",
        "r.yaml:3:32: error[input] Service: `metadata.namespace`: expected a string, found a list",
    );
    assert_input_error(
        "apiVersion: v1\nkind: Service\nmetadata: {name: 5}\n",
        "r.yaml:3:18: error[input] Service: `metadata.name`: expected a string, found `5`",
    );
    // A field of the mesh config embedded in a literal block is shown at its own line; in a
    // quoted string, which keeps no lines, at the key.
    let mesh = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: istio, namespace: istio-system}}\ndata:\n  mesh: {value}\n"
        )
    };
    assert_input_error(
        &mesh("|\n    trustDomain: cluster.local\n    defaultConfig:\n      proxyMetadata: [1, 2]"),
        "r.yaml:8:22: error[input] ConfigMap istio-system/istio: `data.mesh.defaultConfig.proxyMetadata`: expected a mapping, found a list",
    );
    assert_input_error(
        &mesh("\"defaultConfig: {proxyMetadata: [1]}\""),
        "r.yaml:5:9: error[input] ConfigMap istio-system/istio: `data.mesh.defaultConfig.proxyMetadata`: expected a mapping, found a list",
    );
}

#[test]
fn port_values_the_api_server_rejects_are_input_errors() {
    assert_input_error(
        &service("[{name: http, port: 70000}]"),
        "r.yaml:5:30: error[input] Service x/a: `spec.ports[0].port`: expected a port number (1-65535), found `70000`",
    );
    assert_input_error(
        &service("[{name: http, port: -1}]"),
        "r.yaml:5:30: error[input] Service x/a: `spec.ports[0].port`: expected a port number (1-65535), found `-1`",
    );
    assert_input_error(
        &service("[{name: http, port: 80, targetPort: \"8080\"}]"),
        "r.yaml:5:46: error[input] Service x/a: `spec.ports[0].targetPort`: expected a port number (1-65535) or a port name, found `\"8080\"`: a quoted number is a name to Kubernetes and a name needs a letter; write 8080 without quotes",
    );
    assert_input_error(
        &service_entry("[{number: -1, name: tcp, protocol: TCP}]"),
        "r.yaml:6:20: error[input] ServiceEntry x/se: `spec.ports[0].number`: expected a port number (1-65535), found `-1`",
    );
    assert_input_error(
        &service_entry("[{number: null, name: tcp, protocol: TCP}]"),
        "r.yaml:6:20: error[input] ServiceEntry x/se: `spec.ports[0].number`: expected a port number (1-65535), found null",
    );
    assert_input_error(
        &service_entry("[{name: tcp, protocol: TCP}]"),
        "r.yaml:6:11: error[input] ServiceEntry x/se: `spec.ports[0].number`: expected a port number (1-65535), found nothing",
    );
    // What the API server accepts stays accepted: a named or unset targetPort, an unset nodePort,
    // a whole float, and Istio's numbers as strings (protobuf JSON).
    let run = check_text(&format!(
        "{}---\n{}",
        service(
            "[{name: http, port: 80.0, targetPort: web, nodePort: 0}, {name: tcp, port: 81, targetPort: 0}]"
        ),
        service_entry("[{number: \"5701\", name: tcp, protocol: TCP}]")
    ));
    assert_ne!(run.code, 2, "{}{}", run.stdout, run.stderr);
}

#[test]
fn decoding_messages_say_what_was_expected_in_plain_words() {
    assert_input_error(
        &service_entry("[{number: true, name: tcp, protocol: TCP}]"),
        "r.yaml:6:20: error[input] ServiceEntry x/se: `spec.ports[0].number`: expected a port number (1-65535), found `true`",
    );
    assert_input_error(
        &service_entry("[{number: 100000000000000000000000000, name: tcp, protocol: TCP}]"),
        "r.yaml:6:20: error[input] ServiceEntry x/se: `spec.ports[0].number`: expected a port number (1-65535), found `100000000000000000000000000`",
    );
    assert_input_error(
        &service("[{name: http}]"),
        "r.yaml:5:11: error[input] Service x/a: `spec.ports[0].port`: required, found nothing",
    );
    let run = check_text(&service("[{name: [http], port: 80}]"));
    assert!(
        run.stdout
            .contains("`spec.ports[0].name`: expected a string, found a list"),
        "{}",
        run.stdout
    );
    for serde_words in [
        "untagged",
        "invalid type",
        "floating point",
        "struct ",
        "sequence",
    ] {
        assert!(!run.stdout.contains(serde_words), "{}", run.stdout);
    }
}

#[test]
fn a_quoted_double_brace_is_text_and_a_broken_document_beside_it_is_reported() {
    let run = check_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports: [{name: foo, port: 80}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: rules}\ndata:\n  rule: \"summary: {{ $labels.instance }} down\"\n  bad: [1, 2\n",
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("r.yaml:5:18: warning[MESH101]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("r.yaml:12:8: error[input] invalid YAML"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("unrendered"), "{}", run.stdout);
}

#[test]
fn many_small_alias_bombs_share_one_budget() {
    let doc = format!(
        "a0: &a0 [{}]\na1: &a1 [{}]\na2: [{}]\n",
        ["x"; 40].join(","),
        ["*a0"; 40].join(","),
        ["*a1"; 40].join(",")
    );
    let text = format!("{}---\nkind: [\n", vec![doc; 300].join("---\n"));
    let run = check_text(&text);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.contains("alias replay limit exceeded"),
        "{}",
        run.stdout
    );
}
/// Files a walk meets that are neither objects nor dumps, each with something a loose test
/// would take for an Envoy resource (`name`, `address`, `type`, `configs`).
const NOT_DUMPS: &[(&str, &str)] = &[
    (
        "playbook.yaml",
        "- hosts: all\n  become: true\n  tasks:\n    - name: install nginx\n      apt: {name: nginx}\n",
    ),
    (
        "tasks.yaml",
        "- name: install nginx\n  apt: {name: nginx, state: present}\n- name: start\n  service: {name: nginx}\n",
    ),
    (
        ".pre-commit-hooks.yaml",
        "- id: meshlint\n  name: meshlint\n  entry: meshlint check\n  language: rust\n",
    ),
    (
        "patch.yaml",
        "- op: replace\n  path: /spec/type\n  value: NodePort\n",
    ),
    (
        "hosts.json",
        "[{\"name\": \"web\", \"address\": \"10.0.0.1\", \"type\": \"server\"}]",
    ),
    ("numbers.json", "[1, 2, \"x\"]"),
    (
        "values.yaml",
        "replicaCount: 1\nconfigs:\n  cm: {create: true}\n",
    ),
];

#[test]
fn walked_files_that_are_neither_objects_nor_dumps_are_skipped_silently() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in NOT_DUMPS {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    std::fs::write(
        dir.path().join("svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec: {ports: [{name: web, port: 80}]}\n",
    )
    .expect("write");
    // `istioctl proxy-config listener -o yaml`: still a dump.
    std::fs::write(
        dir.path().join("listeners.yaml"),
        "- name: 10.0.0.9_5701\n  address: {socket_address: {address: 10.0.0.9, port_value: 5701}}\n  filter_chains:\n  - filters:\n    - name: envoy.filters.network.tcp_proxy\n      typed_config: {cluster: outbound|5701||hz.app.svc.cluster.local}\n",
    )
    .expect("write");
    let run = meshlint(&["check", "--format", "concise", "."], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("svc.yaml:4:"), "{}", run.stdout);
    assert!(
        run.stderr.is_empty() && run.stdout.contains(" 0 input errors"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = meshlint(&["listeners", "listeners.yaml"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("10.0.0.9"), "{}", run.stdout);
    // Named, they are skipped with a note; none is read as a dump.
    for (name, _) in NOT_DUMPS {
        let run = meshlint(&["listeners", name], dir.path());
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains("config dump"),
            "{name}: {}",
            run.stdout
        );
        let run = meshlint(&["check", name], dir.path());
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("note:"), "{name}: {}", run.stderr);
    }
}

/// Counts the bytes the measuring thread holds on the heap, and their peak: other tests run
/// beside it and are not counted.
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
        static NOW: Cell<usize> = const { Cell::new(0) };
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    fn count(add: usize, sub: usize) {
        // `try_with`: the allocator also runs while thread-locals are torn down.
        let _ = ON.try_with(|on| {
            if on.get() {
                let now = NOW.get().saturating_add(add).saturating_sub(sub);
                NOW.set(now);
                PEAK.set(PEAK.get().max(now));
            }
        });
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size(), 0);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            count(0, layout.size());
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            count(new, layout.size());
            unsafe { System.realloc(ptr, layout, new) }
        }
    }

    /// The peak of heap bytes `f` held at once, above what was held before.
    pub fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
        NOW.set(0);
        PEAK.set(0);
        ON.set(true);
        let out = f();
        ON.set(false);
        (out, PEAK.get())
    }
}

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

/// `n` small listeners, minified, as `/config_dump`, a bare array, and `?resource=` entries.
fn many_listeners(n: usize) -> [String; 3] {
    let listener = |i: usize| {
        let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        format!(
            r#"{{"@type":"type.googleapis.com/envoy.config.listener.v3.Listener","name":"{ip}_8080","address":{{"socket_address":{{"address":"{ip}","port_value":8080}}}},"filter_chains":[{{"filters":[{{"name":"envoy.filters.network.tcp_proxy","typed_config":{{"@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","stat_prefix":"outbound|8080||s{i}.ns.svc.cluster.local","cluster":"outbound|8080||s{i}.ns.svc.cluster.local"}}}}]}}],"traffic_direction":"OUTBOUND","bind_to_port":false}}"#
        )
    };
    let dynamic = |i: usize| {
        format!(
            r#"{{"name":"l{i}","active_state":{{"version_info":"1","listener":{},"last_updated":"2024-01-01T00:00:00Z"}}}}"#,
            listener(i)
        )
    };
    let join = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
    [
        format!(
            r#"{{"configs":[{{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","dynamic_listeners":[{}]}}]}}"#,
            join(&dynamic)
        ),
        format!("[{}]", join(&listener)),
        format!(
            r#"{{"configs":[{}]}}"#,
            join(&|i| {
                dynamic(i).replacen(
                '{',
                r#"{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener","#,
                1
            )
            })
        ),
    ]
}

#[test]
fn a_dump_of_many_small_listeners_takes_a_few_times_its_size_in_memory() {
    for text in many_listeners(4000) {
        let (dump, peak) = heap::peak(|| meshlint::envoy::load::parse_json(&text));
        let dump = dump.expect("a dump");
        assert_eq!(dump.listeners.len(), 4000);
        // With the text itself, reading takes under 5 times the dump's size (it took 19).
        assert!(
            peak < 4 * text.len(),
            "{} bytes of dump took {peak} bytes of model ({}: {:.1}x)",
            text.len(),
            dump.shape,
            peak as f64 / text.len() as f64
        );
    }
}
