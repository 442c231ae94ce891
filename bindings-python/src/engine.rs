//! The engine: `Engine` (its step is in `verification`), the lower-level
//! `Prepared` / `decide`, and decisions: `Decision`, `Principal`, `RateLimitDecision`.

use keyproof::{EngineConfig, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

use crate::convert::{load, now_or, random_or_urandom, read_headers, to_py, Text};
use crate::errors::{refuse, to_py_err};
use crate::format::{FormatSet, Hasher, ParsedKey};
use crate::record::{grace_arg, mint_options, record_arg, KeyRecord, MintedKey, Owner};
use crate::values::{state_arg, Policy, RateLimitState};
use crate::verification::Verification;

wrap! {
    /// The verification engine: formats, hasher and compiled policy. Immutable, so
    /// one engine serves every thread. Its calls take a few microseconds and keep
    /// the GIL: releasing and taking it back costs more than it frees (threads
    /// thrash); only long calls (`scan`/`redact` of large texts) release it.
    Engine(keyproof::Engine) [] |e| {
        formats: FormatSet = FormatSet { inner: e.formats().clone() };
        hasher: Hasher = Hasher { inner: e.hasher().clone() };
        policy: Policy = Policy { inner: e.policy().clone() };
    }
}

/// Usage units from Python (a price, a charge): an int from 0 to 2^32 - 1, else `invalid_quota`.
pub(crate) fn units(units: &Bound<'_, PyAny>) -> PyResult<u32> {
    let refused = || refuse(ErrorKind::InvalidQuota, "usage units are an integer from 0 to 4294967295");
    if units.is_instance_of::<PyBool>() {
        Err(refused())
    } else {
        units.extract().map_err(|_| refused())
    }
}

fn engine(config: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Engine> {
    let config: EngineConfig = load(config)?;
    keyproof::Engine::from_config(config, pepper.as_deref()).map(|inner| Engine { inner }).map_err(to_py_err)
}

#[pymethods]
impl Engine {
    /// Builds an engine from a config (a dict or JSON text: formats, hashing, policy).
    /// `pepper` (bytes, e.g. from a secret store) overrides `hashing.pepper_hex`.
    #[new]
    #[pyo3(signature = (config, *, pepper=None))]
    fn new(config: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        engine(config, pepper)
    }

    #[staticmethod]
    #[pyo3(signature = (json, *, pepper=None))]
    fn from_json(json: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        engine(json, pepper)
    }

    #[staticmethod]
    #[pyo3(signature = (data, *, pepper=None))]
    fn from_dict(data: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        engine(data, pepper)
    }

    /// Parses a key with the engine's formats.
    fn parse(&self, key: Text) -> PyResult<ParsedKey> {
        self.inner.parse(&key).map(|inner| ParsedKey { inner }).map_err(to_py_err)
    }

    /// The storage hash a new record of `key` stores.
    fn hash_key(&self, key: Text) -> PyResult<String> {
        self.inner.hash_key(&key).map_err(to_py_err)
    }

    /// Starts verifying a request at `now` (default: the current time). `path` is
    /// the raw request target as sent (percent-encoded; a query is ignored);
    /// `headers` a mapping or (name, value) pairs of str or bytes. Drive the
    /// returned `Verification` with `next_step()` / `drive()`. `usage_cost`: the
    /// units of a usage-limited key's allowance this request spends (default: its
    /// route's cost; 0 checks that a unit is left and spends nothing).
    #[pyo3(signature = (method, path, headers, client_ip=None, now=None, usage_cost=None))]
    fn begin(
        &self,
        method: Text,
        path: Text,
        headers: &Bound<'_, PyAny>,
        client_ip: Option<Text>,
        now: Option<&Bound<'_, PyAny>>,
        usage_cost: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Verification> {
        let engine = &self.inner;
        let cost = usage_cost.filter(|c| !c.is_none()).map(units).transpose()?;
        let (headers, now) = (read_headers(headers, engine.policy())?, now_or(now)?);
        let mut inner = engine.begin(&method, &path, &headers, client_ip.as_deref(), now);
        if let Some(cost) = cost {
            inner.set_usage_cost(cost);
        }
        Ok(Verification::new(inner))
    }

    /// The client's address as verification judges it: `peer`, or the one trusted
    /// proxies forwarded in `headers` (policy `client_ip`); None without one.
    #[pyo3(signature = (peer, headers))]
    fn client_ip(&self, peer: Option<Text>, headers: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let headers = read_headers(headers, self.inner.policy())?;
        let ip = self.inner.client_ip(peer.as_deref(), &headers).map_err(to_py_err)?;
        Ok(ip.map(|ip| ip.to_string()))
    }

    /// Reads a request up to the record lookup (lower level than `begin`).
    #[pyo3(signature = (method, path, headers, client_ip=None))]
    fn prepare(
        &self,
        method: Text,
        path: Text,
        headers: &Bound<'_, PyAny>,
        client_ip: Option<Text>,
    ) -> PyResult<Prepared> {
        let engine = &self.inner;
        let headers = read_headers(headers, engine.policy())?;
        let inner = engine.prepare(&method, &path, &headers, client_ip.as_deref());
        Ok(Prepared { inner })
    }

    /// `prepare` for a request dict or JSON text (`method`, `path`, `headers`, `client_ip`).
    fn prepare_request(&self, request: &Bound<'_, PyAny>) -> PyResult<Prepared> {
        let request = load::<keyproof::Request>(request)?;
        Ok(Prepared { inner: self.inner.prepare_request(&request) })
    }

    /// Decides a prepared request with the record found under one of its lookup
    /// hashes (KeyRecord, dict, JSON text, or None) and the rate-limit state stored
    /// under `rate_limit_key(prepared, record)`.
    #[pyo3(signature = (prepared, record=None, now=None, rate_state=None))]
    fn decide(
        &self,
        prepared: &Prepared,
        record: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        rate_state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let (record, now, state) = (record_arg(record)?, now_or(now)?, state_arg(rate_state)?);
        let (engine, prepared) = (&self.inner, &prepared.inner);
        Ok(Decision { inner: engine.decide(prepared, record.as_deref(), now, state) })
    }

    /// The key of the rate-limit state for this request and record, or None when no quota applies.
    fn rate_limit_key(&self, prepared: &Prepared, record: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        Ok(record_arg(Some(record))?.and_then(|r| self.inner.rate_limit_key(&prepared.inner, &r)))
    }

    /// Mints a key of the engine's format `format` (default: the config's first) with the
    /// engine's hasher and the policy's name rules; options as for `keyproof.mint`.
    #[pyo3(signature = (format=None, options=None, *, random_bytes=None, now=None, **fields))]
    fn mint(
        &self,
        py: Python<'_>,
        format: Option<Text>,
        options: Option<&Bound<'_, PyAny>>,
        random_bytes: Option<Vec<u8>>,
        now: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<MintedKey> {
        let options = mint_options(py, options, fields)?;
        let (now, random) = (now_or(now)?, random_or_urandom(py, random_bytes)?);
        let minted = py.detach(|| self.inner.mint(format.as_deref(), &options, &random, now)).map_err(to_py_err)?;
        Ok(MintedKey { inner: minted })
    }

    /// Replaces `record` with a new key: returns `(minted, rotated)`, the successor
    /// (same format, grants and lifetime; show `minted.key` once) and `record` rotated
    /// to it for `grace` (default: the policy's `rotation_grace_hours`). Store both
    /// together. Revoked, disabled and rotated keys refuse (`invalid_transition`).
    #[pyo3(signature = (record, *, grace=None, random_bytes=None, now=None))]
    fn rotate(
        &self,
        py: Python<'_>,
        record: &KeyRecord,
        grace: Option<&Bound<'_, PyAny>>,
        random_bytes: Option<Vec<u8>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(MintedKey, KeyRecord)> {
        let (grace, now, random) = (grace_arg(grace)?, now_or(now)?, random_or_urandom(py, random_bytes)?);
        let mut inner = keyproof::KeyRecord::clone(&record.inner);
        let minted = self.inner.rotate_with_successor(&mut inner, grace, &random, now).map_err(to_py_err)?;
        Ok((MintedKey { inner: minted }, inner.into()))
    }

    /// The record cache's counters (`records`, `absent`, `hits`, `absent_hits`,
    /// `misses`, `evictions`), or None without a `record_cache` in the config.
    fn cache_stats(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.record_cache().map(|c| to_py(py, &c.stats())).transpose()
    }

    /// Forgets the cached record of `key_id` (after revoking, disabling, updating
    /// or deleting it in this process; other processes see it within `ttl_seconds`).
    /// How many entries went.
    fn invalidate_cached(&self, key_id: Text) -> usize {
        self.inner.record_cache().map_or(0, |c| c.invalidate(&key_id))
    }

    /// Forgets every cached record and the counters.
    fn clear_cache(&self) {
        if let Some(cache) = self.inner.record_cache() {
            cache.clear();
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let ids = self.inner.formats().formats().iter().map(|f| f.id.as_str());
        let (ids, realm) = (PyList::new(py, ids)?.repr()?, PyString::new(py, &self.inner.policy().realm).repr()?);
        Ok(format!("Engine(formats={ids}, realm={realm})"))
    }
}

wrap! {
    /// A request read up to the record lookup. `lookup_hashes` is empty when the
    /// request is already denied; `decide` renders that denial. `repr` shows no hash.
    Prepared(keyproof::Prepared) [] repr(error_code, parsed_key) |p| {
        lookup_hashes: Vec<String> = p.lookup_hashes().to_vec();
        denied: bool = p.error().is_some();
        error: Option<PyErr> = p.error().cloned().map(to_py_err);
        error_code: Option<&'static str> = p.error().map(keyproof::Error::code);
        parsed_key: Option<ParsedKey> = p.parsed_key().cloned().map(|inner| ParsedKey { inner });
        client_id: Option<&str> = p.client_id();
    }
}

dumps!(Principal, RateLimitDecision, Decision);

wrap! {
    /// Who is calling, once a key is accepted.
    #[derive(Clone, PartialEq)]
    Principal(keyproof::Principal) [eq] repr(key_id, name)
        methods(key_id, name, environment, kind, format, scopes, role, plan, client_id, features, metadata) |p| {
        owner: Owner = Owner { inner: p.owner().clone() };
    }
}

wrap! {
    /// The rate-limit part of a decision: the bucket `key` and its new `state`.
    #[derive(Clone, PartialEq)]
    RateLimitDecision(keyproof::RateLimitDecision) [eq] repr(key, allowed) |r| {
        key: &str = &r.key;
        plan: &str = &r.plan;
        class_: &str = &r.class;
        allowed: bool = r.outcome.allowed;
        state: RateLimitState = RateLimitState { inner: r.outcome.state };
        limit: u32 = r.outcome.limit;
        remaining: u32 = r.outcome.remaining;
        reset_seconds: u64 = r.outcome.reset_seconds;
        retry_after_seconds: Option<u64> = r.outcome.retry_after_seconds;
    }
}

wrap! {
    /// The decision for one request: allowed or denied with a stable code, and the
    /// exact HTTP status, headers and problem+json body to answer with.
    #[derive(Clone, PartialEq)]
    Decision(keyproof::Decision) [eq] repr(allowed, code, status) fields(public_code, warnings, missing_scope, detail) |d| {
        allowed: bool = d.allowed;
        code: &'static str = d.code;
        /// The presented key's record id once identified: allowed, or denied after its hash matched.
        key_id: Option<&str> = d.key_id();
        status: u16 = d.status;
        headers: Vec<(String, String)> = d.headers.to_vec();
        /// The headers with repeated names joined by ", " (for one-value-per-name header maps).
        combined_headers: Vec<(String, String)> = d.combined_headers();
        body: Option<&str> = d.body.as_deref();
        principal: Option<Principal> = d.principal.clone().map(|inner| Principal { inner });
        rate_limit: Option<RateLimitDecision> = d.rate_limit.clone().map(|inner| RateLimitDecision { inner });
        usage: Option<RateLimitDecision> = d.usage.as_deref().cloned().map(|inner| RateLimitDecision { inner });
    }
}

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
