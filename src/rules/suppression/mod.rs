//! Suppressions: entries that silence nothing.

pub mod mesh001_unused_suppression;
