//! Placeholder: the node binding of keyproof is tracked as future work; it will wrap the core without adding rules.
pub use keyproof;
