//! The rule trait, the registry and the context rules report through; one folder per family.

pub mod dump;
pub mod listeners;
pub mod ports;
pub mod routing;
pub mod suppression;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::diagnostic::{RawFinding, RelatedTarget, Severity, Target};
use crate::mesh::graph::MeshGraph;
use crate::mesh::settings::MeshSettings;
use crate::mesh::table::ListenerTable;
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

pub use suppression::mesh001_unused_suppression::UNUSED_SUPPRESSION;

/// What a rule is, as data: shown by `meshlint rules`, SARIF and the docs.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused.
    pub code: &'static str,
    /// Kebab-case name, accepted wherever a code is.
    pub name: &'static str,
    pub summary: &'static str,
    pub severity: Severity,
    /// The closest `istioctl analyze` codes.
    pub istio_codes: &'static [&'static str],
    /// The rule's documentation (`rules/<code>-<name>.md`).
    pub doc: &'static str,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the manifests. Rules that run elsewhere keep the default: the dump rules
    /// (MESH7xx, from `mesh7_dump`) and MESH001 (from the engine, after suppression).
    fn check(&self, _cx: &mut Context<'_>) {}
}

/// Every rule, sorted by code.
pub static RULES: &[&dyn Rule] = &[
    &suppression::mesh001_unused_suppression::UnusedSuppression,
    &ports::mesh101_port_name::PortNameMissingProtocol,
    &ports::mesh102_port_protocol_conflict::PortProtocolConflict,
    &ports::mesh201_container_port::ContainerPortCollision,
    &ports::mesh202_reserved_port::SidecarReservedPort,
    &ports::mesh203_loopback_dependency::LoopbackDependencyCollision,
    &ports::mesh204_host_port::HostPortCollision,
    &listeners::mesh301_externalname_catch_all::ExternalNameCatchAll,
    &listeners::mesh302_serviceentry_catch_all::ServiceEntryCatchAll,
    &listeners::mesh401_tcp_listener_shadowed::TcpListenerShadowed,
    &listeners::mesh402_port_protocol_clash::PortProtocolClash,
    &listeners::mesh403_serviceentry_conflict::ServiceEntryConflict,
    &routing::mesh501_gateway_port::GatewayPortNotExposed,
    &routing::mesh502_route_port::RoutePortUnbound,
    &routing::mesh503_dangling_reference::DanglingReference,
    &routing::mesh504_conflicting_gateways::ConflictingGateways,
    &routing::mesh505_route_weights::RouteWeights,
    &routing::mesh506_gateway_host::GatewayHostMismatch,
    &routing::mesh507_conflicting_mesh_hosts::ConflictingMeshHosts,
    &routing::mesh508_unreachable_route::UnreachableRoute,
    &routing::mesh509_gateway_route_subsets::GatewayRouteSkipsSubsets,
    &routing::mesh601_short_hostname::ShortHostname,
    &dump::mesh701_listener_error_state::ListenerErrorState,
    &dump::mesh702_listener_not_serving::ListenerNotServing,
    &dump::mesh703_duplicate_listener_address::DuplicateListenerAddress,
    &dump::mesh704_unreached_outbound_cluster::UnreachedOutboundCluster,
    &dump::mesh705_tcp_catch_all_listener::TcpCatchAllListener,
];

/// Finds a rule by code or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| {
        r.meta().code.eq_ignore_ascii_case(key) || r.meta().name.eq_ignore_ascii_case(key)
    })
}

/// What rules read: the resources, the graph and lookups shared by several rules.
pub struct Context<'a> {
    pub store: &'a Store,
    pub graph: &'a MeshGraph,
    pub settings: &'a MeshSettings,
    namespaces: HashMap<&'a str, ResId>,
    current: Option<&'static RuleMeta>,
    findings: Vec<RawFinding>,
    listeners: OnceCell<Rc<ListenerTable>>,
}

impl<'a> Context<'a> {
    pub fn new(store: &'a Store, graph: &'a MeshGraph, settings: &'a MeshSettings) -> Self {
        let namespaces = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
            .map(|(id, r)| (r.name.as_str(), id))
            .collect();
        Self {
            store,
            graph,
            settings,
            namespaces,
            current: None,
            findings: Vec::new(),
            listeners: OnceCell::new(),
        }
    }

    /// The predicted listener table, built on first use and shared by the rules that need it.
    pub fn listeners(&self) -> Rc<ListenerTable> {
        self.listeners
            .get_or_init(|| Rc::new(ListenerTable::build(self.store, self.settings)))
            .clone()
    }

    /// The Namespace resource named `ns`, when it is in the input.
    pub fn namespace(&self, ns: &str) -> Option<ResId> {
        self.namespaces.get(ns).copied()
    }

    /// Runs `rule`; its findings are stamped with its code and default severity.
    pub fn run(&mut self, rule: &dyn Rule) {
        self.current = Some(rule.meta());
        rule.check(self);
        self.current = None;
    }

    pub fn into_findings(self) -> Vec<RawFinding> {
        self.findings
    }

    /// Reports a finding on `path` of `resource`.
    pub fn report(
        &mut self,
        resource: ResId,
        path: FieldPath,
        message: impl Into<String>,
    ) -> Reported<'_> {
        let meta = self
            .current
            .expect("report is only called from Rule::check via Context::run");
        self.findings.push(RawFinding {
            code: meta.code,
            severity: meta.severity,
            target: Target { resource, path },
            message: message.into(),
            help: None,
            related: Vec::new(),
            istio_codes: meta.istio_codes,
        });
        let last = self.findings.len() - 1;
        Reported(&mut self.findings[last])
    }
}

/// A just-reported finding, to add help and related locations.
pub struct Reported<'a>(&'a mut RawFinding);

impl Reported<'_> {
    pub fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    pub fn related(self, resource: ResId, path: FieldPath, message: impl Into<String>) -> Self {
        self.0.related.push(RelatedTarget {
            target: Target { resource, path },
            message: message.into(),
        });
        self
    }

    /// Narrows the istioctl codes when only some of the rule's apply to this finding.
    pub fn istio(self, codes: &'static [&'static str]) -> Self {
        self.0.istio_codes = codes;
        self
    }

    pub fn severity(self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }
}

/// Test support: the text of `testdata/rules/<code>/<name>`.
#[cfg(test)]
pub(crate) fn fixture(code: &str, name: &str) -> String {
    let path = format!(
        "{}/testdata/rules/{code}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Test support: the findings of rule `code` on one YAML text, checked with default settings.
#[cfg(test)]
pub(crate) fn findings_of(code: &str, text: &str) -> Vec<crate::diagnostic::Finding> {
    let mut sources = crate::source::Sources::default();
    sources.add_text("t.yaml".into(), text.into());
    let outcome = crate::engine::check_sources(sources, &crate::engine::Settings::default())
        .expect("valid settings");
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    outcome
        .findings
        .into_iter()
        .filter(|f| f.code == code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_sorted_and_well_formed() {
        let codes: Vec<_> = RULES.iter().map(|r| r.meta().code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes must be unique and sorted");
        for r in RULES {
            let m = r.meta();
            assert!(
                m.code.starts_with("MESH") && m.code.len() == 7,
                "{}",
                m.code
            );
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                m.name
            );
            assert!(find(m.name).is_some() && find(&m.code.to_lowercase()).is_some());
        }
    }
}
