//! MESH809 gateway-port-overlap: an Istio Gateway (`networking.istio.io`) whose selector picks
//! the pods istiod deploys for a Gateway API Gateway, with a server on a port a listener of that
//! Gateway uses: two configurations for one port of one proxy.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::gateways::{GATEWAY_NAME_LABEL, GatewayView};
use crate::model::{ResId, Spec, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct GatewayPortOverlap;

static META: RuleMeta = RuleMeta {
    code: "MESH809",
    name: "gateway-port-overlap",
    summary: "an Istio Gateway and a Gateway API Gateway configure the same port of the same gateway pods",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH809-gateway-port-overlap.md"),
};

/// The labels of the pods istiod deploys for a managed Gateway (the `kube-gateway` template):
/// the Gateway's own labels plus the ones the template sets.
fn pod_labels(store: &Store, g: &GatewayView) -> BTreeMap<String, String> {
    let r = store.get(g.id);
    let class = match &r.spec {
        Spec::K8sGateway(s) => s.gateway_class_name.clone(),
        _ => String::new(),
    };
    let mut labels = r.labels.clone();
    for (k, v) in [
        ("sidecar.istio.io/inject", "false".to_string()),
        ("service.istio.io/canonical-name", g.deployment.name.clone()),
        ("service.istio.io/canonical-revision", "latest".to_string()),
        (GATEWAY_NAME_LABEL, r.name.clone()),
        ("gateway.networking.k8s.io/gateway-class-name", class),
        (
            "gateway.istio.io/managed",
            "istio.io-gateway-controller".to_string(),
        ),
    ] {
        labels.insert(k.to_string(), v);
    }
    labels
}

impl Rule for GatewayPortOverlap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        // Managed Gateway API gateways by each label of their pods.
        let mut postings: HashMap<(String, String), Vec<usize>> = HashMap::new();
        let mut labels: Vec<BTreeMap<String, String>> = Vec::new();
        for (gi, g) in api.gateways.iter().enumerate() {
            let l = if g.class.routes_converted() && g.deployment.managed {
                pod_labels(store, g)
            } else {
                BTreeMap::new()
            };
            for (k, v) in &l {
                postings.entry((k.clone(), v.clone())).or_default().push(gi);
            }
            labels.push(l);
        }
        let mut found: Vec<(ResId, usize, usize, usize)> = Vec::new();
        for (id, r) in store.iter() {
            let Spec::Gateway(istio_gw) = &r.spec else {
                continue;
            };
            let Some(first) = istio_gw.selector.iter().next() else {
                continue;
            };
            let candidates = postings
                .get(&(first.0.clone(), first.1.clone()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            for &gi in candidates {
                if !istio_gw
                    .selector
                    .iter()
                    .all(|(k, v)| labels[gi].get(k) == Some(v))
                {
                    continue;
                }
                for (si, s) in istio_gw.servers.iter().enumerate() {
                    let Some(port) = s.port.number else { continue };
                    if let Some(l) = api.gateways[gi]
                        .listeners
                        .iter()
                        .find(|l| l.port == Some(port) && l.conflict.is_none())
                    {
                        found.push((id, si, gi, l.index));
                    }
                }
            }
        }
        for (id, si, gi, li) in found {
            let r = store.get(id);
            let g = &api.gateways[gi];
            let gr = store.get(g.id);
            let l = &g.listeners[li];
            let port = l.port.unwrap_or_default();
            cx.report(
                id,
                FieldPath::parse("spec.servers").index(si).key("port").key("number"),
                format!(
                    "Istio Gateway {}/{} selects the pods istiod deploys for Gateway API Gateway {}/{} ({}) and serves port {port}, which its listener {:?} ({}) serves too: istiod merges both into one listener per port, as for two Istio Gateways of one workload (MESH504), so depending on protocol and hosts one server is dropped or one set of routes shadows the other",
                    r.namespace, r.name, gr.namespace, gr.name, g.deployment.name, l.name, l.protocol
                ),
            )
            .help("configure the gateway pods with one API: move the server into a listener, or select other pods")
            .related(g.id, FieldPath::parse("spec.listeners").index(li), "the Gateway API listener on the same port");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const K8S: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
";

    fn istio_gw(selector: &str, port: i64) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: legacy, namespace: infra}}\nspec: {{selector: {selector}, servers: [{{port: {{number: {port}, name: http, protocol: HTTP}}, hosts: ['*']}}]}}\n"
        )
    }

    #[test]
    fn an_istio_gateway_selecting_the_generated_pods_on_a_listener_port() {
        let sel = "{gateway.networking.k8s.io/gateway-name: web}";
        assert_eq!(
            findings_of("MESH809", &format!("{K8S}{}", istio_gw(sel, 80))).len(),
            1
        );
        assert!(findings_of("MESH809", &format!("{K8S}{}", istio_gw(sel, 8080))).is_empty());
        assert!(
            findings_of(
                "MESH809",
                &format!("{K8S}{}", istio_gw("{istio: ingressgateway}", 80))
            )
            .is_empty()
        );
    }
}
