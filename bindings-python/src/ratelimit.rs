//! Wrapper for `keyproof::ratelimit`: `Quota`, `RateLimitState`, `RateLimitOutcome`, `gcra`.
//! The state is opaque to hosts: store what the core returns, give it back next time.

use pyo3::prelude::*;

use crate::convert::{json_text_to_py, py_to_json, to_json_text};
use crate::errors::to_py_err;

/// What a host stores between requests for one bucket. Treat it as opaque.
#[pyclass(name = "RateLimitState", module = "keyproof", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RateLimitState {
    pub(crate) inner: keyproof::RateLimitState,
}

impl RateLimitState {
    pub(crate) fn wrap(inner: keyproof::RateLimitState) -> Self {
        Self { inner }
    }
}

/// Extracts a state given as a `RateLimitState`, a dict, JSON text, or `None`.
pub(crate) fn state_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<keyproof::RateLimitState>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    if let Ok(s) = obj.cast::<RateLimitState>() {
        return Ok(Some(s.get().inner));
    }
    if let Ok(text) = obj.extract::<String>() {
        return keyproof::RateLimitState::from_json(&text).map(Some).map_err(to_py_err);
    }
    keyproof::RateLimitState::from_json(&py_to_json(obj)?.to_string()).map(Some).map_err(to_py_err)
}

#[pymethods]
impl RateLimitState {
    #[new]
    fn new(tat_us: i64) -> Self {
        Self::wrap(keyproof::RateLimitState { tat_us })
    }
    /// Parses the JSON a host stored.
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        keyproof::RateLimitState::from_json(&json).map(Self::wrap).map_err(to_py_err)
    }
    /// Parses a JSON-shaped dict.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        keyproof::RateLimitState::from_json(&py_to_json(data)?.to_string()).map(Self::wrap).map_err(to_py_err)
    }
    /// JSON to store.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.inner.to_json())
    }
    /// Theoretical arrival time, microseconds since the Unix epoch.
    #[getter]
    fn tat_us(&self) -> i64 {
        self.inner.tat_us
    }
    fn __repr__(&self) -> String {
        format!("RateLimitState(tat_us={})", self.inner.tat_us)
    }
}

/// `limit` requests per `period_seconds`, up to `burst` back to back.
#[pyclass(name = "Quota", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Quota {
    inner: keyproof::Quota,
}

fn quota_from_value(value: serde_json::Value) -> PyResult<keyproof::Quota> {
    keyproof::Quota::from_json(&value.to_string()).map_err(to_py_err)
}

#[pymethods]
impl Quota {
    #[new]
    #[pyo3(signature = (limit, burst, period_seconds=60))]
    fn new(limit: u32, burst: u32, period_seconds: u32) -> PyResult<Self> {
        let inner = keyproof::Quota { limit, period_seconds, burst };
        inner.validate().map_err(to_py_err)?;
        Ok(Self { inner })
    }
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        quota_from_value(py_to_json(data)?).map(|inner| Self { inner })
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &to_json_text(&self.inner)?)
    }
    #[getter]
    fn limit(&self) -> u32 {
        self.inner.limit
    }
    #[getter]
    fn burst(&self) -> u32 {
        self.inner.burst
    }
    #[getter]
    fn period_seconds(&self) -> u32 {
        self.inner.period_seconds
    }
    fn __repr__(&self) -> String {
        format!(
            "Quota(limit={}, burst={}, period_seconds={})",
            self.inner.limit, self.inner.burst, self.inner.period_seconds
        )
    }
}

/// The result of one GCRA step.
#[pyclass(name = "RateLimitOutcome", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct RateLimitOutcome {
    pub(crate) inner: keyproof::RateLimitOutcome,
}

#[pymethods]
impl RateLimitOutcome {
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// State to store (unchanged when denied).
    #[getter]
    fn state(&self) -> RateLimitState {
        RateLimitState::wrap(self.inner.state)
    }
    #[getter]
    fn limit(&self) -> u32 {
        self.inner.limit
    }
    #[getter]
    fn remaining(&self) -> u32 {
        self.inner.remaining
    }
    #[getter]
    fn reset_seconds(&self) -> u64 {
        self.inner.reset_seconds
    }
    #[getter]
    fn retry_after_seconds(&self) -> Option<u64> {
        self.inner.retry_after_seconds
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &to_json_text(&self.inner)?)
    }
    fn __repr__(&self) -> String {
        let allowed = if self.inner.allowed { "True" } else { "False" };
        format!("RateLimitOutcome(allowed={allowed}, remaining={})", self.inner.remaining)
    }
}

/// One GCRA step: may a request of `cost` units pass at `now_us` (microseconds since the epoch)?
#[pyfunction]
#[pyo3(signature = (state, now_us, quota, cost=1))]
pub(crate) fn gcra(
    state: Option<&Bound<'_, PyAny>>,
    now_us: i64,
    quota: &Bound<'_, PyAny>,
    cost: u32,
) -> PyResult<RateLimitOutcome> {
    let state = state_from_py(state)?;
    let quota = match quota.cast::<Quota>() {
        Ok(q) => q.get().inner,
        Err(_) => quota_from_value(py_to_json(quota)?)?,
    };
    Ok(RateLimitOutcome { inner: keyproof::gcra(state, now_us, &quota, cost) })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RateLimitState>()?;
    m.add_class::<Quota>()?;
    m.add_class::<RateLimitOutcome>()?;
    m.add_function(wrap_pyfunction!(gcra, m)?)?;
    Ok(())
}
