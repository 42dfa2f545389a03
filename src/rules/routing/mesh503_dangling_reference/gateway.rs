//! Gateway references: the TLS secrets servers name in `credentialName`.

use std::collections::BTreeSet;

use crate::model::{ResId, Resource, Spec};
use crate::source::FieldPath;

use super::{Checker, partial};

impl<'a> Checker<'a, '_> {
    pub(super) fn gateway_secrets(
        &mut self,
        id: ResId,
        res: &'a Resource,
        secrets: &BTreeSet<(String, String)>,
        secret_namespaces: &BTreeSet<String>,
    ) {
        let Spec::Gateway(gw) = &res.spec else {
            return;
        };
        let workloads = self.cx.graph.gateway_workloads(id);
        if workloads.is_empty() {
            // MESH501 reports the missing workload; without it the secret's namespace is unknown.
            return;
        }
        let mut namespaces: Vec<String> = workloads
            .iter()
            .map(|&w| self.store().get(w).namespace.clone())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        for (i, server) in gw.servers.iter().enumerate() {
            let Some(cn) = server.credential_secret() else {
                continue;
            };
            if namespaces
                .iter()
                .any(|ns| secrets.contains(&(ns.clone(), cn.to_string())))
            {
                continue;
            }
            let present = namespaces.iter().any(|ns| secret_namespaces.contains(ns));
            let elsewhere: Vec<String> = secrets
                .iter()
                .filter(|(_, n)| n == cn)
                .map(|(ns, _)| ns.clone())
                .collect();
            let mut message = format!(
                "credentialName `{cn}`: no Secret `{cn}` in namespace {} where the gateway workload runs; the gateway cannot load the certificate and refuses TLS on this server",
                namespaces.join(", ")
            );
            if !elsewhere.is_empty() {
                message.push_str(&format!(
                    " (a Secret `{cn}` exists in namespace {}, but a Gateway reads secrets from its workload's namespace)",
                    elsewhere.join(", ")
                ));
            } else if !present {
                message.push_str(&format!(
                    "; namespace {} has no Secrets or Certificates in the input, so the secret may be created elsewhere",
                    namespaces.join(", ")
                ));
            }
            self.cx
                .report(
                    id,
                    FieldPath::parse("spec.servers")
                        .index(i)
                        .key("tls")
                        .key("credentialName"),
                    message,
                )
                .subkind("credential-name")
                .severity(partial(present || !elsewhere.is_empty()))
                .istio(&["IST0101"])
                .help(format!(
                    "create the TLS Secret `{cn}` in namespace {} (for example with a cert-manager Certificate there)",
                    namespaces[0]
                ));
        }
    }
}
