//! A gateway's TLS credential as istiod reads it from a Secret: the certificate and key under
//! `cert`/`key` or `tls.crt`/`tls.key` (istio/istio `pilot/pkg/credentials/kube/secrets.go`,
//! `ExtractCertInfo`), and the certificate's first PEM block parsed and checked for its
//! validity period (`pilot/pkg/xds/sds.go`, `ValidateCertificate`). istiod sends no secret to
//! the gateway when either fails.

use base64::Engine;

use crate::model::Resource;
use crate::model::raw::raw;
use crate::source::{FieldPath, Node, Value};

/// Why istiod refuses a TLS Secret, and the field to point at.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub path: FieldPath,
    pub reason: String,
}

/// The bytes of `key` in a Secret: `stringData` as written (the API server merges it into
/// `data`), else `data` base64-decoded; `None` when absent, empty or not base64.
fn value(res: &Resource, key: &str) -> Option<(Vec<u8>, FieldPath)> {
    if let Some(text) = raw(res, "stringData")
        .and_then(|d| d.get(key))
        .and_then(Node::as_str)
    {
        return Some((
            text.as_bytes().to_vec(),
            FieldPath::parse("stringData").key(key),
        ));
    }
    let text = raw(res, "data")
        .and_then(|d| d.get(key))
        .and_then(Node::as_str)?;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    Some((bytes, FieldPath::parse("data").key(key)))
}

/// The keys of a Secret's `data` and `stringData`, sorted, for messages.
fn keys(res: &Resource) -> Vec<String> {
    let mut out: Vec<String> = ["data", "stringData"]
        .iter()
        .filter_map(|f| raw(res, f))
        .flat_map(|n| match &n.value {
            Value::Map(entries) => entries.iter().map(|(k, _)| k.scalar_text()).collect(),
            _ => Vec::new(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a Secret or ConfigMap of the input carries any value: a stub without `data` or
/// `stringData` is filled by whatever creates the contents (cert-manager writes into an
/// existing Secret), so its contents are not known.
pub fn has_values(res: &Resource) -> bool {
    !keys(res).is_empty()
}

/// The certificate and key of a TLS Secret, with the certificate's field, as `ExtractCertInfo`
/// finds them.
type Pair = ((Vec<u8>, FieldPath), (Vec<u8>, FieldPath));

fn key_pair(res: &Resource) -> Result<Pair, Refused> {
    let pair = |cert: &str, key: &str| Some((value(res, cert)?, value(res, key)?));
    let found = [("cert", "key"), ("tls.crt", "tls.key")]
        .into_iter()
        .find_map(|(c, k)| {
            pair(c, k).filter(|((cb, _), (kb, _))| !cb.is_empty() && !kb.is_empty())
        });
    found.ok_or_else(|| {
        let present = keys(res);
        let shown = if present.is_empty() {
            "none".to_string()
        } else {
            present
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let field = if raw(res, "data").is_some() {
            "data"
        } else {
            "metadata"
        };
        Refused {
            path: FieldPath::parse(field),
            reason: format!(
                "it has no non-empty `tls.crt` and `tls.key` (or `cert` and `key`); its keys: {shown}"
            ),
        }
    })
}

fn parse_certificate(cert: &[u8], path: &FieldPath) -> Result<x509_parser::pem::Pem, Refused> {
    let refuse = |reason: String| Refused {
        path: path.clone(),
        reason,
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert)
        .map_err(|_| refuse("its certificate is not PEM (no `-----BEGIN …-----` block)".into()))?;
    pem.parse_x509()
        .map_err(|e| refuse(format!("its certificate does not parse as X.509 ({e})")))?;
    Ok(pem)
}

/// Whether a Gateway API listener's certificate Secret holds a certificate and a private key
/// (`buildSecretReference`: `ExtractCertInfo`, then `tls.X509KeyPair`, which checks neither
/// dates nor, here, that the key matches the certificate).
pub fn check_key_pair(res: &Resource) -> Result<(), Refused> {
    let ((cert, cert_path), (key, key_path)) = key_pair(res)?;
    parse_certificate(&cert, &cert_path)?;
    match x509_parser::pem::parse_x509_pem(&key) {
        Ok((_, pem)) if pem.label.ends_with("PRIVATE KEY") => Ok(()),
        _ => Err(Refused {
            path: key_path,
            reason: "its key is not a PEM private key".into(),
        }),
    }
}

/// Whether a Secret (`data` base64, or `stringData`) or a ConfigMap (`data` as text) holds a CA
/// bundle istiod takes: a non-empty `cacert` or `ca.crt` with a PEM certificate
/// (`ExtractRoot`, then `x509.CertPool.AppendCertsFromPEM`).
pub fn check_ca_bundle(res: &Resource) -> Result<(), String> {
    let text = |key: &str| -> Option<Vec<u8>> {
        if res.kind == "ConfigMap" {
            let v = raw(res, "data")?.get(key)?.as_str()?;
            Some(v.as_bytes().to_vec())
        } else {
            value(res, key).map(|(v, _)| v)
        }
    };
    let bundle = ["cacert", "ca.crt"]
        .into_iter()
        .find_map(|k| text(k).filter(|v| !v.is_empty()))
        .ok_or_else(|| "it has no non-empty `cacert` or `ca.crt`".to_string())?;
    match x509_parser::pem::parse_x509_pem(&bundle) {
        Ok((_, pem)) if pem.parse_x509().is_ok() => Ok(()),
        _ => Err("its CA bundle holds no PEM certificate".into()),
    }
}

/// Checks a gateway TLS Secret at `now` (Unix seconds); `Ok` when istiod would serve it.
pub fn check_tls_secret(res: &Resource, now: i64) -> Result<(), Refused> {
    let ((cert, cert_path), _) = key_pair(res)?;
    let refuse = |reason: String| Refused {
        path: cert_path.clone(),
        reason,
    };
    let pem = parse_certificate(&cert, &cert_path)?;
    let parsed = pem
        .parse_x509()
        .map_err(|e| refuse(format!("its certificate does not parse as X.509 ({e})")))?;
    let validity = parsed.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now > until {
        return Err(refuse(format!("its certificate expired on {}", day(until))));
    }
    if now < from {
        return Err(refuse(format!(
            "its certificate is not valid before {}",
            day(from)
        )));
    }
    Ok(())
}

/// A Unix time as its UTC date, for messages.
fn day(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    const PEM: &str = include_str!("../../../testdata/certs/valid-until-2125.pem");

    fn secret(body: &str) -> Result<(), String> {
        let text =
            format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: ns}}\n{body}");
        let (sources, store) = from_documents(&[("t.yaml".into(), text)]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        let (_, res) = store.iter().next().expect("one resource");
        // 2030-01-01
        check_tls_secret(res, 1_893_456_000).map_err(|r| format!("{}: {}", r.path, r.reason))
    }

    #[test]
    fn reads_both_key_pairs_from_data_and_string_data() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(PEM);
        assert_eq!(
            secret(&format!("data: {{tls.crt: {b64}, tls.key: a2V5}}")),
            Ok(())
        );
        assert_eq!(secret(&format!("data: {{cert: {b64}, key: a2V5}}")), Ok(()));
        let literal = PEM.replace('\n', "\n    ");
        assert_eq!(
            secret(&format!(
                "stringData:\n  tls.crt: |\n    {literal}\n  tls.key: k\n"
            )),
            Ok(())
        );
        let empty = secret(&format!("data: {{tls.crt: {b64}, tls.key: ''}}")).unwrap_err();
        assert!(empty.starts_with("data: it has no non-empty"), "{empty}");
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        let junk = base64::engine::general_purpose::STANDARD.encode("not a certificate");
        let err = secret(&format!("data: {{tls.crt: {junk}, tls.key: a2V5}}")).unwrap_err();
        assert!(
            err.starts_with("data.tls.crt: its certificate is not PEM"),
            "{err}"
        );
        assert!(secret("data: {tls.crt: '!!!', tls.key: a2V5}").is_err());
    }
}
