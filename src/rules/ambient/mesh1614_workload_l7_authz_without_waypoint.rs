//! MESH1614 workload-l7-authz-without-waypoint: an ambient workload without a waypoint that
//! AuthorizationPolicies with HTTP attributes apply to (by selector, namespace-wide, or by
//! `targetRefs` to a Service selecting it). The workload's side of MESH1610 and MESH1611.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::mesh::ambient::DataplaneMode;
use crate::mesh::ambient_l7::{attachment, authz_l7_fields};
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};

use super::l7::{is_waypoint, reached};

pub struct WorkloadL7AuthzWithoutWaypoint;

static META: RuleMeta = RuleMeta {
    code: "MESH1614",
    name: "workload-l7-authz-without-waypoint",
    summary: "ambient workload without a waypoint that AuthorizationPolicies with HTTP attributes apply to",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &["KIA1317"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1614-workload-l7-authz-without-waypoint.md"),
};

impl Rule for WorkloadL7AuthzWithoutWaypoint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        if !ambient.any_ambient() {
            return;
        }
        let store = cx.store;
        let api = cx.gateway_api();
        // workload → the L7 policies that apply to it
        let mut applied: BTreeMap<ResId, BTreeSet<ResId>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::AuthorizationPolicy(ap) = &r.spec else {
                continue;
            };
            if authz_l7_fields(ap).is_empty() {
                continue;
            }
            let att = attachment(r);
            let mut reach = Vec::new();
            if att.target_refs.is_empty() {
                reach = reached(cx, r, &att);
            }
            for tr in att.target_refs.iter().filter(|t| t.is_service()) {
                let ns = tr.namespace.as_deref().unwrap_or(&r.namespace);
                // A waypoint enforces the policy for the Service's traffic when it has one.
                if ns != r.namespace || ambient.service_enrolment(ns, &tr.name).waypoint().is_some()
                {
                    continue;
                }
                let Some(svc) = api.object("Service", ns, &tr.name) else {
                    continue;
                };
                if let Some(selector) = store
                    .get(svc)
                    .service()
                    .and_then(|s| s.spec.selector.as_ref())
                {
                    reach.extend(cx.index.workloads.matching(selector, Some(ns)));
                }
            }
            for w in reach {
                applied.entry(w).or_default().insert(id);
            }
        }
        for (w, policies) in applied {
            let r = store.get(w);
            if is_waypoint(&api, r)
                || ambient.workload_mode(w) != DataplaneMode::Ambient
                || ambient.workload_enrolment(w).waypoint().is_some()
            {
                continue;
            }
            let Some(wl) = r.workload() else { continue };
            let mut policies: Vec<ResId> = policies.into_iter().collect();
            policies.sort_by_key(|&p| (store.get(p).namespace.clone(), store.get(p).name.clone()));
            let names: Vec<String> = policies
                .iter()
                .map(|&p| format!("{}/{}", store.get(p).namespace, store.get(p).name))
                .collect();
            let message = format!(
                "{} {} in ambient mode without a waypoint, but AuthorizationPolic{} {} with HTTP attributes appl{} to it: nothing enforces those attributes for it (see MESH1610 and MESH1611 on the policies)",
                r.kind,
                r.name,
                if names.len() == 1 { "y" } else { "ies" },
                names.join(", "),
                if names.len() == 1 { "ies" } else { "y" },
            );
            let mut f = cx
                .report(w, wl.pod_meta_path.clone().key("labels"), message)
                .help("enrol the workload's namespace or Services with a waypoint (`istio.io/use-waypoint`) and attach the policies with `targetRefs`");
            for &p in policies.iter().take(3) {
                f = f.related(
                    p,
                    crate::source::FieldPath::parse("metadata.name"),
                    "applies to it",
                );
            }
        }
    }
}
