//! Envoy config dumps: the dump model, loading (files and `--admin`), the listener table a dump
//! holds, and the connection trace.

pub mod admin;
pub mod load;
pub mod model;
pub mod table;
pub mod trace;
