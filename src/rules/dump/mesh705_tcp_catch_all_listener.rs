//! MESH705 tcp-catch-all-listener: a `0.0.0.0:PORT` listener in a dump whose chain sends
//! connections to unknown IPs to a service cluster, when its owner is neither an ExternalName
//! Service (MESH301) nor a ServiceEntry (MESH302). Checked in `mesh7_dump`.

use crate::diagnostic::Severity;

use crate::rules::{Rule, RuleMeta};

pub struct TcpCatchAllListener;

pub(super) static META: RuleMeta = RuleMeta {
    code: "MESH705",
    name: "tcp-catch-all-listener",
    summary: "a 0.0.0.0 listener in a dump sends TCP to any IP on its port to one service",
    severity: Severity::Error,
    istio_codes: &[],
    doc: include_str!("../../../rules/MESH705-tcp-catch-all-listener.md"),
};

impl Rule for TcpCatchAllListener {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
