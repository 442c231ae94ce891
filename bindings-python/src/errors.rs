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

/// One exception class per family, and [`to_py_err`] choosing among them.
macro_rules! families {
    ($($family:ident => $class:ident: $doc:literal,)*) => {
        $(pyo3::create_exception!(keyproof, $class, KeyproofError, $doc);)*

        /// Converts a core error into the Python exception of its family, with `.code` set.
        /// The message is the core's, which never contains a key, secret or hash.
        pub(crate) fn to_py_err(e: keyproof::Error) -> PyErr {
            let message = e.message().to_string();
            let err = match e.kind().family() {
                $(ErrorFamily::$family => $class::new_err(message),)*
                _ => KeyproofError::new_err(message),
            };
            Python::attach(|py| match err.value(py).setattr("code", e.code()) {
                Ok(()) => err,
                Err(setattr_failed) => setattr_failed,
            })
        }
    };
}

families! {
    KeyFormat => KeyFormatError: "The key is not a well-formed key of any format.",
    Credential => CredentialError: "The request carried no usable credential.",
    Authentication => AuthenticationError: "The key is well formed but not valid.",
    Authorization => AuthorizationError: "The key is valid but may not do this.",
    RateLimit => RateLimitError: "Too many requests.",
    Config => ConfigError: "Configuration, records or other input data are invalid.",
    Randomness => RandomnessError: "Not enough random bytes were supplied.",
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
