//! Listener rules: outbound `0.0.0.0:PORT` catch-alls, the owners they shadow and protocol clashes, on the predicted listener table and on config dumps.

pub mod catch_all;
pub mod dump_catch_all;
pub mod mesh301_externalname_catch_all;
pub mod mesh302_serviceentry_catch_all;
pub mod mesh401_tcp_listener_shadowed;
pub mod mesh402_port_protocol_clash;
pub mod mesh403_serviceentry_conflict;
pub mod mesh705_tcp_catch_all_listener;
