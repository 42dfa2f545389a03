//! The target Istio version: parsed from flags or detected from istiod/proxy image tags.

use crate::model::{ResId, Store};
use crate::source::FieldPath;

/// Parses `1.20`, `1.20.3`, `v1.20.3` or `1.20.3-distroless` into `(1, 20)`.
pub fn parse(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('v');
    let mut parts = s.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Images whose tag is the Istio version of the control plane or proxy.
const ISTIO_IMAGES: &[&str] = &["pilot", "proxyv2", "istiod", "proxy"];

/// The lowest Istio version named by an istiod or proxy image in the input, and where it was
/// seen. The lowest is taken because version-dependent problems exist while any old part runs.
pub fn detect(store: &Store) -> Option<((u32, u32), String)> {
    let mut best: Option<((u32, u32), String)> = None;
    for (_, r) in store.iter() {
        let Some(w) = r.workload() else { continue };
        for (_, c) in w.all_containers() {
            let Some(image) = c.image.as_deref() else {
                continue;
            };
            let Some((repo, tag)) = image.rsplit_once(':') else {
                continue;
            };
            let name = repo.rsplit('/').next().unwrap_or(repo);
            if !repo.contains("istio") || !ISTIO_IMAGES.contains(&name) {
                continue;
            }
            let Some(v) = parse(tag) else { continue };
            let source = format!("image `{image}` in {} {}/{}", r.kind, r.namespace, r.name);
            // Ties are broken by the text, so the choice never depends on input order.
            if best.as_ref().is_none_or(|(b, bs)| (v, &source) < (*b, bs)) {
                best = Some((v, source));
            }
        }
    }
    best.or_else(|| from_revision_labels(store))
}

/// A revision label that encodes a version (`istio.io/rev: 1-20-3`, as revisions are commonly
/// named), when no image says which version runs.
fn from_revision_labels(store: &Store) -> Option<((u32, u32), String)> {
    store
        .iter()
        .filter_map(|(_, r)| {
            let rev = r
                .labels
                .get("istio.io/rev")
                .or_else(|| r.workload().and_then(|w| w.pod_labels.get("istio.io/rev")))?;
            let v = parse(&rev.replace('-', "."))?;
            Some((
                v,
                format!("label `istio.io/rev: {rev}` on {} {}", r.kind, r.name),
            ))
        })
        .min()
}

/// An env var of istiod's `discovery` container, with the istiod workload and the path of the
/// env entry, when an istiod Deployment in the input sets it to a value (not a reference or a
/// chart template).
pub fn istiod_env<'a>(store: &'a Store, name: &str) -> Option<(ResId, FieldPath, &'a str)> {
    store.iter().find_map(|(id, r)| {
        let w = r.workload()?;
        w.all_containers()
            .filter(|(_, c)| {
                c.image.as_deref().is_some_and(|i| {
                    let repo = i.rsplit_once(':').map_or(i, |(r, _)| r);
                    repo.ends_with("/pilot") || repo.ends_with("/istiod")
                })
            })
            .find_map(|(path, c)| {
                let (i, e) = c.env.iter().enumerate().find(|(_, e)| e.name == name)?;
                let v = e.value.as_deref().filter(|v| !v.contains("{{"))?;
                Some((id, path.key("env").index(i).key("value"), v))
            })
    })
}

/// A boolean env var of istiod's `discovery` container (e.g. `ENABLE_EXTERNAL_NAME_ALIAS`),
/// when an istiod Deployment in the input sets it.
pub fn istiod_flag(store: &Store, name: &str) -> Option<bool> {
    istiod_env(store, name).map(|(_, _, v)| v.eq_ignore_ascii_case("true") || v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse("1.20"), Some((1, 20)));
        assert_eq!(parse("v1.21.0"), Some((1, 21)));
        assert_eq!(parse("1.19.3-distroless"), Some((1, 19)));
        assert_eq!(parse("latest"), None);
    }

    #[test]
    fn falls_back_to_version_like_revision_labels() {
        let text = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/rev: 1-19-4}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {istio.io/rev: canary}}
";
        let (_, store) = crate::model::from_documents(&[("t.yaml".into(), text.into())]);
        let (v, src) = detect(&store).expect("detected");
        assert_eq!(v, (1, 19));
        assert!(src.contains("1-19-4"), "{src}");
    }

    #[test]
    fn detects_the_oldest_istio_image() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec: {template: {spec: {containers: [{name: discovery, image: docker.io/istio/pilot:1.20.3}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: istio-proxy, image: gcr.io/istio-release/proxyv2:1.19.1-distroless}, {name: app, image: nginx:1.25}]}
";
        let (_, store) = crate::model::from_documents(&[("t.yaml".into(), text.into())]);
        let (v, src) = detect(&store).expect("detected");
        assert_eq!(v, (1, 19));
        assert!(src.contains("proxyv2:1.19.1"), "{src}");
    }
}
