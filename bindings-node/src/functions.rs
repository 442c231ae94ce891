//! Free functions: presets, parsing, minting, scanning, rate limiting, loading
//! and the record lifecycle.

use napi::bindgen_prelude::{FromNapiValue, Uint8Array, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::Value;

use keyproof::ratelimit::shared_store;
use keyproof::wire::{format_set as resolve_formats, ChangedView, FormatList, MintedView, ParsedView, SuccessorView};
use keyproof::{
    EngineConfig, ErrorKind, FormatSet, KeyFormat, KeyRecord, MintOptions, Policy, Quota, RateLimitState, RecordUpdate,
    Scanner,
};

use crate::{bytes, core_error, error_of, instant, load, load_optional, napi_error, to_js, Result};

/// A format given by preset id (a string) or in full (an object).
fn format_of(value: Unknown<'_>) -> Result<KeyFormat> {
    match value.get_type().map_err(napi_error)? {
        ValueType::String => {
            let id = <String as FromNapiValue>::from_unknown(value).map_err(napi_error)?;
            keyproof::presets::get(&id).map_err(core_error)
        }
        _ => load(value),
    }
}

/// The format set of `formats` (every preset when absent).
fn format_set(formats: Option<Unknown<'_>>) -> Result<FormatSet> {
    let list = match formats {
        Some(formats) => load_optional::<FormatList>(formats)?,
        None => None,
    };
    resolve_formats(list).map_err(core_error)
}

/// Every preset format, in catalogue order.
#[napi]
pub fn presets(env: &Env) -> Result<Unknown<'_>> {
    to_js(env, &keyproof::presets::all())
}

/// Seam `prefixed-api-key`'s layout for a key prefix, as a format definition.
#[napi]
pub fn seam_format<'env>(env: &'env Env, id: String, key_prefix: String, environment: String) -> Result<Unknown<'env>> {
    to_js(env, &keyproof::presets::seam_format(&id, &key_prefix, &environment))
}

/// Parses a key with `formats` (preset ids or definitions; every preset when absent).
#[napi]
pub fn parse_key<'env>(env: &'env Env, key: String, formats: Option<Unknown<'_>>) -> Result<Unknown<'env>> {
    let set = format_set(formats)?;
    let parsed = keyproof::parse_key(&set, &key).map_err(core_error)?;
    to_js(env, &ParsedView::from(&parsed))
}

/// Mints a key of `format` (preset id or definition), hashed with SHA-256 or,
/// given a pepper, the format's or HMAC default.
#[napi]
pub fn mint<'env>(
    env: &'env Env,
    format: Unknown<'_>,
    options: Unknown<'_>,
    random: Uint8Array,
    now_ms: f64,
) -> Result<Unknown<'env>> {
    let format = format_of(format)?;
    let options: MintOptions = load(options)?;
    let hasher = keyproof::Hasher::default();
    let minted = keyproof::mint(&format, &hasher, &options, bytes(&random), instant(now_ms)?).map_err(core_error)?;
    to_js(env, &MintedView::from(&minted))
}

/// Every key of `formats` in `text` (offsets in bytes, characters and UTF-16 units).
#[napi]
pub fn scan<'env>(env: &'env Env, text: String, formats: Option<Unknown<'_>>) -> Result<Unknown<'env>> {
    to_js(env, &Scanner::new(&format_set(formats)?).scan(&text))
}

/// `text` with every key of `formats` replaced by its preview.
#[napi]
pub fn redact(text: String, formats: Option<Unknown<'_>>) -> Result<String> {
    Ok(Scanner::new(&format_set(formats)?).redact(&text))
}

/// One GCRA step (`state` is `{tat_us}` or `null`).
#[napi]
pub fn gcra<'env>(
    env: &'env Env,
    state: Unknown<'_>,
    now_us: i64,
    quota: Unknown<'_>,
    cost: u32,
) -> Result<Unknown<'env>> {
    let state: Option<RateLimitState> = load_optional(state)?;
    let quota: Quota = load(quota)?;
    to_js(env, &keyproof::gcra(state, now_us, &quota, cost))
}

/// Loads and validates a value of `kind` (`record`, `policy`, `format`,
/// `engine`, `rate_limit_state`, `quota`, `mint_options`, `record_update`)
/// from an object or JSON text; returns it normalized (defaults filled in).
#[napi]
pub fn load_value<'env>(env: &'env Env, kind: String, value: Unknown<'_>) -> Result<Unknown<'env>> {
    match kind.as_str() {
        "record" => to_js(env, &load::<KeyRecord>(value)?),
        "policy" => {
            let policy: Policy = load(value)?;
            let compiled = policy.compile().map_err(core_error)?;
            to_js(env, compiled.policy())
        }
        "format" => to_js(env, &load::<KeyFormat>(value)?),
        "engine" => {
            let config: EngineConfig = load(value)?;
            keyproof::Engine::from_config(config.clone(), None).map_err(core_error)?;
            to_js(env, &config)
        }
        "rate_limit_state" => to_js(env, &load::<RateLimitState>(value)?),
        "quota" => to_js(env, &load::<Quota>(value)?),
        "mint_options" => load::<MintOptions>(value).and_then(|_| to_js(env, &Value::Bool(true))),
        "record_update" => load::<RecordUpdate>(value).and_then(|_| to_js(env, &Value::Bool(true))),
        other => Err(error_of(ErrorKind::InvalidJson, &format!("no loader for {other:?}"))),
    }
}

fn changed_js<'env>(env: &'env Env, changed: bool, record: &KeyRecord) -> Result<Unknown<'env>> {
    to_js(env, &ChangedView { changed, record })
}

/// Rotates `record` to `successor_id`, valid for `grace_hours` more.
#[napi]
pub fn rotate<'env>(
    env: &'env Env,
    record: Unknown<'_>,
    successor_id: String,
    now_ms: f64,
    grace_hours: Option<f64>,
) -> Result<Unknown<'env>> {
    let mut record: KeyRecord = load(record)?;
    let grace = keyproof::wire::grace_from_hours(grace_hours).map_err(core_error)?;
    record.rotate(&successor_id, instant(now_ms)?, grace).map_err(core_error)?;
    changed_js(env, true, &record)
}

/// Revokes `record` for good.
#[napi]
pub fn revoke<'env>(env: &'env Env, record: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let mut record: KeyRecord = load(record)?;
    let changed = record.revoke(instant(now_ms)?).map_err(core_error)?;
    changed_js(env, changed, &record)
}

/// Switches `record` off until enabled.
#[napi]
pub fn disable<'env>(env: &'env Env, record: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let mut record: KeyRecord = load(record)?;
    let changed = record.disable(instant(now_ms)?).map_err(core_error)?;
    changed_js(env, changed, &record)
}

/// Switches a disabled `record` back on.
#[napi]
pub fn enable<'env>(env: &'env Env, record: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let mut record: KeyRecord = load(record)?;
    let changed = record.enable(instant(now_ms)?).map_err(core_error)?;
    changed_js(env, changed, &record)
}

/// Applies `update` to `record` (default name rules).
#[napi]
pub fn update<'env>(env: &'env Env, record: Unknown<'_>, update: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let mut record: KeyRecord = load(record)?;
    let update: RecordUpdate = load(update)?;
    let changed = record.update(&update, instant(now_ms)?).map_err(core_error)?;
    changed_js(env, changed, &record)
}

/// What `record` has left of its usage limit, given the state stored under the
/// counter's key (`null`: nothing spent), or `null` without a usage limit.
#[napi]
pub fn usage<'env>(env: &'env Env, record: Unknown<'_>, state: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let record: KeyRecord = load(record)?;
    let state: Option<RateLimitState> = load_optional(state)?;
    to_js(env, &record.usage(state, instant(now_ms)?))
}

/// Charges `units` to `record`'s usage limit after the fact, or (`refund`) gives
/// back at most what the period spent, given the state stored under the counter's
/// key: `{write, usage, unpaid}`, or `null` without a limit.
#[napi]
pub fn settle<'env>(
    env: &'env Env,
    record: Unknown<'_>,
    units: f64,
    state: Unknown<'_>,
    now_ms: f64,
    refund: bool,
) -> Result<Unknown<'env>> {
    let record: KeyRecord = load(record)?;
    let (units, state) = (keyproof::wire::usage_units(units).map_err(core_error)?, load_optional(state)?);
    let settlement = if refund { keyproof::Settlement::Refund } else { keyproof::Settlement::Charge };
    to_js(env, &record.settle(settlement, state, units, instant(now_ms)?))
}

/// Mint options for the key that replaces `record` (same name, owner, scopes …,
/// same lifetime counted from now).
#[napi]
pub fn successor_options<'env>(env: &'env Env, record: Unknown<'_>, now_ms: f64) -> Result<Unknown<'env>> {
    let record: KeyRecord = load(record)?;
    let o = record.successor_options(instant(now_ms)?).map_err(core_error)?;
    to_js(env, &SuccessorView::from(&o))
}

/// The instant an expiry preset (`90d`, `6m` …) names, counted from `now_ms`, as ms.
#[napi]
pub fn expiry_from_preset(preset: String, now_ms: f64) -> Result<f64> {
    let at = keyproof::expiry_from_preset(&preset, instant(now_ms)?).map_err(core_error)?;
    Ok(keyproof::wire::instant_to_ms(at))
}

/// The fingerprint of a stored hash.
#[napi]
pub fn fingerprint(stored_hash: String) -> String {
    keyproof::fingerprint(&stored_hash)
}

/// Whether a lookup value is a record id (an access token's key) rather than a storage hash.
#[napi]
pub fn is_record_id(lookup: String) -> bool {
    keyproof::ids::is_record_id(&lookup)
}

/// One error code of the catalogue.
#[napi(object)]
pub struct ErrorCode {
    /// Stable snake_case code.
    pub code: String,
    /// Its family (`key_format`, `credential`, `authentication`, …).
    pub family: String,
    /// What the code means.
    pub description: String,
}

/// Every error code with its family, in catalogue order.
#[napi]
pub fn error_codes() -> Vec<ErrorCode> {
    keyproof::wire::error_codes()
        .into_iter()
        .map(|e| ErrorCode { code: e.code.into(), family: e.family.into(), description: e.description.into() })
        .collect()
}

/// Compare-and-set attempts before a write gives up (core's: each lost race is another writer's progress).
#[napi]
pub fn max_write_tries() -> u32 {
    keyproof::MAX_WRITE_TRIES
}

/// The pub/sub channel on which record caches announce a changed key (core's).
#[napi]
pub fn record_cache_channel() -> String {
    keyproof::cache::RECORD_CACHE_CHANNEL.to_string()
}

/// The Redis / Valkey compare-and-set script of shared rate-limit stores (core's).
#[napi]
pub fn rate_store_script() -> String {
    shared_store::COMPARE_AND_SET_SCRIPT.to_string()
}

/// The key prefix of every bucket unless the host picks another (core's).
#[napi]
pub fn rate_store_prefix() -> String {
    shared_store::DEFAULT_KEY_PREFIX.to_string()
}

/// The store key of core's bucket `<key id>:<class>` under `prefix` (default `keyproof:rl:`).
#[napi]
pub fn rate_store_key(bucket: String, prefix: Option<String>) -> String {
    shared_store::store_key(&bucket, prefix.as_deref().unwrap_or(shared_store::DEFAULT_KEY_PREFIX))
}

/// The stored text of a state (`{tat_us}` or `null`), `''` for none.
#[napi]
pub fn rate_state_text(state: Unknown<'_>) -> Result<String> {
    Ok(shared_store::state_text(load_optional(state)?))
}

/// A stored text as a state `{tat_us}`, or `null` when it is not one in canonical form.
#[napi]
pub fn parse_rate_state_text<'env>(env: &'env Env, raw: String) -> Result<Unknown<'env>> {
    to_js(env, &shared_store::parse_state_text(&raw))
}
