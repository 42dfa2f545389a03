//! Hostile and broken inputs, one case per failure class: what meshlint prints for each must be
//! a clear error or the right result, never raw control characters, leaked credentials, a hang
//! or a panic.

use std::path::Path;
use std::process::Command;

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
