//! Sidecar references: the workloadSelector and the `namespace/host` entries of egress listeners.

use crate::model::{ResId, Resource, Spec};
use crate::source::FieldPath;

use crate::mesh::hosts::is_short;

use super::{Checker, partial};

impl<'a> Checker<'a, '_> {
    pub(super) fn sidecar(&mut self, id: ResId, res: &'a Resource) {
        let Spec::Sidecar(sc) = &res.spec else {
            return;
        };
        if let Some(sel) = &sc.workload_selector
            && !sel.labels.is_empty()
        {
            let first = sel.labels.keys().next().cloned().unwrap_or_default();
            self.selector_in_namespace(
                id,
                res,
                &sel.labels,
                FieldPath::parse("spec.workloadSelector.labels").key(first),
                ("workloadSelector", &["IST0101"]),
            );
        }
        let ns = res.namespace.as_str();
        for (i, l) in sc.egress.iter().enumerate() {
            for (j, entry) in l.hosts.iter().enumerate() {
                let Some((hns, host)) = entry.split_once('/') else {
                    continue;
                };
                if host.contains('*') || is_short(host) || hns == "~" {
                    continue;
                }
                let target_ns = match hns {
                    "." => Some(ns),
                    "*" => None,
                    other => Some(other),
                };
                let declared = self.hosts.declaring(host);
                let ok = declared.iter().any(|e| {
                    target_ns.is_none_or(|t| e.namespace == t) && e.export.visible_from(ns)
                });
                if ok {
                    continue;
                }
                let present = target_ns.is_none_or(|t| self.missing_services(t).is_none());
                let where_ = match target_ns {
                    Some(t) => format!("namespace {t}"),
                    None => "any namespace".into(),
                };
                let hint = self
                    .hosts
                    .suggest(host, target_ns.unwrap_or(ns))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let other = declared
                    .first()
                    .map(|e| {
                        format!(
                            "; it is declared by {} (exported to {}), which this entry does not import",
                            e.label(self.store()),
                            e.export.describe()
                        )
                    })
                    .unwrap_or_default();
                self.cx
                    .report(
                        id,
                        FieldPath::parse("spec.egress")
                            .index(i)
                            .key("hosts")
                            .index(j),
                        format!(
                            "egress host `{host}` is not declared in {where_} by any Service or ServiceEntry visible to namespace {ns}{hint}{other}; proxies selected by this Sidecar get no route for it"
                        ),
                    )
                    .subkind("egress-host")
                    .kiali(&["KIA1004"])
                    .severity(partial(present))
                    .istio(&[])
                    .help("use `<namespace>/<FQDN>` of a declared host, or a wildcard such as `./*` or `istio-system/*`");
            }
        }
    }
}
