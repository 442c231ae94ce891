//! Type conversions shared by the wrappers: datetimes, JSON-shaped Python values,
//! header lists, enum names and the default time and randomness.

use chrono::{DateTime, TimeZone, Utc};
use keyproof::timestamp::format_timestamp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyTzInfo};
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted when converting Python values to JSON.
const MAX_DEPTH: usize = 64;
/// Random bytes drawn from `os.urandom` when the caller supplies none.
pub(crate) const DEFAULT_RANDOM_BYTES: usize = 32;

/// A timezone-aware Python datetime, converted to UTC. Naive datetimes are refused.
pub(crate) fn to_utc(obj: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let py = obj.py();
    let dt = obj.cast::<PyDateTime>().map_err(|_| PyTypeError::new_err("expected a datetime.datetime"))?;
    if dt.getattr("tzinfo")?.is_none() || dt.call_method0("utcoffset")?.is_none() {
        return Err(PyValueError::new_err(
            "naive datetimes are ambiguous: pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)",
        ));
    }
    dt.call_method1("astimezone", (PyTzInfo::utc(py)?,))?.extract::<DateTime<Utc>>()
}

/// `now` as UTC, or the current time when `None`.
pub(crate) fn now_or(now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    match now {
        Some(obj) if !obj.is_none() => to_utc(obj),
        _ => {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| PyValueError::new_err("the system clock is before 1970"))?;
            let secs = i64::try_from(since.as_secs()).map_err(|_| PyValueError::new_err("clock out of range"))?;
            Utc.timestamp_opt(secs, since.subsec_nanos())
                .single()
                .ok_or_else(|| PyValueError::new_err("clock out of range"))
        }
    }
}

/// A UTC instant as an aware Python datetime.
pub(crate) fn datetime_to_py<'py>(py: Python<'py>, t: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    Ok(t.into_pyobject(py)?.into_any())
}

/// Optional UTC instant as an aware Python datetime or `None`.
pub(crate) fn opt_datetime_to_py<'py>(py: Python<'py>, t: Option<&DateTime<Utc>>) -> PyResult<Bound<'py, PyAny>> {
    match t {
        Some(t) => datetime_to_py(py, t),
        None => Ok(py.None().into_bound(py)),
    }
}

/// The caller's random bytes, or `os.urandom(32)`.
pub(crate) fn random_or_urandom(py: Python<'_>, random: Option<Vec<u8>>) -> PyResult<Vec<u8>> {
    match random {
        Some(bytes) => Ok(bytes),
        None => {
            let bytes = py.import("os")?.call_method1("urandom", (DEFAULT_RANDOM_BYTES,))?;
            Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec())
        }
    }
}

/// Converts a JSON value into plain Python objects (dict, list, str, int, float, bool, None).
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Converts JSON-shaped Python data into a JSON value. Aware datetimes become
/// RFC 3339 UTC strings; mappings need string keys; tuples count as lists.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    py_to_json_at(obj, 0)
}

fn py_to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!("data is nested deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return obj
            .extract::<u64>()
            .map(Value::from)
            .map_err(|_| PyValueError::new_err("integer out of the 64-bit range"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not valid JSON"));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract::<String>()?));
    }
    if obj.is_instance_of::<PyDateTime>() {
        return Ok(Value::String(format_timestamp(&to_utc(obj)?)));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        return mapping_items_to_json(dict.items().into_any(), depth);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(py_to_json_at(&item?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if obj.hasattr("items")? && obj.hasattr("keys")? {
        return mapping_items_to_json(obj.call_method0("items")?, depth);
    }
    let type_name = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into());
    Err(PyTypeError::new_err(format!("values of type {type_name} cannot be converted to JSON")))
}

fn mapping_items_to_json(items: Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    let mut map = Map::new();
    for pair in items.try_iter()? {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
        let key =
            k.extract::<String>().map_err(|_| PyTypeError::new_err("mapping keys must be strings to become JSON"))?;
        map.insert(key, py_to_json_at(&v, depth + 1)?);
    }
    Ok(Value::Object(map))
}

/// Headers as (name, value) pairs from a mapping (its `items()`, so multi-value
/// mappings keep duplicates) or an iterable of pairs. Bytes are read as Latin-1,
/// as HTTP servers deliver them, so the core sees any non-ASCII byte.
pub(crate) fn headers_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let pairs = if obj.hasattr("items")? { obj.call_method0("items")? } else { obj.clone() };
    let mut out = Vec::new();
    for pair in pairs.try_iter()? {
        let pair = pair?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            pair.extract().map_err(|_| PyTypeError::new_err("headers must be (name, value) pairs"))?;
        out.push((header_text(&name)?, header_text(&value)?));
    }
    Ok(out)
}

fn header_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().iter().map(|&c| char::from(c)).collect());
    }
    obj.extract::<String>().map_err(|_| PyTypeError::new_err("header names and values must be str or bytes"))
}

/// The serde name of a core enum value (`"secret"`, `"base62"`, `"active"` …).
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Serializes a core value to JSON text.
pub(crate) fn to_json_text<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(format!("cannot serialize: {e}")))
}

/// Parses JSON text into a Python object.
pub(crate) fn json_text_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let value: Value = serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("invalid JSON: {e}")))?;
    json_to_py(py, &value)
}

/// A Python-style quoted string for `__repr__` (`'text'`).
pub(crate) fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `q` for an optional string, `None` when absent.
pub(crate) fn q_opt(text: Option<&str>) -> String {
    text.map_or_else(|| "None".to_string(), q)
}
