//! Access tokens near valid ones: tokens this engine issued (EdDSA and HS256,
//! live, narrowed, expired, revoked by `revoked_before`, by `revoked_before_by_key`
//! and by `revoked_jtis`)
//! with fuzzed byte edits — overwrite, insert, delete, splice another token's
//! part — through offline verification and the zero-lookup verification step.
//!
//! Input: control bytes (see `keyproof_fuzz::Input`): the base token, then edits
//! of three bytes each (kind, position, byte).
//! Invariants: no panic; a token verifies only when it is, byte for byte, a live
//! token this engine issued (an edit can change neither what is signed nor the
//! signature's encoding); expired and revoked tokens never verify; the step
//! allows exactly the tokens `verify_token` accepts (once the header's spaces and
//! tabs are trimmed), with every decision invariant.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use keyproof::{Engine, Jwk, MintOptions, Step, TokenOptions};
use keyproof_fuzz::{check_decision, Input, BASE_SECS};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

struct World {
    engine: Engine,
    /// Each issued token and whether it should verify at `now`.
    tokens: Vec<(String, bool)>,
    now: DateTime<Utc>,
}

fn tokens_config(signing_kid: &str, revoked_jtis: &[String], by_key: &serde_json::Value) -> serde_json::Value {
    json!({
        "issuer": "https://i.fuzz/", "audience": "https://a.fuzz/", "confirm_record": false,
        "algorithms": ["EdDSA", "HS256"], "signing_kid": signing_kid,
        "revoked_before": "2026-03-18T09:00:00Z", "revoked_jtis": revoked_jtis, "revoked_before_by_key": by_key,
        "keys": [Jwk::ed25519(&[3; 32], "ed-1").expect("ed key"), Jwk::hs256(&[4; 32], "hs-1").expect("hs key")],
    })
}

fn engine(signing_kid: &str, revoked_jtis: &[String], by_key: &serde_json::Value) -> Engine {
    let config = json!({
        "formats": ["keyproof_live"],
        "policy": {"routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]},
        "tokens": tokens_config(signing_kid, revoked_jtis, by_key),
    });
    Engine::from_json(&config.to_string()).expect("tokens engine")
}

fn world() -> &'static World {
    static CELL: OnceLock<World> = OnceLock::new();
    CELL.get_or_init(|| {
        let now = DateTime::from_timestamp(BASE_SECS, 0).unwrap_or_default();
        let (ed, hs) = (engine("ed-1", &[], &json!({})), engine("hs-1", &[], &json!({})));
        let options = MintOptions::from_json(r#"{"name": "Fuzzed", "scopes": ["briefs:read", "briefs:write"]}"#);
        let record = ed.mint(None, &options.expect("options"), &[7; 64], now).expect("mint").record;
        let narrowed = TokenOptions::from_json(r#"{"scopes": ["briefs:read"]}"#).expect("narrowed");
        // A second key whose tokens were signed out at `now - 45 s` (revoked_before_by_key).
        let mut signed_out = record.clone();
        signed_out.id = "key_5160ed00".into();
        let issue_for = |r: &keyproof::KeyRecord, e: &Engine, options: &TokenOptions, at: DateTime<Utc>, seed: u8| {
            let issued = e.issue_token(r, options, &[seed; 32], at).expect("issue");
            issued.access_token.expose().to_string()
        };
        let issue =
            |e: &Engine, options: &TokenOptions, at: DateTime<Utc>, seed: u8| issue_for(&record, e, options, at, seed);
        let plain = TokenOptions::default();
        let leaked = issue(&ed, &plain, now - Duration::seconds(30), 5);
        let jti = leaked.split('.').nth(1).and_then(|p| {
            let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["jti"].as_str().map(str::to_string)
        });
        let tokens = vec![
            (issue(&ed, &plain, now - Duration::seconds(60), 1), true),
            (issue(&hs, &plain, now - Duration::seconds(60), 2), true),
            (issue(&ed, &narrowed, now - Duration::seconds(60), 3), true),
            (issue(&ed, &plain, now - Duration::hours(2), 4), false), // expired (one hour lifetime)
            (issue(&ed, &plain, now - Duration::seconds(5400), 6), false), // issued before revoked_before
            (leaked, false),                                          // its jti is revoked
            (issue_for(&signed_out, &ed, &plain, now - Duration::seconds(50), 8), false), // before its key's cutoff
            (issue_for(&signed_out, &hs, &plain, now - Duration::seconds(40), 9), true), // after it
        ];
        let by_key = json!({"key_5160ed00": "2026-03-18T10:29:15Z"});
        World { engine: engine("ed-1", &[jti.expect("jti")], &by_key), tokens, now }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let mut input = Input::new(data);
    let (base, _) = &w.tokens[input.choose(w.tokens.len())];
    let mut token = base.clone().into_bytes();
    while input.remaining_ctl() >= 3 {
        let (kind, at, byte) = (input.u8(), usize::from(input.u8()), input.u8());
        let pos = if token.is_empty() { 0 } else { at % token.len() };
        match kind % 5 {
            0 => {
                if let Some(b) = token.get_mut(pos) {
                    *b = byte;
                }
            }
            1 => token.insert(pos, byte),
            2 => {
                if pos < token.len() {
                    token.remove(pos);
                }
            }
            3 => {
                // Splice: this token up to `pos`, another token from the same offset on.
                let (other, _) = &w.tokens[usize::from(byte) % w.tokens.len()];
                let tail = other.as_bytes().get(pos..).unwrap_or_default();
                token.truncate(pos);
                token.extend_from_slice(tail);
            }
            _ => token.truncate(pos),
        }
    }
    let token = String::from_utf8_lossy(&token).into_owned();
    let live = w.tokens.iter().any(|(t, ok)| *ok && *t == token);
    let verified = w.engine.verify_token(&token, w.now);
    assert_eq!(verified.is_ok(), live, "verify_token on {token:?}: {:?}", verified.err().map(|e| e.code()));

    // The header's value is trimmed of spaces and tabs (HTTP's OWS) before it is read.
    let trimmed = token.trim_matches([' ', '\t']);
    let live_in_header = w.tokens.iter().any(|(t, ok)| *ok && t == trimmed);
    let headers = [("Authorization", format!("Bearer {token}"))];
    let v = w.engine.begin("GET", "/v1/briefs", &headers, None, w.now);
    assert_eq!(v.next_step(), Step::Done, "confirm_record is off: no lookup");
    let outcome = v.finish();
    check_decision(w.engine.policy(), &outcome.decision);
    let code = outcome.decision.code;
    assert_eq!(outcome.decision.allowed, live_in_header, "the step and verify_token disagree: {code} on {token:?}");
});
