//! Smaller loadable values: `Policy`, `ExtractionConfig` (+ `Credential`,
//! `extract`), and rate limiting (`RateLimitState`, `Quota`, `RateLimitOutcome`, `gcra`).

use keyproof::ErrorKind;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{fields, headers_from_py, load};
use crate::errors::{refuse, to_py_err};

/// A deployment's policy: environments, credentials, routes, roles, plans.
#[pyclass(name = "Policy", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Policy {
    pub(crate) inner: keyproof::Policy,
}

/// Loads, validates and compiles a policy (the route table too: conflicting patterns …).
fn policy(data: &Bound<'_, PyAny>) -> PyResult<Policy> {
    let compiled = load::<keyproof::Policy>(data)?.compile().map_err(to_py_err)?;
    Ok(Policy { inner: compiled.policy().clone() })
}

dumps!(Policy, ExtractionConfig, RateLimitState, Quota, RateLimitOutcome);
loads!(ExtractionConfig, RateLimitState, Quota);
getters!(Policy |p| {
    realm: &str = &p.realm;
    environments: Vec<String> = p.environments.clone();
    default_plan: Option<&str> = p.default_plan.as_deref();
});

#[pymethods]
impl Policy {
    #[staticmethod]
    fn from_json(json: &Bound<'_, PyAny>) -> PyResult<Self> {
        policy(json)
    }
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        policy(data)
    }
}

repr!(Policy: realm, environments);

/// Which credential methods a deployment accepts and under which header names.
#[pyclass(name = "ExtractionConfig", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct ExtractionConfig {
    inner: keyproof::ExtractionConfig,
}

getters!(ExtractionConfig |c| {
    methods: Vec<&'static str> = c.methods.iter().map(|m| m.as_str()).collect();
    api_key_header: &str = &c.api_key_header;
    client_id_header: &str = &c.client_id_header;
    sdk_token_header: &str = &c.sdk_token_header;
    max_header_bytes: usize = c.max_header_bytes;
});

#[pymethods]
impl ExtractionConfig {
    /// Methods are `bearer`, `api_key_header`, `basic`, `sdk_token`; keyword options
    /// (`api_key_header`, `client_id_header`, `sdk_token_header`, `max_header_bytes`)
    /// override the core defaults.
    #[new]
    #[pyo3(signature = (methods=None, **options))]
    fn new(py: Python<'_>, methods: Option<&Bound<'_, PyAny>>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        load(&fields(py, &[("methods", methods)], options)?).map(|inner| Self { inner })
    }
}

repr!(ExtractionConfig: methods);

/// The credential a request carries. `repr` never shows the secret.
#[pyclass(name = "Credential", module = "keyproof", frozen)]
pub struct Credential {
    inner: keyproof::Credential,
}

getters!(Credential |c| {
    method: &'static str = c.method.as_str();
    secret: &str = c.secret.expose();
    client_id: Option<&str> = c.client_id.as_deref();
});

repr!(Credential: method, client_id);

/// Extracts the one credential in `headers` (a mapping or (name, value) pairs).
#[pyfunction]
#[pyo3(signature = (headers, config=None))]
fn extract(headers: &Bound<'_, PyAny>, config: Option<&ExtractionConfig>) -> PyResult<Credential> {
    let headers = headers_from_py(headers)?;
    let default = keyproof::ExtractionConfig::default();
    let config = config.map_or(&default, |c| &c.inner);
    keyproof::extract(config, &headers).map(|inner| Credential { inner }).map_err(to_py_err)
}

/// What a host stores between requests for one bucket. Treat it as opaque.
#[pyclass(name = "RateLimitState", module = "keyproof", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RateLimitState {
    pub(crate) inner: keyproof::RateLimitState,
}

/// A state given as a `RateLimitState`, a dict, JSON text, or `None`.
pub(crate) fn state_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<keyproof::RateLimitState>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(obj) => match obj.cast::<RateLimitState>() {
            Ok(s) => Ok(Some(s.get().inner)),
            Err(_) => load(obj).map(Some),
        },
    }
}

getters!(RateLimitState |s| {
    tat_us: i64 = s.tat_us;
});

#[pymethods]
impl RateLimitState {
    /// `tat_us`: theoretical arrival time, microseconds since the Unix epoch.
    #[new]
    fn new(tat_us: &Bound<'_, PyAny>) -> PyResult<Self> {
        let tat_us = tat_us
            .extract()
            .map_err(|_| refuse(ErrorKind::InvalidQuota, "tat_us must be an integer in the signed 64-bit range"))?;
        Ok(Self { inner: keyproof::RateLimitState { tat_us } })
    }
}

repr!(RateLimitState: tat_us);

/// `limit` requests per `period_seconds`, up to `burst` back to back.
#[pyclass(name = "Quota", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Quota {
    inner: keyproof::Quota,
}

getters!(Quota |q| {
    limit: u32 = q.limit;
    burst: u32 = q.burst;
    period_seconds: u32 = q.period_seconds;
});

#[pymethods]
impl Quota {
    #[new]
    #[pyo3(signature = (limit, burst, period_seconds=None), text_signature = "(limit, burst, period_seconds=60)")]
    fn new(
        py: Python<'_>,
        limit: &Bound<'_, PyAny>,
        burst: &Bound<'_, PyAny>,
        period_seconds: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let given = [("limit", Some(limit)), ("burst", Some(burst)), ("period_seconds", period_seconds)];
        load(&fields(py, &given, None)?).map(|inner| Self { inner })
    }
}

repr!(Quota: limit, burst, period_seconds);

/// The result of one GCRA step.
#[pyclass(name = "RateLimitOutcome", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct RateLimitOutcome {
    inner: keyproof::RateLimitOutcome,
}

getters!(RateLimitOutcome |o| {
    allowed: bool = o.allowed;
    state: RateLimitState = RateLimitState { inner: o.state };
    limit: u32 = o.limit;
    remaining: u32 = o.remaining;
    reset_seconds: u64 = o.reset_seconds;
    retry_after_seconds: Option<u64> = o.retry_after_seconds;
});

repr!(RateLimitOutcome: allowed, remaining);

/// One GCRA step: may a request of `cost` units pass at `now_us` (microseconds since the epoch)?
#[pyfunction]
#[pyo3(signature = (state, now_us, quota, cost=1))]
fn gcra(
    state: Option<&Bound<'_, PyAny>>,
    now_us: i64,
    quota: &Bound<'_, PyAny>,
    cost: u32,
) -> PyResult<RateLimitOutcome> {
    let quota = match quota.cast::<Quota>() {
        Ok(q) => q.get().inner,
        Err(_) => load(quota)?,
    };
    Ok(RateLimitOutcome { inner: keyproof::gcra(state_arg(state)?, now_us, &quota, cost) })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<ExtractionConfig>()?;
    m.add_class::<Credential>()?;
    m.add_class::<RateLimitState>()?;
    m.add_class::<Quota>()?;
    m.add_class::<RateLimitOutcome>()?;
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    m.add_function(wrap_pyfunction!(gcra, m)?)?;
    Ok(())
}
