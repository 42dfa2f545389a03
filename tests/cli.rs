//! End-to-end tests of the `meshlint` binary: exit codes, exact positions in every output
//! format, input errors, suppressions, config files and the `rules`/`explain` commands.
//!
//! Expected positions are computed from the fixture text (the line holding a field and the
//! column of its value), so the fixtures can change without editing numbers here, while the
//! checks stay exact.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");
const FORMATS: [&str; 5] = ["human", "json", "sarif", "github", "html"];
const SHOP: &str = "testdata/demo/shop.yaml";
/// No run should come near this; a run that does is treated as a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// `meshlint ARGS` in the crate root, with a colour-neutral environment.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR");
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts the exit code, showing the output when it differs.
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for meshlint") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("meshlint did not finish within {TIMEOUT:?}: {what}");
        }
        thread::sleep(Duration::from_millis(2));
    }
}

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

fn execute(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    let what = format!("{cmd:?}");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn meshlint");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let input = input.to_vec();
        thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let out = drain(child.stdout.take().expect("stdout pipe"));
    let err = drain(child.stderr.take().expect("stderr pipe"));
    let status = wait(&mut child, &what);
    let stdout = String::from_utf8(out.join().expect("stdout reader")).expect("UTF-8 stdout");
    let stderr = String::from_utf8(err.join().expect("stderr reader")).expect("UTF-8 stderr");
    assert!(
        !stderr.contains("panicked"),
        "meshlint panicked: {what}\n{stderr}"
    );
    let code = status
        .code()
        .unwrap_or_else(|| panic!("meshlint was killed by a signal: {what}\n{stderr}"));
    Output {
        code,
        stdout,
        stderr,
    }
}

fn meshlint(args: &[&str]) -> Output {
    execute(command(args), None)
}

fn meshlint_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = command(args);
    cmd.current_dir(dir);
    execute(cmd, None)
}

fn meshlint_stdin(args: &[&str], input: &[u8]) -> Output {
    execute(command(args), Some(input))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temp dir")
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create dirs");
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------------------------
// Positions and findings
// ---------------------------------------------------------------------------------------------

/// A 1-based line, column (in characters) and end column of a token in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    line: u64,
    column: u64,
    end_column: u64,
}

/// Locates `token` in `text`: each needle is looked for on a line after the previous needle's
/// line; `token` is the first occurrence at or after the last needle on its line.
fn span(text: &str, needles: &[&str], token: &str) -> Span {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut hit = None;
    for needle in needles {
        let i = (from..lines.len())
            .find(|&i| lines[i].contains(needle))
            .unwrap_or_else(|| panic!("no line containing {needle:?} after line {from}"));
        hit = Some((i, lines[i].find(needle).expect("needle on its line")));
        from = i + 1;
    }
    let (i, at) = hit.expect("at least one needle");
    let byte = at
        + lines[i][at..]
            .find(token)
            .unwrap_or_else(|| panic!("{token:?} not on line {}: {:?}", i + 1, lines[i]));
    let column = lines[i][..byte].chars().count() as u64 + 1;
    Span {
        line: i as u64 + 1,
        column,
        end_column: column + token.chars().count() as u64,
    }
}

fn findings(doc: &Value) -> &[Value] {
    doc["findings"].as_array().expect("`findings` is an array")
}

fn errors(doc: &Value) -> &[Value] {
    doc["errors"].as_array().expect("`errors` is an array")
}

/// One line per finding, for assertion messages.
fn brief(doc: &Value) -> String {
    findings(doc)
        .iter()
        .map(|f| {
            let l = &f["location"];
            format!(
                "{} {} {}:{}:{} {}\n",
                f["code"].as_str().unwrap_or("?"),
                f["severity"].as_str().unwrap_or("?"),
                l["file"].as_str().unwrap_or("?"),
                l["line"],
                l["column"],
                f["message"].as_str().unwrap_or("?"),
            )
        })
        .collect()
}

fn with_code<'a>(doc: &'a Value, code: &str) -> Vec<&'a Value> {
    findings(doc).iter().filter(|f| f["code"] == code).collect()
}

/// The finding `code` at exactly `at` in `file`; also checks its end position.
fn finding_at<'a>(doc: &'a Value, code: &str, file: &str, at: Span) -> &'a Value {
    let f = findings(doc)
        .iter()
        .find(|f| {
            let l = &f["location"];
            f["code"] == code
                && l["file"] == file
                && l["line"] == at.line
                && l["column"] == at.column
        })
        .unwrap_or_else(|| {
            panic!(
                "no {code} at {file}:{}:{}; findings:\n{}",
                at.line,
                at.column,
                brief(doc)
            )
        });
    assert_eq!(f["location"]["end_line"], at.line, "{f:#}");
    assert_eq!(f["location"]["end_column"], at.end_column, "{f:#}");
    f
}

/// Asserts no `code` finding is reported on the resource `kind namespace/name`.
fn assert_none_on(doc: &Value, code: &str, kind: &str, name: &str) {
    let hits: Vec<_> = with_code(doc, code)
        .into_iter()
        .filter(|f| f["resource"]["kind"] == kind && f["resource"]["name"] == name)
        .collect();
    assert!(
        hits.is_empty(),
        "unexpected {code} on {kind} {name}:\n{}",
        brief(doc)
    );
}

fn resource_label(f: &Value) -> String {
    let r = &f["resource"];
    let ns = r["namespace"].as_str().unwrap_or_default();
    let kind = r["kind"].as_str().expect("kind");
    let name = r["name"].as_str().expect("name");
    if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The rule docs on disk: (code, name, full text).
fn rule_docs() -> Vec<(String, String, String)> {
    let mut docs: Vec<(String, String, String)> = fs::read_dir(root().join("rules"))
        .expect("rules/ exists")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let stem = file.strip_suffix(".md")?;
            let (code, name) = stem.split_once('-')?;
            code.starts_with("MESH").then(|| {
                let text = fs::read_to_string(e.path()).expect("read rule doc");
                (code.to_string(), name.to_string(), text)
            })
        })
        .collect();
    // By code number, as meshlint lists them: MESH705 before MESH1101.
    docs.sort_by_key(|(code, _, _)| (code.len(), code.clone()));
    assert!(!docs.is_empty(), "no rule docs under rules/");
    docs
}

/// A rule doc without its `---` front matter.
fn doc_body(doc: &str) -> &str {
    doc.strip_prefix("---")
        .and_then(|rest| rest.split_once("\n---"))
        .map_or(doc, |(_, body)| body.trim_start_matches('\n'))
}

/// Message escaping of GitHub workflow commands (as `@actions/core`).
fn gh_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Text with whitespace and miette's gutter removed, so wrapped lines compare equal.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

/// The positions of the demo's MESH101/201/202 findings, from the text of shop.yaml.
struct DemoSpans {
    reserved_container_port: Span,
    duplicate_port: Span,
    first_port: Span,
    port_web: Span,
    port_typo: Span,
    port_status: Span,
    reserved_target_port: Span,
}

fn demo_spans() -> DemoSpans {
    let shop = read(SHOP);
    DemoSpans {
        reserved_container_port: span(&shop, &["containerPort: 15000"], "15000"),
        first_port: span(&shop, &["containerPort: 8080"], "8080"),
        duplicate_port: span(
            &shop,
            &["containerPort: 8080", "containerPort: 8080"],
            "8080",
        ),
        port_web: span(&shop, &["kind: Service", "name: web"], "web"),
        port_typo: span(&shop, &["kind: Service", "name: htpp-admin"], "htpp-admin"),
        port_status: span(&shop, &["kind: Service", "name: status"], "status"),
        reserved_target_port: span(&shop, &["kind: Service", "targetPort: 15021"], "15021"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The demo in every format
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_json_reports_mesh101_201_202_at_the_offending_fields() {
    let out = meshlint(&["check", "testdata/demo", "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    assert_eq!(doc["version"], 1);
    assert!(errors(&doc).is_empty(), "{doc:#}");
    let s = demo_spans();

    let f = finding_at(&doc, "MESH202", SHOP, s.reserved_container_port);
    assert_eq!(f["severity"], "error");
    assert_eq!(f["name"], "sidecar-reserved-port");
    assert_eq!(resource_label(f), "Deployment shop/storefront");
    assert!(str_of(&f["message"], "message").contains("15000"), "{f:#}");

    let f = finding_at(&doc, "MESH201", SHOP, s.duplicate_port);
    assert_eq!(f["severity"], "error");
    assert_eq!(f["name"], "container-port-collision");
    assert_eq!(resource_label(f), "Deployment shop/storefront");
    let related = f["related"].as_array().expect("related");
    assert_eq!(related.len(), 1, "{f:#}");
    let r = &related[0]["location"];
    assert_eq!(r["file"], SHOP);
    assert_eq!(
        (&r["line"], &r["column"], &r["end_column"]),
        (
            &Value::from(s.first_port.line),
            &Value::from(s.first_port.column),
            &Value::from(s.first_port.end_column)
        ),
        "{f:#}"
    );

    for (at, name) in [
        (s.port_web, "web"),
        (s.port_typo, "htpp-admin"),
        (s.port_status, "status"),
    ] {
        let f = finding_at(&doc, "MESH101", SHOP, at);
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["name"], "port-name-missing-protocol");
        assert_eq!(resource_label(f), "Service shop/storefront");
        assert_eq!(f["istio_codes"], serde_json::json!(["IST0118"]));
        assert!(
            str_of(&f["message"], "message").contains(&format!("`{name}`")),
            "{f:#}"
        );
        assert!(f["help"].as_str().is_some_and(|h| !h.is_empty()), "{f:#}");
    }
    let typo = finding_at(&doc, "MESH101", SHOP, s.port_typo);
    assert!(
        str_of(&typo["help"], "help").contains("`http-admin`"),
        "{typo:#}"
    );

    let f = finding_at(&doc, "MESH202", SHOP, s.reserved_target_port);
    assert_eq!(resource_label(f), "Service shop/storefront");
    assert!(str_of(&f["message"], "message").contains("15021"), "{f:#}");

    // The summary counts what is listed.
    let n = |sev: &str| {
        findings(&doc)
            .iter()
            .filter(|f| f["severity"] == sev)
            .count()
    };
    let summary = &doc["summary"]["findings"];
    assert_eq!(summary["error"], n("error"));
    assert_eq!(summary["warning"], n("warning"));
    assert_eq!(summary["info"], n("info"));
    let demo_files = fs::read_dir(root().join("testdata/demo"))
        .expect("demo dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(doc["summary"]["files"], demo_files);
}

#[test]
fn demo_sarif_is_2_1_0_with_rule_help_and_matches_the_json_findings() {
    let json = meshlint(&["check", "testdata/demo", "--format", "json"]).json();
    let out = meshlint(&["check", "testdata/demo", "--format", "sarif"]);
    out.expect_code(1);
    let sarif = out.json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        str_of(&sarif["$schema"], "$schema").contains("sarif"),
        "{}",
        sarif["$schema"]
    );
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "meshlint");

    // Every documented rule is described, with its doc (minus front matter) as help.
    let rules = driver["rules"].as_array().expect("tool.driver.rules");
    let docs = rule_docs();
    let ids: Vec<&str> = rules.iter().map(|r| str_of(&r["id"], "rule id")).collect();
    let codes: Vec<&str> = docs.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(ids, codes, "SARIF rules differ from rules/*.md");
    for (rule, (code, name, text)) in rules.iter().zip(&docs) {
        assert_eq!(rule["name"], name.as_str(), "{rule:#}");
        let help = str_of(&rule["help"]["text"], "help.text");
        // The doc body, without the test markers the doc runner uses.
        assert!(
            !help.contains("# expect:") && !help.contains("yaml bad"),
            "{code}: {help}"
        );
        let body = doc_body(text);
        let first_section = body.split("## Examples").next().unwrap_or(body);
        assert!(help.starts_with(first_section.trim()), "help of {code}");
        assert!(
            help.starts_with(&format!("# {code} {name}")),
            "{code}: {help}"
        );
        assert_eq!(rule["help"]["markdown"], rule["help"]["text"]);
        assert!(
            rule["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{rule:#}"
        );
        let level = str_of(&rule["defaultConfiguration"]["level"], "level");
        assert!(["error", "warning", "note"].contains(&level), "{rule:#}");
    }

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);

    // One result per JSON finding, in the same order, at the same place.
    let results = run["results"].as_array().expect("results");
    let expected = findings(&json);
    assert_eq!(results.len(), expected.len(), "{}", brief(&json));
    for (r, f) in results.iter().zip(expected) {
        assert_eq!(r["ruleId"], f["code"], "{r:#}");
        let level = match str_of(&f["severity"], "severity") {
            "error" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{r:#}");
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let mut text = format!(
            "{}: {}",
            resource_label(f),
            str_of(&f["message"], "message")
        );
        if let Some(h) = f["help"].as_str() {
            text.push_str("\nhelp: ");
            text.push_str(h);
        }
        assert_eq!(r["message"]["text"], text.as_str());
        let locations = r["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1);
        let p = &locations[0]["physicalLocation"];
        let uri = str_of(&p["artifactLocation"]["uri"], "uri");
        assert!(
            !uri.starts_with('/') && !uri.starts_with("./") && !uri.contains('\\'),
            "uri is not relative: {uri}"
        );
        assert_eq!(uri, str_of(&f["location"]["file"], "file"));
        let region = &p["region"];
        let l = &f["location"];
        assert_eq!(region["startLine"], l["line"], "{r:#}");
        assert_eq!(region["startColumn"], l["column"], "{r:#}");
        assert_eq!(region["endLine"], l["end_line"], "{r:#}");
        assert_eq!(region["endColumn"], l["end_column"], "{r:#}");
    }

    // Spot-check one result against the file itself.
    let s = demo_spans();
    assert!(
        results.iter().any(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            r["ruleId"] == "MESH202"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == SHOP
                && region["startLine"] == s.reserved_container_port.line
                && region["startColumn"] == s.reserved_container_port.column
        }),
        "no MESH202 result at the containerPort 15000"
    );
}

#[test]
fn demo_github_annotations_have_positions_and_escaped_messages() {
    let json = meshlint(&["check", "testdata/demo", "--format", "json"]).json();
    let out = meshlint(&["check", "testdata/demo", "--format", "github"]);
    out.expect_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let expected = findings(&json);
    assert_eq!(lines.len(), expected.len(), "{}", out.stdout);
    for (line, f) in lines.iter().zip(expected) {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "{line}"
        );
        let command = match str_of(&f["severity"], "severity") {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        let l = &f["location"];
        let mut message = format!(
            "{} {}: {}",
            str_of(&f["code"], "code"),
            resource_label(f),
            str_of(&f["message"], "message")
        );
        if let Some(h) = f["help"].as_str() {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        let want = format!(
            "::{command} file={},line={},endLine={},col={},endColumn={},title={} {}::{}",
            str_of(&l["file"], "file"),
            l["line"],
            l["end_line"],
            l["column"],
            l["end_column"],
            str_of(&f["code"], "code"),
            str_of(&f["name"], "name"),
            gh_escape(&message),
        );
        assert_eq!(*line, want);
        // The help sits on its own line of the annotation: a `%0A`, never a raw newline.
        assert!(line.contains("%0Ahelp: "), "{line}");
    }
    let s = demo_spans();
    let reserved = format!(
        "::error file={SHOP},line={line},endLine={line},col={col},endColumn={end},title=MESH202 sidecar-reserved-port::",
        line = s.reserved_container_port.line,
        col = s.reserved_container_port.column,
        end = s.reserved_container_port.end_column,
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&reserved)),
        "missing {reserved}\n{}",
        out.stdout
    );
    let web = format!(
        "::warning file={SHOP},line={},endLine={},col={},",
        s.port_web.line, s.port_web.line, s.port_web.column
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&web)),
        "missing {web}\n{}",
        out.stdout
    );
}

#[test]
fn demo_human_output_has_positions_help_and_summary_without_colour_when_piped() {
    let json = meshlint(&["check", "testdata/demo", "--format", "json"]).json();
    let out = meshlint(&["check", "testdata/demo"]);
    out.expect_code(1);
    let human = &out.stdout;
    assert!(!human.contains('\x1b'), "ANSI escapes on a pipe:\n{human}");
    let squashed = squash(human);
    for f in findings(&json) {
        let header = format!(
            "{} {}",
            str_of(&f["code"], "code"),
            str_of(&f["name"], "name")
        );
        assert!(human.contains(&header), "missing {header}:\n{human}");
        let message = format!(
            "{}: {}",
            resource_label(f),
            str_of(&f["message"], "message")
        );
        assert!(squashed.contains(&squash(&message)), "missing {message:?}");
        let help = format!("help: {}", str_of(&f["help"], "help"));
        assert!(squashed.contains(&squash(&help)), "missing {help:?}");
    }
    // Each finding's snippet is headed by its own position, even when a related location
    // comes earlier in the file (MESH201's `first declared` port).
    for f in findings(&json) {
        let l = &f["location"];
        let at = format!(
            "[{}:{}:{}]",
            str_of(&l["file"], "file"),
            l["line"],
            l["column"]
        );
        assert!(human.contains(&at), "missing {at}:\n{human}");
    }
    let s = demo_spans();
    for at in [
        s.reserved_container_port,
        s.duplicate_port,
        s.port_web,
        s.port_typo,
        s.port_status,
        s.reserved_target_port,
    ] {
        let want = format!("[{SHOP}:{}:{}]", at.line, at.column);
        assert!(human.contains(&want), "missing {want}:\n{human}");
    }
    // The code frame shows the offending source line.
    assert!(human.contains("containerPort: 15000"), "{human}");

    let c = &json["summary"]["findings"];
    let (e, w, i) = (
        c["error"].as_u64().expect("error count"),
        c["warning"].as_u64().expect("warning count"),
        c["info"].as_u64().expect("info count"),
    );
    let total = e + w + i;
    let summary = format!(
        "{total} {} ({e} error, {w} warning, {i} info) in {} files, {} resources",
        if total == 1 { "finding" } else { "findings" },
        json["summary"]["files"],
        json["summary"]["resources"],
    );
    assert_eq!(human.lines().last(), Some(summary.as_str()), "{human}");
}

#[test]
fn colour_is_forced_by_always_and_never_on_a_pipe_even_with_auto() {
    let always = meshlint(&["check", "testdata/demo", "--color", "always"]);
    always.expect_code(1);
    assert!(
        always.stdout.contains("\x1b["),
        "--color always gave no ANSI"
    );

    let auto = meshlint(&["check", "testdata/demo", "--color", "auto"]);
    auto.expect_code(1);
    assert!(!auto.stdout.contains('\x1b'), "{}", auto.stdout);

    let mut cmd = command(&["check", "testdata/demo", "--color", "auto"]);
    cmd.env("NO_COLOR", "1");
    let no_color = execute(cmd, None);
    no_color.expect_code(1);
    assert!(!no_color.stdout.contains('\x1b'), "{}", no_color.stdout);
    // Colour is the only difference.
    assert_eq!(no_color.stdout, auto.stdout);
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod pty {
    //! A pseudo-terminal, so `--color auto` can be tested where it matters: on a terminal.

    use std::ffi::{CStr, c_char, c_int};
    use std::fs::{File, OpenOptions};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;

    unsafe extern "C" {
        fn grantpt(fd: c_int) -> c_int;
        fn unlockpt(fd: c_int) -> c_int;
        fn ptsname_r(fd: c_int, buf: *mut c_char, buflen: usize) -> c_int;
    }

    const O_NOCTTY: c_int = 0o400;

    /// Sets the terminal's width, as a terminal emulator does when its window is resized.
    pub fn set_columns(terminal: &File, columns: u16) {
        let size = libc::winsize {
            ws_row: 24,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: `terminal` is an open pty; TIOCSWINSZ reads one `winsize`, which outlives
        // the call.
        let rc = unsafe { libc::ioctl(terminal.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "set the pty's size");
    }

    /// The controlling side and the terminal side of a new pseudo-terminal.
    pub fn open() -> Option<(File, File)> {
        let master = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_NOCTTY)
            .open("/dev/ptmx")
            .ok()?;
        let fd = master.as_raw_fd();
        let mut name: [c_char; 256] = [0; 256];
        // SAFETY: `fd` is an open pty master owned by `master`; `name` outlives the call and
        // its length is passed.
        let ok = unsafe {
            grantpt(fd) == 0
                && unlockpt(fd) == 0
                && ptsname_r(fd, name.as_mut_ptr(), name.len()) == 0
        };
        if !ok {
            return None;
        }
        // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated string.
        let path = unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_str()
            .ok()?
            .to_owned();
        let terminal = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_NOCTTY)
            .open(path)
            .ok()?;
        Some((master, terminal))
    }
}

/// Runs `check` with stdout on a terminal; `None` when no pseudo-terminal is available.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn on_terminal(args: &[&str], no_color: Option<&str>) -> Option<(i32, String)> {
    let env: Vec<(&str, &str)> = no_color.map(|v| ("NO_COLOR", v)).into_iter().collect();
    on_terminal_with(args, &env, None)
}

/// Runs `check` on a terminal of `columns` columns (unset: 0, as a fresh pty has), with `TERM`
/// a colour terminal unless `env` says otherwise.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn on_terminal_with(
    args: &[&str],
    env: &[(&str, &str)],
    columns: Option<u16>,
) -> Option<(i32, String)> {
    let (mut master, terminal) = pty::open()?;
    if let Some(c) = columns {
        pty::set_columns(&terminal, c);
    }
    let mut cmd = command(args);
    cmd.env("TERM", "xterm-256color").env_remove("COLUMNS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(terminal))
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn meshlint");
    // Dropping the command closes our copy of the terminal, so reads end when the child exits.
    drop(cmd);
    let reader = thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // A pty master reports EIO once the terminal side is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let status = wait(&mut child, "meshlint on a terminal");
    let out = reader.join().expect("terminal reader");
    Some((
        status.code().expect("exit code"),
        String::from_utf8_lossy(&out).into_owned(),
    ))
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn colour_auto_on_a_terminal_honours_no_color() {
    let args = ["check", "testdata/cli/port-name.yaml", "--color", "auto"];
    let Some((code, coloured)) = on_terminal(&args, None) else {
        eprintln!("skipped: no pseudo-terminal available");
        return;
    };
    assert_eq!(code, 1);
    assert!(
        coloured.contains("\x1b["),
        "--color auto on a terminal gave no colour:\n{coloured}"
    );
    assert!(coloured.contains("port-name.yaml:"), "{coloured}");

    let (code, plain) = on_terminal(&args, Some("1")).expect("pty");
    assert_eq!(code, 1);
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR=1 still coloured:\n{plain}"
    );
    assert!(plain.contains("port-name.yaml:"), "{plain}");

    // An empty NO_COLOR does not count (no-color.org).
    let (_, empty) = on_terminal(&args, Some("")).expect("pty");
    assert!(empty.contains("\x1b["), "{empty}");

    // `--color always` beats NO_COLOR; `--color never` beats the terminal.
    let (_, forced) = on_terminal(
        &["check", "testdata/cli/port-name.yaml", "--color", "always"],
        Some("1"),
    )
    .expect("pty");
    assert!(forced.contains("\x1b["), "{forced}");
    let (_, never) = on_terminal(
        &["check", "testdata/cli/port-name.yaml", "--color", "never"],
        None,
    )
    .expect("pty");
    assert!(!never.contains('\x1b'), "{never}");
}

/// A dumb terminal gets no colour; a terminal's width bounds the human format's lines.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn a_dumb_terminal_gets_no_colour_and_lines_fit_the_terminal() {
    let args = ["check", "testdata/demo", "--color", "auto"];
    let Some((code, dumb)) = on_terminal_with(&args, &[("TERM", "dumb")], Some(200)) else {
        eprintln!("skipped: no pseudo-terminal available");
        return;
    };
    assert_eq!(code, 1);
    assert!(!dumb.contains('\x1b'), "TERM=dumb still coloured:\n{dumb}");
    let (_, forced) =
        on_terminal_with(&args, &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")], None).expect("pty");
    assert!(forced.contains("\x1b["), "CLICOLOR_FORCE=1 gave no colour");
    // Lines of the input in code frames, and their underlines, are shown as they are.
    let widest = |text: &str| {
        text.lines()
            .filter(|l| {
                let t = l.trim_start();
                let number = t
                    .split(' ')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok());
                let frame = number && t.contains(" │");
                !frame && !t.starts_with('·')
            })
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    let (_, narrow) = on_terminal_with(&args, &[("TERM", "dumb")], Some(80)).expect("pty");
    // The pty turns \n into \r\n.
    let narrow = narrow.replace('\r', "");
    assert!(
        widest(&narrow) <= 80,
        "a line is wider than 80 columns:\n{narrow}"
    );
    let wide = dumb.replace('\r', "");
    assert!(
        widest(&wide) > 110,
        "a 200-column terminal used no more than 110 columns"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn output_is_byte_identical_across_runs_and_input_order() {
    for format in FORMATS {
        let a = meshlint(&["check", "testdata/demo", "--format", format]);
        let b = meshlint(&["check", "testdata/demo", "--format", format]);
        assert_eq!(a.code, b.code);
        assert!(
            a.stdout == b.stdout,
            "--format {format} differs between runs"
        );
    }
    // Naming the files in reverse order changes nothing either.
    let mut files: Vec<String> = fs::read_dir(root().join("testdata/demo"))
        .expect("demo dir")
        .filter_map(Result::ok)
        .map(|e| format!("testdata/demo/{}", e.file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    files.reverse();
    let mut args = vec!["check", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let reversed = meshlint(&args);
    let dir = meshlint(&["check", "testdata/demo", "--format", "json"]);
    assert_eq!(reversed.code, dir.code);
    assert!(
        reversed.stdout == dir.stdout,
        "output depends on input order"
    );
}

// ---------------------------------------------------------------------------------------------
// 3, 4. Input errors
// ---------------------------------------------------------------------------------------------

const BAD: &str = "testdata/cli/broken/bad.yaml";
const GOOD: &str = "testdata/cli/broken/good.yaml";

#[test]
fn a_broken_file_is_an_error_and_other_files_are_still_checked() {
    let bad_at = span(&read(BAD), &["ports: ["], "[");
    let good_at = span(&read(GOOD), &["name: orders "], "orders");

    let out = meshlint(&["check", "testdata/cli/broken", "--format", "json"]);
    out.expect_code(2);
    let doc = out.json();
    let errs = errors(&doc);
    assert_eq!(errs.len(), 1, "{doc:#}");
    assert_eq!(errs[0]["file"], BAD);
    assert_eq!(errs[0]["line"], bad_at.line, "{doc:#}");
    assert_eq!(errs[0]["column"], bad_at.column, "{doc:#}");
    assert!(
        str_of(&errs[0]["message"], "message").starts_with("invalid YAML:"),
        "{doc:#}"
    );
    let f = finding_at(&doc, "MESH101", GOOD, good_at);
    assert_eq!(resource_label(f), "Service shop/orders");
    assert_eq!(doc["summary"]["files"], 2);

    let human = meshlint(&["check", "testdata/cli/broken"]);
    human.expect_code(2);
    let at = format!("{BAD}:{}:{}: invalid YAML", bad_at.line, bad_at.column);
    assert!(
        human.stdout.contains(&at),
        "missing {at}:\n{}",
        human.stdout
    );
    let finding = format!("{GOOD}:{}:{}", good_at.line, good_at.column);
    assert!(human.stdout.contains(&finding), "{}", human.stdout);
    assert!(
        human.stdout.contains("; 1 input error\n"),
        "{}",
        human.stdout
    );

    let github = meshlint(&["check", "testdata/cli/broken", "--format", "github"]);
    github.expect_code(2);
    let want = format!(
        "::error file={BAD},line={},col={},title=meshlint input error::invalid YAML:",
        bad_at.line, bad_at.column
    );
    assert!(
        github.stdout.lines().any(|l| l.starts_with(&want)),
        "missing {want}\n{}",
        github.stdout
    );
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("::warning file={GOOD},line={},", good_at.line))),
        "{}",
        github.stdout
    );

    let sarif = meshlint(&["check", "testdata/cli/broken", "--format", "sarif"]);
    sarif.expect_code(2);
    let sarif = sarif.json();
    let run = &sarif["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1, "{sarif:#}");
    assert_eq!(notes[0]["level"], "error");
    let p = &notes[0]["locations"][0]["physicalLocation"];
    assert_eq!(p["artifactLocation"]["uri"], BAD);
    assert_eq!(p["region"]["startLine"], bad_at.line);
    assert_eq!(p["region"]["startColumn"], bad_at.column);
    assert_eq!(run["results"].as_array().map(Vec::len), Some(1));
}

/// Runs one file that must be rejected and returns its single error.
fn single_error(path: &str) -> Value {
    let out = meshlint(&["check", path, "--format", "json"]);
    out.expect_code(2);
    let doc = out.json();
    let errs = errors(&doc);
    assert_eq!(errs.len(), 1, "{doc:#}");
    assert_eq!(errs[0]["file"], path, "{doc:#}");
    assert!(findings(&doc).is_empty(), "{doc:#}");
    errs[0].clone()
}

fn assert_error(e: &Value, at: Span, message: &str) {
    assert_eq!(e["line"], at.line, "{e:#}");
    assert_eq!(e["column"], at.column, "{e:#}");
    assert!(
        str_of(&e["message"], "message").contains(message),
        "{e:#} lacks {message:?}"
    );
}

#[test]
fn documents_that_are_not_resources_are_errors_with_positions() {
    let p = "testdata/cli/errors/list-document.yaml";
    let e = single_error(p);
    assert_error(&e, span(&read(p), &["- apiVersion"], "-"), "not an object");

    let p = "testdata/cli/errors/scalar-document.yaml";
    let e = single_error(p);
    assert_error(
        &e,
        span(&read(p), &["kind Service"], "kind"),
        "not an object",
    );

    let p = "testdata/cli/errors/missing-kind.yaml";
    let e = single_error(p);
    assert_error(
        &e,
        span(&read(p), &["apiVersion: v1"], "apiVersion"),
        "no `kind`",
    );

    // The error points into `metadata`: at its key or at its first field.
    let p = "testdata/cli/errors/missing-name.yaml";
    let e = single_error(p);
    let text = read(p);
    let key = span(&text, &["metadata:"], "metadata");
    let first = span(&text, &["metadata:", "namespace"], "namespace");
    let at = (e["line"].as_u64(), e["column"].as_u64());
    assert!(
        at == (Some(key.line), Some(key.column)) || at == (Some(first.line), Some(first.column)),
        "{e:#}"
    );
    assert!(
        str_of(&e["message"], "message").contains("metadata.name"),
        "{e:#}"
    );
    // `generateName` is a name to be: such objects are read, each an object of its own.
    let out = meshlint(&[
        "check",
        "testdata/cli/generate-name",
        "--select",
        "MESH002",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["resources"], 2, "{doc:#}");

    // A whole directory of them: every error is reported, sorted by file.
    let out = meshlint(&["check", "testdata/cli/errors", "--format", "json"]);
    out.expect_code(2);
    let doc = out.json();
    let files: Vec<&str> = errors(&doc)
        .iter()
        .map(|e| str_of(&e["file"], "file"))
        .collect();
    assert_eq!(
        files,
        [
            "testdata/cli/errors/list-document.yaml",
            "testdata/cli/errors/missing-kind.yaml",
            "testdata/cli/errors/missing-name.yaml",
            "testdata/cli/errors/scalar-document.yaml",
        ]
    );
    let human = meshlint(&["check", "testdata/cli/errors"]);
    human.expect_code(2);
    assert!(
        human
            .stdout
            .contains("testdata/cli/errors/missing-kind.yaml:"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("4 input errors"), "{}", human.stdout);
}

#[test]
fn a_file_that_is_not_utf8_is_an_error() {
    let dir = temp_dir();
    let mut bytes = b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf".to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xe9\n"); // Latin-1 e-acute
    write(&dir.path().join("latin1.yaml"), &bytes);
    write(
        &dir.path().join("ok.yaml"),
        read("testdata/cli/port-name.yaml"),
    );

    let out = meshlint_in(dir.path(), &["check", ".", "--format", "json"]);
    out.expect_code(2);
    let doc = out.json();
    let errs = errors(&doc);
    assert_eq!(errs.len(), 1, "{doc:#}");
    let file = str_of(&errs[0]["file"], "file");
    assert!(file.ends_with("latin1.yaml"), "{file}");
    let message = str_of(&errs[0]["message"], "message");
    assert!(message.contains("UTF-8"), "{message}");
    assert!(message.contains(&format!("offset {offset}")), "{message}");
    // `  name: caf` is 11 characters; the bad byte is column 12 of line 4.
    assert_eq!(
        (errs[0]["line"].as_u64(), errs[0]["column"].as_u64()),
        (Some(4), Some(12))
    );
    // The valid file beside it is still checked.
    assert_eq!(with_code(&doc, "MESH101").len(), 1, "{}", brief(&doc));

    let human = meshlint_in(dir.path(), &["check", "latin1.yaml"]);
    human.expect_code(2);
    assert!(
        human
            .stdout
            .contains("latin1.yaml:4:12: file is not valid UTF-8"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let path = "testdata/cli/does-not-exist.yaml";
    let e = single_error(path);
    assert_eq!(e["line"], 0);
    assert!(
        str_of(&e["message"], "message").contains("cannot read"),
        "{e:#}"
    );

    for format in FORMATS {
        let out = meshlint(&["check", path, "--format", format]);
        out.expect_code(2);
        assert!(
            out.stdout.contains("does-not-exist.yaml"),
            "--format {format}:\n{}",
            out.stdout
        );
    }
    let human = meshlint(&["check", path]);
    assert!(
        human.stdout.contains(&format!("{path}: cannot read file")),
        "{}",
        human.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// 5. stdin
// ---------------------------------------------------------------------------------------------

#[test]
fn stdin_is_checked_and_reported_as_stdin() {
    let text = read("testdata/cli/port-name.yaml");
    let at = span(&text, &["name: catalog-admin"], "catalog-admin");

    let out = meshlint_stdin(&["check", "-", "--format", "json"], text.as_bytes());
    out.expect_code(1);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    let f = finding_at(&doc, "MESH101", "<stdin>", at);
    assert_eq!(resource_label(f), "Service shop/catalog");
    assert_eq!(findings(&doc).len(), 1, "{}", brief(&doc));

    let github = meshlint_stdin(&["check", "-", "--format", "github"], text.as_bytes());
    github.expect_code(1);
    assert!(
        github.stdout.starts_with(&format!(
            "::warning file=<stdin>,line={},endLine={},col={},endColumn={},",
            at.line, at.line, at.column, at.end_column
        )),
        "{}",
        github.stdout
    );

    let human = meshlint_stdin(&["check", "-"], text.as_bytes());
    human.expect_code(1);
    assert!(
        human
            .stdout
            .contains(&format!("<stdin>:{}:{}", at.line, at.column)),
        "{}",
        human.stdout
    );

    // Broken input on stdin is an error with a position, too.
    let bad = read(BAD);
    let bad_at = span(&bad, &["ports: ["], "[");
    let out = meshlint_stdin(&["check", "-", "--format", "json"], bad.as_bytes());
    out.expect_code(2);
    let doc = out.json();
    assert_eq!(errors(&doc).len(), 1, "{doc:#}");
    assert_eq!(errors(&doc)[0]["file"], "<stdin>");
    assert_eq!(errors(&doc)[0]["line"], bad_at.line);
    assert_eq!(errors(&doc)[0]["column"], bad_at.column);
}

// ---------------------------------------------------------------------------------------------
// 6. Lists and multi-document streams
// ---------------------------------------------------------------------------------------------

#[test]
fn list_items_are_checked_at_their_own_positions() {
    let path = "testdata/cli/list.yaml";
    let text = read(path);
    let out = meshlint(&["check", path, "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    // Three Services; the List wrappers themselves are not resources.
    assert_eq!(doc["summary"]["resources"], 3, "{doc:#}");

    let admin = span(&text, &["name: payments-admin"], "payments-admin");
    let f = finding_at(&doc, "MESH101", path, admin);
    assert_eq!(resource_label(f), "Service shop/payments");

    // In the nested ServiceList, the unnamed port is flagged at its `port` value.
    let unnamed = span(&text, &["kind: ServiceList", "{port: 8983}"], "8983");
    let f = finding_at(&doc, "MESH101", path, unnamed);
    assert_eq!(resource_label(f), "Service shop/search");
    assert!(
        str_of(&f["message"], "message").contains("unnamed port 8983"),
        "{f:#}"
    );
    assert_eq!(with_code(&doc, "MESH101").len(), 2, "{}", brief(&doc));
}

#[test]
fn multi_document_streams_skip_empty_and_comment_documents() {
    let path = "testdata/cli/multi.yaml";
    let text = read(path);
    let out = meshlint(&["check", path, "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["resources"], 2, "{doc:#}");

    let inventory = span(&text, &["name: inventory "], "inventory");
    let f = finding_at(&doc, "MESH101", path, inventory);
    assert_eq!(resource_label(f), "Service shop/inventory");

    let typo = span(&text, &["name: htpp-api"], "htpp-api");
    let f = finding_at(&doc, "MESH101", path, typo);
    assert_eq!(resource_label(f), "Service shop/mail");
    // `smtp` on port 25 is TCP by default: not flagged.
    assert_eq!(with_code(&doc, "MESH101").len(), 2, "{}", brief(&doc));
}

// ---------------------------------------------------------------------------------------------
// 7. Rule selection and the failure threshold
// ---------------------------------------------------------------------------------------------

fn codes(doc: &Value) -> std::collections::BTreeSet<String> {
    findings(doc)
        .iter()
        .map(|f| str_of(&f["code"], "code").to_string())
        .collect()
}

#[test]
fn select_and_ignore_accept_codes_names_and_prefixes() {
    let demo = |extra: &[&str]| {
        let mut args = vec!["check", "testdata/demo", "--format", "json"];
        args.extend_from_slice(extra);
        let out = meshlint(&args);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        codes(&out.json())
    };
    let all = demo(&[]);
    for code in ["MESH101", "MESH201", "MESH202"] {
        assert!(all.contains(code), "{all:?}");
    }

    assert_eq!(
        demo(&["--select", "MESH101"]),
        ["MESH101".to_string()].into()
    );
    assert_eq!(
        demo(&["--select", "port-name-missing-protocol"]),
        ["MESH101".to_string()].into()
    );
    assert_eq!(
        demo(&["--select", "container-port-collision,MESH202"]),
        ["MESH201".to_string(), "MESH202".to_string()].into()
    );
    assert_eq!(
        demo(&["--select", "MESH201", "--select", "mesh202"]),
        ["MESH201".to_string(), "MESH202".to_string()].into()
    );
    let mesh2 = demo(&["--select", "MESH2"]);
    assert!(
        mesh2.contains("MESH201") && mesh2.contains("MESH202"),
        "{mesh2:?}"
    );
    assert!(mesh2.iter().all(|c| c.starts_with("MESH2")), "{mesh2:?}");

    let ignored = demo(&["--ignore", "MESH101"]);
    assert!(!ignored.contains("MESH101"), "{ignored:?}");
    assert!(ignored.contains("MESH201") && ignored.contains("MESH202"));
    let ignored = demo(&["--ignore", "sidecar-reserved-port", "--ignore", "MESH201"]);
    assert!(!ignored.contains("MESH201") && !ignored.contains("MESH202"));
    assert!(ignored.contains("MESH101"), "{ignored:?}");
    // --ignore wins over --select.
    assert_eq!(
        demo(&[
            "--select",
            "MESH101,MESH201",
            "--ignore",
            "port-name-missing-protocol"
        ]),
        ["MESH201".to_string()].into()
    );
}

#[test]
fn unknown_rules_are_usage_errors() {
    for args in [
        ["--select", "MESH999"],
        ["--ignore", "no-such-rule"],
        ["--select", "MESH101,bogus"],
    ] {
        let mut all = vec!["check", "testdata/demo", "--format", "json"];
        all.extend_from_slice(&args);
        let out = meshlint(&all);
        out.expect_code(2);
        let name = args[1].rsplit(',').next().expect("rule");
        assert!(
            out.stderr.contains(&format!("unknown rule `{name}`")),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "report printed for a usage error");
    }
}

#[test]
fn failure_threshold_decides_exit_code() {
    // Warnings only.
    let path = "testdata/cli/port-name.yaml";
    let doc = meshlint(&["check", path, "--format", "json"]).json();
    assert!(
        findings(&doc).iter().all(|f| f["severity"] == "warning") && !findings(&doc).is_empty(),
        "{}",
        brief(&doc)
    );
    meshlint(&["check", path]).expect_code(1);
    meshlint(&["check", path, "--failure-threshold", "warning"]).expect_code(1);
    meshlint(&["check", path, "--failure-threshold", "error"]).expect_code(0);
    meshlint(&["check", path, "--failure-threshold", "info"]).expect_code(1);

    // Info only.
    let path = "testdata/cli/stale-annotation.yaml";
    let doc = meshlint(&["check", path, "--format", "json"]).json();
    assert_eq!(
        codes(&doc),
        ["MESH001".to_string()].into(),
        "{}",
        brief(&doc)
    );
    assert_eq!(findings(&doc)[0]["severity"], "info");
    meshlint(&["check", path]).expect_code(0);
    meshlint(&["check", path, "--failure-threshold", "warning"]).expect_code(0);
    meshlint(&["check", path, "--failure-threshold", "info"]).expect_code(1);
    meshlint(&[
        "check",
        path,
        "--failure-threshold",
        "info",
        "--format",
        "sarif",
    ])
    .expect_code(1);

    let out = meshlint(&["check", path, "--failure-threshold", "fatal"]);
    out.expect_code(2);
    assert!(out.stderr.contains("fatal"), "{}", out.stderr);
}

#[test]
fn exclude_skips_matching_files_while_walking() {
    let out = meshlint(&[
        "check",
        "testdata/cli/broken",
        "--exclude",
        "bad.yaml",
        "--format",
        "json",
    ]);
    out.expect_code(1);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["files"], 1);

    let out = meshlint(&[
        "check",
        "testdata/cli/broken",
        "--exclude",
        "**/good.yaml",
        "--format",
        "json",
    ]);
    out.expect_code(2);
    let doc = out.json();
    assert!(findings(&doc).is_empty(), "{}", brief(&doc));
    assert_eq!(errors(&doc).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 8. Config files
// ---------------------------------------------------------------------------------------------

const LEGACY: &str = "testdata/cli/config/legacy.yaml";

struct LegacySpans {
    service_port_name: Span,
    service_target_port: Span,
    reserved_container_port: Span,
    duplicate_port: Span,
}

fn legacy_spans() -> LegacySpans {
    let text = read(LEGACY);
    LegacySpans {
        service_port_name: span(&text, &["kind: Service", "- name: web"], "web"),
        service_target_port: span(&text, &["kind: Service", "targetPort: 15001"], "15001"),
        reserved_container_port: span(&text, &["containerPort: 15000"], "15000"),
        duplicate_port: span(
            &text,
            &["containerPort: 8080", "containerPort: 8080"],
            "8080",
        ),
    }
}

/// A temp dir with the project config at its root and legacy.yaml two directories down.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    write(
        &dir.path().join(".meshlint.yaml"),
        read("testdata/cli/config/project.meshlint.yaml"),
    );
    let sub = dir.path().join("apps").join("legacy");
    write(&sub.join("legacy.yaml"), read(LEGACY));
    (dir, sub)
}

#[test]
fn without_config_every_legacy_finding_is_reported() {
    // The control for the config tests: a working directory with no config above it.
    let elsewhere = temp_dir();
    let (_dir, sub) = project();
    let file = sub.join("legacy.yaml");
    let file = file.to_str().expect("UTF-8 temp path");
    let out = meshlint_in(elsewhere.path(), &["check", file, "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    let s = legacy_spans();
    assert_eq!(
        finding_at(&doc, "MESH101", file, s.service_port_name)["severity"],
        "warning"
    );
    finding_at(&doc, "MESH202", file, s.service_target_port);
    finding_at(&doc, "MESH202", file, s.reserved_container_port);
    finding_at(&doc, "MESH201", file, s.duplicate_port);
    assert!(with_code(&doc, "MESH001").is_empty(), "{}", brief(&doc));
}

#[test]
fn config_is_discovered_upward_from_the_working_directory() {
    let (dir, sub) = project();
    let out = meshlint_in(&sub, &["check", "legacy.yaml", "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    let s = legacy_spans();

    // severity: {MESH101: error}
    let f = finding_at(&doc, "MESH101", "legacy.yaml", s.service_port_name);
    assert_eq!(f["severity"], "error", "{f:#}");
    // ignore: [MESH201] disables the rule.
    assert!(with_code(&doc, "MESH201").is_empty(), "{}", brief(&doc));
    // {rule: MESH202, resource: "Service legacy/*"} suppresses the Service's finding only.
    assert_none_on(&doc, "MESH202", "Service", "web");
    let f = finding_at(&doc, "MESH202", "legacy.yaml", s.reserved_container_port);
    assert_eq!(resource_label(f), "Deployment legacy/web");

    // The entry for `Service other/*` matches nothing: MESH001 points at it in the config.
    let config_text = read("testdata/cli/config/project.meshlint.yaml");
    let entry = span(
        &config_text,
        &["- rule: port-name-missing-protocol"],
        "rule",
    );
    let unused = with_code(&doc, "MESH001");
    assert_eq!(unused.len(), 1, "{}", brief(&doc));
    let u = unused[0];
    assert_eq!(u["severity"], "info");
    let file = Path::new(str_of(&u["location"]["file"], "file"));
    let file = if file.is_absolute() {
        file.to_path_buf()
    } else {
        sub.join(file)
    };
    assert_eq!(
        file.canonicalize().expect("reported config path exists"),
        dir.path()
            .join(".meshlint.yaml")
            .canonicalize()
            .expect("config")
    );
    assert_eq!(u["location"]["line"], entry.line, "{u:#}");
    assert_eq!(u["location"]["column"], entry.column, "{u:#}");
    let message = str_of(&u["message"], "message");
    assert!(
        message.contains("port-name-missing-protocol") && message.contains("Service other/*"),
        "{message}"
    );

    // The severity override shows in every format.
    let github = meshlint_in(&sub, &["check", "legacy.yaml", "--format", "github"]);
    github.expect_code(1);
    assert!(
        github.stdout.lines().any(|l| l.starts_with(&format!(
            "::error file=legacy.yaml,line={},",
            s.service_port_name.line
        )) && l.contains("title=MESH101 ")),
        "{}",
        github.stdout
    );
    let sarif = meshlint_in(&sub, &["check", "legacy.yaml", "--format", "sarif"]);
    sarif.expect_code(1);
    let sarif = sarif.json();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "MESH101" && r["level"] == "error"),
        "{sarif:#}"
    );
}

#[test]
fn config_flag_names_the_config_and_replaces_discovery() {
    // From the repository root, with a path as given: MESH001 names that path.
    let config = "testdata/cli/config/project.meshlint.yaml";
    let out = meshlint(&["check", LEGACY, "--config", config, "--format", "json"]);
    out.expect_code(1);
    let doc = out.json();
    let entry = span(
        &read(config),
        &["- rule: port-name-missing-protocol"],
        "rule",
    );
    let unused = with_code(&doc, "MESH001");
    assert_eq!(unused.len(), 1, "{}", brief(&doc));
    assert_eq!(unused[0]["location"]["file"], config);
    assert_eq!(unused[0]["location"]["line"], entry.line);
    assert_eq!(unused[0]["location"]["column"], entry.column);
    assert!(with_code(&doc, "MESH201").is_empty(), "{}", brief(&doc));

    // Inside the project, --config wins over the discovered .meshlint.yaml.
    let (dir, sub) = project();
    write(
        &dir.path().join("only-mesh202.yaml"),
        read("testdata/cli/config/only-mesh202.yaml"),
    );
    let out = meshlint_in(
        &sub,
        &[
            "check",
            "legacy.yaml",
            "--config",
            "../../only-mesh202.yaml",
            "--format",
            "json",
        ],
    );
    out.expect_code(1);
    let doc = out.json();
    let s = legacy_spans();
    // select: [sidecar-reserved-port]; the Deployment's finding is suppressed, the Service's
    // (suppressed by the discovered config) is not.
    assert_eq!(
        codes(&doc),
        ["MESH202".to_string()].into(),
        "{}",
        brief(&doc)
    );
    let f = finding_at(&doc, "MESH202", "legacy.yaml", s.service_target_port);
    assert_eq!(resource_label(f), "Service legacy/web");
    assert_eq!(findings(&doc).len(), 1, "{}", brief(&doc));

    let out = meshlint(&[
        "check",
        LEGACY,
        "--config",
        "testdata/cli/config/missing.yaml",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("testdata/cli/config/missing.yaml"),
        "{}",
        out.stderr
    );
}

#[test]
fn config_failure_threshold_applies_unless_the_flag_overrides_it() {
    let dir = temp_dir();
    write(
        &dir.path().join(".meshlint.yaml"),
        "failure-threshold: error\n",
    );
    write(
        &dir.path().join("svc/port-name.yaml"),
        read("testdata/cli/port-name.yaml"),
    );
    let sub = dir.path().join("svc");
    meshlint_in(&sub, &["check", "port-name.yaml"]).expect_code(0);
    meshlint_in(
        &sub,
        &["check", "port-name.yaml", "--failure-threshold", "warning"],
    )
    .expect_code(1);
}

#[test]
fn invalid_config_is_an_error_naming_the_config_file() {
    let path = "testdata/cli/config/invalid-key.yaml";
    let key = span(&read(path), &["failure_threshold: "], "failure_threshold");
    for format in FORMATS {
        let out = meshlint(&["check", LEGACY, "--config", path, "--format", format]);
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("{path}:{}:", key.line)),
            "--format {format}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("`failure_threshold`"), "{}", out.stderr);
        assert!(out.stdout.is_empty(), "report printed despite a bad config");
    }

    // A discovered config with a bad key is reported by its path too.
    let dir = temp_dir();
    write(&dir.path().join(".meshlint.yaml"), read(path));
    let sub = dir.path().join("deeper");
    write(
        &sub.join("port-name.yaml"),
        read("testdata/cli/port-name.yaml"),
    );
    let out = meshlint_in(&sub, &["check", "port-name.yaml"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains(&format!(".meshlint.yaml:{}:", key.line)),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Suppression annotations
// ---------------------------------------------------------------------------------------------

const ANNOTATIONS: &str = "testdata/cli/annotations.yaml";

#[test]
fn annotations_suppress_findings_and_unused_ones_are_reported() {
    let text = read(ANNOTATIONS);
    let out = meshlint(&["check", ANNOTATIONS, "--format", "json"]);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");

    // meshlint.io/ignore by code and by name.
    assert_none_on(&doc, "MESH101", "Service", "ignored");
    assert_none_on(&doc, "MESH101", "Service", "ignored-by-name");
    // galley.istio.io/analyze-suppress with the code of the finding.
    assert_none_on(&doc, "MESH101", "Service", "galley-ist0118");
    assert_none_on(&doc, "MESH101", "Service", "external-ist0150");
    // ... but not with another code: IST0150 is for ExternalName Services.
    let web = span(&text, &["name: galley-ist0150", "- name: web"], "web");
    let f = finding_at(&doc, "MESH101", ANNOTATIONS, web);
    assert_eq!(resource_label(f), "Service shop/galley-ist0150");
    assert_eq!(with_code(&doc, "MESH101").len(), 1, "{}", brief(&doc));

    // Unused entries are MESH001 at the annotation's value.
    let unused = with_code(&doc, "MESH001");
    assert_eq!(unused.len(), 3, "{}", brief(&doc));
    let stale = span(
        &text,
        &["name: stale", "meshlint.io/ignore: MESH101"],
        "MESH101",
    );
    let f = finding_at(&doc, "MESH001", ANNOTATIONS, stale);
    assert_eq!(resource_label(f), "Service shop/stale");
    assert_eq!(f["severity"], "info");
    let message = str_of(&f["message"], "message");
    assert!(message.contains("MESH101"), "{message}");

    let not_a_rule = span(
        &text,
        &["name: not-a-rule", "meshlint.io/ignore: MESH999"],
        "MESH999",
    );
    let f = finding_at(&doc, "MESH001", ANNOTATIONS, not_a_rule);
    assert!(
        str_of(&f["message"], "message").contains("MESH999"),
        "{f:#}"
    );

    // Of `container-port-collision, port-name-missing-protocol` on a Service, only the first
    // is unused.
    let by_name: Vec<_> = unused
        .iter()
        .filter(|f| f["resource"]["name"] == "ignored-by-name")
        .collect();
    assert_eq!(by_name.len(), 1, "{}", brief(&doc));
    let message = str_of(&by_name[0]["message"], "message");
    assert!(
        message.contains("container-port-collision")
            && !message.contains("port-name-missing-protocol"),
        "{message}"
    );
    let value = span(
        &text,
        &["name: ignored-by-name", "meshlint.io/ignore:"],
        "container-port-collision",
    );
    assert_eq!(by_name[0]["location"]["line"], value.line);
    assert_eq!(by_name[0]["location"]["column"], value.column);
}

#[test]
fn every_annotation_in_the_fixture_is_load_bearing() {
    // The same manifests with the annotation keys renamed: every Service is flagged, and
    // nothing is reported as an unused suppression.
    let text = read(ANNOTATIONS)
        .replace("meshlint.io/ignore:", "example.com/note:")
        .replace("galley.istio.io/analyze-suppress:", "example.com/note:");
    let out = meshlint_stdin(&["check", "-", "--format", "json"], text.as_bytes());
    out.expect_code(1);
    let doc = out.json();
    let flagged: std::collections::BTreeSet<&str> = with_code(&doc, "MESH101")
        .iter()
        .map(|f| str_of(&f["resource"]["name"], "name"))
        .collect();
    assert_eq!(
        flagged,
        [
            "external-ist0150",
            "galley-ist0118",
            "galley-ist0150",
            "ignored",
            "ignored-by-name"
        ]
        .into(),
        "{}",
        brief(&doc)
    );
    assert!(with_code(&doc, "MESH001").is_empty(), "{}", brief(&doc));
}

// ---------------------------------------------------------------------------------------------
// 10. rules and explain
// ---------------------------------------------------------------------------------------------

#[test]
fn rules_lists_every_documented_rule() {
    let out = meshlint(&["rules"]);
    out.expect_code(0);
    let listed: Vec<(&str, &str, &str)> = out
        .stdout
        .lines()
        .map(|l| {
            let mut words = l.split_whitespace();
            (
                words.next().expect("code"),
                words.next().expect("name"),
                words.next().expect("severity"),
            )
        })
        .collect();
    let docs = rule_docs();
    let want: Vec<(&str, &str)> = docs
        .iter()
        .map(|(c, n, _)| (c.as_str(), n.as_str()))
        .collect();
    let got: Vec<(&str, &str)> = listed.iter().map(|(c, n, _)| (*c, *n)).collect();
    assert_eq!(got, want, "`meshlint rules` vs rules/*.md");
    for ((code, _, severity), (_, _, doc)) in listed.iter().zip(&docs) {
        assert!(
            doc.contains(&format!("\nseverity: {severity}\n")),
            "{code}: listed as {severity}, doc says otherwise"
        );
    }
}

#[test]
fn explain_prints_the_rule_doc_by_code_or_name() {
    for (code, name, doc) in rule_docs() {
        for key in [code.clone(), name.clone(), code.to_lowercase()] {
            let out = meshlint(&["explain", &key]);
            out.expect_code(0);
            assert_eq!(out.stdout, doc, "explain {key}");
        }
    }
    let out = meshlint(&["explain", "MESH101"]);
    assert!(out.stdout.contains("# MESH101 port-name-missing-protocol"));
}

#[test]
fn explain_of_an_unknown_rule_fails() {
    for key in ["MESH999", "no-such-rule", "MESH1"] {
        let out = meshlint(&["explain", key]);
        out.expect_code(2);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(
            out.stderr.contains(&format!("unknown rule `{key}`")),
            "{}",
            out.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Exit codes do not depend on the format
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_code_is_the_same_in_every_format() {
    let cases: [(&[&str], i32); 6] = [
        (&["check", "testdata/demo"], 1),
        (&["check", "testdata/cli/broken"], 2),
        (&["check", "testdata/cli/errors"], 2),
        (&["check", "testdata/cli/does-not-exist.yaml"], 2),
        (&["check", "testdata/cli/stale-annotation.yaml"], 0),
        (
            &[
                "check",
                "testdata/cli/port-name.yaml",
                "--failure-threshold",
                "error",
            ],
            0,
        ),
    ];
    for (args, code) in cases {
        for format in FORMATS {
            let mut all = args.to_vec();
            all.extend(["--format", format]);
            let out = meshlint(&all);
            assert_eq!(
                out.code, code,
                "{all:?}\n--- stdout\n{}\n--- stderr\n{}",
                out.stdout, out.stderr
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 12. Hostile input
// ---------------------------------------------------------------------------------------------

/// Runs a file that must be refused quickly with an input error.
fn refused(name: &str, text: &str) -> Value {
    let dir = temp_dir();
    write(&dir.path().join(name), text);
    let started = Instant::now();
    let out = meshlint_in(dir.path(), &["check", name, "--format", "json"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{name} took {took:?}");
    out.expect_code(2);
    let doc = out.json();
    let errs = errors(&doc);
    assert_eq!(errs.len(), 1, "{doc:#}");
    assert_eq!(errs[0]["file"], name);
    assert!(findings(&doc).is_empty(), "{}", brief(&doc));
    errs[0].clone()
}

#[test]
fn an_alias_bomb_is_refused_without_expanding_it() {
    // Eleven levels of ten aliases each: 10^12 nodes if expanded.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    let e = refused("bomb.yaml", &text);
    assert!(
        str_of(&e["message"], "message").starts_with("invalid YAML:"),
        "{e:#}"
    );
    assert!(e["line"].as_u64().is_some_and(|l| l >= 1), "{e:#}");
}

#[test]
fn absurd_nesting_is_refused() {
    let flow = format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let e = refused("flow.yaml", &flow);
    assert!(
        str_of(&e["message"], "message").starts_with("invalid YAML:"),
        "{e:#}"
    );

    let mut block = String::from("apiVersion: v1\nkind: Service\nmetadata:\n  name: deep\nspec:\n");
    for depth in 1..=400 {
        block.push_str(&"  ".repeat(depth));
        block.push_str(&format!("k{depth}:\n"));
    }
    let e = refused("block.yaml", &block);
    assert!(
        str_of(&e["message"], "message").starts_with("invalid YAML:"),
        "{e:#}"
    );

    // Lists of lists of lists ...: within YAML's limits, but not a sensible manifest.
    let mut lists = String::from("apiVersion: v1\nkind: List\nitems:\n");
    let mut indent = String::new();
    for _ in 0..20 {
        lists.push_str(&format!(
            "{indent}- apiVersion: v1\n{indent}  kind: List\n{indent}  items:\n"
        ));
        indent.push_str("  ");
    }
    let e = refused("lists.yaml", &lists);
    assert!(
        str_of(&e["message"], "message").contains("nested too deeply"),
        "{e:#}"
    );
}

#[test]
fn concise_output_is_one_clickable_line_per_finding() {
    let json = meshlint(&["check", "testdata/demo", "--format", "json"]).json();
    let out = meshlint(&["check", "testdata/demo", "--format", "concise"]);
    out.expect_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let all = findings(&json);
    assert_eq!(lines.len(), all.len() + 1, "{}", out.stdout);
    for (line, f) in lines.iter().zip(all) {
        let l = &f["location"];
        let want = format!(
            "{}:{}:{}: {}[{}] ",
            str_of(&l["file"], "file"),
            l["line"],
            l["column"],
            str_of(&f["severity"], "severity"),
            str_of(&f["code"], "code"),
        );
        assert!(line.starts_with(&want), "{line} should start with {want}");
        assert!(line.ends_with(str_of(&f["message"], "message")), "{line}");
    }
    let broken = meshlint(&["check", "testdata/cli/broken", "--format", "concise"]);
    broken.expect_code(2);
    assert!(
        broken.stdout.contains(": error[input] invalid YAML"),
        "{}",
        broken.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// 12. Inputs real trees hold
// ---------------------------------------------------------------------------------------------

#[test]
fn creation_times_are_compared_as_instants_not_as_text() {
    // 06:00-05:00 is 11:00Z: `legacy-db` is the younger entry and loses the listener.
    let p = "testdata/cli/timestamps/offsets.yaml";
    let out = meshlint(&["check", p, "--format", "json", "--select", "MESH401"]);
    out.expect_code(1);
    let doc = out.json();
    let hits = with_code(&doc, "MESH401");
    assert_eq!(hits.len(), 1, "{}", brief(&doc));
    assert_eq!(resource_label(hits[0]), "ServiceEntry billing/legacy-db");
    let message = str_of(&hits[0]["message"], "message");
    assert!(
        message
            .contains("(created 2024-01-01T10:00:00Z; this one created 2024-01-01T06:00:00-05:00)"),
        "{message}"
    );
    let table = meshlint(&["listeners", p]);
    table.expect_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains(" 5432 "))
        .expect("a 5432 row");
    let at = |name: &str| row.find(name).unwrap_or_else(|| panic!("{name} in {row}"));
    assert!(
        at("reporting-db") < at("legacy-db"),
        "the older owner comes first: {row}"
    );

    // One that does not parse counts as missing, and the message says why.
    let p = "testdata/cli/timestamps/unparsable.yaml";
    let doc = meshlint(&["check", p, "--format", "json", "--select", "MESH401"]).json();
    let hits = with_code(&doc, "MESH401");
    assert_eq!(hits.len(), 1, "{}", brief(&doc));
    assert_eq!(resource_label(hits[0]), "ServiceEntry billing/archive");
    let message = str_of(&hits[0]["message"], "message");
    assert!(
        message.contains("`01/01/2024 09:00`, is not an RFC 3339 time and counts as missing"),
        "{message}"
    );
}

#[cfg(unix)]
#[test]
fn dangling_links_in_a_walked_tree_are_warnings_and_excludes_apply_to_them() {
    let dir = temp_dir();
    let root = dir.path();
    write(
        &root.join("config/controller.yaml"),
        read("testdata/cli/vendored/config/controller.yaml"),
    );
    fs::create_dir_all(root.join("vendor")).expect("mkdir");
    let link = "config/300-imagecache.yaml";
    std::os::unix::fs::symlink(
        "../vendor/knative.dev/caching/config/image.yaml",
        root.join(link),
    )
    .expect("symlink");
    std::os::unix::fs::symlink("../../knative-caching", root.join("vendor/knative.dev"))
        .expect("symlink");

    // Walked: the tree is checked and each link is one warning line, not an input error.
    let out = meshlint_in(root, &["check", ".", "--format", "json"]);
    out.expect_code(0);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["resources"], 1);
    assert_eq!(
        out.stderr,
        format!(
            "warning: ./{link}: skipped: broken symbolic link to ../vendor/knative.dev/caching/config/image.yaml (the target does not exist; `--exclude` it to silence this)\n\
             warning: ./vendor/knative.dev: skipped: broken symbolic link to ../../knative-caching (the target does not exist; `--exclude` it to silence this)\n"
        )
    );

    // Excluded: the links are never followed.
    let out = meshlint_in(
        root,
        &[
            "check",
            ".",
            "--exclude",
            "**/vendor/**",
            "--exclude",
            "300-imagecache.yaml",
        ],
    );
    out.expect_code(0);
    assert_eq!(out.stderr, "");

    // Named on the command line, a broken path is still an input error.
    let out = meshlint_in(root, &["check", link, "--format", "json"]);
    out.expect_code(2);
    let doc = out.json();
    assert!(
        str_of(&errors(&doc)[0]["message"], "message").contains("cannot read file"),
        "{doc:#}"
    );
}

/// The `note:` lines of a run's stderr.
fn note_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("note: ")).collect()
}

#[test]
fn installer_configs_and_values_files_are_skipped_with_a_note_not_rejected() {
    let dir = "testdata/cli/not-objects";
    let named: Vec<String> = [
        "control-plane.yaml",
        "istio-operator.yaml",
        "linkerd-values.yaml",
        "values.yaml",
    ]
    .iter()
    .map(|f| format!("{dir}/{f}"))
    .collect();
    let mut args = vec!["check", "--format", "json"];
    args.extend(named.iter().map(String::as_str));
    let out = meshlint(&args);
    out.expect_code(0);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["resources"], 0);
    let notes = note_lines(&out.stderr);
    assert_eq!(notes.len(), 4, "{}", out.stderr);
    for (note, file) in notes.iter().zip(&named) {
        assert!(note.starts_with(&format!("note: {file}:")), "{note}");
        assert!(note.contains(": skipped: "), "{note}");
    }
    assert!(notes[0].contains("ServiceMeshControlPlane is not an object meshlint checks"));
    assert!(notes[1].contains("IstioOperator is not an object meshlint checks"));
    assert!(notes[1].contains("istioctl manifest generate"));
    assert!(notes[2].contains("no `kind` or `metadata`"));

    // Walked, values files are skipped without a word; install configurations are named.
    let out = meshlint(&["check", dir]);
    out.expect_code(0);
    let notes = note_lines(&out.stderr);
    assert_eq!(notes.len(), 2, "{}", out.stderr);
    assert!(notes[0].contains("control-plane.yaml") && notes[1].contains("istio-operator.yaml"));
}

#[test]
fn kustomize_patches_are_skipped_with_a_note_and_the_base_is_checked() {
    let out = meshlint(&["check", "testdata/cli/kustomize", "--format", "json"]);
    out.expect_code(0);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    // The base's Deployment, Service and Job: no patch replaces them (no MESH002).
    assert_eq!(doc["summary"]["resources"], 3, "{doc:#}");
    assert!(findings(&doc).is_empty(), "{}", brief(&doc));
    let prod = "testdata/cli/kustomize/overlays/prod";
    let listed = format!(
        "skipped: a kustomize patch (listed in {prod}/kustomization.yaml), not an object; check the output of `kustomize build` instead"
    );
    let want: Vec<String> = ["checkout-port.yaml", "checkout-replicas.yaml", "checkout-service.yaml"]
        .iter()
        .map(|f| format!("note: {prod}/{f}: {listed}"))
        .chain([format!(
            "note: {prod}/drop-seed-job.yaml:8:1: skipped: a kustomize strategic-merge patch (`$patch`), not an object; check the output of `kustomize build` instead"
        )])
        .collect();
    assert_eq!(note_lines(&out.stderr), want, "{}", out.stderr);

    // Named from inside the overlay, the kustomization is named relative to it.
    let out = meshlint_in(
        &root().join(prod),
        &["check", "checkout-service.yaml", "--format", "json"],
    );
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "note: checkout-service.yaml: skipped: a kustomize patch (listed in kustomization.yaml)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn broken_manifests_beside_skipped_files_are_still_input_errors() {
    let out = meshlint(&[
        "check",
        "testdata/cli/not-objects",
        "testdata/cli/errors/missing-name.yaml",
        "testdata/cli/errors/missing-kind.yaml",
        "--format",
        "json",
    ]);
    out.expect_code(2);
    let doc = out.json();
    let messages: Vec<&str> = errors(&doc)
        .iter()
        .map(|e| str_of(&e["message"], "message"))
        .collect();
    assert_eq!(messages.len(), 2, "{doc:#}");
    assert!(
        messages.iter().any(|m| m.contains("no `kind`")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("metadata.name")),
        "{messages:?}"
    );
}

#[test]
fn unrendered_templates_are_skipped_with_one_note_per_file() {
    let dir = "testdata/cli/templates";
    let out = meshlint(&["check", dir, "--format", "json"]);
    let doc = out.json();
    assert!(errors(&doc).is_empty(), "{doc:#}");
    // Only the file whose templates others render is checked (its Service port has no
    // protocol prefix).
    let codes: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| str_of(&f["code"], "code"))
        .collect();
    assert_eq!(codes, ["MESH101"], "{}", brief(&doc));
    assert!(
        findings(&doc)
            .iter()
            .all(|f| f["location"]["file"] == format!("{dir}/rendered-by-others.yaml")),
        "{}",
        brief(&doc)
    );
    out.expect_code(1);
    let render =
        "render it first (`helm template`, or the tool that fills it in) and check the output";
    let want: Vec<String> = [
        ("chart/templates/service.yaml:6:5", "{{- include \"storefront.labels\" . | nindent 4 }}"),
        ("go/ratings.yaml:7:14", "{{ .Namespace }}"),
        ("go/reviews-route.yaml:8:5", "{{ .Namespace }}"),
    ]
    .iter()
    .map(|(at, action)| {
        format!("note: {dir}/{at}: skipped: this looks like an unrendered template (`{action}`): {render}")
    })
    .collect();
    assert_eq!(note_lines(&out.stderr), want, "{}", out.stderr);

    // Named on the command line, a template is a note too, in every format, never exit 2.
    for format in FORMATS {
        let out = meshlint(&[
            "check",
            "--format",
            format,
            &format!("{dir}/go/ratings.yaml"),
        ]);
        out.expect_code(0);
        assert_eq!(note_lines(&out.stderr).len(), 1, "{}", out.stderr);
        assert!(!out.stdout.contains("invalid type"), "{}", out.stdout);
    }
}

#[test]
fn listeners_says_why_there_is_nothing_to_show() {
    let out = meshlint(&["listeners", "testdata/cli/no-sidecars"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    let note = lines[0];
    assert!(
        note.starts_with("note: no proxy scopes, so no listeners to show: namespaces seen: "),
        "{note}"
    );
    for why in [
        "batch (its Namespace has `istio-injection=disabled`; 1 workload, none marked for an Istio sidecar)",
        "kube-system (a system namespace, never injected)",
        "shop (its Namespace has no `istio-injection` or `istio.io/rev` label; 1 workload, none marked for an Istio sidecar)",
        "label a namespace `istio-injection=enabled`",
    ] {
        assert!(note.contains(why), "{why:?} missing from {note}");
    }
    // JSON output stays a document; the reason is on stderr.
    let out = meshlint(&["listeners", "testdata/cli/no-sidecars", "--format", "json"]);
    out.expect_code(0);
    assert_eq!(out.json()["scopes"], serde_json::json!([]));
    assert!(
        out.stderr.starts_with("note: no proxy scopes"),
        "{}",
        out.stderr
    );

    // Scopes exist but the filters leave none.
    let out = meshlint(&["listeners", "testdata/demo", "-n", "billing"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "note: no proxy scope in namespace billing; scopes are in namespaces app, manager, shop\n"
    );
}

#[test]
fn listeners_say_an_ambient_namespace_has_no_sidecar_listeners() {
    let out = meshlint(&["listeners", "testdata/listeners/ambient.yaml", "-n", "shop"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    assert!(
        out.stdout.starts_with("namespace shop (`istio.io/dataplane-mode=ambient`): no sidecar, so no sidecar listeners; the node's ztunnel carries"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("ADDRESS"), "{}", out.stdout);
    for line in [
        "Deployment web                       ztunnel → waypoint shop/web-waypoint (own label)",
        "Deployment cart                      ztunnel (waypoint shop/waypoint, namespace label, takes no workload traffic)",
        "Service web                          ztunnel → waypoint shop/waypoint (namespace label)",
    ] {
        assert!(
            out.stdout.contains(line),
            "{line:?} missing from {}",
            out.stdout
        );
    }
    let out = meshlint(&[
        "listeners",
        "testdata/listeners/ambient.yaml",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    assert_eq!(out.json()["ambient"][0]["namespace"], "shop");
    assert_eq!(out.json()["scopes"][0]["namespace"], "legacy");
}

#[test]
fn an_input_without_objects_warns_and_keeps_exit_code_0() {
    // A wrong path in CI: a directory with no manifests at all.
    let dir = temp_dir();
    write(&dir.path().join("docs/README.md"), "# not YAML\n");
    let out = meshlint_in(dir.path(), &["check", "."]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("in 0 files, 0 resources"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr,
        "warning: No YAML or JSON files found under the given path(s)\n"
    );

    // A directory of Helm values only: read, but nothing to check.
    let values = read("testdata/cli/not-objects/values.yaml");
    write(&dir.path().join("chart/values.yaml"), &values);
    write(&dir.path().join("chart/values-prod.yaml"), &values);
    for format in FORMATS {
        let out = meshlint_in(dir.path(), &["check", "chart", "--format", format]);
        out.expect_code(0);
        assert_eq!(
            out.stderr,
            "warning: No Kubernetes objects found in the 2 files read; Helm values, templates and other files that are no objects are skipped\n",
            "--format {format}"
        );
    }
    let out = meshlint_in(dir.path(), &["listeners", "chart"]);
    out.expect_code(0);
    assert!(
        out.stderr.starts_with("warning: No Kubernetes objects"),
        "{}",
        out.stderr
    );

    // With an input error there is already something to say.
    let out = meshlint(&["check", "testdata/cli/errors/missing-kind.yaml"]);
    out.expect_code(2);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
}

#[test]
fn gateways_predicts_listener_and_route_conditions() {
    let out = meshlint(&[
        "gateways",
        "testdata/rules/MESH802/bad.yaml",
        "testdata/rules/MESH804/bad.yaml",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let json = out.json();
    let web = &json["gateways"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["services"][0], "web-istio.infra.svc.cluster.local");
    let copy = &web["listeners"][1]["conditions"];
    assert!(
        copy.as_array()
            .expect("conditions")
            .iter()
            .any(|c| c["type"] == "Conflicted"
                && c["status"] == "True"
                && c["reason"] == "HostnameConflict"),
        "{copy}"
    );
    let db = json["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .find(|g| g["name"] == "db")
        .expect("db")
        .clone();
    // Both TCPRoutes are Accepted and counted, as the conformance suite expects.
    assert_eq!(db["listeners"][0]["attachedRoutes"], 2);
    let human = meshlint(&["gateways", "testdata/rules/MESH801/bad.yaml"]);
    human.expect_code(0);
    assert!(
        human
            .stdout
            .contains("Accepted NoMatchingParent: sectionName \"https\" not found"),
        "{}",
        human.stdout
    );
    // istiod deploys nothing for a Gateway another controller implements.
    let other = meshlint(&[
        "gateways",
        "testdata/rules/MESH805/good-other-controller.yaml",
        "--format",
        "json",
    ]);
    other.expect_code(0);
    let gw = &other.json()["gateways"][0];
    assert_eq!(gw["name"], "api-gateway");
    assert_eq!(gw["services"], serde_json::json!([]), "{gw}");
    // What a prediction assumes about objects the input lacks is said in the text too.
    let assumed = meshlint(&["gateways", "testdata/rules/MESH808/good-tls.yaml"]);
    assumed.expect_code(0);
    assert!(
        assumed
            .stdout
            .contains("note: the certificate Secret shop/shop-cert has no data in the input"),
        "{}",
        assumed.stdout
    );
}
