//! A finished verification as one string, the shape both JS bindings return:
//! one JS value to create per request, parsed by the JS layer only as far as
//! it is read (see `js/NATIVE.md`).

use serde::Serialize;

use crate::decision::{Decision, Principal, RateLimitDecision, Warning};
use crate::engine::{Outcome, RateWrite};
use crate::ratelimit::RateLimitState;
use crate::record::KeyRecord;
use crate::token::TokenUse;

/// A rate-limit write in the storage schema: `{key, expected, new, ttl_seconds}`.
#[derive(Debug, Serialize)]
pub struct RateWriteView<'a> {
    key: &'a str,
    expected: Option<RateLimitState>,
    new: RateLimitState,
    ttl_seconds: u64,
}

impl<'a> From<&'a RateWrite> for RateWriteView<'a> {
    fn from(w: &'a RateWrite) -> Self {
        Self { key: &w.key, expected: w.expected, new: w.new, ttl_seconds: w.ttl_seconds }
    }
}

/// Everything of a decision but allowed, status and code, in the storage schema.
/// Absent and empty parts are left out (the JS layer reads them as `null`, `[]`
/// or `""`): a third less text to write here and for `JSON.parse` to read.
#[derive(Serialize)]
struct Rest<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    headers: &'a [(String, String)],
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a Principal>,
    /// A denial's identified key (an allowed answer names it in `principal`).
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_write: Option<RateWriteView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage_write: Option<RateWriteView<'a>>,
    public_code: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_scope: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [Warning],
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<&'a RateLimitDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a RateLimitDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upgraded_record: Option<&'a KeyRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a TokenUse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    touch_last_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a Decision>,
}

/// `"<allowed 0|1> <status> <code> <flags> <json>"`, then `"\n<body>"` for a
/// denial: `<flags>` is `-`, or any of `w` (a rate-limit or usage write to
/// make), `u` (an upgraded record to save), `t` (a last-used time to write) and
/// `b` (a body follows); `<json>` is the JSON text of everything else (headers,
/// principal, a denial's key_id, rate_write, usage_write, public_code, detail, missing_scope,
/// warnings, rate_limit, usage, upgraded_record, token, touch_last_used, and
/// with `full` the whole decision); `<body>` the problem body, byte for byte.
pub fn decided(outcome: Outcome, full: bool) -> String {
    let Outcome { decision: d, rate_write, usage_write, upgraded_record, touch_last_used } = outcome;
    let rest = Rest {
        headers: &d.headers,
        principal: d.principal.as_ref(),
        key_id: d.denied_key_id.as_deref(),
        rate_write: rate_write.as_ref().map(RateWriteView::from),
        usage_write: usage_write.as_ref().map(RateWriteView::from),
        public_code: d.public_code,
        detail: &d.detail,
        missing_scope: d.missing_scope.as_deref(),
        warnings: &d.warnings,
        rate_limit: d.rate_limit.as_ref(),
        usage: d.usage.as_deref(),
        upgraded_record: upgraded_record.as_deref(),
        token: d.token.as_ref(),
        touch_last_used: touch_last_used.map(|t| crate::timestamp::format_timestamp(&t)),
        decision: full.then_some(&d),
    };
    let w = rest.rate_write.is_some() || rest.usage_write.is_some();
    let (u, t, b) = (rest.upgraded_record.is_some(), rest.touch_last_used.is_some(), d.body.is_some());
    let mut out = Vec::with_capacity(DECIDED_CAPACITY);
    out.extend_from_slice(if d.allowed { b"1 " } else { b"0 " });
    out.extend_from_slice(d.status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(d.code.as_bytes());
    out.push(b' ');
    for (set, flag) in [(w, b'w'), (u, b'u'), (t, b't'), (b, b'b')] {
        if set {
            out.push(flag);
        }
    }
    if !(w || u || t || b) {
        out.push(b'-');
    }
    out.push(b' ');
    // Serializing these plain structs into a Vec cannot fail (string keys, finite
    // numbers), and serde_json writes UTF-8 only.
    let _ = serde_json::to_writer(&mut out, &rest);
    // The body (JSON itself) as it is, after a newline compact JSON never holds:
    // escaped into the JSON it would cost a third of a denial's native time.
    if let Some(body) = d.body.as_deref() {
        out.push(b'\n');
        out.extend_from_slice(body.as_bytes());
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Room for a typical answer (a principal and a denial's problem body), so the
/// text is written without growing.
const DECIDED_CAPACITY: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{mint, Engine, MintOptions};

    fn engine() -> Engine {
        Engine::from_json(
            r#"{"formats": ["matchii_live"], "policy": {
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
            "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#,
        )
        .unwrap()
    }

    /// The head fields, the JSON and the raw body (after the first newline).
    fn parts(decided: &str) -> (Vec<&str>, serde_json::Value, Option<&str>) {
        let (text, body) = match decided.split_once('\n') {
            Some((text, body)) => (text, Some(body)),
            None => (decided, None),
        };
        let fields: Vec<&str> = text.splitn(5, ' ').collect();
        let rest = serde_json::from_str(fields[4]).unwrap();
        (fields[..4].to_vec(), rest, body)
    }

    #[test]
    fn allowed_requests_carry_the_write_and_the_principal() {
        let engine = engine();
        let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
        let options = MintOptions::from_json(r#"{"name": "Wired", "scopes": ["briefs:read"]}"#).unwrap();
        let format = engine.formats().get("matchii_live").unwrap();
        let minted = mint(format, engine.hasher(), &options, &[7; 32], now).unwrap();
        let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];
        let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now);
        let _ = v.drive::<(), KeyRecord>(
            |_| std::ops::ControlFlow::Continue(Some(minted.record.clone())),
            |_| std::ops::ControlFlow::Continue(None),
        );
        let text = decided(v.finish(), false);
        let (head, rest, body) = parts(&text);
        assert_eq!(head[..3], ["1", "200", "ok"]);
        assert!(head[3].contains('w') && !head[3].contains('u') && !head[3].contains('b'), "{}", head[3]);
        assert_eq!(body, None);
        assert_eq!(rest["principal"]["key_id"], minted.record.id.as_str());
        assert_eq!(rest["rate_write"]["expected"], serde_json::Value::Null);
        assert!(rest["decision"].is_null());
        assert!(!rest.to_string().contains(minted.key.expose()));
    }

    #[test]
    fn denials_carry_the_body_and_the_full_decision_when_asked() {
        let engine = engine();
        let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
        let v = engine.begin("GET", "/v1/briefs", &[("Authorization", "Bearer nope")], None, now);
        let text = decided(v.finish(), true);
        let (head, rest, body) = parts(&text);
        assert_eq!(head[0], "0");
        assert_eq!(head[1], "401");
        assert_eq!(head[3], "b");
        // The body follows as it is, byte for byte the decision's.
        assert_eq!(body, rest["decision"]["body"].as_str());
        assert!(body.is_some_and(|b| b.starts_with('{') && b.contains("invalid")));
        assert!(rest.get("body").is_none());
        assert_eq!(rest["decision"]["allowed"], false);
    }
}
