//! Errors: one Python exception class per core error family, all subclasses of
//! `KeyproofError(ValueError)`, each instance carrying the core's `.code`.

use keyproof::{ErrorFamily, ErrorKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pyo3::create_exception!(
    keyproof,
    KeyproofError,
    PyValueError,
    "Base class of every keyproof error. `.code` is the stable snake_case code; `str(e)` is the message."
);
pyo3::create_exception!(keyproof, KeyFormatError, KeyproofError, "The key is not a well-formed key of any format.");
pyo3::create_exception!(keyproof, CredentialError, KeyproofError, "The request carried no usable credential.");
pyo3::create_exception!(keyproof, AuthenticationError, KeyproofError, "The key is well formed but not valid.");
pyo3::create_exception!(keyproof, AuthorizationError, KeyproofError, "The key is valid but may not do this.");
pyo3::create_exception!(keyproof, RateLimitError, KeyproofError, "Too many requests.");
pyo3::create_exception!(
    keyproof,
    ConfigError,
    KeyproofError,
    "Configuration, records or other input data are invalid."
);
pyo3::create_exception!(keyproof, RandomnessError, KeyproofError, "Not enough random bytes were supplied.");

/// Converts a core error into the Python exception of its family, with `.code` set.
/// The message is the core's, which never contains a key, secret or hash.
pub(crate) fn to_py_err(e: keyproof::Error) -> PyErr {
    let message = e.message().to_string();
    let err = match e.kind().family() {
        ErrorFamily::KeyFormat => KeyFormatError::new_err(message),
        ErrorFamily::Credential => CredentialError::new_err(message),
        ErrorFamily::Authentication => AuthenticationError::new_err(message),
        ErrorFamily::Authorization => AuthorizationError::new_err(message),
        ErrorFamily::RateLimit => RateLimitError::new_err(message),
        ErrorFamily::Config => ConfigError::new_err(message),
        ErrorFamily::Randomness => RandomnessError::new_err(message),
        _ => KeyproofError::new_err(message),
    };
    Python::attach(|py| match err.value(py).setattr("code", e.code()) {
        Ok(()) => err,
        Err(setattr_failed) => setattr_failed,
    })
}

/// A refusal of bad input the binding meets first, under a core code.
pub(crate) fn refuse(kind: ErrorKind, message: &str) -> PyErr {
    to_py_err(keyproof::Error::new(kind, message))
}

/// Every stable error code, in catalogue order.
#[pyfunction]
pub(crate) fn all_codes() -> Vec<&'static str> {
    keyproof::all_codes()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KeyproofError", py.get_type::<KeyproofError>())?;
    m.add("KeyFormatError", py.get_type::<KeyFormatError>())?;
    m.add("CredentialError", py.get_type::<CredentialError>())?;
    m.add("AuthenticationError", py.get_type::<AuthenticationError>())?;
    m.add("AuthorizationError", py.get_type::<AuthorizationError>())?;
    m.add("RateLimitError", py.get_type::<RateLimitError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("RandomnessError", py.get_type::<RandomnessError>())?;
    m.add_function(wrap_pyfunction!(all_codes, m)?)?;
    Ok(())
}
