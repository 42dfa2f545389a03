//! MESH904 destination-rule-tls: DestinationRule client TLS settings that istio refuses or that
//! do not verify what the author expects: MUTUAL without a client certificate (rejected by
//! validation), SIMPLE or MUTUAL without `caCertificates` (istio's IST0128 and IST0129).

use crate::diagnostic::Severity;
use crate::model::istio::{ClientTls, DestinationRule, TrafficPolicy};
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct DestinationRuleTls;

static META: RuleMeta = RuleMeta {
    code: "MESH904",
    name: "destination-rule-tls",
    summary: "DestinationRule TLS: MUTUAL without a client certificate, SIMPLE or MUTUAL without caCertificates",
    severity: Severity::Warning,
    istio_codes: &["IST0128", "IST0129"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH904-destination-rule-tls.md"),
};

/// Where a `tls` is written: istio's analyzer reads the top-level policy (IST0128) and its
/// `portLevelSettings` (IST0129), not subsets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Destination,
    Port,
    Subset,
}

/// Every `tls` of a DestinationRule with its path: the top-level one first, then
/// `portLevelSettings` in order (istio's analyzer order), then the subsets' policies.
fn settings(dr: &DestinationRule) -> Vec<(FieldPath, Place, &ClientTls)> {
    let mut out = Vec::new();
    if let Some(tp) = &dr.traffic_policy {
        policy(&mut out, FieldPath::parse("spec.trafficPolicy"), tp, false);
    }
    for (i, s) in dr.subsets.iter().enumerate() {
        if let Some(tp) = &s.traffic_policy {
            let base = FieldPath::parse("spec.subsets")
                .index(i)
                .key("trafficPolicy");
            policy(&mut out, base, tp, true);
        }
    }
    out
}

fn policy<'a>(
    out: &mut Vec<(FieldPath, Place, &'a ClientTls)>,
    base: FieldPath,
    tp: &'a TrafficPolicy,
    subset: bool,
) {
    let (top, port) = if subset {
        (Place::Subset, Place::Subset)
    } else {
        (Place::Destination, Place::Port)
    };
    if let Some(tls) = &tp.tls {
        out.push((base.clone().key("tls"), top, tls));
    }
    for (i, p) in tp.port_level_settings.iter().enumerate() {
        if let Some(tls) = &p.tls {
            let path = base.clone().key("portLevelSettings").index(i).key("tls");
            out.push((path, port, tls));
        }
    }
}

fn set(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

/// What the proxy verifies the server against without `caCertificates`, by target version:
/// `VERIFY_CERTIFICATE_AT_CLIENT` is on from Istio 1.21 (the `1.20` compatibility profile
/// turned it off, `releasenotes/notes/compatibility-version-1-20.yaml`) and the flag was later
/// removed, leaving verification always on.
fn verification(cx: &Context<'_>, skip: bool) -> (Severity, String) {
    if skip {
        return (
            Severity::Warning,
            "`insecureSkipVerify: true` turns verification off: the server's certificate is not checked".into(),
        );
    }
    match cx.settings.istio_version {
        Some(v) if v < (1, 21) => (
            Severity::Warning,
            format!(
                "with Istio {}.{} ({}) the proxy does not verify the server's certificate at all (`VERIFY_CERTIFICATE_AT_CLIENT` is off before 1.21): any server, or a man in the middle, is accepted",
                v.0, v.1, cx.settings.istio_version_source
            ),
        ),
        Some(v) => (
            Severity::Info,
            format!(
                "with Istio {}.{} ({}) the proxy verifies the server's certificate against the operating system's CA bundle in the proxy image: a server with a certificate from a private CA fails the handshake",
                v.0, v.1, cx.settings.istio_version_source
            ),
        ),
        None => (
            Severity::Info,
            "from Istio 1.21 the proxy verifies the server's certificate against the operating system's CA bundle in the proxy image (a certificate from a private CA fails the handshake); before 1.21 it did not verify at all (no target version was given or detected; pass --istio-version)".into(),
        ),
    }
}

impl Rule for DestinationRuleTls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let drs: Vec<(ResId, &DestinationRule)> = store
            .iter()
            .filter_map(|(id, r)| match &r.spec {
                Spec::DestinationRule(dr) => Some((id, dr)),
                _ => None,
            })
            .collect();
        for (id, dr) in drs {
            for (path, place, tls) in settings(dr) {
                let mode = tls.mode();
                if mode != "SIMPLE" && mode != "MUTUAL" {
                    continue;
                }
                let credential = set(&tls.credential_name);
                if mode == "MUTUAL" && !credential {
                    let missing: Vec<&str> = [
                        ("clientCertificate", &tls.client_certificate),
                        ("privateKey", &tls.private_key),
                    ]
                    .into_iter()
                    .filter(|(_, v)| !set(v))
                    .map(|(k, _)| k)
                    .collect();
                    if !missing.is_empty() {
                        cx.report(
                            id,
                            path.clone().key("mode"),
                            format!(
                                "TLS mode MUTUAL without `{}` (and without `credentialName`): istio's validation rejects the DestinationRule (`client certificate required for mutual tls`), so none of it applies",
                                missing.join("` and `")
                            ),
                        )
                        .severity(Severity::Error)
                        .subkind("mutual-without-client-certificate")
                        .istio(&[])
                        .help("set `clientCertificate` and `privateKey` (files in the proxy) or `credentialName` (a Secret, for gateways and sidecars with a workloadSelector)");
                        // A rejected rule verifies nothing: its CA is moot.
                        continue;
                    }
                }
                // istio's CaCertificateAnalyzer: a credentialName is read only with a workloadSelector.
                if set(&tls.ca_certificates) || credential && dr.workload_selector.is_some() {
                    continue;
                }
                let (severity, what) = verification(cx, tls.insecure_skip_verify == Some(true));
                let (code, at): (&'static [&'static str], &str) = match place {
                    Place::Destination => (&["IST0128"], "destination-level"),
                    Place::Port => (&["IST0129"], "port-level"),
                    Place::Subset => (&[], "subset"),
                };
                cx.report(
                    id,
                    path.key("mode"),
                    format!(
                        "{at} TLS mode {mode} for host `{}` has no `caCertificates`: {what}",
                        dr.host
                    ),
                )
                .severity(severity)
                .subkind("no-ca-certificates")
                .istio(code)
                .help("set `caCertificates` to the CA that signs the server's certificate (or `credentialName` with a workloadSelector), or `insecureSkipVerify: true` only where no verification is intended");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};
    use crate::rules::testing::findings_at;

    fn run(text: &str, version: Option<&str>) -> Vec<Finding> {
        findings_at("MESH904", text, version)
    }

    const SIMPLE: &str = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext, namespace: default}
spec:
  host: api.example.com
  trafficPolicy:
    tls: {mode: SIMPLE}
";

    #[test]
    fn what_a_missing_ca_means_follows_the_target_version() {
        let old = run(SIMPLE, Some("1.20"));
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].severity, Severity::Warning);
        assert!(
            old[0].message.contains("does not verify"),
            "{}",
            old[0].message
        );
        assert_eq!(old[0].istio_codes, vec!["IST0128"]);
        let new = run(SIMPLE, Some("1.22"));
        assert_eq!(new[0].severity, Severity::Info);
        assert!(new[0].message.contains("CA bundle"), "{}", new[0].message);
    }

    #[test]
    fn a_credential_name_counts_as_a_ca_only_with_a_workload_selector() {
        let with = SIMPLE.replace(
            "tls: {mode: SIMPLE}",
            "tls: {mode: SIMPLE, credentialName: ca}\n  workloadSelector: {matchLabels: {app: gw}}",
        );
        assert!(run(&with, None).is_empty());
        let without = SIMPLE.replace(
            "tls: {mode: SIMPLE}",
            "tls: {mode: SIMPLE, credentialName: ca}",
        );
        assert_eq!(run(&without, None).len(), 1);
    }
}
