//! Port numbers and names as the API servers validate them. Kubernetes takes 1-65535 for a
//! Service's `port`, a container's `containerPort` and, when set, `targetPort`, `nodePort` and
//! `hostPort`; a string `targetPort` must be a port name (`ValidatePortNumOrName`,
//! `IsValidPortName` in `pkg/apis/core/validation`). Istio's `agent.ValidatePort`
//! (`pkg/config/validation`) takes the same range. What they would reject is an input error at the
//! field, not a port meshlint reasons about.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

use crate::source::{FieldPath, Node};

use super::decode::{DecodeError, found, unexpected};
use super::k8s::IntOrString;

const PORT: &str = "a port number (1-65535)";

/// Reads a port number as written; the range is checked by the caller's rule for 0.
#[derive(Clone, Copy)]
struct Number {
    /// Protobuf JSON (Istio's fields) also takes a number as a string.
    quoted: bool,
    /// 0 stands for unset (an optional Kubernetes port, most of Istio's).
    zero: bool,
}

impl Number {
    fn check<E: de::Error>(self, n: i64) -> Result<i64, E> {
        if (1..=65535).contains(&n) || (self.zero && n == 0) {
            Ok(n)
        } else {
            Err(E::invalid_value(Unexpected::Signed(n), &self))
        }
    }
}

impl Visitor<'_> for Number {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PORT)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<i64, E> {
        self.check(n)
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<i64, E> {
        if f.fract() == 0.0 && (0.0..=65535.0).contains(&f) {
            self.check(f as i64)
        } else {
            Err(E::invalid_value(Unexpected::Float(f), &self))
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<i64, E> {
        match s.parse() {
            Ok(n) if self.quoted => self.check(n),
            _ => Err(E::invalid_type(Unexpected::Str(s), &self)),
        }
    }
}

/// A port number; `quoted` takes a numeric string (protobuf JSON), `zero` takes 0 (unset).
pub fn number<'de, D: Deserializer<'de>>(d: D, quoted: bool, zero: bool) -> Result<i64, D::Error> {
    d.deserialize_any(Number { quoted, zero })
}

/// A required Kubernetes port: `port`, `containerPort`.
pub fn port<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    number(d, false, false)
}

/// An optional Kubernetes port, 0 for unset: `nodePort`, `hostPort`.
pub fn optional_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Some(number(d, false, true)?).filter(|&n| n != 0))
}

/// An Istio port number, 0 for unset as in protobuf; where one is required, [`required`] says so.
pub fn proto_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Some(number(d, true, true)?).filter(|&n| n != 0))
}

/// Istio's map of port names to numbers (WorkloadEntry `ports`), every one required.
pub fn proto_port_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, i64>, D::Error> {
    struct Required(i64);
    impl<'de> Deserialize<'de> for Required {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            number(d, true, false).map(Required)
        }
    }
    let ports = BTreeMap::<String, Required>::deserialize(d)?;
    Ok(ports.into_iter().map(|(k, Required(n))| (k, n)).collect())
}

/// The error for a required Istio port number that is unset (0 is unset in protobuf): at the
/// field if it is written, else at its parent.
pub fn required(root: &Node, path: FieldPath) -> DecodeError {
    let message = match root.lookup(&path) {
        (node, true) => format!("expected {PORT}, found {}", found(unexpected(node))),
        _ => format!("expected {PORT}, found nothing"),
    };
    (path, message)
}

/// Kubernetes' `IsValidPortName` (an IANA service name): at most 15 characters of `a-z`, `0-9`
/// and `-`, at least one letter, no `-` at either end or next to another.
pub fn is_port_name(s: &str) -> bool {
    s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A Service's `targetPort`: a port number or a container port's name; 0 and `""` are unset (the
/// API server defaults them to `port`).
struct Target;

impl Visitor<'_> for Target {
    type Value = Option<IntOrString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PORT} or a port name (up to 15 of a-z, 0-9 and `-`, with a letter)"
        )
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        match n {
            0 => Ok(None),
            1..=65535 => Ok(Some(IntOrString::Int(n))),
            _ => Err(E::invalid_value(Unexpected::Signed(n), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        if f.fract() == 0.0 && (0.0..=65535.0).contains(&f) {
            self.visit_i64(f as i64)
        } else {
            Err(E::invalid_value(Unexpected::Float(f), &self))
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        match s {
            "" => Ok(None),
            _ if is_port_name(s) => Ok(Some(IntOrString::Str(s.to_string()))),
            _ if s.parse::<u16>().is_ok() => Err(E::custom(format_args!(
                "expected {PORT} or a port name, found `\"{s}\"`: a quoted number is a name to Kubernetes and a name needs a letter; write {s} without quotes"
            ))),
            _ => Err(E::invalid_value(Unexpected::Str(s), &self)),
        }
    }
}

pub fn target_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IntOrString>, D::Error> {
    d.deserialize_any(Target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    /// The input errors of one document, as `path: message` after the resource label.
    fn errors(text: &str) -> Vec<String> {
        let (sources, _) = from_documents(&[("t.yaml".into(), text.into())]);
        sources
            .errors
            .iter()
            .map(|e| {
                e.message
                    .split_once(": ")
                    .map_or(e.message.clone(), |(_, m)| m.into())
            })
            .collect()
    }

    fn istio(kind: &str, spec: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata: {{name: a}}\nspec: {spec}\n"
        )
    }

    #[test]
    fn istio_requires_port_numbers_where_istiod_does() {
        let gw = |server: &str| istio("Gateway", &format!("{{servers: [{server}]}}"));
        assert_eq!(
            errors(&gw("{port: {name: http, protocol: HTTP}, hosts: ['*']}")),
            ["`spec.servers[0].port.number`: expected a port number (1-65535), found nothing"]
        );
        assert!(
            errors(&gw(
                "{port: {number: 0, name: u}, bind: 'unix:///s', hosts: ['*']}"
            ))
            .is_empty()
        );
        assert!(
            errors(&gw("{hosts: ['*']}")).is_empty(),
            "istio's analyzer tests feed this"
        );
        let sidecar = |egress: &str| istio("Sidecar", &format!("{{egress: [{egress}]}}"));
        assert_eq!(
            errors(&sidecar("{port: {name: http}, hosts: ['*/*']}")),
            ["`spec.egress[0].port.number`: expected a port number (1-65535), found nothing"]
        );
        assert!(errors(&sidecar("{hosts: ['*/*']}")).is_empty());
        let vs = istio(
            "VirtualService",
            "{hosts: [a], http: [{route: [{destination: {host: b}}], mirror: {host: c, port: {}}}]}",
        );
        assert_eq!(
            errors(&vs),
            ["`spec.http[0].mirror.port.number`: expected a port number (1-65535), found nothing"]
        );
        let tcp = istio(
            "VirtualService",
            "{hosts: [a], tcp: [{match: [{port: 0}], route: [{destination: {host: b, port: {number: 70000}}}]}]}",
        );
        assert_eq!(
            errors(&tcp),
            [
                "`spec.tcp[0].route[0].destination.port.number`: expected a port number (1-65535), found `70000`"
            ]
        );
        assert_eq!(
            errors(&istio(
                "WorkloadEntry",
                "{address: 1.2.3.4, ports: {http: 0}}"
            )),
            ["`spec.ports.http`: expected a port number (1-65535), found `0`"]
        );
    }

    #[test]
    fn kubernetes_ports_are_checked_where_the_api_server_does() {
        let pod = |port: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: a}}\nspec: {{containers: [{{name: a, ports: [{port}]}}]}}\n"
            )
        };
        assert_eq!(
            errors(&pod("{containerPort: 0}")),
            [
                "`spec.containers[0].ports[0].containerPort`: expected a port number (1-65535), found `0`"
            ]
        );
        assert_eq!(
            errors(&pod("{containerPort: 80, hostPort: 65536}")),
            [
                "`spec.containers[0].ports[0].hostPort`: expected a port number (1-65535), found `65536`"
            ]
        );
        assert!(errors(&pod("{containerPort: 80, hostPort: 0}")).is_empty());
    }

    #[test]
    fn port_names_follow_kubernetes() {
        for ok in ["http", "http-web", "h2c", "a1", "abcdefghijklmno"] {
            assert!(is_port_name(ok), "{ok}");
        }
        for bad in [
            "8080",
            "",
            "Http",
            "http_web",
            "-http",
            "http-",
            "a--b",
            "abcdefghijklmnop",
        ] {
            assert!(!is_port_name(bad), "{bad}");
        }
    }
}
