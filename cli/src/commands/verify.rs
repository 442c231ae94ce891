//! `verify`: judge one HTTP request with the core engine against the store,
//! keeping rate-limit state in the store between runs.

use std::path::Path;

use chrono::{DateTime, Utc};
use keyproof::{
    Decision, Engine, EngineConfig, KeyRecord, Policy, RateLimitDecision, RateLimitState, Request, Settlement, Step,
};
use serde_json::Value;

use crate::args::VerifyArgs;
use crate::context::{read_file, read_input, Ctx, PEPPER_ENV};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::store::Store;

const RATE_PREFIX: &str = "ratelimit:";

/// Builds the engine from a policy file: either a full engine config
/// (`{"formats": …, "hashing": …, "policy": …}`) or a bare policy, which then
/// accepts every known format (presets, --formats, formats saved in the store).
pub fn engine(ctx: &Ctx, store: &Store, path: &Path) -> CliResult<Engine> {
    let text = read_file(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::new(Exit::Usage, "invalid_policy", format!("{} is not valid JSON: {e}", path.display()))
    })?;
    let pepper = std::env::var_os(PEPPER_ENV).filter(|p| !p.is_empty()).map(|p| p.into_encoded_bytes());
    if value.get("formats").is_some() {
        let config = EngineConfig::from_json(&text)?;
        return Ok(Engine::from_config(config, pepper.as_deref())?);
    }
    let policy = Policy::from_json(&text)?;
    Ok(Engine::new(ctx.format_set(&store.formats()?)?, ctx.hasher()?, policy)?)
}

/// Drives core's verification step against the store in one write
/// transaction: records by hash, rate-limit and usage state by key, then the
/// writes the step asks for (new states, a finished hash migration).
pub fn evaluate(
    engine: &Engine,
    store: &mut Store,
    request: &Request,
    now: DateTime<Utc>,
) -> CliResult<(Decision, Option<KeyRecord>)> {
    let tx = store.write()?;
    let mut step = engine.begin_request(request, now);
    let mut found = None;
    loop {
        match step.next_step() {
            // An access token under confirm_record is looked up by key id.
            Step::LookupRecord(id) if keyproof::ids::is_record_id(id) => {
                found = if tx.exists(id)? { Some(tx.get(id)?) } else { None };
                step.record(found.clone());
            }
            Step::LookupRecord(hash) => {
                found = tx.find_by_hashes(&[hash.to_string()])?;
                step.record(found.clone());
            }
            Step::LoadRateState(key) => {
                let state = stored_state(key, tx.kv_get(&format!("{RATE_PREFIX}{key}"))?)?;
                step.rate_state(state);
            }
            Step::Done => break,
        }
    }
    let outcome = step.finish();
    // One write transaction: no other request wrote in between, so no compare-and-set.
    for write in [&outcome.rate_write, &outcome.usage_write].into_iter().flatten() {
        tx.kv_set(&format!("{RATE_PREFIX}{}", write.key), &write.new.to_json())?;
    }
    if let Some(upgraded) = &outcome.upgraded_record {
        tx.update(upgraded)?;
    }
    tx.commit()?;
    Ok((outcome.decision, found))
}

/// A rate-limit or usage state as `verify` stored it under `key`.
fn stored_state(key: &str, json: Option<String>) -> CliResult<Option<RateLimitState>> {
    json.map(|json| RateLimitState::from_json(&json))
        .transpose()
        .map_err(|e| CliError::store(format!("corrupt rate-limit state for {key}: {}", e.message())))
}

/// What `record` has left of its usage limit at `now`, from the counter `verify` keeps.
pub fn stored_usage(store: &Store, record: &KeyRecord, now: DateTime<Utc>) -> CliResult<Option<RateLimitDecision>> {
    let Some(counter) = record.usage(None, now) else { return Ok(None) };
    let state = stored_state(&counter.key, store.kv_get(&format!("{RATE_PREFIX}{}", counter.key))?)?;
    Ok(record.usage(state, now))
}

/// `keyproof charge` / `refund`: core's settlement against the counter `verify` keeps, in one write transaction.
pub fn settle(ctx: &Ctx, id: &str, units: u32, settlement: Settlement) -> CliResult {
    keyproof::ids::validate_id(id)?;
    let mut store = ctx.open_store()?;
    let tx = store.write()?;
    let record = tx.get(id)?;
    let Some(counter) = record.usage(None, ctx.now) else {
        return Err(CliError::usage(format!("key {id} has no usage limit to charge")));
    };
    let state = stored_state(&counter.key, tx.kv_get(&format!("{RATE_PREFIX}{}", counter.key))?)?;
    let charged =
        record.settle(settlement, state, units, ctx.now).ok_or_else(|| CliError::store("the usage limit vanished"))?;
    if let Some(w) = &charged.write {
        tx.kv_set(&format!("{RATE_PREFIX}{}", w.key), &w.new.to_json())?;
    }
    tx.commit()?;
    if ctx.json {
        output::json(&serde_json::to_value(&charged).unwrap_or_default());
    } else {
        let (o, applied) = (charged.usage.outcome, units.saturating_sub(charged.unpaid));
        let (unpaid, left, limit) = (charged.unpaid, o.remaining, o.limit);
        let done = if settlement == Settlement::Refund { "refunded" } else { "charged" };
        output::out(&format!("{done} {applied} of {units} units ({unpaid} unpaid); {left} of {limit} left\n"));
    }
    Ok(Exit::Ok)
}

/// Parses `Name: value`.
fn parse_header(text: &str) -> CliResult<(String, String)> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| CliError::usage("headers look like 'Name: value' (missing ':')".to_string()))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)) {
        return Err(CliError::usage("a header name is empty or not an HTTP token"));
    }
    Ok((name.to_string(), value.trim_start_matches([' ', '\t']).to_string()))
}

/// The decision as JSON (the core's decision shape; the body parsed when possible).
pub fn decision_json(decision: &Decision) -> Value {
    let mut value: Value = serde_json::from_str(&decision.to_json()).unwrap_or(Value::Null);
    if let (Some(obj), Some(body)) = (value.as_object_mut(), decision.body.as_deref()) {
        if let Ok(parsed) = serde_json::from_str::<Value>(body) {
            obj.insert("body".into(), parsed);
        }
    }
    value
}

/// `keyproof verify`.
pub fn verify(ctx: &Ctx, args: &VerifyArgs) -> CliResult {
    if !ctx.store.may_exist() {
        return Err(CliError::store(format!(
            "no store at {} (mint a key first, or pass --store)",
            ctx.store.display()
        )));
    }
    let mut headers = args.headers.iter().map(|h| parse_header(h)).collect::<CliResult<Vec<_>>>()?;
    if let Some(source) = &args.headers_from {
        for line in read_input(source)?.lines().filter(|l| !l.trim().is_empty()) {
            headers.push(parse_header(line)?);
        }
    }
    let mut store = ctx.open_store()?;
    let engine = engine(ctx, &store, &args.policy)?;
    let request = Request {
        method: args.method.clone(),
        path: args.path.clone(),
        headers,
        client_ip: args.ip.clone(),
        usage_cost: args.usage_cost,
    };
    let (decision, record) = evaluate(&engine, &mut store, &request, ctx.now)?;
    if ctx.json {
        output::json(&decision_json(&decision));
    } else {
        let verdict = if decision.allowed { "ALLOWED" } else { "DENIED" };
        let code = if decision.code == decision.public_code {
            decision.code.to_string()
        } else {
            format!("{} ({})", decision.public_code, decision.code)
        };
        let mut text = format!("{verdict} {} {code}\n", decision.status);
        let key = record.as_ref().map(|r| format!("{} ({}, {})", r.id, r.name, r.preview)).unwrap_or_default();
        let warnings: Vec<&str> = decision.warnings.iter().map(|w| w.code()).collect();
        let detail = if decision.allowed { String::new() } else { decision.detail.clone() };
        text.push_str(&output::fields(&[("key", key), ("detail", detail), ("warnings", warnings.join(" "))]));
        for (name, value) in &decision.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        if let Some(body) = &decision.body {
            text.push_str(&format!("\n{body}\n"));
        }
        output::out(&text);
    }
    Ok(if decision.allowed { Exit::Ok } else { Exit::Found })
}
