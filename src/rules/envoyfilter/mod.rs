//! EnvoyFilter patches istiod ignores, or applies in an order nobody chose (istio's
//! `envoyfilter.EnvoyPatchAnalyzer`, checked against how istiod applies patches in
//! `pilot/pkg/networking/core/envoyfilter/`).

pub mod mesh1701_relative_operation;
pub mod mesh1702_replace_unsupported;
pub mod mesh1703_add_misused;
pub mod mesh1704_remove_misused;

use crate::model::istio::{EnvoyConfigPatch, EnvoyFilter};
use crate::model::{ResId, Resource, Spec, Store};
use crate::rules::Context;
use crate::source::FieldPath;

/// One config patch of an EnvoyFilter, with what the family's rules read of it.
pub struct Patch<'a> {
    pub id: ResId,
    pub res: &'a Resource,
    pub filter: &'a EnvoyFilter,
    pub index: usize,
    pub patch: &'a EnvoyConfigPatch,
    pub apply_to: &'a str,
    pub operation: &'a str,
}

impl Patch<'_> {
    /// `spec.configPatches[i]` followed by `rest`.
    pub fn path(&self, rest: &str) -> FieldPath {
        let mut path = FieldPath::parse("spec.configPatches").index(self.index);
        path.0.extend(FieldPath::parse(rest).0);
        path
    }

    /// The patch's `proxyVersion` match, when it has one.
    pub fn proxy_version(&self) -> Option<&str> {
        let m = self.patch.matches.as_ref()?;
        m.proxy
            .as_ref()?
            .proxy_version
            .as_deref()
            .filter(|v| !v.is_empty())
    }

    fn filter_match(&self) -> Option<&crate::model::istio::EnvoyFilterMatch> {
        let listener = self.patch.matches.as_ref()?.listener.as_ref()?;
        listener.filter_chain.as_ref()?.filter.as_ref()
    }

    /// The existing object a REPLACE, REMOVE or INSERT_BEFORE/AFTER patch is placed against
    /// (`hasHTTPFilterMatch`, `hasNetworkFilterMatch` and `hasListenerFilterMatch` in
    /// `listener_patch.go`), or `None` when the patch names none. `Some("")` for kinds whose
    /// anchor meshlint does not read.
    pub fn anchor(&self) -> Option<String> {
        match self.apply_to {
            "HTTP_FILTER" => self
                .filter_match()?
                .sub_filter
                .as_ref()
                .map(|s| s.name.clone().unwrap_or_default()),
            "NETWORK_FILTER" => self
                .filter_match()
                .map(|f| f.name.clone().unwrap_or_default()),
            "LISTENER_FILTER" => {
                let listener = self.patch.matches.as_ref()?.listener.as_ref()?;
                listener.listener_filter.clone().filter(|n| !n.is_empty())
            }
            _ => Some(String::new()),
        }
    }

    /// The field that names the anchor, for messages and positions.
    pub fn anchor_field(&self) -> &'static str {
        match self.apply_to {
            "HTTP_FILTER" => "match.listener.filterChain.filter.subFilter",
            "NETWORK_FILTER" => "match.listener.filterChain.filter",
            "LISTENER_FILTER" => "match.listener.listenerFilter",
            _ => "match",
        }
    }

    /// The name istio's analyzer files the patch under: the value's `name`, else (for a value
    /// that is a mapping) the network filter it matches.
    pub fn instance_name(&self) -> Option<String> {
        let value = self.patch.patch.as_ref()?.value.as_ref()?.as_object()?;
        match value.get("name") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => self.filter_match()?.name.clone(),
        }
    }

    /// The name of the object an ADD or INSERT patch creates.
    pub fn added_name(&self) -> Option<&str> {
        let value = self.patch.patch.as_ref()?.value.as_ref()?;
        value.get("name")?.as_str()
    }
}

/// Reports an ADD or REMOVE patch on ROUTE_CONFIGURATION: istiod applies only MERGE there
/// (`envoyfilter/rc_patch.go`), so the patch does nothing.
pub fn report_ignored_on_route_configuration(cx: &mut Context<'_>, p: &Patch<'_>, help: &str) {
    cx.report(
        p.id,
        p.path("patch.operation"),
        format!(
            "patch {}: istiod ignores {} on ROUTE_CONFIGURATION (only MERGE applies to route configurations), so this patch does nothing",
            p.index, p.operation
        ),
    )
    .subkind("ignored")
    .help(help);
}

/// Every config patch of every EnvoyFilter, in input order; patches without `patch` or
/// `operation` are left out (the API server's validation refuses them).
pub fn patches(store: &Store) -> Vec<Patch<'_>> {
    let mut out = Vec::new();
    for (id, res) in store.iter() {
        let Spec::EnvoyFilter(filter) = &res.spec else {
            continue;
        };
        for (index, patch) in filter.config_patches.iter().enumerate() {
            let Some(patch) = patch else { continue };
            let Some(operation) = patch.patch.as_ref().and_then(|p| p.operation.as_deref()) else {
                continue;
            };
            out.push(Patch {
                id,
                res,
                filter,
                index,
                patch,
                apply_to: patch.apply_to.as_deref().unwrap_or_default(),
                operation,
            });
        }
    }
    out
}

/// Whether istiod can apply `REPLACE` to `apply_to` (`listener_patch.go` replaces listener,
/// network and HTTP filters, `rc_patch.go` virtual hosts; nothing else).
pub fn replace_supported(apply_to: &str) -> bool {
    matches!(
        apply_to,
        "HTTP_FILTER" | "NETWORK_FILTER" | "LISTENER_FILTER" | "VIRTUAL_HOST"
    )
}

/// Whether istiod has an order to place `INSERT_BEFORE`/`INSERT_AFTER` in for `apply_to`
/// (listener, network and HTTP filters and HTTP routes; other kinds ignore the operation).
pub fn insert_supported(apply_to: &str) -> bool {
    matches!(
        apply_to,
        "HTTP_FILTER" | "NETWORK_FILTER" | "LISTENER_FILTER" | "HTTP_ROUTE"
    )
}

/// Whether `rc_patch.go` ignores `operation` on a ROUTE_CONFIGURATION (only MERGE applies).
pub fn route_configuration_ignores(apply_to: &str, operation: &str) -> bool {
    apply_to == "ROUTE_CONFIGURATION" && operation != "MERGE"
}

/// Whether an HTTP_ROUTE patch names the route it applies to (`routeMatch` in `rc_patch.go`
/// matches every route when `vhost.route` is absent).
pub fn names_route(p: &Patch<'_>) -> bool {
    p.patch
        .matches
        .as_ref()
        .and_then(|m| m.route_configuration.as_ref())
        .and_then(|rc| rc.vhost.as_ref())
        .and_then(|vh| vh.route.as_ref())
        .is_some_and(|r| !r.is_null())
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn codes(patch: &str) -> Vec<&'static str> {
        let text = format!(
            "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {{name: f, namespace: shop}}\nspec:\n  priority: 1\n  configPatches:\n{patch}"
        );
        let mut out: Vec<_> = ["MESH1701", "MESH1702", "MESH1703", "MESH1704"]
            .into_iter()
            .filter(|c| !findings_of(c, &text).is_empty())
            .collect();
        out.dedup();
        out
    }

    #[test]
    fn each_operation_is_judged_by_the_kinds_istiod_applies_it_to() {
        let patch = |apply_to: &str, op: &str, m: &str| {
            format!(
                "  - applyTo: {apply_to}\n    match: {{{m}}}\n    patch: {{operation: {op}, value: {{name: x}}}}\n"
            )
        };
        let sub = "listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: envoy.filters.http.router}}}}";
        assert!(codes(&patch("HTTP_FILTER", "REPLACE", sub)).is_empty());
        assert!(codes(&patch("VIRTUAL_HOST", "REPLACE", "")).is_empty());
        assert_eq!(codes(&patch("CLUSTER", "REPLACE", "")), ["MESH1702"]);
        assert_eq!(codes(&patch("HTTP_ROUTE", "REPLACE", "")), ["MESH1702"]);
        assert_eq!(
            codes(&patch("ROUTE_CONFIGURATION", "ADD", "")),
            ["MESH1703"]
        );
        assert!(codes(&patch("CLUSTER", "ADD", "")).is_empty());
        assert_eq!(
            codes(&patch("ROUTE_CONFIGURATION", "REMOVE", "")),
            ["MESH1704"]
        );
        assert!(codes(&patch("CLUSTER", "REMOVE", "")).is_empty());
        let named = "routeConfiguration: {vhost: {name: a, route: {name: legacy}}}";
        assert!(codes(&patch("HTTP_ROUTE", "REMOVE", named)).is_empty());
        assert_eq!(codes(&patch("HTTP_ROUTE", "REMOVE", "")), ["MESH1704"]);
        // Without a subFilter, istiod has no HTTP filter to replace.
        let chain = "listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}";
        assert_eq!(codes(&patch("HTTP_FILTER", "REPLACE", chain)), ["MESH1701"]);
        assert!(codes(&patch("NETWORK_FILTER", "REPLACE", chain)).is_empty());
    }

    #[test]
    fn patches_without_patch_or_operation_are_skipped_and_later_ones_still_read() {
        let text = "  - applyTo: NETWORK_FILTER\n    match:\n    patch:\n  - applyTo: CLUSTER\n    patch: {operation: REPLACE, value: {name: c}}\n";
        assert_eq!(codes(text), ["MESH1702"]);
    }
}
