//! Unrendered Go and Helm templates: `image: {{ .Image }}` or `reviews.{{ .Namespace }}.svc`
//! read as if they were values give type errors and dangling references. Only fields meshlint
//! reads are looked at, because real objects carry templates that others render: Prometheus
//! and Alertmanager rules, SPIFFE ID templates, Argo arguments, the injector's own template in
//! a ConfigMap, `kubectl -o go-template` in a container's args.

use crate::source::{FieldPath, Node, Pos, Value};

use super::k8s;

/// Istio kinds whose `spec` meshlint decodes (see `decode_spec`).
const ISTIO_SPECS: &[&str] = &[
    "VirtualService",
    "DestinationRule",
    "Gateway",
    "ServiceEntry",
    "Sidecar",
    "WorkloadEntry",
];

/// Pod fields that hold commands and their environment, free text for the app.
const FREE_TEXT: &[&str] = &["command", "args", "env"];

/// Where the document holds a template in a field meshlint reads, or an unquoted `{{ .X }}`
/// anywhere, if it does.
pub fn unrendered(root: &Node) -> Option<Pos> {
    read_fields(root).or_else(|| complex_key(root))
}

/// The first mapping key that is itself a map or a list: YAML's reading of an unquoted
/// `{{ .X }}`. JSON, and so the API server, has no such keys, so it is a template wherever it is.
fn complex_key(node: &Node) -> Option<Pos> {
    match &node.value {
        Value::Seq(items) => items.iter().find_map(complex_key),
        Value::Map(entries) => entries.iter().find_map(|(k, v)| match &k.value {
            Value::Map(_) | Value::Seq(_) => Some(node.pos),
            _ => complex_key(v),
        }),
        _ => None,
    }
}

/// A template in the fields meshlint reads.
fn read_fields(root: &Node) -> Option<Pos> {
    let at = |path: &str| {
        let (node, found) = root.lookup(&FieldPath::parse(path));
        found.then_some(node)
    };
    for field in ["apiVersion", "kind", "metadata.name", "metadata.namespace"] {
        if let Some(pos) = at(field).and_then(|n| find(n, &[])) {
            return Some(pos);
        }
    }
    if let Some(pos) = at("metadata.labels").and_then(|n| find(n, &[])) {
        return Some(pos);
    }
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
    let api = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default();
    if kind.ends_with("List") {
        return root
            .get("items")
            .and_then(Node::as_seq)
            .and_then(|items| items.iter().find_map(read_fields));
    }
    if kind == "Service" || (api.starts_with("networking.istio.io/") && ISTIO_SPECS.contains(&kind))
    {
        return at("spec").and_then(|n| find(n, &[]));
    }
    let tpl = k8s::template_path(kind, root)?;
    let join = |s: &str| {
        if tpl.is_empty() {
            s.to_string()
        } else {
            format!("{tpl}.{s}")
        }
    };
    let labels = if tpl.is_empty() {
        None
    } else {
        at(&join("metadata.labels"))
    };
    labels
        .and_then(|n| find(n, &[]))
        .or_else(|| at(&join("spec")).and_then(|n| find(n, FREE_TEXT)))
}

/// The first template in `node`, not looking under keys in `skip`. `{{ .X }}` left unquoted
/// is YAML for a map whose key is a map, which no manifest has otherwise.
fn find(node: &Node, skip: &[&str]) -> Option<Pos> {
    match &node.value {
        Value::Str(s) => is_template(s).then_some(node.pos),
        Value::Seq(items) => items.iter().find_map(|i| find(i, skip)),
        Value::Map(entries) => entries.iter().find_map(|(k, v)| match &k.value {
            Value::Map(_) | Value::Seq(_) => Some(node.pos),
            Value::Str(s) if is_template(s) => Some(k.pos),
            Value::Str(s) if skip.contains(&s.as_str()) => None,
            _ => find(v, skip),
        }),
        _ => None,
    }
}

fn is_template(s: &str) -> bool {
    s.find("{{").is_some_and(|i| s[i..].contains("}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<(u32, u32)> {
        let root = crate::source::parse_yaml(text).expect("yaml").remove(0);
        unrendered(&root).map(|p| (p.line, p.column))
    }

    #[test]
    fn templates_in_fields_meshlint_reads_are_found() {
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {{ .Image }}\n";
        assert_eq!(at(deployment), Some((9, 16)));
        let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [\"reviews.{{ .Namespace }}.svc.cluster.local\"]\n";
        assert_eq!(at(vs), Some((5, 11)));
        let name =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ .Release.Name }}-config\"\n";
        assert_eq!(at(name), Some((4, 9)));
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n  spec: {externalName: \"{{ .Host }}\"}\n";
        assert!(at(list).is_some());
    }

    #[test]
    fn templates_that_others_render_are_not_ours() {
        let injector = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-sidecar-injector}\ndata:\n  config: |\n    image: {{ .Values.global.proxy.image }}\n";
        assert_eq!(at(injector), None);
        let spiffe = "apiVersion: spire.spiffe.io/v1alpha1\nkind: ClusterSPIFFEID\nmetadata: {name: default}\nspec:\n  spiffeIDTemplate: \"spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}\"\n";
        assert_eq!(at(spiffe), None);
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: list}\nspec:\n  template:\n    spec:\n      containers:\n      - name: kubectl\n        image: bitnami/kubectl\n        args: [get, pods, -o, \"go-template={{range .items}}{{.metadata.name}}{{end}}\"]\n        env: [{name: FORMAT, value: \"{{.Name}}\"}]\n";
        assert_eq!(at(job), None);
    }

    #[test]
    fn an_unquoted_template_is_found_in_any_field() {
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: reg}\ndata:\n  .dockerconfigjson: {{ .DockerConfigJson }}\n";
        assert_eq!(at(secret), Some((5, 22)));
        let telemetry = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: logs}\nspec:\n  targetRef:\n    name: {{ .Gateway }}\n    kind: Gateway\n";
        assert_eq!(at(telemetry), Some((6, 11)));
    }
}
