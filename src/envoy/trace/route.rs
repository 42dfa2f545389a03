//! HTTP routing: route configuration (RDS or inline), virtual host, route, route action.

use super::{Outcome, Passed, Walk, outcome};
use crate::envoy::model::{
    Filter, FilterChain, Route, RouteConfiguration, RouteMatch, VirtualHost,
};

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once("]:")
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

/// Selects the virtual host for `host` (exact, suffix wildcard, prefix wildcard, `*`).
pub fn select_virtual_host(rc: &RouteConfiguration, host: &str) -> Option<(usize, String)> {
    let host = if rc.ignore_port_in_host_matching == Some(true) {
        strip_port(host)
    } else {
        host
    };
    let h = host.to_ascii_lowercase();
    let domains = || {
        rc.virtual_hosts
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.domains.iter().map(move |d| (i, d.to_ascii_lowercase())))
    };
    if let Some((i, d)) = domains().find(|(_, d)| *d == h) {
        return Some((i, format!("exact domain {d}")));
    }
    let suffix = domains()
        .filter(|(_, d)| d.len() > 1 && d.starts_with('*'))
        .filter(|(_, d)| h.len() > d.len() - 1 && h.ends_with(&d[1..]))
        .max_by_key(|(_, d)| d.len());
    if let Some((i, d)) = suffix {
        return Some((i, format!("suffix wildcard {d}")));
    }
    let prefix = domains()
        .filter(|(_, d)| d.len() > 1 && d.ends_with('*'))
        .filter(|(_, d)| h.len() > d.len() - 1 && h.starts_with(&d[..d.len() - 1]))
        .max_by_key(|(_, d)| d.len());
    if let Some((i, d)) = prefix {
        return Some((i, format!("prefix wildcard {d}")));
    }
    domains()
        .find(|(_, d)| d == "*")
        .map(|(i, _)| (i, "the catch-all domain *".to_string()))
}

/// The first route a plain `GET /` satisfies, and the routes before it with why they do not.
fn first_route(vh: &VirtualHost) -> (Option<(usize, String)>, Vec<Passed>) {
    let mut passed = Vec::new();
    for (ri, r) in vh.routes.iter().enumerate() {
        let label = r
            .name
            .clone()
            .unwrap_or_else(|| format!("route {}", ri + 1));
        match misses_root(&r.matcher.clone().unwrap_or_default()) {
            Some(reason) => passed.push(Passed {
                candidate: label,
                reason,
            }),
            None => return (Some((ri, label)), passed),
        }
    }
    (None, passed)
}

/// Why a route match does not take `GET /` (None: it does). Header and query matches are not
/// evaluated: the simulated request carries neither.
fn misses_root(m: &RouteMatch) -> Option<String> {
    if !m.headers.is_empty() {
        Some("matches on headers".to_string())
    } else if !m.query_parameters.is_empty() {
        Some("matches on query parameters".to_string())
    } else if let Some(p) = &m.prefix {
        (!"/".starts_with(p.as_str())).then(|| format!("prefix {p} does not match /"))
    } else if let Some(p) = &m.path {
        (p != "/").then(|| format!("path {p} is not /"))
    } else if let Some(p) = &m.path_separated_prefix {
        (p != "/").then(|| format!("path_separated_prefix {p} does not match /"))
    } else if let Some(re) = m.safe_regex.as_ref().and_then(|r| r.regex.as_deref()) {
        (!matches!(re, ".*" | "/.*" | "^/.*" | ".+"))
            .then(|| format!("regex {re} (not evaluated; assuming no match)"))
    } else {
        None
    }
}

impl<'d> Walk<'d> {
    /// Follows an HTTP connection manager: route configuration, virtual host, route.
    pub(super) fn http(
        &mut self,
        chain: &FilterChain,
        filter: usize,
        rds: Option<&str>,
        chain_ptr: &str,
    ) -> Outcome {
        let f = &chain.filters[filter];
        let ptr = format!("{chain_ptr}/filters/{filter}");
        let s = self.step("filter", format!("{} (HTTP connection manager)", f.name()));
        s.pointer = Some(ptr.clone());
        let (rc, rc_ptr, rc_label) = match self.route_config(chain, f, rds, &ptr) {
            Ok(found) => found,
            Err(out) => return out,
        };
        let conn = self.conn;
        let s = self.step("route_config", rc_label);
        s.pointer = rc_ptr.clone();
        let host = conn.host.clone().unwrap_or_else(|| {
            s.notes.push(format!(
                "no --host given: using {} as the Host header",
                conn.dest_text()
            ));
            conn.dest_text()
        });
        let Some((vi, why)) = select_virtual_host(rc, &host) else {
            let s = self.step("virtual_host", "(none)".into());
            s.notes.push(format!(
                "no virtual host matches Host {host}: Envoy answers 404 (NR)"
            ));
            return outcome(
                "direct_response",
                Vec::new(),
                format!("404: no virtual host for {host}"),
            );
        };
        let vh = &rc.virtual_hosts[vi];
        let vh_key = self.dump.key("virtual_hosts");
        let s = self.step(
            "virtual_host",
            vh.name.clone().unwrap_or_else(|| format!("#{vi}")),
        );
        s.pointer = rc_ptr.as_ref().map(|p| format!("{p}/{vh_key}/{vi}"));
        s.notes.push(format!("Host {host}: {why}"));
        self.route(vh)
    }

    /// The route configuration (RDS from the dump, or inline) with its pointer and label; Err
    /// ends the walk when there is none.
    fn route_config<'c>(
        &mut self,
        chain: &'c FilterChain,
        f: &Filter,
        rds: Option<&str>,
        ptr: &str,
    ) -> Result<(&'c RouteConfiguration, Option<String>, String), Outcome>
    where
        'd: 'c,
    {
        let why = match rds {
            Some(name) => match self.dump.route(name) {
                Some(r) => {
                    let label = format!("RDS route \"{name}\"");
                    return Ok((&r.route, Some(r.pointer.clone()), label));
                }
                None if self.dump.sections.routes => {
                    format!("route config \"{name}\" is not in the dump")
                }
                None => format!("route config \"{name}\": the dump has no routes section"),
            },
            None => match chain.inline_routes() {
                Some(rc) => {
                    let key = self.dump.key("route_config");
                    let rc_ptr = format!("{ptr}/{}/{key}", f.conf_key());
                    let label = format!("inline route config {}", rc.name());
                    return Ok((rc, Some(rc_ptr), label));
                }
                None => "the HTTP connection manager has neither RDS nor inline routes (scoped routes are not simulated)".to_string(),
            },
        };
        let chosen = rds.map_or_else(|| "(none)".to_string(), str::to_string);
        self.step("route_config", chosen).notes.push(why.clone());
        Err(outcome("unresolved", Vec::new(), why))
    }

    /// Picks the route for `GET /` and follows its action.
    fn route(&mut self, vh: &VirtualHost) -> Outcome {
        let (chosen, passed) = first_route(vh);
        let Some((ri, label)) = chosen else {
            let s = self.step("route", "(none)".into());
            s.passed_over = passed;
            s.notes
                .push("no route matches GET /: Envoy answers 404 (NR)".into());
            return outcome("direct_response", Vec::new(), "404: no route".into());
        };
        let s = self.step("route", label);
        s.passed_over = passed;
        s.notes.push("first route a GET / satisfies".into());
        self.route_action(&vh.routes[ri])
    }

    fn route_action(&mut self, r: &Route) -> Outcome {
        if let Some(a) = &r.route {
            if let Some(c) = &a.cluster {
                return self.clusters_outcome(&[(c.clone(), None)]);
            }
            if let Some(w) = &a.weighted_clusters {
                let names: Vec<(String, Option<u32>)> = w
                    .clusters
                    .iter()
                    .filter_map(|c| c.name.clone().map(|n| (n, c.weight)))
                    .collect();
                return self.clusters_outcome(&names);
            }
            if let Some(h) = &a.cluster_header {
                return outcome(
                    "unresolved",
                    Vec::new(),
                    format!("the cluster is taken from request header {h}"),
                );
            }
        }
        if r.redirect.is_some() {
            return outcome(
                "redirect",
                Vec::new(),
                "the route answers with a redirect".into(),
            );
        }
        if let Some(d) = &r.direct_response {
            return outcome(
                "direct_response",
                Vec::new(),
                format!(
                    "the route answers directly with status {}",
                    d.status.unwrap_or(0)
                ),
            );
        }
        outcome("unresolved", Vec::new(), "the route has no action".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(domains: &[&[&str]], ignore_port: bool) -> RouteConfiguration {
        RouteConfiguration {
            name: Some("r".into()),
            virtual_hosts: domains
                .iter()
                .map(|d| VirtualHost {
                    domains: d.iter().map(|s| s.to_string()).collect(),
                    ..VirtualHost::default()
                })
                .collect(),
            ignore_port_in_host_matching: Some(ignore_port),
        }
    }

    #[test]
    fn virtual_hosts_in_envoys_order() {
        let r = rc(
            &[
                &["*"],
                &["api.*"],
                &["*.example.com"],
                &["*.b.example.com"],
                &["a.example.com"],
            ],
            true,
        );
        let pick = |h: &str| select_virtual_host(&r, h).map(|(i, _)| i);
        assert_eq!(pick("a.example.com:8080"), Some(4));
        assert_eq!(pick("x.b.example.com"), Some(3));
        assert_eq!(pick("x.example.com"), Some(2));
        assert_eq!(pick("api.example.org"), Some(1));
        assert_eq!(pick("other"), Some(0));
        // A wildcard does not match the empty string.
        assert_eq!(pick(".example.com"), Some(0));
        // Without ignore_port_in_host_matching, `host:port` must be listed literally.
        let strict = rc(&[&["a.example.com"]], false);
        assert!(select_virtual_host(&strict, "a.example.com:80").is_none());
    }
}
