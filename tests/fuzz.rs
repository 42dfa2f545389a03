//! Fuzz targets, run as property tests (`cargo fuzz` needs a nightly toolchain): seeds from
//! testdata/fuzz/ and the demo and dump fixtures, mutated by proptest and fed to the manifest
//! loader, the dump loader (with the rules and `trace` on what loads), the config loader and
//! `trace`'s destination parsing. Every target must not panic and must stay bounded: errors at
//! positions inside the input, output in proportion to it.
//!
//! `cargo test` runs a short round; `MESHLINT_FUZZ_CASES=100000 cargo test --release --test fuzz`
//! runs longer. proptest shrinks a failure to a small input, saved in target/tmp/fuzz-failures/:
//! add it under testdata/fuzz/ (the folder of its target, a line of destinations.txt) and
//! `seeds_replay_unmutated` replays it from then on.

use std::path::{Path, PathBuf};

use meshlint::cli::parse_destination;
use meshlint::engine::{Settings, check_sources};
use meshlint::envoy::load::{parse_json, take_dumps};
use meshlint::envoy::trace::{self, Connection};
use meshlint::report::{self, Format};
use meshlint::source::Sources;
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per target: `MESHLINT_FUZZ_CASES`, else a round short enough for every `cargo test`.
fn cases(default: u32) -> u32 {
    std::env::var("MESHLINT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        // A slow target shrinks for minutes otherwise.
        max_shrink_iters: 256,
        // Failures are kept as seeds (see `run`): a persisted case names seeds by index, and
        // means another input once a seed is added.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs a target; when it panics, the input is saved under target/tmp/fuzz-failures/ first,
/// ready to be added to the seeds.
fn run(target: &str, input: &str, f: impl Fn(&str)) {
    use std::hash::{Hash, Hasher};
    let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(input))) else {
        return;
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let path = dir.join(format!("{target}-{:016x}", h.finish()));
    if std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, input))
        .is_ok()
    {
        eprintln!("fuzz: the input is saved in {}", path.display());
    }
    std::panic::resume_unwind(panic);
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// `(path, text)` of the files in these folders of testdata/ (not below them), sorted.
fn seeds(dirs: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("seed folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("utf-8 seed");
            out.push((f.to_string_lossy().into_owned(), text));
        }
    }
    out
}

fn manifest_seeds() -> Vec<(String, String)> {
    seeds(&["fuzz/manifests", "demo"])
}

fn dump_seeds() -> Vec<(String, String)> {
    seeds(&["fuzz/dumps", "dumps"])
}

fn config_seeds() -> Vec<(String, String)> {
    seeds(&["fuzz/config"])
}

fn destination_seeds() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fuzz/destinations.txt")).expect("seeds");
    text.lines().map(str::to_string).collect()
}

/// What YAML and JSON are made of, and values at the edges of what the loaders accept.
const SYNTAX: &[&str] = &[
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "\n",
    "\n  ",
    "\n- ",
    " ",
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "? ",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "%YAML 1.2\n---\n",
    "\t",
    "\r\n",
    "\\",
    "\\u0000",
    "\0",
    "\u{feff}",
    "\u{1b}[31m",
    "\u{2028}",
    "🦀",
    "é",
    "null",
    "true",
    "~",
    "0",
    "-1",
    "65535",
    "65536",
    "4294967296",
    "18446744073709551616",
    "1e999",
    "-0.0",
    "0x50",
    "0o17",
    ".inf",
    "1.5",
    "\"\"",
    "[]",
    "{}",
    "[[]]",
    "[[[1, a, A]]]",
    "*",
    "0.0.0.0",
    "::",
    "fd00::1",
    "10.0.0.0/8",
    "/33",
    "{{ .Values.x }}",
];

const MANIFEST_WORDS: &[&str] = &[
    "kind: ",
    "apiVersion: ",
    "metadata: ",
    "name: ",
    "namespace: ",
    "labels: ",
    "annotations: ",
    "spec: ",
    "ports: ",
    "port: ",
    "targetPort: ",
    "containerPort: ",
    "number: ",
    "protocol: ",
    "appProtocol: ",
    "hosts: ",
    "host: ",
    "subset: ",
    "subsets: ",
    "selector: ",
    "items: ",
    "kind: List\n",
    "kind: Service\n",
    "kind: VirtualService\n",
    "kind: Gateway\n",
    "kind: ServiceEntry\n",
    "kind: Sidecar\n",
    "kind: DestinationRule\n",
    "$patch: delete\n",
    "creationTimestamp: ",
    "exportTo: ",
    "meshlint.io/ignore: ",
    "istio.io/rev: ",
    "type: ExternalName\n",
    "externalName: ",
    "hostNetwork: true\n",
    "route: ",
    "destination: ",
    "gateways: ",
    "servers: ",
    "resolution: NONE\n",
    "addresses: ",
    "workloadSelector: ",
];

const DUMP_WORDS: &[&str] = &[
    "\"@type\": ",
    "\"type.googleapis.com/envoy.admin.v3.ListenersConfigDump\"",
    "\"type.googleapis.com/envoy.config.listener.v3.Listener\"",
    "\"configs\": ",
    "\"dynamic_listeners\": ",
    "\"static_listeners\": ",
    "\"active_state\": ",
    "\"error_state\": ",
    "\"listener\": ",
    "\"name\": ",
    "\"address\": ",
    "\"socket_address\": ",
    "\"port_value\": ",
    "\"socketAddress\": ",
    "\"portValue\": ",
    "\"prefix_len\": ",
    "\"address_prefix\": ",
    "\"filter_chains\": ",
    "\"filter_chain_match\": ",
    "\"destination_port\": ",
    "\"server_names\": ",
    "\"use_original_dst\": true",
    "\"bind_to_port\": false",
    "\"filter_chain_matcher\": ",
    "\"matcher_tree\": ",
    "\"matcher_list\": ",
    "\"on_match\": ",
    "\"on_no_match\": ",
    "\"exact_match_map\": ",
    "\"map\": ",
    "\"action\": ",
    "\"input\": ",
    "\"filters\": ",
    "\"typed_config\": ",
    "\"config\": ",
    "\"cluster\": ",
    "\"weighted_clusters\": ",
    "\"clusters\": ",
    "\"rds\": ",
    "\"route_config_name\": ",
    "\"route_config\": ",
    "\"virtual_hosts\": ",
    "\"domains\": ",
    "\"routes\": ",
    "\"match\": ",
    "\"prefix\": ",
    "\"type\": \"EDS\"",
    "\"type\": \"ORIGINAL_DST\"",
    "\"cluster_name\": ",
    "\"endpoints\": ",
    "\"lb_endpoints\": ",
    "\"value\": ",
    "\"envoy.filters.network.tcp_proxy\"",
    "\"envoy.filters.network.http_connection_manager\"",
    "\"outbound|80||a.b.svc.cluster.local\"",
];

const CONFIG_WORDS: &[&str] = &[
    "select: ",
    "ignore: ",
    "rule: ",
    "resource: ",
    "file: ",
    "reason: ",
    "severity: ",
    "exclude: ",
    "failure-threshold: ",
    "istio-version: ",
    "namespace: ",
    "mesh: ",
    "loopback-dependencies: ",
    "MESH101",
    "MESH001",
    "MESH5",
    "MESH",
    "ALL",
    "all",
    "error",
    "warning",
    "info",
    "tcp-listener-shadowed",
    "\"**/\"",
    "[!",
    "{a,",
    "\"1.20\"",
    "1.20",
    "Service */*",
];

const DESTINATION_WORDS: &[&str] = &[
    "0",
    "1",
    "9",
    "255",
    "256",
    ".",
    ":",
    "::",
    "[",
    "]",
    "]:",
    "%",
    "%eth0",
    "ffff",
    "-",
    "+",
    " ",
    "\0",
    "٣",
    "0x",
    "65535",
    "65536",
    "4294967296",
    "\u{1b}",
];

/// One mutation: replace a few characters by a word, copy a slice elsewhere, or cut the text.
#[derive(Clone, Debug)]
enum Edit {
    Splice {
        at: Index,
        remove: usize,
        word: Index,
    },
    Copy {
        from: Index,
        len: usize,
        to: Index,
    },
    Cut(Index),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        8 => (any::<Index>(), 0usize..8, any::<Index>())
            .prop_map(|(at, remove, word)| Edit::Splice { at, remove, word }),
        2 => (any::<Index>(), 1usize..64, any::<Index>())
            .prop_map(|(from, len, to)| Edit::Copy { from, len, to }),
        1 => any::<Index>().prop_map(Edit::Cut),
    ];
    proptest::collection::vec(edit, 1..8)
}

/// `text` with `edits` applied, drawing words from `dictionaries`; always valid UTF-8.
fn mutate(text: &str, edits: &[Edit], dictionaries: &[&[&str]]) -> String {
    let words: Vec<&str> = dictionaries
        .iter()
        .flat_map(|d| d.iter().copied())
        .collect();
    let mut chars: Vec<char> = text.chars().collect();
    let place = |i: &Index, len: usize| i.index(len + 1);
    for e in edits {
        match e {
            Edit::Splice { at, remove, word } => {
                let i = place(at, chars.len());
                let end = (i + remove).min(chars.len());
                chars.splice(i..end, words[word.index(words.len())].chars());
            }
            Edit::Copy { from, len, to } => {
                let i = place(from, chars.len());
                let slice: Vec<char> = chars[i..(i + len).min(chars.len())].to_vec();
                let j = place(to, chars.len());
                chars.splice(j..j, slice);
            }
            Edit::Cut(at) => chars.truncate(place(at, chars.len())),
        }
    }
    chars.into_iter().collect()
}

fn lines(text: &str) -> u32 {
    text.split('\n').count() as u32
}

/// Output may grow with the input, not beyond: a loose bound that a blow-up still breaks.
fn assert_bounded(output: &str, input: &str, what: &str) {
    let limit = 400 * input.len() + 256 * 1024;
    assert!(
        output.len() <= limit,
        "{what}: {} bytes of output for {} bytes of input",
        output.len(),
        input.len()
    );
}

/// The manifest loader and every rule, through all five output formats.
fn manifest_target(name: &str, text: &str) {
    let mut sources = Sources::default();
    sources.add_text(name.to_string(), text.to_string());
    let outcome = check_sources(sources, &Settings::default()).expect("default settings");
    for e in &outcome.errors {
        assert!(!e.message.is_empty(), "{e:?}");
        assert!(e.line <= lines(text) + 1, "error past the end: {e:?}");
    }
    for f in &outcome.findings {
        let at = &f.location;
        // A dump finding whose pointer leads nowhere has no position (a document that spells
        // keys on its path both ways); every other finding points into the text.
        let unplaced = at.pointer.is_some() && at.line == 0;
        assert!(unplaced || (1..=lines(text)).contains(&at.line), "{f:?}");
        assert!(at.offset + at.len <= text.len(), "span past the end: {f:?}");
    }
    for (i, format) in FORMATS.into_iter().enumerate() {
        let out = report::render(format, &outcome, STYLE);
        // The rule metadata (SARIF lists every rule with its doc) is output for no input too.
        let grown = out.len().saturating_sub(empty_reports()[i]);
        assert!(
            grown <= 400 * text.len() + 256 * 1024,
            "report: {grown} bytes of output beyond an empty report for {} bytes of input",
            text.len()
        );
    }
}

const STYLE: report::Style = report::Style {
    color: false,
    width: 110,
    quiet: false,
};

const FORMATS: [Format; 5] = [
    Format::Human,
    Format::Concise,
    Format::Json,
    Format::Sarif,
    Format::Github,
];

/// The size of each format's report of an empty input, measured once.
fn empty_reports() -> &'static [usize; 5] {
    static SIZES: std::sync::OnceLock<[usize; 5]> = std::sync::OnceLock::new();
    SIZES.get_or_init(|| {
        let outcome =
            check_sources(Sources::default(), &Settings::default()).expect("default settings");
        FORMATS.map(|f| report::render(f, &outcome, STYLE).len())
    })
}

/// The dump loader, the rules on what loads, and `trace` through every listener it has.
fn dump_target(name: &str, text: &str) {
    if let Some(z) = meshlint::envoy::ztunnel::parse(text) {
        let addresses = [
            "10.96.0.20",
            "10.244.2.54",
            "10.96.65.117",
            "10.244.3.3",
            "192.0.2.1",
            "fd00::20",
        ];
        for dest in addresses {
            for source in [
                None,
                Some("10.244.3.3"),
                Some("10.244.1.5"),
                Some("203.0.113.9"),
            ] {
                let t = meshlint::envoy::ztunnel::trace(
                    &z,
                    dest.parse().expect("ip"),
                    80,
                    source.map(|s| s.parse().expect("ip")),
                );
                assert!(!t.steps.is_empty());
            }
        }
    }
    if name.ends_with(".json") {
        match parse_json(text) {
            Ok(_) => {}
            Err(e) => {
                assert!(!e.message.is_empty());
                assert!(e.line <= lines(text) + 1, "{e:?}");
            }
        }
    }
    let mut sources = Sources::default();
    sources.add_text(name.to_string(), text.to_string());
    let dumps = take_dumps(&mut sources);
    for d in &dumps {
        let mut destinations: Vec<(std::net::IpAddr, u32)> = d
            .dump
            .listeners
            .iter()
            .filter_map(|l| l.listener.ip_port())
            .filter_map(|(ip, port)| Some((ip.parse().ok()?, port)))
            .take(6)
            .collect();
        destinations.push(("10.0.0.1".parse().expect("ip"), 80));
        for (ip, port) in destinations {
            let mut conn = Connection::tcp(ip, port);
            let plain = trace::trace(&d.dump, &conn);
            assert_bounded(&report::trace::render(&plain), text, "trace");
            conn.sni = Some("api.example.com".into());
            conn.alpn = vec!["h2".into()];
            trace::trace(&d.dump, &conn);
        }
    }
    manifest_target(name, text);
}

/// The config loader, and a check of the demo under each config it accepts.
fn config_target(text: &str) {
    match meshlint::config::parse("fuzz.yaml", text) {
        Ok(config) => {
            let settings = Settings {
                config,
                ..Settings::default()
            };
            let mut sources = Sources::default();
            for (name, text) in seeds(&["demo"]).into_iter().take(3) {
                sources.add_text(name, text);
            }
            if let Err(message) = check_sources(sources, &settings) {
                assert!(!message.is_empty());
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty(), "{e:?}");
            assert!(e.line <= lines(text) + 1, "{e:?}");
            assert_bounded(&e.message, text, "config error");
        }
    }
}

/// `trace`'s `IP:PORT` and `[IPv6]:PORT`.
fn destination_target(s: &str) {
    match parse_destination(s) {
        Ok((ip, port)) => {
            assert!((1..=65535).contains(&port), "{s:?}: port {port}");
            let again = match ip {
                std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
                std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
            };
            assert_eq!(parse_destination(&again), Ok((ip, port)), "{s:?}");
        }
        Err(message) => {
            assert!(message.contains(s), "{s:?}: {message}");
            assert!(message.len() <= 3 * s.len() + 64, "{s:?}: {message}");
        }
    }
}

#[test]
fn seeds_replay_unmutated() {
    for (name, text) in manifest_seeds() {
        manifest_target(&name, &text);
    }
    for (name, text) in dump_seeds() {
        dump_target(&name, &text);
    }
    for (_, text) in config_seeds() {
        config_target(&text);
    }
    for d in destination_seeds() {
        destination_target(&d);
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn fuzz_manifests(seed in any::<Index>(), edits in edits()) {
        let seeds = manifest_seeds();
        let (name, text) = &seeds[seed.index(seeds.len())];
        let input = mutate(text, &edits, &[SYNTAX, MANIFEST_WORDS]);
        run("manifest", &input, |t| manifest_target(name, t));
    }

    #[test]
    fn fuzz_dumps(seed in any::<Index>(), edits in edits()) {
        let seeds = dump_seeds();
        let (name, text) = &seeds[seed.index(seeds.len())];
        let input = mutate(text, &edits, &[SYNTAX, DUMP_WORDS]);
        run("dump", &input, |t| dump_target(name, t));
    }

    #[test]
    fn fuzz_config(seed in any::<Index>(), edits in edits()) {
        let seeds = config_seeds();
        let (_, text) = &seeds[seed.index(seeds.len())];
        run("config", &mutate(text, &edits, &[SYNTAX, CONFIG_WORDS]), config_target);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn fuzz_destinations(seed in any::<Index>(), edits in edits()) {
        let seeds = destination_seeds();
        let text = &seeds[seed.index(seeds.len())];
        run("destination", &mutate(text, &edits, &[DESTINATION_WORDS]), destination_target);
    }

    #[test]
    fn fuzz_destinations_from_nothing(s in "\\PC{0,48}") {
        run("destination", &s, destination_target);
    }
}
