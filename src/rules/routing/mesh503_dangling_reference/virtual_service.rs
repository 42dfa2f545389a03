//! VirtualService references: destination and mirror hosts, their subsets, and the gateways a
//! VirtualService or one of its matches binds to.

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource, Spec};
use crate::source::{FieldPath, Node};

use crate::mesh::destination_rules::{DrEntry, effective_drs};
use crate::mesh::hosts::{Viewers, fqdn, is_short, k8s_service_of};
use crate::mesh::routes;
use crate::model::raw::{raw, raw_strings};

use super::{Checker, DESTINATION_HOST, GATEWAY, MIRROR_HOST, RoutedSubsets, SUBSET, partial};

impl<'a> Checker<'a, '_> {
    pub(super) fn virtual_service(&mut self, id: ResId, res: &'a Resource) {
        let Spec::VirtualService(vs) = &res.spec else {
            return;
        };
        let ns = res.namespace.as_str();
        let viewers = Viewers::of(&vs.export_to, ns);
        for d in routes::route_destinations(res) {
            let what = if d.mirror {
                MIRROR_HOST
            } else {
                DESTINATION_HOST
            };
            if d.host.is_empty() {
                self.cx
                    .report(
                        id,
                        d.host_path(),
                        format!(
                            "{what} is missing: this {} names no host, so istiod has no cluster to send its share of the traffic to",
                            d.what()
                        ),
                    )
                    .subkind(host_subkind(&d))
                    .istio(&["IST0101"])
                    .help("set `host` to a Service (`reviews` or `reviews.<ns>.svc.cluster.local`) or a ServiceEntry host, or remove the entry");
            } else {
                self.destination_host(id, ns, &viewers, &vs.hosts, &d, what);
            }
            if let Some(subset) = &d.subset {
                self.subset(id, ns, &viewers, &d, subset);
            }
        }
        for (i, g) in vs.gateways.iter().enumerate() {
            self.gateway_ref(id, ns, g, FieldPath::parse("spec.gateways").index(i), true);
        }
        // Per-match gateways narrow a rule to some of the bound gateways; istio does not check
        // them, so these findings carry no istio code.
        for section in ["http", "tcp", "tls"] {
            let Some(rules) = raw(res, &format!("spec.{section}")).and_then(Node::as_seq) else {
                continue;
            };
            for (i, rule) in rules.iter().enumerate() {
                let Some(matches) = rule.get("match").and_then(Node::as_seq) else {
                    continue;
                };
                for (j, m) in matches.iter().enumerate() {
                    for (k, g) in raw_strings(m.get("gateways")) {
                        let path = FieldPath::parse("spec")
                            .key(section)
                            .index(i)
                            .key("match")
                            .index(j)
                            .key("gateways")
                            .index(k);
                        self.gateway_ref(id, ns, &g, path, false);
                    }
                }
            }
        }
    }

    fn destination_host(
        &mut self,
        id: ResId,
        ns: &str,
        viewers: &Viewers,
        own_hosts: &[String],
        d: &routes::RouteDest,
        what: &str,
    ) {
        let host = fqdn(&d.host, ns);
        if !self.hosts.resolve(&host, viewers).is_empty() {
            return;
        }
        let expanded = if host != d.host {
            format!(" (istiod expands `{}` to `{host}`)", d.host)
        } else {
            String::new()
        };
        let declared = self.hosts.declaring(&host);
        if let Some(first) = declared.first() {
            let owner = first.label(self.store());
            let by = if first.is_wildcard() && !first.host.eq_ignore_ascii_case(&host) {
                format!(
                    "is only covered by wildcard host `{}` of {owner}",
                    first.host
                )
            } else {
                format!("is declared by {owner}")
            };
            let message = format!(
                "{what} `{}`{expanded} {by}, but its exportTo ({}) hides it from {} where this VirtualService applies, so istiod drops the route there",
                d.host,
                first.export.describe(),
                viewers.describe()
            );
            let (res, path) = (first.resource, first.path.clone());
            self.cx
                .report(id, d.host_path(), message)
                .subkind(host_subkind(d))
                .istio(&["IST0101"])
                .help(format!(
                    "export {owner} to the VirtualService's namespace (`exportTo` or the `networking.istio.io/exportTo` annotation), or move the VirtualService"
                ))
                .related(res, path, "declared here");
            return;
        }
        // istiod merges the Services of a multi-cluster mesh: another cluster's declares it.
        if let Some(&(peer, service)) =
            k8s_service_of(&host).and_then(|(name, sns)| self.peer_services.get(&(sns, name)))
        {
            let cluster = self.cx.peers[peer].name;
            let message = format!(
                "{what} `{}`{expanded} is not declared in this cluster, but {} of cluster `{cluster}` declares it: istiod merges the Services of the clusters it reads, so requests reach that cluster's endpoints (as long as this cluster's istiod has a remote secret for `{cluster}`)",
                d.host,
                crate::model::raw::label(self.cx.peers[peer].store, service),
            );
            self.cx
                .report(id, d.host_path(), message)
                .subkind(host_subkind(d))
                .severity(Severity::Info)
                .istio(&["IST0101"])
                .related_peer(peer, service, FieldPath::parse("metadata.name"), "declared in that cluster")
                .help(format!("nothing to do if the clusters form one mesh; otherwise add the Service for `{host}` to this cluster"));
            return;
        }
        let missing = k8s_service_of(&host).and_then(|(_, n)| self.missing_services(n));
        let suggestion = self.hosts.suggest(&host, ns).map(|s| {
            // Suggest in the form the author used: a short name for a short name.
            match k8s_service_of(&s) {
                Some((name, sns)) if is_short(&d.host) && sns == ns => name.to_string(),
                _ => s,
            }
        });
        let unmodelled = self
            .unmodelled
            .reason(self.store(), &host, ns, suggestion.is_some());
        // A VirtualService that routes a Kubernetes Service's host to that host is written for
        // a Service its author knows exists: created outside the input (`istioctl x
        // add-to-mesh`, another repository), unless a declared host close to it suggests a
        // typo. An external host routed to itself keeps its severity: a missing ServiceEntry
        // is a common mistake there.
        let routes_itself = suggestion.is_none()
            && k8s_service_of(&host).is_some()
            && own_hosts
                .iter()
                .any(|h| fqdn(h, ns).eq_ignore_ascii_case(&host));
        let mut message = format!(
            "{what} `{}`{expanded} is not declared by any Service or ServiceEntry in the input",
            d.host
        );
        if let Some(s) = &suggestion {
            message.push_str(&format!(" (did you mean `{s}`?)"));
        }
        if let Some(m) = &missing {
            message.push_str(&format!("; {m}, so it may be deployed from elsewhere"));
        }
        if let Some(u) = &unmodelled {
            message.push_str(&format!(
                "; it may be declared by something meshlint does not read: {u}"
            ));
        }
        if routes_itself && missing.is_none() && unmodelled.is_none() {
            message.push_str(
                "; this VirtualService routes its own host there, so the Service is probably created outside the input; if it is not, requests routed here fail with 503 (no cluster)",
            );
        } else if missing.is_none() && unmodelled.is_none() {
            message.push_str("; requests routed here fail with 503 (no cluster)");
        }
        let help = match &suggestion {
            Some(s) => format!("use `{s}`, or add the Service or ServiceEntry for `{host}`"),
            None => format!(
                "add a Service or ServiceEntry for `{host}`, or fix the host (short names are resolved in the VirtualService's namespace)"
            ),
        };
        self.cx
            .report(id, d.host_path(), message)
            .subkind(host_subkind(d))
            .severity(partial(
                missing.is_none() && unmodelled.is_none() && !routes_itself,
            ))
            .istio(&["IST0101"])
            .help(help);
    }

    /// The DestinationRules istiod applies to `host` (an FQDN) for a VirtualService in `ns`.
    fn applied_drs(&self, host: &str, ns: &str, viewers: &Viewers) -> Vec<&DrEntry> {
        let host_ns: Option<String> =
            k8s_service_of(host)
                .map(|(_, n)| n.to_string())
                .or_else(|| {
                    self.hosts
                        .resolve(host, viewers)
                        .first()
                        .map(|e| e.namespace.clone())
                });
        effective_drs(self.drs, host, ns, host_ns.as_deref(), &self.root_ns)
    }

    /// The first route of a VirtualService to each (DestinationRule, subset) the rule defines,
    /// so a subset's check can tell whether traffic is sent to it. Mirrors are left out: their
    /// responses are discarded.
    pub(super) fn routed_subsets(&self) -> RoutedSubsets {
        let mut out = RoutedSubsets::new();
        for (id, res) in self.store().iter() {
            let Spec::VirtualService(vs) = &res.spec else {
                continue;
            };
            let ns = res.namespace.as_str();
            let viewers = Viewers::of(&vs.export_to, ns);
            for d in routes::route_destinations(res) {
                let Some(subset) = d.subset.as_ref().filter(|_| !d.mirror) else {
                    continue;
                };
                for e in self.applied_drs(&fqdn(&d.host, ns), ns, &viewers) {
                    if e.subsets.contains(subset) {
                        out.entry((e.id, subset.clone()))
                            .or_insert_with(|| (id, d.path.clone().key("subset")));
                    }
                }
            }
        }
        out
    }

    fn subset(
        &mut self,
        id: ResId,
        ns: &str,
        viewers: &Viewers,
        d: &routes::RouteDest,
        subset: &str,
    ) {
        let host = fqdn(&d.host, ns);
        let chosen = self.applied_drs(&host, ns, viewers);
        if chosen.iter().any(|e| e.subsets.iter().any(|s| s == subset)) {
            return;
        }
        if self.hosts.declaring(&host).is_empty() && self.drs.for_host(&host).is_empty() {
            // The unknown host is reported already; its subset adds nothing.
            return;
        }
        let path = d.path.clone().key("subset");
        if chosen.is_empty() {
            let elsewhere: Vec<&DrEntry> = self
                .drs
                .for_host(&host)
                .into_iter()
                .filter(|e| e.subsets.iter().any(|s| s == subset))
                .collect();
            let mut message = format!(
                "{SUBSET} `{subset}` of `{host}`: no DestinationRule that applies in namespace {ns} defines subsets for this host, so istiod has no `outbound|...|{subset}|{host}` cluster and requests routed here fail with 503"
            );
            let mut related = None;
            if let Some(e) = elsewhere.first() {
                let r = self.store().get(e.id);
                message.push_str(&format!(
                    " (DestinationRule {}/{} defines it, but istiod only uses DestinationRules from the client's namespace, the host's namespace or the root namespace {}, exported to {ns})",
                    r.namespace, r.name, self.root_ns
                ));
                related = Some(e.id);
            }
            let rep = self
                .cx
                .report(id, path, message)
                .subkind("subset")
                .kiali(&["KIA1107"])
                .istio(&["IST0101"])
                .help(format!(
                    "add a DestinationRule for `{host}` with a subset `{subset}` (labels selecting those pods), or drop `subset`"
                ));
            if let Some(r) = related {
                rep.related(r, FieldPath::parse("spec.subsets"), "defines the subset");
            }
            return;
        }
        let defined: Vec<&str> = chosen
            .iter()
            .flat_map(|e| e.subsets.iter().map(String::as_str))
            .collect();
        let names: Vec<String> = chosen
            .iter()
            .map(|e| {
                let r = self.store().get(e.id);
                format!("{}/{}", r.namespace, r.name)
            })
            .collect();
        let suggestion = defined
            .iter()
            .map(|s| (strsim::damerau_levenshtein(s, subset), *s))
            .filter(|(dist, s)| *dist <= 2 && s.len().min(subset.len()) >= 4)
            .min()
            .map(|(_, s)| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let message = format!(
            "{SUBSET} `{subset}` of `{host}` is not defined by DestinationRule {}, the one istiod applies for this host in namespace {ns} (it defines {}){suggestion}; requests routed here fail with 503",
            names.join(", "),
            if defined.is_empty() {
                "no subsets".to_string()
            } else {
                defined.join(", ")
            }
        );
        let first = chosen[0].id;
        if let Some(copy) = self.replaced_copy_defining(chosen.iter().map(|e| e.id), subset) {
            // Only the input's file order made the other copy win: alternatives kept side by
            // side, most likely, rather than a route to a subset that never exists.
            let r = self.store().get(copy);
            self.cx
                .report(
                    id,
                    path,
                    format!(
                        "{message}; an earlier definition of DestinationRule {}/{} in the input defines it, but a later one replaces it (as `kubectl apply` of the whole input would)",
                        r.namespace, r.name
                    ),
                )
                .subkind("subset")
                .kiali(&["KIA1107"])
                .severity(Severity::Info)
                .istio(&["IST0101"])
                .help("if the files are alternatives applied one at a time, check each set on its own; otherwise keep one definition of the DestinationRule, with the subset")
                .related(copy, FieldPath::parse("spec.subsets"), "the replaced definition with the subset");
            return;
        }
        self.cx
            .report(id, path, message)
            .subkind("subset")
            .kiali(&["KIA1107"])
            .severity(Severity::Error)
            .istio(&["IST0101"])
            .help(format!(
                "add subset `{subset}` to that DestinationRule, or route to a defined subset"
            ))
            .related(
                first,
                FieldPath::parse("spec.subsets"),
                "the subsets istiod knows",
            );
    }

    /// A replaced copy (an earlier document of the same object) of one of `drs` that defines
    /// `subset`.
    fn replaced_copy_defining(
        &self,
        drs: impl Iterator<Item = ResId>,
        subset: &str,
    ) -> Option<ResId> {
        let store = self.store();
        drs.flat_map(|dr| store.copies.get(&dr).into_iter().flatten().copied())
            .find(|&copy| match &store.get(copy).spec {
                Spec::DestinationRule(dr) => dr.subsets.iter().any(|s| s.name == subset),
                _ => false,
            })
    }

    fn gateway_ref(&mut self, id: ResId, ns: &str, g: &str, path: FieldPath, top: bool) {
        if g == "mesh" {
            return;
        }
        if routes::is_internal_gateway_ref(g) {
            self.cx
                .report(
                    id,
                    path,
                    format!(
                        "{GATEWAY} `{g}` is the internal name istiod generates for a Kubernetes Gateway API listener; it is not a stable API and changes when the Gateway or listener is renamed"
                    ),
                )
                .subkind("gateway")
                .kiali(&["KIA1102"])
                .istio(if top { &["IST0165"] } else { &[] })
                .help("bind to the Gateway API Gateway by its own name (`ns/name`), or use an HTTPRoute/TCPRoute attached to it");
            return;
        }
        let (gns, gname) = routes::resolve_gateway_ref(g, ns);
        if self.gateways.contains(&(gns.clone(), gname.clone())) {
            return;
        }
        let present = self.gateway_namespaces.contains(&gns);
        let candidates: Vec<&(String, String)> = self
            .gateways
            .iter()
            .take(if self.gateways.len() <= 2000 {
                usize::MAX
            } else {
                0
            })
            .filter(|(n, name)| {
                *n == gns && strsim::damerau_levenshtein(name, &gname) <= 2
                    || (*n != gns && *name == gname)
            })
            .collect();
        let hint = match candidates.first() {
            Some((n, name)) if *n == ns => format!(" (did you mean `{name}`?)"),
            Some((n, name)) => format!(" (did you mean `{n}/{name}`?)"),
            None => String::new(),
        };
        let mut message =
            format!("{GATEWAY} `{g}` (Gateway {gns}/{gname}) is not in the input{hint}");
        if present || gns == ns {
            message.push_str(if top {
                "; istiod ignores the binding, so no gateway serves this VirtualService's routes"
            } else {
                "; this match never applies"
            });
        } else {
            message.push_str(&format!(
                "; namespace {gns} has no Gateways in the input, so it may be deployed from elsewhere"
            ));
        }
        let codes: &'static [&'static str] = if top { &["IST0101", "IST0132"] } else { &[] };
        self.cx
            .report(id, path, message)
            .subkind("gateway")
                .kiali(&["KIA1102"])
            .severity(partial(present || gns == ns))
            .istio(codes)
            .help("name an existing Gateway as `name` (same namespace) or `namespace/name`, or `mesh` for sidecars");
    }
}

/// The sub-kind of a finding about a route's host: its destination or its mirror.
fn host_subkind(d: &routes::RouteDest) -> &'static str {
    if d.mirror {
        "mirror-host"
    } else {
        "destination-host"
    }
}
