//! The rendering of `meshlint gateways`: every Gateway with its generated Service and listeners,
//! every route with its parents, each with the conditions istiod would set.

use crate::engine::GatewayView;
use crate::mesh::gateway_api::status::Condition;

use super::text::{visible, visible_list};

fn conditions(cs: &[Condition]) -> String {
    cs.iter()
        .map(|c| {
            if c.status == "True" && c.reason == c.type_ {
                c.type_.to_string()
            } else {
                format!("{}={} ({})", c.type_, c.status, visible(&c.reason))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Conditions that are not what a healthy object shows, with their messages.
fn problems(cs: &[Condition]) -> Vec<String> {
    cs.iter()
        .filter(|c| (c.status == "False") != (c.type_ == "Conflicted"))
        .map(|c| {
            format!(
                "{} {}: {}",
                c.type_,
                visible(&c.reason),
                visible(&c.message)
            )
        })
        .collect()
}

pub fn human(view: &GatewayView) -> String {
    let mut out = String::new();
    for g in &view.gateways {
        out.push_str(&format!(
            "Gateway {}/{}  class {} ({})\n",
            visible(&g.namespace),
            visible(&g.name),
            visible(&g.class),
            visible(&g.controller)
        ));
        if !g.services.is_empty() {
            out.push_str(&format!(
                "  {} {}\n",
                if g.managed {
                    "generated Service"
                } else {
                    "bound to"
                },
                visible_list(&g.services)
            ));
        }
        if !g.conditions.is_empty() {
            out.push_str(&format!("  status: {}\n", conditions(&g.conditions)));
        }
        if let Some(n) = &g.note {
            out.push_str(&format!("  note: {}\n", visible(n)));
        }
        for l in &g.listeners {
            out.push_str(&format!(
                "  listener {:<16} {:>5} {:<6} {:<24} routes {}  {}\n",
                visible(&l.name),
                l.port.map_or_else(|| "-".into(), |p| p.to_string()),
                visible(&l.protocol),
                visible(l.hostname.as_deref().unwrap_or("*")),
                l.attached_routes,
                conditions(&l.conditions)
            ));
            for p in problems(&l.conditions) {
                out.push_str(&format!("      {p}\n"));
            }
            if let Some(n) = &l.note {
                out.push_str(&format!("      note: {}\n", visible(n)));
            }
        }
        out.push('\n');
    }
    for r in &view.routes {
        out.push_str(&format!(
            "{} {}/{}\n",
            r.kind,
            visible(&r.namespace),
            visible(&r.name)
        ));
        if r.parents.is_empty() {
            out.push_str("  no parentRefs: attached nowhere\n");
        }
        for p in &r.parents {
            out.push_str(&format!("  parent {}", visible(&p.parent)));
            if !p.listeners.is_empty() {
                out.push_str(&format!(" (listeners {})", visible_list(&p.listeners)));
            }
            if !p.conditions.is_empty() {
                out.push_str(&format!(": {}", conditions(&p.conditions)));
            }
            out.push('\n');
            for pr in problems(&p.conditions) {
                out.push_str(&format!("      {pr}\n"));
            }
            if let Some(n) = &p.note {
                out.push_str(&format!("      note: {}\n", visible(n)));
            }
        }
        out.push('\n');
    }
    if view.gateways.is_empty() && view.routes.is_empty() {
        out.push_str("no Gateway API Gateways or routes in the input\n");
    }
    out
}

pub fn json(view: &GatewayView) -> String {
    let mut out = serde_json::to_string_pretty(&serde_json::json!({
        "version": 1,
        "gateways": view.gateways,
        "routes": view.routes,
    }))
    .expect("JSON values always serialise");
    out.push('\n');
    out
}
