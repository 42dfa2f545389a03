//! Which Gateway API CRDs istiod watches: it reads a CRD's bundle version
//! (`gateway.networking.k8s.io/bundle-version`) and ignores CRDs below a minimum or above a
//! maximum, and those without a readable version, for the kinds listed per Istio version
//! (istio/istio `pkg/kube/kclient/crdwatcher.go` up to release-1.29, then
//! `pkg/config/schema/gatewayapi/minimumversions.go`).

/// The annotation the Gateway API's CRDs carry their release in.
pub const BUNDLE_VERSION: &str = "gateway.networking.k8s.io/bundle-version";

type Version = (u64, u64, u64);

/// `(CRD, Istio minor from which the bound applies, bound)`.
const MINIMUMS: &[(&str, u32, Version)] = &[
    ("grpcroutes.gateway.networking.k8s.io", 0, (1, 1, 0)),
    (
        "backendtlspolicies.gateway.networking.k8s.io",
        28,
        (1, 4, 0),
    ),
    ("tlsroutes.gateway.networking.k8s.io", 30, (1, 5, 0)),
    ("tcproutes.gateway.networking.k8s.io", 31, (1, 6, 0)),
];

/// `(CRD, first Istio minor, last Istio minor, bound)`: the TLSRoute versions istiod's
/// v1alpha2 client could still watch.
const MAXIMUMS: &[(&str, u32, u32, Version)] = &[
    ("tlsroutes.gateway.networking.k8s.io", 27, 27, (1, 4, 0)),
    ("tlsroutes.gateway.networking.k8s.io", 28, 29, (1, 4, 1)),
];

/// The newest Istio minor whose bounds meshlint knows; used when the target is unknown.
pub const LATEST_MINOR: u32 = 31;

/// Why istiod (of minor `istio_minor`) does not watch a CRD, or `None` when it does or the CRD
/// is not one it checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Ignored {
    /// No bundle-version annotation.
    NoVersion,
    /// A version that does not parse.
    BadVersion,
    /// Below the minimum (the bound as written, e.g. `v1.5.0`).
    Below(String),
    /// Above the maximum.
    Above(String),
}

/// Parses a bundle version as Masterminds semver does for these: `v1.4.1`, `1.4`,
/// `v1.5.0-rc.1` (the pre-release is dropped: an RC counts as its release).
fn parse(text: &str) -> Option<Version> {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let mut next = |required: bool| match parts.next() {
        Some(p) => p.parse::<u64>().ok(),
        None if !required => Some(0),
        None => None,
    };
    let v = (next(true)?, next(false)?, next(false)?);
    parts.next().is_none().then_some(v)
}

fn show((a, b, c): Version) -> String {
    format!("v{a}.{b}.{c}")
}

/// Whether istiod of minor `istio_minor` ignores the CRD `name` with bundle version `version`.
pub fn ignored(name: &str, version: Option<&str>, istio_minor: u32) -> Option<Ignored> {
    let min = MINIMUMS
        .iter()
        .find(|(n, from, _)| *n == name && istio_minor >= *from)
        .map(|(_, _, v)| *v);
    let max = MAXIMUMS
        .iter()
        .find(|(n, from, to, _)| *n == name && (*from..=*to).contains(&istio_minor))
        .map(|(_, _, _, v)| *v);
    if min.is_none() && max.is_none() {
        return None;
    }
    let Some(text) = version else {
        return Some(Ignored::NoVersion);
    };
    let Some(v) = parse(text) else {
        return Some(Ignored::BadVersion);
    };
    match (min, max) {
        (Some(m), _) if v < m => Some(Ignored::Below(show(m))),
        (_, Some(m)) if v > m => Some(Ignored::Above(show(m))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS: &str = "tlsroutes.gateway.networking.k8s.io";

    #[test]
    fn bounds_follow_the_istio_version() {
        assert_eq!(
            ignored(TLS, Some("v1.4.1"), 31),
            Some(Ignored::Below("v1.5.0".into()))
        );
        assert_eq!(ignored(TLS, Some("v1.4.1"), 29), None);
        assert_eq!(
            ignored(TLS, Some("v1.5.0"), 29),
            Some(Ignored::Above("v1.4.1".into()))
        );
        assert_eq!(ignored(TLS, Some("v1.5.0-rc.1"), 31), None);
        assert_eq!(ignored(TLS, Some("v1.4.1"), 26), None);
        assert_eq!(
            ignored("httproutes.gateway.networking.k8s.io", None, 31),
            None
        );
        assert_eq!(ignored(TLS, None, 31), Some(Ignored::NoVersion));
        assert_eq!(ignored(TLS, Some("latest"), 31), Some(Ignored::BadVersion));
        assert_eq!(parse("1.4"), Some((1, 4, 0)));
        assert_eq!(parse("v1.2.3.4"), None);
    }
}
