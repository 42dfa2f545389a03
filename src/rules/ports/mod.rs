//! Port rules: protocols of Service ports, and ports that collide inside a pod, with the sidecar, on loopback or on a node.

pub mod mesh101_port_name;
pub mod mesh102_port_protocol_conflict;
pub mod mesh201_container_port;
pub mod mesh202_reserved_port;
pub mod mesh203_loopback_dependency;
pub mod mesh204_host_port;
