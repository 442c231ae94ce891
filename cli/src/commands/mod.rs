//! One module per command group.

pub mod demo;
pub mod inspect;
pub mod keys;
pub mod lifecycle;
pub mod scan;
pub mod token;
pub mod update;
pub mod verify;
