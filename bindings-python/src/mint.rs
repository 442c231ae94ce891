//! Minting: `mint()` and `MintedKey`, plus `expiry_from_preset`.

use chrono::{DateTime, Utc};
use keyproof::{ErrorKind, MintOptions};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict, PyString};

use crate::convert::{load, now_or, random_or_urandom, Text};
use crate::errors::{refuse, to_py_err};
use crate::format::format_arg;
use crate::hash::Hasher;
use crate::record::KeyRecord;

/// A freshly minted key: show `.key` once, store `.record`. `repr` shows the preview only.
#[pyclass(name = "MintedKey", module = "keyproof", frozen)]
pub struct MintedKey {
    inner: keyproof::MintedKey,
}

getters!(MintedKey |m| {
    key: &str = m.key.expose();
    record: KeyRecord = KeyRecord { inner: m.record.clone() };
    preview: &str = &m.record.preview;
});

repr!(MintedKey: preview);

/// Mints a key of `format` (a `Format` or preset id). `options` is a dict of the
/// core's mint options; keyword arguments (`name`, `scopes`, `id`, `owner` …) set
/// or override its fields (`None` leaves a field alone; `id_style` may be a style
/// name). Randomness defaults to `os.urandom(32)`, `now` to the current UTC time.
#[pyfunction]
#[pyo3(signature = (format, options=None, *, hasher=None, random_bytes=None, now=None, **fields))]
fn mint(
    py: Python<'_>,
    format: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyAny>>,
    hasher: Option<&Hasher>,
    random_bytes: Option<Vec<u8>>,
    now: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<MintedKey> {
    let format = format_arg(format)?;
    let data = match options.filter(|o| !o.is_none()) {
        None => PyDict::new(py),
        Some(o) => {
            o.cast::<PyDict>().map_err(|_| refuse(ErrorKind::InvalidRecord, "mint options must be a dict"))?.copy()?
        }
    };
    for (name, value) in fields.into_iter().flat_map(|f| f.iter()).filter(|(_, v)| !v.is_none()) {
        match value.cast::<PyString>() {
            Ok(style) if name.eq("id_style")? => data.set_item(name, [("style", style)].into_py_dict(py)?)?,
            _ => data.set_item(name, value)?,
        }
    }
    let options: MintOptions = load(&data)?;
    let (now, random) = (now_or(now)?, random_or_urandom(py, random_bytes)?);
    let default_hasher = keyproof::Hasher::default();
    let hasher = hasher.map_or(&default_hasher, |h| &h.inner);
    let inner = py.detach(|| keyproof::mint(&format, hasher, &options, &random, now)).map_err(to_py_err)?;
    Ok(MintedKey { inner })
}

/// The instant `preset` (`15d`, `6m`, `1y` …) after `now` (default: the current
/// time). Months and years are calendar months.
#[pyfunction]
#[pyo3(signature = (preset, now=None))]
fn expiry_from_preset(preset: Text, now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    keyproof::expiry_from_preset(&preset, now_or(now)?).map_err(to_py_err)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MintedKey>()?;
    m.add_function(wrap_pyfunction!(mint, m)?)?;
    m.add_function(wrap_pyfunction!(expiry_from_preset, m)?)?;
    m.add("EXPIRY_PRESETS", keyproof::EXPIRY_PRESETS.to_vec())?;
    Ok(())
}
