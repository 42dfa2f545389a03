//! MESH705 tcp-catch-all-listener: a `0.0.0.0:PORT` listener in a dump whose chain sends
//! connections to unknown IPs to a service cluster, when its owner is neither an ExternalName
//! Service (MESH301) nor a ServiceEntry (MESH302).

use crate::diagnostic::Severity;

use crate::rules::listeners::dump_catch_all::{self, Behind};
use crate::rules::{Context, Rule, RuleMeta};

pub struct TcpCatchAllListener;

static META: RuleMeta = RuleMeta {
    code: "MESH705",
    name: "tcp-catch-all-listener",
    summary: "a 0.0.0.0 listener in a dump sends TCP to any IP on its port to one service",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH705-tcp-catch-all-listener.md"),
};

const HELP: &str = "find the service behind the cluster and give it a VIP, export it only where it is used (`exportTo`), or move it to a port no other traffic uses; `meshlint trace` shows where a given destination goes";

impl Rule for TcpCatchAllListener {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        dump_catch_all::report(cx, Behind::Other, HELP);
    }
}
