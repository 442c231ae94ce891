//! Wrapper for `keyproof::expiry`: `expiry_from_preset` and `EXPIRY_PRESETS`.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::now_or;
use crate::errors::to_py_err;

/// The instant `preset` (`15d`, `6m`, `1y` …) after `now` (default: the current time).
/// Months and years are calendar months.
#[pyfunction]
#[pyo3(signature = (preset, now=None))]
pub(crate) fn expiry_from_preset(preset: String, now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    keyproof::expiry_from_preset(&preset, now_or(now)?).map_err(to_py_err)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(expiry_from_preset, m)?)?;
    m.add("EXPIRY_PRESETS", keyproof::EXPIRY_PRESETS.to_vec())?;
    Ok(())
}
