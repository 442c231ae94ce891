//! Loading core values straight from a host runtime's own values (Python
//! objects, JavaScript values …), with no JSON text between. A binding only
//! says what one of its values is ([`HostValue::shape`]); [`HostDe`] is the
//! serde `Deserializer` over it, with the same rules in every runtime:
//!
//! - every key of a mapping is visited, so `deny_unknown_fields` holds;
//! - enums load from `"Variant"` or `{"Variant": payload}`, as from JSON text;
//! - data nested deeper than [`MAX_DEPTH`] levels is refused, never a stack overflow.
//!
//! Errors are serde's plain error type, whose text [`crate::Load`] reads (a
//! leading `code: ` names the code, as a field deserializer's does).

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

/// Deepest nesting of mappings, sequences and wrappers a host value may have.
pub const MAX_DEPTH: usize = 64;

/// serde's plain error type: its text is what [`crate::Load`] reads.
pub type Error = de::value::Error;
type Result<T> = std::result::Result<T, Error>;

/// What one host value is, in JSON's data model.
#[derive(Debug)]
pub enum Shape<H: HostValue> {
    /// `None`, `null`, `undefined`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer beyond `i64::MAX` that fits `u64`.
    UInt(u64),
    /// A number with a fraction (or one the host only has as a float).
    Float(f64),
    /// Text (a timestamp as RFC 3339 text), as the host holds it.
    Str(H::Text),
    /// A list's items.
    Seq(Vec<H>),
    /// A mapping's (key, value) pairs.
    Map(Vec<(H, H)>),
    /// A wrapper object that stands for another value (its plain data), one level deeper.
    Inner(H),
}

/// A value of a host runtime that core can load from.
pub trait HostValue: Sized {
    /// Whether an integer beyond `i64::MAX` read into a signed field saturates
    /// (a JavaScript number beyond 2^63 stands for one that JSON text gives
    /// as `i64::MAX`) instead of being refused.
    const SATURATE: bool = false;

    /// Text as the host holds it: a Rust `String`, or a borrow of the host's own
    /// string, so that keys and parsed fields load without a copy.
    type Text: HostText;

    /// What this value is; an `Err` refuses it with that message.
    fn shape(self) -> std::result::Result<Shape<Self>, String>;
}

/// Text of a host value, handed to serde without a copy where it can be.
pub trait HostText: AsRef<str> {
    /// Visits the text: owned text moves into the visitor (`visit_string`, so a
    /// `String` field keeps it), borrowed text is lent (`visit_str`: a field name
    /// or a parsed value needs no copy).
    fn visit<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value>;
}

impl HostText for String {
    fn visit<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_string(self)
    }
}

/// A serde `Deserializer` over one host value: `T::load(HostDe::new(value))`.
pub struct HostDe<H: HostValue> {
    shape: Result<Shape<H>>,
    depth: usize,
}

impl<H: HostValue> HostDe<H> {
    /// A deserializer over `value`.
    pub fn new(value: H) -> Self {
        Self::at(value, 0)
    }

    /// `value` read at nesting `depth`, a wrapper replaced by what it stands for.
    fn at(value: H, depth: usize) -> Self {
        let mut de = Self { shape: value.shape().map_err(de::Error::custom), depth };
        while let Ok(Shape::Inner(_)) = de.shape {
            let Ok(Shape::Inner(inner)) = std::mem::replace(&mut de.shape, Ok(Shape::Null)) else { break };
            de = match de.child_depth() {
                Ok(depth) => Self { shape: inner.shape().map_err(de::Error::custom), depth },
                Err(e) => Self { shape: Err(e), depth: de.depth },
            };
        }
        de
    }

    /// The depth of this value's children, refused beyond [`MAX_DEPTH`].
    fn child_depth(&self) -> Result<usize> {
        match self.depth {
            d if d < MAX_DEPTH => Ok(d.saturating_add(1)),
            _ => Err(de::Error::custom(format!("data is nested deeper than {MAX_DEPTH} levels"))),
        }
    }
}

/// What serde's type errors name for a shape.
fn unexpected<H: HostValue>(shape: &Shape<H>) -> Unexpected<'_> {
    match shape {
        Shape::Null => Unexpected::Unit,
        Shape::Bool(b) => Unexpected::Bool(*b),
        Shape::Int(i) => Unexpected::Signed(*i),
        Shape::UInt(u) => Unexpected::Unsigned(*u),
        Shape::Float(f) => Unexpected::Float(*f),
        Shape::Str(s) => Unexpected::Str(s.as_ref()),
        Shape::Seq(_) => Unexpected::Seq,
        Shape::Map(_) | Shape::Inner(_) => Unexpected::Map,
    }
}

impl<'de, H: HostValue> de::Deserializer<'de> for HostDe<H> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let depth = self.child_depth();
        match self.shape? {
            Shape::Null => visitor.visit_unit(),
            Shape::Bool(b) => visitor.visit_bool(b),
            Shape::Int(i) => visitor.visit_i64(i),
            Shape::UInt(u) => visitor.visit_u64(u),
            Shape::Float(f) => visitor.visit_f64(f),
            Shape::Str(s) => s.visit(visitor),
            Shape::Seq(items) => visitor.visit_seq(Items { items: items.into_iter(), depth: depth? }),
            Shape::Map(pairs) => visitor.visit_map(Entries { pairs: pairs.into_iter(), value: None, depth: depth? }),
            Shape::Inner(_) => Err(de::Error::custom("a wrapper was not unwrapped")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.shape {
            Ok(Shape::UInt(u)) if H::SATURATE => visitor.visit_i64(i64::try_from(u).unwrap_or(i64::MAX)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.shape {
            Ok(Shape::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let depth = self.child_depth()?;
        match self.shape? {
            Shape::Str(tag) => visitor.visit_enum(tag.as_ref().into_deserializer()),
            Shape::Map(mut pairs) if pairs.len() == 1 => {
                let (tag, payload) = pairs.pop().ok_or_else(|| de::Error::custom("an enum without its variant"))?;
                match Self::at(tag, depth).shape? {
                    Shape::Str(tag) => {
                        visitor.visit_enum(Variant { tag: tag.as_ref().to_owned(), payload: Self::at(payload, depth) })
                    }
                    other => Err(de::Error::invalid_type(unexpected(&other), &"a variant name")),
                }
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A mapping's (key, value) pairs, taken before any is read.
struct Entries<H> {
    pairs: std::vec::IntoIter<(H, H)>,
    value: Option<H>,
    depth: usize,
}

impl<'de, H: HostValue> de::MapAccess<'de> for Entries<H> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.pairs.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(HostDe::at(key, self.depth)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a map value was read before its key"))?;
        seed.deserialize(HostDe::at(value, self.depth))
    }
}

/// A list's items.
struct Items<H> {
    items: std::vec::IntoIter<H>,
    depth: usize,
}

impl<'de, H: HostValue> de::SeqAccess<'de> for Items<H> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        match self.items.next() {
            Some(item) => seed.deserialize(HostDe::at(item, self.depth)).map(Some),
            None => Ok(None),
        }
    }
}

/// An enum given as `{"Variant": payload}`.
struct Variant<H: HostValue> {
    tag: String,
    payload: HostDe<H>,
}

impl<'de, H: HostValue> de::EnumAccess<'de> for Variant<H> {
    type Error = Error;
    type Variant = HostDe<H>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, HostDe<H>)> {
        let tag: de::value::StringDeserializer<Error> = self.tag.into_deserializer();
        Ok((seed.deserialize(tag)?, self.payload))
    }
}

impl<'de, H: HostValue> de::VariantAccess<'de> for HostDe<H> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.shape? {
            Shape::Null => Ok(()),
            other => Err(de::Error::invalid_type(unexpected(&other), &"a unit variant")),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::{CredentialKind, ErrorKind, Load, RateLimitState};

    /// JSON values as a stand-in host; the text `"wrapped"` is a wrapper of a state.
    impl HostValue for serde_json::Value {
        type Text = String;

        fn shape(self) -> std::result::Result<Shape<Self>, String> {
            Ok(match self {
                Self::Null => Shape::Null,
                Self::Bool(b) => Shape::Bool(b),
                Self::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => Shape::Int(i),
                    (None, Some(u)) => Shape::UInt(u),
                    _ => Shape::Float(n.as_f64().unwrap_or_default()),
                },
                Self::String(s) if s == "wrapped" => Shape::Inner(serde_json::json!({"tat_us": 5})),
                Self::String(s) => Shape::Str(s),
                Self::Array(items) => Shape::Seq(items),
                Self::Object(map) => Shape::Map(map.into_iter().map(|(k, v)| (Self::String(k), v)).collect()),
            })
        }
    }

    #[derive(Debug, Deserialize)]
    struct Anything(#[allow(dead_code)] serde_json::Value);

    impl Load for Anything {
        const KIND: ErrorKind = ErrorKind::InvalidJson;
    }

    #[derive(Debug, Deserialize)]
    struct Kind(CredentialKind);

    impl Load for Kind {
        const KIND: ErrorKind = ErrorKind::InvalidFormat;
    }

    fn load<T: Load>(value: serde_json::Value) -> crate::Result<T> {
        T::load(HostDe::new(value))
    }

    #[test]
    fn loads_as_json_text_does() {
        assert_eq!(load::<RateLimitState>(serde_json::json!({"tat_us": 12})).unwrap().tat_us, 12);
        assert_eq!(load::<RateLimitState>("wrapped".into()).unwrap().tat_us, 5);
        let unknown = load::<RateLimitState>(serde_json::json!({"tat_us": 1, "extra": 2})).unwrap_err();
        assert_eq!(unknown.kind(), RateLimitState::KIND);
        assert!(load::<RateLimitState>(serde_json::json!({"tat_us": u64::MAX})).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut value = serde_json::json!(1);
        for _ in 0..MAX_DEPTH {
            value = serde_json::json!([value]);
        }
        assert!(load::<Anything>(value.clone()).is_ok());
        let e = load::<Anything>(serde_json::json!([value])).unwrap_err();
        assert!(e.message().contains("nested deeper"), "{}", e.message());
    }

    #[test]
    fn enums_load_from_names_and_single_key_maps() {
        assert_eq!(load::<Kind>("secret".into()).unwrap().0, CredentialKind::Secret);
        assert_eq!(load::<Kind>(serde_json::json!({"sdk_token": null})).unwrap().0, CredentialKind::SdkToken);
        assert!(load::<Kind>(serde_json::json!(3)).is_err());
        assert!(load::<Kind>(serde_json::json!({"secret": 1})).is_err());
    }
}
