//! The engine, the verification step, its outcome and preloaded records.

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use keyproof::{
    Decision, EngineConfig, ErrorKind, KeyRecord, MintOptions, RateLimitDecision, RateLimitState, RecordUpdate,
    Scanner, Step, Warning,
};

use crate::{
    core_error, error_of, instant, invalid_arg, load, load_optional, optional_bytes, optional_text, record_from, text,
    to_js, Result,
};

/// A verification engine: formats, hasher and compiled policy, built once and
/// shared (it is immutable).
#[wasm_bindgen]
pub struct Engine {
    pub(crate) inner: keyproof::Engine,
    /// Built on the first `scan`/`redact` (most engines only verify; building
    /// it would cost every isolate's start).
    scanner: std::cell::OnceCell<Scanner>,
}

/// Header pairs from a flat `[name, value, name, value …]` list.
pub(crate) fn pairs(headers: &[String]) -> Result<Vec<(&str, &str)>> {
    if headers.len() % 2 != 0 {
        return Err(error_of(ErrorKind::InvalidJson, "headers are a flat list of name, value pairs"));
    }
    Ok(headers.chunks_exact(2).filter_map(|c| Some((c.first()?.as_str(), c.get(1)?.as_str()))).collect())
}

/// What the host must do next, as a plain object `{kind, value?}`.
#[derive(Serialize)]
pub(crate) struct StepInfo<'a> {
    /// `lookup_record`, `load_rate_state` or `done`.
    pub(crate) kind: &'static str,
    /// The storage hash (`lookup_record`) or rate-limit key (`load_rate_state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<&'a str>,
}

#[wasm_bindgen]
impl Engine {
    /// Builds an engine from a config (object or JSON text); `pepper` overrides `hashing.pepper_hex`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | null | undefined")] pepper: JsValue,
    ) -> Result<Engine> {
        let config: EngineConfig = load(&config)?;
        let pepper = optional_bytes(&pepper, "pepper")?;
        let inner = keyproof::Engine::from_config(config, pepper.as_deref()).map_err(core_error)?;
        Ok(Self { inner, scanner: std::cell::OnceCell::new() })
    }

    /// The policy, as loaded (defaults filled in).
    pub fn policy(&self) -> Result<JsValue> {
        to_js(self.inner.policy())
    }

    /// The formats, longest prefix first.
    pub fn formats(&self) -> Result<JsValue> {
        let formats: Vec<&keyproof::KeyFormat> = self.inner.formats().formats().iter().map(|f| &**f).collect();
        to_js(&formats)
    }

    /// Starts verifying a request. `headers` is a flat `[name, value …]` list.
    pub fn begin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        headers: Vec<String>,
        #[wasm_bindgen(js_name = clientIp, unchecked_param_type = "string | null | undefined")] client_ip: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<Verification> {
        let now = instant(now_ms)?;
        let (method, path) = (text(&method, "method")?, text(&path, "path")?);
        let client_ip = optional_text(&client_ip, "clientIp")?;
        let inner = self.inner.begin(&method, &path, &pairs(&headers)?, client_ip.as_deref(), now);
        Ok(Verification { inner: Some(inner) })
    }

    /// [`Engine::begin`], then the step driven synchronously: `lookup(hash)`
    /// answers each lookup step and `loadState(key)` the rate-limit step. Each
    /// returns its answer (`lookup`: a `NativeRecord`, a record object or
    /// `null`; `loadState`: `{tat_us}` or `null`) or `false` to stop there (the
    /// host answers that step itself, e.g. after awaiting). Returns the finished
    /// decision tuple when the step got to the end, else the `Verification`.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        headers: Vec<String>,
        #[wasm_bindgen(js_name = clientIp, unchecked_param_type = "string | null | undefined")] client_ip: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        lookup: &Function,
        #[wasm_bindgen(js_name = loadState)] load_state: Option<Function>,
    ) -> Result<JsValue> {
        let now = instant(now_ms)?;
        let (method, path) = (text(&method, "method")?, text(&path, "path")?);
        let client_ip = optional_text(&client_ip, "clientIp")?;
        let v = self.inner.begin(&method, &path, &pairs(&headers)?, client_ip.as_deref(), now);
        drive(v, lookup, load_state.as_ref())
    }

    /// [`Engine::verify`] with the request's strings packed into one (fewer
    /// crossings of the JS/wasm boundary; the package's JS adapter calls it):
    /// `packed` is method, path, client IP, then header names and values,
    /// concatenated; `cuts` (a `Uint32Array`) their lengths in UTF-16 units,
    /// `0xFFFFFFFF` for a `null` client IP. A lookup may answer `1` after
    /// calling `NativeRecord.__handOver()` (the adapter's fast record path).
    #[wasm_bindgen(js_name = verifyPacked, skip_typescript)]
    pub fn verify_packed(
        &self,
        packed: JsValue,
        cuts: JsValue,
        now_ms: f64,
        lookup: &Function,
        load_state: Option<Function>,
    ) -> Result<JsValue> {
        let now = instant(now_ms)?;
        let packed = text(&packed, "packed")?;
        let cuts =
            cuts.dyn_ref::<js_sys::Uint32Array>().ok_or_else(|| invalid_arg("cuts must be a Uint32Array"))?.to_vec();
        let parts = split_utf16(&packed, &cuts)?;
        let (Some(Some(method)), Some(Some(path)), Some(client_ip)) = (parts.first(), parts.get(1), parts.get(2))
        else {
            return Err(invalid_arg("a packed request needs a method, a path and a client IP"));
        };
        let mut headers = Vec::with_capacity(parts.len().saturating_sub(3) / 2);
        let mut rest = parts.iter().skip(3);
        while let Some(name) = rest.next() {
            let (Some(name), Some(Some(value))) = (name, rest.next()) else {
                return Err(error_of(ErrorKind::InvalidJson, "headers are a flat list of name, value pairs"));
            };
            headers.push((*name, *value));
        }
        let v = self.inner.begin(method, path, &headers, *client_ip, now);
        drive(v, lookup, load_state.as_ref())
    }

    /// Parses a key with the engine's formats.
    pub fn parse(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<JsValue> {
        let parsed = self.inner.parse(&text(&key, "key")?).map_err(core_error)?;
        to_js(&crate::functions::parsed_json(&parsed))
    }

    /// The storage hash of a key (what a new record stores).
    #[wasm_bindgen(js_name = hashKey)]
    pub fn hash_key(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<String> {
        self.inner.hash_key(&text(&key, "key")?).map_err(core_error)
    }

    /// Every hash a store may hold the key under, preferred first.
    #[wasm_bindgen(js_name = lookupHashes)]
    pub fn lookup_hashes(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<Vec<String>> {
        let parsed = self.inner.parse(&text(&key, "key")?).map_err(core_error)?;
        Ok(self.inner.hasher().lookup_hashes(parsed.format(), &parsed))
    }

    /// Mints a key of the engine's format `formatId` (policy name rules apply).
    /// `random` is the caller's random bytes; `null` draws 32 bytes of OS
    /// randomness (`crypto.getRandomValues`).
    pub fn mint(
        &self,
        #[wasm_bindgen(js_name = formatId, unchecked_param_type = "string")] format_id: JsValue,
        options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | null | undefined")] random: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let format_id = text(&format_id, "formatId")?;
        let options: MintOptions = load(&options)?;
        let random = match optional_bytes(&random, "random")? {
            Some(bytes) => bytes,
            None => crate::os_random(32)?,
        };
        let minted = self.inner.mint(&format_id, &options, &random, instant(now_ms)?).map_err(core_error)?;
        crate::functions::minted_js(minted)
    }

    /// Rotates `record` to `successorId` with the policy's grace period.
    pub fn rotate(
        &self,
        record: JsValue,
        #[wasm_bindgen(js_name = successorId, unchecked_param_type = "string")] successor_id: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let mut record: KeyRecord = load(&record)?;
        let successor_id = text(&successor_id, "successorId")?;
        self.inner.rotate(&mut record, &successor_id, instant(now_ms)?).map_err(core_error)?;
        to_js(&Changed { changed: true, record: &record })
    }

    /// Applies an update under the policy's name rules.
    pub fn update(
        &self,
        record: JsValue,
        update: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let mut record: KeyRecord = load(&record)?;
        let update: RecordUpdate = load(&update)?;
        let changed = self.inner.update(&mut record, &update, instant(now_ms)?).map_err(core_error)?;
        to_js(&Changed { changed, record: &record })
    }

    /// Every key of the engine's formats in `text`.
    pub fn scan(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<JsValue> {
        let text = crate::text(&text, "text")?;
        to_js(&self.scanner().scan(&text))
    }

    /// `text` with every key replaced by its preview.
    pub fn redact(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<String> {
        let text = crate::text(&text, "text")?;
        Ok(self.scanner().redact(&text))
    }
}

/// `packed` cut into pieces of `cuts` UTF-16 units each (`None` for a cut of
/// `u32::MAX`). A cut inside a character or past the end is an argument error.
fn split_utf16<'a>(packed: &'a str, cuts: &[u32]) -> Result<Vec<Option<&'a str>>> {
    let mut out = Vec::with_capacity(cuts.len());
    let mut chars = packed.char_indices().peekable();
    let mut start = 0;
    for &cut in cuts {
        if cut == u32::MAX {
            out.push(None);
            continue;
        }
        let mut units = 0usize;
        let want = cut as usize;
        while units < want {
            let Some((_, c)) = chars.next() else { return Err(invalid_arg("cuts run past the packed string")) };
            units = units.saturating_add(c.len_utf16());
        }
        if units != want {
            return Err(invalid_arg("a cut falls inside a character"));
        }
        let end = chars.peek().map_or(packed.len(), |(i, _)| *i);
        out.push(Some(packed.get(start..end).ok_or_else(|| invalid_arg("bad cut"))?));
        start = end;
    }
    if chars.next().is_some() {
        return Err(invalid_arg("the packed string is longer than its cuts"));
    }
    Ok(out)
}

/// The lookup answer the package's JS adapter gives for a `NativeRecord` after
/// calling its `__handOver()`.
const HANDED_OVER: f64 = 1.0;

thread_local! {
    /// The last hashes and rate-limit keys handed to callbacks, as JS strings:
    /// the same key verified again gets its string without decoding it anew.
    static JS_STRINGS: std::cell::RefCell<Vec<(String, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `text` as a JS string, from the small cache of recent ones.
fn js_string(text: &str) -> JsValue {
    const KEEP: usize = 32;
    JS_STRINGS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else { return JsValue::from_str(text) };
        if let Some(i) = cache.iter().position(|(t, _)| t == text) {
            let hit = cache.remove(i);
            let value = hit.1.clone();
            cache.push(hit);
            return value;
        }
        let value = JsValue::from_str(text);
        if cache.len() >= KEEP {
            cache.remove(0);
        }
        cache.push((text.to_string(), value.clone()));
        value
    })
}

/// Drives a verification synchronously through the host's callbacks (see [`Engine::verify`]).
fn drive(mut v: keyproof::Verification, lookup: &Function, load_state: Option<&Function>) -> Result<JsValue> {
    loop {
        match v.next_step() {
            Step::LookupRecord(hash) => {
                let found = lookup.call1(&JsValue::NULL, &js_string(hash))?;
                if found.as_bool().is_some() {
                    return Ok(Verification { inner: Some(v) }.into());
                }
                let record = match found.as_f64() {
                    Some(HANDED_OVER) => crate::take_handoff(),
                    _ => None,
                };
                let record = match record {
                    Some(record) => Some(record),
                    None => record_from(&found)?,
                };
                v.record(record);
            }
            Step::LoadRateState(key) => {
                let Some(load_state) = load_state else {
                    return Ok(Verification { inner: Some(v) }.into());
                };
                let state = load_state.call1(&JsValue::NULL, &js_string(key))?;
                if state.as_bool().is_some() {
                    return Ok(Verification { inner: Some(v) }.into());
                }
                v.rate_state(load_optional::<RateLimitState>(&state)?);
            }
            Step::Done => return Ok(JsValue::from_str(&decided(v.finish(), false))),
        }
    }
}

impl Engine {
    fn scanner(&self) -> &Scanner {
        self.scanner.get_or_init(|| Scanner::new(self.inner.formats()))
    }
}

/// One request being verified (see `keyproof::Verification`).
#[wasm_bindgen]
pub struct Verification {
    inner: Option<keyproof::Verification>,
}

fn finished() -> JsValue {
    invalid_arg("this verification is already finished")
}

impl Verification {
    fn get(&self) -> Result<&keyproof::Verification> {
        self.inner.as_ref().ok_or_else(finished)
    }

    fn get_mut(&mut self) -> Result<&mut keyproof::Verification> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

/// A lifecycle result: `{changed, record}`.
#[derive(Serialize)]
pub(crate) struct Changed<'a> {
    pub(crate) changed: bool,
    pub(crate) record: &'a KeyRecord,
}

/// A rate-limit write in the storage schema: `{key, expected, new, ttl_seconds}`.
#[derive(Serialize)]
struct WriteOut<'a> {
    key: &'a str,
    expected: Option<RateLimitState>,
    new: RateLimitState,
    ttl_seconds: u64,
}

fn write_out(w: &keyproof::RateWrite) -> WriteOut<'_> {
    WriteOut { key: &w.key, expected: w.expected, new: w.new, ttl_seconds: w.ttl_seconds }
}

/// Everything of a decision but allowed, status and code, in the storage schema.
#[derive(Serialize)]
struct Rest<'a> {
    headers: &'a [(String, String)],
    body: Option<&'a str>,
    principal: Option<&'a keyproof::Principal>,
    rate_write: Option<WriteOut<'a>>,
    public_code: &'static str,
    detail: &'a str,
    missing_scope: Option<&'a str>,
    warnings: &'a [Warning],
    rate_limit: Option<&'a RateLimitDecision>,
    upgraded_record: Option<&'a KeyRecord>,
    token: Option<&'a keyproof::TokenUse>,
    touch_last_used: Option<String>,
    decision: Option<&'a Decision>,
}

#[wasm_bindgen]
impl Verification {
    /// What the host must do next: `{kind, value?}` with `kind` one of
    /// `lookup_record`, `load_rate_state`, `done`.
    #[wasm_bindgen(js_name = nextStep)]
    pub fn next_step(&self) -> Result<JsValue> {
        let info = match self.get()?.next_step() {
            Step::LookupRecord(hash) => StepInfo { kind: "lookup_record", value: Some(hash) },
            Step::LoadRateState(key) => StepInfo { kind: "load_rate_state", value: Some(key) },
            Step::Done => StepInfo { kind: "done", value: None },
        };
        to_js(&info)
    }

    /// Answers a lookup step: a `NativeRecord`, a record object, or `null`.
    pub fn record(&mut self, record: JsValue) -> Result<()> {
        let record = record_from(&record)?;
        self.get_mut()?.record(record);
        Ok(())
    }

    /// Answers the rate-limit step with the stored state (`{tat_us}`) or `null`;
    /// may be called again after a lost compare-and-set (the step recomputes).
    #[wasm_bindgen(js_name = rateState)]
    pub fn rate_state(&mut self, state: JsValue) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(&state)?;
        self.get_mut()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-limit step with "the store failed" (also after a lost
    /// compare-and-set whose retry failed): `onError` `"fail_closed"` (503 with
    /// `Retry-After: retryAfterSeconds`) or `"fail_open"`; core renders the answer.
    #[wasm_bindgen(js_name = rateStateUnavailable)]
    pub fn rate_state_unavailable(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] on_error: JsValue,
        retry_after_seconds: Option<u32>,
    ) -> Result<()> {
        let on_error = text(&on_error, "onError")?;
        let failure =
            keyproof::RateStoreFailure::new(&on_error, retry_after_seconds.unwrap_or(1)).map_err(core_error)?;
        self.get_mut()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// The compare-and-set write the decision so far needs, or `null`.
    #[wasm_bindgen(js_name = rateWrite)]
    pub fn rate_write(&self) -> Result<JsValue> {
        to_js(&self.get()?.rate_write().as_ref().map(write_out))
    }

    /// Finishes: the decision and what to write (see `decided`).
    /// With `full`, the result also carries the whole decision as JSON text.
    pub fn finish(&mut self, full: Option<bool>) -> Result<String> {
        let v = self.inner.take().ok_or_else(finished)?;
        Ok(decided(v.finish(), full.unwrap_or(false)))
    }
}

/// A finished verification as one string (one JS value to create, parsed by
/// the JS layer only as far as it is read), as the Node binding makes it:
/// `"<allowed 0|1> <status> <code> <flags> <json>"` where `<flags>` is `-`, or
/// any of `w` (a rate-limit write to make), `u` (an upgraded record to save)
/// and `t` (a last-used time to write), and `<json>` is the JSON text of [`Rest`].
fn decided(outcome: keyproof::Outcome, full: bool) -> String {
    let keyproof::Outcome { decision: d, rate_write, upgraded_record, touch_last_used } = outcome;
    let rest = Rest {
        headers: &d.headers,
        body: d.body.as_deref(),
        principal: d.principal.as_ref(),
        rate_write: rate_write.as_ref().map(write_out),
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
    // Serializing these plain structs cannot fail (string keys, finite numbers).
    out.push_str(&serde_json::to_string(&rest).unwrap_or_default());
    out
}

/// A record loaded and validated once, held natively: a lookup returning it
/// costs no conversion. Immutable.
#[wasm_bindgen]
pub struct NativeRecord {
    record: KeyRecord,
}

#[wasm_bindgen]
impl NativeRecord {
    /// Loads and validates a record (storage-schema object or JSON text).
    #[wasm_bindgen(constructor)]
    pub fn new(record: JsValue) -> Result<NativeRecord> {
        Ok(Self { record: load(&record)? })
    }

    /// Record id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.record.id.clone()
    }

    /// The record (storage schema).
    #[wasm_bindgen(js_name = toObject)]
    pub fn to_object(&self) -> Result<JsValue> {
        to_js(&self.record)
    }

    /// Hands the record to the binding reading a lookup answer (internal).
    #[wasm_bindgen(getter, js_name = __keyproofRecord, skip_typescript)]
    pub fn hand_over(&self) -> bool {
        crate::hand_over(&self.record);
        true
    }

    /// Hands the record over before a lookup answers `1` (the JS adapter's fast path; internal).
    #[wasm_bindgen(js_name = __handOver, skip_typescript)]
    pub fn hand_over_now(&self) {
        crate::hand_over(&self.record);
    }
}
