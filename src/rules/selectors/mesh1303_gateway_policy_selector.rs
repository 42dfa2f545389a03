//! MESH1303 gateway-policy-selector: a policy bound to a Gateway API gateway's pods by
//! `selector`. istiod applies it only while `ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY` is on
//! (`ShouldAttachPolicy`, istio `pilot/pkg/model/policyattachment.go`); istio's
//! `k8sgateway.SelectorAnalyzer` calls every such selector ineffective (IST0166).

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::Severity;
use crate::mesh::ambient_l7::{PolicyKind, attachment};
use crate::mesh::gateway_api::gateways::{Class, GATEWAY_NAME_LABEL, GatewayView};
use crate::mesh::injection::Platform;
use crate::mesh::version::istiod_flag;
use crate::model::raw::raw;
use crate::model::{ResId, Resource, Spec, string_map};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct GatewayPolicySelector;

static META: RuleMeta = RuleMeta {
    code: "MESH1303",
    name: "gateway-policy-selector",
    summary: "policy bound to a Gateway API gateway's pods by selector instead of targetRefs",
    severity: Severity::Info,
    istio_codes: &["IST0166"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1303-gateway-policy-selector.md"),
};

const FLAG: &str = "ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY";

/// The label istiod's gateway controller puts on the pods it generates.
const MANAGED: (&str, &str) = ("gateway.istio.io/managed", "istio.io-gateway-controller");

/// One gateway's pods as a selector sees them.
struct GatewayPods {
    name: String,
    gateway: Option<ResId>,
    labels: BTreeMap<String, String>,
}

/// The labels of the pods istiod generates for a managed Gateway (the `kube-gateway` template
/// with `extractInfrastructureLabels`: `spec.infrastructure.labels`, else the Gateway's labels,
/// without the `gateway.networking.k8s.io/` prefix).
fn generated_labels(r: &Resource, g: &GatewayView, class: &str) -> BTreeMap<String, String> {
    let infra = raw(r, "spec.infrastructure.labels").filter(|n| n.is_map());
    let mut labels = match infra {
        Some(n) => string_map(Some(n)),
        None => r.labels.clone(),
    };
    labels.retain(|k, _| !k.starts_with("gateway.networking.k8s.io/"));
    for (k, v) in [
        ("sidecar.istio.io/inject", "false"),
        (
            "service.istio.io/canonical-name",
            g.deployment.name.as_str(),
        ),
        ("service.istio.io/canonical-revision", "latest"),
        (GATEWAY_NAME_LABEL, r.name.as_str()),
        ("gateway.networking.k8s.io/gateway-class-name", class),
        MANAGED,
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    labels
}

/// Whether a snapshot Pod runs Istio's gateway proxy.
fn istio_proxy_pod(r: &Resource) -> bool {
    r.labels.get(MANAGED.0).map(String::as_str) == Some(MANAGED.1)
        || r.workload().is_some_and(|w| {
            w.all_containers()
                .any(|(_, c)| c.name == Platform::Istio.proxy_container())
        })
}

/// Namespace → the pods of Istio's Gateway API gateways there (waypoints excluded).
fn gateway_pods(cx: &Context<'_>) -> HashMap<String, Vec<GatewayPods>> {
    let store = cx.store;
    let api = cx.gateway_api();
    let mut out: HashMap<String, Vec<GatewayPods>> = HashMap::new();
    for g in &api.gateways {
        let r = store.get(g.id);
        if g.class != Class::Istio || !g.deployment.managed {
            continue;
        }
        let Spec::K8sGateway(spec) = &r.spec else {
            continue;
        };
        out.entry(r.namespace.clone())
            .or_default()
            .push(GatewayPods {
                name: r.name.clone(),
                gateway: Some(g.id),
                labels: generated_labels(r, g, &spec.gateway_class_name),
            });
    }
    for (_, r) in store.iter() {
        if r.kind != "Pod" {
            continue;
        }
        let Some(name) = r.labels.get(GATEWAY_NAME_LABEL) else {
            continue;
        };
        let gateway = api
            .gateway_index(&r.namespace, name)
            .map(|i| &api.gateways[i]);
        let judged = match gateway {
            Some(g) => g.class == Class::Istio,
            None => istio_proxy_pod(r),
        };
        if judged {
            out.entry(r.namespace.clone())
                .or_default()
                .push(GatewayPods {
                    name: name.clone(),
                    gateway: gateway.map(|g| g.id),
                    labels: r.labels.clone(),
                });
        }
    }
    out
}

impl Rule for GatewayPolicySelector {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let pods = gateway_pods(cx);
        if pods.is_empty() {
            return;
        }
        let ignored = istiod_flag(store, FLAG) == Some(false);
        for (id, r) in store.iter() {
            let Some(kind) = PolicyKind::of(r) else {
                continue;
            };
            let att = attachment(r);
            if !att.target_refs.is_empty() || att.selector.is_empty() {
                continue;
            }
            let Some(candidates) = pods.get(&r.namespace) else {
                continue;
            };
            // Gateway name → the Gateway, once per gateway however many pods match.
            let mut hit: BTreeMap<&str, Option<ResId>> = BTreeMap::new();
            for c in candidates {
                if att.selector.iter().all(|(k, v)| c.labels.get(k) == Some(v)) {
                    let slot = hit.entry(c.name.as_str()).or_default();
                    *slot = slot.or(c.gateway);
                }
            }
            let key = if att.selector.contains_key(GATEWAY_NAME_LABEL) {
                GATEWAY_NAME_LABEL
            } else {
                att.selector.keys().next().map_or("", String::as_str)
            };
            let path = FieldPath::parse("spec.selector.matchLabels").key(key);
            for (name, gateway) in hit {
                let kind = kind.name();
                let message = if ignored {
                    format!(
                        "this {kind} selects the pods of Gateway API gateway `{name}` by label, and istiod's `{FLAG}` is false: istiod ignores selector policies on Gateway API gateways, so it does not apply to the gateway"
                    )
                } else {
                    format!(
                        "this {kind} selects the pods of Gateway API gateway `{name}` by label: istiod applies it only while `{FLAG}` is on (the default); with it off the policy is ignored, and `istioctl analyze` reports it as ineffective"
                    )
                };
                let mut reported = cx
                    .report(id, path.clone(), message)
                    .help(format!("bind it with `targetRefs: [{{kind: Gateway, group: gateway.networking.k8s.io, name: {name}}}]` instead of `selector`"));
                if ignored {
                    reported = reported.severity(Severity::Warning);
                }
                if let Some(g) = gateway {
                    reported.related(g, FieldPath::parse("metadata.name"), "the gateway");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: shop, labels: {team: web}}\nspec: {gatewayClassName: istio, listeners: [{name: h, port: 80, protocol: HTTP}]}\n";

    fn policy(selector: &str) -> String {
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: ap, namespace: shop}}\nspec:\n  selector: {{matchLabels: {selector}}}\n  action: DENY\n  rules: [{{from: [{{source: {{ipBlocks: [10.0.0.0/8]}}}}]}}]\n"
        )
    }

    fn run(text: &str) -> Vec<(String, String)> {
        findings_of("MESH1303", text)
            .into_iter()
            .map(|f| (f.severity.to_string(), f.message))
            .collect()
    }

    #[test]
    fn generated_pods_match_by_gateway_name_canonical_name_or_copied_labels() {
        for selector in [
            "{gateway.networking.k8s.io/gateway-name: edge}",
            "{service.istio.io/canonical-name: edge-istio}",
            "{team: web}",
        ] {
            let got = run(&format!("{GATEWAY}{}", policy(selector)));
            assert_eq!(got.len(), 1, "{selector}: {got:?}");
            assert_eq!(got[0].0, "info");
        }
        assert!(run(&format!("{GATEWAY}{}", policy("{app: api}"))).is_empty());
    }

    #[test]
    fn the_flag_off_on_istiod_makes_it_a_warning() {
        let istiod = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system}\nspec:\n  selector: {matchLabels: {app: istiod}}\n  template:\n    metadata: {labels: {app: istiod}}\n    spec:\n      containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.24.0\n        env: [{name: ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, value: \"false\"}]\n";
        let got = run(&format!(
            "{GATEWAY}{}{istiod}",
            policy("{gateway.networking.k8s.io/gateway-name: edge}")
        ));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "warning");
        assert!(got[0].1.contains("does not apply"), "{}", got[0].1);
    }

    #[test]
    fn waypoints_and_other_controllers_are_left_alone() {
        let waypoint = GATEWAY.replace(
            "gatewayClassName: istio",
            "gatewayClassName: istio-waypoint",
        );
        let foreign = format!(
            "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: other}}\nspec: {{controllerName: example.com/gw}}\n",
            GATEWAY.replace("gatewayClassName: istio", "gatewayClassName: other")
        );
        for input in [waypoint, foreign] {
            let text = format!(
                "{input}{}",
                policy("{gateway.networking.k8s.io/gateway-name: edge}")
            );
            assert!(run(&text).is_empty(), "{text}");
        }
    }

    #[test]
    fn snapshot_pods_of_istio_gateways_count_once_per_gateway() {
        let pod = |n: u8| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: edge-{n}, namespace: shop, labels: {{gateway.networking.k8s.io/gateway-name: edge}}}}\nspec: {{containers: [{{name: istio-proxy, image: proxyv2}}]}}\n"
            )
        };
        let text = format!(
            "{}{}{}",
            pod(1),
            pod(2),
            policy("{gateway.networking.k8s.io/gateway-name: edge}")
        );
        assert_eq!(run(&text).len(), 1);
    }
}
