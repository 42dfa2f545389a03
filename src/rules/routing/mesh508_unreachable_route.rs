//! MESH508 unreachable-route: VirtualService rules and matches that earlier ones make dead
//! (istio's IST0130 and IST0131).
//!
//! Matches are compared as JSON without `name`. Coverage uses the full semantics of each match
//! field; a finding carries istio's code only when istio's own (narrower) check reports it too.

use serde_json::{Map, Value as J};

use crate::diagnostic::Severity;
use crate::model::Spec;
use crate::source::{FieldPath, Node, Value};

use crate::mesh::hosts::hosts_match;
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnreachableRoute;

static META: RuleMeta = RuleMeta {
    code: "MESH508",
    name: "unreachable-route",
    summary: "VirtualService rule or match that an earlier rule or match makes unreachable",
    severity: Severity::Warning,
    istio_codes: &["IST0130", "IST0131"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH508-unreachable-route.md"),
};

/// A match with the `name` removed.
fn normalized(m: &J) -> Map<String, J> {
    let mut map = m.as_object().cloned().unwrap_or_default();
    map.remove("name");
    map
}

/// Whether string match `a` (`exact`/`prefix`/`regex`) accepts everything `b` accepts.
fn string_covers(a: &J, b: &J) -> bool {
    if a == b {
        return true;
    }
    let get = |v: &J, k: &str| v.get(k).and_then(J::as_str).map(str::to_string);
    match (get(a, "prefix"), get(a, "exact")) {
        (Some(p), _) => get(b, "prefix")
            .or_else(|| get(b, "exact"))
            .is_some_and(|s| s.starts_with(&p)),
        (None, Some(e)) => get(b, "exact").is_some_and(|s| s == e),
        // regex and anything else: only equal values are known to be covered.
        _ => false,
    }
}

/// Whether every request HTTP match `b` accepts is accepted by earlier match `a`.
fn http_covers(a: &Map<String, J>, b: &Map<String, J>) -> bool {
    let a_icase = a.get("ignoreUriCase").and_then(J::as_bool).unwrap_or(false);
    let b_icase = b.get("ignoreUriCase").and_then(J::as_bool).unwrap_or(false);
    if b_icase && !a_icase {
        return false;
    }
    a.iter().all(|(k, av)| match k.as_str() {
        "ignoreUriCase" => true,
        "uri" => b.get("uri").is_some_and(|bv| {
            if a_icase {
                let lower = |v: &J| {
                    serde_json::from_str::<J>(&v.to_string().to_ascii_lowercase())
                        .unwrap_or(J::Null)
                };
                string_covers(&lower(av), &lower(bv))
            } else {
                string_covers(av, bv)
            }
        }),
        "method" | "authority" | "scheme" => b.get(k).is_some_and(|bv| string_covers(av, bv)),
        "headers" | "queryParams" => {
            let (Some(am), Some(bm)) = (av.as_object(), b.get(k).and_then(J::as_object)) else {
                return av.as_object().is_some_and(Map::is_empty);
            };
            am.iter()
                .all(|(h, hv)| bm.get(h).is_some_and(|bv| string_covers(hv, bv)))
        }
        _ => b.get(k) == Some(av),
    })
}

/// Whether every connection L4 match `b` accepts is accepted by earlier match `a`.
fn l4_covers(a: &Map<String, J>, b: &Map<String, J>) -> bool {
    a.iter().all(|(k, av)| match k.as_str() {
        "sniHosts" => {
            let (Some(ah), Some(bh)) = (av.as_array(), b.get(k).and_then(J::as_array)) else {
                return false;
            };
            !bh.is_empty()
                && bh.iter().all(|h| {
                    let h = h.as_str().unwrap_or("");
                    ah.iter().any(|x| {
                        let x = x.as_str().unwrap_or("");
                        x == h || (x.starts_with('*') && hosts_match(x, h) && x.len() <= h.len())
                    })
                })
        }
        _ => b.get(k) == Some(av),
    })
}

/// The fields istio's overlap check compares, for a match with a URI prefix.
struct IstioOverlap {
    prefix: String,
    port: i64,
    method: String,
    authority: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    without: Vec<(String, String)>,
}

fn exact_or_prefix(v: Option<&J>) -> String {
    let v = v.unwrap_or(&J::Null);
    if let Some(e) = v.get("exact").and_then(J::as_str).filter(|s| !s.is_empty()) {
        format!("exact:{e}")
    } else if let Some(p) = v
        .get("prefix")
        .and_then(J::as_str)
        .filter(|s| !s.is_empty())
    {
        format!("prefix:{p}")
    } else {
        String::new()
    }
}

fn string_map(v: Option<&J>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .and_then(J::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), exact_or_prefix(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

impl IstioOverlap {
    fn of(m: &Map<String, J>) -> Option<Self> {
        let prefix = m
            .get("uri")?
            .get("prefix")
            .and_then(J::as_str)
            .filter(|p| !p.is_empty())?
            .to_string();
        let mut method = exact_or_prefix(m.get("method"));
        if method.is_empty() {
            method = "exact:GET".into();
        }
        Some(Self {
            prefix,
            port: m.get("port").and_then(J::as_i64).unwrap_or(0),
            method,
            authority: exact_or_prefix(m.get("authority")),
            headers: string_map(m.get("headers")),
            query: string_map(m.get("queryParams")),
            without: string_map(m.get("withoutHeaders")),
        })
    }

    /// istio's `coveredValidation(a, b)`.
    fn covers(&self, b: &IstioOverlap) -> bool {
        let maps = |a: &[(String, String)], b: &[(String, String)]| {
            a.len() == b.len()
                && a.iter().all(|(k, v)| {
                    b.iter()
                        .find(|(bk, _)| bk == k)
                        .is_some_and(|(_, bv)| v == bv || v.starts_with(bv.as_str()))
                })
        };
        b.prefix.starts_with(&self.prefix)
            && self.port == b.port
            && (self.method == b.method || self.method.starts_with(&b.method))
            && (self.authority == b.authority || self.authority.starts_with(&b.authority))
            && maps(&self.headers, &b.headers)
            && maps(&self.query, &b.query)
            && maps(&self.without, &b.without)
    }
}

/// Why a match is dead, and whether istio reports it (IST0131).
struct Dead {
    /// `match #1` or `match #1 ("name")`.
    what: String,
    /// "it repeats match #0 of rule #0", "it is covered by ...".
    why: String,
    duplicate: bool,
    istio: bool,
}

fn rule_name(section: &str, rule: &Node, i: usize) -> String {
    match rule.get("name").and_then(Node::as_str) {
        Some(n) if section == "http" && !n.is_empty() => format!("rule #{i} (\"{n}\")"),
        _ => format!("rule #{i}"),
    }
}

impl Rule for UnreachableRoute {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, res) in cx.store.iter() {
            if !matches!(res.spec, Spec::VirtualService(_)) {
                continue;
            }
            for section in ["http", "tcp", "tls"] {
                let Some(rules) = res
                    .node
                    .get("spec")
                    .and_then(|s| s.get(section))
                    .and_then(Node::as_seq)
                else {
                    continue;
                };
                let http = section == "http";
                // (rule, match, normalized) of live matches, in order.
                let mut seen: Vec<(usize, usize, Map<String, J>)> = Vec::new();
                // istio's overlap candidates: (rule, match, fields)
                let mut istio_seen: Vec<(usize, usize, IstioOverlap)> = Vec::new();
                let mut catch_all: Option<usize> = None;
                for (i, rule) in rules.iter().enumerate() {
                    let base = FieldPath::parse("spec").key(section).index(i);
                    let name = rule_name(section, rule, i);
                    let matches: Vec<J> = match rule.get("match").map(|m| &m.value) {
                        Some(Value::Seq(items)) => items.iter().map(Node::to_json).collect(),
                        _ => Vec::new(),
                    };
                    if let Some(c) = catch_all {
                        let cname = rule_name(section, &rules[c], c);
                        let reason = if matches.is_empty() {
                            format!(
                                "{cname} before it has no match either, and only the last rule may omit `match`"
                            )
                        } else {
                            format!("{cname} before it has no match and takes all traffic")
                        };
                        cx.report(id, base.clone(), format!("{name} is never used: {reason}"))
                            .istio(&["IST0130"])
                            .help("move the rule without `match` to the end, or give it a match");
                        if matches.is_empty() {
                            catch_all = Some(i);
                        }
                        continue;
                    }
                    if matches.is_empty() {
                        catch_all = Some(i);
                        continue;
                    }
                    let mut dead: Vec<(usize, Dead)> = Vec::new();
                    for (j, m) in matches.iter().enumerate() {
                        let norm = normalized(m);
                        let mname = match m.get("name").and_then(J::as_str) {
                            Some(n) if http && !n.is_empty() => format!("match #{j} (\"{n}\")"),
                            _ => format!("match #{j}"),
                        };
                        let earlier = |r: usize, k: usize| {
                            if r == i {
                                format!("match #{k} of the same rule")
                            } else {
                                format!("match #{k} of {}", rule_name(section, &rules[r], r))
                            }
                        };
                        if let Some((r, k, _)) = seen.iter().find(|(_, _, s)| *s == norm) {
                            dead.push((
                                j,
                                Dead {
                                    what: mname.clone(),
                                    why: format!("it repeats {}", earlier(*r, *k)),
                                    duplicate: true,
                                    istio: true,
                                },
                            ));
                            continue;
                        }
                        let overlap = if http { IstioOverlap::of(&norm) } else { None };
                        let covered = seen.iter().find(|(_, _, s)| {
                            if http {
                                http_covers(s, &norm)
                            } else {
                                l4_covers(s, &norm)
                            }
                        });
                        let istio_cover = overlap.as_ref().is_some_and(|o| {
                            istio_seen
                                .iter()
                                .any(|(_, _, a)| a.prefix != o.prefix && a.covers(o))
                        });
                        if let Some((r, k, _)) = covered {
                            dead.push((
                                j,
                                Dead {
                                    what: mname.clone(),
                                    why: format!(
                                        "it is covered by {}, which accepts everything it accepts",
                                        earlier(*r, *k)
                                    ),
                                    duplicate: false,
                                    istio: istio_cover,
                                },
                            ));
                        }
                        seen.push((i, j, norm));
                        if let Some(o) = overlap {
                            istio_seen.push((i, j, o));
                        }
                    }
                    if dead.is_empty() {
                        continue;
                    }
                    if dead.len() == matches.len() {
                        let all_dup = dead.iter().all(|(_, d)| d.duplicate);
                        let any_istio = dead.iter().any(|(_, d)| d.istio);
                        let codes: &'static [&'static str] = match (all_dup, any_istio) {
                            (true, _) => &["IST0130", "IST0131"],
                            (false, true) => &["IST0131"],
                            (false, false) => &[],
                        };
                        let reasons: Vec<String> = dead
                            .iter()
                            .map(|(_, d)| format!("{}: {}", d.what, d.why))
                            .collect();
                        cx.report(
                            id,
                            base.clone(),
                            format!(
                                "{name} is never used: every match is taken by an earlier one ({})",
                                reasons.join("; ")
                            ),
                        )
                        .istio(codes)
                        .help("move this rule before the rule that takes its traffic, make its matches more specific there, or remove it");
                        continue;
                    }
                    for (j, d) in dead {
                        cx.report(
                            id,
                            base.clone().key("match").index(j),
                            format!("{} of {name} is never used: {}", d.what, d.why),
                        )
                        .severity(Severity::Info)
                        .istio(if d.istio { &["IST0131"] } else { &[] })
                        .help("remove the match, or move it to a rule before the one that takes its traffic");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH508", text)
    }

    fn vs(body: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: v, namespace: default}}
spec:
  hosts: [v]
{body}"
        )
    }

    fn summary(f: &[Finding]) -> Vec<(u32, Severity, Vec<&'static str>)> {
        f.iter()
            .map(|f| (f.location.line, f.severity, f.istio_codes.clone()))
            .collect()
    }

    #[test]
    fn methods_are_compared_correctly() {
        // istio treats the method-less match as GET and would call it covered; it is not.
        let text = vs("  http:
  - match:
    - uri: {prefix: /a}
      method: {exact: GET}
    route: [{destination: {host: v}}]
  - match:
    - uri: {prefix: /a/b}
    - uri: {prefix: /a/c}
      method: {exact: GET}
    - uri: {prefix: /x}
    route: [{destination: {host: v}}]
");
        let f = run(&text);
        assert_eq!(
            summary(&f),
            vec![(13, Severity::Info, vec!["IST0131"])],
            "{f:#?}"
        );
    }

    #[test]
    fn an_empty_match_covers_everything_after_it() {
        let text = vs("  http:
  - match:
    - {}
    route: [{destination: {host: v}}]
  - match:
    - headers: {x: {exact: 'y'}}
    route: [{destination: {host: v}}]
");
        let f = run(&text);
        assert_eq!(summary(&f), vec![(10, Severity::Warning, vec![])], "{f:#?}");
    }

    #[test]
    fn sni_wildcards_and_case_insensitive_uris() {
        let text = vs("  tls:
  - match: [{port: 443, sniHosts: ['*.example.com']}]
    route: [{destination: {host: v}}]
  - match: [{port: 443, sniHosts: [a.example.com]}, {port: 443, sniHosts: [example.com]}]
    route: [{destination: {host: v}}]
  http:
  - match: [{uri: {prefix: /API}, ignoreUriCase: true}]
    route: [{destination: {host: v}}]
  - match: [{uri: {exact: /api/v1}}]
    route: [{destination: {host: v}}]
  - match: [{uri: {exact: /api/v1}, ignoreUriCase: true}, {uri: {prefix: /Apix}}]
    route: [{destination: {host: v}}]
");
        let f = run(&text);
        assert_eq!(
            summary(&f),
            vec![
                (9, Severity::Info, vec![]),
                (14, Severity::Warning, vec![]),
                (16, Severity::Warning, vec![]),
            ],
            "{f:#?}"
        );
    }
}
