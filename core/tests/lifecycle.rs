//! Record lifecycle in core: rotate / revoke / disable / enable / update, their
//! refusals, overflow safety, and the verification step's write-back contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use keyproof::timestamp::parse_timestamp;
use keyproof::{mint, Engine, IdStyle, KeyRecord, KeyStatus, MintOptions, RateLimitState, RecordUpdate, Step};

fn at(text: &str) -> DateTime<Utc> {
    parse_timestamp(text).unwrap()
}

fn now() -> DateTime<Utc> {
    at("2026-03-18T10:30:00Z")
}

fn engine() -> Engine {
    Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
            "plans": {"starter": {"limit": 60, "burst": 2}}, "default_plan": "starter"}}"#,
    )
    .unwrap()
}

fn minted(options: &str) -> (String, KeyRecord) {
    let e = engine();
    let m = mint(
        e.formats().get("matchii_live").unwrap(),
        e.hasher(),
        &MintOptions::from_json(options).unwrap(),
        &[9; 32],
        now() - Duration::days(10),
    )
    .unwrap();
    (m.key.expose().to_string(), m.record)
}

fn record() -> KeyRecord {
    minted(r#"{"name": "Lifecycle key", "id_style": {"style": "prefixed"}, "scopes": ["briefs:read"], "expires_in": "90d"}"#)
        .1
}

fn code<T: std::fmt::Debug>(r: keyproof::Result<T>) -> &'static str {
    r.err().map_or("ok", |e| e.code())
}

#[test]
fn prefixed_ids_default_to_key_and_eight_hex() {
    let r = record();
    assert!(r.id.starts_with("key_") && r.id.len() == 12, "{}", r.id);
    assert_eq!(IdStyle::of(&r.id), IdStyle::Prefixed { prefix: "key_".into(), hex_length: 8 });
    assert_eq!(IdStyle::of("9904cf92-2202-48c0-a751-a9724e32c98e"), IdStyle::Uuid);
}

#[test]
fn rotation_refuses_revoked_disabled_and_rotated_keys() {
    let mut revoked = record();
    revoked.revoke(now()).unwrap();
    assert_eq!(code(revoked.rotate("key_00000001", now(), Duration::hours(24))), "invalid_transition");
    let mut disabled = record();
    assert!(disabled.disable(now()).unwrap());
    assert_eq!(code(disabled.rotate("key_00000001", now(), Duration::hours(24))), "invalid_transition");
    let mut rotated = record();
    rotated.rotate("key_00000001", now(), Duration::hours(24)).unwrap();
    assert_eq!(rotated.rotation.as_ref().unwrap().grace_until, now() + Duration::hours(24));
    assert_eq!(code(rotated.rotate("key_00000002", now(), Duration::hours(24))), "invalid_transition");
    assert_eq!(code(record().rotate("bad id", now(), Duration::hours(1))), "invalid_id");
}

#[test]
fn rotation_grace_overflow_is_an_error_not_a_panic() {
    let mut r = record();
    assert_eq!(code(r.rotate("key_00000001", now(), Duration::days(999_999_999))), "invalid_timestamp");
    assert_eq!(code(r.rotate("key_00000001", now(), Duration::MAX)), "invalid_timestamp");
    assert!(r.rotation.is_none(), "a refused rotation changes nothing");
    let late = DateTime::<Utc>::MAX_UTC;
    assert_eq!(code(r.rotate("key_00000001", late, Duration::hours(1))), "invalid_timestamp");
    assert_eq!(code(r.rotate("key_00000001", now(), Duration::hours(-1))), "invalid_transition");
}

#[test]
fn disable_enable_revoke_rules() {
    let mut r = record();
    assert!(!r.enable(now()).unwrap(), "enabling an active key changes nothing");
    assert!(r.disable(now()).unwrap());
    assert!(!r.disable(now()).unwrap());
    assert_eq!(r.status, KeyStatus::Disabled);
    assert!(r.enable(now()).unwrap());
    assert!(r.revoke(now()).unwrap());
    assert!(!r.revoke(now()).unwrap());
    assert_eq!(code(r.disable(now())), "invalid_transition");
    assert_eq!(code(r.enable(now())), "invalid_transition");
    assert_eq!(r.revoked_at, Some(now()));
}

#[test]
fn successor_keeps_id_style_lifetime_and_grants() {
    let r = record();
    let later = now() + Duration::days(5);
    let options = r.successor_options(later).unwrap();
    assert_eq!(options.id_style, IdStyle::of(&r.id));
    assert_eq!(options.scopes, r.scopes);
    assert_eq!(options.name, r.name);
    let lifetime = r.expires_at.unwrap() - r.created_at;
    assert_eq!(options.expires_at, Some(later + lifetime));
}

#[test]
fn update_validates_every_field_and_bumps_updated_at() {
    let mut r = record();
    let before = r.clone();
    let update = |json: &str| RecordUpdate::from_json(json).unwrap();
    for (json, expect) in [
        (r#"{"name": "  padded"}"#, "invalid_name"),
        (r#"{"scopes": ["has space"]}"#, "invalid_scope"),
        (r#"{"allowed_ips": ["203.0.113.0/33"]}"#, "invalid_cidr"),
        (r#"{"client_id": "not an id"}"#, "invalid_id"),
    ] {
        assert_eq!(code(r.update(&update(json), now())), expect, "{json}");
        assert_eq!(r, before, "a refused update changes nothing");
    }
    assert_eq!(code(RecordUpdate::from_json(r#"{"expires_at": "+10000-01-01T00:00:00"}"#)), "invalid_timestamp");
    assert_eq!(code(RecordUpdate::from_json(r#"{"colour": "red"}"#)), "invalid_record");
    let seed001 = update(r#"{"allowed_ips": ["203.0.113.0/24", "198.51.100.4/32"], "name": "Renamed", "role": null}"#);
    assert!(r.update(&seed001, now()).unwrap());
    assert_eq!(r.allowed_ips.len(), 2);
    assert_eq!(r.name, "Renamed");
    assert_eq!(r.updated_at, now());
    assert!(!r.update(&seed001, now() + Duration::hours(1)).unwrap(), "the same update again changes nothing");
    assert_eq!(r.updated_at, now());
    assert!(r.update(&update(r#"{"expires_at": null, "plan": "pro"}"#), now()).unwrap());
    assert_eq!((r.expires_at, r.plan.as_deref()), (None, Some("pro")));
    r.revoke(now()).unwrap();
    assert_eq!(code(r.update(&update(r#"{"name": "Again"}"#), now())), "invalid_transition");
}

#[test]
fn mint_accepts_a_caller_supplied_id() {
    let (_, r) = minted(r#"{"name": "Initialised first", "id": "9904cf92-2202-48c0-a751-a9724e32c98e"}"#);
    assert_eq!(r.id, "9904cf92-2202-48c0-a751-a9724e32c98e");
    let e = engine();
    let bad = mint(
        e.formats().get("matchii_live").unwrap(),
        e.hasher(),
        &MintOptions::from_json(r#"{"name": "Bad id", "id": "no spaces allowed"}"#).unwrap(),
        &[9; 32],
        now(),
    );
    assert_eq!(code(bad), "invalid_id");
}

/// Drives the step with an explicit state, as a host would.
fn run(engine: &Engine, key: &str, record: &KeyRecord, state: Option<RateLimitState>) -> keyproof::Verification {
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now());
    loop {
        match v.next_step() {
            Step::LookupRecord(hash) => v.record((hash == record.hash).then(|| record.clone())),
            Step::LoadRateState(_) => v.rate_state(state),
            Step::Done => return v,
        }
    }
}

#[test]
fn step_recomputes_after_a_lost_compare_and_set() {
    let e = engine();
    let (key, record) = minted(r#"{"name": "Step key", "scopes": ["briefs:read"]}"#);
    let mut v = run(&e, &key, &record, None);
    let first = v.rate_write().unwrap();
    assert_eq!((first.key.as_str(), first.expected), (format!("{}:default", record.id).as_str(), None));
    // Another instance spent the whole burst meanwhile: the host reads again and retries.
    let full = RateLimitState { tat_us: now().timestamp_micros() + 2_000_000 };
    v.rate_state(Some(full));
    assert!(v.rate_write().is_none(), "a denied request writes nothing");
    let outcome = v.finish();
    assert_eq!((outcome.decision.status, outcome.decision.code), (429, "rate_limited"));
    assert!(outcome.rate_write.is_none());
}

#[test]
fn step_asks_every_lookup_hash_then_denies_unknown_keys() {
    let e = engine();
    let (key, _) = minted(r#"{"name": "Unknown key"}"#);
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut v = e.begin("GET", "/v1/briefs", &headers, None, now());
    let mut asked = 0;
    while let Step::LookupRecord(_) = v.next_step() {
        asked += 1;
        v.record(None);
    }
    assert_eq!(asked, v.prepared().lookup_hashes().len());
    let outcome = v.finish();
    assert_eq!((outcome.decision.status, outcome.decision.code), (401, "unknown_key"));
    // A malformed credential needs no lookup at all.
    let v = e.begin("GET", "/v1/briefs", &[("Authorization", "Bearer mk_live_short")], None, now());
    assert_eq!(v.next_step(), Step::Done);
    assert_eq!(v.finish().decision.code, "wrong_length");
}

#[test]
fn grace_periods_parse_one_way_for_every_host() {
    let parse = keyproof::lifecycle::parse_grace;
    assert_eq!(parse("24h").unwrap(), Duration::hours(24));
    assert_eq!(parse("0").unwrap(), Duration::zero());
    assert_eq!(parse("2w").unwrap(), Duration::weeks(2));
    assert_eq!(parse("90s").unwrap(), Duration::seconds(90));
    for bad in ["", "h", "24", "24x", "-1h", "1.5h", "9999999h", "367d", "forever"] {
        assert_eq!(code(parse(bad)), "invalid_transition", "{bad:?}");
    }
}

/// Fuzz findings F1/F2 (fuzz/artifacts-found/README.md): every operation
/// leaves a record that loads back, whatever the host's clock says.
#[test]
fn clocks_out_of_range_are_refused_and_nothing_changes() {
    for clock in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC, at("9999-12-31T23:59:59Z") + Duration::seconds(1)]
    {
        let before = record();
        let mut r = before.clone();
        assert_eq!(code(r.revoke(clock)), "invalid_timestamp");
        assert_eq!(code(r.disable(clock)), "invalid_timestamp");
        assert_eq!(code(r.rotate("key_5ucce550", clock, Duration::zero())), "invalid_timestamp");
        assert_eq!(
            code(r.update(&RecordUpdate::from_json(r#"{"name": "Renamed"}"#).unwrap(), clock)),
            "invalid_timestamp"
        );
        assert_eq!(r, before, "a refused operation changes nothing");
        r.disable(now()).unwrap();
        assert_eq!(code(r.enable(clock)), "invalid_timestamp");
        let e = engine();
        let minting = mint(
            e.formats().get("matchii_live").unwrap(),
            e.hasher(),
            &MintOptions::from_json(r#"{"name": "Production key"}"#).unwrap(),
            &[9; 32],
            clock,
        );
        assert_eq!(code(minting), "invalid_timestamp");
    }
}

#[test]
fn rotating_with_a_clock_behind_created_at_keeps_the_record_loadable() {
    let mut r = record();
    r.rotate("key_5ucce550", r.created_at - Duration::days(1), Duration::hours(24)).unwrap();
    assert_eq!(r.updated_at, r.created_at);
    KeyRecord::from_json(&r.to_json()).unwrap();
}

#[test]
fn records_holding_instants_past_9999_do_not_validate() {
    let mut r = record();
    r.expires_at = Some(DateTime::<Utc>::MAX_UTC);
    assert_eq!(code(r.validate()), "invalid_timestamp");
}

#[test]
fn rotate_with_successor_mints_the_replacement_and_rotates_with_the_policy_grace() {
    let e = engine();
    let mut old = record();
    let minted = e.rotate_with_successor(&mut old, None, &[7; 32], now()).unwrap();
    let rotation = old.rotation.clone().unwrap();
    assert_eq!(rotation.replaced_by.as_deref(), Some(minted.record.id.as_str()));
    assert_eq!(rotation.grace_until, now() + e.policy().rotation_grace());
    assert_eq!((&minted.record.scopes, &minted.record.format), (&old.scopes, &old.format));
    assert_eq!(minted.record.expires_at.map(|t| t - now()), old.expires_at.map(|t| t - old.created_at));
    // A second rotation is refused and changes nothing.
    let before = old.clone();
    assert_eq!(
        code(e.rotate_with_successor(&mut old, Some(Duration::hours(1)), &[8; 32], now())),
        "invalid_transition"
    );
    assert_eq!(old, before);
    let mut revoked = record();
    revoked.revoke(now()).unwrap();
    assert_eq!(code(e.rotate_with_successor(&mut revoked, None, &[7; 32], now())), "invalid_transition");
}

#[test]
fn own_quotas_are_checked_updated_and_kept_by_the_successor() {
    let (_, r) = minted(r#"{"name": "Quota key", "rate_limits": {"default": {"limit": 5, "burst": 5}}}"#);
    assert_eq!(r.rate_limits["default"].burst, 5);
    assert_eq!(r.successor_options(now()).unwrap().rate_limits, r.rate_limits);
    let bad_class =
        MintOptions::from_json(r#"{"name": "Bad", "rate_limits": {"no spaces": {"limit": 1, "burst": 1}}}"#);
    let e = engine();
    let format = e.formats().get("matchii_live").unwrap();
    assert_eq!(code(mint(format, e.hasher(), &bad_class.unwrap(), &[1; 32], now())), "invalid_quota");
    let zero = MintOptions::from_json(r#"{"name": "Bad", "rate_limits": {"default": {"limit": 1, "burst": 0}}}"#);
    assert_eq!(code(mint(format, e.hasher(), &zero.unwrap(), &[1; 32], now())), "invalid_quota");

    let mut changed = r.clone();
    let update = RecordUpdate::from_json(r#"{"rate_limits": {"heavy": {"limit": 1, "burst": 1}}}"#).unwrap();
    assert!(changed.update(&update, now()).unwrap());
    assert_eq!(changed.rate_limits.keys().collect::<Vec<_>>(), ["heavy"]);
    let refused = RecordUpdate::from_json(r#"{"rate_limits": {"": {"limit": 1, "burst": 1}}}"#).unwrap();
    assert_eq!(code(changed.clone().update(&refused, now())), "invalid_quota");
    let cleared = RecordUpdate::from_json(r#"{"rate_limits": {}}"#).unwrap();
    assert!(changed.update(&cleared, now()).unwrap() && changed.rate_limits.is_empty());
    // An empty map is left out of the stored JSON, so records without own quotas read as before.
    assert!(!changed.to_json().contains("rate_limits") && r.to_json().contains("\"rate_limits\""));
}

#[test]
fn the_plan_name_key_is_reserved_for_own_quotas() {
    for policy in [
        r#"{"plans": {"key": {"limit": 1, "burst": 1}}}"#,
        r#"{"plans": {"a": {"limit": 1, "burst": 1}}, "rate_limit_classes": {"heavy": {"key": {"limit": 1, "burst": 1}}}}"#,
    ] {
        let config = format!(r#"{{"formats": ["matchii_live"], "policy": {policy}}}"#);
        assert_eq!(code(Engine::from_json(&config)), "invalid_policy", "{policy}");
    }
}
