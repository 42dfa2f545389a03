//! Input rules: what the input itself says about the objects, before any mesh semantics.

pub mod mesh002_duplicate_object;
