//! When the host's rate-limit store fails, core answers: fail-closed is a 503
//! `rate_limit_unavailable` rendered like every denial, fail-open is the allowed
//! decision without rate-limit headers plus a warning; nothing is written either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, Utc};
use keyproof::{mint, Engine, ErrorKind, KeyRecord, MintOptions, Outcome, RateLimitState, RateStoreFailure, Step};

const BODY: &str = r#"{"code":"rate_limit_unavailable","detail":"The rate limit could not be checked.","retry_after":1,"status":503,"title":"Service unavailable","type":"https://keyproof.dev/problems/rate_limit_unavailable"}"#;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_773_829_800, 0).unwrap()
}

fn engine(extra: &str) -> Engine {
    Engine::from_json(&format!(
        r#"{{"formats": ["matchii_live"], "policy": {{
            "routes": [{{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}}],
            "plans": {{"starter": {{"limit": 60, "burst": 10}}}}, "default_plan": "starter"{extra}}}}}"#
    ))
    .unwrap()
}

/// A key and its record (`scopes`: what the key may do; `status`: its status).
fn key(engine: &Engine, scopes: &str) -> (String, KeyRecord) {
    let options = MintOptions::from_json(&format!(r#"{{"name": "Store test", "scopes": {scopes}}}"#)).unwrap();
    let format = engine.formats().get("matchii_live").unwrap();
    let minted = mint(format, engine.hasher(), &options, &[7; 32], now()).unwrap();
    (minted.key.expose().to_string(), minted.record)
}

/// Drives a verification up to the rate-limit step, then reports the store failed.
fn with_failed_store(engine: &Engine, key: &str, record: &KeyRecord, on_error: RateStoreFailure) -> Outcome {
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now());
    loop {
        match v.next_step() {
            Step::LookupRecord(_) => v.record(Some(record.clone())),
            Step::LoadRateState(_) => v.rate_state_unavailable(Some(on_error)),
            Step::Done => break,
        }
    }
    v.finish()
}

fn header<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a str> {
    outcome.decision.header(name)
}

#[test]
fn fail_closed_is_a_503_problem_with_retry_after() {
    let engine = engine("");
    let (key, record) = key(&engine, r#"["briefs:read"]"#);
    let out = with_failed_store(&engine, &key, &record, RateStoreFailure::default());
    let d = &out.decision;
    assert!(!d.allowed);
    assert_eq!((d.status, d.code, d.public_code), (503, "rate_limit_unavailable", "rate_limit_unavailable"));
    assert_eq!(d.kind(), Some(ErrorKind::RateLimitUnavailable));
    let headers: Vec<(&str, &str)> = d.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(
        headers,
        [("Retry-After", "1"), ("Cache-Control", "no-store"), ("Content-Type", "application/problem+json")]
    );
    assert_eq!(d.body.as_deref(), Some(BODY));
    assert!(d.principal.is_none() && d.rate_limit.is_none() && d.warnings.is_empty());
    assert!(d.detail.contains("rate-limit store"), "{}", d.detail);
    assert!(out.rate_write.is_none() && out.upgraded_record.is_none() && out.touch_last_used.is_none());
}

#[test]
fn fail_closed_uses_the_retry_seconds_problem_base_and_status_override() {
    let engine =
        engine(r#", "problem_base": "https://ex.test/p/", "status_overrides": {"rate_limit_unavailable": 429}"#);
    let (key, record) = key(&engine, r#"["briefs:read"]"#);
    let out = with_failed_store(&engine, &key, &record, RateStoreFailure::FailClosed { retry_after_seconds: 7 });
    assert_eq!(out.decision.status, 429);
    assert_eq!(header(&out, "Retry-After"), Some("7"));
    let body: serde_json::Value = serde_json::from_str(out.decision.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["type"], "https://ex.test/p/rate_limit_unavailable");
    assert_eq!((body["status"].as_u64(), body["retry_after"].as_u64()), (Some(429), Some(7)));
    assert!(header(&out, "WWW-Authenticate").is_none());
}

#[test]
fn fail_open_allows_uncounted_with_a_warning() {
    let engine = engine("");
    let (key, record) = key(&engine, r#"["briefs:read"]"#);
    let out = with_failed_store(&engine, &key, &record, RateStoreFailure::FailOpen);
    let d = &out.decision;
    assert!(d.allowed);
    assert_eq!((d.status, d.code), (200, "ok"));
    assert!(d.headers.iter().all(|(n, _)| !n.to_ascii_lowercase().contains("ratelimit") && n != "Retry-After"));
    let warnings = serde_json::to_value(&d.warnings).unwrap();
    assert_eq!(warnings, serde_json::json!([{"code": "rate_limit_unavailable"}]));
    assert!(d.rate_limit.is_none());
    assert_eq!(d.principal.as_ref().map(|p| p.key_id()), Some(record.id.as_str()));
    assert!(out.rate_write.is_none());
    assert_eq!(out.touch_last_used, Some(now()), "an allowed request still records its use");
}

#[test]
fn a_lost_compare_and_set_can_end_in_the_failure_answer() {
    let engine = engine("");
    let (key, record) = key(&engine, r#"["briefs:read"]"#);
    for (on_error, status) in [(RateStoreFailure::default(), 503), (RateStoreFailure::FailOpen, 200)] {
        let headers = [("Authorization", format!("Bearer {key}"))];
        let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now());
        v.record(Some(record.clone()));
        v.rate_state(None);
        assert!(v.rate_write().is_some(), "a write is pending");
        v.rate_state(Some(RateLimitState { tat_us: now().timestamp_micros() })); // lost a race
        v.rate_state_unavailable(Some(on_error)); // and the retry failed
        assert!(v.rate_write().is_none());
        let out = v.finish();
        assert_eq!(out.decision.status, status);
        assert!(out.rate_write.is_none());
    }
}

#[test]
fn another_denial_stays_that_denial() {
    let engine = engine("");
    let (key, record) = key(&engine, r#"["matches:read"]"#); // lacks briefs:read
    let out = with_failed_store(&engine, &key, &record, RateStoreFailure::default());
    assert_eq!((out.decision.status, out.decision.code), (403, "insufficient_scope"));
    // Reported before the record is known, the failure is ignored too.
    let (key, record) = key_ok(&engine);
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now());
    v.rate_state_unavailable(Some(RateStoreFailure::default()));
    assert!(matches!(v.next_step(), Step::LookupRecord(_)));
    v.record(Some(record));
    v.rate_state(None);
    assert_eq!(v.finish().decision.status, 200);
}

fn key_ok(engine: &Engine) -> (String, KeyRecord) {
    key(engine, r#"["briefs:read"]"#)
}

#[test]
fn failure_options_load_from_json_and_host_strings() {
    assert_eq!(RateStoreFailure::from_json(r#"{"on_error": "fail_open"}"#).unwrap(), RateStoreFailure::FailOpen);
    assert_eq!(RateStoreFailure::from_json(r#"{"on_error": "fail_closed"}"#).unwrap(), RateStoreFailure::default());
    assert_eq!(
        RateStoreFailure::from_json(r#"{"on_error": "fail_closed", "retry_after_seconds": 30}"#).unwrap(),
        RateStoreFailure::FailClosed { retry_after_seconds: 30 }
    );
    for bad in [
        r#"{"on_error": "ignore"}"#,
        r#"{"on_error": "fail_closed", "retry_after_seconds": 0}"#,
        r#"{"on_error": "fail_closed", "retry_after": 3}"#,
        r#"{}"#,
    ] {
        assert_eq!(RateStoreFailure::from_json(bad).unwrap_err().kind(), ErrorKind::InvalidPolicy, "{bad}");
    }
    assert_eq!(RateStoreFailure::new("fail_open", 1).unwrap(), RateStoreFailure::FailOpen);
    assert_eq!(
        RateStoreFailure::new("fail_closed", 5).unwrap(),
        RateStoreFailure::FailClosed { retry_after_seconds: 5 }
    );
    assert!(RateStoreFailure::new("fail_closed", 0).is_err());
    let e = RateStoreFailure::new("open", 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidPolicy);
    assert!(e.message().contains("on_error"));
}
