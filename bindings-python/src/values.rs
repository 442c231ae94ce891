//! Smaller loadable values: `Policy`, `ExtractionConfig` (+ `Credential`,
//! `extract`), and rate limiting (`RateLimitState`, `Quota`, `RateLimitOutcome`,
//! `gcra`, and the shared-store layout `keyproof.redis` uses).

use keyproof::ErrorKind;
use pyo3::prelude::*;

use keyproof::ratelimit::shared_store;

use crate::convert::{headers_from_py, load, Text};
use crate::errors::{refuse, to_py_err};

wrap! {
    /// A deployment's policy: environments, credentials, routes, roles, plans.
    #[derive(Clone, PartialEq)]
    Policy(keyproof::Policy) [eq] repr(realm, environments) fields(realm, environments, default_plan) |p| {}
}

/// A loaded policy, validated and compiled (the route table too: conflicting patterns …).
fn compiled(policy: keyproof::Policy) -> PyResult<keyproof::Policy> {
    Ok(policy.compile().map_err(to_py_err)?.policy().clone())
}

dumps!(Policy, ExtractionConfig, RateLimitState, Quota, RateLimitOutcome);
loads!(Policy => compiled, ExtractionConfig, RateLimitState, Quota);

wrap! {
    /// Which credential methods a deployment accepts and under which header names.
    #[derive(Clone, PartialEq)]
    ExtractionConfig(keyproof::ExtractionConfig) [eq] repr(methods)
        fields(methods, api_key_header, client_id_header, sdk_token_header, max_header_bytes) |c| {}
}

new! {
    /// Methods are `bearer`, `api_key_header`, `basic`, `sdk_token`; keyword options
    /// (`api_key_header`, `client_id_header`, `sdk_token_header`, `max_header_bytes`)
    /// override the core defaults.
    ExtractionConfig(; methods; **options)
}

wrap! {
    /// The credential a request carries. `repr` never shows the secret.
    Credential(keyproof::Credential) [] repr(method, client_id) fields(method, client_id) |c| {
        secret: &str = c.secret.expose();
    }
}

/// Extracts the one credential in `headers` (a mapping or (name, value) pairs).
#[pyfunction]
#[pyo3(signature = (headers, config=None))]
pub(crate) fn extract(headers: &Bound<'_, PyAny>, config: Option<&ExtractionConfig>) -> PyResult<Credential> {
    let headers = headers_from_py(headers)?;
    let default = keyproof::ExtractionConfig::default();
    let config = config.map_or(&default, |c| &c.inner);
    keyproof::extract(config, &headers).map(|inner| Credential { inner }).map_err(to_py_err)
}

wrap! {
    /// What a host stores between requests for one bucket. Treat it as opaque.
    #[derive(Clone, PartialEq, Eq, Hash)]
    RateLimitState(keyproof::RateLimitState) [eq, hash] repr(tat_us) |s| {
        tat_us: i64 = s.tat_us;
    }
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

wrap! {
    /// `limit` requests per `period_seconds`, up to `burst` back to back.
    #[derive(Clone, PartialEq)]
    Quota(keyproof::Quota) [eq] repr(limit, burst, period_seconds) fields(limit, burst, period_seconds) |q| {}
}

new! {
    /// `period_seconds` defaults to 60.
    Quota(limit, burst; period_seconds) ["(limit, burst, period_seconds=60)"]
}

wrap! {
    /// The result of one GCRA step.
    #[derive(Clone, PartialEq)]
    RateLimitOutcome(keyproof::RateLimitOutcome) [eq] repr(allowed, remaining)
        fields(allowed, limit, remaining, reset_seconds, retry_after_seconds) |o| {
        state: RateLimitState = RateLimitState { inner: o.state };
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
    let quota: keyproof::Quota = load(quota)?;
    Ok(RateLimitOutcome { inner: keyproof::gcra(state_arg(state)?, now_us, &quota, cost) })
}

/// Compare-and-set on one entry of a dict of states, in one native call: store
/// `new` under `key` (None: remove it) if the entry is still `expected` (None:
/// absent). The call runs no Python code and keeps the GIL, so no other thread
/// sees it half done: `MemoryRateLimitStore` needs no lock of its own, whose
/// holder a GIL switch could park while the other threads queue behind it.
#[pyfunction]
pub(crate) fn compare_and_set_item(
    states: &Bound<'_, pyo3::types::PyDict>,
    key: &Bound<'_, pyo3::types::PyString>,
    expected: Option<&Bound<'_, RateLimitState>>,
    new: Option<&Bound<'_, RateLimitState>>,
) -> PyResult<bool> {
    let current = states.get_item(key)?;
    let current = current.as_ref().map(|c| c.cast::<RateLimitState>().map(|s| s.get().inner)).transpose()?;
    if current != expected.map(|e| e.get().inner) {
        return Ok(false);
    }
    match new {
        Some(new) => states.set_item(key, new)?,
        None if current.is_some() => states.del_item(key)?,
        None => {}
    }
    Ok(true)
}

/// The store key of core's bucket `<key id>:<class>` (core's `shared_store::store_key`).
#[pyfunction]
#[pyo3(signature = (bucket, prefix=Text(shared_store::DEFAULT_KEY_PREFIX.into())), text_signature = "(bucket, prefix='keyproof:rl:')")]
pub(crate) fn store_key(bucket: Text, prefix: Text) -> String {
    shared_store::store_key(&bucket, &prefix)
}

/// The stored text of a state, `""` for None.
#[pyfunction]
pub(crate) fn state_text(state: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    Ok(shared_store::state_text(state_arg(state)?))
}

/// A stored value (str or bytes) as a state; None when absent or not a state in canonical form.
#[pyfunction]
pub(crate) fn parse_state_text(raw: Option<Text>) -> Option<RateLimitState> {
    raw.and_then(|raw| shared_store::parse_state_text(&raw)).map(|inner| RateLimitState { inner })
}
