//! Envoy config dumps: the dump model, loading (files and `--admin`), the listener table a dump
//! holds, and the connection trace; and ztunnel's dump, which has no listeners.

pub mod admin;
pub mod load;
pub mod model;
pub mod table;
pub mod trace;
pub mod ztunnel;
