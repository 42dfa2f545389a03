//! What rules read and report through: the resources, the mesh view, the config dumps, and
//! lookups built once per run on first use.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::diagnostic::{Fix, FixAction, RawFinding, RelatedTarget, Severity, Target};
use crate::envoy::load::LoadedDump;
use crate::envoy::table::{self as dump_table, CatchAll, Unreached};
use crate::mesh::ambient::AmbientView;
use crate::mesh::destination_rules::DrIndex;
use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::graph::MeshGraph;
use crate::mesh::hosts::HostIndex;
use crate::mesh::security::view::MtlsView;
use crate::mesh::settings::MeshSettings;
use crate::mesh::table::ListenerTable;
use crate::mesh::workloads::Workloads;
use crate::model::{ResId, Spec, Store};
use crate::source::{FieldPath, Sources};

use super::{Rule, RuleMeta};

/// A config dump as rules see it: its index (for targets) and its content.
pub type DumpId = usize;

/// The indexes every rule may share, built once by the engine.
pub struct Indexes<'a> {
    pub hosts: HostIndex,
    pub workloads: Workloads<'a>,
    pub destination_rules: DrIndex,
}

impl<'a> Indexes<'a> {
    pub fn build(store: &'a Store, settings: &MeshSettings) -> Self {
        Self {
            hosts: HostIndex::build(store, &settings.mesh),
            workloads: Workloads::build(store),
            destination_rules: DrIndex::build(
                store,
                &settings.mesh.default_destination_rule_export_to,
            ),
        }
    }
}

/// Another cluster of a multi-cluster run, as a rule on this cluster sees it: its name, its
/// objects, and its files (to point at them).
pub struct Peer<'a> {
    pub name: &'a str,
    pub store: &'a Store,
    pub sources: &'a Sources,
}

pub struct Context<'a> {
    /// The cluster being checked, in a multi-cluster run (`--cluster`).
    pub cluster: Option<&'a str>,
    /// The other clusters of a multi-cluster run, by name; empty otherwise.
    pub peers: &'a [Peer<'a>],
    pub store: &'a Store,
    pub graph: &'a MeshGraph,
    pub settings: &'a MeshSettings,
    pub index: &'a Indexes<'a>,
    pub dumps: &'a [LoadedDump],
    namespaces: HashMap<&'a str, ResId>,
    current: Option<&'static RuleMeta>,
    findings: Vec<RawFinding>,
    listeners: OnceCell<Rc<ListenerTable>>,
    gateway_api: OnceCell<Rc<GatewayApi>>,
    catch_alls: OnceCell<Rc<Vec<Vec<CatchAll>>>>,
    unreached: OnceCell<Rc<Vec<Vec<Unreached>>>>,
    mtls: OnceCell<Rc<MtlsView>>,
    ambient: OnceCell<Rc<AmbientView>>,
}

impl<'a> Context<'a> {
    pub fn new(
        store: &'a Store,
        graph: &'a MeshGraph,
        settings: &'a MeshSettings,
        index: &'a Indexes<'a>,
        dumps: &'a [LoadedDump],
    ) -> Self {
        let namespaces = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
            .map(|(id, r)| (r.name.as_str(), id))
            .collect();
        Self {
            cluster: None,
            peers: &[],
            store,
            graph,
            settings,
            index,
            dumps,
            namespaces,
            current: None,
            findings: Vec::new(),
            listeners: OnceCell::new(),
            gateway_api: OnceCell::new(),
            catch_alls: OnceCell::new(),
            unreached: OnceCell::new(),
            mtls: OnceCell::new(),
            ambient: OnceCell::new(),
        }
    }

    /// The same context for cluster `name` of a multi-cluster run, beside `peers`.
    pub fn with_peers(mut self, name: &'a str, peers: &'a [Peer<'a>]) -> Self {
        self.cluster = Some(name);
        self.peers = peers;
        self
    }

    /// The predicted listener table, built on first use and shared by the rules that need it.
    pub fn listeners(&self) -> Rc<ListenerTable> {
        self.listeners
            .get_or_init(|| Rc::new(ListenerTable::build(self.store, self.settings)))
            .clone()
    }

    /// The Gateway API view (gateways, route attachment, backends, grants), built on first use.
    pub fn gateway_api(&self) -> Rc<GatewayApi> {
        self.gateway_api
            .get_or_init(|| Rc::new(GatewayApi::build(self.store, &self.index.hosts)))
            .clone()
    }

    /// Both ends of every mesh connection (server mTLS modes, client TLS), built on first use.
    pub fn mtls(&self) -> Rc<MtlsView> {
        self.mtls
            .get_or_init(|| {
                Rc::new(MtlsView::build(
                    self.store,
                    self.graph,
                    &self.index.destination_rules,
                    self.settings,
                ))
            })
            .clone()
    }

    /// The ambient data plane: each workload's mode, waypoint enrolments, waypoint traffic
    /// types; built on first use.
    pub fn ambient(&self) -> Rc<AmbientView> {
        self.ambient
            .get_or_init(|| {
                Rc::new(AmbientView::build(
                    self.store,
                    &self.gateway_api(),
                    &self.index.workloads,
                ))
            })
            .clone()
    }

    /// Every dump's TCP catch-all listeners (indexed like `dumps`), found on first use.
    pub fn dump_catch_alls(&self) -> Rc<Vec<Vec<CatchAll>>> {
        self.catch_alls
            .get_or_init(|| {
                Rc::new(
                    self.dumps
                        .iter()
                        .map(|d| dump_table::catch_alls(&d.dump))
                        .collect(),
                )
            })
            .clone()
    }

    /// Every dump's outbound clusters that no listener or route reaches, found on first use.
    pub fn dump_unreached(&self) -> Rc<Vec<Vec<Unreached>>> {
        self.unreached
            .get_or_init(|| {
                let catch_alls = self.dump_catch_alls();
                Rc::new(
                    self.dumps
                        .iter()
                        .zip(catch_alls.iter())
                        .map(|(d, c)| dump_table::unreached_clusters(&d.dump, c))
                        .collect(),
                )
            })
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
        self.push(Target::Field { resource, path }, None, message.into())
    }

    /// Reports a finding on the object at `pointer` of dump `dump`: a `kind` (Listener,
    /// Cluster) named `name`. `prefer` lists members whose position is shown instead of the
    /// object's opening brace, first found first (a listener's `name`).
    pub fn report_dump(
        &mut self,
        dump: DumpId,
        (kind, name): (&'static str, String),
        pointer: &str,
        prefer: &'static [&'static str],
        message: impl Into<String>,
    ) -> Reported<'_> {
        let target = Target::Dump {
            dump,
            pointer: pointer.to_string(),
            prefer,
        };
        self.push(target, Some((kind, name)), message.into())
    }

    fn push(
        &mut self,
        target: Target,
        dump_object: Option<(&'static str, String)>,
        message: String,
    ) -> Reported<'_> {
        let meta = self
            .current
            .expect("report is only called from Rule::check via Context::run");
        self.findings.push(RawFinding {
            rule: meta,
            severity: meta.severity,
            target,
            dump_object,
            subkind: None,
            message,
            help: None,
            related: Vec::new(),
            istio_codes: meta.istio_codes,
            // A rule with several Kiali codes names the one that applies per finding.
            kiali_codes: if meta.kiali_codes.len() == 1 {
                meta.kiali_codes
            } else {
                &[]
            },
            fix: None,
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
            target: Target::Field { resource, path },
            message: message.into(),
        });
        self
    }

    /// A related field of a resource of peer cluster `peer` (an index into `Context::peers`).
    pub fn related_peer(
        self,
        peer: usize,
        resource: ResId,
        path: FieldPath,
        message: impl Into<String>,
    ) -> Self {
        self.0.related.push(RelatedTarget {
            target: Target::PeerField {
                peer,
                resource,
                path,
            },
            message: message.into(),
        });
        self
    }

    /// A related object in the same dump as the finding.
    pub fn related_dump(
        self,
        pointer: &str,
        prefer: &'static [&'static str],
        message: impl Into<String>,
    ) -> Self {
        let Target::Dump { dump, .. } = self.0.target else {
            unreachable!("related_dump is only called on dump findings");
        };
        self.0.related.push(RelatedTarget {
            target: Target::Dump {
                dump,
                pointer: pointer.to_string(),
                prefer,
            },
            message: message.into(),
        });
        self
    }

    /// Names which check of the rule this finding comes from (kebab-case, stable).
    pub fn subkind(self, subkind: &'static str) -> Self {
        self.0.subkind = Some(subkind);
        self
    }

    /// Narrows the istioctl codes when only some of the rule's apply to this finding.
    pub fn istio(self, codes: &'static [&'static str]) -> Self {
        self.0.istio_codes = codes;
        self
    }

    /// Narrows the Kiali codes when only some of the rule's apply to this finding.
    pub fn kiali(self, codes: &'static [&'static str]) -> Self {
        self.0.kiali_codes = codes;
        self
    }

    /// A safe, local fix for this finding (see [`FixAction`]).
    pub fn fix(self, title: impl Into<String>, action: FixAction) -> Self {
        self.0.fix = Some(Fix {
            title: title.into(),
            action,
        });
        self
    }

    pub fn severity(self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }
}
