//! Usage limits through core's whole host loop: two counters written in order,
//! a lost race on the usage counter, rotation and updates keeping the counter,
//! the reserved plan name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use keyproof::timestamp::parse_timestamp;
use keyproof::{mint, Action, Completion, Engine, KeyRecord, MintOptions, RateLimitState, RecordUpdate};

fn now() -> DateTime<Utc> {
    parse_timestamp("2026-03-18T10:30:00Z").unwrap()
}

fn engine() -> Engine {
    Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
            "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#,
    )
    .unwrap()
}

fn minted(engine: &Engine, usage: &str) -> (String, KeyRecord) {
    let options = format!(r#"{{"name": "Usage key", "scopes": ["briefs:read"], "usage_limit": {usage}}}"#);
    let format = engine.formats().get("matchii_live").unwrap();
    let m = mint(format, engine.hasher(), &MintOptions::from_json(&options).unwrap(), &[5; 32], now()).unwrap();
    (m.key.expose().to_string(), m.record)
}

type Store = std::collections::HashMap<String, RateLimitState>;

/// Core's whole host loop for one request over `store`, the record found for
/// every lookup; `cas(write, store)` does each compare-and-set and answers
/// whether it won. Returns the decision's code.
fn complete(
    c: &mut Completion,
    record: &KeyRecord,
    store: &mut Store,
    mut cas: impl FnMut(&keyproof::RateWrite, &mut Store) -> bool,
) -> &'static str {
    loop {
        match c.next_action() {
            Action::LookupRecord(_) => c.record(Some(record.clone())),
            Action::LoadRateState(k) => {
                let state = store.get(k).copied();
                c.rate_state(state);
            }
            Action::CompareAndSet(w) => {
                let won = cas(w, store);
                c.written(won);
            }
            Action::SaveRecord(_) => c.saved(),
            Action::TouchLastUsed { .. } => c.touched(),
            Action::CountRequest { .. } => c.counted(),
            Action::StoreContended => panic!("contended"),
            Action::Done(d) => return d.code,
        }
    }
}

/// A compare-and-set on the map: stores `new` if the entry is still `expected`.
fn map_cas(w: &keyproof::RateWrite, store: &mut Store) -> bool {
    let won = store.get(&w.key).copied() == w.expected;
    if won {
        store.insert(w.key.clone(), w.new);
    }
    won
}

/// Runs one request; `race` is the usage counter's value another request wrote
/// just before this one's compare-and-set (`None`: no race). Returns the code
/// and the compare-and-sets asked for, as `key expected→new`.
fn run(engine: &Engine, key: &str, record: &KeyRecord, race: Option<i64>) -> (&'static str, Vec<String>) {
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut c = Completion::new(engine.begin("GET", "/v1/briefs", &headers, None, now()));
    let (mut store, mut race, mut asked) = (Store::default(), race, Vec::new());
    let code = complete(&mut c, record, &mut store, |w, store| {
        let kind = if w.key.contains(":usage:") { "usage" } else { "rate" };
        // A counter's state is its period's end (whole seconds) plus the units spent.
        let (units, end) = (|t: i64| t % 1_000_000, |t: i64| t - t % 1_000_000);
        let shown = |t: i64| if kind == "usage" { units(t) } else { t };
        asked.push(format!("{kind} {:?}->{}", w.expected.map(|s| shown(s.tat_us)), shown(w.new.tat_us)));
        if let Some(spent) = race.filter(|_| kind == "usage").and_then(|_| race.take()) {
            store.insert(w.key.clone(), RateLimitState { tat_us: end(w.new.tat_us) + spent });
            return false;
        }
        map_cas(w, store)
    });
    (code, asked)
}

#[test]
fn the_rate_bucket_is_written_then_the_usage_counter() {
    let e = engine();
    let (key, record) = minted(&e, r#"{"limit": 3, "period": "day"}"#);
    let (code, asked) = run(&e, &key, &record, None);
    assert_eq!(code, "ok");
    assert_eq!(asked.len(), 2);
    assert!(asked[0].starts_with("rate None->") && asked[1] == "usage None->1", "{asked:?}");
}

#[test]
fn a_priced_request_spends_its_price_and_a_check_priced_at_0_writes_nothing() {
    let e = engine();
    let (key, record) = minted(&e, r#"{"limit": 10, "period": "month"}"#);
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut store = Store::default();
    let priced = |units: u32, after_lookup: bool, store: &mut Store| {
        let mut v = e.begin("GET", "/v1/briefs", &headers, None, now());
        if after_lookup {
            v.record(Some(record.clone())); // priced once the record is known, before its counter is read
        }
        v.set_usage_cost(units);
        let mut c = Completion::new(v);
        let code = complete(&mut c, &record, store, map_cas);
        let usage = store.iter().find(|(k, _)| k.contains(":usage:")).map(|(_, s)| s.tat_us % 1_000_000);
        (code, usage)
    };
    assert_eq!(priced(0, false, &mut store), ("ok", None), "a check writes no counter");
    assert_eq!(priced(7, true, &mut store), ("ok", Some(7)));
    assert_eq!(priced(4, false, &mut store), ("usage_exceeded", Some(7)));
    assert_eq!(priced(3, true, &mut store), ("ok", Some(10)));
    assert_eq!(priced(0, false, &mut store), ("usage_exceeded", Some(10)), "nothing left: a check fails too");
    // The rate limit kept its route's cost: three allowed requests spent 3 units (1 s each), denials nothing.
    let bucket = store.iter().find(|(k, _)| k.ends_with(":default")).map(|(_, s)| s.tat_us);
    assert_eq!(bucket, Some(now().timestamp_micros() + 3 * 1_000_000));
}

#[test]
fn a_lost_race_on_the_usage_counter_recounts_from_the_stored_value() {
    let e = engine();
    let (key, record) = minted(&e, r#"{"limit": 3}"#);
    // Another request spent 2 meanwhile: this one takes the last unit.
    let (code, asked) = run(&e, &key, &record, Some(2));
    assert_eq!(code, "ok");
    assert_eq!(asked[1..], ["usage None->1".to_string(), "usage Some(2)->3".to_string()]);
    // Another request spent the last unit meanwhile: this one is denied.
    let (code, asked) = run(&e, &key, &record, Some(3));
    assert_eq!((code, asked.len()), ("usage_exceeded", 2), "{asked:?}");
}

#[test]
fn rotation_and_updates_keep_spending_the_same_counter() {
    let e = engine();
    let (_, record) = minted(&e, r#"{"limit": 100, "period": "month"}"#);
    let successor = record.successor_options(now()).unwrap();
    let counter = successor.usage_limit.as_ref().and_then(|u| u.counter.clone());
    assert_eq!(counter.as_deref(), Some(record.id.as_str()));
    let meter =
        |r: &KeyRecord| e.usage_meter(&e.prepare("GET", "/v1/briefs", &[] as &[(&str, &str)], None), r, now(), None);
    let mut next = minted(&e, r#"{"limit": 1}"#).1;
    next.usage_limit = successor.usage_limit.clone();
    assert_eq!(meter(&next).map(|(m, _)| m.key), Some(format!("{}:usage:2026-03", record.id)));
    // A new limit keeps the counter the key spends from; clearing removes the limit.
    let raise = RecordUpdate::from_json(r#"{"usage_limit": {"limit": 500, "period": "month"}}"#).unwrap();
    assert!(next.update(&raise, now()).unwrap());
    assert_eq!(next.usage_limit.as_ref().and_then(|u| u.counter.as_deref()), Some(record.id.as_str()));
    let clear = RecordUpdate::from_json(r#"{"usage_limit": null}"#).unwrap();
    assert!(next.update(&clear, now()).unwrap() && next.usage_limit.is_none() && meter(&next).is_none());
    let later = now() + Duration::days(20);
    assert_eq!(
        e.usage_meter(&e.prepare("GET", "/v1/briefs", &[] as &[(&str, &str)], None), &record, later, None)
            .map(|(m, _)| m.key),
        Some(format!("{}:usage:2026-04", record.id))
    );
}

#[test]
fn bad_usage_limits_and_the_reserved_plan_name_are_refused() {
    let e = engine();
    let format = e.formats().get("matchii_live").unwrap();
    for (usage, code) in [
        (r#"{"limit": 0}"#, "invalid_quota"),
        (r#"{"limit": 5, "period": "fortnight"}"#, "invalid_record"),
        (r#"{"limit": 5, "counter": "sha256:abc"}"#, "invalid_id"),
    ] {
        let options = format!(r#"{{"name": "Bad usage", "usage_limit": {usage}}}"#);
        let got = MintOptions::from_json(&options).and_then(|o| mint(format, e.hasher(), &o, &[1; 32], now()));
        assert_eq!(got.err().map(|e| e.code()), Some(code), "{usage}");
    }
    let config = r#"{"formats": ["matchii_live"], "policy": {"plans": {"usage": {"limit": 1, "burst": 1}}}}"#;
    assert_eq!(Engine::from_json(config).err().map(|e| e.code()), Some("invalid_policy"));
}

#[test]
fn a_keys_remaining_usage_is_read_from_its_counter() {
    let e = engine();
    let (key, record) = minted(&e, r#"{"limit": 3, "period": "month"}"#);
    let fresh = record.usage(None, now()).unwrap();
    assert_eq!(
        (fresh.key.as_str(), fresh.outcome.remaining, fresh.class.as_str()),
        (format!("{}:usage:2026-03", record.id).as_str(), 3, "month")
    );
    // Until 2026-04-01T00:00:00Z. After two requests the stored counter says one unit is left.
    assert_eq!(fresh.outcome.reset_seconds, 13 * 86_400 + 48_600);
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut state = None;
    let spend = |state: &mut Option<RateLimitState>| {
        let mut v = e.begin("GET", "/v1/briefs", &headers, None, now());
        while v.next_step() != keyproof::Step::Done {
            match v.next_step() {
                keyproof::Step::LookupRecord(_) => v.record(Some(record.clone())),
                keyproof::Step::LoadRateState(k) if k.contains(":usage:") => v.rate_state(*state),
                _ => v.rate_state(None),
            }
        }
        *state = v.finish().usage_write.map(|w| w.new);
    };
    spend(&mut state);
    spend(&mut state);
    let left = record.usage(state, now()).unwrap().outcome;
    assert_eq!((left.remaining, left.allowed, left.retry_after_seconds), (1, true, None));
    spend(&mut state);
    let spent = record.usage(state, now()).unwrap().outcome;
    assert_eq!((spent.remaining, spent.allowed, spent.retry_after_seconds), (0, false, Some(13 * 86_400 + 48_600)));
    let (_, unlimited) = minted(&e, "null");
    assert!(unlimited.usage(None, now()).is_none());
}

#[test]
fn a_bucket_recomputed_into_allowing_reads_the_usage_counter_before_deciding() {
    let e = engine();
    let (key, record) = minted(&e, r#"{"limit": 1}"#);
    let spent = record.usage(None, now()).map(|u| RateLimitState { tat_us: u.outcome.state.tat_us + 1 });
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut c = Completion::new(e.begin("GET", "/v1/briefs", &headers, None, now()));
    let (mut asked, mut lost) = (Vec::new(), false);
    let code = loop {
        match c.next_action() {
            Action::LookupRecord(_) => c.record(Some(record.clone())),
            // The bucket first holds a forged far-future state (clamped: denied, repaired by a write) …
            Action::LoadRateState(k) if !k.contains(":usage:") && !lost => {
                asked.push("bucket");
                c.rate_state(Some(RateLimitState { tat_us: now().timestamp_micros() + 10 * 365 * 86_400 * 1_000_000 }));
            }
            // … whose repair loses to a writer that emptied it: now the request passes the bucket.
            Action::CompareAndSet(_) if !lost => {
                lost = true;
                c.written(false);
            }
            Action::LoadRateState(k) if !k.contains(":usage:") => {
                asked.push("bucket again");
                c.rate_state(None);
            }
            Action::LoadRateState(_) => {
                asked.push("usage");
                c.rate_state(spent);
            }
            Action::CompareAndSet(_) => c.written(true),
            Action::SaveRecord(_) => c.saved(),
            Action::TouchLastUsed { .. } => c.touched(),
            Action::CountRequest { .. } => c.counted(),
            Action::StoreContended => panic!("contended"),
            Action::Done(d) => break d.code,
        }
    };
    assert_eq!(asked, ["bucket", "bucket again", "usage"]);
    assert_eq!(code, "usage_exceeded");
}

/// A deployment whose routes cost 1, 2 and 3 units and whose rate limit never binds.
fn costly_engine() -> Engine {
    Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {
            "routes": [
                {"method": "GET", "path": "/v1/c1", "rate_limit": {"class": "default", "cost": 1}},
                {"method": "GET", "path": "/v1/c2", "rate_limit": {"class": "default", "cost": 2}},
                {"method": "GET", "path": "/v1/c3", "rate_limit": {"class": "default", "cost": 3}}],
            "plans": {"big": {"limit": 1000000, "burst": 1000000}}, "default_plan": "big"}}"#,
    )
    .unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Over any sequence of requests with any costs, crossing days, weeks and months, a
    /// request passes exactly when its units still fit in its period's allowance
    /// (an oracle that names periods itself), and each period starts from zero.
    #[test]
    fn a_usage_limit_lets_exactly_its_units_through_per_period(
        limit in 1u32..12,
        period in 0usize..4,
        requests in proptest::collection::vec((1u32..4, 0i64..400_000), 1..40),
    ) {
        let e = costly_engine();
        let usage = [
            r#"{"limit": L}"#,
            r#"{"limit": L, "period": "day"}"#,
            r#"{"limit": L, "period": "month"}"#,
            r#"{"limit": L, "period": "week"}"#,
        ][period]
            .replace('L', &limit.to_string());
        let (key, record) = minted(&e, &usage);
        let headers = [("Authorization", format!("Bearer {key}"))];
        let mut store = Store::default();
        let mut spent: std::collections::HashMap<String, u32> = Default::default();
        let mut at = now();
        for (cost, step) in requests {
            at += Duration::seconds(step);
            let label = match period {
                0 => "total".to_string(),
                1 => at.format("%Y-%m-%d").to_string(),
                2 => at.format("%Y-%m").to_string(),
                _ => at.format("%G-W%V").to_string(),
            };
            let path = format!("/v1/c{cost}");
            let mut c = Completion::new(e.begin("GET", &path, &headers, None, at));
            let code = complete(&mut c, &record, &mut store, map_cas);
            let before = spent.get(&label).copied().unwrap_or(0);
            let fits = before + cost <= limit;
            proptest::prop_assert_eq!(code, if fits { "ok" } else { "usage_exceeded" }, "{} at {}", label, at);
            if fits {
                spent.insert(label, before + cost);
            }
        }
    }
}

#[test]
fn combined_headers_join_the_repeated_rate_limit_fields_in_order() {
    let e = Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
            "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#,
    )
    .unwrap();
    let (key, record) = minted(&e, r#"{"limit": 3}"#);
    let prepared = e.prepare("GET", "/v1/briefs", &[("Authorization", format!("Bearer {key}"))], None);
    let mut v = e.begin("GET", "/v1/briefs", &[("Authorization", format!("Bearer {key}"))], None, now());
    while v.next_step() != keyproof::Step::Done {
        match v.next_step() {
            keyproof::Step::LookupRecord(_) => v.record(Some(record.clone())),
            _ => v.rate_state(None),
        }
    }
    let d = v.finish().decision;
    assert!(prepared.lookup_hashes().contains(&record.hash));
    let combined = d.combined_headers();
    let names: Vec<&str> = combined.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["RateLimit-Policy", "RateLimit"]);
    assert_eq!(combined[0].1, "\"starter\";q=10;w=10, \"usage\";q=3");
    assert_eq!(combined[1].1, "\"starter\";r=9;t=1, \"usage\";r=2");
    assert_eq!(d.headers.len(), 4);
}
