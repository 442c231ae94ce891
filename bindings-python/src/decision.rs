//! Wrapper for `keyproof::decision`: `Decision`, `Principal`, `RateLimitDecision`.

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::{json_text_to_py, json_to_py, q, to_json_text};
use crate::ratelimit::RateLimitState;
use crate::record::Owner;

/// Who is calling, once a key is accepted.
#[pyclass(name = "Principal", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Principal {
    inner: keyproof::Principal,
}

#[pymethods]
impl Principal {
    /// Record id of the key.
    #[getter]
    fn key_id(&self) -> &str {
        &self.inner.key_id
    }
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    #[getter]
    fn owner(&self) -> Owner {
        Owner { inner: self.inner.owner.clone() }
    }
    #[getter]
    fn environment(&self) -> &str {
        &self.inner.environment
    }
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    #[getter]
    fn format(&self) -> &str {
        &self.inner.format
    }
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
    #[getter]
    fn role(&self) -> Option<&str> {
        self.inner.role.as_deref()
    }
    /// Effective rate-limit plan.
    #[getter]
    fn plan(&self) -> Option<&str> {
        self.inner.plan.as_deref()
    }
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }
    #[getter]
    fn features(&self) -> Vec<String> {
        self.inner.features.clone()
    }
    /// Application metadata from the record (a fresh dict each time).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let map: serde_json::Map<String, serde_json::Value> =
            self.inner.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        json_to_py(py, &serde_json::Value::Object(map))
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &to_json_text(&self.inner)?)
    }
    fn __repr__(&self) -> String {
        format!("Principal(key_id={}, name={})", q(&self.inner.key_id), q(&self.inner.name))
    }
}

/// The rate-limit part of a decision: store `state` under `key`.
#[pyclass(name = "RateLimitDecision", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct RateLimitDecision {
    inner: keyproof::RateLimitDecision,
}

#[pymethods]
impl RateLimitDecision {
    /// Storage key of the bucket: `<key id>:<class>`.
    #[getter]
    fn key(&self) -> &str {
        &self.inner.key
    }
    #[getter]
    fn plan(&self) -> &str {
        &self.inner.plan
    }
    /// The route's rate-limit class (`class` is a Python keyword).
    #[getter]
    fn class_(&self) -> &str {
        &self.inner.class
    }
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.outcome.allowed
    }
    /// The state to store under `key` (unchanged when denied).
    #[getter]
    fn state(&self) -> RateLimitState {
        RateLimitState::wrap(self.inner.outcome.state)
    }
    #[getter]
    fn limit(&self) -> u32 {
        self.inner.outcome.limit
    }
    #[getter]
    fn remaining(&self) -> u32 {
        self.inner.outcome.remaining
    }
    #[getter]
    fn reset_seconds(&self) -> u64 {
        self.inner.outcome.reset_seconds
    }
    #[getter]
    fn retry_after_seconds(&self) -> Option<u64> {
        self.inner.outcome.retry_after_seconds
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &to_json_text(&self.inner)?)
    }
    fn __repr__(&self) -> String {
        let allowed = if self.inner.outcome.allowed { "True" } else { "False" };
        format!("RateLimitDecision(key={}, allowed={allowed})", q(&self.inner.key))
    }
}

/// The decision for one request: allowed or denied with a stable code, and the
/// exact HTTP status, headers and problem+json body to answer with.
#[pyclass(name = "Decision", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Decision {
    inner: keyproof::Decision,
}

impl Decision {
    pub(crate) fn wrap(inner: keyproof::Decision) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Decision {
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// Internal code: `ok` or the precise reason (for logs).
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.code
    }
    /// The code shown to the caller (several internal codes share `invalid_key`).
    #[getter]
    fn public_code(&self) -> &'static str {
        self.inner.public_code
    }
    /// HTTP status (200 when allowed).
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    /// Response headers as (name, value) pairs, in order.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.inner.headers.clone()
    }
    /// The exact `application/problem+json` body of a denial, or None.
    #[getter]
    fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }
    #[getter]
    fn principal(&self) -> Option<Principal> {
        self.inner.principal.clone().map(|inner| Principal { inner })
    }
    /// Warnings as dicts with a `code` (`rotation_grace`, `expires_soon`, `should_rehash`).
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for w in &self.inner.warnings {
            list.append(json_text_to_py(py, &to_json_text(w)?)?)?;
        }
        Ok(list)
    }
    #[getter]
    fn missing_scope(&self) -> Option<&str> {
        self.inner.missing_scope.as_deref()
    }
    #[getter]
    fn rate_limit(&self) -> Option<RateLimitDecision> {
        self.inner.rate_limit.clone().map(|inner| RateLimitDecision { inner })
    }
    /// Internal detail for logs (never a secret).
    #[getter]
    fn detail(&self) -> &str {
        &self.inner.detail
    }
    /// The first header named `name` (case-insensitive), or None.
    fn header(&self, name: String) -> Option<&str> {
        self.inner.header(&name)
    }
    /// The decision as JSON (the shape golden vectors pin).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.inner.to_json())
    }
    fn __bool__(&self) -> bool {
        self.inner.allowed
    }
    fn __repr__(&self) -> String {
        let allowed = if self.inner.allowed { "True" } else { "False" };
        format!("Decision(allowed={allowed}, code={}, status={})", q(self.inner.code), self.inner.status)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decision>()?;
    m.add_class::<Principal>()?;
    m.add_class::<RateLimitDecision>()?;
    Ok(())
}
