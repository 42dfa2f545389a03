//! The shape of the fields rules read from the raw document rather than the typed model (see
//! [`super::raw`]): checked when the resource is built, so a list where a mapping belongs, or a
//! number where a string does, is an input error at the field instead of a field read as absent.

use crate::source::{FieldPath, Node, Value};

use super::Resource;
use super::decode::{DecodeError, Strict, expected};

/// What a field must be. A field that is absent or null is unset and passes; a list item must
/// have the shape, as in the typed model.
enum Shape {
    Str,
    Bool,
    /// An Istio port number: 1-65535 (a numeric string too), 0 for unset.
    ProtoPort,
    /// A required Istio port number.
    RequiredProtoPort,
    /// A Kubernetes port number: 1-65535.
    Port,
    List(&'static Shape),
    /// A mapping; only the fields listed are checked.
    Fields(&'static [(&'static str, Shape)]),
    /// A mapping whose every value has this shape.
    Values(&'static Shape),
}

use Shape::*;

const STRINGS: Shape = List(&Str);
const STRING_MATCH: Shape = Fields(&[("exact", Str), ("prefix", Str), ("regex", Str)]);

/// `spec.http[].match[]` of a VirtualService (`tcp` and `tls` matches are typed).
const HTTP_MATCH: Shape = Fields(&[
    ("name", Str),
    ("uri", STRING_MATCH),
    ("scheme", STRING_MATCH),
    ("method", STRING_MATCH),
    ("authority", STRING_MATCH),
    ("headers", Values(&STRING_MATCH)),
    ("queryParams", Values(&STRING_MATCH)),
    ("withoutHeaders", Values(&STRING_MATCH)),
    ("ignoreUriCase", Bool),
    ("port", ProtoPort),
    ("gateways", STRINGS),
]);

const VIRTUAL_SERVICE: Shape = Fields(&[(
    "spec",
    Fields(&[("http", List(&Fields(&[("match", List(&HTTP_MATCH))])))]),
)]);

const GATEWAY: Shape = Fields(&[(
    "spec",
    Fields(&[(
        "servers",
        List(&Fields(&[(
            "tls",
            Fields(&[("mode", Str), ("credentialName", Str)]),
        )])),
    )]),
)]);

const SERVICE_ENTRY: Shape = Fields(&[(
    "spec",
    Fields(&[(
        "endpoints",
        List(&Fields(&[
            ("labels", Values(&Str)),
            ("ports", Values(&RequiredProtoPort)),
        ])),
    )]),
)]);

/// Kubernetes Gateway API `Gateway`.
const K8S_GATEWAY: Shape = Fields(&[(
    "spec",
    Fields(&[(
        "listeners",
        List(&Fields(&[
            ("port", Port),
            ("protocol", Str),
            ("hostname", Str),
            ("tls", Fields(&[("mode", Str)])),
        ])),
    )]),
)]);

const AUTHORIZATION_POLICY: Shape = Fields(&[(
    "spec",
    Fields(&[(
        "rules",
        List(&Fields(&[(
            "from",
            List(&Fields(&[(
                "source",
                Fields(&[("namespaces", STRINGS), ("notNamespaces", STRINGS)]),
            )])),
        )])),
    )]),
)]);

const TARGET_REF: Shape = Fields(&[
    ("group", Str),
    ("kind", Str),
    ("name", Str),
    ("namespace", Str),
]);

const SELECTOR: Shape = Fields(&[("matchLabels", Values(&Str))]);

/// RequestAuthentication and WasmPlugin: how they attach.
const POLICY: Shape = Fields(&[(
    "spec",
    Fields(&[
        ("selector", SELECTOR),
        ("targetRef", TARGET_REF),
        ("targetRefs", List(&TARGET_REF)),
    ]),
)]);

const TELEMETRY: Shape = Fields(&[(
    "spec",
    Fields(&[
        ("selector", SELECTOR),
        ("targetRef", TARGET_REF),
        ("targetRefs", List(&TARGET_REF)),
        (
            "metrics",
            List(&Fields(&[("overrides", List(&Fields(&[])))])),
        ),
    ]),
)]);

/// The traffic policy fields read from the raw DestinationRule, at port level and, with
/// `portLevelSettings`, at top level and per subset.
const HTTP_SETTINGS: [(&str, Shape); 3] = [
    ("connectionPool", Fields(&[("http", Fields(&[]))])),
    ("outlierDetection", Fields(&[])),
    (
        "loadBalancer",
        Fields(&[(
            "consistentHash",
            Fields(&[
                ("httpHeaderName", Str),
                ("httpCookie", Fields(&[])),
                ("httpQueryParameterName", Str),
            ]),
        )]),
    ),
];

const TRAFFIC_POLICY_HTTP: Shape = Fields(&HTTP_SETTINGS);

const TRAFFIC_POLICY: Shape = {
    let [pool, outlier, balancer] = HTTP_SETTINGS;
    Fields(&[
        pool,
        outlier,
        balancer,
        ("portLevelSettings", List(&TRAFFIC_POLICY_HTTP)),
    ])
};

const DESTINATION_RULE: Shape = Fields(&[(
    "spec",
    Fields(&[
        ("trafficPolicy", TRAFFIC_POLICY),
        (
            "subsets",
            List(&Fields(&[("trafficPolicy", TRAFFIC_POLICY)])),
        ),
    ]),
)]);

/// `networking.istio.io` ProxyConfig: the image type and the workloads it applies to.
const PROXY_CONFIG: Shape = Fields(&[(
    "spec",
    Fields(&[
        ("selector", Fields(&[("matchLabels", Values(&Str))])),
        ("image", Fields(&[("imageType", Str)])),
    ]),
)]);

/// Admission webhook configurations: the webhooks' names and URLs.
const WEBHOOKS: Shape = Fields(&[(
    "webhooks",
    List(&Fields(&[
        ("name", Str),
        ("clientConfig", Fields(&[("url", Str)])),
    ])),
)]);

const CERTIFICATE: Shape = Fields(&[("spec", Fields(&[("secretName", Str)]))]);
const EXTERNAL_SECRET: Shape = Fields(&[("spec", Fields(&[("target", Fields(&[("name", Str)]))]))]);
/// A Secret's values: base64 text in `data`, plain text in `stringData`.
const SECRET: Shape = Fields(&[("data", Values(&Str)), ("stringData", Values(&Str))]);
const POD: Shape = Fields(&[("spec", Fields(&[("nodeName", Str)]))]);

/// Every kind: the owners of a workload.
const OBJECT: Shape = Fields(&[(
    "metadata",
    Fields(&[(
        "ownerReferences",
        List(&Fields(&[("kind", Str), ("name", Str)])),
    )]),
)]);

fn kind_shape(res: &Resource) -> Option<&'static Shape> {
    let group = res.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    Some(match (group, res.kind.as_str()) {
        ("networking.istio.io", "VirtualService") => &VIRTUAL_SERVICE,
        ("networking.istio.io", "Gateway") => &GATEWAY,
        ("networking.istio.io", "ServiceEntry") => &SERVICE_ENTRY,
        ("gateway.networking.k8s.io", "Gateway") => &K8S_GATEWAY,
        ("security.istio.io", "AuthorizationPolicy") => &AUTHORIZATION_POLICY,
        ("telemetry.istio.io", "Telemetry") => &TELEMETRY,
        ("networking.istio.io", "ProxyConfig") => &PROXY_CONFIG,
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => &WEBHOOKS,
        ("security.istio.io", "RequestAuthentication") | ("extensions.istio.io", "WasmPlugin") => {
            &POLICY
        }
        ("networking.istio.io", "DestinationRule") => &DESTINATION_RULE,
        ("cert-manager.io", "Certificate") => &CERTIFICATE,
        (_, "ExternalSecret") => &EXTERNAL_SECRET,
        ("", "Pod") => &POD,
        ("", "Secret") => &SECRET,
        _ => return None,
    })
}

/// Checks the raw fields rules read from `res`; the first misfit names its field.
pub fn check(res: &Resource) -> Result<(), DecodeError> {
    let root = FieldPath::root();
    walk(&res.node, &OBJECT, &root)?;
    match kind_shape(res) {
        Some(shape) => walk(&res.node, shape, &root),
        None => Ok(()),
    }
}

fn walk(node: &Node, shape: &Shape, at: &FieldPath) -> Result<(), DecodeError> {
    let misfit = |what: &str| Err((at.clone(), expected(what, node)));
    let port = |quoted, zero| {
        super::port::number(Strict(node), quoted, zero)
            .map(|_| ())
            .map_err(|e| (at.clone(), e.to_string()))
    };
    let set = |v: &&Node| v.value != Value::Null;
    match (shape, &node.value) {
        (Str, Value::Str(_)) | (Bool, Value::Bool(_)) => Ok(()),
        (Str, _) => misfit("a string"),
        (Bool, _) => misfit("`true` or `false`"),
        (ProtoPort, _) => port(true, true),
        (RequiredProtoPort, _) => port(true, false),
        (Port, _) => port(false, false),
        (List(item), Value::Seq(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, n)| walk(n, item, &at.clone().index(i))),
        (List(_), _) => misfit("a list"),
        (Fields(fields), Value::Map(_)) => fields.iter().try_for_each(|(k, shape)| {
            node.get(k)
                .filter(set)
                .map_or(Ok(()), |v| walk(v, shape, &at.clone().key(*k)))
        }),
        (Values(shape), Value::Map(entries)) => entries
            .iter()
            .filter(|(_, v)| set(&v))
            .try_for_each(|(k, v)| walk(v, shape, &at.clone().key(k.scalar_text()))),
        (Fields(_) | Values(_), _) => misfit("a mapping"),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::from_documents;

    fn errors(kind: &str, spec: &str) -> Vec<String> {
        let text =
            format!("apiVersion: {kind}\nmetadata: {{name: a, namespace: ns}}\nspec:\n{spec}");
        let (sources, _) = from_documents(&[("t.yaml".into(), text)]);
        sources
            .errors
            .iter()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            .collect()
    }

    const VS: &str = "networking.istio.io/v1\nkind: VirtualService";

    #[test]
    fn raw_fields_rules_read_are_checked() {
        assert_eq!(
            errors(VS, "  http:\n  - match: [{gateways: [[gw]]}]\n"),
            [
                "6:25: VirtualService ns/a: `spec.http[0].match[0].gateways[0]`: expected a string, found a list"
            ]
        );
        assert_eq!(
            errors(VS, "  http:\n  - match: [{uri: /api}]\n"),
            [
                "6:19: VirtualService ns/a: `spec.http[0].match[0].uri`: expected a mapping, found `\"/api\"`"
            ]
        );
        assert_eq!(
            errors(VS, "  http:\n  - match: [{port: 0}, {port: 70000}]\n"),
            [
                "6:31: VirtualService ns/a: `spec.http[0].match[1].port`: expected a port number (1-65535), found `70000`"
            ]
        );
        assert_eq!(
            errors(
                "gateway.networking.k8s.io/v1\nkind: Gateway",
                "  listeners: [{name: a, port: \"80\", protocol: HTTP}]\n"
            ),
            [
                "5:31: Gateway ns/a: `spec.listeners[0].port`: expected a port number (1-65535), found `\"80\"`"
            ]
        );
    }

    #[test]
    fn unset_fields_pass_and_list_items_do_not() {
        assert!(errors(VS, "  http:\n  - match: [{gateways: null, uri: null}]\n").is_empty());
        assert_eq!(
            errors(
                "security.istio.io/v1\nkind: AuthorizationPolicy",
                "  rules: [{from: [{source: {namespaces: [a, null]}}]}]\n"
            ),
            [
                "5:45: AuthorizationPolicy ns/a: `spec.rules[0].from[0].source.namespaces[1]`: expected a string, found null"
            ]
        );
    }
}
