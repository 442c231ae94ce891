//! What a JS value is, for core's host deserializer (`keyproof::host`), so every
//! core value loads from a JS value exactly as the same JSON text loads in the
//! core, with no JSON text between.
//!
//! `serde-wasm-bindgen`'s deserializer is not used for this: it looks up only
//! the fields a struct declares (so `deny_unknown_fields` never fires and a
//! record with a misspelt field would load), and it refuses integral numbers
//! beyond 2^53 that JSON reads as integers (`tat_us: 9223372036854775807` is
//! clamped by the core, not refused). Here:
//!
//! - an object's **own keys** are visited (`Object.entries`); keys whose value
//!   is `undefined` are absent, as in `JSON.stringify`;
//! - numbers: integral ones are integers (saturated at the ends of `i64` when
//!   read into one, as the core's clamp expects), others floats;
//! - `null`/`undefined` are JSON `null`; arrays are sequences (holes are `null`).

use js_sys::{Array, Object};
use keyproof::host::{HostValue, Shape};
use wasm_bindgen::{JsCast, JsValue};

/// The first double that is not below `i64::MAX`.
const I64_END: f64 = 9_223_372_036_854_775_808.0;

/// One JS value as core reads it.
pub(crate) struct JsInput(pub(crate) JsValue);

impl HostValue for JsInput {
    const SATURATE: bool = true;
    type Text = String;

    fn shape(self) -> Result<Shape<Self>, String> {
        let value = self.0;
        Ok(if value.is_null() || value.is_undefined() {
            Shape::Null
        } else if let Some(b) = value.as_bool() {
            Shape::Bool(b)
        } else if let Some(f) = value.as_f64() {
            // `as` saturates at the type's ends.
            match f {
                f if !f.is_finite() || f.fract() != 0.0 => Shape::Float(f),
                f if f < I64_END => Shape::Int(f as i64),
                f => Shape::UInt(f as u64),
            }
        } else if let Some(s) = value.as_string() {
            Shape::Str(s)
        } else if Array::is_array(&value) {
            Shape::Seq(value.unchecked_into::<Array>().iter().map(JsInput).collect())
        } else if value.is_object() {
            let entries = Object::entries(value.unchecked_ref());
            let pairs = entries.iter().map(JsCast::unchecked_into::<Array>).map(|pair| (pair.get(0), pair.get(1)));
            Shape::Map(pairs.filter(|(_, v)| !v.is_undefined()).map(|(k, v)| (JsInput(k), JsInput(v))).collect())
        } else {
            return Err("a JS value of this type cannot be loaded".to_string());
        })
    }
}
