//! A fuzzed request against a fuzzed record, rate-limit state and clock, driven
//! through the verification step as a host would, so steps 5–18 (lookup, hash
//! match, status, expiry, rotation, environment, client id, IP and origin allowlists, route,
//! credential kind, role, scopes, feature, GCRA) are all reached.
//!
//! The record is either minted for the request's key (then changed field by
//! field: status, expiry, rotation, scopes, role, allowlist, plan, features,
//! client id, a legacy hash …) or loaded from fuzzed JSON (the golden records;
//! optionally without validation, as a corrupt store would hand it over).
//!
//! Invariants: no panic; every decision keeps [`check_decision`] (documented
//! status, allowed ⇒ 200 + principal, denied ⇒ problem body, challenge rules);
//! an allowed decision re-checks independently (active, unexpired, in grace,
//! IP and origin allowed, environment, client id, route, scopes, feature); the step and
//! the one-call `Engine::decide` agree; rate writes only for spent quota or a
//! clamped corrupt state; a hash upgrade changes only hash and fingerprint; a
//! minted key never appears in headers, body or detail.
#![no_main]

use base64::Engine as _;
use keyproof::ip::parse_allowlist_entry;
use keyproof::{Hasher, KeyRecord, MintOptions, OriginPattern, RateLimitState, Step};
use keyproof_fuzz::verify_step::{check_allowed, instantiate, list, mutate_key, mutate_record, pick_method, words};
use keyproof_fuzz::{check_decision, clock, deployments, leaks, trace, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| run(data));

/// Origin allowlists a minted record may get.
const ORIGIN_PATTERNS: &[&[&str]] = &[
    &["https://shop.example.com"],
    &["https://*.example.com", "http://localhost:3000"],
    &["https://shop.example.com:8443", "http://[::1]:8080"],
];

/// Origins a request may name (some look alike, some are not origins at all).
const SENT_ORIGINS: &[&str] = &[
    "https://shop.example.com",
    "HTTPS://Shop.Example.com:0443",
    "https://eu.example.com",
    "https://example.com",
    "http://localhost:3000",
    "https://shop.example.com:8443",
    "http://[::1]:8080",
    "https://shop.example.com.evil.net",
    "null",
    "shop.example.com",
];

/// Where the record comes from.
enum Source {
    Minted { key: String },
    Json,
}

fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let deps = deployments();
    let engine = &deps[input.choose(deps.len())].engine;
    let policy = engine.policy();
    let now = clock(&mut input);
    let flags = input.u32();
    let bit = |n: u32| flags & (1 << n) != 0;

    // Fixed fields first, then header name/value pairs.
    let method = input.field();
    let path = input.field();
    let ip_text = input.field();
    let record_json = input.field();
    let scopes_text = input.field();
    let role_text = input.field();
    let ips_text = input.field();
    let plan_text = input.field();
    let features_text = input.field();
    let client_id_text = input.field();
    let mut headers: Vec<(String, String)> = Vec::new();
    while let Some(name) = input.next_field() {
        headers.push((name.into_owned(), input.field().into_owned()));
    }
    let client_ip = (!bit(0)).then_some(ip_text.as_ref());

    // The route the request aims at: as given, or one of the policy's rules.
    let route = (!policy.routes.is_empty() && bit(1)).then(|| &policy.routes[input.choose(policy.routes.len())]);
    let (method, path) = match (route, path.is_empty()) {
        (Some(rule), true) => (pick_method(&rule.method, input.u8()), instantiate(&rule.path)),
        _ => (method.into_owned(), path.into_owned()),
    };

    let (source, record) = if bit(2) {
        // A stored record as JSON: validated like a store loads it, or raw.
        let record = if bit(3) {
            serde_json::from_str::<KeyRecord>(&record_json).ok()
        } else {
            KeyRecord::from_json(&record_json).ok()
        };
        let Some(record) = record else { return };
        (Source::Json, record)
    } else {
        let formats = engine.formats().formats();
        let format = &formats[input.choose(formats.len())];
        let random = input.bytes::<32>();
        let legacy = Hasher::default();
        let hasher = if bit(4) { &legacy } else { engine.hasher() };
        let options = MintOptions {
            name: "fuzz key".into(),
            scopes: words(&scopes_text),
            role: (!role_text.is_empty()).then(|| role_text.to_string()),
            allowed_ips: list(&ips_text),
            plan: (!plan_text.is_empty()).then(|| plan_text.to_string()),
            features: list(&features_text),
            client_id: (!client_id_text.is_empty()).then(|| client_id_text.to_string()),
            generate_client_id: client_id_text.is_empty() && bit(5),
            // Sometimes the key's own quota (a tight one, so fuzzed states hit its limit).
            rate_limits: if bit(11) {
                let quota = keyproof::Quota { limit: flags >> 28, burst: (flags >> 24) & 0xf, period_seconds: 60 };
                std::collections::BTreeMap::from([("default".to_string(), quota)])
            } else {
                Default::default()
            },
            // Sometimes an owner organization (its keys share a bucket under rate_limit_scope).
            owner: keyproof::Owner { organization: bit(13).then(|| "org_fuzz".to_string()), ..Default::default() },
            // Sometimes a usage limit (small, so fuzzed counters reach it).
            usage_limit: bit(12).then(|| keyproof::UsageLimit {
                limit: (flags >> 20) & 0xf,
                period: [
                    None,
                    Some(keyproof::UsagePeriod::Day),
                    Some(keyproof::UsagePeriod::Week),
                    Some(keyproof::UsagePeriod::Month),
                ][((flags >> 16) % 4) as usize],
                counter: None,
            }),
            ..MintOptions::default()
        };
        // Mint with the fuzzed options; when core refuses them, mint a plain key
        // and set the fields directly (any host may hand the engine any record).
        let minted = match keyproof::mint(format, hasher, &options, &random, now) {
            Ok(m) => m,
            Err(_) => {
                let Ok(mut m) = keyproof::mint(format, hasher, &MintOptions::named("fuzz key"), &random, now) else {
                    return;
                };
                let r = &mut m.record;
                r.scopes = options.scopes.clone();
                r.role = options.role.clone();
                r.allowed_ips = options.allowed_ips.iter().filter_map(|s| parse_allowlist_entry(s).ok()).collect();
                r.plan = options.plan.clone();
                r.features = options.features.clone();
                r.client_id = options.client_id.clone();
                m
            }
        };
        let mut record = minted.record;
        mutate_record(&mut input, &mut record, now, policy, route, engine);
        // Sometimes an origin allowlist (the request may name one of these sites, or another).
        if bit(6) {
            let patterns = ORIGIN_PATTERNS[input.choose(ORIGIN_PATTERNS.len())];
            record.allowed_origins = patterns.iter().filter_map(|p| OriginPattern::parse(p).ok()).collect();
        }
        (Source::Minted { key: minted.key.expose().to_string() }, record)
    };

    // The request's credential: the minted key in one of the accepted shapes,
    // plus any fuzzed headers (the only headers, for a JSON record).
    if let Source::Minted { key } = &source {
        let key = mutate_key(&mut input, key);
        let cid = record.client_id.clone().unwrap_or_else(|| "fuzz-client".into());
        let creds = &policy.credentials;
        match input.u8() % 8 {
            0 | 1 => headers.insert(0, ("Authorization".into(), format!("Bearer {key}"))),
            2 => headers.insert(0, ("authorization".into(), format!("bEaReR\t {key} "))),
            3 => headers.insert(0, (creds.api_key_header.to_ascii_uppercase(), key.clone())),
            4 => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{cid}:{key}"));
                headers.insert(0, ("Authorization".into(), format!("Basic {encoded}")));
            }
            5 => headers.insert(0, (creds.sdk_token_header.clone(), key.clone())),
            6 => {
                headers.insert(0, ("Authorization".into(), format!("Bearer {key}")));
                headers.insert(1, (creds.api_key_header.clone(), key.clone()));
            }
            _ => {}
        }
        if bit(7) {
            headers.push(("Origin".into(), SENT_ORIGINS[input.choose(SENT_ORIGINS.len())].into()));
        }
        if bit(8) {
            headers.push(("referer".into(), format!("{}/page?q=1", SENT_ORIGINS[input.choose(SENT_ORIGINS.len())])));
        }
        match input.u8() % 4 {
            1 => headers.push((creds.client_id_header.clone(), cid)),
            2 => headers.push((creds.client_id_header.clone(), client_id_text.to_string())),
            _ => {}
        }
    }

    let state = match input.u8() % 6 {
        0 | 1 => None,
        2 | 3 => Some(RateLimitState { tat_us: now.timestamp_micros().saturating_add(i64::from(input.i32()) * 1000) }),
        4 => Some(RateLimitState { tat_us: now.timestamp_micros().saturating_add(input.i64() % 100_000_000_000_000) }),
        _ => Some(RateLimitState { tat_us: input.i64() }),
    };
    // A usage counter's state: the period's end plus the units spent (sometimes
    // a state no spending produces).
    let period_end = record.usage_limit.as_ref().map_or(0, |u| u.meter(&record.id, now).end_us);
    let used = match input.u8() % 4 {
        0 => None,
        3 => Some(RateLimitState { tat_us: input.i64() }),
        _ => Some(RateLimitState { tat_us: period_end.saturating_add(i64::from(input.u8() % 20)) }),
    };
    let host = input.u8() % 4; // 0, 1: by hash; 2: hands the record over (decide's contract); 3: finds nothing
    let cas = input.u8() % 8 == 7;
    let fresh = RateLimitState { tat_us: now.timestamp_micros().saturating_add(i64::from(input.i32())) };
    let early = input.u8() == 0xA5;
    // Sometimes the host prices the request's usage (0: a check that spends nothing).
    let price = (input.u8() % 4 == 3).then(|| u32::from(input.u8() % 8));

    let mut v = engine.begin(&method, &path, &headers, client_ip, now);
    if let Some(units) = price {
        v.set_usage_cost(units);
    }
    let prepared = v.prepared().clone();
    let lookup_hashes = prepared.lookup_hashes().to_vec();
    let mut lookups = 0usize;
    let mut loads = 0usize;
    let mut read = None;
    let mut rate_key = None;
    let (mut usage_loads, mut usage_read, mut usage_key) = (0usize, None, None);
    for round in 0.. {
        assert!(round < 16, "the step never reaches Done");
        if early && round == 1 {
            break;
        }
        match v.next_step() {
            Step::LookupRecord(hash) => {
                assert_eq!(Some(hash), lookup_hashes.get(lookups).map(String::as_str), "lookups in order");
                lookups += 1;
                let found = match host {
                    0 | 1 => (record.hash == hash).then(|| record.clone()),
                    2 => Some(record.clone()),
                    _ => None,
                };
                v.record(found);
            }
            Step::LoadRateState(key) if key.contains(":usage:") => {
                // A usage-limited key's counter: after its rate-limit bucket, once.
                usage_loads += 1;
                assert!(
                    usage_loads == 1 && record.usage_limit.is_some(),
                    "usage counter asked twice or without a limit"
                );
                usage_key = Some(key.to_string());
                usage_read = used;
                v.rate_state(used);
            }
            Step::LoadRateState(key) => {
                assert!(usage_loads == 0, "the rate bucket is read before the usage counter");
                loads += 1;
                assert!(loads == 1, "rate state asked twice");
                // The key's bucket, or its owner's under the policy's rate_limit_scope.
                let owner = match engine.policy().rate_limit_scope {
                    keyproof::RateLimitScope::Organization => {
                        record.owner.organization.as_ref().map(|o| format!("org.{o}"))
                    }
                    keyproof::RateLimitScope::Workspace => {
                        record.owner.workspace.as_ref().map(|w| format!("workspace.{w}"))
                    }
                    _ => None,
                };
                let whose = owner.unwrap_or_else(|| record.id.clone());
                assert!(key.starts_with(&whose) && key.as_bytes().get(whose.len()) == Some(&b':'));
                rate_key = Some(key.to_string());
                read = state;
                v.rate_state(state);
            }
            Step::Done => break,
        }
    }
    assert!(lookups <= lookup_hashes.len());
    if let Some(w) = v.rate_write().filter(|_| cas) {
        // The host's compare-and-set lost a race: it re-reads and the step recomputes.
        if Some(&w.key) == usage_key.as_ref() {
            usage_read = Some(RateLimitState { tat_us: period_end.saturating_add(fresh.tat_us.rem_euclid(16)) });
            v.rate_state(usage_read);
        } else {
            read = Some(fresh);
            v.rate_state(Some(fresh));
        }
    }
    // A recomputed bucket may now let the request through: its usage counter is read then.
    if let (Step::LoadRateState(key), false) = (v.next_step(), early) {
        assert!(key.contains(":usage:") && usage_loads == 0, "only a usage counter is read after the writes began");
        usage_key = Some(key.to_string());
        usage_read = used;
        v.rate_state(used);
    }
    let outcome = v.finish();
    let d = &outcome.decision;
    if trace() {
        let rate = d.rate_limit.as_ref().map_or("-", |r| if r.outcome.allowed { "spent" } else { "limited" });
        let write = if outcome.rate_write.is_some() { "write" } else { "-" };
        let upgraded = if outcome.upgraded_record.is_some() { "rehash" } else { "-" };
        eprintln!("TRACE {} {} {rate} {write} {upgraded}", d.code, d.status);
    }
    check_decision(policy, d);
    // A decision names a key only once the record's hash matched (allowed, or a
    // later denial), and only that record's id; never in what the caller sees.
    if let Some(id) = d.key_id() {
        assert_eq!(id, record.id, "a key id other than the record's");
        assert!(!matches!(d.code, "unknown_key" | "key_mismatch"), "{} named a key", d.code);
        assert!(prepared.error().is_none(), "a request denied before its lookup named a key");
        let parsed = prepared.parsed_key().expect("identified with a parsed key");
        assert!(engine.hasher().verify(parsed.format(), parsed, &record.hash).is_ok_and(|c| c.matched));
    }
    assert!(!d.allowed || d.key_id() == Some(record.id.as_str()), "an allowed request names its key");

    if let Source::Minted { key } = &source {
        assert!(!leaks(d, key), "the key leaks into the decision");
        if let Some(parsed) = prepared.parsed_key() {
            assert!(!leaks(d, parsed.secret_part()), "the secret part leaks into the decision");
        }
    }

    // The step and the one-call API decide alike when the host hands the record over.
    if host == 2 && !early && !cas && record.usage_limit.is_none() {
        let one_call = engine.decide(&prepared, Some(&record), now, state);
        assert!(one_call == *d, "step and decide() disagree:\n{}\n{}", one_call.to_json(), d.to_json());
    }

    if let Some(w) = &outcome.rate_write {
        // A host that stops early gets the write finish() computed from no state.
        assert!(early || Some(&w.key) == rate_key.as_ref(), "a write for a bucket never read");
        assert_eq!(w.expected, read);
        assert_ne!(w.new, read.unwrap_or_default(), "a write that changes nothing");
        if d.allowed {
            assert_eq!(d.rate_limit.as_ref().map(|r| r.outcome.state), Some(w.new));
        } else {
            // Denied requests spend nothing; only a clamped corrupt state is rewritten.
            assert_eq!(d.code, "rate_limited");
            assert!(d.detail.contains("clamped"), "denied request rewrote its state: {}", d.detail);
        }
    }
    if let Some(w) = &outcome.usage_write {
        // Written only for an allowed request, after the bucket, with what it spent.
        assert!(d.allowed, "a denied request spends usage: {}", d.code);
        assert!(early || Some(&w.key) == usage_key.as_ref(), "a write for a counter never read");
        assert_eq!(w.expected, usage_read);
        let spent = d.usage.as_ref().map(|u| u.outcome.state);
        assert_eq!(spent, Some(w.new));
        let limit = record.usage_limit.as_ref().map_or(0, |u| i64::from(u.limit));
        let spent_before = usage_read.map_or(period_end, |s| s.tat_us);
        assert!(w.new.tat_us > spent_before && w.new.tat_us <= period_end + limit, "overspent");
        if let Some(units) = price {
            assert_eq!(w.new.tat_us, spent_before + i64::from(units), "spent other than the host's price");
        }
    }
    if price == Some(0) {
        assert!(outcome.usage_write.is_none(), "a check priced at 0 wrote its counter");
    }
    // A charge after the fact spends what is left, never more, and reports the rest unpaid.
    if let (Some(limit), Some(units)) = (&record.usage_limit, price.map(|p| p * 3)) {
        let charged = record.charge(used, units, now).expect("a usage-limited key can be charged");
        let left = record.usage(used, now).map_or(0, |u| u.outcome.remaining);
        assert_eq!(charged.unpaid, units.saturating_sub(left), "unpaid is what did not fit");
        assert_eq!(charged.usage.outcome.remaining, left - (units - charged.unpaid));
        let before = used.map_or(period_end, |s| s.tat_us);
        match &charged.write {
            Some(w) => assert_eq!(w.new.tat_us - before, i64::from(units - charged.unpaid)),
            None => assert!(units == charged.unpaid, "a charge that spent wrote nothing"),
        }
        assert!(charged.usage.outcome.remaining <= limit.limit);
        // Refunding what was charged gives the same standing back.
        let after = charged.write.as_ref().map_or(used, |w| Some(w.new));
        let back = record.refund(after, units - charged.unpaid, now).expect("a usage-limited key can be refunded");
        assert_eq!(back.unpaid, 0, "a refund of what was just charged is whole");
        assert_eq!(back.usage.outcome.remaining, left, "refunded to where it started");
    }
    if d.code == "usage_exceeded" {
        assert!(record.usage_limit.is_some() && outcome.rate_write.is_none());
    }
    if let Some(up) = &outcome.upgraded_record {
        assert!(d.allowed, "hash upgrade on a denial");
        assert_eq!(Some(&up.hash), lookup_hashes.first());
        assert_ne!(up.hash, record.hash);
        let same = KeyRecord { hash: record.hash.clone(), fingerprint: record.fingerprint.clone(), ..(**up).clone() };
        assert!(same == record, "a hash upgrade changed more than the hash");
    }
    if d.allowed {
        assert!(!early || lookups > 0);
        check_allowed(engine, &path, &prepared, &record, &headers, client_ip, now, d, &outcome.rate_write);
    }
}
