//! MESH505 route-weights: destination weights that istiod rejects, ignores or reinterprets.
//!
//! Validation rejects all-zero splits and negative weights in every version; before Istio 1.15
//! (istio/istio#39544) it also rejected splits not summing to 100, after that weights are
//! relative. A single destination always gets all traffic, and zero-weight destinations next to
//! weighted ones get none.

use crate::diagnostic::Severity;
use crate::model::Spec;
use crate::source::{FieldPath, Node, Value};

use crate::rules::{Context, Rule, RuleMeta};

pub struct RouteWeights;

static META: RuleMeta = RuleMeta {
    code: "MESH505",
    name: "route-weights",
    summary: "route weights that do not sum to 100, all-zero splits, ignored or missing weights",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH505-route-weights.md"),
};

/// The first version whose validation accepts weights not summing to 100.
const RELATIVE_WEIGHTS: (u32, u32) = (1, 15);

/// A weight as written: `None` when absent; non-integers are left to schema validation.
fn weight(entry: &Node) -> Option<i64> {
    entry.get("weight").and_then(|w| match &w.value {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.parse().ok(),
        _ => None,
    })
}

fn percent(w: i64, sum: i64) -> String {
    let p = w as f64 * 100.0 / sum as f64;
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

impl Rule for RouteWeights {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let version = cx.settings.istio_version;
        let source = cx.settings.istio_version_source.clone();
        for (id, res) in store.iter() {
            if !matches!(res.spec, Spec::VirtualService(_)) {
                continue;
            }
            let spec = res.node.get("spec");
            for section in ["http", "tcp", "tls"] {
                let Some(rules) = spec.and_then(|s| s.get(section)).and_then(Node::as_seq) else {
                    continue;
                };
                for (i, rule) in rules.iter().enumerate() {
                    let Some(route) = rule.get("route").and_then(Node::as_seq) else {
                        continue;
                    };
                    let base = FieldPath::parse("spec").key(section).index(i).key("route");
                    let weights: Vec<Option<i64>> = route.iter().map(weight).collect();
                    let at = |j: usize, field: &str| {
                        let p = base.clone().index(j);
                        if weights[j].is_some() && field == "weight" {
                            p.key("weight")
                        } else {
                            p.key("destination")
                        }
                    };
                    if let Some(j) = weights.iter().position(|w| w.is_some_and(|w| w < 0)) {
                        cx.report(
                            id,
                            at(j, "weight"),
                            format!(
                                "weight {} is negative: istiod's validation rejects the VirtualService (`weight < 0`), so none of its routes apply",
                                weights[j].unwrap_or_default()
                            ),
                        )
                        .severity(Severity::Error)
                        .help("use a weight of 0 or more");
                        continue;
                    }
                    let sum: i64 = weights.iter().map(|w| w.unwrap_or(0)).sum();
                    if route.len() == 1 {
                        if let Some(w) = weights[0].filter(|w| *w != 100) {
                            let extra = if w == 0 {
                                "; `weight: 0` does not turn it off"
                            } else {
                                ""
                            };
                            cx.report(
                                id,
                                at(0, "weight"),
                                format!(
                                    "weight {w} on the only destination of this route is ignored: istiod sends all traffic to a single destination{extra}"
                                ),
                            )
                            .help("drop `weight`, or add the destination that should get the rest of the traffic");
                        }
                        continue;
                    }
                    if sum == 0 {
                        cx.report(
                            id,
                            base.clone(),
                            format!(
                                "{} destinations and no weight: istiod's validation rejects the VirtualService (`total destination weight = 0`), so none of its routes apply",
                                route.len()
                            ),
                        )
                        .severity(Severity::Error)
                        .help("give the destinations weights (summing to 100), or keep one destination");
                        continue;
                    }
                    if sum != 100 {
                        let split: Vec<String> = weights
                            .iter()
                            .map(|w| percent(w.unwrap_or(0), sum))
                            .collect();
                        let written: Vec<String> =
                            weights.iter().map(|w| w.unwrap_or(0).to_string()).collect();
                        let relative = format!(
                            "weights are relative, so traffic splits {} instead of {}",
                            split.join(" / "),
                            written.join(" / ")
                        );
                        let (severity, message) = match version {
                            Some(v) if v < RELATIVE_WEIGHTS => (
                                Severity::Error,
                                format!(
                                    "weights sum to {sum}, not 100: Istio {}.{} ({source}) rejects the VirtualService (`total destination weight {sum} != 100`), so none of its routes apply",
                                    v.0, v.1
                                ),
                            ),
                            Some(v) => (
                                Severity::Warning,
                                format!(
                                    "weights sum to {sum}, not 100: in Istio {}.{} ({source}) {relative}",
                                    v.0, v.1
                                ),
                            ),
                            None => (
                                Severity::Warning,
                                format!(
                                    "weights sum to {sum}, not 100: since Istio 1.15 {relative}; before 1.15 validation rejects the VirtualService (the Istio version is unknown: pass --istio-version)"
                                ),
                            ),
                        };
                        let first = weights.iter().position(Option::is_some).unwrap_or(0);
                        cx.report(id, at(first, "weight"), message)
                            .severity(severity)
                            .help("make the weights sum to 100");
                    }
                    for (j, w) in weights.iter().enumerate() {
                        if w.is_none() {
                            cx.report(
                                id,
                                at(j, "destination"),
                                "this destination has no weight while others have one, so it gets no traffic (istiod drops zero-weight destinations from a split)",
                            )
                            .help("give it a weight, or write `weight: 0` if it is meant to get no traffic");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};
    use crate::rules::testing::findings_at;

    fn run(text: &str, version: Option<&str>) -> Vec<Finding> {
        findings_at("MESH505", text, version)
    }

    const SPLIT: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [r]
  http:
  - route:
    - destination: {host: r, subset: v1}
      weight: 80
    - destination: {host: r, subset: v2}
      weight: 40
";

    #[test]
    fn sums_depend_on_the_istio_version() {
        let f = run(SPLIT, Some("1.14"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("!= 100"), "{}", f[0].message);
        let f = run(SPLIT, Some("1.22"));
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message.contains("66.7% / 33.3% instead of 80 / 40"),
            "{}",
            f[0].message
        );
        let f = run(SPLIT, None);
        assert!(f[0].message.contains("unknown"), "{}", f[0].message);
        assert_eq!(f[0].location.line, 9);
    }

    #[test]
    fn negative_weights_are_rejected() {
        let text = SPLIT
            .replace("weight: 40", "weight: -20")
            .replace("weight: 80", "weight: 120");
        let f = run(&text, None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].location.line, 11);
        assert_eq!(f[0].severity, Severity::Error);
    }
}
