//! Telemetry references: the workload selector.

use crate::model::{ResId, Resource};
use crate::source::FieldPath;

use crate::model::raw::raw;

use super::Checker;

impl<'a> Checker<'a, '_> {
    pub(super) fn telemetry(&mut self, id: ResId, res: &'a Resource) {
        let sel = crate::model::string_map(raw(res, "spec.selector.matchLabels"));
        if sel.is_empty() {
            return;
        }
        let first = sel.keys().next().cloned().unwrap_or_default();
        self.selector_in_namespace(
            id,
            res,
            &sel,
            FieldPath::parse("spec.selector.matchLabels").key(first),
            ("selector", &["IST0101"]),
        );
    }
}
