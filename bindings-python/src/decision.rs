//! Decisions: `Decision`, `Principal`, `RateLimitDecision`.

use pyo3::prelude::*;

use crate::convert::{to_py, Text};
use crate::record::Owner;
use crate::values::RateLimitState;

/// Who is calling, once a key is accepted.
#[pyclass(name = "Principal", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Principal {
    inner: keyproof::Principal,
}

dumps!(Principal, RateLimitDecision, Decision);
getters!(Principal |p| {
    key_id: &str = &p.key_id;
    name: &str = &p.name;
    owner: Owner = Owner { inner: p.owner.clone() };
    environment: &str = &p.environment;
    kind: &'static str = p.kind.as_str();
    format: &str = &p.format;
    scopes: Vec<String> = p.scopes.clone();
    role: Option<&str> = p.role.as_deref();
    plan: Option<&str> = p.plan.as_deref();
    client_id: Option<&str> = p.client_id.as_deref();
    features: Vec<String> = p.features.clone();
    metadata: PyResult<Py<PyAny>> = Python::attach(|py| to_py(py, &p.metadata));
});

repr!(Principal: key_id, name);

/// The rate-limit part of a decision: the bucket `key` and its new `state`.
#[pyclass(name = "RateLimitDecision", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct RateLimitDecision {
    inner: keyproof::RateLimitDecision,
}

getters!(RateLimitDecision |r| {
    key: &str = &r.key;
    plan: &str = &r.plan;
    class_: &str = &r.class;
    allowed: bool = r.outcome.allowed;
    state: RateLimitState = RateLimitState { inner: r.outcome.state };
    limit: u32 = r.outcome.limit;
    remaining: u32 = r.outcome.remaining;
    reset_seconds: u64 = r.outcome.reset_seconds;
    retry_after_seconds: Option<u64> = r.outcome.retry_after_seconds;
});

repr!(RateLimitDecision: key, allowed);

/// The decision for one request: allowed or denied with a stable code, and the
/// exact HTTP status, headers and problem+json body to answer with.
#[pyclass(name = "Decision", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Decision {
    pub(crate) inner: keyproof::Decision,
}

getters!(Decision |d| {
    allowed: bool = d.allowed;
    code: &'static str = d.code;
    public_code: &'static str = d.public_code;
    status: u16 = d.status;
    headers: Vec<(String, String)> = d.headers.clone();
    body: Option<&str> = d.body.as_deref();
    principal: Option<Principal> = d.principal.clone().map(|inner| Principal { inner });
    warnings: PyResult<Py<PyAny>> = Python::attach(|py| to_py(py, &d.warnings));
    missing_scope: Option<&str> = d.missing_scope.as_deref();
    rate_limit: Option<RateLimitDecision> = d.rate_limit.clone().map(|inner| RateLimitDecision { inner });
    detail: &str = &d.detail;
});

#[pymethods]
impl Decision {
    /// The first header named `name` (case-insensitive), or None.
    fn header(&self, name: Text) -> Option<&str> {
        self.inner.header(&name)
    }
    fn __bool__(&self) -> bool {
        self.inner.allowed
    }
}

repr!(Decision: allowed, code, status);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decision>()?;
    m.add_class::<Principal>()?;
    m.add_class::<RateLimitDecision>()?;
    Ok(())
}
