//! Reading JS values with serde, directly (no JSON text): every core value
//! loads from a JS value exactly as the same JSON text loads in the core.
//!
//! `serde-wasm-bindgen`'s deserializer is not used for this: it looks up only
//! the fields a struct declares (so `deny_unknown_fields` never fires and a
//! record with a misspelt field would load), and it refuses integral numbers
//! beyond 2^53 that JSON reads as integers (`tat_us: 9223372036854775807` is
//! clamped by the core, not refused). Here:
//!
//! - an object's **own keys** are visited (`Object.entries`); keys whose value
//!   is `undefined` are absent, as in `JSON.stringify`;
//! - numbers: integral ones are integers (saturated at the type's ends when
//!   beyond them, as the core's clamp expects), others floats;
//! - `null`/`undefined` are JSON `null`; arrays are sequences; strings,
//!   booleans as they are; enums are `"Variant"` or `{"Variant": payload}`.

use js_sys::{Array, Object};
use serde::de::value::StringDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use wasm_bindgen::{JsCast, JsValue};

/// A deserialization error: its message as the core reads it (a custom
/// deserializer's `invalid_timestamp: …` prefix intact).
#[derive(Debug)]
pub(crate) struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

/// Safe integers are exact in a double; beyond them an integral double still
/// names an integer (JSON text would give one).
fn integral(value: &JsValue) -> Option<f64> {
    value.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0)
}

/// A deserializer over one JS value.
pub(crate) struct JsDe(pub(crate) JsValue);

impl JsDe {
    fn is_nullish(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    /// A plain object (not `null`, an array or a function).
    fn is_object(&self) -> bool {
        self.0.is_object() && !Array::is_array(&self.0)
    }

    fn unexpected(&self) -> Unexpected<'_> {
        if self.is_nullish() {
            Unexpected::Unit
        } else if let Some(b) = self.0.as_bool() {
            Unexpected::Bool(b)
        } else if let Some(f) = self.0.as_f64() {
            Unexpected::Float(f)
        } else if self.0.is_string() {
            Unexpected::Other("string")
        } else if Array::is_array(&self.0) {
            Unexpected::Seq
        } else if self.0.is_object() {
            Unexpected::Map
        } else {
            Unexpected::Other("JS value")
        }
    }

    fn invalid<'de, V: Visitor<'de>, T>(&self, visitor: &V) -> Result<T> {
        Err(de::Error::invalid_type(self.unexpected(), visitor))
    }

    fn signed<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match integral(&self.0) {
            // `as` saturates at the ends of i64.
            Some(f) => visitor.visit_i64(f as i64),
            None => self.invalid(&visitor),
        }
    }

    fn unsigned<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match integral(&self.0) {
            Some(f) if f >= 0.0 => visitor.visit_u64(f as u64),
            Some(f) => visitor.visit_i64(f as i64), // the visitor refuses a negative value
            None => self.invalid(&visitor),
        }
    }

    fn string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.as_string() {
            Some(s) => visitor.visit_string(s),
            None => self.invalid(&visitor),
        }
    }
}

impl<'de> de::Deserializer<'de> for JsDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_nullish() {
            visitor.visit_unit()
        } else if let Some(b) = self.0.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(f) = self.0.as_f64() {
            match integral(&self.0) {
                Some(i) if i < 0.0 => visitor.visit_i64(i as i64),
                Some(i) => visitor.visit_u64(i as u64),
                None => visitor.visit_f64(f),
            }
        } else if let Some(s) = self.0.as_string() {
            visitor.visit_string(s)
        } else if Array::is_array(&self.0) {
            visitor.visit_seq(Items::new(self.0.unchecked_into()))
        } else if self.0.is_object() {
            visitor.visit_map(Entries::new(&self.0))
        } else {
            self.invalid(&visitor)
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.as_bool() {
            Some(b) => visitor.visit_bool(b),
            None => self.invalid(&visitor),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.signed(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.signed(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.signed(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.signed(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.unsigned(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.unsigned(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.unsigned(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.unsigned(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.as_f64() {
            Some(f) => visitor.visit_f64(f),
            None => self.invalid(&visitor),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.string(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.string(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.string(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0.dyn_ref::<js_sys::Uint8Array>() {
            Some(bytes) => visitor.visit_byte_buf(bytes.to_vec()),
            None => self.deserialize_seq(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_nullish() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_nullish() {
            visitor.visit_unit()
        } else {
            self.invalid(&visitor)
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if Array::is_array(&self.0) {
            visitor.visit_seq(Items::new(self.0.unchecked_into()))
        } else {
            self.invalid(&visitor)
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_object() {
            visitor.visit_map(Entries::new(&self.0))
        } else {
            self.invalid(&visitor)
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if let Some(tag) = self.0.as_string() {
            return visitor.visit_enum(Variant { tag, payload: JsValue::UNDEFINED });
        }
        if self.is_object() {
            let entries = Object::entries(self.0.unchecked_ref());
            if entries.length() == 1 {
                let pair: Array = entries.get(0).unchecked_into();
                if let Some(tag) = pair.get(0).as_string() {
                    return visitor.visit_enum(Variant { tag, payload: pair.get(1) });
                }
            }
        }
        self.invalid(&visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// An object's own enumerable string keys and their values (`Object.entries`),
/// keys with `undefined` values skipped.
struct Entries {
    entries: Array,
    next: u32,
    value: Option<JsValue>,
}

impl Entries {
    fn new(object: &JsValue) -> Self {
        Self { entries: Object::entries(object.unchecked_ref()), next: 0, value: None }
    }
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        while self.next < self.entries.length() {
            let pair: Array = self.entries.get(self.next).unchecked_into();
            self.next = self.next.saturating_add(1);
            let value = pair.get(1);
            if value.is_undefined() {
                continue;
            }
            self.value = Some(value);
            return seed.deserialize(JsDe(pair.get(0))).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(value) => seed.deserialize(JsDe(value)),
            None => Err(de::Error::custom("a map value was read before its key")),
        }
    }
}

/// An array's items (holes and `undefined` read as `null`).
struct Items {
    array: Array,
    next: u32,
}

impl Items {
    fn new(array: Array) -> Self {
        Self { array, next: 0 }
    }
}

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.next >= self.array.length() {
            return Ok(None);
        }
        let item = self.array.get(self.next);
        self.next = self.next.saturating_add(1);
        seed.deserialize(JsDe(item)).map(Some)
    }
}

/// An enum variant: `"Tag"` (no payload) or `{"Tag": payload}`.
struct Variant {
    tag: String,
    payload: JsValue,
}

impl<'de> de::EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = JsDe;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, JsDe)> {
        let tag: StringDeserializer<Error> = self.tag.into_deserializer();
        Ok((seed.deserialize(tag)?, JsDe(self.payload)))
    }
}

impl<'de> de::VariantAccess<'de> for JsDe {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        if self.is_nullish() {
            Ok(())
        } else {
            Err(de::Error::invalid_type(self.unexpected(), &"a unit variant"))
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}
