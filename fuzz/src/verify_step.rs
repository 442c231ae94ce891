//! What the `verify_step` target needs besides its run: an independent re-check
//! of every allowed decision (the README's rules, written again, not core's
//! code) and the mutators of its keys and records.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use keyproof::ip::{ip_allowed, parse_client_ip};
use keyproof::{extract, Decision, Engine, KeyRecord, KeyStatus, MethodSpec, Rotation, UnknownRoutes, Warning};

use crate::{offset, Input};

#[allow(clippy::too_many_arguments)]
pub fn check_allowed(
    engine: &Engine,
    path: &str,
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
    if !record.allowed_origins.is_empty() {
        let sent = sent_origin(headers).expect("allowed a key with an origin allowlist from no origin");
        let listed = record.allowed_origins.iter().any(|p| origin_matches(&p.to_string(), &sent));
        assert!(listed, "allowed from {sent:?} outside {:?}", record.allowed_origins);
    }
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
            let values = path_values(&route.path, path);
            for s in &route.all_of {
                assert!(granted(&record.scopes, s, &values), "allowed without scope {s} on {path:?}");
            }
            let any = |s: &String| granted(&record.scopes, s, &values);
            assert!(route.any_of.is_empty() || route.any_of.iter().any(any), "allowed without any of its scopes");
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

/// The values of a route pattern's whole-segment `{name}` parameters in a
/// request path (decoded as core's path contract decodes it).
fn path_values(pattern: &str, path: &str) -> Vec<(String, String)> {
    let Ok(path) = keyproof::routes::normalize_path(path) else { return Vec::new() };
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, v)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            (!name.starts_with('*')).then(|| (name.to_string(), v.to_string()))
        })
        .collect()
}

/// Whether `held` grants a route scope, its `{name}` parts filled from `values`
/// (the README's scope templates, written independently): a value that is not
/// plain scope text (`:`, `*`, space, quote, backslash, non-ASCII, or a filled
/// scope over 128 bytes) is granted only as a whole resource (`admin`,
/// `resource:*`), never by a key holding the template's text.
fn granted(held: &[String], scope: &str, values: &[(String, String)]) -> bool {
    if !scope.contains('{') {
        return grants(held, scope);
    }
    let plain = |v: &str| !v.is_empty() && v.bytes().all(|c| (0x21..0x7f).contains(&c) && !b":*\"\\".contains(&c));
    let mut filled = Vec::new();
    for part in scope.split(':') {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            None => filled.push(part.to_string()),
            Some(name) => match values.iter().find(|(n, _)| n == name) {
                Some((_, v)) if plain(v) => filled.push(v.clone()),
                _ => return held.iter().any(|h| h != scope && grants(std::slice::from_ref(h), scope)),
            },
        }
    }
    let filled = filled.join(":");
    if filled.len() > 128 {
        return held.iter().any(|h| h != scope && grants(std::slice::from_ref(h), scope));
    }
    grants(held, &filled)
}

/// The README's scope rule, written independently: `admin` grants everything,
/// `resource:*` every non-empty action of `resource`, anything else itself.
pub fn grants(held: &[String], required: &str) -> bool {
    held.iter().any(|h| {
        h == "admin"
            || h == required
            || h.strip_suffix(":*").is_some_and(|res| {
                required.len() > res.len() + 1 && required.starts_with(res) && required.as_bytes()[res.len()] == b':'
            })
    })
}

pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

pub fn list(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

pub fn pick_method(spec: &MethodSpec, n: u8) -> String {
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
pub fn instantiate(pattern: &str) -> String {
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

pub fn mutate_key(input: &mut Input<'_>, key: &str) -> String {
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

pub fn mutate_record(
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

/// The origin a request names, written again from the README: its one `Origin`
/// (not `null`), else the scheme and authority of its one `Referer`; lowercase,
/// with the port as a number and the scheme's default port left out.
pub fn sent_origin(headers: &[(String, String)]) -> Option<String> {
    let named =
        |n: &str| headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.trim()).collect::<Vec<_>>();
    let (origins, referers) = (named("origin"), named("referer"));
    let text = match (origins.as_slice(), referers.as_slice()) {
        ([origin], _) if *origin != "null" => origin.to_string(),
        ([], [referer]) => {
            let (scheme, rest) = referer.split_once("://")?;
            format!("{scheme}://{}", rest.split(['/', '?', '#']).next()?)
        }
        _ => return None,
    };
    let text = text.to_ascii_lowercase();
    let text = text.strip_suffix('/').unwrap_or(&text);
    let (scheme, authority) = text.split_once("://")?;
    let (host, port) = match authority.rfind(':').filter(|i| !authority[*i..].contains(']')) {
        Some(i) => (&authority[..i], authority[i + 1..].parse::<u32>().ok()),
        None => (authority, None),
    };
    let default = match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    Some(match port.filter(|p| Some(*p) != default) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Whether the canonical `pattern` text (`https://shop.example.com`,
/// `https://*.example.com:8443`) covers the normalized `origin`.
pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    match pattern.split_once("*.") {
        None => pattern == origin,
        Some((prefix, domain)) => origin
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(domain))
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains([':', '/'])),
    }
}
