//! MESH510 gateway-duplicate-certificate: two Gateways of one gateway workload serve the same
//! certificate; browsers reuse an HTTP/2 connection across the hosts it covers and get 404s
//! (istio's IST0138, `pkg/config/analysis/analyzers/gateway/certificate.go`).

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::mesh::workloads::{selector_matches, selector_text};
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct GatewayDuplicateCertificate;

static META: RuleMeta = RuleMeta {
    code: "MESH510",
    name: "gateway-duplicate-certificate",
    summary: "two Gateways of one gateway workload use the same TLS certificate",
    severity: Severity::Warning,
    istio_codes: &["IST0138"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH510-gateway-duplicate-certificate.md"),
};

/// Whether every label of `inner` is in `outer`: a Gateway selecting `inner` also configures
/// every workload a Gateway selecting `outer` configures.
fn within(inner: &BTreeMap<String, String>, outer: &BTreeMap<String, String>) -> bool {
    // An empty selector is contained in every other (istioctl's `selectorSubset`).
    inner.is_empty() || selector_matches(inner, outer)
}

/// The certificate a server presents: its `credentialName`, or its certificate and key files.
fn certificate(tls: &serde_json::Value) -> Option<(String, &'static str)> {
    let s = |k: &str| {
        tls.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(name) = s("credentialName") {
        return Some((format!("credentialName `{name}`"), "credentialName"));
    }
    match (s("serverCertificate"), s("privateKey")) {
        (Some(cert), Some(key)) => Some((
            format!("serverCertificate `{cert}` with privateKey `{key}`"),
            "serverCertificate",
        )),
        _ => None,
    }
}

/// A server presenting a certificate: (gateway, server index, the certificate's field).
type Use = (ResId, usize, &'static str);

/// How many other Gateways a finding names before "and N more".
const SHOWN: usize = 5;

impl GatewayDuplicateCertificate {
    fn report(
        &self,
        cx: &mut Context<'_>,
        id: ResId,
        (cert, server, field): (&str, usize, &'static str),
        peers: &BTreeSet<ResId>,
        istio: bool,
    ) {
        let store = cx.store;
        let r = store.get(id);
        let mut others: Vec<ResId> = peers.iter().copied().filter(|&p| p != id).collect();
        others.sort_by_key(|&o| (&store.get(o).namespace, &store.get(o).name));
        let mut names: Vec<String> = others
            .iter()
            .take(SHOWN)
            .map(|&o| {
                let g = store.get(o);
                format!("{}/{}", g.namespace, g.name)
            })
            .collect();
        if others.len() > SHOWN {
            names.push(format!("{} more", others.len() - SHOWN));
        }
        let sel = match &r.spec {
            Spec::Gateway(g) => selector_text(&g.selector),
            _ => String::new(),
        };
        cx.report(
            id,
            FieldPath::parse("spec.servers")
                .index(server)
                .key("tls")
                .key(field),
            format!(
                "Gateway {}/{} and Gateway {} configure one gateway workload (selector `{sel}`) with the same certificate ({cert}): browsers reuse one HTTP/2 connection for every host the certificate covers, and requests for a host of the other Gateway get 404",
                r.namespace,
                r.name,
                names.join(", ")
            ),
        )
        .help("give each Gateway its own certificate, or serve the hosts from one Gateway with one server")
        .istio(if istio { &["IST0138"] } else { &[] });
    }
}

impl Rule for GatewayDuplicateCertificate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        // certificate → (gateway, server index, field) using it
        let mut by_cert: BTreeMap<String, Vec<Use>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::Gateway(gw) = &r.spec else { continue };
            for (i, s) in gw.servers.iter().enumerate() {
                if let Some((cert, field)) = s.tls.as_ref().and_then(certificate) {
                    by_cert.entry(cert).or_default().push((id, i, field));
                }
            }
        }
        let selector = |id: ResId| match &store.get(id).spec {
            Spec::Gateway(g) => g.selector.clone(),
            _ => BTreeMap::new(),
        };
        for (cert, uses) in &by_cert {
            // Gateways with equal selectors are compared once per pair of distinct selectors.
            let mut by_selector: BTreeMap<BTreeMap<String, String>, Vec<Use>> = BTreeMap::new();
            for &u in uses {
                by_selector.entry(selector(u.0)).or_default().push(u);
            }
            for (sa, group) in &by_selector {
                // Every Gateway sharing a workload with this selector's, and whether one of them
                // has a selector this one is contained in (the side istioctl reports).
                let mut peers: BTreeSet<ResId> = BTreeSet::new();
                let mut contained = false;
                let gateways = |g: &[Use]| g.iter().map(|u| u.0).collect::<BTreeSet<ResId>>().len();
                for (sb, other) in &by_selector {
                    if within(sa, sb) || within(sb, sa) {
                        peers.extend(other.iter().map(|u| u.0));
                        // Equal selectors count only between two Gateways.
                        contained |= within(sa, sb) && (sa != sb || gateways(other) > 1);
                    }
                }
                let mut seen = BTreeSet::new();
                for &(id, server, field) in group {
                    if !seen.insert(id) || peers.iter().all(|&p| p == id) {
                        continue;
                    }
                    self.report(cx, id, (cert, server, field), &peers, contained);
                }
            }
        }
    }
}
