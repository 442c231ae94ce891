//! Node binding of keyproof (napi-rs v3).
//!
//! Converts types and errors, nothing else: every rule lives in the core. Values
//! cross in the storage schema every runtime shares (snake_case fields, RFC 3339
//! timestamps) through napi's serde support, without a JSON text round trip; the
//! shared JS layer (`js/`) turns them into idiomatic objects. The surface this
//! crate exposes is written down in `js/NATIVE.md` (the WASM engine implements
//! the same one).
//!
//! Errors are JS `Error`s whose `code` is the stable core code and whose message
//! is the core message (never a secret).

use napi::bindgen_prelude::{FromNapiValue, Object, Uint8Array, Unknown};
use napi::{De, Env, Status, ValueType};
use napi_derive::napi;
use serde::{Deserialize, Serialize};

use keyproof::{ErrorKind, Load};

pub mod complete;
pub mod engine;
pub mod functions;
pub mod token;
pub mod verification;

pub use complete::Completion;
pub use engine::{Engine, NativeRecord};
pub use token::TokenExchange;
pub use verification::{Decided, StepInfo, Verification};

/// The `code` of a thrown error: a core code, or napi's status for a wrong argument.
#[derive(Debug)]
pub enum Code {
    /// A keyproof error code (`wrong_length`, `invalid_policy` …).
    Core(&'static str),
    /// A Node-API failure (a value of the wrong type …).
    Napi(Status),
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        match self {
            Code::Core(code) => code,
            Code::Napi(status) => status.as_ref(),
        }
    }
}

/// The error type every function returns.
pub type Error = napi::Error<Code>;
/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// A core error as a JS error: `.code` is the core code, the message the core's.
pub(crate) fn core_error(e: keyproof::Error) -> Error {
    napi::Error::new(Code::Core(e.code()), e.message())
}

/// A napi error (wrong argument type …), keeping its status as `.code`.
pub(crate) fn napi_error(e: napi::Error) -> Error {
    napi::Error::new(Code::Napi(e.status), e.reason)
}

/// A core error of `kind` with `message`.
pub(crate) fn error_of(kind: ErrorKind, message: &str) -> Error {
    core_error(keyproof::Error::new(kind, message))
}

/// Loads a core value from a JS object (through serde) or from JSON text.
pub(crate) fn load<T: Load>(value: Unknown<'_>) -> Result<T> {
    match value.get_type().map_err(napi_error)? {
        ValueType::String => {
            let text = String::from_unknown(value).map_err(napi_error)?;
            T::load_json(&text).map_err(core_error)
        }
        ValueType::Object => {
            // napi's deserializer errors display as "<status>, <message>", which would
            // hide the code a field deserializer names (`invalid_timestamp: …`); the
            // object is read into a serde_json::Value first (no JSON text involved),
            // whose errors core maps exactly as for every other runtime.
            let object = Object::from_unknown(value).map_err(napi_error)?;
            let tree =
                serde_json::Value::deserialize(&mut De::new(&object)).map_err(|e| error_of(T::KIND, &e.reason))?;
            T::load_from(|| &tree).map_err(core_error)
        }
        _ => Err(error_of(T::KIND, "expected an object or JSON text")),
    }
}

/// `None` for `null`/`undefined`, else the loaded value.
pub(crate) fn load_optional<T: Load>(value: Unknown<'_>) -> Result<Option<T>> {
    match value.get_type().map_err(napi_error)? {
        ValueType::Null | ValueType::Undefined => Ok(None),
        _ => load(value).map(Some),
    }
}

/// A core value as a JS value (through serde). Integers beyond `u32` become
/// JS numbers (as `JSON.parse` reads them), not the `BigInt`s napi would make.
pub(crate) fn to_js<'env, T: Serialize>(env: &'env Env, value: &T) -> Result<Unknown<'env>> {
    let mut tree = serde_json::to_value(value).map_err(|e| error_of(ErrorKind::InvalidJson, &e.to_string()))?;
    js_numbers(&mut tree);
    env.to_js_value(&tree).map_err(napi_error)
}

fn js_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n)
            if n.as_u64().is_some_and(|u| u > u64::from(u32::MAX))
                || n.as_i64().is_some_and(|i| i < i64::from(i32::MIN)) =>
        {
            if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                *n = f;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(js_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(js_numbers),
        _ => {}
    }
}

/// A record from what a lookup returned: a [`NativeRecord`] (shared, no conversion) or a
/// record object in the storage schema. `null`/`undefined` are `None`.
pub(crate) fn record_from(value: Unknown<'_>) -> Result<Option<std::sync::Arc<keyproof::KeyRecord>>> {
    match value.get_type().map_err(napi_error)? {
        ValueType::Null | ValueType::Undefined => Ok(None),
        ValueType::Object => {
            // A NativeRecord unwraps (napi checks its type tag, so no other wrapped
            // object passes for one); anything else is a record object.
            match napi::bindgen_prelude::ClassInstance::<NativeRecord>::from_unknown(value) {
                Ok(native) => Ok(Some(std::sync::Arc::clone(&native.record))),
                Err(_) => load(value).map(|r| Some(std::sync::Arc::new(r))),
            }
        }
        _ => load(value).map(|r| Some(std::sync::Arc::new(r))),
    }
}

/// Milliseconds since the Unix epoch as a UTC instant.
pub(crate) fn instant(ms: f64) -> Result<chrono::DateTime<chrono::Utc>> {
    keyproof::wire::instant_from_ms(ms).map_err(core_error)
}

/// The package version.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Reads a bytes argument.
pub(crate) fn bytes(value: &Uint8Array) -> &[u8] {
    value
}
