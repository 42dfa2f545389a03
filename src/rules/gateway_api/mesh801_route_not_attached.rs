//! MESH801 route-not-attached: a route's parentRef that istiod does not attach it to, with the
//! spec reason (`NoMatchingParent`, `NoMatchingListenerHostname`, `NotAllowedByListeners`).

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::attach::{Denial, ParentResult, ParentTarget};
use crate::mesh::gateway_api::{GatewayApi, RouteView};
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::partial;

pub struct RouteNotAttached;

static META: RuleMeta = RuleMeta {
    code: "MESH801",
    name: "route-not-attached",
    summary: "a Gateway API route's parentRef attaches it nowhere (missing parent, section, port, hostname or namespace)",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &["KIA1401", "KIA1402"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH801-route-not-attached.md"),
};

fn help(denial: Denial, field: &str) -> &'static str {
    match (denial, field) {
        (_, "name") => {
            "point the parentRef at a parent that exists (name, namespace, kind), or add the missing object"
        }
        (_, "sectionName") => "set sectionName to the `name` of one of the Gateway's listeners",
        (_, "port") => "set port to the `port` of one of the Gateway's listeners, or remove it",
        (_, "hostnames") => {
            "use hostnames that fall under a listener's `hostname`, or widen the listener's hostname"
        }
        (_, "namespace") => {
            "let the listener admit this namespace (`allowedRoutes.namespaces.from: All`, or a selector matching the Namespace's labels), or move the route"
        }
        (_, "kind") => {
            "attach the route to a listener whose protocol and `allowedRoutes.kinds` take this kind"
        }
        (Denial::NoMatchingParent, _) => "give the Gateway a listener istiod can program",
        _ => "make the route match one of the Gateway's listeners",
    }
}

impl Rule for RouteNotAttached {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        for rv in &api.routes {
            let r = cx.store.get(rv.id);
            // Without a parent nothing says which controller the route is for: only an input
            // that uses Istio makes it Istio's.
            if rv.parents.is_empty() && api.istio_mesh {
                cx.report(
                    rv.id,
                    FieldPath::parse("spec"),
                    format!("{} {}/{} has no parentRefs, so it is attached to no Gateway and no Service", r.kind, r.namespace, r.name),
                )
                .subkind("no-parent-refs")
                .severity(Severity::Warning)
                .kiali(&[])
                .help("add a parentRef naming the Gateway (or, for a mesh route, the Service) the route is for");
            }
            if rv.parents.is_empty() {
                continue;
            }
            for p in &rv.parents {
                if let ParentResult::Denied {
                    denial,
                    message,
                    field,
                } = &p.result
                {
                    report(
                        cx,
                        &api,
                        rv,
                        p.index,
                        &p.target,
                        (*denial, message, field),
                        p.namespace_admitted,
                    );
                }
            }
        }
    }
}

fn report(
    cx: &mut Context<'_>,
    api: &GatewayApi,
    rv: &RouteView,
    index: usize,
    target: &ParentTarget,
    (denial, message, field): (Denial, &str, &'static str),
    namespace_admitted: Option<bool>,
) {
    let store = cx.store;
    let r = store.get(rv.id);
    let parent_path = rv.parent_path(index);
    let written = |f: &str| r.node.lookup(&parent_path.clone().key(f)).1;
    let path = match field {
        "hostnames" => FieldPath::parse("spec.hostnames"),
        "kind" | "" => parent_path.clone(),
        f if written(f) => parent_path.clone().key(f),
        _ => parent_path.clone(),
    };
    let reason = denial.reason();
    match target {
        ParentTarget::Missing {
            kind,
            namespace,
            name,
            kind_in_namespace,
        } => {
            let mut msg = format!(
                "parentRefs[{index}] names {kind} {namespace}/{name}, which is not in the input: the route is attached nowhere through it (Accepted=False, {reason})"
            );
            if kind == "Gateway" {
                msg.push_str("; istiod writes no status for a parent it does not know, so nothing shows the failure");
            }
            if !kind_in_namespace {
                msg.push_str(&format!(
                    "; namespace {namespace} has no {kind} in the input, so it may be deployed from elsewhere"
                ));
            }
            let kiali: &'static [&'static str] = if kind == "Gateway" {
                &["KIA1401"]
            } else {
                &["KIA1402"]
            };
            cx.report(rv.id, path, msg)
                .subkind("missing-parent")
                .severity(partial(*kind_in_namespace))
                .kiali(kiali)
                .help(help(denial, "name"));
        }
        ParentTarget::Gateway(g) => {
            let gw = &api.gateways[*g];
            let gr = store.get(gw.id);
            let mut msg = format!(
                "{} {}/{} is not attached to Gateway {}/{} through parentRefs[{index}] (Accepted=False, {reason}): {message}",
                r.kind, r.namespace, r.name, gr.namespace, gr.name
            );
            if namespace_admitted == Some(false) && field != "namespace" {
                msg.push_str(&format!(
                    "; no listener admits routes from namespace {} either",
                    r.namespace
                ));
            }
            let kiali: &'static [&'static str] = if namespace_admitted == Some(false) {
                &["KIA1401"]
            } else {
                &[]
            };
            let listeners = match &gr.spec {
                Spec::K8sGateway(s) => s.listeners.len(),
                _ => 0,
            };
            cx.report(rv.id, path, msg)
                .subkind(match denial {
                    Denial::NoMatchingParent => "no-matching-parent",
                    Denial::NoMatchingListenerHostname => "no-matching-listener-hostname",
                    Denial::NotAllowedByListeners => "not-allowed-by-listeners",
                })
                .kiali(kiali)
                .help(help(denial, field))
                .related(
                    gw.id,
                    if listeners > 0 {
                        FieldPath::parse("spec.listeners")
                    } else {
                        FieldPath::parse("spec")
                    },
                    format!("listeners of Gateway {}/{}", gr.namespace, gr.name),
                );
        }
        ParentTarget::Service(_) | ParentTarget::Foreign(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    const GW: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: '*.example.com'}
  - name: shared
    port: 8080
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared: 'yes'}}}}
";

    fn route(ns: &str, parent: &str, hosts: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {ns}}}\nspec: {{parentRefs: [{parent}], hostnames: {hosts}}}\n"
        )
    }

    #[test]
    fn each_reason_points_at_its_field() {
        let f = findings_of(
            "MESH801",
            &format!(
                "{GW}{}",
                route("infra", "{name: gw, sectionName: nope}", "[]")
            ),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("NoMatchingParent")
                && f[0].message.contains("sectionName \"nope\" not found"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].severity, Severity::Error);
        let f = findings_of(
            "MESH801",
            &format!("{GW}{}", route("infra", "{name: gw, port: 81}", "[]")),
        );
        assert!(
            f[0].message.contains("port 81 not found"),
            "{}",
            f[0].message
        );
        let f = findings_of(
            "MESH801",
            &format!(
                "{GW}{}",
                route("infra", "{name: gw, sectionName: http}", "[a.example.org]")
            ),
        );
        assert!(
            f[0].message.contains("NoMatchingListenerHostname"),
            "{}",
            f[0].message
        );
        // Neither listener admits namespace `other`: `Same`, and a selector its labels miss.
        let other = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n";
        let f = findings_of(
            "MESH801",
            &format!(
                "{GW}{other}{}",
                route("other", "{name: gw, namespace: infra}", "[a.example.com]")
            ),
        );
        assert!(
            f[0].message.contains("NotAllowedByListeners"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].kiali_codes, vec!["KIA1401"]);
    }

    #[test]
    fn selectors_read_namespace_labels_and_missing_labels_are_assumed() {
        let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {shared: 'yes'}}\n";
        let ok = route(
            "team",
            "{name: gw, namespace: infra, sectionName: shared}",
            "[]",
        );
        assert!(findings_of("MESH801", &format!("{GW}{ns}{ok}")).is_empty());
        // Without the Namespace object its labels are unknown: assumed admitted.
        assert!(findings_of("MESH801", &format!("{GW}{ok}")).is_empty());
        let unlabelled = ns.replace("shared: 'yes'", "shared: 'no'");
        let f = findings_of("MESH801", &format!("{GW}{unlabelled}{ok}"));
        assert_eq!(f.len(), 1, "{f:#?}");
    }

    #[test]
    fn a_missing_parent_is_a_warning_or_info_by_what_the_input_has() {
        let f = findings_of(
            "MESH801",
            &format!("{GW}{}", route("infra", "{name: gw2}", "[]")),
        );
        assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
        let f = findings_of(
            "MESH801",
            &route("apps", "{name: gw, namespace: edge}", "[]"),
        );
        assert_eq!(f[0].severity, Severity::Info, "{f:#?}");
        assert!(
            f[0].message.contains("may be deployed from elsewhere"),
            "{}",
            f[0].message
        );
        let f = findings_of(
            "MESH801",
            &route("apps", "{kind: Service, group: '', name: reviews}", "[]"),
        );
        assert_eq!(f[0].kiali_codes, vec!["KIA1402"]);
    }

    #[test]
    fn gateways_extended_by_a_listener_set_are_not_judged() {
        let set = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {name: extra, namespace: infra}\nspec: {parentRef: {name: gw}, listeners: [{name: extra, port: 8443, protocol: HTTP}]}\n";
        let r = route("infra", "{name: gw, sectionName: extra}", "[]");
        assert_eq!(findings_of("MESH801", &format!("{GW}{r}")).len(), 1);
        assert!(findings_of("MESH801", &format!("{GW}{set}{r}")).is_empty());
    }

    #[test]
    fn other_controllers_parents_are_not_judged() {
        let foreign = GW.replace("gatewayClassName: istio", "gatewayClassName: other")
            + "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: other}\nspec: {controllerName: example.com/gw}\n";
        assert!(
            findings_of(
                "MESH801",
                &format!(
                    "{foreign}{}",
                    route("infra", "{name: gw, sectionName: nope}", "[]")
                )
            )
            .is_empty()
        );
    }
}
