//! Loading core values straight from Python objects, with no JSON text between:
//! a serde `Deserializer` over dict, list, tuple, str, int, float, bool, None and
//! aware datetimes (read as RFC 3339 text). Every key of a mapping is visited, so
//! core's `deny_unknown_fields` holds; wrapper objects (`Owner`, `KeyRecord` …)
//! are read through their `to_dict()`, other mappings through `items()`. Data
//! nested deeper than 64 levels, integers beyond 64 bits, NaN, lone surrogates
//! and naive datetimes are refused (core turns the refusal into a coded error).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, Visitor};

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// serde's plain error type: its text is what core reads (a leading `code: ` names the code).
type Error = de::value::Error;
type Result<T> = std::result::Result<T, Error>;

fn error(message: impl std::fmt::Display) -> Error {
    de::Error::custom(message)
}

/// Python text as Rust text; a lone surrogate is refused.
pub(crate) fn text(s: &Bound<'_, PyString>) -> Result<String> {
    s.to_cow().map(|t| t.into_owned()).map_err(|_| error("text with a lone surrogate cannot be loaded"))
}

type Pairs<'py> = Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>;

/// A deserializer over one Python object.
pub(crate) struct PyDe<'py> {
    obj: Bound<'py, PyAny>,
    depth: usize,
}

impl<'py> PyDe<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> Self {
        Self { obj: obj.clone(), depth: 0 }
    }

    /// The depth of this object's children, refused beyond [`MAX_DEPTH`].
    fn inner_depth(&self) -> Result<usize> {
        match self.depth {
            d if d < MAX_DEPTH => Ok(d.saturating_add(1)),
            _ => Err(error(format!("data is nested deeper than {MAX_DEPTH} levels"))),
        }
    }

    fn map<'de, V: Visitor<'de>>(&self, pairs: Pairs<'py>, visitor: V) -> Result<V::Value> {
        visitor.visit_map(Entries { pairs: pairs.into_iter(), value: None, depth: self.inner_depth()? })
    }
}

impl<'de> de::Deserializer<'de> for PyDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let obj = &self.obj;
        if obj.is_none() {
            visitor.visit_unit()
        } else if let Ok(b) = obj.cast::<PyBool>() {
            visitor.visit_bool(b.is_true())
        } else if obj.is_instance_of::<PyInt>() {
            match obj.extract::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => visitor.visit_u64(obj.extract().map_err(|_| error("integers must fit in 64 bits"))?),
            }
        } else if let Ok(f) = obj.cast::<PyFloat>() {
            match f.value() {
                v if v.is_finite() => visitor.visit_f64(v),
                _ => Err(error("NaN and infinity cannot be loaded")),
            }
        } else if let Ok(s) = obj.cast::<PyString>() {
            visitor.visit_string(text(s)?)
        } else if obj.is_instance_of::<PyDateTime>() {
            let t = crate::convert::utc(obj).map_err(|e| error(format_args!("{}: {}", e.code(), e.message())))?;
            visitor.visit_string(keyproof::timestamp::format_timestamp(&t))
        } else if let Ok(dict) = obj.cast::<PyDict>() {
            self.map(dict.iter().collect(), visitor)
        } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let items = obj.try_iter().and_then(|i| i.collect::<PyResult<Vec<_>>>()).map_err(error)?;
            visitor.visit_seq(Items { items: items.into_iter(), depth: self.inner_depth()? })
        } else if obj.hasattr("to_dict").map_err(error)? {
            let data = obj.call_method0("to_dict").map_err(error)?;
            PyDe { obj: data, depth: self.inner_depth()? }.deserialize_any(visitor)
        } else if obj.hasattr("items").map_err(error)? {
            let items = obj.call_method0("items").and_then(|i| i.try_iter());
            let pairs = items.and_then(|i| i.map(|p| p?.extract()).collect::<PyResult<_>>()).map_err(error)?;
            self.map(pairs, visitor)
        } else {
            let type_name = obj.get_type().name().map_or_else(|_| "object".to_string(), |n| n.to_string());
            Err(error(format!("a value of type {type_name} cannot be loaded")))
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.obj.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    /// Core's enums load from their names (`"base62"`, `"active"` …).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.obj.cast::<PyString>() {
            Ok(s) => visitor.visit_enum(de::value::StringDeserializer::<Error>::new(text(s)?)),
            Err(_) => Err(de::Error::invalid_type(de::Unexpected::Other("a value that is not a name"), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A mapping's (key, value) pairs, taken before any is read.
struct Entries<'py> {
    pairs: std::vec::IntoIter<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    value: Option<Bound<'py, PyAny>>,
    depth: usize,
}

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.pairs.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(PyDe { obj: key, depth: self.depth }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let value = self.value.take().ok_or_else(|| error("a map value was read before its key"))?;
        seed.deserialize(PyDe { obj: value, depth: self.depth })
    }
}

/// A list's or tuple's items.
struct Items<'py> {
    items: std::vec::IntoIter<Bound<'py, PyAny>>,
    depth: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(obj) => seed.deserialize(PyDe { obj, depth: self.depth }).map(Some),
            None => Ok(None),
        }
    }
}
