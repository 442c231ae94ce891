//! WASM binding of keyproof (wasm-bindgen), for edge workers (Cloudflare
//! Workers / workerd), Deno, Bun, browsers and Node.
//!
//! Converts types and errors, nothing else: every rule lives in the core. It
//! exposes the same native surface as the Node binding (`bindings-node/`,
//! written down in `js/NATIVE.md`), so the shared JS layer (`js/`) runs over
//! either engine unchanged. Values cross in the storage schema every runtime
//! shares (snake_case fields, RFC 3339 timestamps) through `serde-wasm-bindgen`,
//! without a JSON text round trip.
//!
//! Errors are JS `Error`s whose `code` is the stable core code and whose message
//! is the core message (never a secret). Bad input is an error, never a trap: no
//! code path here panics (a trap would leave the instance unusable).

use std::cell::RefCell;
use std::sync::Arc;

use js_sys::Reflect;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use keyproof::host::HostDe;
use keyproof::{ErrorKind, KeyRecord, Load};

mod complete;
mod de;
mod drive;
mod engine;
mod functions;
mod token;
mod verification;

pub use complete::Completion;
pub use engine::{Engine, NativeRecord};
pub use token::TokenExchange;
pub use verification::Verification;

/// Result alias: the error is the JS `Error` thrown.
pub type Result<T> = std::result::Result<T, JsValue>;

/// A JS `Error` with `message` whose `.code` is `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh `Error` cannot fail; an `Err` would only
    // mean the error carries no code, which is still an error.
    let _ = Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// A core error as a JS error: `.code` is the core code, the message the core's.
pub(crate) fn core_error(e: keyproof::Error) -> JsValue {
    js_error(e.code(), e.message())
}

/// A core error of `kind` with `message`.
pub(crate) fn error_of(kind: ErrorKind, message: &str) -> JsValue {
    js_error(kind.code(), message)
}

/// An argument of the wrong JS type (the Node binding's `InvalidArg`).
pub(crate) fn invalid_arg(message: &str) -> JsValue {
    js_error("InvalidArg", message)
}

/// A string argument. wasm-bindgen's own `&str`/`String` parameters trust the
/// caller: a number there corrupts the allocator and traps the instance, so
/// every string crosses as a `JsValue` and is checked here.
pub(crate) fn text(value: &JsValue, what: &str) -> Result<String> {
    value.as_string().ok_or_else(|| js_error("StringExpected", &format!("{what} must be a string")))
}

/// An optional string argument (`null`/`undefined` are `None`).
pub(crate) fn optional_text(value: &JsValue, what: &str) -> Result<Option<String>> {
    match value.as_string() {
        Some(text) => Ok(Some(text)),
        None if value.is_null() || value.is_undefined() => Ok(None),
        None => Err(js_error("StringExpected", &format!("{what} must be a string or null"))),
    }
}

/// An optional bytes argument: a `Uint8Array` (or `ArrayBuffer`), or
/// `null`/`undefined`. Checked here for the same reason as [`text`] (an object
/// with a huge `length` would make wasm-bindgen's glue allocate that much).
pub(crate) fn optional_bytes(value: &JsValue, what: &str) -> Result<Option<Vec<u8>>> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(Some(bytes.to_vec()));
    }
    if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Some(js_sys::Uint8Array::new(buffer).to_vec()));
    }
    Err(invalid_arg(&format!("{what} must be a Uint8Array")))
}

/// Loads a core value from a JS object (through serde) or from JSON text.
///
/// JSON text is parsed by the host's `JSON.parse` (a syntax error is
/// `invalid_json`, as in the core) and then read like an object: one
/// deserializer for both, which keeps `serde_json`'s out of the module.
pub(crate) fn load<T: Load>(value: &JsValue) -> Result<T> {
    if let Some(text) = value.as_string() {
        let parsed = js_sys::JSON::parse(&text).map_err(|e| {
            let message =
                e.dyn_ref::<js_sys::Error>().map_or_else(|| "invalid JSON".to_string(), |e| String::from(e.message()));
            error_of(ErrorKind::InvalidJson, &message)
        })?;
        return T::load(HostDe::new(de::JsInput(parsed))).map_err(core_error);
    }
    if value.is_object() {
        // One tracked read, not `load_from`'s two: a second deserializer instance
        // of every loadable type would cost ≈ 170 KB of module for ≈ 4 % of a load.
        T::load(HostDe::new(de::JsInput(value.clone()))).map_err(core_error)
    } else {
        Err(error_of(T::KIND, "expected an object or JSON text"))
    }
}

/// `None` for `null`/`undefined`, else the loaded value.
pub(crate) fn load_optional<T: Load>(value: &JsValue) -> Result<Option<T>> {
    if value.is_null() || value.is_undefined() {
        Ok(None)
    } else {
        load(value).map(Some)
    }
}

/// A core value as a JS value (plain objects and arrays, `null` for `None`).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error("GenericFailure", &e.to_string()))
}

thread_local! {
    /// A [`NativeRecord`]'s record, handed over by its hidden getter while the
    /// binding reads a lookup answer (see [`record_from`]).
    static HANDOFF: RefCell<Option<Arc<KeyRecord>>> = const { RefCell::new(None) };
}

/// The hidden property of a [`NativeRecord`] that hands its record over.
pub(crate) const HANDOFF_PROPERTY: &str = "__keyproofRecord";

pub(crate) fn hand_over(record: &Arc<KeyRecord>) {
    HANDOFF.with(|h| {
        if let Ok(mut slot) = h.try_borrow_mut() {
            *slot = Some(Arc::clone(record));
        }
    });
}

pub(crate) fn take_handoff() -> Option<Arc<KeyRecord>> {
    HANDOFF.with(|h| h.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
}

/// A record from what a lookup returned: a [`NativeRecord`] (shared, no conversion), a
/// record object in the storage schema or JSON text. `null`/`undefined` are `None`.
pub(crate) fn record_from(value: &JsValue) -> Result<Option<Arc<KeyRecord>>> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if value.is_object() {
        // (A NativeRecord from the adapter's fast path arrives as `1` instead, see `drive`.)
        // A `NativeRecord` answers `true` and leaves its record in the handoff slot.
        let native = Reflect::get(value, &JsValue::from_str(HANDOFF_PROPERTY)).unwrap_or(JsValue::UNDEFINED);
        if native.as_bool() == Some(true) {
            if let Some(record) = take_handoff() {
                return Ok(Some(record));
            }
        }
    }
    load(value).map(|r| Some(Arc::new(r)))
}

/// Milliseconds since the Unix epoch as a UTC instant.
pub(crate) fn instant(ms: f64) -> Result<chrono::DateTime<chrono::Utc>> {
    keyproof::wire::instant_from_ms(ms).map_err(core_error)
}

/// `n` bytes of OS randomness (`crypto.getRandomValues` on the wasm target).
pub(crate) fn os_random(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| error_of(ErrorKind::InsufficientRandomness, &format!("no OS randomness: {e}")))?;
    Ok(bytes)
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `n` bytes (at most 65 536) of OS randomness, from `crypto.getRandomValues`.
#[wasm_bindgen(js_name = randomBytes)]
pub fn random_bytes(n: f64) -> Result<Vec<u8>> {
    if !(0.0..=65_536.0).contains(&n) || n.fract() != 0.0 {
        return Err(invalid_arg("at most 65536 random bytes per call"));
    }
    os_random(n as usize)
}
