//! The engine, the verification step, its outcome and preloaded records.

use napi::bindgen_prelude::{Either, Function, Uint8Array, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::json;

use keyproof::{EngineConfig, ErrorKind, KeyRecord, MintOptions, RateLimitState, RecordUpdate, Scanner, Step};

use crate::{bytes, core_error, error_of, instant, load, napi_error, record_from, to_js, Result};

/// A verification engine: formats, hasher and compiled policy, built once and
/// shared (it is immutable).
#[napi]
pub struct Engine {
    pub(crate) inner: keyproof::Engine,
    scanner: Scanner,
}

/// Header pairs from a flat `[name, value, name, value …]` list.
pub(crate) fn pairs(headers: &[String]) -> Result<Vec<(&str, &str)>> {
    if headers.len() % 2 != 0 {
        return Err(error_of(ErrorKind::InvalidJson, "headers are a flat list of name, value pairs"));
    }
    Ok(headers.chunks_exact(2).filter_map(|c| Some((c.first()?.as_str(), c.get(1)?.as_str()))).collect())
}

/// What the host must do next, as a plain object.
#[napi(object)]
pub struct StepInfo {
    /// `lookup_record`, `load_rate_state` or `done`.
    pub kind: String,
    /// The storage hash (`lookup_record`) or rate-limit key (`load_rate_state`).
    pub value: Option<String>,
}

#[napi]
impl Engine {
    /// Builds an engine from a config (object or JSON text); `pepper` overrides `hashing.pepper_hex`.
    #[napi(constructor)]
    pub fn new(config: Unknown<'_>, pepper: Option<Uint8Array>) -> Result<Self> {
        let config: EngineConfig = load(config)?;
        let inner = keyproof::Engine::from_config(config, pepper.as_ref().map(bytes)).map_err(core_error)?;
        let scanner = Scanner::new(inner.formats());
        Ok(Self { inner, scanner })
    }

    /// The policy, as loaded (defaults filled in).
    #[napi]
    pub fn policy<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, self.inner.policy())
    }

    /// The formats, longest prefix first.
    #[napi]
    pub fn formats<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let formats: Vec<&keyproof::KeyFormat> = self.inner.formats().formats().iter().map(|f| &**f).collect();
        to_js(env, &formats)
    }

    /// Starts verifying a request. `headers` is a flat `[name, value …]` list.
    #[napi]
    pub fn begin(
        &self,
        method: String,
        path: String,
        headers: Vec<String>,
        client_ip: Option<String>,
        now_ms: f64,
    ) -> Result<Verification> {
        let now = instant(now_ms)?;
        let inner = self.inner.begin(&method, &path, &pairs(&headers)?, client_ip.as_deref(), now);
        Ok(Verification { inner: Some(inner) })
    }

    /// [`Engine::begin`], then the step driven synchronously: `lookup(hash)`
    /// answers each lookup step and `load_state(key)` the rate-limit step. Each
    /// returns its answer (`lookup`: a [`NativeRecord`], a record object or
    /// `null`; `load_state`: `{tat_us}` or `null`) or `false` to stop there (the
    /// host answers that step itself, e.g. after awaiting). Returns the finished
    /// [`Decided`] when the step got to the end, else the [`Verification`].
    #[napi(ts_return_type = "Decided | Verification")]
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        method: String,
        path: String,
        headers: Vec<String>,
        client_ip: Option<String>,
        now_ms: f64,
        lookup: Function<'_, String, Unknown<'_>>,
        load_state: Option<Function<'_, String, Unknown<'_>>>,
    ) -> Result<Either<Decided, Verification>> {
        let now = instant(now_ms)?;
        let mut v = self.inner.begin(&method, &path, &pairs(&headers)?, client_ip.as_deref(), now);
        loop {
            match v.next_step() {
                Step::LookupRecord(hash) => {
                    let found = lookup.call(hash.to_string()).map_err(napi_error)?;
                    if found.get_type().map_err(napi_error)? == ValueType::Boolean {
                        return Ok(Either::B(Verification { inner: Some(v) }));
                    }
                    v.record(record_from(found)?);
                }
                Step::LoadRateState(key) => {
                    let Some(load_state) = &load_state else {
                        return Ok(Either::B(Verification { inner: Some(v) }));
                    };
                    let state = load_state.call(key.to_string()).map_err(napi_error)?;
                    match state.get_type().map_err(napi_error)? {
                        ValueType::Boolean => return Ok(Either::B(Verification { inner: Some(v) })),
                        ValueType::Null | ValueType::Undefined => v.rate_state(None),
                        _ => v.rate_state(Some(load(state)?)),
                    }
                }
                Step::Done => return Ok(Either::A(decided(v.finish(), false))),
            }
        }
    }

    /// Parses a key with the engine's formats.
    #[napi]
    pub fn parse<'env>(&self, env: &'env Env, key: String) -> Result<Unknown<'env>> {
        let parsed = self.inner.parse(&key).map_err(core_error)?;
        to_js(env, &crate::functions::parsed_json(&parsed))
    }

    /// The storage hash of a key (what a new record stores).
    #[napi]
    pub fn hash_key(&self, key: String) -> Result<String> {
        self.inner.hash_key(&key).map_err(core_error)
    }

    /// Every hash a store may hold the key under, preferred first.
    #[napi]
    pub fn lookup_hashes(&self, key: String) -> Result<Vec<String>> {
        let parsed = self.inner.parse(&key).map_err(core_error)?;
        Ok(self.inner.hasher().lookup_hashes(parsed.format(), &parsed))
    }

    /// Mints a key of the engine's format `format_id` (policy name rules apply).
    #[napi]
    pub fn mint<'env>(
        &self,
        env: &'env Env,
        format_id: String,
        options: Unknown<'_>,
        random: Uint8Array,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let options: MintOptions = load(options)?;
        let minted = self.inner.mint(&format_id, &options, bytes(&random), instant(now_ms)?).map_err(core_error)?;
        crate::functions::minted_js(env, minted)
    }

    /// Rotates `record` to `successor_id` with the policy's grace period.
    #[napi]
    pub fn rotate<'env>(
        &self,
        env: &'env Env,
        record: Unknown<'_>,
        successor_id: String,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let mut record: KeyRecord = load(record)?;
        self.inner.rotate(&mut record, &successor_id, instant(now_ms)?).map_err(core_error)?;
        to_js(env, &json!({"changed": true, "record": record}))
    }

    /// Applies an update under the policy's name rules.
    #[napi]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        record: Unknown<'_>,
        update: Unknown<'_>,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let mut record: KeyRecord = load(record)?;
        let update: RecordUpdate = load(update)?;
        let changed = self.inner.update(&mut record, &update, instant(now_ms)?).map_err(core_error)?;
        to_js(env, &json!({"changed": changed, "record": record}))
    }

    /// Every key of the engine's formats in `text`.
    #[napi]
    pub fn scan<'env>(&self, env: &'env Env, text: String) -> Result<Unknown<'env>> {
        to_js(env, &self.scanner.scan(&text))
    }

    /// `text` with every key replaced by its preview.
    #[napi]
    pub fn redact(&self, text: String) -> String {
        self.scanner.redact(&text)
    }
}

/// One request being verified (see `keyproof::Verification`).
#[napi]
pub struct Verification {
    inner: Option<keyproof::Verification>,
}

impl Verification {
    fn get(&self) -> Result<&keyproof::Verification> {
        self.inner.as_ref().ok_or_else(finished)
    }

    fn get_mut(&mut self) -> Result<&mut keyproof::Verification> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

/// A rate-limit write in the storage schema (typed, so `tat_us` stays a JS number).
#[derive(serde::Serialize)]
struct WriteOut<'a> {
    key: &'a str,
    expected: Option<RateLimitState>,
    new: RateLimitState,
    ttl_seconds: u64,
}

fn write_json(w: &keyproof::RateWrite) -> WriteOut<'_> {
    WriteOut { key: &w.key, expected: w.expected, new: w.new, ttl_seconds: w.ttl_seconds }
}

fn finished() -> crate::Error {
    napi::Error::new(crate::Code::Napi(napi::Status::InvalidArg), "this verification is already finished")
}

#[napi]
impl Verification {
    /// What the host must do next.
    #[napi]
    pub fn next_step(&self) -> Result<StepInfo> {
        Ok(match self.get()?.next_step() {
            Step::LookupRecord(hash) => StepInfo { kind: "lookup_record".into(), value: Some(hash.to_string()) },
            Step::LoadRateState(key) => StepInfo { kind: "load_rate_state".into(), value: Some(key.to_string()) },
            Step::Done => StepInfo { kind: "done".into(), value: None },
        })
    }

    /// Answers a lookup step: a [`NativeRecord`], a record object, or `null`.
    #[napi]
    pub fn record(&mut self, record: Unknown<'_>) -> Result<()> {
        let record = record_from(record)?;
        self.get_mut()?.record(record);
        Ok(())
    }

    /// Answers the rate-limit step with the stored state (`{tat_us}`) or `null`;
    /// may be called again after a lost compare-and-set (the step recomputes).
    #[napi]
    pub fn rate_state(&mut self, state: Unknown<'_>) -> Result<()> {
        let state: Option<RateLimitState> = match state.get_type().map_err(napi_error)? {
            ValueType::Null | ValueType::Undefined => None,
            _ => Some(load(state)?),
        };
        self.get_mut()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-limit step with "the store failed" (also after a lost
    /// compare-and-set whose retry failed): `onError` `"fail_closed"` (503 with
    /// `Retry-After: retryAfterSeconds`) or `"fail_open"`; core renders the answer.
    #[napi]
    pub fn rate_state_unavailable(&mut self, on_error: String, retry_after_seconds: Option<u32>) -> Result<()> {
        let failure =
            keyproof::RateStoreFailure::new(&on_error, retry_after_seconds.unwrap_or(1)).map_err(core_error)?;
        self.get_mut()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// The compare-and-set write the decision so far needs, or `null`.
    #[napi]
    pub fn rate_write<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let write = self.get()?.rate_write();
        to_js(env, &write.as_ref().map(write_json))
    }

    /// Finishes: the decision and what to write.
    /// With `full`, the result also carries the whole decision as JSON text.
    #[napi(ts_return_type = "Decided")]
    pub fn finish(&mut self, full: Option<bool>) -> Result<Decided> {
        let v = self.inner.take().ok_or_else(finished)?;
        Ok(decided(v.finish(), full.unwrap_or(false)))
    }
}

/// A finished verification as one string (one JS value to create, parsed by
/// the JS layer only as far as it is read): `"<allowed 0|1> <status> <code> <flags> <json>"`
/// where `<flags>` is `-`, or any of `w` (a rate-limit write to make), `u` (an
/// upgraded record to save) and `t` (a last-used time to write), and `<json>`
/// is the JSON text of [`Rest`].
pub type Decided = String;

fn json_text<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Everything but allowed, status and code, in the storage schema.
#[derive(serde::Serialize)]
struct Rest<'a> {
    headers: &'a [(String, String)],
    body: Option<&'a str>,
    principal: Option<&'a keyproof::Principal>,
    rate_write: Option<WriteOut<'a>>,
    public_code: &'static str,
    detail: &'a str,
    missing_scope: Option<&'a str>,
    warnings: &'a [keyproof::Warning],
    rate_limit: Option<&'a keyproof::RateLimitDecision>,
    upgraded_record: Option<&'a KeyRecord>,
    token: Option<&'a keyproof::TokenUse>,
    touch_last_used: Option<String>,
    decision: Option<&'a keyproof::Decision>,
}

/// The string the JS layer reads (see [`Decided`]).
fn decided(outcome: keyproof::Outcome, full: bool) -> Decided {
    let keyproof::Outcome { decision: d, rate_write, upgraded_record, touch_last_used } = outcome;
    let rest = Rest {
        headers: &d.headers,
        body: d.body.as_deref(),
        principal: d.principal.as_ref(),
        rate_write: rate_write.as_ref().map(write_json),
        public_code: d.public_code,
        detail: &d.detail,
        missing_scope: d.missing_scope.as_deref(),
        warnings: &d.warnings,
        rate_limit: d.rate_limit.as_ref(),
        upgraded_record: upgraded_record.as_ref(),
        token: d.token.as_ref(),
        touch_last_used: touch_last_used.map(|t| keyproof::timestamp::format_timestamp(&t)),
        decision: full.then_some(&d),
    };
    let mut out = String::with_capacity(512);
    out.push_str(if d.allowed { "1 " } else { "0 " });
    out.push_str(&d.status.to_string());
    out.push(' ');
    out.push_str(d.code);
    out.push(' ');
    let (w, u, t) = (rest.rate_write.is_some(), rest.upgraded_record.is_some(), rest.touch_last_used.is_some());
    let flags: String = [(w, 'w'), (u, 'u'), (t, 't')].iter().filter_map(|(set, flag)| set.then_some(*flag)).collect();
    out.push_str(if flags.is_empty() { "-" } else { &flags });
    out.push(' ');
    out.push_str(&json_text(&rest).unwrap_or_default());
    out
}

/// A record loaded and validated once, held natively: a lookup returning it
/// costs no conversion. Immutable.
#[napi]
pub struct NativeRecord {
    pub(crate) record: KeyRecord,
}

#[napi]
impl NativeRecord {
    /// Loads and validates a record (storage-schema object or JSON text).
    #[napi(constructor)]
    pub fn new(record: Unknown<'_>) -> Result<Self> {
        Ok(Self { record: load(record)? })
    }

    /// Record id.
    #[napi(getter)]
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The record (storage schema).
    #[napi]
    pub fn to_object<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, &self.record)
    }
}
