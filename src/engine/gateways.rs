//! `meshlint gateways`: the status istiod would write on every Gateway API Gateway and route.

use crate::envoy::load::take_dumps;
use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::gateway_api::status::{GatewayStatus, RouteStatus};
use crate::mesh::hosts::HostIndex;
use crate::model::Store;
use crate::source::{InputError, Notice};

use super::{Settings, discovery, mesh_settings, model_options, warn_if_empty};

/// The predicted status of every Gateway and route of the input, in input order.
pub struct GatewayView {
    pub gateways: Vec<GatewayStatus>,
    pub routes: Vec<RouteStatus>,
    pub errors: Vec<InputError>,
    pub notices: Vec<Notice>,
}

/// Loads `paths` and predicts the Gateway API status.
pub fn gateways(paths: &[String], settings: &Settings) -> Result<GatewayView, String> {
    let mut sources = crate::source::load(paths, &discovery(settings)?);
    let dumps = take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    warn_if_empty(&mut sources, &store, &dumps);
    let rs = mesh_settings(settings, &store)?;
    let hosts = HostIndex::build(&store, &rs.mesh);
    let api = GatewayApi::build(&store, &hosts);
    let mut errors = sources.errors;
    errors.sort();
    Ok(GatewayView {
        gateways: api.gateway_status(&store),
        routes: api.route_status(&store),
        errors,
        notices: sources.notices,
    })
}
