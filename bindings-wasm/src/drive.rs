//! The synchronous `Engine#verify`: the request's strings unpacked from one
//! (`verifyPacked`), and core's `Verification::drive` answered through the
//! host's callbacks (a small cache of recent hashes as JS strings; a
//! `NativeRecord` handed over without a property lookup).

use std::ops::ControlFlow;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use keyproof::drive::answered;
use keyproof::wire::decided;
use keyproof::{ErrorKind, KeyRecord, RateLimitState};

use crate::verification::Verification;
use crate::{error_of, invalid_arg, load_optional, record_from, Result};

/// A packed header that is not a string.
pub(crate) fn not_pairs() -> JsValue {
    error_of(ErrorKind::InvalidJson, "headers are a flat list of name, value pairs")
}

/// `packed` cut into pieces of `cuts` UTF-16 units each (`None` for a cut of
/// `u32::MAX`). A cut inside a character or past the end is an argument error.
pub(crate) fn split_utf16<'a>(packed: &'a str, cuts: &[u32]) -> Result<Vec<Option<&'a str>>> {
    let mut out = Vec::with_capacity(cuts.len());
    let mut chars = packed.char_indices().peekable();
    let mut start = 0;
    for &cut in cuts {
        if cut == u32::MAX {
            out.push(None);
            continue;
        }
        let mut units = 0usize;
        let want = cut as usize;
        while units < want {
            let Some((_, c)) = chars.next() else { return Err(invalid_arg("cuts run past the packed string")) };
            units = units.saturating_add(c.len_utf16());
        }
        if units != want {
            return Err(invalid_arg("a cut falls inside a character"));
        }
        let end = chars.peek().map_or(packed.len(), |(i, _)| *i);
        out.push(Some(packed.get(start..end).ok_or_else(|| invalid_arg("bad cut"))?));
        start = end;
    }
    if chars.next().is_some() {
        return Err(invalid_arg("the packed string is longer than its cuts"));
    }
    Ok(out)
}

/// The lookup answer the package's JS adapter gives for a `NativeRecord` after
/// calling its `__handOver()`.
const HANDED_OVER: f64 = 1.0;

thread_local! {
    /// The last hashes and rate-limit keys handed to callbacks, as JS strings:
    /// the same key verified again gets its string without decoding it anew.
    static JS_STRINGS: std::cell::RefCell<Vec<(String, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `text` as a JS string, from the small cache of recent ones.
fn js_string(text: &str) -> JsValue {
    const KEEP: usize = 32;
    JS_STRINGS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else { return JsValue::from_str(text) };
        if let Some(i) = cache.iter().position(|(t, _)| t == text) {
            let hit = cache.remove(i);
            let value = hit.1.clone();
            cache.push(hit);
            return value;
        }
        let value = JsValue::from_str(text);
        if cache.len() >= KEEP {
            cache.remove(0);
        }
        cache.push((text.to_string(), value.clone()));
        value
    })
}

/// Drives a verification synchronously through the host's callbacks (see [`Engine::verify`]).
pub(crate) fn drive(
    mut v: keyproof::Verification,
    lookup: &Function,
    load_state: Option<&Function>,
) -> Result<JsValue> {
    match v.drive(|hash| answered(ask_record(lookup, hash)), |key| answered(ask_state(load_state, key))) {
        ControlFlow::Continue(()) => Ok(JsValue::from_str(&decided(v.finish(), false))),
        ControlFlow::Break(None) => Ok(Verification { inner: Some(v) }.into()),
        ControlFlow::Break(Some(e)) => Err(e),
    }
}

/// What `lookup(hash)` answered: a record or `null` (`Some`), or `false` to stop (`None`).
pub(crate) fn ask_record(lookup: &Function, hash: &str) -> Result<Option<Option<std::sync::Arc<KeyRecord>>>> {
    let found = lookup.call1(&JsValue::NULL, &js_string(hash))?;
    if found.as_bool().is_some() {
        return Ok(None);
    }
    if found.as_f64() == Some(HANDED_OVER) {
        if let Some(record) = crate::take_handoff() {
            return Ok(Some(Some(record)));
        }
    }
    record_from(&found).map(Some)
}

/// What `loadState(key)` answered: a state or `null` (`Some`), or `false` or
/// no callback to stop (`None`).
pub(crate) fn ask_state(load_state: Option<&Function>, key: &str) -> Result<Option<Option<RateLimitState>>> {
    let Some(load_state) = load_state else { return Ok(None) };
    let state = load_state.call1(&JsValue::NULL, &js_string(key))?;
    if state.as_bool().is_some() {
        return Ok(None);
    }
    load_optional(&state).map(Some)
}

/// The step driven by `lookup` / `loadState`; with `act`, core's whole host loop
/// (`act(action)` does each compare-and-set, save, touch and count: see
/// `complete`; `hostWrites` bits as `keyproof::wire::action::SAVES`).
pub(crate) fn drive_or_complete(
    v: keyproof::Verification,
    lookup: &Function,
    load_state: Option<&Function>,
    act: Option<&Function>,
    host_writes: Option<u32>,
) -> Result<JsValue> {
    match act {
        Some(act) => crate::complete::run(keyproof::wire::completion(v, host_writes), lookup, load_state, act),
        None => drive(v, lookup, load_state),
    }
}
