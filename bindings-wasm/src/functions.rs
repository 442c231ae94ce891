//! Free functions: presets, parsing, minting, scanning, rate limiting, loading
//! and the record lifecycle.

use wasm_bindgen::prelude::*;

use keyproof::ratelimit::shared_store;
use keyproof::wire::{format_set as resolve_formats, ChangedView, FormatList, MintedView, ParsedView, SuccessorView};
use keyproof::{
    EngineConfig, ErrorKind, FormatSet, KeyFormat, KeyRecord, MintOptions, Policy, Quota, RateLimitState, RecordUpdate,
    Scanner,
};

use crate::{core_error, error_of, instant, load, load_optional, optional_bytes, text, to_js, Result};

/// A format given by preset id (a string) or in full (an object).
fn format_of(value: &JsValue) -> Result<KeyFormat> {
    match value.as_string() {
        Some(id) => keyproof::presets::get(&id).map_err(core_error),
        None => load(value),
    }
}

/// The format set of `formats` (every preset when absent).
fn format_set(formats: &JsValue) -> Result<FormatSet> {
    resolve_formats(load_optional::<FormatList>(formats)?).map_err(core_error)
}

/// Every preset format, in catalogue order.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue> {
    to_js(&keyproof::presets::all())
}

/// Seam `prefixed-api-key`'s layout for a key prefix, as a format definition.
#[wasm_bindgen(js_name = seamFormat)]
pub fn seam_format(
    #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    #[wasm_bindgen(js_name = keyPrefix, unchecked_param_type = "string")] key_prefix: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] environment: JsValue,
) -> Result<JsValue> {
    let (id, key_prefix) = (text(&id, "id")?, text(&key_prefix, "keyPrefix")?);
    to_js(&keyproof::presets::seam_format(&id, &key_prefix, &text(&environment, "environment")?))
}

/// Parses a key with `formats` (preset ids or definitions; every preset when absent).
#[wasm_bindgen(js_name = parseKey)]
pub fn parse_key(#[wasm_bindgen(unchecked_param_type = "string")] key: JsValue, formats: JsValue) -> Result<JsValue> {
    let key = text(&key, "key")?;
    let set = format_set(&formats)?;
    let parsed = keyproof::parse_key(&set, &key).map_err(core_error)?;
    to_js(&ParsedView::from(&parsed))
}

/// Mints a key of `format` (preset id or definition), hashed with SHA-256.
/// `random` is the caller's random bytes; `null` draws 32 bytes of OS
/// randomness (`crypto.getRandomValues`).
#[wasm_bindgen]
pub fn mint(
    format: JsValue,
    options: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | null | undefined")] random: JsValue,
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
) -> Result<JsValue> {
    let format = format_of(&format)?;
    let options: MintOptions = load(&options)?;
    let random = match optional_bytes(&random, "random")? {
        Some(bytes) => bytes,
        None => crate::os_random(32)?,
    };
    let hasher = keyproof::Hasher::default();
    let minted = keyproof::mint(&format, &hasher, &options, &random, instant(now_ms)?).map_err(core_error)?;
    to_js(&MintedView::from(&minted))
}

/// Every key of `formats` in `text` (offsets in bytes, characters and UTF-16 units).
#[wasm_bindgen]
pub fn scan(#[wasm_bindgen(unchecked_param_type = "string")] text: JsValue, formats: JsValue) -> Result<JsValue> {
    let text = crate::text(&text, "text")?;
    to_js(&Scanner::new(&format_set(&formats)?).scan(&text))
}

/// `text` with every key of `formats` replaced by its preview.
#[wasm_bindgen]
pub fn redact(#[wasm_bindgen(unchecked_param_type = "string")] text: JsValue, formats: JsValue) -> Result<String> {
    let text = crate::text(&text, "text")?;
    Ok(Scanner::new(&format_set(&formats)?).redact(&text))
}

/// One GCRA step (`state` is `{tat_us}` or `null`; `nowUs` a number of microseconds).
#[wasm_bindgen]
pub fn gcra(
    state: JsValue,
    #[wasm_bindgen(js_name = nowUs)] now_us: f64,
    quota: JsValue,
    cost: u32,
) -> Result<JsValue> {
    let state: Option<RateLimitState> = load_optional(&state)?;
    let quota: Quota = load(&quota)?;
    if !now_us.is_finite() {
        return Err(error_of(ErrorKind::InvalidTimestamp, "the time is not a finite number of microseconds"));
    }
    // `as` saturates at the ends of i64, which the GCRA clamps.
    let now_us = now_us.floor() as i64;
    to_js(&keyproof::gcra(state, now_us, &quota, cost))
}

/// Loads and validates a value of `kind` (`record`, `policy`, `format`,
/// `engine`, `rate_limit_state`, `quota`, `mint_options`, `record_update`)
/// from an object or JSON text; returns it normalized (defaults filled in).
#[wasm_bindgen(js_name = loadValue)]
pub fn load_value(#[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue, value: JsValue) -> Result<JsValue> {
    match text(&kind, "kind")?.as_str() {
        "record" => to_js(&load::<KeyRecord>(&value)?),
        "policy" => {
            let policy: Policy = load(&value)?;
            let compiled = policy.compile().map_err(core_error)?;
            to_js(compiled.policy())
        }
        "format" => to_js(&load::<KeyFormat>(&value)?),
        "engine" => {
            let config: EngineConfig = load(&value)?;
            keyproof::Engine::from_config(config.clone(), None).map_err(core_error)?;
            to_js(&config)
        }
        "rate_limit_state" => to_js(&load::<RateLimitState>(&value)?),
        "quota" => to_js(&load::<Quota>(&value)?),
        "mint_options" => load::<MintOptions>(&value).map(|_| JsValue::TRUE),
        "record_update" => load::<RecordUpdate>(&value).map(|_| JsValue::TRUE),
        other => Err(error_of(ErrorKind::InvalidJson, &format!("no loader for {other:?}"))),
    }
}

fn changed_js(changed: bool, record: &KeyRecord) -> Result<JsValue> {
    to_js(&ChangedView { changed, record })
}

/// Rotates `record` to `successorId`, valid for `graceHours` more.
#[wasm_bindgen]
pub fn rotate(
    record: JsValue,
    #[wasm_bindgen(js_name = successorId, unchecked_param_type = "string")] successor_id: JsValue,
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(js_name = graceHours)] grace_hours: Option<f64>,
) -> Result<JsValue> {
    let mut record: KeyRecord = load(&record)?;
    let successor_id = text(&successor_id, "successorId")?;
    let grace = keyproof::wire::grace_from_hours(grace_hours).map_err(core_error)?;
    record.rotate(&successor_id, instant(now_ms)?, grace).map_err(core_error)?;
    changed_js(true, &record)
}

/// Revokes `record` for good.
#[wasm_bindgen]
pub fn revoke(record: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let mut record: KeyRecord = load(&record)?;
    let changed = record.revoke(instant(now_ms)?).map_err(core_error)?;
    changed_js(changed, &record)
}

/// Switches `record` off until enabled.
#[wasm_bindgen]
pub fn disable(record: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let mut record: KeyRecord = load(&record)?;
    let changed = record.disable(instant(now_ms)?).map_err(core_error)?;
    changed_js(changed, &record)
}

/// Switches a disabled `record` back on.
#[wasm_bindgen]
pub fn enable(record: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let mut record: KeyRecord = load(&record)?;
    let changed = record.enable(instant(now_ms)?).map_err(core_error)?;
    changed_js(changed, &record)
}

/// Applies `update` to `record` (default name rules).
#[wasm_bindgen]
pub fn update(record: JsValue, update: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let mut record: KeyRecord = load(&record)?;
    let update: RecordUpdate = load(&update)?;
    let changed = record.update(&update, instant(now_ms)?).map_err(core_error)?;
    changed_js(changed, &record)
}

/// What `record` has left of its usage limit, given the state stored under the
/// counter's key (`null`: nothing spent), or `null` without a usage limit.
#[wasm_bindgen]
pub fn usage(record: JsValue, state: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let record: KeyRecord = load(&record)?;
    let state: Option<RateLimitState> = load_optional(&state)?;
    to_js(&record.usage(state, instant(now_ms)?))
}

/// Charges `units` to `record`'s usage limit after the fact, or (`refund`) gives
/// back at most what the period spent, given the state stored under the counter's
/// key: `{write, usage, unpaid}`, or `null` without a limit.
#[wasm_bindgen]
pub fn settle(
    record: JsValue,
    units: f64,
    state: JsValue,
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    refund: bool,
) -> Result<JsValue> {
    let record: KeyRecord = load(&record)?;
    let (units, state) = (keyproof::wire::usage_units(units).map_err(core_error)?, load_optional(&state)?);
    let settlement = if refund { keyproof::Settlement::Refund } else { keyproof::Settlement::Charge };
    to_js(&record.settle(settlement, state, units, instant(now_ms)?))
}

/// Mint options for the key that replaces `record` (same name, owner, scopes …,
/// same lifetime counted from now).
#[wasm_bindgen(js_name = successorOptions)]
pub fn successor_options(record: JsValue, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> Result<JsValue> {
    let record: KeyRecord = load(&record)?;
    let o = record.successor_options(instant(now_ms)?).map_err(core_error)?;
    to_js(&SuccessorView::from(&o))
}

/// The instant an expiry preset (`90d`, `6m` …) names, counted from `nowMs`, as ms.
#[wasm_bindgen(js_name = expiryFromPreset)]
pub fn expiry_from_preset(
    #[wasm_bindgen(unchecked_param_type = "string")] preset: JsValue,
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
) -> Result<f64> {
    let at = keyproof::expiry_from_preset(&text(&preset, "preset")?, instant(now_ms)?).map_err(core_error)?;
    Ok(keyproof::wire::instant_to_ms(at))
}

/// The fingerprint of a stored hash.
#[wasm_bindgen]
pub fn fingerprint(
    #[wasm_bindgen(js_name = storedHash, unchecked_param_type = "string")] stored_hash: JsValue,
) -> Result<String> {
    Ok(keyproof::fingerprint(&text(&stored_hash, "storedHash")?))
}

/// Whether a lookup value is a record id (an access token's key) rather than a storage hash.
#[wasm_bindgen(js_name = isRecordId)]
pub fn is_record_id(#[wasm_bindgen(unchecked_param_type = "string")] lookup: JsValue) -> Result<bool> {
    Ok(keyproof::ids::is_record_id(&text(&lookup, "lookup")?))
}

/// Every error code with its family, in catalogue order
/// (`[{code, family, description}]`).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Result<JsValue> {
    to_js(&keyproof::wire::error_codes())
}

/// Compare-and-set attempts before a write gives up (core's: each lost race is another writer's progress).
#[wasm_bindgen(js_name = maxWriteTries)]
pub fn max_write_tries() -> u32 {
    keyproof::MAX_WRITE_TRIES
}

/// The pub/sub channel on which record caches announce a changed key (core's).
#[wasm_bindgen(js_name = recordCacheChannel)]
pub fn record_cache_channel() -> String {
    keyproof::cache::RECORD_CACHE_CHANNEL.to_string()
}

/// The Redis / Valkey compare-and-set script of shared rate-limit stores (core's).
#[wasm_bindgen(js_name = rateStoreScript)]
pub fn rate_store_script() -> String {
    shared_store::COMPARE_AND_SET_SCRIPT.to_string()
}

/// The key prefix of every bucket unless the host picks another (core's).
#[wasm_bindgen(js_name = rateStorePrefix)]
pub fn rate_store_prefix() -> String {
    shared_store::DEFAULT_KEY_PREFIX.to_string()
}

/// The store key of core's bucket `<key id>:<class>` under `prefix` (default `keyproof:rl:`).
#[wasm_bindgen(js_name = rateStoreKey)]
pub fn rate_store_key(
    #[wasm_bindgen(unchecked_param_type = "string")] bucket: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | undefined")] prefix: JsValue,
) -> Result<String> {
    let prefix =
        if prefix.is_undefined() { shared_store::DEFAULT_KEY_PREFIX.to_string() } else { text(&prefix, "prefix")? };
    Ok(shared_store::store_key(&text(&bucket, "bucket")?, &prefix))
}

/// The stored text of a state (`{tat_us}` or `null`), `''` for none.
#[wasm_bindgen(js_name = rateStateText)]
pub fn rate_state_text(state: JsValue) -> Result<String> {
    Ok(shared_store::state_text(load_optional(&state)?))
}

/// A stored text as a state `{tat_us}`, or `null` when it is not one in canonical form.
#[wasm_bindgen(js_name = parseRateStateText)]
pub fn parse_rate_state_text(#[wasm_bindgen(unchecked_param_type = "string")] raw: JsValue) -> Result<JsValue> {
    to_js(&shared_store::parse_state_text(&text(&raw, "raw")?))
}
