//! MESH1801 webhook-address: an Istio injector or validator webhook whose `clientConfig` gives
//! the API server no usable address (no `url` and no `service`, or a URL the API server
//! refuses), or reaches an external control plane by IP address.

use std::net::IpAddr;

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node, Value};

use super::is_istio_webhook;

pub struct WebhookAddress;

static META: RuleMeta = RuleMeta {
    code: "MESH1801",
    name: "webhook-address",
    summary: "Istio webhook without a usable address for the API server, or with an IP address",
    severity: Severity::Error,
    istio_codes: &["IST0163", "IST0164"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1801-webhook-address.md"),
};

/// Why the API server refuses a webhook URL (k8s.io/apiserver
/// `pkg/util/webhook/validation.go` `ValidateWebhookURL`), or its host.
fn check_url(text: &str) -> Result<url::Host<String>, String> {
    let parsed = url::Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if parsed.scheme() != "https" {
        return Err(format!("uses `{}`, not https", parsed.scheme()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("carries user information".into());
    }
    if parsed.query().is_some() {
        return Err("has query parameters".into());
    }
    if parsed.fragment().is_some() {
        return Err("has a fragment".into());
    }
    parsed
        .host()
        .map(|h| h.to_owned())
        .ok_or_else(|| "has no host".into())
}

fn is_set(node: Option<&Node>) -> bool {
    node.is_some_and(|n| n.value != Value::Null)
}

impl Rule for WebhookAddress {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, r) in cx.store.iter() {
            if !is_istio_webhook(r) {
                continue;
            }
            let hooks = raw(r, "webhooks")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, hook) in hooks.iter().enumerate() {
                let name = hook
                    .get("name")
                    .and_then(Node::as_str)
                    .unwrap_or("(unnamed)");
                let base = FieldPath::parse("webhooks").index(i).key("clientConfig");
                let config = hook.get("clientConfig");
                let url = config.and_then(|c| c.get("url"));
                let service = config.and_then(|c| c.get("service"));
                let url_text = url.and_then(Node::as_str).filter(|u| !u.trim().is_empty());
                match (url_text, is_set(service)) {
                    (None, false) => {
                        let path = if is_set(config) {
                            base.key("url")
                        } else {
                            base
                        };
                        cx.report(
                            id,
                            path,
                            format!(
                                "webhook `{name}` has neither a `url` nor a `service`: the API server refuses the {} (exactly one is required), so {}",
                                r.kind,
                                what_breaks(&r.kind)
                            ),
                        )
                        .subkind("no-address")
                        .istio(&["IST0163"])
                        .help("set `clientConfig.url` to the external istiod's address (`https://HOST:15017/…`), or `clientConfig.service` to the istiod Service");
                    }
                    (Some(text), _) => match check_url(text) {
                        Err(why) => {
                            cx.report(
                                id,
                                base.key("url"),
                                format!(
                                    "webhook `{name}`'s URL `{text}` {why}: the API server accepts only https URLs with a host and without user information, query or fragment, and refuses the {}, so {}",
                                    r.kind,
                                    what_breaks(&r.kind)
                                ),
                            )
                            .subkind("invalid-url")
                            .istio(&["IST0163"])
                            .help("write an https URL with the istiod host name, its port (15017 by default) and path, and nothing else");
                        }
                        Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
                            let ip = text_host(text);
                            cx.report(
                                id,
                                base.key("url"),
                                format!(
                                    "webhook `{name}` reaches the external control plane at the IP address {ip}: the API server checks istiod's certificate against it, so the certificate must carry that IP, and the webhook breaks when the address changes"
                                ),
                            )
                            .subkind("ip-address")
                            .istio(&["IST0164"])
                            .severity(Severity::Info)
                            .help("use a host name (the external istiod's ingress gateway) that its certificate names");
                        }
                        Ok(_) => {}
                    },
                    (None, true) => {}
                }
            }
        }
    }
}

/// The host of a URL meshlint has already parsed, for messages.
fn text_host(text: &str) -> String {
    url::Url::parse(text)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().is_ok())
        .unwrap_or_default()
}

fn what_breaks(kind: &str) -> &'static str {
    if kind == "MutatingWebhookConfiguration" {
        "no pod gets a sidecar from it"
    } else {
        "Istio configuration is not validated on admission"
    }
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn urls_are_judged_as_the_api_server_judges_them() {
        assert!(check_url("https://istiod.example.com:15017/inject/cluster/c/net/n").is_ok());
        assert!(matches!(
            check_url("https://10.1.2.3:15017/validate"),
            Ok(url::Host::Ipv4(_))
        ));
        assert!(matches!(
            check_url("https://[2001:db8::1]/validate"),
            Ok(url::Host::Ipv6(_))
        ));
        assert_eq!(
            check_url("http://istiod:15017/inject"),
            Err("uses `http`, not https".into())
        );
        assert_eq!(
            check_url("https://istiod/x?a=b"),
            Err("has query parameters".into())
        );
        assert_eq!(
            check_url("https://istiod/x#top"),
            Err("has a fragment".into())
        );
        assert_eq!(
            check_url("https://u@istiod/x"),
            Err("carries user information".into())
        );
        assert!(check_url("istiod.example.com:15017").is_err());
    }
}
