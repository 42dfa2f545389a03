//! From targets to positions: a field path in a manifest, or a JSON pointer in a config dump,
//! becomes `file:line:column` with its end and byte span.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::diagnostic::{Finding, Location, RawFinding, Related, ResourceRef, Target};
use crate::envoy::load::LoadedDump;
use crate::model::{ResId, Store};
use crate::rules::Peer;
use crate::source::pointer::{JsonLocator, end_of, yaml_pos};
use crate::source::{Sources, embedded};

/// Resolves targets against the run's resources and dumps; JSON dumps are scanned lazily and
/// once each, however many findings point into them.
pub struct Locator<'a> {
    store: &'a Store,
    sources: &'a Sources,
    dumps: &'a [LoadedDump],
    /// The other clusters of a multi-cluster run, which `Target::PeerField` indexes.
    peers: &'a [Peer<'a>],
    json: RefCell<HashMap<usize, JsonLocator<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(store: &'a Store, sources: &'a Sources, dumps: &'a [LoadedDump]) -> Self {
        Self {
            store,
            sources,
            dumps,
            peers: &[],
            json: RefCell::new(HashMap::new()),
        }
    }

    /// Resolves `Target::PeerField` in `peers`, the other clusters of the run.
    pub fn with_peers(mut self, peers: &'a [Peer<'a>]) -> Self {
        self.peers = peers;
        self
    }

    /// The store and files a field target is in: this run's, or a peer cluster's.
    pub fn field_input(&self, target: &Target) -> Option<(&'a Store, &'a Sources, ResId)> {
        match target {
            Target::Field { resource, .. } => Some((self.store, self.sources, *resource)),
            Target::PeerField { peer, resource, .. } => {
                let p = &self.peers[*peer];
                Some((p.store, p.sources, *resource))
            }
            Target::Dump { .. } => None,
        }
    }

    /// The name of peer cluster `peer`.
    pub fn peer_name(&self, peer: usize) -> &'a str {
        self.peers[peer].name
    }

    pub fn sources(&self) -> &'a Sources {
        self.sources
    }

    /// `Kind namespace/name` of what a finding is about.
    pub fn subject(&self, f: &RawFinding) -> ResourceRef {
        match (&f.target, &f.dump_object) {
            (Target::Field { resource, .. }, _) => resource_ref(self.store, *resource),
            (Target::PeerField { peer, resource, .. }, _) => {
                resource_ref(self.peers[*peer].store, *resource)
            }
            (Target::Dump { .. }, Some((kind, name))) => ResourceRef {
                kind: kind.to_string(),
                namespace: String::new(),
                name: name.clone(),
            },
            (Target::Dump { .. }, None) => unreachable!("dump findings name their object"),
        }
    }

    /// The input file a target is in, as the user named it.
    pub fn file(&self, target: &Target) -> &'a str {
        let (sources, file) = match target {
            Target::Field { resource, .. } => (self.sources, self.store.get(*resource).file),
            Target::PeerField { peer, resource, .. } => {
                let p = &self.peers[*peer];
                (p.sources, p.store.get(*resource).file)
            }
            Target::Dump { dump, .. } => (self.sources, self.dumps[*dump].file),
        };
        &sources.files[file].path
    }

    pub fn locate(&self, target: &Target) -> Location {
        match target {
            Target::Field { resource, path } => {
                let res = self.store.get(*resource);
                let file = &self.sources.files[res.file];
                // A missing field points at its nearest present parent; a path that goes on
                // inside YAML embedded in a string points at the embedded field when it can.
                let (node, rest) = res.node.lookup_rest(path);
                let pos = match rest {
                    [] => node.pos,
                    _ => embedded::locate(&file.text, node, rest).unwrap_or(node.pos),
                };
                let (end_line, end_column) =
                    end_of(&file.text, pos.offset, pos.len, pos.line, pos.column);
                Location {
                    file: file.path.clone(),
                    line: pos.line,
                    column: pos.column,
                    end_line,
                    end_column,
                    offset: pos.offset,
                    len: pos.len,
                    pointer: None,
                }
            }
            // A field of another cluster resolves as that cluster's own run resolves it.
            Target::PeerField {
                peer,
                resource,
                path,
            } => {
                let p = &self.peers[*peer];
                Locator::new(p.store, p.sources, &[]).locate(&Target::Field {
                    resource: *resource,
                    path: path.clone(),
                })
            }
            Target::Dump {
                dump,
                pointer,
                prefer,
            } => self.locate_in_dump(*dump, pointer, prefer),
        }
    }

    /// The position of `pointer` in a dump, trying `pointer/<member>` for each of `prefer` first.
    fn locate_in_dump(&self, d: usize, pointer: &str, prefer: &[&str]) -> Location {
        let ld = &self.dumps[d];
        let file = &self.sources.files[ld.file];
        let mut loc = Location {
            file: file.path.clone(),
            pointer: Some(pointer.to_string()),
            ..Location::default()
        };
        let candidates: Vec<String> = prefer
            .iter()
            .map(|p| format!("{pointer}/{}", ld.dump.key(p)))
            .chain(std::iter::once(pointer.to_string()))
            .collect();
        if let Some(root) = &ld.yaml {
            if let Some(pos) = candidates.iter().find_map(|p| yaml_pos(root, p)) {
                let (end_line, end_column) =
                    end_of(&file.text, pos.offset, pos.len, pos.line, pos.column);
                loc.line = pos.line;
                loc.column = pos.column;
                loc.end_line = end_line;
                loc.end_column = end_column;
                loc.offset = pos.offset;
                loc.len = pos.len;
            }
            return loc;
        }
        let mut json = self.json.borrow_mut();
        let locator = json
            .entry(d)
            .or_insert_with(|| JsonLocator::new(&file.text));
        let Some((offset, len)) = candidates.iter().find_map(|p| locator.span(p)) else {
            return loc;
        };
        // A container's span is the whole object: mark its first character only.
        let first = file.text.as_bytes().get(offset).copied();
        let len = if matches!(first, Some(b'{' | b'[')) {
            1
        } else {
            len
        };
        let (line, column) = locator.line_col(offset);
        let (end_line, end_column) = locator.line_col(offset + len);
        loc.line = line;
        loc.column = column;
        loc.end_line = end_line;
        loc.end_column = end_column;
        loc.offset = offset;
        loc.len = len;
        loc
    }

    /// A finding ready to print.
    pub fn resolve(&self, f: &RawFinding) -> Finding {
        let location = self.locate(&f.target);
        let mut message = f.message.clone();
        if let Some(p) = &location.pointer
            && location.line == 0
        {
            // No file position (the pointer could not be found): say where in the dump.
            message.push_str(&format!(" [{p}]"));
        }
        Finding {
            code: f.rule.code,
            name: f.rule.name,
            severity: f.severity,
            message,
            help: f.help.clone(),
            resource: self.subject(f),
            location,
            related: f
                .related
                .iter()
                .map(|r| Related {
                    message: r.message.clone(),
                    location: self.locate(&r.target),
                })
                .collect(),
            istio_codes: f.istio_codes.to_vec(),
            kiali_codes: f.kiali_codes.to_vec(),
            subkind: f.subkind,
            fingerprint: super::fingerprint::of_raw(f, self),
            fix: super::fix::edits(f, self.store, self.sources),
            clusters: Vec::new(),
        }
    }
}

/// `Kind namespace/name` of a resource (a Namespace, a GatewayClass or a webhook configuration
/// has no namespace).
pub fn resource_ref(store: &Store, id: ResId) -> ResourceRef {
    let r = store.get(id);
    ResourceRef {
        kind: r.kind.clone(),
        namespace: if crate::model::is_cluster_scoped(&r.kind) {
            String::new()
        } else {
            r.namespace.clone()
        },
        name: r.name.clone(),
    }
}
