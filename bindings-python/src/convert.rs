//! Conversions shared by the wrappers: Python values into core types and back,
//! datetimes, headers, randomness and `repr` quoting.

use chrono::{DateTime, Utc};
use keyproof::host::HostDe;
use keyproof::{ErrorKind, Load};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDateTime, PyDict, PyList, PyString, PyTuple, PyTzInfo};
use serde::Serialize;

use crate::de::PyValue;
use crate::errors::to_py_err;

/// Random bytes drawn from `os.urandom` when the caller supplies none.
const DEFAULT_RANDOM_BYTES: usize = 32;

/// Loads a core value from JSON text (a `str`) or from Python data (dict, list,
/// wrapper object …) read by core's host deserializer. Errors carry core's codes.
pub(crate) fn load<T: Load>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    let loaded = match obj.cast::<PyString>() {
        Ok(text) => match crate::de::backed(text) {
            Ok(text) => T::load_json(&text),
            Err(e) => Err(keyproof::Error::new(ErrorKind::InvalidJson, e)),
        },
        Err(_) => T::load_from(|| HostDe::new(PyValue(obj.clone()))),
    };
    loaded.map_err(to_py_err)
}

/// A dict of the given fields (and `extra` keyword arguments), leaving out `None`s:
/// the shape core loads an object from.
pub(crate) fn fields<'py>(
    py: Python<'py>,
    given: &[(&str, Option<&Bound<'py, PyAny>>)],
    extra: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let dict = extra.map_or_else(|| Ok(PyDict::new(py)), |e| e.copy())?;
    for (name, value) in given.iter().filter_map(|(name, value)| Some((name, (*value)?))) {
        dict.set_item(name, value)?;
    }
    let nones = dict.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k).collect::<Vec<_>>();
    nones.into_iter().try_for_each(|k| dict.del_item(k))?;
    Ok(dict.into_any())
}

/// A core value as JSON text.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A core field as plain Python data, straight through serde (pairs are tuples).
pub(crate) fn field<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    pythonize::pythonize(py, value).map(Bound::unbind).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A core value as plain Python data (dict, list, str, int, float, bool, None),
/// in its JSON shape (pairs are lists, as `json.loads(to_json())` gives them).
pub(crate) fn to_py<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let value = serde_json::to_value(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    pythonize::pythonize(py, &value).map(Bound::unbind).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A timezone-aware datetime as UTC; naive datetimes are ambiguous and refused.
/// Read as its distance from the epoch (one subtraction, three integer
/// attributes): converting it to UTC and reading its fields, or formatting it,
/// cost Python about 1.4 µs per datetime under the stable ABI.
pub(crate) fn utc(obj: &Bound<'_, PyAny>) -> Result<DateTime<Utc>, keyproof::Error> {
    static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let refused = |message: &str| keyproof::Error::new(ErrorKind::InvalidTimestamp, message);
    if !obj.is_instance_of::<PyDateTime>() {
        return Err(refused("expected a timezone-aware datetime.datetime"));
    }
    let py = obj.py();
    let epoch = EPOCH.get_or_try_init(py, || {
        let utc = PyTzInfo::utc(py)?;
        Ok::<_, PyErr>(PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc))?.into_any().unbind())
    });
    // An aware datetime minus a naive one raises: that is the naive check.
    let Ok(delta) = epoch.map_err(drop).and_then(|e| obj.sub(e.bind(py)).map_err(drop)) else {
        return Err(refused(
            "naive datetimes are ambiguous: pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)",
        ));
    };
    // Interned names: no string made per read, and the type's attribute cache hits.
    let part = |name: &Bound<'_, PyString>| delta.getattr(name).and_then(|v| v.extract::<i64>()).ok();
    let names = (intern!(py, "days"), intern!(py, "seconds"), intern!(py, "microseconds"));
    let micros = match (part(names.0), part(names.1), part(names.2)) {
        (Some(days), Some(seconds), Some(micros)) => days
            .checked_mul(86_400_000_000)
            .and_then(|d| d.checked_add(seconds.checked_mul(1_000_000)?))
            .and_then(|t| t.checked_add(micros)),
        _ => None,
    };
    let at = micros.and_then(DateTime::from_timestamp_micros).ok_or_else(|| refused("the datetime is out of range"))?;
    keyproof::timestamp::in_range(at)
}

/// `now` as UTC, or the current time when `None`.
pub(crate) fn now_or(now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    now.filter(|n| !n.is_none()).map_or_else(|| Ok(Utc::now()), |now| utc(now).map_err(to_py_err))
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

/// Text from Python as core reads it: a `str` (a lone surrogate becomes U+FFFD,
/// which core refuses wherever it matters, so no `UnicodeEncodeError` echoes
/// the input) or `bytes` read as Latin-1, as HTTP servers deliver them.
pub(crate) struct Text(pub(crate) String);

impl FromPyObject<'_, '_> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Text(b.as_bytes().iter().map(|&c| char::from(c)).collect()));
        }
        match obj.cast::<PyString>() {
            Ok(s) => Ok(Text(s.to_string_lossy().into_owned())),
            Err(_) => Err(PyTypeError::new_err("expected str or bytes")),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Headers as (name, value) pairs from a mapping (its `items()`, so multi-value
/// mappings keep duplicates) or an iterable of pairs, each a [`Text`]: a
/// credential header with a non-ASCII character is refused by core
/// (`invalid_header_value`), any other header is ignored.
pub(crate) fn headers_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    headers_read_by(obj, |_| true)
}

/// [`headers_from_py`] keeping only the headers verification reads (core's
/// `Policy::reads_header`): the others are type-checked, never copied.
pub(crate) fn read_headers(obj: &Bound<'_, PyAny>, policy: &keyproof::Policy) -> PyResult<Vec<(String, String)>> {
    headers_read_by(obj, |name| policy.reads_header(name))
}

fn headers_read_by(obj: &Bound<'_, PyAny>, reads: impl Fn(&str) -> bool) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut keep = |name: Bound<'_, PyAny>, value: Bound<'_, PyAny>| -> PyResult<()> {
        let wrong = || PyTypeError::new_err("headers must be (name, value) pairs of str or bytes");
        let name = match name.cast::<PyString>() {
            Ok(s) => s.to_cow().or_else(|_| s.as_any().extract::<Text>().map(|t| t.0.into()))?,
            Err(_) => name.extract::<Text>().map_err(|_| wrong())?.0.into(),
        };
        if reads(&name) {
            let Text(value) = value.extract().map_err(|_| wrong())?;
            out.push((name.into_owned(), value));
        } else if !value.is_instance_of::<PyString>() && !value.is_instance_of::<PyBytes>() {
            return Err(wrong());
        }
        Ok(())
    };
    if obj.is_exact_instance_of::<PyDict>() {
        for (name, value) in obj.cast::<PyDict>()?.iter() {
            keep(name, value)?;
        }
        return Ok(out);
    }
    let items = intern!(obj.py(), "items");
    let plain = obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() || !obj.hasattr(items)?;
    let pairs = if plain { obj.clone() } else { obj.call_method0(items)? };
    for pair in pairs.try_iter()? {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            pair?.extract().map_err(|_| PyTypeError::new_err("headers must be (name, value) pairs of str or bytes"))?;
        keep(name, value)?;
    }
    Ok(out)
}

/// `Type(field=repr(value), …)` for the named properties of `obj`, with any key
/// (say, pasted where a record id belongs) replaced by its preview, as core does
/// for its messages.
pub(crate) fn repr(obj: &Bound<'_, PyAny>, fields: &[&str]) -> PyResult<String> {
    let shown = fields.iter().map(|f| Ok(format!("{f}={}", obj.getattr(*f)?.repr()?))).collect::<PyResult<Vec<_>>>()?;
    let text = format!("{}({})", obj.get_type().name()?, shown.join(", "));
    Ok(keyproof::redaction::redact_keys(&text).into_owned())
}
