//! MESH601 short-hostname: host names that are not fully qualified, with how istiod treats them
//! (`ResolveShortnameToFQDN` for VirtualService and DestinationRule hosts; taken literally in
//! Sidecar egress, ServiceEntry and Gateway hosts; partial names never expanded).

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource, Spec};
use crate::source::FieldPath;

use crate::mesh::hosts::{CLUSTER_DOMAIN, HostIndex, Viewers, fqdn, is_short};
use crate::mesh::routes;
use crate::rules::{Context, Rule, RuleMeta};

pub struct ShortHostname;

static META: RuleMeta = RuleMeta {
    code: "MESH601",
    name: "short-hostname",
    summary: "short or partially qualified host name in an Istio resource, and how istiod resolves it",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH601-short-hostname.md"),
};

/// How a field treats its hosts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Treatment {
    /// Expanded with the resource's namespace (VirtualService, DestinationRule).
    Expanded,
    /// Taken literally (Sidecar egress, ServiceEntry, Gateway).
    Literal,
}

/// `(name, namespace)` of a partially qualified Kubernetes name: `name.ns` or `name.ns.svc`.
fn partial(host: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name, ns] | [name, ns, "svc"] if !name.is_empty() && !ns.is_empty() => Some((name, ns)),
        _ => None,
    }
}

struct Occurrence {
    path: FieldPath,
    host: String,
    treatment: Treatment,
    what: &'static str,
}

fn occurrences(res: &Resource) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let mut push = |path: FieldPath, host: &str, treatment, what| {
        out.push(Occurrence {
            path,
            host: host.to_string(),
            treatment,
            what,
        })
    };
    match &res.spec {
        Spec::VirtualService(vs) => {
            for (k, h) in vs.hosts.iter().enumerate() {
                push(
                    FieldPath::parse("spec.hosts").index(k),
                    h,
                    Treatment::Expanded,
                    "VirtualService host",
                );
            }
            for d in routes::route_destinations(res) {
                if !d.host.is_empty() {
                    push(
                        d.host_path(),
                        &d.host,
                        Treatment::Expanded,
                        if d.mirror {
                            "mirror host"
                        } else {
                            "destination host"
                        },
                    );
                }
            }
        }
        Spec::DestinationRule(dr) => push(
            FieldPath::parse("spec.host"),
            &dr.host,
            Treatment::Expanded,
            "DestinationRule host",
        ),
        Spec::Sidecar(sc) => {
            for (i, l) in sc.egress.iter().enumerate() {
                for (j, h) in l.hosts.iter().enumerate() {
                    let host = h.split_once('/').map_or(h.as_str(), |(_, h)| h);
                    push(
                        FieldPath::parse("spec.egress")
                            .index(i)
                            .key("hosts")
                            .index(j),
                        host,
                        Treatment::Literal,
                        "Sidecar egress host",
                    );
                }
            }
        }
        Spec::ServiceEntry(se) => {
            for (k, h) in se.hosts.iter().enumerate() {
                push(
                    FieldPath::parse("spec.hosts").index(k),
                    h,
                    Treatment::Literal,
                    "ServiceEntry host",
                );
            }
        }
        Spec::Gateway(gw) => {
            for (i, s) in gw.servers.iter().enumerate() {
                for (k, h) in s.hosts.iter().enumerate() {
                    let host = h.split_once('/').map_or(h.as_str(), |(_, h)| h);
                    push(
                        FieldPath::parse("spec.servers")
                            .index(i)
                            .key("hosts")
                            .index(k),
                        host,
                        Treatment::Literal,
                        "Gateway host",
                    );
                }
            }
        }
        _ => {}
    }
    out
}

impl Rule for ShortHostname {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let hosts = &cx.index.hosts;
        for (id, res) in store.iter() {
            // One finding per resource and name, at its first occurrence.
            let mut seen: BTreeMap<String, (Occurrence, usize)> = BTreeMap::new();
            for o in occurrences(res) {
                let short = is_short(&o.host);
                let partial_hit =
                    !short && partial(&o.host).is_some() && hosts.declaring(&o.host).is_empty();
                if !short && !partial_hit {
                    continue;
                }
                seen.entry(o.host.to_ascii_lowercase())
                    .and_modify(|(_, n)| *n += 1)
                    .or_insert((o, 1));
            }
            for (_, (o, count)) in seen {
                report(cx, hosts, id, res, &o, count);
            }
        }
    }
}

fn report(
    cx: &mut Context<'_>,
    hosts: &HostIndex,
    id: ResId,
    res: &Resource,
    o: &Occurrence,
    count: usize,
) {
    let ns = res.namespace.as_str();
    let more = if count > 1 {
        format!(" (used {count} times in this resource)")
    } else {
        String::new()
    };
    if let Some((name, pns)) = partial(&o.host).filter(|_| !is_short(&o.host)) {
        let full = format!("{name}.{pns}.{CLUSTER_DOMAIN}");
        if hosts.declaring(&full).is_empty() {
            return;
        }
        cx.report(
            id,
            o.path.clone(),
            format!(
                "{} `{}`{more} is partially qualified: istiod only expands names without dots, so it is taken literally and matches nothing, while Service {pns}/{name} is `{full}`",
                o.what, o.host
            ),
        )
        .severity(Severity::Warning)
        .help(format!("write `{full}`"));
        return;
    }
    let elsewhere: Vec<String> = hosts
        .services_named(&o.host)
        .iter()
        .map(|e| e.namespace.clone())
        .collect();
    if o.treatment == Treatment::Literal {
        let meant = elsewhere
            .first()
            .map(|n| format!("`{}.{n}.{CLUSTER_DOMAIN}`", o.host))
            .unwrap_or_else(|| format!("`{}.<namespace>.{CLUSTER_DOMAIN}`", o.host));
        let consequence = match o.what {
            "ServiceEntry host" => {
                "the ServiceEntry declares the literal name, which no Kubernetes DNS search path produces and no expanded VirtualService host equals"
            }
            "Gateway host" => {
                "VirtualService hosts are expanded to FQDNs before they are matched against it, so no short VirtualService host ever equals it"
            }
            _ => "Kubernetes Services are known by their FQDN, so this entry imports nothing",
        };
        cx.report(
            id,
            o.path.clone(),
            format!(
                "{} `{}`{more} is a short name and istiod takes it literally here (no namespace expansion): {consequence}",
                o.what, o.host
            ),
        )
        .severity(Severity::Warning)
        .help(format!("write the fully qualified name, e.g. {meant}"));
        return;
    }
    let full = fqdn(&o.host, ns);
    let here = hosts
        .resolve(&full, &Viewers::of(&[], ns))
        .into_iter()
        .find(|e| !e.is_wildcard())
        .map(|e| e.label(cx.store));
    let mut message = format!(
        "{} `{}`{more} is a short name: istiod expands it with this resource's namespace to `{full}`",
        o.what, o.host
    );
    match &here {
        Some(owner) => message.push_str(&format!(" ({owner})")),
        None => {
            let others: Vec<&String> = elsewhere.iter().filter(|n| n.as_str() != ns).collect();
            match others.as_slice() {
                [] => message.push_str(", which nothing in the input declares"),
                [one] => message.push_str(&format!(
                    ", but Service `{}` is in namespace {one}: the author likely meant `{}.{one}.{CLUSTER_DOMAIN}`",
                    o.host, o.host
                )),
                many => message.push_str(&format!(
                    ", but Services named `{}` are only in namespaces {}",
                    o.host,
                    many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }
    if !res.namespace_explicit {
        message.push_str(&format!(
            "; this resource sets no `metadata.namespace`, so the expansion depends on the namespace it is applied to ({ns} here)"
        ));
    } else if here.is_some() {
        message.push_str("; the meaning changes if the resource is applied to another namespace");
    }
    let target = match (&here, elsewhere.iter().find(|n| n.as_str() != ns)) {
        (None, Some(other)) => format!("{}.{other}.{CLUSTER_DOMAIN}", o.host),
        _ => full.clone(),
    };
    cx.report(id, o.path.clone(), message)
        .help(format!("write `{target}`"));
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH601", text)
    }

    #[test]
    fn one_finding_per_name_and_resource_with_context() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    mirror: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: w, namespace: shop}
spec:
  hosts: [reviews, 10.0.0.1, '*']
  http:
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: s, namespace: shop}
spec: {hosts: [legacy], ports: [{number: 80, name: http, protocol: HTTP}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['./reviews']}]
";
        let f = run(text);
        let got: Vec<(String, u32, Severity)> = f
            .iter()
            .map(|f| (f.resource.name.clone(), f.location.line, f.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                ("v".into(), 10, Severity::Info),
                ("w".into(), 19, Severity::Info),
                ("s".into(), 26, Severity::Warning),
                ("g".into(), 33, Severity::Warning),
            ],
            "{f:#?}"
        );
        assert!(f[0].message.contains("used 3 times"), "{}", f[0].message);
        assert!(
            f[0].message
                .contains("likely meant `reviews.shop.svc.cluster.local`"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("no `metadata.namespace`"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.contains("(Service shop/reviews)"),
            "{}",
            f[1].message
        );
    }
}
