//! MESH1701 envoyfilter-relative-operation: an EnvoyFilter without `priority` whose patch is
//! placed relative to existing configuration (INSERT_BEFORE, INSERT_AFTER, REPLACE, REMOVE), so
//! whether and where it applies depends on the order istiod applies EnvoyFilters in; and such
//! patches that name nothing to be relative to, which istiod skips.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

use super::{
    Patch, insert_supported, names_route, patches, replace_supported, route_configuration_ignores,
};

pub struct RelativeOperation;

static META: RuleMeta = RuleMeta {
    code: "MESH1701",
    name: "envoyfilter-relative-operation",
    summary: "EnvoyFilter patch placed relative to other config without a priority, or relative to nothing",
    severity: Severity::Warning,
    istio_codes: &["IST0151", "IST0155"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1701-envoyfilter-relative-operation.md"),
};

/// Whether another rule of the family reports the patch (istio's analyzer reports these under
/// their own codes, not as relative operations).
fn reported_elsewhere(p: &Patch<'_>) -> bool {
    match p.operation {
        "REPLACE" => !replace_supported(p.apply_to),
        "REMOVE" => {
            route_configuration_ignores(p.apply_to, p.operation)
                || (p.apply_to == "HTTP_ROUTE" && !names_route(p))
        }
        _ => false,
    }
}

/// Why istiod never applies a relative patch, if it does not.
fn never_applied(p: &Patch<'_>) -> Option<String> {
    let op = p.operation;
    if op.starts_with("INSERT_") && !insert_supported(p.apply_to) {
        return Some(format!(
            "istiod ignores {op} on {}: only listener filters, network filters, HTTP filters and HTTP routes have an order to insert into, so this patch does nothing",
            p.apply_to
        ));
    }
    if (op == "REPLACE" || op == "REMOVE") && p.anchor().is_none() {
        return Some(format!(
            "{op} on {} without `{}` names no filter to {}: istiod skips the patch, so it does nothing",
            p.apply_to,
            p.anchor_field(),
            op.to_lowercase()
        ));
    }
    None
}

impl Rule for RelativeOperation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let all = patches(cx.store);
        let root = cx.settings.mesh.root_namespace().to_string();
        // Patches gated on a proxy version, by the name istio's analyzer files them under.
        let mut versioned: BTreeMap<String, Vec<&Patch<'_>>> = BTreeMap::new();
        // Objects ADD and INSERT patches create, by name.
        let mut added: BTreeMap<&str, Vec<&Patch<'_>>> = BTreeMap::new();
        for p in &all {
            if p.proxy_version().is_some()
                && let Some(name) = p.instance_name()
            {
                versioned.entry(name).or_default().push(p);
            }
            if (p.operation == "ADD" || p.operation.starts_with("INSERT_"))
                && let Some(name) = p.added_name()
            {
                added.entry(name).or_default().push(p);
            }
        }
        // Two EnvoyFilters reach one proxy only from one namespace or from the root namespace.
        let same_scope = |a: &Patch<'_>, b: &Patch<'_>| {
            a.res.namespace == b.res.namespace || a.res.namespace == root || b.res.namespace == root
        };
        let same = |a: &Patch<'_>, b: &Patch<'_>| a.id == b.id && a.index == b.index;

        for p in &all {
            let relative = matches!(
                p.operation,
                "INSERT_BEFORE" | "INSERT_AFTER" | "REPLACE" | "REMOVE"
            );
            if !relative || reported_elsewhere(p) {
                continue;
            }
            let unprioritised = p.filter.priority == 0;
            let twin = p.instance_name().and_then(|name| {
                versioned
                    .get(&name)?
                    .iter()
                    .copied()
                    .find(|q| !same(p, q) && same_scope(p, q))
            });
            let istio: &'static [&'static str] = match (unprioritised, twin) {
                (false, _) => &[],
                (true, Some(_)) => &["IST0155"],
                (true, None) => &["IST0151"],
            };
            let path = p.path("patch.operation");
            if let Some(why) = never_applied(p) {
                cx.report(p.id, path, format!("patch {}: {why}", p.index))
                    .subkind("never-applied")
                    .istio(istio)
                    .help(if p.operation.starts_with("INSERT_") {
                        "use ADD, MERGE or REMOVE for this kind, or apply the patch to the filter or route it means"
                    } else {
                        "name the filter the patch replaces or removes in the match"
                    });
                continue;
            }
            if !unprioritised {
                continue;
            }
            let op = p.operation;
            if let Some(q) = twin {
                let name = p.instance_name().unwrap_or_default();
                let version = q.proxy_version().unwrap_or_default();
                cx.report(
                    p.id,
                    path,
                    format!(
                        "patch {}: {op} without a priority on `{name}`, which a patch gated on proxyVersion `{version}` also configures: during an upgrade old and new proxies get different filters, and EnvoyFilters without priority apply oldest first, so this patch may find nothing to act on",
                        p.index
                    ),
                )
                .subkind("proxy-version")
                .istio(istio)
                .related(
                    q.id,
                    q.path("match.proxy.proxyVersion"),
                    format!("patch {} of EnvoyFilter {}/{} is version-gated", q.index, q.res.namespace, q.res.name),
                )
                .help("set `spec.priority` so the order does not depend on creation time, or use INSERT_FIRST or ADD, which need no other filter");
                continue;
            }
            if p.anchor().is_none() {
                // An INSERT without a filter to insert against (REPLACE and REMOVE are never
                // applied above): istiod inserts first or appends, as INSERT_FIRST or ADD do.
                let (place, like) = if op == "INSERT_BEFORE" {
                    ("inserts it first", "INSERT_FIRST")
                } else {
                    ("appends it at the end", "ADD")
                };
                cx.report(
                    p.id,
                    path,
                    format!(
                        "patch {}: {op} on {} without `{}` names no filter to insert against, so istiod {place}, as {like} does; only its order among other EnvoyFilters doing the same depends on their creation time, as none has a priority",
                        p.index,
                        p.apply_to,
                        p.anchor_field()
                    ),
                )
                .subkind("no-anchor")
                .istio(istio)
                .severity(Severity::Info)
                .help(format!("write {like} to say what happens, or name the filter in `{}` and set `spec.priority`", p.anchor_field()));
                continue;
            }
            let anchor = p.anchor().filter(|a| !a.is_empty());
            let producer = anchor.as_deref().and_then(|a| {
                added
                    .get(a)?
                    .iter()
                    .copied()
                    .find(|q| q.id != p.id && same_scope(p, q))
            });
            let why = match (&anchor, producer) {
                (Some(a), Some(q)) => format!(
                    "`{a}` is added by EnvoyFilter {}/{}, and EnvoyFilters without priority apply oldest first (creationTimestamp), so this patch finds it only when that one was created first",
                    q.res.namespace, q.res.name
                ),
                _ => "EnvoyFilters without priority apply oldest first (creationTimestamp), so the result depends on when each was created; when an earlier filter changes what this patch is placed against, the patch is silently not applied".to_string(),
            };
            let reported = cx
                .report(
                    p.id,
                    path,
                    format!(
                        "patch {}: {op} on {} is placed relative to existing configuration without a priority: {why}",
                        p.index, p.apply_to
                    ),
                )
                .subkind("no-priority")
                .istio(istio)
                .help("set `spec.priority` (lower applies first), or use INSERT_FIRST or ADD where the position does not matter");
            if let Some(q) = producer {
                reported.related(
                    q.id,
                    q.path("patch.value.name"),
                    format!(
                        "added by patch {} of EnvoyFilter {}/{}",
                        q.index, q.res.namespace, q.res.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn filter(name: &str, ns: &str, extra: &str, patch: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{extra}  configPatches:\n{patch}---\n"
        )
    }

    const VERSIONED: &str = "  - applyTo: HTTP_FILTER\n    match:\n      proxy: {proxyVersion: '^1\\.22.*'}\n      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}\n    patch: {operation: INSERT_FIRST, value: {name: acme.lua}}\n";
    const REPLACE: &str = "  - applyTo: HTTP_FILTER\n    match:\n      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: acme.lua}}}}\n    patch: {operation: REPLACE, value: {name: acme.lua}}\n";

    fn kinds(text: &str) -> Vec<(String, Vec<&'static str>)> {
        findings_of("MESH1701", text)
            .into_iter()
            .map(|f| {
                (
                    f.subkind.unwrap_or_default().to_string(),
                    f.istio_codes.to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn a_version_gated_twin_counts_only_where_both_can_reach_one_proxy() {
        let same_ns = filter("v", "shop", "", VERSIONED) + &filter("r", "shop", "", REPLACE);
        assert_eq!(
            kinds(&same_ns),
            [("proxy-version".to_string(), vec!["IST0155"])]
        );
        let root = filter("v", "istio-system", "", VERSIONED) + &filter("r", "shop", "", REPLACE);
        assert_eq!(
            kinds(&root),
            [("proxy-version".to_string(), vec!["IST0155"])]
        );
        let apart = filter("v", "web", "", VERSIONED) + &filter("r", "shop", "", REPLACE);
        assert_eq!(
            kinds(&apart),
            [("no-priority".to_string(), vec!["IST0151"])]
        );
    }

    #[test]
    fn a_priority_silences_ordering_but_not_a_patch_that_never_applies() {
        let ordered = filter("r", "shop", "  priority: 5\n", REPLACE);
        assert!(kinds(&ordered).is_empty());
        let no_anchor = "  - applyTo: NETWORK_FILTER\n    match: {context: SIDECAR_INBOUND}\n    patch: {operation: REMOVE}\n";
        let ordered = filter("r", "shop", "  priority: 5\n", no_anchor);
        assert_eq!(kinds(&ordered), [("never-applied".to_string(), vec![])]);
        let unordered = filter("r", "shop", "", no_anchor);
        assert_eq!(
            kinds(&unordered),
            [("never-applied".to_string(), vec!["IST0151"])]
        );
    }

    #[test]
    fn insert_without_an_anchor_says_where_it_lands() {
        let patch = "  - applyTo: HTTP_FILTER\n    match:\n      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}\n    patch: {operation: INSERT_BEFORE, value: {name: acme.lua}}\n";
        let found = findings_of("MESH1701", &filter("i", "shop", "", patch));
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("inserts it first, as INSERT_FIRST does"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Info);
    }
}
