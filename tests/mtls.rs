//! `meshlint mtls` end to end: both ends of each connection, the filter, the formats, exit codes.

use std::process::Command;

fn mtls(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .arg("mtls")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run meshlint");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

const PORTS: &str = "testdata/rules/MESH901/bad-ports.yaml";

#[test]
fn json_shows_the_mode_of_each_workload_port_and_what_clients_send() {
    let (code, out, err) = mtls(&[PORTS, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let inbound = v["inbound"].as_array().expect("inbound");
    let port = |p: i64| {
        inbound
            .iter()
            .find(|r| r["workload"] == "Deployment shop/cart" && r["port"] == p)
            .unwrap_or_else(|| panic!("no row for port {p}: {out}"))
    };
    // portLevelMtls is keyed by the workload port: 8080 is STRICT, 9090 keeps PERMISSIVE.
    assert_eq!(port(8080)["mode"], "STRICT");
    assert_eq!(port(8080)["level"], "port-level");
    assert_eq!(port(9090)["mode"], "PERMISSIVE");
    let outbound = v["outbound"].as_array().expect("outbound");
    let to = |dest: &str| -> Vec<&serde_json::Value> {
        outbound
            .iter()
            .filter(|r| r["destination"] == dest)
            .collect()
    };
    // The DestinationRule's port-level setting is keyed by the Service port (80).
    let cart = to("cart.shop.svc.cluster.local:80");
    assert_eq!(cart.len(), 1, "{out}");
    assert_eq!(cart[0]["configured"], "SIMPLE");
    assert_eq!(cart[0]["accepts"], "STRICT");
    assert!(cart[0]["problem"].is_string());
    assert_eq!(
        to("cart.shop.svc.cluster.local:9090")[0]["problem"],
        serde_json::Value::Null
    );
    // Clients in `shop` get the ISTIO_MUTUAL rule; others auto mTLS, plaintext to no sidecar.
    let ledger = to("ledger.legacy.svc.cluster.local:5432");
    assert_eq!(ledger.len(), 2, "{out}");
    let shop = ledger
        .iter()
        .find(|r| r["clients"][0] == "shop")
        .expect("shop row");
    assert_eq!(shop["accepts"], "no sidecar");
    assert!(shop["problem"].is_string());
    let others = ledger
        .iter()
        .find(|r| r["clients"][0] != "shop")
        .expect("other row");
    assert_eq!(others["configured"], "auto");
    assert_eq!(others["problem"], serde_json::Value::Null);
}

#[test]
fn the_namespace_filter_keeps_only_its_servers() {
    let (code, out, _) = mtls(&[PORTS, "-n", "legacy"]);
    assert_eq!(code, 0);
    assert!(out.contains("namespace legacy"), "{out}");
    assert!(!out.contains("namespace shop"), "{out}");
    assert!(out.contains("MISMATCH"), "{out}");
    assert!(out.trim_end().ends_with("1 mismatch"), "{out}");
}

#[test]
fn a_broken_input_is_an_error_and_the_rest_is_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: PeerAuthentication\napiVersion: security.istio.io/v1\nmetadata: {name: x}\nspec: {mtls: [STRICT]}\n").expect("write");
    let (code, out, err) = mtls(&[PORTS, broken.to_str().expect("path")]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("broken.yaml:4"), "{err}");
    assert!(out.contains("cart.shop.svc.cluster.local:80"), "{out}");
}

#[test]
fn authorization_lists_the_policies_of_each_workload_and_whether_it_denies_by_default() {
    let (code, out, err) = mtls(&["testdata/rules/MESH912/bad-source.yaml", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let rows = v["authorization"].as_array().expect("authorization");
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["workload"], "Pod shop/api");
    assert_eq!(rows[0]["deny"][0], "AuthorizationPolicy shop/no-partners");
    assert_eq!(rows[0]["allow"][0], "AuthorizationPolicy shop/api");
    assert_eq!(rows[0]["default_deny"], true);
    // Without an ALLOW policy nothing is denied by default.
    let (_, out, _) = mtls(&["testdata/rules/MESH908/bad-deny.yaml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["authorization"][0]["default_deny"], false, "{out}");
}
