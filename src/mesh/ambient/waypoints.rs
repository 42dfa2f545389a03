//! Waypoint Gateways: which traffic a waypoint accepts (`istio.io/waypoint-for`) and whether a
//! Gateway is one. istio reads the label on the Gateway, else on its GatewayClass, else takes
//! `service` (`gatewayToWaypointTransform` in istio
//! `pilot/pkg/serviceregistry/ambient/waypoints.go`); `fetchWaypointForService` accepts
//! `service` and `all`, `fetchWaypointForWorkload` `workload` and `all`; `none` and any other
//! value accept neither (constants in istio `pkg/config/constants/constants.go`).

use crate::model::gateway_api as gw;

pub const WAYPOINT_FOR: &str = "istio.io/waypoint-for";
/// The port and protocol of the listener through which ztunnel reaches a waypoint (istioctl
/// `waypoint generate` in istio `istioctl/pkg/waypoint/waypoint.go`; `makeAllowedRoutes`).
pub const HBONE_PORT: i64 = 15008;
pub const HBONE: &str = "HBONE";

/// The traffic a waypoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaypointFor {
    Service,
    Workload,
    All,
    None,
    /// A value istio does not know: it accepts neither kind of traffic.
    Unknown(String),
}

impl WaypointFor {
    pub fn parse(value: &str) -> Self {
        match value {
            "service" => WaypointFor::Service,
            "workload" => WaypointFor::Workload,
            "all" => WaypointFor::All,
            "none" => WaypointFor::None,
            other => WaypointFor::Unknown(other.to_string()),
        }
    }

    pub fn accepts_service(&self) -> bool {
        matches!(self, WaypointFor::Service | WaypointFor::All)
    }

    pub fn accepts_workload(&self) -> bool {
        matches!(self, WaypointFor::Workload | WaypointFor::All)
    }

    pub fn text(&self) -> &str {
        match self {
            WaypointFor::Service => "service",
            WaypointFor::Workload => "workload",
            WaypointFor::All => "all",
            WaypointFor::None => "none",
            WaypointFor::Unknown(v) => v,
        }
    }
}

/// The listener ztunnel sends to: port 15008 with protocol HBONE (`makeAllowedRoutes`).
pub fn hbone_listener(spec: &gw::Gateway) -> Option<usize> {
    spec.listeners
        .iter()
        .position(|l| l.port == Some(HBONE_PORT) && l.protocol == HBONE)
}
