//! MESH001 unused-suppression: an ignore entry that matches no finding.
//!
//! Stale suppressions hide the next real problem, so they are reported (as cargo-deny does).
//! The check needs every other rule's findings, so the engine runs it after suppression
//! (`engine::suppress`); this rule only carries the metadata.

use crate::diagnostic::Severity;

use crate::rules::{Rule, RuleMeta};

pub struct UnusedSuppression;

pub static UNUSED_SUPPRESSION: RuleMeta = RuleMeta {
    code: "MESH001",
    name: "unused-suppression",
    summary: "a suppression (annotation, comment, config ignore entry, baseline entry) suppresses nothing",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH001-unused-suppression.md"),
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &UNUSED_SUPPRESSION
    }
}
