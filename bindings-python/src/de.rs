//! What a Python object is, for core's host deserializer (`keyproof::host`),
//! so values load with no JSON text between: dict, list, tuple, str, int,
//! float, bool, None and aware datetimes (read as RFC 3339 text). Wrapper
//! objects (`Owner`, `KeyRecord` …) stand for their `to_dict()`, other mappings
//! for their `items()`. Integers beyond 64 bits, NaN, lone surrogates and naive
//! datetimes are refused (core turns the refusal into a coded error).

use keyproof::host::{HostText, HostValue, Shape};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::Visitor;

/// Python text lent to Rust: no copy on CPython ≥ 3.10 (the UTF-8 form the
/// string caches), one bytes object on 3.9. A lone surrogate is refused.
#[inline]
pub(crate) fn backed(s: &Bound<'_, PyString>) -> Result<PyBackedStr, String> {
    PyBackedStr::try_from(s.clone()).map_err(|_| "text with a lone surrogate cannot be loaded".to_string())
}

/// Text of a Python value as core reads it: a `str`'s own UTF-8, or text made here.
pub(crate) enum PyText {
    Lent(PyBackedStr),
    Made(String),
}

impl AsRef<str> for PyText {
    fn as_ref(&self) -> &str {
        match self {
            Self::Lent(s) => s,
            Self::Made(s) => s,
        }
    }
}

impl HostText for PyText {
    fn visit<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, keyproof::host::Error> {
        match self {
            Self::Lent(s) => visitor.visit_str(&s),
            Self::Made(s) => visitor.visit_string(s),
        }
    }
}

/// One Python object as core reads it.
pub(crate) struct PyValue<'py>(pub(crate) Bound<'py, PyAny>);

impl HostValue for PyValue<'_> {
    type Text = PyText;

    #[inline]
    fn shape(self) -> Result<Shape<Self>, String> {
        let (obj, py_err) = (&self.0, |e: PyErr| e.to_string());
        // Exact types first: a pointer comparison each, where the subclass checks
        // below are a call each under the stable ABI. Records are mostly text.
        if let Ok(s) = obj.cast_exact::<PyString>() {
            return Ok(Shape::Str(PyText::Lent(backed(s)?)));
        }
        if let Ok(dict) = obj.cast_exact::<PyDict>() {
            return Ok(Shape::Map(dict.iter().map(|(k, v)| (Self(k), Self(v))).collect()));
        }
        Ok(if obj.is_none() {
            Shape::Null
        } else if let Ok(b) = obj.cast::<PyBool>() {
            Shape::Bool(b.is_true())
        } else if obj.is_instance_of::<PyInt>() {
            match obj.extract::<i64>() {
                Ok(i) => Shape::Int(i),
                Err(_) => Shape::UInt(obj.extract().map_err(|_| "integers must fit in 64 bits")?),
            }
        } else if let Ok(f) = obj.cast::<PyFloat>() {
            match f.value() {
                v if v.is_finite() => Shape::Float(v),
                _ => return Err("NaN and infinity cannot be loaded".into()),
            }
        } else if let Ok(s) = obj.cast::<PyString>() {
            Shape::Str(PyText::Lent(backed(s)?))
        } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            Shape::Seq(obj.try_iter().and_then(|i| i.map(|o| o.map(Self)).collect()).map_err(py_err)?)
        } else if obj.is_instance_of::<PyDateTime>() {
            // The canonical UTC text, as JSON and every other runtime give it.
            let t = crate::convert::utc(obj).map_err(|e| format!("{}: {}", e.code(), e.message()))?;
            Shape::Str(PyText::Made(keyproof::timestamp::format_timestamp(&t)))
        } else if let Ok(dict) = obj.cast::<PyDict>() {
            Shape::Map(dict.iter().map(|(k, v)| (Self(k), Self(v))).collect())
        } else if obj.hasattr(intern!(obj.py(), "to_dict")).map_err(py_err)? {
            Shape::Inner(Self(obj.call_method0(intern!(obj.py(), "to_dict")).map_err(py_err)?))
        } else if obj.hasattr(intern!(obj.py(), "items")).map_err(py_err)? {
            let pairs = obj.call_method0(intern!(obj.py(), "items")).and_then(|i| i.try_iter()).map_err(py_err)?;
            Shape::Map(
                pairs
                    .map(|p| p?.extract().map(|(k, v)| (Self(k), Self(v))))
                    .collect::<PyResult<_>>()
                    .map_err(py_err)?,
            )
        } else {
            let type_name = obj.get_type().name().map_or_else(|_| "object".to_string(), |n| n.to_string());
            return Err(format!("a value of type {type_name} cannot be loaded"));
        })
    }
}
