//! MESH913 authz-method-case: an AuthorizationPolicy `methods` or `notMethods` entry that is an
//! HTTP method in the wrong case, or not an HTTP token at all. Envoy compares the `:method`
//! header exactly and case-sensitively (istio/istio `pilot/pkg/security/authz/model/generator.go`,
//! `methodGenerator`, and `pilot/pkg/security/authz/matcher/header.go`, `HeaderMatcher`), and
//! clients send methods in upper case, so the entry never matches.

use crate::diagnostic::Severity;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzMethodCase;

static META: RuleMeta = RuleMeta {
    code: "MESH913",
    name: "authz-method-case",
    summary: "AuthorizationPolicy method that no request has: a method in lower case, or not an HTTP token",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0102"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH913-authz-method-case.md"),
};

/// The methods of RFC 9110 and PATCH (RFC 5789).
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// What is wrong with `method`, when something is: the upper-case method it was meant to be, or
/// characters an HTTP method cannot have (RFC 9110 `token`). `*` wildcards are Istio's.
fn problem(method: &str) -> Option<String> {
    let upper = method.to_ascii_uppercase();
    if method != upper && METHODS.contains(&upper.as_str()) {
        return Some(format!("requests say `{upper}`"));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'+-.^_`|~".contains(c);
    let bare = method.trim_start_matches('*').trim_end_matches('*');
    if method.is_empty() || !bare.chars().all(token) {
        return Some("an HTTP method is a single word without spaces or separators".into());
    }
    None
}

impl Rule for AuthzMethodCase {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, r) in cx.store.iter() {
            let Spec::AuthorizationPolicy(p) = &r.spec else {
                continue;
            };
            let action = p.action().to_string();
            for (i, rule) in p.rules.iter().flatten().enumerate() {
                for (j, to) in rule.to.iter().enumerate() {
                    let op = &to.operation;
                    for (field, list) in [("methods", &op.methods), ("notMethods", &op.not_methods)]
                    {
                        for (k, m) in list.iter().enumerate() {
                            let Some(why) = problem(m) else { continue };
                            let effect = match (field, action.as_str(), list.len()) {
                                ("notMethods", _, _) => "it excludes no request",
                                (_, _, n) if n > 1 => "only the other methods of the list match",
                                (_, "DENY", _) => "this rule never denies anything",
                                (_, "ALLOW", _) => "this rule allows nothing",
                                _ => "this rule matches no request",
                            };
                            cx.report(
                                id,
                                FieldPath::parse("spec.rules")
                                    .index(i)
                                    .key("to")
                                    .index(j)
                                    .key("operation")
                                    .key(field)
                                    .index(k),
                                format!(
                                    "method `{m}` never matches: Envoy compares the request method exactly and {why}, so {effect}"
                                ),
                            )
                            .help("write the method as clients send it, in upper case (`GET`, `POST`, ...)");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn methods() {
        assert!(problem("GET").is_none());
        assert!(problem("PROPFIND").is_none());
        assert!(problem("*").is_none());
        assert!(problem("GE*").is_none());
        assert!(problem("get").is_some());
        assert!(problem("Post").is_some());
        assert!(problem("GET,POST").is_some());
        assert!(problem("GET POST").is_some());
        assert!(problem("").is_some());
    }
}
