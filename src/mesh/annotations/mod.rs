//! Istio's annotations: which exist, where each belongs, its maturity, and the values the
//! sidecar injector accepts (istio/api `annotation/annotations.yaml`; istio/istio
//! `pkg/config/analysis/analyzers/annotations/annotations.go` and `pkg/kube/inject/validate.go`).

mod table;
mod validate;

pub use table::{ANNOTATIONS, LABELS, REMOVED};
pub use validate::validate;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Alpha,
    Beta,
    Stable,
}

/// One annotation of Istio's table.
#[derive(Debug)]
pub struct Annotation {
    pub name: &'static str,
    pub status: Status,
    pub deprecated: bool,
    /// The kinds it belongs on (`Any` for every kind).
    pub resources: &'static [&'static str],
}

impl Annotation {
    const fn new(
        name: &'static str,
        status: Status,
        deprecated: bool,
        resources: &'static [&'static str],
    ) -> Self {
        Annotation {
            name,
            status,
            deprecated,
            resources,
        }
    }

    /// Whether it belongs on a resource of `kind` (pod templates count as `Pod`).
    pub fn belongs_on(&self, kind: &str) -> bool {
        self.resources.iter().any(|&r| r == "Any" || r == kind)
    }
}

/// Whether istiod treats `name` as one of its own: any `*istio.io/` domain, and the one
/// Kubernetes annotation Istio documents.
pub fn is_istio(name: &str) -> bool {
    if name == "kubernetes.io/ingress.class" {
        return true;
    }
    name.split_once('/')
        .is_some_and(|(domain, _)| domain.ends_with("istio.io"))
}

/// Annotations set by istiod and its controllers, never by users (istio's
/// `maturity.AlwaysIgnoredAnnotations`).
pub fn set_by_istio(name: &str) -> bool {
    matches!(
        name,
        "sidecar.istio.io/status" | "gateway.istio.io/controller-version" | "istio.io/rev"
    )
}

pub fn lookup(name: &str) -> Option<&'static Annotation> {
    ANNOTATIONS
        .binary_search_by(|a| a.name.cmp(name))
        .ok()
        .map(|i| &ANNOTATIONS[i])
}

/// Whether `name` is one of Istio's labels (placed among annotations, it does nothing).
pub fn is_label(name: &str) -> bool {
    LABELS.binary_search(&name).is_ok()
}

/// The year and month Istio dropped `name` from its table, when it once had it.
pub fn removed(name: &str) -> Option<&'static str> {
    REMOVED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, when)| *when)
}

/// The known annotation `name` most likely stands for: same domain or close spelling.
pub fn suggestion(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    ANNOTATIONS
        .iter()
        .map(|a| {
            (
                strsim::jaro_winkler(&lower, &a.name.to_ascii_lowercase()),
                a.name,
            )
        })
        .filter(|(score, _)| *score >= 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// What replaces a deprecated annotation, where Istio's documentation names it.
pub fn replacement(name: &str) -> Option<&'static str> {
    match name {
        "sidecar.istio.io/inject" => Some("the label of the same name"),
        "traffic.sidecar.istio.io/kubevirtInterfaces" => {
            Some("the `istio.io/reroute-virtual-interfaces` annotation")
        }
        "sidecar.istio.io/statsInclusionPrefixes"
        | "sidecar.istio.io/statsInclusionSuffixes"
        | "sidecar.istio.io/statsInclusionRegexps"
        | "sidecar.istio.io/extraStatTags"
        | "sidecar.istio.io/statsCompression" => {
            Some("the `proxyStatsMatcher`/stats fields of `proxy.istio.io/config` or MeshConfig")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ANNOTATIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(
            lookup("sidecar.istio.io/inject").map(|a| a.deprecated),
            Some(true)
        );
        assert!(lookup("sidecar.istio.io/injet").is_none());
    }

    #[test]
    fn istio_domains() {
        assert!(is_istio("networking.istio.io/exportTo"));
        assert!(is_istio("readiness.status.sidecar.istio.io/periodSeconds"));
        assert!(is_istio("kubernetes.io/ingress.class"));
        assert!(!is_istio("kubernetes.io/psp"));
        assert!(!is_istio("istio.io.example.com/x"));
        assert!(!is_istio("no-slash"));
    }

    #[test]
    fn typos_suggest_the_annotation() {
        assert_eq!(
            suggestion("sidecar.istio.io/proxyCpu"),
            Some("sidecar.istio.io/proxyCPU")
        );
        assert_eq!(
            suggestion("networking.istio.io/exportTO"),
            Some("networking.istio.io/exportTo")
        );
        assert_eq!(suggestion("example.istio.io/zzz"), None);
    }

    #[test]
    fn removed_annotations_have_a_date() {
        assert_eq!(removed("sidecar.istio.io/enableCoreDump"), Some("2024-11"));
        assert_eq!(removed("sidecar.istio.io/inject"), None);
    }
}
