//! Shared pieces of the keyproof fuzz targets: the input framing, engines built
//! once per process from the golden-vector configs, clocks, and the decision
//! invariants every verifying target checks.
//!
//! # Input framing
//!
//! Every target reads its bytes the same way, so `seed_corpus.py` can write
//! seeds from the golden vectors and a crash input stays readable:
//!
//! ```text
//! [n] [n control bytes] field 0xFF field 0xFF field …
//! ```
//!
//! Control bytes are read as little-endian integers on demand (zeros once they
//! run out); fields are UTF-8 text (0xFF never occurs in UTF-8), read in order
//! (empty once they run out).

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use keyproof::render::public_view;
use keyproof::{Decision, Engine, ErrorKind, Policy};

pub mod verify_step;

/// The framing described in the crate docs.
pub struct Input<'a> {
    ctl: &'a [u8],
    pos: usize,
    fields: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

fn is_sep(b: &u8) -> bool {
    *b == 0xFF
}

impl<'a> Input<'a> {
    /// Splits `data` into control bytes and fields.
    pub fn new(data: &'a [u8]) -> Self {
        let (n, rest) = match data.split_first() {
            Some((n, rest)) => (usize::from(*n).min(rest.len()), rest),
            None => (0, data),
        };
        let (ctl, text) = rest.split_at(n);
        Self { ctl, pos: 0, fields: text.split(is_sep as fn(&u8) -> bool) }
    }

    /// Control bytes not read yet.
    pub fn remaining_ctl(&self) -> usize {
        self.ctl.len().saturating_sub(self.pos)
    }

    /// The next `N` control bytes (zero-padded).
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.ctl.get(self.pos).copied().unwrap_or(0);
            self.pos = self.pos.saturating_add(1);
        }
        out
    }

    pub fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    pub fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.bytes())
    }
    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.bytes())
    }
    pub fn u128(&mut self) -> u128 {
        u128::from_le_bytes(self.bytes())
    }
    /// A choice among `n` options (0 when `n` is 0).
    pub fn choose(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(self.u8()) % n
        }
    }

    /// The next text field (lossy UTF-8; empty once fields run out).
    pub fn field(&mut self) -> Cow<'a, str> {
        self.fields.next().map(String::from_utf8_lossy).unwrap_or(Cow::Borrowed(""))
    }

    /// The next field, or `None` when fields ran out.
    pub fn next_field(&mut self) -> Option<Cow<'a, str>> {
        self.fields.next().map(String::from_utf8_lossy)
    }
}

/// The golden vectors' fixed clock, 2026-03-18T10:30:00Z.
pub const BASE_SECS: i64 = 1_773_829_800;

/// A clock from the control bytes: near the golden clock, anywhere in chrono's
/// range, or an extreme (years 1, 9999, chrono's min and max, the epoch).
pub fn clock(input: &mut Input<'_>) -> DateTime<Utc> {
    let mode = input.u8();
    let at = |secs: i64, nanos: u32| DateTime::from_timestamp(secs, nanos);
    let t = match mode % 8 {
        0..=3 => at(BASE_SECS.saturating_add(i64::from(input.i32())), 0),
        4 => at(BASE_SECS.saturating_add(input.i64() % 400_000_000_000), input.u32() % 2_000_000_000),
        5 => at(input.i64() % 8_200_000_000_000_000 / 1000, input.u32() % 1_000_000_000),
        6 => {
            let extremes = [
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MAX_UTC,
                Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single().unwrap_or_default(),
                Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().unwrap_or_default(),
                DateTime::UNIX_EPOCH,
            ];
            let pick = extremes[input.choose(extremes.len())];
            pick.checked_add_signed(chrono::TimeDelta::seconds(i64::from(input.i32() % 1_000_000))).or(Some(pick))
        }
        _ => at(BASE_SECS.saturating_add(i64::from(input.i32())), 999_999_999),
    };
    t.unwrap_or_else(|| at(BASE_SECS, 0).unwrap_or_default())
}

/// Offsets a clock by `secs`, saturating at chrono's bounds.
pub fn offset(t: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let delta = chrono::TimeDelta::try_seconds(secs).unwrap_or(chrono::TimeDelta::zero());
    t.checked_add_signed(delta).unwrap_or(if secs < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC })
}

/// Golden decision files whose `config` the verifying targets use (the 3.4 MB
/// header catalogue is left out: its config is the same as `vendor_statuses`'s).
pub const DECISION_FILES: &[(&str, &str)] = &[
    ("seed000_matchii", include_str!("../../tests/vectors/seed000_matchii.json")),
    ("seed001_matcraft_live", include_str!("../../tests/vectors/seed001_matcraft_live.json")),
    ("seed001_matcraft_sandbox", include_str!("../../tests/vectors/seed001_matcraft_sandbox.json")),
    ("seed002_matatika", include_str!("../../tests/vectors/seed002_matatika.json")),
    ("seed003_tmmate", include_str!("../../tests/vectors/seed003_tmmate.json")),
    ("seed004_authmatech", include_str!("../../tests/vectors/seed004_authmatech.json")),
    ("hashing_pepper_migration", include_str!("../../tests/vectors/hashing_pepper_migration.json")),
    ("seam_authenticate_only", include_str!("../../tests/vectors/seam_authenticate_only.json")),
    ("vendor_rate_limit_headers_all", include_str!("../../tests/vectors/vendor_rate_limit_headers_all.json")),
    ("vendor_status_overrides", include_str!("../../tests/vectors/vendor_status_overrides.json")),
    ("vendor_statuses", include_str!("../../tests/vectors/vendor_statuses.json")),
    ("hardening_paths", include_str!("../../tests/vectors/hardening_paths.json")),
    ("hardening_limits", include_str!("../../tests/vectors/hardening_limits.json")),
    ("hostile_requests", include_str!("../../tests/vectors/hostile_requests.json")),
    ("hostile_catalogue_network_time", include_str!("../../tests/vectors/hostile_catalogue_network_time.json")),
    ("usage_limits", include_str!("../../tests/vectors/usage_limits.json")),
    ("rate_limit_scope", include_str!("../../tests/vectors/rate_limit_scope.json")),
    ("resource_scopes", include_str!("../../tests/vectors/resource_scopes.json")),
    ("origins", include_str!("../../tests/vectors/origins.json")),
];

/// A synthetic deployment using every policy feature at once: all credential
/// methods, a role ladder, features, two environments, plans with a second
/// rate-limit class and costs, status overrides, every rate-limit header dialect,
/// a ten-year warning window and unknown routes authenticated.
pub const KITCHEN_SINK: &str = r#"{
  "formats": ["keyproof_live", "keyproof_test", "matatika_client_secret", "authmatech_sdk_token", "matchii_live",
    "stripe_publishable_live", {"alphabet": "base58", "environment": "live", "hash": "seam-sha256", "id": "seam_fuzz",
    "kind": "secret", "layout": "seam", "length": 24, "prefix": "fuzz_", "short_length": 8}],
  "hashing": {"algorithm": "hmac-sha256", "pepper_hex": "000102030405060708090a0b0c0d0e0f"},
  "policy": {
    "realm": "fuzz",
    "environments": ["live", "test"],
    "credentials": {"methods": ["bearer", "basic", "api_key_header", "sdk_token"], "max_header_bytes": 256},
    "unknown_routes": "authenticate",
    "roles": ["viewer", "editor", "admin"],
    "routes": [
      {"method": "GET", "path": "/v1/{id}/x", "all_of": ["a:b"], "role": "viewer"},
      {"method": ["POST", "PUT"], "path": "/v1/{id}/x", "all_of": ["a:b", "a:w"], "any_of": ["x", "y"], "role": "editor",
       "rate_limit": {"class": "writes", "cost": 2}},
      {"method": "*", "path": "/v2/**", "credential_kinds": ["secret", "client_secret", "sdk_token"], "feature": "beta"},
      {"method": "DELETE", "path": "/admin/*", "role": "admin", "rate_limit": {"class": "writes", "cost": 3}}
    ],
    "plans": {"free": {"limit": 5, "burst": 3, "period_seconds": 1}, "pro": {"limit": 1000000, "burst": 1000000, "period_seconds": 2678400}},
    "rate_limit_classes": {"writes": {"free": {"limit": 1, "burst": 3, "period_seconds": 60}}},
    "default_plan": "free",
    "expiry_warning_days": 3660,
    "rotation_grace_hours": 8784,
    "status_overrides": {"route_not_allowed": 404, "key_revoked": 410, "rate_limited": 503, "insufficient_role": 401, "insufficient_scope": 403},
    "rate_limit_headers": ["draft", "legacy", "x_rate_limit"],
    "names": {"min_length": 1, "max_length": 1000}
  }
}"#;

/// One deployment: the engine and where its config came from.
pub struct Deployment {
    pub name: &'static str,
    pub engine: Engine,
}

/// Every deployment the verifying targets use, built once per process:
/// [`DECISION_FILES`]' configs, then [`KITCHEN_SINK`].
pub fn deployments() -> &'static [Deployment] {
    static CELL: OnceLock<Vec<Deployment>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut out = Vec::new();
        for (name, text) in DECISION_FILES {
            let doc: serde_json::Value = serde_json::from_str(text).expect("golden vector file is JSON");
            let config = doc.get("config").expect("decision file has a config").to_string();
            let engine = Engine::from_json(&config).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            out.push(Deployment { name, engine });
        }
        let engine = Engine::from_json(KITCHEN_SINK).unwrap_or_else(|e| panic!("kitchen sink: {e:?}"));
        out.push(Deployment { name: "kitchen_sink", engine });
        out
    })
}

/// Statuses the README documents (the code table) plus the policy's overrides.
pub fn documented_status(policy: &Policy, status: u16) -> bool {
    matches!(status, 200 | 400 | 401 | 403 | 429 | 500 | 503) || policy.status_overrides.values().any(|s| *s == status)
}

fn visible(value: &str) -> bool {
    value.bytes().all(|c| c == b'\t' || (0x20..0x7f).contains(&c))
}

fn token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// The invariants every decision keeps, allowed or denied.
pub fn check_decision(policy: &Policy, d: &Decision) {
    assert!(documented_status(policy, d.status), "undocumented status {} for {}", d.status, d.code);
    for (name, value) in &d.headers {
        assert!(token(name), "header name {name:?} is not a token");
        assert!(visible(value), "header {name} has a control or non-ASCII character: {value:?}");
    }
    if d.allowed {
        assert_eq!(d.status, 200);
        assert_eq!((d.code, d.public_code), ("ok", "ok"));
        assert!(d.principal.is_some(), "allowed without a principal");
        assert!(d.body.is_none() && d.kind().is_none() && d.missing_scope.is_none());
        if let Some(rl) = &d.rate_limit {
            assert!(rl.outcome.allowed && rl.outcome.retry_after_seconds.is_none());
            assert!(rl.outcome.remaining <= rl.outcome.limit);
        }
        return;
    }
    let kind = d.kind().expect("a denial has a kind");
    let view = public_view(kind);
    let overridden = policy.status_overrides.get(kind.code()).copied();
    assert_eq!(d.code, kind.code());
    assert_eq!(d.public_code, view.public_code);
    assert_eq!(d.status, overridden.unwrap_or(view.status), "status of {}", d.code);
    assert_ne!(d.status, 200, "denied with 200");
    assert!(d.principal.is_none() && d.warnings.is_empty());
    let body = d.body.as_deref().expect("a denial has a body");
    let json: serde_json::Value = serde_json::from_str(body).expect("the body is JSON");
    assert_eq!(json.get("status").and_then(|s| s.as_u64()), Some(u64::from(d.status)), "body status");
    assert_eq!(json.get("code").and_then(|s| s.as_str()), Some(d.public_code), "body code");
    assert_eq!(d.header("Cache-Control"), Some("no-store"));
    let challenge = match overridden {
        Some(s) => s == 401 || (s == 403 && kind == ErrorKind::InsufficientScope),
        None => view.challenge,
    };
    assert_eq!(d.header("WWW-Authenticate").is_some(), challenge, "challenge of {} ({})", d.code, d.status);
    assert_eq!(d.missing_scope.is_some(), kind == ErrorKind::InsufficientScope);
    if kind == ErrorKind::RateLimited {
        let rl = d.rate_limit.as_ref().expect("rate_limited carries the bucket");
        assert!(!rl.outcome.allowed);
        assert!(rl.outcome.retry_after_seconds.is_some_and(|s| s >= 1));
        assert!(d.header("Retry-After").is_some());
    } else {
        assert!(d.rate_limit.is_none());
    }
}

/// Whether `secret` (a minted key or its secret part) leaks into what a denial
/// or an allow sends or logs: headers, body, detail.
pub fn leaks(d: &Decision, secret: &str) -> bool {
    secret.len() >= 16
        && (d.detail.contains(secret)
            || d.body.as_deref().is_some_and(|b| b.contains(secret))
            || d.headers.iter().any(|(_, v)| v.contains(secret)))
}

/// Whether `t` lies in the years records may hold (0001–9999).
pub fn storable(t: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&t.year())
}

/// Whether to print what each input reached (`KEYPROOF_FUZZ_TRACE=1`), e.g. to
/// count decision codes over a corpus: `verify_step -runs=0 corpus/verify_step`.
pub fn trace() -> bool {
    static CELL: OnceLock<bool> = OnceLock::new();
    *CELL.get_or_init(|| std::env::var_os("KEYPROOF_FUZZ_TRACE").is_some_and(|v| !v.is_empty() && v != "0"))
}
