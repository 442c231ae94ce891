use chrono::{DateTime, Utc};

use super::{Action, Completion, MAX_WRITE_TRIES};
use crate::{mint, Engine, Hasher, KeyRecord, MintOptions, RateLimitState, RateStoreFailure};

const PEPPER: &str = "6b657970726f6f662d746573742d7065707065722d33322d62797465732d2121";

fn engine() -> Engine {
    Engine::from_json(&format!(
        r#"{{"formats": ["matchii_live"], "hashing": {{"algorithm": "hmac-sha256", "pepper_hex": "{PEPPER}"}},
        "policy": {{"routes": [{{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}}],
        "plans": {{"starter": {{"limit": 60, "burst": 10}}}}, "default_plan": "starter"}}}}"#
    ))
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_773_829_800, 0).unwrap()
}

/// A key minted under plain SHA-256 (so the peppered engine upgrades it) and its request.
fn request(engine: &Engine) -> (Completion, KeyRecord) {
    let options = MintOptions::from_json(r#"{"name": "Completed", "scopes": ["briefs:read"]}"#).unwrap();
    let format = engine.formats().get("matchii_live").unwrap();
    let minted = mint(format, &Hasher::default(), &options, &[7; 32], now()).unwrap();
    let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];
    (Completion::new(engine.begin("GET", "/v1/briefs", &headers, None, now())), minted.record)
}

/// Answers lookups from `record` and state loads with nothing, up to the first compare-and-set.
fn to_the_write(c: &mut Completion, record: &KeyRecord) {
    while !matches!(c.next_action(), Action::CompareAndSet(_)) {
        match c.next_action() {
            Action::LookupRecord(hash) => {
                let found = (record.hash == hash).then(|| record.clone());
                c.record(found);
            }
            _ => c.rate_state(None),
        }
    }
}

/// What the host was asked, in order, answering from `record`; compare-and-sets
/// are lost while `losses` lasts.
fn run(c: &mut Completion, record: &KeyRecord, mut losses: u32) -> Vec<String> {
    let mut asked = Vec::new();
    loop {
        match c.next_action() {
            Action::LookupRecord(hash) => {
                asked.push("lookup".to_string());
                let found = (record.hash == hash).then(|| record.clone());
                c.record(found);
            }
            Action::LoadRateState(_) => {
                asked.push("load".to_string());
                c.rate_state(Some(RateLimitState { tat_us: 1 }));
            }
            Action::CompareAndSet(w) => {
                asked.push(format!("cas expected={:?}", w.expected.map(|s| s.tat_us)));
                let won = losses == 0;
                losses = losses.saturating_sub(1);
                c.written(won);
            }
            Action::SaveRecord(r) => {
                asked.push(format!("save upgraded={}", r.hash.starts_with("hmac-sha256:")));
                c.saved();
            }
            Action::TouchLastUsed { key_id, .. } => {
                asked.push(format!("touch {}", key_id == record.id));
                c.touched();
            }
            Action::CountRequest { key_id } => {
                asked.push(format!("count {}", key_id == record.id));
                c.counted();
            }
            Action::StoreContended => return asked,
            Action::Done(d) => {
                asked.push(format!("done {}", d.status));
                return asked;
            }
        }
    }
}

#[test]
fn writes_then_saves_the_upgrade_then_touches() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    let asked = run(&mut c, &record, 0);
    let expected = ["lookup", "lookup", "load", "cas expected=Some(1)", "save upgraded=true", "touch true", "done 200"];
    assert_eq!(asked, expected);
    let outcome = c.into_outcome().unwrap();
    assert!(outcome.decision.allowed && outcome.upgraded_record.is_some());
}

#[test]
fn a_lost_race_re_reads_and_writes_again() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    let asked = run(&mut c, &record, 2);
    let expected = ["lookup", "lookup", "load", "cas expected=Some(1)", "load", "cas expected=Some(1)", "load"];
    assert_eq!(asked.get(..7), Some(&expected.map(String::from)[..]));
    assert_eq!(
        asked.get(7..),
        Some(&["cas expected=Some(1)", "save upgraded=true", "touch true", "done 200"].map(String::from)[..])
    );
}

#[test]
fn a_store_that_always_refuses_is_reported_after_the_last_try() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    let asked = run(&mut c, &record, u32::MAX);
    let writes = asked.iter().filter(|a| a.starts_with("cas")).count();
    assert_eq!(writes, usize::try_from(MAX_WRITE_TRIES).unwrap());
    assert_eq!(c.next_action(), Action::StoreContended);
    assert!(c.verification().is_some(), "the step waits for the host's answer");
    c.rate_state_unavailable(Some(RateStoreFailure::default()));
    assert!(matches!(c.next_action(), Action::Done(d) if d.code == "rate_limit_unavailable"));
}

#[test]
fn a_host_limit_on_tries_and_a_swap_that_returns_the_winner() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    c.set_max_tries(2);
    assert_eq!(run(&mut c, &record, u32::MAX).iter().filter(|a| a.starts_with("cas")).count(), 2);
    assert!(c.into_outcome().is_none());

    let (mut c, record) = request(&engine);
    to_the_write(&mut c, &record);
    c.lost_to(Some(RateLimitState { tat_us: 5 }));
    match c.next_action() {
        Action::CompareAndSet(w) => assert_eq!(w.expected, Some(RateLimitState { tat_us: 5 }), "no re-read"),
        other => panic!("expected another write, got {other:?}"),
    }
}

#[test]
fn a_store_failure_during_the_write_is_answered_by_core() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    to_the_write(&mut c, &record);
    c.rate_state_unavailable(Some(RateStoreFailure::default()));
    match c.next_action() {
        Action::Done(d) => assert_eq!((d.status, d.code), (503, "rate_limit_unavailable")),
        other => panic!("expected the decision, got {other:?}"),
    }
}

#[test]
fn without_a_quota_the_use_is_still_touched() {
    let engine = Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {
        "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]}}"#,
    )
    .unwrap();
    let (mut c, record) = request(&engine);
    assert_eq!(run(&mut c, &record, 0), ["lookup", "touch true", "done 200"]);
}

#[test]
fn an_unknown_key_is_decided_without_writes() {
    let engine = engine();
    let (mut c, mut record) = request(&engine);
    record.hash = "sha256:unknown".to_string();
    assert_eq!(run(&mut c, &record, 0), ["lookup", "lookup", "done 401"]);
}

#[test]
fn drive_answers_through_closures_and_stops_where_the_host_breaks() {
    use std::ops::ControlFlow;
    let engine = engine();
    let (mut c, record) = request(&engine);
    let mut acted = Vec::new();
    let found = |hash: &str| ControlFlow::Continue((record.hash == hash).then(|| record.clone()));
    let stopped = c.drive(
        found,
        |_| ControlFlow::Continue(None),
        |action| match action {
            Action::SaveRecord(_) => ControlFlow::Break("save later"),
            other => {
                acted.push(format!("{other:?}").split('(').next().unwrap_or_default().to_string());
                ControlFlow::Continue(true)
            }
        },
    );
    assert_eq!(stopped, ControlFlow::Break("save later"));
    assert_eq!(acted, ["CompareAndSet"]);
    assert!(matches!(c.next_action(), Action::SaveRecord(_)), "the stopped action stays open");
    c.saved();
    let done = c.drive(
        |_| ControlFlow::<_, Option<KeyRecord>>::Break("no"),
        |_| ControlFlow::Break("no"),
        |_| ControlFlow::Continue(true),
    );
    assert_eq!(done, ControlFlow::Continue(()));
    assert!(matches!(c.next_action(), Action::Done(d) if d.status == 200));
}

#[test]
fn a_host_that_keeps_no_records_is_not_asked_to_save_or_touch() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    c.set_host_writes(false, false);
    assert_eq!(run(&mut c, &record, 0), ["lookup", "lookup", "load", "cas expected=Some(1)", "done 200"]);
    let outcome = c.into_outcome().unwrap();
    assert!(outcome.upgraded_record.is_some() && outcome.touch_last_used.is_some(), "still in the outcome");
}

#[test]
fn a_host_that_counts_is_asked_once_per_allowed_request_last() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    c.set_host_counts(true);
    let asked = run(&mut c, &record, 0);
    let expected = [
        "lookup",
        "lookup",
        "load",
        "cas expected=Some(1)",
        "save upgraded=true",
        "touch true",
        "count true",
        "done 200",
    ];
    assert_eq!(asked, expected);
    // Answered out of turn, a count does not skip the save or the touch.
    let (mut early, record) = request(&engine);
    early.set_host_counts(true);
    to_the_write(&mut early, &record);
    early.written(true);
    early.counted();
    assert!(matches!(early.next_action(), Action::SaveRecord(_)));
}

#[test]
fn denied_requests_are_not_counted() {
    let engine = engine();
    let (mut c, mut record) = request(&engine);
    c.set_host_counts(true);
    record.scopes = vec!["other:read".to_string()];
    assert_eq!(run(&mut c, &record, 0), ["lookup", "lookup", "done 403"]);
    let (mut unknown, mut record) = request(&engine);
    unknown.set_host_counts(true);
    record.hash = "sha256:unknown".to_string();
    assert_eq!(run(&mut unknown, &record, 0), ["lookup", "lookup", "done 401"]);
}

#[test]
fn a_host_that_does_not_count_is_never_asked() {
    let engine = engine();
    let (mut c, record) = request(&engine);
    let asked = run(&mut c, &record, 0);
    assert!(!asked.iter().any(|a| a.starts_with("count")), "{asked:?}");
    assert_eq!(asked.last().map(String::as_str), Some("done 200"));
}
