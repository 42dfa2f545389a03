//! The listener rules on fixtures: the cases that must stay silent, and the shadowing cases
//! with the owner order that decides them.

use std::path::Path;

use meshlint::diagnostic::{Finding, Severity};
use meshlint::engine::{Settings, check};

fn run(name: &str) -> Vec<Finding> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/listeners")
        .join(name);
    let outcome = check(&[path.to_string_lossy().into_owned()], &Settings::default())
        .expect("default settings are valid");
    assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
    outcome.findings
}

/// Findings of the listener rules that would fail a default run (warning or above).
fn listener_problems(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| {
            matches!(f.code, "MESH301" | "MESH302" | "MESH401" | "MESH402")
                && f.severity >= Severity::Warning
        })
        .map(|f| format!("{} {}: {}", f.code, f.resource, f.message))
        .collect()
}

#[test]
fn negative_cases_stay_silent() {
    for name in [
        "sni-shares-443.yaml",
        "with-addresses.yaml",
        "http-externalname.yaml",
        "separate-namespaces.yaml",
        "istio-1.21-externalname.yaml",
        "auto-allocation.yaml",
        "sidecar-hides-owner.yaml",
    ] {
        let findings = run(name);
        assert_eq!(listener_problems(&findings), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn auto_allocation_silences_even_the_ist0134_info() {
    let findings = run("auto-allocation.yaml");
    assert!(findings.iter().all(|f| f.code != "MESH302"), "{findings:?}");
}

#[test]
fn equal_creation_times_fall_back_to_name_order() {
    let findings = run("shadowed-by-name.yaml");
    let shadowed: Vec<_> = findings.iter().filter(|f| f.code == "MESH401").collect();
    assert_eq!(shadowed.len(), 1, "{findings:?}");
    let f = shadowed[0];
    assert_eq!(f.resource.name, "beta");
    assert!(
        f.message.contains("neither sets creationTimestamp"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("outbound|9000||a.example.com"),
        "{}",
        f.message
    );
    assert_eq!(f.related.len(), 1);
    assert_eq!(f.related[0].location.line, 18);
}

#[test]
fn an_older_externalname_shadows_a_serviceentry() {
    let findings = run("externalname-and-serviceentry.yaml");
    let shadowed: Vec<_> = findings.iter().filter(|f| f.code == "MESH401").collect();
    assert_eq!(shadowed.len(), 1, "{findings:?}");
    assert_eq!(shadowed[0].resource.name, "redis-cloud");
    assert!(
        shadowed[0]
            .message
            .contains("outbound|6379||cache-ext.app.svc.cluster.local"),
        "{}",
        shadowed[0].message
    );
    // The ExternalName's own catch-all is reported too, with the detected version.
    let catch_all: Vec<_> = findings.iter().filter(|f| f.code == "MESH301").collect();
    assert_eq!(catch_all.len(), 1);
    assert!(
        catch_all[0].message.contains("Istio 1.20"),
        "{}",
        catch_all[0].message
    );
}

#[test]
fn per_workload_auto_allocation_splits_the_scope() {
    let findings = run("per-workload-auto-allocation.yaml");
    let f = findings
        .iter()
        .find(|f| f.code == "MESH302")
        .expect("the namespace's other proxies still get the catch-all");
    assert!(f.message.contains("(in namespace shop)"), "{}", f.message);
    assert!(!f.message.contains("DNS auto-allocation"), "{}", f.message);
}

#[test]
fn demo_reproduces_the_hazelcast_and_egress_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
    let outcome = check(&[path.to_string_lossy().into_owned()], &Settings::default()).expect("ok");
    let mesh301 = outcome
        .findings
        .iter()
        .find(|f| f.code == "MESH301")
        .expect("ExternalName catch-all");
    assert_eq!(mesh301.severity, Severity::Error);
    for needle in [
        "0.0.0.0:5701 → outbound|5701||app-ext.app.svc.cluster.local",
        "idle.manager.svc.cluster.local instead of PassthroughCluster",
        "StatefulSet manager/manager",
        "Istio 1.20",
    ] {
        assert!(
            mesh301.message.contains(needle),
            "missing {needle}: {}",
            mesh301.message
        );
    }
    assert!(
        mesh301
            .help
            .as_deref()
            .is_some_and(|h| h.contains("networking.istio.io/exportTo"))
    );
    let mesh401 = outcome
        .findings
        .iter()
        .find(|f| f.code == "MESH401")
        .expect("ServiceEntry shadowing");
    assert_eq!(mesh401.resource.name, "github");
    for needle in [
        "2024-03-01T10:00:00Z",
        "2024-05-12T08:30:00Z",
        "outbound|443||www.huaweicloud.com",
        "`github.com` is unreachable",
    ] {
        assert!(
            mesh401.message.contains(needle),
            "missing {needle}: {}",
            mesh401.message
        );
    }
}

#[test]
fn listeners_table_marks_the_catch_all_and_the_shadowing() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
    let view =
        meshlint::engine::listeners(&[path.to_string_lossy().into_owned()], &Settings::default())
            .expect("ok");
    let (_, _, workloads, rows) = view
        .scopes
        .iter()
        .find(|(label, ..)| label == "namespace manager")
        .expect("manager scope");
    assert_eq!(workloads, &vec!["manager".to_string(), "idle".to_string()]);
    let row = |addr: &str, port: i64| {
        rows.iter()
            .find(|r| r.address == addr && r.port == port)
            .unwrap_or_else(|| panic!("no {addr}:{port} in {rows:?}"))
    };
    let hazelcast = row("0.0.0.0", 5701);
    assert_eq!(hazelcast.kind, "TCP");
    assert_eq!(
        hazelcast.owners,
        vec!["app-ext.app.svc.cluster.local (Service app/app-ext)"]
    );
    assert!(
        hazelcast
            .conflict
            .as_deref()
            .is_some_and(|c| c.contains("catch-all"))
    );
    let tls = row("0.0.0.0", 443);
    assert_eq!(
        tls.owners,
        vec![
            "www.huaweicloud.com (ServiceEntry shop/hwcloud)",
            "github.com (ServiceEntry shop/github)"
        ]
    );
    assert!(
        tls.conflict
            .as_deref()
            .is_some_and(|c| c.contains("MESH401"))
    );
    // HTTP ports share 0.0.0.0:8080 without conflict: they are routed by Host.
    assert_eq!(row("0.0.0.0", 8080).conflict, None);
    // Scopes exist only where Istio proxies are: not in the Consul or host-network namespaces.
    assert!(
        view.scopes
            .iter()
            .all(|(_, ns, ..)| ns != "payments" && ns != "monitoring" && ns != "istio-system")
    );
}

#[test]
fn graph_links_the_alias_and_marks_findings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
    let outcome = check(&[path.to_string_lossy().into_owned()], &Settings::default()).expect("ok");
    let g = &outcome.graph;
    let node = |kind: &str, ns: &str, name: &str| {
        g.nodes
            .iter()
            .position(|n| {
                n.resource.kind == kind && n.resource.namespace == ns && n.resource.name == name
            })
            .unwrap_or_else(|| panic!("no {kind} {ns}/{name}"))
    };
    let alias = node("Service", "app", "app-ext");
    let target = node("Service", "manager", "idle");
    assert!(
        g.edges.contains(&(alias, target, "aliases")),
        "{:?}",
        g.edges
    );
    assert_eq!(g.nodes[alias].worst, Some(Severity::Error));
    assert_eq!(g.nodes[alias].codes, vec!["MESH301"]);
    let sts = node("StatefulSet", "manager", "manager");
    assert!(
        g.edges
            .contains(&(node("Service", "manager", "manager"), sts, "selects"))
    );
    assert_eq!(g.nodes[sts].worst, None);
}

#[test]
fn listeners_mark_services_on_the_proxys_own_ports() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/listeners/reserved-port-catch-all.yaml");
    let view =
        meshlint::engine::listeners(&[path.to_string_lossy().into_owned()], &Settings::default())
            .expect("ok");
    let (_, _, _, rows) = &view.scopes[0];
    let conflict = |port: i64, kind: &str| {
        rows.iter()
            .find(|r| r.port == port && r.kind == kind)
            .and_then(|r| r.conflict.clone())
            .unwrap_or_default()
    };
    assert!(
        conflict(15006, "TCP").contains("virtualInbound: Envoy rejects"),
        "{rows:?}"
    );
    assert!(
        conflict(15021, "HTTP").contains("istiod skips it"),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r.port == 15001 && r.kind == "proxy"));
}

#[test]
fn listeners_show_ambient_namespaces_without_sidecar_listeners() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/listeners/ambient.yaml");
    let view =
        meshlint::engine::listeners(&[path.to_string_lossy().into_owned()], &Settings::default())
            .expect("ok");
    // Only the sidecar namespace is a proxy scope.
    let scopes: Vec<&str> = view.scopes.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(scopes, ["legacy"]);
    assert_eq!(view.no_scopes, None);
    let [shop] = view.ambient.as_slice() else {
        panic!("{:?}", view.ambient)
    };
    assert_eq!(shop.namespace, "shop");
    assert!(shop.labelled);
    let paths: Vec<(&str, Option<&str>, bool)> = shop
        .workloads
        .iter()
        .chain(&shop.services)
        .map(|p| (p.name.as_str(), p.waypoint.as_deref(), p.refused))
        .collect();
    assert_eq!(
        paths,
        [
            // The namespace's waypoint takes service traffic only.
            ("cart", Some("shop/waypoint"), true),
            ("web", Some("shop/web-waypoint"), false),
            ("web", Some("shop/waypoint"), false),
        ]
    );
}
