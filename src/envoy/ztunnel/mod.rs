//! ztunnel's config dump (`istioctl ztunnel-config all -o json`; istio
//! `istioctl/pkg/writer/ztunnel/configdump/api.go`). ztunnel is no Envoy: an ambient workload
//! has no listeners to trace. Its traffic goes from the node's ztunnel over HBONE (port 15008)
//! to the destination's ztunnel, or to the waypoint the destination names.

mod rbac;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use rbac::Verdict;

/// A ztunnel dump: workloads and services, each a map keyed by address or a list, and the
/// authorization policies.
pub struct Dump {
    workloads: Vec<Workload>,
    services: Vec<Service>,
    policies: Vec<rbac::Policy>,
    /// Policies the dump holds in a shape meshlint does not read: any of them may deny, so no
    /// verdict is given.
    unread_policies: usize,
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
    trust_domain: String,
    /// `ns/name` of the workload-selected policies that apply to it.
    authorization_policies: Vec<String>,
}

impl Workload {
    fn identity(&self) -> rbac::Identity {
        rbac::Identity {
            trust_domain: if self.trust_domain.is_empty() {
                "cluster.local".into()
            } else {
                self.trust_domain.clone()
            },
            namespace: self.namespace.clone(),
            service_account: self.service_account.clone(),
        }
    }

    /// The first address, without its network.
    fn ip(&self) -> Option<IpAddr> {
        self.workload_ips.first().and_then(|a| address(a))
    }
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
    read_entries(v).0
}

/// The entries that read, and how many did not.
fn read_entries<T: for<'de> Deserialize<'de>>(v: Option<&Value>) -> (Vec<T>, usize) {
    let items: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(m)) => m.values().collect(),
        _ => Vec::new(),
    };
    let total = items.len();
    let read: Vec<T> = items
        .into_iter()
        .filter_map(|i| T::deserialize(i).ok())
        .collect();
    let unread = total - read.len();
    (read, unread)
}

/// The dump in `text`, when it is one: a JSON object with `workloads` and `services`.
pub fn parse(text: &str) -> Option<Dump> {
    let v: Value = serde_json::from_str(text).ok()?;
    let o = v.as_object()?;
    if !(o.contains_key("workloads") && o.contains_key("services")) {
        return None;
    }
    let (policies, unread_policies) = read_entries(o.get("policies"));
    Some(Dump {
        workloads: entries(o.get("workloads")),
        services: entries(o.get("services")),
        policies,
        unread_policies,
    })
}

/// The IP of an address ztunnel writes as `NETWORK/IP` (the network may be empty).
fn address(written: &str) -> Option<IpAddr> {
    let bare = written.rsplit_once('/').map_or(written, |(_, a)| a);
    bare.parse().ok()
}

fn address_is(written: &str, ip: IpAddr) -> bool {
    address(written) == Some(ip)
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
    /// ztunnel's L4 authorization at the destination workloads.
    pub authorization: Vec<Authorization>,
}

/// The L4 verdict of the destination's ztunnel for workloads that share their policies.
#[derive(Debug, Serialize)]
pub struct Authorization {
    /// `Pod NS/NAME`, the first of the workloads.
    pub workload: String,
    /// How many more workloads share the verdict.
    pub more: usize,
    /// The policies that apply to them, as `ns/name`.
    pub policies: Vec<String>,
    /// The peer identity the destination's ztunnel sees, when there is one.
    pub peer: Option<String>,
    /// `None` when it depends on a source the trace was not given (`--source`).
    pub verdict: Option<Verdict>,
}

/// Who the destination's ztunnel sees connecting: the source, or the waypoint in between.
enum Peer {
    /// `--source` was not given, or the waypoint is not in the dump.
    Unknown,
    /// A peer address, with its identity when it is a captured workload of the dump.
    Known(IpAddr, Option<rbac::Identity>),
}

impl Dump {
    fn workload_at(&self, ip: IpAddr) -> Option<&Workload> {
        self.workloads
            .iter()
            .find(|w| w.workload_ips.iter().any(|a| address_is(a, ip)))
    }

    fn by_uid(&self, uid: &str) -> Option<&Workload> {
        if uid.is_empty() {
            return None;
        }
        self.workloads.iter().find(|w| w.uid == uid)
    }

    /// The peer the source IP is: a captured workload speaks mTLS with its identity; anything
    /// else arrives as plaintext without one.
    fn peer(&self, source: Option<IpAddr>) -> Peer {
        match source {
            None => Peer::Unknown,
            Some(ip) => Peer::Known(
                ip,
                self.workload_at(ip)
                    .filter(|w| w.protocol == "HBONE")
                    .map(Workload::identity),
            ),
        }
    }

    /// The waypoint behind a waypoint address (its Service VIP or its own address), as the
    /// peer the destination's ztunnel sees.
    fn waypoint_peer(&self, written: &str) -> Peer {
        let Some(ip) = address(written) else {
            return Peer::Unknown;
        };
        let by_service = self
            .services
            .iter()
            .find(|s| s.vips.iter().any(|v| address_is(v, ip)))
            .and_then(|s| {
                s.endpoints
                    .values()
                    .find_map(|e| self.by_uid(&e.workload_uid))
            });
        match by_service.or_else(|| self.workload_at(ip)) {
            Some(w) => Peer::Known(w.ip().unwrap_or(ip), Some(w.identity())),
            None => Peer::Unknown,
        }
    }

    /// The verdicts at `targets`, one per group of workloads sharing namespace and policies.
    fn authorize(&self, targets: &[&Workload], peer: &Peer, port: u32) -> Vec<Authorization> {
        let mut groups: Vec<(&Workload, usize)> = Vec::new();
        for w in targets {
            match groups.iter_mut().find(|(g, _)| {
                g.namespace == w.namespace && g.authorization_policies == w.authorization_policies
            }) {
                Some((_, n)) => *n += 1,
                None => groups.push((w, 0)),
            }
        }
        groups
            .into_iter()
            .map(|(w, more)| {
                let applied =
                    rbac::applied(&self.policies, &w.namespace, &w.authorization_policies);
                let (peer, verdict) = match (peer, w.ip()) {
                    (Peer::Known(src, identity), Some(dst)) if self.unread_policies == 0 => {
                        let conn = rbac::Connection {
                            src: *src,
                            dst,
                            port: u16::try_from(port).unwrap_or(0),
                            identity: identity.clone(),
                        };
                        (
                            identity.as_ref().map(ToString::to_string),
                            Some(rbac::decide(&applied, &conn)),
                        )
                    }
                    _ => (None, None),
                };
                Authorization {
                    workload: format!("Pod {}/{}", w.namespace, w.name),
                    more,
                    policies: applied.iter().map(|p| p.key()).collect(),
                    peer,
                    verdict,
                }
            })
            .collect()
    }
}

/// The steps that state the verdicts.
fn verdict_steps(dump: &Dump, auth: &[Authorization], steps: &mut Vec<String>) {
    if dump.unread_policies > 0 && !auth.is_empty() {
        steps.push(format!(
            "{} authorization policies of the dump are in a shape meshlint does not read, so it gives no L4 verdict",
            dump.unread_policies
        ));
        return;
    }
    for a in auth {
        let who = match a.more {
            0 => a.workload.clone(),
            n => format!("{} and {n} more with the same policies", a.workload),
        };
        let policies = match a.policies.len() {
            0 => "no policy applies".to_string(),
            _ => format!("policies {}", a.policies.join(", ")),
        };
        steps.push(match &a.verdict {
            Some(v) => format!(
                "L4 authorization by the ztunnel of {who}, peer {} ({policies}): {}, {}",
                a.peer.as_deref().unwrap_or("without identity (plaintext)"),
                if v.allowed { "allowed" } else { "DENIED" },
                v.reason
            ),
            None if a.policies.is_empty() => {
                format!("L4 authorization by the ztunnel of {who}: allowed, no policy applies")
            }
            None => format!(
                "L4 authorization by the ztunnel of {who}: {policies}; pass --source IP to evaluate them for a client"
            ),
        });
    }
}

/// Where a connection from `source` (when given) to `ip:port` goes, and whether the
/// destination's ztunnel lets it in.
pub fn trace(dump: &Dump, ip: IpAddr, port: u32, source: Option<IpAddr>) -> Trace {
    let peer = dump.peer(source);
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
        let endpoints: Vec<&Workload> = s
            .endpoints
            .values()
            .filter_map(|e| dump.by_uid(&e.workload_uid))
            .collect();
        // Behind a waypoint, the endpoint's ztunnel sees the waypoint's identity.
        let seen = match &waypoint {
            Some(w) => dump.waypoint_peer(w),
            None => peer,
        };
        let port = target_port.map_or(port, |t| u32::try_from(t).unwrap_or(port));
        let authorization = dump.authorize(&endpoints, &seen, port);
        verdict_steps(dump, &authorization, &mut steps);
        return Trace {
            destination,
            target: Some(format!(
                "Service {}/{} ({})",
                s.namespace, s.name, s.hostname
            )),
            target_port,
            waypoint,
            steps,
            authorization,
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
        let authorization = if w.protocol == "HBONE" {
            let seen = match &waypoint {
                Some(g) => dump.waypoint_peer(g),
                None => peer,
            };
            dump.authorize(&[w], &seen, port)
        } else {
            Vec::new()
        };
        verdict_steps(dump, &authorization, &mut steps);
        return Trace {
            destination,
            target: Some(format!("Pod {}/{}", w.namespace, w.name)),
            target_port: None,
            waypoint,
            steps,
            authorization,
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
        authorization: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"{
      "workloads": {
        "network1/10.244.2.54": {"uid": "Kubernetes//Pod/bookinfo/ratings-v1", "workloadIps": ["10.244.2.54"], "waypoint": {"destination": "/10.96.65.117"},
          "protocol": "HBONE", "name": "ratings-v1-6484c4d9bb-mdxm5", "namespace": "bookinfo", "serviceAccount": "bookinfo-ratings",
          "authorizationPolicies": ["bookinfo/only-waypoint"]},
        "network1/10.244.2.70": {"uid": "Kubernetes//Pod/bookinfo/details-v1", "workloadIps": ["10.244.2.70"], "protocol": "HBONE",
          "name": "details-v1-1", "namespace": "bookinfo", "serviceAccount": "bookinfo-details", "trustDomain": "cluster.local",
          "authorizationPolicies": ["bookinfo/details-viewer"]},
        "network1/10.244.1.5": {"uid": "Kubernetes//Pod/bookinfo/waypoint-x", "workloadIps": ["10.244.1.5"], "protocol": "TCP",
          "name": "waypoint-x", "namespace": "bookinfo", "serviceAccount": "waypoint"},
        "network1/10.244.3.3": {"uid": "Kubernetes//Pod/default/curl", "workloadIps": ["10.244.3.3"], "protocol": "HBONE",
          "name": "curl", "namespace": "default", "serviceAccount": "curl"},
        "network1/10.244.2.60": {"workloadIps": ["10.244.2.60"], "protocol": "TCP", "name": "legacy", "namespace": "old", "serviceAccount": "default"}
      },
      "services": [
        {"name": "ratings-old", "namespace": "bookinfo", "hostname": "ratings-old.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.22"], "ports": {"9080": 9080},
         "endpoints": {"a": {"workloadUid": "Kubernetes//Pod/bookinfo/ratings-v1"}}},
        {"name": "ratings", "namespace": "bookinfo", "hostname": "ratings.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.20"], "ports": {"9080": 9080}, "waypoint": {"destination": "/10.96.65.117"}},
        {"name": "details", "namespace": "bookinfo", "hostname": "details.bookinfo.svc.cluster.local",
         "vips": ["/10.96.0.21"], "ports": {"9080": 9080},
         "endpoints": {"d": {"workloadUid": "Kubernetes//Pod/bookinfo/details-v1"}}},
        {"name": "waypoint", "namespace": "bookinfo", "hostname": "waypoint.bookinfo.svc.cluster.local",
         "vips": ["/10.96.65.117"], "ports": {"15008": 15008},
         "endpoints": {"w": {"workloadUid": "Kubernetes//Pod/bookinfo/waypoint-x"}}}
      ],
      "policies": [
        {"action": "Allow", "name": "details-viewer", "namespace": "bookinfo", "scope": "WorkloadSelector",
         "rules": [[[{"principals": [{"Exact": "cluster.local/ns/default/sa/curl"}]}]]]},
        {"action": "Allow", "name": "only-waypoint", "namespace": "bookinfo", "scope": "WorkloadSelector",
         "rules": [[[{"serviceAccounts": [{"namespace": "bookinfo", "serviceAccount": "waypoint"}]}]]]}
      ],
      "certificates": []
    }"#;

    fn run(dest: &str, port: u32) -> Trace {
        from(None, dest, port)
    }

    fn from(source: Option<&str>, dest: &str, port: u32) -> Trace {
        let dump = parse(DUMP).expect("a ztunnel dump");
        let source = source.map(|s| s.parse().expect("ip"));
        trace(&dump, dest.parse().expect("ip"), port, source)
    }

    #[test]
    fn a_policy_that_does_not_read_withholds_the_verdict() {
        for unread in [
            r#"{"action": "Deny", "name": "x", "namespace": "bookinfo", "scope": "Namespace", "rules": [[[{"destinationPorts": [70000]}]]]}"#,
            r#"{"action": "Deny", "name": "y", "namespace": "bookinfo", "scope": "Namespace", "rules": [[[{"futureField": ["a"]}]]]}"#,
        ] {
            let text = DUMP.replacen(r#""policies": ["#, &format!(r#""policies": [{unread},"#), 1);
            let dump = parse(&text).expect("a ztunnel dump");
            let t = trace(
                &dump,
                "10.96.0.21".parse().expect("ip"),
                9080,
                Some("10.244.3.3".parse().expect("ip")),
            );
            assert!(t.authorization.iter().all(|a| a.verdict.is_none()), "{t:?}");
            assert!(
                t.steps
                    .last()
                    .is_some_and(|s| s.contains("gives no L4 verdict")),
                "{:?}",
                t.steps
            );
        }
    }

    #[test]
    fn the_destination_ztunnel_decides_on_the_peer_it_sees() {
        let t = from(Some("10.244.3.3"), "10.96.0.21", 9080);
        let a = &t.authorization[0];
        assert_eq!(
            a.peer.as_deref(),
            Some("spiffe://cluster.local/ns/default/sa/curl")
        );
        let v = a.verdict.as_ref().expect("a verdict");
        assert!(v.allowed, "{t:?}");
        assert_eq!(v.reason, "ALLOW policy bookinfo/details-viewer matches");
        let t = from(Some("192.0.2.7"), "10.96.0.21", 9080);
        let a = &t.authorization[0];
        assert_eq!(a.peer, None);
        assert!(!a.verdict.as_ref().expect("a verdict").allowed);
        assert!(
            t.steps.last().is_some_and(|s| s.contains("DENIED")),
            "{:?}",
            t.steps
        );
        // Behind a waypoint the endpoint's ztunnel sees the waypoint, whoever the client is.
        let t = from(Some("192.0.2.7"), "10.96.0.22", 9080);
        let a = &t.authorization[0];
        assert_eq!(
            a.peer.as_deref(),
            Some("spiffe://cluster.local/ns/bookinfo/sa/waypoint")
        );
        assert!(a.verdict.as_ref().expect("a verdict").allowed, "{t:?}");
        // Without --source only the policies are named.
        let t = run("10.96.0.21", 9080);
        assert!(t.authorization[0].verdict.is_none());
        assert!(
            t.steps.last().is_some_and(|s| s.contains("--source")),
            "{:?}",
            t.steps
        );
    }

    #[test]
    fn services_go_through_their_waypoint_or_straight_to_an_endpoint() {
        let t = run("10.96.0.20", 9080);
        assert_eq!(t.waypoint.as_deref(), Some("/10.96.65.117"));
        assert_eq!(t.target_port, Some(9080));
        let t = run("10.96.0.21", 9080);
        assert_eq!(t.waypoint, None);
        assert!(t.steps[2].contains("only L4 policy"), "{:?}", t.steps);
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
