//! Config-dump rules: what only a dump shows (rejected, warming or duplicate listeners, unreached clusters).

pub mod mesh701_listener_error_state;
pub mod mesh702_listener_not_serving;
pub mod mesh703_duplicate_listener_address;
pub mod mesh704_unreached_outbound_cluster;
