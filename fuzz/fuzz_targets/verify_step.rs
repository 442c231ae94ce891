//! A fuzzed request against a fuzzed record, rate-limit state and clock, driven
//! through the verification step as a host would, so steps 5–18 (lookup, hash
//! match, status, expiry, rotation, environment, client id, IP allowlist, route,
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
//! IP allowed, environment, client id, route, scopes, feature); the step and
//! the one-call `Engine::decide` agree; rate writes only for spent quota or a
//! clamped corrupt state; a hash upgrade changes only hash and fingerprint; a
//! minted key never appears in headers, body or detail.
#![no_main]

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use keyproof::ip::{ip_allowed, parse_allowlist_entry, parse_client_ip};
use keyproof::{
    extract, Decision, Engine, Hasher, KeyRecord, KeyStatus, MethodSpec, MintOptions, RateLimitState, Rotation, Step,
    UnknownRoutes, Warning,
};
use keyproof_fuzz::{check_decision, clock, deployments, leaks, offset, trace, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| run(data));

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
        usage_loads += 1;
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
        check_allowed(engine, &prepared, &record, &headers, client_ip, now, d, &outcome.rate_write);
    }
}

#[allow(clippy::too_many_arguments)]
fn check_allowed(
    engine: &Engine,
    prepared: &keyproof::Prepared,
    record: &KeyRecord,
    headers: &[(String, String)],
    client_ip: Option<&str>,
    now: DateTime<Utc>,
    d: &Decision,
    rate_write: &Option<keyproof::RateWrite>,
) {
    let policy = engine.policy();
    let principal = d.principal.as_ref().expect("allowed with a principal");
    assert_eq!(principal.key_id(), record.id);
    assert!(prepared.error().is_none());
    let parsed = prepared.parsed_key().expect("allowed with a parsed key");
    assert_eq!(parsed.format_id(), record.format);
    assert!(engine.hasher().verify(parsed.format(), parsed, &record.hash).is_ok_and(|c| c.matched));
    assert_eq!(record.status, KeyStatus::Active, "allowed a {:?} key", record.status);
    assert!(record.expires_at.is_none_or(|e| now < e), "allowed an expired key");
    assert!(record.rotation.as_ref().is_none_or(|r| now < r.grace_until), "allowed after the rotation grace");
    assert!(policy.environments.is_empty() || policy.environments.iter().any(|e| e == parsed.environment()));
    let ip: Option<IpAddr> = client_ip.and_then(|t| parse_client_ip(t).ok());
    assert!(ip_allowed(&record.allowed_ips, ip), "allowed from an IP outside the allowlist");
    if let Some(bound) = &record.client_id {
        let sent = extract(&policy.credentials, headers).ok().and_then(|c| c.client_id);
        assert_eq!(sent.as_ref(), Some(bound), "allowed with another client id");
    }
    for w in &d.warnings {
        match w {
            Warning::ExpiresSoon { expires_at } => assert_eq!(Some(*expires_at), record.expires_at),
            Warning::RotationGrace { until, .. } => {
                assert_eq!(Some(*until), record.rotation.as_ref().map(|r| r.grace_until))
            }
            _ => {}
        }
    }
    match engine.route_of(prepared) {
        None => assert_ne!(policy.unknown_routes, UnknownRoutes::Deny, "allowed an unknown route"),
        Some(route) => {
            for s in &route.all_of {
                assert!(grants(&record.scopes, s), "allowed without scope {s}");
            }
            assert!(route.any_of.is_empty() || route.any_of.iter().any(|s| grants(&record.scopes, s)));
            if let Some(f) = &route.feature {
                assert!(record.features.contains(f), "allowed without feature {f}");
            }
            if let Some(role) = &route.role {
                let held = record.role.as_deref().unwrap_or_default();
                let ok = if policy.roles.is_empty() {
                    held == role
                } else {
                    policy.role_rank(held).zip(policy.role_rank(role)).is_some_and(|(h, r)| h >= r)
                };
                assert!(ok, "allowed role {held:?} on a route for {role}");
            }
            if !route.credential_kinds.is_empty() {
                assert!(route.credential_kinds.contains(&parsed.kind()));
            }
        }
    }
    let bucket = engine.rate_bucket(prepared, record);
    assert_eq!(bucket.is_some(), d.rate_limit.is_some(), "quota applied iff a bucket exists");
    if let (Some(b), Some(rl)) = (&bucket, &d.rate_limit) {
        assert_eq!((&b.key, &b.plan, &b.class), (&rl.key, &rl.plan, &rl.class));
        assert!(rl.outcome.remaining <= b.quota.burst.saturating_sub(b.cost) || rate_write.is_none());
    }
}

/// The README's scope rule, written independently: `admin` grants everything,
/// `resource:*` every non-empty action of `resource`, anything else itself.
fn grants(held: &[String], required: &str) -> bool {
    held.iter().any(|h| {
        h == "admin"
            || h == required
            || h.strip_suffix(":*").is_some_and(|res| {
                required.len() > res.len() + 1 && required.starts_with(res) && required.as_bytes()[res.len()] == b':'
            })
    })
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn list(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn pick_method(spec: &MethodSpec, n: u8) -> String {
    let m = match spec {
        MethodSpec::One(m) => m.clone(),
        MethodSpec::Many(ms) => ms.get(usize::from(n) % ms.len().max(1)).cloned().unwrap_or_default(),
    };
    if m == "*" {
        ["GET", "post", "DELETE", "PATCH"][usize::from(n) % 4].to_string()
    } else {
        m
    }
}

/// A concrete path for a route pattern: `{param}` → `p1`, `*` / `**` → `a/b`.
fn instantiate(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') || seg == "*" || seg == "**" {
                if seg.starts_with("{*") || seg.contains('*') {
                    "a/b"
                } else {
                    "p1"
                }
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn mutate_key(input: &mut Input<'_>, key: &str) -> String {
    let mut key = key.to_string();
    let pos = usize::from(input.u8()) % key.len().max(1);
    match input.u8() % 16 {
        1 => {
            // Flip one character to another of the same class.
            if let Some(c) = key.as_bytes().get(pos).copied() {
                let flipped = match c {
                    b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => c + 1,
                    b'9' => b'0',
                    b'z' => b'a',
                    b'Z' => b'A',
                    other => other,
                };
                key.replace_range(pos..=pos, &char::from(flipped).to_string());
            }
        }
        2 => key.truncate(pos),
        3 => key.push('x'),
        4 => key = key.to_ascii_uppercase(),
        _ => {}
    }
    key
}

fn mutate_record(
    input: &mut Input<'_>,
    record: &mut KeyRecord,
    now: DateTime<Utc>,
    policy: &keyproof::Policy,
    route: Option<&keyproof::RouteRule>,
    engine: &Engine,
) {
    let flags = input.u16();
    let bit = |n: u32| flags & (1 << n) != 0;
    if let Some(rule) = route {
        // Grant what the route needs (most of the time), so later steps are reached.
        if bit(0) {
            record.scopes.extend(rule.all_of.iter().cloned());
            record.scopes.extend(rule.any_of.first().cloned());
        }
        if bit(1) {
            record.role = rule.role.clone().or(record.role.take());
        }
        if bit(2) {
            record.features.extend(rule.feature.clone());
        }
    }
    if bit(3) && !policy.plans.is_empty() {
        let plans: Vec<&String> = policy.plans.keys().collect();
        record.plan = Some(plans[input.choose(plans.len())].clone());
    }
    if bit(4) && !policy.roles.is_empty() {
        record.role = Some(policy.roles[input.choose(policy.roles.len())].clone());
    }
    // Zero bytes change nothing, so a seed of zeros is a clean minted key.
    match input.u8() % 8 {
        1 => record.status = KeyStatus::Disabled,
        2 => {
            record.status = KeyStatus::Revoked;
            record.revoked_at = Some(now);
        }
        _ => {}
    }
    match input.u8() % 4 {
        1 => record.expires_at = Some(offset(now, i64::from(input.i32()))),
        2 => record.expires_at = Some(offset(now, input.i64())),
        _ => {}
    }
    match input.u8() % 4 {
        1 => {
            let grace_until = offset(now, i64::from(input.i32()));
            let rotated_at = bit(5).then(|| offset(now, -i64::from(input.u16())));
            record.rotation = Some(Rotation { replaced_by: Some("successor".into()), rotated_at, grace_until });
        }
        2 => {
            record.rotation =
                Some(Rotation { replaced_by: None, rotated_at: None, grace_until: offset(now, input.i64()) })
        }
        _ => {}
    }
    if bit(6) {
        record.created_at = offset(now, -i64::from(input.i32()));
        record.updated_at = offset(record.created_at, i64::from(input.u16()));
    }
    if bit(7) {
        // Another format's id on the record (a store mix-up).
        let formats = engine.formats().formats();
        record.format = formats[input.choose(formats.len())].id.clone();
    }
    if bit(8) {
        record.client_id = None;
    }
    if bit(9) {
        record.allowed_ips.clear();
    }
    if bit(10) {
        // A hash the key cannot match, or a malformed one (a corrupt store).
        let hashes = ["sha256:00", "md5:abcd", "", "sha256:", "hmac-sha256:zz", "seam-sha256:00"];
        record.hash = hashes[input.choose(hashes.len())].to_string();
    }
}
