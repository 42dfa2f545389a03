//! ztunnel's config dump (`istioctl ztunnel-config all -o json`; istio
//! `istioctl/pkg/writer/ztunnel/configdump/api.go`). ztunnel is no Envoy: an ambient workload
//! has no listeners to trace. Its traffic goes from the node's ztunnel over HBONE (port 15008)
//! to the destination's ztunnel, or to the waypoint the destination names.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A ztunnel dump: workloads and services, each a map keyed by address or a list.
pub struct Dump {
    workloads: Vec<Workload>,
    services: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[derive(Default)]
struct Workload {
    uid: String,
    workload_ips: Vec<String>,
    waypoint: Option<GatewayAddress>,
    protocol: String,
    name: String,
    namespace: String,
    service_account: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[derive(Default)]
struct Service {
    name: String,
    namespace: String,
    hostname: String,
    vips: Vec<String>,
    ports: std::collections::BTreeMap<String, i64>,
    waypoint: Option<GatewayAddress>,
    endpoints: std::collections::BTreeMap<String, Endpoint>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Endpoint {
    workload_uid: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GatewayAddress {
    destination: String,
}

/// `api.go` accepts both shapes: a list, or a map whose values are the entries.
fn entries<T: for<'de> Deserialize<'de>>(v: Option<&Value>) -> Vec<T> {
    let items: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(m)) => m.values().collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|i| T::deserialize(i).ok())
        .collect()
}

/// The dump in `text`, when it is one: a JSON object with `workloads` and `services`.
pub fn parse(text: &str) -> Option<Dump> {
    let v: Value = serde_json::from_str(text).ok()?;
    let o = v.as_object()?;
    if !(o.contains_key("workloads") && o.contains_key("services")) {
        return None;
    }
    Some(Dump {
        workloads: entries(o.get("workloads")),
        services: entries(o.get("services")),
    })
}

/// ztunnel writes addresses as `NETWORK/IP` (the network may be empty).
fn address_is(written: &str, ip: IpAddr) -> bool {
    let bare = written.rsplit_once('/').map_or(written, |(_, a)| a);
    bare.parse::<IpAddr>().is_ok_and(|a| a == ip)
}

/// Where a connection to one address goes in ambient mode.
#[derive(Debug, Serialize)]
pub struct Trace {
    pub destination: String,
    /// `Service NS/NAME (HOST)` or `Pod NS/NAME`, when the dump knows the address.
    pub target: Option<String>,
    /// The target port the Service maps the port to, when it lists it.
    pub target_port: Option<i64>,
    /// The waypoint address the destination names, when it names one.
    pub waypoint: Option<String>,
    /// Each step, in words.
    pub steps: Vec<String>,
}

pub fn trace(dump: &Dump, ip: IpAddr, port: u32) -> Trace {
    let destination = format!("{ip}:{port}");
    let mut steps = vec![
        "ztunnel dump: the workloads on this node have no sidecar, so there are no Envoy listeners to match; the node's ztunnel captures the connection".to_string(),
    ];
    if let Some(s) = dump
        .services
        .iter()
        .find(|s| s.vips.iter().any(|v| address_is(v, ip)))
    {
        let target_port = s.ports.get(&port.to_string()).copied();
        // Without a waypoint of its own, the Service's endpoints may each name one.
        let endpoint_waypoint = || {
            s.endpoints.values().find_map(|e| {
                dump.workloads
                    .iter()
                    .find(|w| !e.workload_uid.is_empty() && w.uid == e.workload_uid)
                    .and_then(|w| w.waypoint.as_ref())
                    .map(|g| g.destination.clone())
            })
        };
        let own = s.waypoint.as_ref().map(|w| w.destination.clone());
        let via_endpoints = own.is_none();
        let waypoint = own.or_else(endpoint_waypoint);
        steps.push(match target_port {
            Some(t) => format!(
                "{ip} is the VIP of Service {}/{} ({}); port {port} maps to target port {t}",
                s.namespace, s.name, s.hostname
            ),
            None => format!(
                "{ip} is the VIP of Service {}/{} ({}), which lists no port {port}: ztunnel has no endpoint port to send it to",
                s.namespace, s.name, s.hostname
            ),
        });
        steps.push(match &waypoint {
            Some(w) => format!(
                "the {} waypoint {w}: ztunnel sends the connection over HBONE (mTLS, port 15008) to the waypoint, which applies L7 policy and routing and forwards it to an endpoint",
                if via_endpoints {
                    "Service's endpoint workloads name"
                } else {
                    "Service names"
                }
            ),
            None => "the Service names no waypoint: ztunnel picks an endpoint and sends the connection over HBONE (mTLS, port 15008) to the endpoint's ztunnel; only L4 policy applies".to_string(),
        });
        return Trace {
            destination,
            target: Some(format!(
                "Service {}/{} ({})",
                s.namespace, s.name, s.hostname
            )),
            target_port,
            waypoint,
            steps,
        };
    }
    if let Some(w) = dump
        .workloads
        .iter()
        .find(|w| w.workload_ips.iter().any(|a| address_is(a, ip)))
    {
        let waypoint = w.waypoint.as_ref().map(|g| g.destination.clone());
        steps.push(format!(
            "{ip} is workload {}/{} (service account {}), reached with protocol {}",
            w.namespace, w.name, w.service_account, w.protocol
        ));
        steps.push(match (&waypoint, w.protocol.as_str()) {
            (Some(g), _) => format!(
                "the workload names waypoint {g}: traffic addressed to the workload goes through it when the waypoint takes workload traffic"
            ),
            (None, "HBONE") => "ztunnel sends the connection over HBONE (mTLS, port 15008) to the workload's ztunnel; only L4 policy applies".to_string(),
            (None, p) => format!(
                "the workload is not captured by ztunnel (protocol {p}): the connection leaves as plain TCP"
            ),
        });
        return Trace {
            destination,
            target: Some(format!("Pod {}/{}", w.namespace, w.name)),
            target_port: None,
            waypoint,
            steps,
        };
    }
    steps.push(format!(
        "{ip} is neither a Service VIP nor a workload address in the dump: ztunnel passes the connection through to its original destination unchanged"
    ));
    Trace {
        destination,
        target: None,
        target_port: None,
        waypoint: None,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"{
      "workloads": {
        "network1/10.244.2.54": {"uid": "Kubernetes//Pod/bookinfo/ratings-v1", "workloadIps": ["10.244.2.54"], "waypoint": {"destination": "/10.96.65.117"},
          "protocol": "HBONE", "name": "ratings-v1-6484c4d9bb-mdxm5", "namespace": "bookinfo", "serviceAccount": "bookinfo-ratings"},
        "network1/10.244.2.60": {"workloadIps": ["10.244.2.60"], "protocol": "TCP", "name": "legacy", "namespace": "old", "serviceAccount": "default"}
      },
      "services": [
        {"name": "ratings-old", "namespace": "bookinfo", "hostname": "ratings-old.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.22"], "ports": {"9080": 9080},
         "endpoints": {"a": {"workloadUid": "Kubernetes//Pod/bookinfo/ratings-v1"}}},
        {"name": "ratings", "namespace": "bookinfo", "hostname": "ratings.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.20"], "ports": {"9080": 9080}, "waypoint": {"destination": "/10.96.65.117"}},
        {"name": "details", "namespace": "bookinfo", "hostname": "details.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.21"], "ports": {"9080": 9080}}
      ],
      "policies": [], "certificates": []
    }"#;

    fn run(dest: &str, port: u32) -> Trace {
        let dump = parse(DUMP).expect("a ztunnel dump");
        trace(&dump, dest.parse().expect("ip"), port)
    }

    #[test]
    fn services_go_through_their_waypoint_or_straight_to_an_endpoint() {
        let t = run("10.96.0.20", 9080);
        assert_eq!(t.waypoint.as_deref(), Some("/10.96.65.117"));
        assert_eq!(t.target_port, Some(9080));
        let t = run("10.96.0.21", 9080);
        assert_eq!(t.waypoint, None);
        assert!(t.steps.last().is_some_and(|s| s.contains("only L4 policy")));
        let t = run("10.96.0.22", 9080);
        assert_eq!(t.waypoint.as_deref(), Some("/10.96.65.117"));
        assert!(
            t.steps[2].contains("endpoint workloads name"),
            "{:?}",
            t.steps
        );
        let t = run("10.96.0.21", 80);
        assert_eq!(t.target_port, None);
        assert!(t.steps[1].contains("lists no port 80"), "{:?}", t.steps);
    }

    #[test]
    fn workloads_and_unknown_addresses() {
        let t = run("10.244.2.54", 9080);
        assert_eq!(
            t.target.as_deref(),
            Some("Pod bookinfo/ratings-v1-6484c4d9bb-mdxm5")
        );
        assert!(run("10.244.2.60", 80).steps[2].contains("plain TCP"));
        assert_eq!(run("192.0.2.1", 443).target, None);
    }

    #[test]
    fn only_objects_with_workloads_and_services_are_ztunnel_dumps() {
        assert!(parse(r#"{"configs": []}"#).is_none());
        assert!(parse("[1, 2]").is_none());
        assert!(parse("not json").is_none());
    }
}
