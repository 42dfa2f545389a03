//! Config dumps end to end: our own fixtures (testdata/dumps/), the shared corpus when it is
//! present (../shared/corpus/config-dumps), `meshlint trace`, `listeners` and `--admin`.

use std::path::{Path, PathBuf};

use meshlint::source::{self, Discovery};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/config-dumps");
    dir.is_dir().then_some(dir)
}

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus/config-dumps is absent");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_dump_loads() {
    for f in corpus_files() {
        let (errors, dumps) = load_dumps(&f.to_string_lossy());
        assert!(errors.is_empty(), "{}: {:?}", f.display(), errors);
        assert_eq!(dumps.len(), 1, "{}", f.display());
        let d = &dumps[0].dump;
        eprintln!(
            "{}: {} — {} listeners, {} errors, {} clusters, {} routes, {} endpoints, node {:?}",
            f.file_name().unwrap().to_string_lossy(),
            d.shape,
            d.listeners.len(),
            d.errors.len(),
            d.clusters.len(),
            d.routes.len(),
            d.endpoints.len(),
            d.node.as_ref().map(|n| n.label())
        );
        assert!(
            !d.listeners.is_empty() || !d.endpoints.is_empty(),
            "{}",
            f.display()
        );
    }
}

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use meshlint::engine::{self, Settings};
use meshlint::envoy::load::{LoadedDump, take_dumps};
use meshlint::envoy::model::Dump;
use meshlint::envoy::trace::{self, Connection};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/dumps")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn dump_of(name: &str) -> Dump {
    let (errors, dumps) = load_dumps(&fixture(name));
    assert!(errors.is_empty(), "{name}: {:?}", errors);
    dumps.into_iter().next().expect("a dump").dump
}

/// The input errors and the config dumps of one file.
fn load_dumps(path: &str) -> (Vec<source::InputError>, Vec<LoadedDump>) {
    let mut s = source::load(&[path.to_string()], &Discovery::default());
    let dumps = take_dumps(&mut s);
    (s.errors, dumps)
}

/// `(code, severity, resource name, line)` of every finding.
fn findings(path: &str) -> Vec<(String, String, String, u32)> {
    let out = engine::check(&[path.to_string()], &Settings::default()).expect("runs");
    assert!(out.errors.is_empty(), "{path}: {:?}", out.errors);
    out.findings
        .iter()
        .map(|f| {
            (
                f.code.to_string(),
                f.severity.to_string(),
                f.resource.name.clone(),
                f.location.line,
            )
        })
        .collect()
}

fn meshlint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn corpus_findings_are_exactly_the_known_problems() {
    for f in corpus_files() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let got = findings(&f.to_string_lossy());
        let summary: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|(c, s, r, _)| (c.as_str(), s.as_str(), r.as_str()))
            .collect();
        let want: Vec<(&str, &str, &str)> = match name.as_str() {
            // The headless service's TCP catch-all; 15001 ("virtual") sends to BlackHoleCluster.
            "istio-echo-sidecar.admin-v3-with-api-v2-resources.json" => {
                vec![("MESH705", "warning", "0.0.0.0_10090")]
            }
            // virtualInbound only in error_state, plus the unnamed LDS error.
            "istio-1.18-sidecar-geo.with-eds.listener-error-state.json" => vec![
                ("MESH701", "error", "virtualInbound"),
                ("MESH701", "error", "(LDS update)"),
            ],
            _ => vec![],
        };
        assert_eq!(summary, want, "{name}");
        assert!(
            got.iter().all(|(_, _, _, line)| *line > 0),
            "{name}: {got:?}"
        );
    }
}

#[test]
fn the_1_18_error_state_quotes_envoy() {
    let Some(dir) = corpus_dir() else { return };
    let path = dir.join("istio-1.18-sidecar-geo.with-eds.listener-error-state.json");
    let out =
        engine::check(&[path.to_string_lossy().into_owned()], &Settings::default()).expect("runs");
    let f = &out.findings[0];
    assert!(
        f.message.contains("LuaValidationError.DefaultSourceCode"),
        "{}",
        f.message
    );
    assert!(f.message.contains("no inbound listener"), "{}", f.message);
    assert_eq!(
        f.location.pointer.as_deref(),
        Some("/configs/3/dynamic_listeners/140/error_state")
    );
}

#[test]
fn the_echo_catch_all_names_listener_cluster_and_fallback() {
    let Some(dir) = corpus_dir() else { return };
    let path = dir.join("istio-echo-sidecar.admin-v3-with-api-v2-resources.json");
    let out =
        engine::check(&[path.to_string_lossy().into_owned()], &Settings::default()).expect("runs");
    let f = &out.findings[0];
    assert!(
        f.message
            .contains("outbound|10090||headless.apps-1-99281.svc.cluster.local")
    );
    assert!(
        f.message.contains("instead of BlackHoleCluster"),
        "{}",
        f.message
    );
    let text = std::fs::read_to_string(&path).expect("read");
    let line = text
        .lines()
        .nth(f.location.line as usize - 1)
        .expect("line");
    assert!(line.contains("\"name\": \"0.0.0.0_10090\""), "{line}");
}

#[test]
fn hazelcast_check_reports_the_externalname_catch_all_with_pointer_and_line() {
    let path = fixture("hazelcast-5701.json");
    let out = engine::check(std::slice::from_ref(&path), &Settings::default()).expect("runs");
    assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(
        (f.code, f.resource.name.as_str()),
        ("MESH301", "0.0.0.0_5701")
    );
    assert_eq!(
        f.location.pointer.as_deref(),
        Some("/configs/3/dynamic_listeners/2/active_state/listener")
    );
    let text = std::fs::read_to_string(&path).expect("read");
    let line = text
        .lines()
        .nth(f.location.line as usize - 1)
        .expect("line");
    assert!(line.contains("\"name\": \"0.0.0.0_5701\""), "{line}");
    assert!(
        f.message.contains("instead of PassthroughCluster"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("STRICT_DNS idle.manager.svc.cluster.local:5701")
    );
    // JSON output carries the pointer only for dump findings.
    let (_, json, _) = meshlint(&["check", &path, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v["findings"][0]["location"]["pointer"],
        "/configs/3/dynamic_listeners/2/active_state/listener"
    );
}

#[test]
fn every_shape_of_the_hazelcast_dump_is_read_alike() {
    // JSON, YAML (istioctl -o yaml), and the article's camelCase listener array.
    assert_eq!(
        findings(&fixture("hazelcast-5701.yaml"))
            .iter()
            .map(|f| (f.0.as_str(), f.2.as_str()))
            .collect::<Vec<_>>(),
        vec![("MESH301", "0.0.0.0_5701")]
    );
    let yaml = std::fs::read_to_string(fixture("hazelcast-5701.yaml")).expect("read");
    let line = findings(&fixture("hazelcast-5701.yaml"))[0].3;
    assert!(
        yaml.lines()
            .nth(line as usize - 1)
            .unwrap()
            .contains("name: 0.0.0.0_5701")
    );
    let camel = findings(&fixture("listeners-5701.camelcase-array.json"));
    assert_eq!(camel.len(), 1, "{camel:?}");
    assert_eq!(camel[0].2, "0.0.0.0_5701");
    let d = dump_of("listeners-5701.camelcase-array.json");
    assert!(d.camel);
    assert_eq!(d.listeners.len(), 4);
    assert!(d.listeners.iter().all(|l| !l.listener.binds()));
}

#[test]
fn per_item_entries_warming_draining_duplicates_and_errors() {
    let got = findings(&fixture("per-item-listeners.json"));
    let codes: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(c, s, r, _)| (c.as_str(), s.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("MESH702", "warning", "10.96.5.6_6379"),
            ("MESH702", "info", "10.96.5.7_6379"),
            ("MESH703", "error", "dup-6379"),
            ("MESH701", "error", "0.0.0.0_15006"),
        ]
    );
}

fn conn(dest: &str) -> Connection {
    let (ip, port) = meshlint::cli::parse_destination(dest).expect("dest");
    Connection::tcp(ip, port)
}

#[test]
fn hazelcast_trace_names_listener_chain_cluster_and_fallback() {
    let d = dump_of("hazelcast-5701.json");
    let t = trace::trace(&d, &conn("10.12.1.6:5701"));
    assert_eq!(t.listener.as_deref(), Some("0.0.0.0_5701"));
    assert_eq!(t.chain, Some(2));
    let c = &t.outcome.clusters[0];
    assert_eq!(c.name, "outbound|5701||app-ext.app.svc.cluster.local");
    assert_eq!(c.kind.as_deref(), Some("STRICT_DNS"));
    assert_eq!(c.destination, "idle.manager.svc.cluster.local:5701");
    let chain_step = t
        .steps
        .iter()
        .find(|s| s.stage == "filter_chain")
        .expect("chain step");
    let passed = &chain_step.passed_over[0];
    assert!(passed.candidate.starts_with("chain 1"), "{passed:?}");
    assert!(passed.candidate.contains("the pod's own IP"), "{passed:?}");
    assert!(passed.candidate.contains("BlackHoleCluster"), "{passed:?}");
    let w = t.without_listener.as_ref().expect("what-if");
    assert_eq!(w.listener, "0.0.0.0_5701");
    assert_eq!(w.clusters, vec!["PassthroughCluster".to_string()]);

    let human = meshlint::report::trace::render(&t);
    for needle in [
        "0.0.0.0_5701",
        "chain 2",
        "chain 1 [prefix_ranges 10.12.0.11/32 = the pod's own IP] → BlackHoleCluster",
        "outbound|5701||app-ext.app.svc.cluster.local (STRICT_DNS idle.manager.svc.cluster.local:5701)",
        "without listener 0.0.0.0_5701 the connection would have reached: virtualOutbound chain 2 (virtualOutbound-catchall-tcp) → PassthroughCluster",
    ] {
        assert!(human.contains(needle), "missing {needle:?} in\n{human}");
    }
}

#[test]
fn trace_cli_human_and_json() {
    let path = fixture("hazelcast-5701.json");
    let (code, out, err) = meshlint(&["trace", &path, "10.12.1.6:5701"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("=> outbound|5701||app-ext.app.svc.cluster.local"),
        "{out}"
    );
    let (code, out, err) = meshlint(&["trace", &path, "10.12.1.6:5701", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["trace"]["listener"], "0.0.0.0_5701");
    assert_eq!(v["trace"]["chain"], 2);
    assert_eq!(
        v["trace"]["outcome"]["clusters"][0]["name"],
        "outbound|5701||app-ext.app.svc.cluster.local"
    );
    assert_eq!(
        v["trace"]["without_listener"]["clusters"][0],
        "PassthroughCluster"
    );
    // Usage errors.
    assert_eq!(meshlint(&["trace", &path, "10.12.1.6"]).0, 2);
    assert_eq!(meshlint(&["trace", &path]).0, 2);
    let (code, _, err) = meshlint(&["trace", &fixture("../demo/app.yaml"), "10.0.0.1:80"]);
    assert_eq!(code, 2);
    assert!(err.contains("not an Envoy config dump"), "{err}");
}

/// `(listener, chain number, first cluster or outcome kind)` for a connection.
fn route(d: &Dump, c: &Connection) -> (String, Option<usize>, String) {
    let t = trace::trace(d, c);
    (
        t.listener.unwrap_or_default(),
        t.chain,
        t.outcome
            .clusters
            .first()
            .map_or(t.outcome.kind.clone(), |c| c.name.clone()),
    )
}

#[test]
fn trace_covers_each_matching_step() {
    let d = dump_of("matching.json");
    let r = |dest: &str, f: &dyn Fn(&mut Connection)| {
        let mut c = conn(dest);
        f(&mut c);
        route(&d, &c)
    };
    let none = |_: &mut Connection| {};
    let s = |x: &str| x.to_string();
    // Exact IP:port listener wins over the any-address one.
    assert_eq!(
        r("10.96.0.10:9000", &none),
        (
            s("10.96.0.10_9000"),
            Some(1),
            s("outbound|9000||db.data.svc.cluster.local")
        )
    );
    // Destination port first: the /24 without a port loses to the port-matching /16.
    assert_eq!(
        r("10.1.2.3:7000", &none).2,
        "outbound|7000||narrow.ns.svc.cluster.local"
    );
    // Longest prefix among port matches.
    assert_eq!(
        r("10.2.0.1:7000", &none).2,
        "outbound|7000||wide.ns.svc.cluster.local"
    );
    // No backtracking: the /32 wins the IP step, wants TLS, plaintext fails → default chain.
    assert_eq!(
        r("10.9.9.9:7000", &none),
        (s("0.0.0.0_7000"), Some(0), s("PassthroughCluster"))
    );
    assert_eq!(
        r("10.9.9.9:7000", &|c| c.sni = Some("x.y".into())).2,
        "outbound|7000||tlsonly.ns.svc.cluster.local"
    );
    // Server names: exact, then the most specific wildcard; none → closed.
    assert_eq!(
        r("1.2.3.4:443", &|c| c.sni = Some("api.example.com".into())).2,
        "outbound|443||api.example.com"
    );
    assert_eq!(
        r("1.2.3.4:443", &|c| c.sni = Some("a.b.example.com".into())).2,
        "outbound|443||wild.example.com"
    );
    assert_eq!(
        r("1.2.3.4:443", &|c| c.sni = Some("x.io".into())).2,
        "closed"
    );
    assert_eq!(r("1.2.3.4:443", &none).2, "closed");
    // ALPN from http_inspector picks the HCM chain; opaque TCP gets the default chain.
    assert_eq!(
        r("10.96.3.3:8080", &|c| c.host = Some("web.shop:8080".into())).2,
        "outbound|8080||web.shop.svc.cluster.local"
    );
    assert_eq!(
        r("10.96.3.3:8080", &none),
        (
            s("0.0.0.0_8080"),
            Some(0),
            s("outbound|8080|v1|legacy.ns.svc.cluster.local")
        )
    );
    // Virtual hosts: suffix wildcard, prefix wildcard, `*`; routes: first that GET / satisfies.
    assert_eq!(
        r("10.96.3.3:8080", &|c| c.host =
            Some("x.shop.svc.cluster.local".into()))
        .2,
        "outbound|8080||wild.shop.svc.cluster.local"
    );
    assert_eq!(
        r("10.96.3.3:8080", &|c| c.host = Some("api.foo".into())).2,
        "outbound|8080||api.shop.svc.cluster.local"
    );
    assert_eq!(
        r("10.96.3.3:8080", &|c| c.host = Some("elsewhere.org".into())).2,
        "PassthroughCluster"
    );
    let t = trace::trace(&d, &{
        let mut c = conn("10.96.3.3:8080");
        c.host = Some("hdr.shop".into());
        c
    });
    let names: Vec<_> = t
        .outcome
        .clusters
        .iter()
        .map(|c| (c.name.as_str(), c.weight))
        .collect();
    assert_eq!(
        names,
        vec![
            ("outbound|8080|v1|hdr.shop.svc.cluster.local", Some(80)),
            ("outbound|8080|v2|hdr.shop.svc.cluster.local", Some(20))
        ]
    );
    let route_step = t.steps.iter().find(|s| s.stage == "route").expect("route");
    assert_eq!(route_step.passed_over[0].candidate, "canary");
    // Source type and source prefix.
    assert_eq!(
        r("1.2.3.4:6000", &|c| c.source =
            Some("127.0.0.1".parse().unwrap()))
        .2,
        "outbound|6000||local.ns.svc.cluster.local"
    );
    assert_eq!(
        r("1.2.3.4:6000", &|c| c.source =
            Some("10.50.1.1".parse().unwrap()))
        .2,
        "outbound|6000||fromzone.ns.svc.cluster.local"
    );
    assert_eq!(
        r("1.2.3.4:6000", &none).2,
        "outbound|6000||anyone.ns.svc.cluster.local"
    );
    // filter_chain_matcher: IP range then port map; on_no_match.
    assert_eq!(
        r("10.104.171.68:15008", &none).2,
        "inbound-vip|8000||httpbin.default.svc.cluster.local"
    );
    assert_eq!(r("10.0.0.1:15008", &none).2, "BlackHoleCluster");
    // IPv6 exact; unknown v6 stays on 15001's own chains; 15001 itself is black-holed.
    assert_eq!(
        r("[fd00::10]:9000", &none).2,
        "outbound|9000||db6.data.svc.cluster.local"
    );
    assert_eq!(
        r("[fd00::11]:9000", &none),
        (s("virtualOutbound"), Some(2), s("PassthroughCluster"))
    );
    assert_eq!(
        r("1.1.1.1:15001", &none),
        (s("virtualOutbound"), Some(1), s("BlackHoleCluster"))
    );
    // Endpoints with health from EDS.
    let t = trace::trace(&d, &conn("10.96.0.10:9000"));
    let eps: Vec<_> = t.outcome.clusters[0]
        .endpoints
        .iter()
        .map(|e| (e.address.as_str(), e.health.as_str()))
        .collect();
    assert_eq!(
        eps,
        vec![
            ("10.20.0.5:9000", "HEALTHY"),
            ("10.20.0.6:9000", "UNHEALTHY")
        ]
    );
}

#[test]
fn listeners_prints_the_dump_table_in_the_predicted_form() {
    let (code, out, err) = meshlint(&["listeners", &fixture("hazelcast-5701.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("config dump"), "{out}");
    assert!(out.contains("  ADDRESS"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("5701") && l.contains("0.0.0.0"))
        .expect("row");
    assert!(
        row.contains("app-ext.app.svc.cluster.local") && row.contains("<- catch-all"),
        "{row}"
    );
    let (_, json, _) = meshlint(&[
        "listeners",
        &fixture("hazelcast-5701.json"),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rows = v["scopes"][0]["listeners"].as_array().expect("rows");
    assert!(
        rows.iter()
            .any(|r| r["port"] == 5701 && r["conflict"].is_string())
    );
    assert_eq!(v["scopes"][0]["namespace"], "manager");
}

/// Serves `responses` (one per connection) on a local port; returns the admin URL.
fn serve(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for resp in responses {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&req).into_owned();
            assert!(
                head.starts_with("GET /config_dump?include_eds HTTP/1.1\r\n"),
                "{head}"
            );
            if resp.is_empty() {
                // Never answer: the client must time out.
                std::thread::sleep(std::time::Duration::from_secs(2));
                continue;
            }
            let _ = s.write_all(&resp);
        }
    });
    url
}

fn http(status: &str, body: &[u8], chunked: bool) -> Vec<u8> {
    let mut out = if chunked {
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes()
    } else {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes()
    };
    if chunked {
        for part in body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(body);
    }
    out
}

#[test]
fn admin_fetch_reads_a_live_dump_and_reports_failures_clearly() {
    let body = std::fs::read(fixture("hazelcast-5701.json")).expect("read");
    let url = serve(vec![
        http("200 OK", &body, false),
        http("200 OK", &body, true),
        http("200 OK", &body, false),
        http("503 Service Unavailable", b"no healthy upstream", false),
        http("200 OK", b"{\"not\": \"a dump\"}", false),
        Vec::new(),
    ]);
    let (code, out, err) = meshlint(&["check", "--admin", &url, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["findings"][0]["code"], "MESH301");
    assert_eq!(v["findings"][0]["location"]["file"], url.as_str());
    let (code, out, err) = meshlint(&["trace", "--admin", &url, "10.12.1.6:5701"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0.0.0.0_5701"), "{out}");
    let (code, out, _) = meshlint(&["listeners", "--admin", &url]);
    assert_eq!(code, 0);
    assert!(out.contains("catch-all"), "{out}");
    let (code, out, _) = meshlint(&["check", "--admin", &url, "--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("answered 503 Service Unavailable: no healthy upstream"),
        "{out}"
    );
    let (code, out, _) = meshlint(&["check", "--admin", &url, "--format", "json"]);
    assert_eq!(code, 2);
    assert!(out.contains("did not return a config dump"), "{out}");
    let (code, out, _) = meshlint(&[
        "check",
        "--admin",
        &url,
        "--admin-timeout",
        "0.3",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("did not answer within 0.3s"), "{out}");
    // A port nobody listens on: refused.
    let free = TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused = format!("http://{}", free.local_addr().expect("addr"));
    drop(free);
    let (code, _, err) = meshlint(&["trace", "--admin", &refused, "10.0.0.1:80"]);
    assert_eq!(code, 2);
    assert!(err.contains("connection refused"), "{err}");
    let (code, _, err) = meshlint(&["trace", "--admin", "https://127.0.0.1:15000", "10.0.0.1:80"]);
    assert_eq!(code, 2);
    assert!(err.contains("plain HTTP"), "{err}");
}

#[test]
fn stdin_dumps_are_detected_by_content() {
    let body = std::fs::read(fixture("hazelcast-5701.json")).expect("read");
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(["check", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["findings"][0]["code"], "MESH301");
    assert_eq!(v["findings"][0]["location"]["file"], "<stdin>");
}

/// Timing on a big dump: `python3 scripts/gen-big-dump.py TEMPLATE /tmp/big.json 50`, then
/// `MESHLINT_BIG_DUMP=/tmp/big.json cargo test --release --test dumps -- --ignored --nocapture`.
#[test]
#[ignore = "needs a generated big dump (MESHLINT_BIG_DUMP)"]
fn big_dump_loads_well_under_a_second() {
    let Ok(path) = std::env::var("MESHLINT_BIG_DUMP") else {
        eprintln!("skipped: MESHLINT_BIG_DUMP not set");
        return;
    };
    let size = std::fs::metadata(&path).expect("exists").len();
    let start = std::time::Instant::now();
    let (errors, dumps) = load_dumps(&path);
    let loaded = start.elapsed();
    assert!(errors.is_empty(), "{:?}", errors);
    let d = &dumps[0].dump;
    let start = std::time::Instant::now();
    let out = engine::check(std::slice::from_ref(&path), &Settings::default()).expect("runs");
    let checked = start.elapsed();
    eprintln!(
        "{:.1} MB: {} listeners, {} clusters; load {:?}, load + check {:?}, {} findings",
        size as f64 / 1e6,
        d.listeners.len(),
        d.clusters.len(),
        loaded,
        checked,
        out.findings.len()
    );
    if !cfg!(debug_assertions) {
        assert!(loaded.as_secs_f64() < 1.0, "{loaded:?}");
    }
}

#[test]
fn minified_dumps_get_positions_but_no_giant_code_frame() {
    let text = std::fs::read_to_string(fixture("hazelcast-5701.json")).expect("read");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("min.json");
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
    let path = path.to_string_lossy().into_owned();
    let (code, out, _) = meshlint(&["check", &path, "--color", "never"]);
    assert_eq!(code, 1);
    assert!(out.contains("minified JSON"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() < 400), "{out}");
    let (_, json, _) = meshlint(&["check", &path, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let loc = &v["findings"][0]["location"];
    assert_eq!(loc["line"], 1);
    assert!(loc["column"].as_u64().expect("column") > 1000, "{loc}");
}

#[test]
fn a_camel_case_name_inside_a_string_keeps_positions() {
    let text = std::fs::read_to_string(fixture("hazelcast-5701.json")).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    // A plugin's JSON config, as Envoy prints it in a snake_case dump.
    v["configs"][0]["bootstrap"]["node"]["metadata"]["PLUGIN_CONFIG"] =
        serde_json::json!("{\"clusterName\": \"x\", \"socketAddress\": {\"portValue\": 1}}");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plugin.json");
    let text = serde_json::to_string_pretty(&v).expect("json");
    std::fs::write(&path, &text).expect("write");
    let got = findings(&path.to_string_lossy());
    assert!(got.len() == 1 && got[0].3 >= 1, "{got:?}");
    let line = text.lines().nth(got[0].3 as usize - 1).expect("a line");
    assert!(line.contains("\"0.0.0.0_5701\""), "{line}");
}

#[test]
fn config_ignore_entries_apply_to_dump_findings() {
    let config =
        |text: &str| meshlint::config::parse(".meshlint.yaml", text).expect("valid config");
    let run = |cfg| {
        let settings = Settings {
            config: cfg,
            ..Settings::default()
        };
        engine::check(&[fixture("hazelcast-5701.json")], &settings).expect("check")
    };
    let matching = config("ignore:\n  - rule: MESH301\n    resource: \"Listener 0.0.0.0_5701\"\n");
    let out = run(matching);
    assert!(out.findings.is_empty(), "{:?}", out.findings);
    let other = config("ignore:\n  - rule: MESH301\n    resource: \"Listener 0.0.0.0_443\"\n");
    let out = run(other);
    let codes: Vec<_> = out.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["MESH001", "MESH301"], "{:?}", out.findings);
}

#[test]
fn http_and_tcp_on_one_wildcard_listener_is_a_protocol_clash() {
    let f = findings(&fixture("matching.json"));
    assert!(
        f.iter()
            .any(|(code, _, name, _)| code == "MESH402" && name == "0.0.0.0_8080"),
        "{f:?}"
    );
    // A TCP-only catch-all is no clash.
    assert!(
        !f.iter()
            .any(|(code, _, name, _)| code == "MESH402" && name == "0.0.0.0_6000"),
        "{f:?}"
    );
}

#[test]
fn trace_explains_a_ztunnel_dump_instead_of_listeners() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ztunnel.json");
    std::fs::write(
        &path,
        r#"{"workloads": {"/10.244.0.9": {"uid": "Kubernetes//Pod/shop/api-1", "workloadIps": ["10.244.0.9"],
              "waypoint": {"destination": "/10.96.0.50"}, "protocol": "HBONE", "name": "api-1", "namespace": "shop",
              "serviceAccount": "api"}},
            "services": [{"name": "api", "namespace": "shop", "hostname": "api.shop.svc.cluster.local",
              "vips": ["/10.96.0.10"], "ports": {"80": 8080},
              "endpoints": {"x": {"workloadUid": "Kubernetes//Pod/shop/api-1"}}}],
            "policies": [], "certificates": []}"#,
    )
    .expect("write");
    let file = path.to_str().expect("utf-8 path");
    let (code, out, err) = meshlint(&["trace", file, "10.96.0.10:80"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(ambient: ztunnel)"), "{out}");
    assert!(out.contains("port 80 maps to target port 8080"), "{out}");
    assert!(out.contains("waypoint /10.96.0.50"), "{out}");
    let (code, out, _) = meshlint(&["trace", file, "10.96.0.10:80", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ztunnel"]["target_port"], 8080);
}
