//! Python bindings for keyproof. Every rule lives in the core crate; these
//! wrappers convert values and errors, nothing more. Python values load into
//! core types through core's host deserializer (`de`), with no JSON text between.

use pyo3::prelude::*;

/// A Python class over a core value `inner`: `wrap! { /// doc  Name(core::Type)
/// [pyclass options] repr(property, …) fields(field, …) methods(method, …) |v| { name: Ret = expr; … } }`
/// declares the class, a read-only property per named core `field` or
/// accessor `method` (converted by serde: plain Python data), one per `name` line (`v` is `&self.inner`)
/// and, given `repr(…)`, a `__repr__` showing those properties (never a key, secret or hash).
macro_rules! wrap {
    (@pyclass [] $class:item) => { #[pyclass(module = "keyproof", frozen)] $class };
    (@pyclass [eq] $class:item) => { #[pyclass(module = "keyproof", frozen, eq)] $class };
    (@pyclass [eq, hash] $class:item) => { #[pyclass(module = "keyproof", frozen, eq, hash)] $class };
    (
        $(#[$attr:meta])* $ty:ident($inner:ty) [$($opt:ident),*] $(repr($($field:ident),*))?
        $(fields($($plain:ident),*))? $(methods($($method:ident),*))? |$v:ident| { $($(#[$doc:meta])* $name:ident: $ret:ty = $body:expr;)* }
    ) => {
        wrap!(@pyclass [$($opt),*] $(#[$attr])* pub struct $ty {
            pub(crate) inner: $inner,
        });

        #[pymethods]
        #[allow(clippy::new_ret_no_self, clippy::wrong_self_convention)] // properties may be named `new`
        impl $ty {
            $($(#[getter] fn $plain(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                crate::convert::field(py, &self.inner.$plain)
            })*)?
            $($(#[getter] fn $method(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                crate::convert::field(py, &self.inner.$method())
            })*)?
            $($(#[$doc])* #[getter] fn $name(&self) -> $ret { let $v = &self.inner; $body })*

            $(fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                crate::convert::repr(slf.as_any(), &[$(stringify!($field)),*])
            })?
        }
    };
}

/// A `#[new]` loading the core value from its arguments, as `from_dict` would:
/// `new! { /// doc  Type(required, …; optional, …; **options) ["text signature"] }`. `None`s are left out,
/// so core's defaults apply; every refusal carries core's code.
macro_rules! new {
    ($(#[$attr:meta])* $ty:ident($($req:ident),*; $($opt:ident),* $(; **$rest:ident)?) $([$sig:literal])?) => {
        #[pymethods]
        impl $ty {
            $(#[$attr])*
            #[new]
            #[pyo3(signature = ($($req,)* $($opt = None,)* $(**$rest)?) $(, text_signature = $sig)?)]
            #[allow(clippy::too_many_arguments)] // the value's fields, as Python keyword arguments
            fn new<'py>(
                py: Python<'py>,
                $($req: &Bound<'py, PyAny>,)*
                $($opt: Option<&Bound<'py, PyAny>>,)*
                $($rest: Option<&Bound<'py, pyo3::types::PyDict>>,)?
            ) -> PyResult<Self> {
                let given = [$((stringify!($req), Some($req)),)* $((stringify!($opt), $opt),)*];
                let rest: Option<&Bound<'py, pyo3::types::PyDict>> = None $(.or($rest))?;
                crate::convert::load(&crate::convert::fields(py, &given, rest)?).map(|inner| Self { inner })
            }
        }
    };
}

/// `to_dict()` (plain Python data) and `to_json()` of wrappers of serializable core values.
macro_rules! dumps {
    ($($ty:ident),*) => {$(
        #[pymethods]
        impl $ty {
            fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                crate::convert::to_py(py, &self.inner)
            }
            fn to_json(&self) -> PyResult<String> {
                crate::convert::to_json(&self.inner)
            }
        }
    )*};
}

/// `from_json()` and `from_dict()` of wrappers of loadable core values: both take
/// JSON text or Python data alike and load through core (`convert::load`), then
/// through `finish` where one is named (`loads!(Policy => compiled)`).
macro_rules! loads {
    ($($ty:ident $(=> $finish:path)?),*) => {$(
        #[pymethods]
        impl $ty {
            #[staticmethod]
            fn from_json(json: &Bound<'_, PyAny>) -> PyResult<Self> {
                crate::convert::load(json)$(.and_then($finish))?.map(|inner| Self { inner })
            }
            #[staticmethod]
            fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
                crate::convert::load(data)$(.and_then($finish))?.map(|inner| Self { inner })
            }
        }
    )*};
}

mod convert;
mod de;
mod engine;
mod errors;
mod format;
mod record;
mod token;
mod values;
mod verification;

/// The native module, re-exported by the `keyproof` Python package.
#[pymodule]
mod _keyproof {
    #[pymodule_export]
    use crate::engine::{Decision, Engine, Prepared, Principal, RateLimitDecision};
    #[pymodule_export]
    use crate::errors::{
        all_codes, AuthenticationError, AuthorizationError, ConfigError, CredentialError, KeyFormatError,
        KeyproofError, RandomnessError, RateLimitError,
    };
    #[pymodule_export]
    use crate::format::{
        fingerprint, parse_key, presets, redact, scan, Finding, Format, FormatSet, HashCheck, Hasher, ParsedKey,
    };
    #[pymodule_export]
    use crate::record::{expiry_from_preset, is_record_id, mint, KeyRecord, MintedKey, Owner, Rotation};
    #[pymodule_export]
    use crate::token::{ed25519_jwk, hs256_jwk, inspect_token, AccessToken, IssuedToken, TokenExchange, TokenResponse};
    #[pymodule_export]
    use crate::values::{
        compare_and_set_item, extract, gcra, parse_state_text, state_text, store_key, Credential, ExtractionConfig,
        Policy, Quota, RateLimitOutcome, RateLimitState,
    };
    #[pymodule_export]
    use crate::verification::{Charge, Outcome, RateWrite, Verification};
    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("COMPARE_AND_SET_SCRIPT", keyproof::ratelimit::shared_store::COMPARE_AND_SET_SCRIPT)?;
        m.add("DEFAULT_KEY_PREFIX", keyproof::ratelimit::shared_store::DEFAULT_KEY_PREFIX)?;
        m.add("MAX_WRITE_TRIES", keyproof::MAX_WRITE_TRIES)?;
        m.add("RECORD_CACHE_CHANNEL", keyproof::cache::RECORD_CACHE_CHANNEL)?;
        m.add("EXPIRY_PRESETS", keyproof::EXPIRY_PRESETS.to_vec())
    }
}
