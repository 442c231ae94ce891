//! Python bindings for keyproof. All logic lives in the core crate; these
//! wrappers only convert types and errors. Each file mirrors a core module;
//! `convert` holds the shared type conversions.

use pyo3::prelude::*;

mod convert;
mod credential;
mod decision;
mod engine;
mod errors;
mod expiry;
mod format;
mod hash;
mod mint;
mod parse;
mod policy;
mod ratelimit;
mod record;
mod scan;

/// The native module, re-exported by the `keyproof` Python package.
#[pymodule]
fn _keyproof(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    format::register(m)?;
    parse::register(m)?;
    hash::register(m)?;
    record::register(m)?;
    mint::register(m)?;
    expiry::register(m)?;
    scan::register(m)?;
    credential::register(m)?;
    policy::register(m)?;
    ratelimit::register(m)?;
    decision::register(m)?;
    engine::register(m)?;
    Ok(())
}
