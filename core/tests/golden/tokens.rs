//! Access-token verification vectors (`decisions` files): tokens issued with
//! fixed Ed25519 and HS256 keys at a fixed clock, then presented as Bearer
//! credentials, valid and forged. One file confirms each token's key record by
//! key id (`record_id` hands the record over); one trusts tokens alone.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use keyproof::token::{b64url, TokenKey};
use keyproof::{Jwk, KeyRecord, KeyStatus, RateLimitState, TokenConfig, TokenOptions};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{bearer, req, req_ip, seeded, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![confirmed(), offline(), revoked()]
}

/// The fixed token keys: the current Ed25519 key, the previous one (still
/// verifying: rotation by kid) and an HS256 secret.
pub fn keys() -> Vec<Jwk> {
    vec![
        Jwk::ed25519(&seeded("tokens/ed-2026-03"), "ed-2026-03").unwrap(),
        Jwk::ed25519(&seeded("tokens/ed-2026-01"), "ed-2026-01").unwrap(),
        Jwk::hs256(&seeded("tokens/hs-1"), "hs-1").unwrap(),
    ]
}

pub fn tokens_config(issuer: &str, audience: &str, confirm_record: bool) -> Value {
    json!({
        "issuer": issuer,
        "audience": audience,
        "lifetime_seconds": 900,
        "leeway_seconds": 30,
        "confirm_record": confirm_record,
        "algorithms": ["EdDSA", "HS256"],
        "signing_kid": "ed-2026-03",
        "keys": keys(),
    })
}

const ISSUER: &str = "https://identity.matchii.ai/";
const AUDIENCE: &str = "https://api.matchii.ai";

fn suite(name: &str, description: &str, confirm_record: bool) -> Suite {
    Suite::new(
        name,
        description,
        json!({
            "formats": ["matchii_live"],
            "policy": {
                "realm": "api.matchii.ai",
                "environments": ["live"],
                "routes": [
                    {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
                    {"method": "POST", "path": "/v1/briefs", "all_of": ["briefs:write"]},
                    {"method": "POST", "path": "/v1/sessions", "credential_kinds": ["sdk_token"]}
                ],
                "plans": {"starter": {"limit": 60, "burst": 10}},
                "default_plan": "starter"
            },
            "tokens": tokens_config(ISSUER, AUDIENCE, confirm_record),
        }),
    )
}

fn mint(s: &mut Suite, id: &str, scopes: &[&str], extra: Value) -> KeyRecord {
    let mut options = json!({"name": id, "id": id, "scopes": scopes});
    if let (Some(o), Some(e)) = (options.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    s.mint(id, "matchii_live", options);
    s.records.last().unwrap().clone()
}

/// Issues a token from `record` at `at` with `options` and the suite's engine
/// (or `config`'s tokens section instead).
fn issue(s: &Suite, record: &KeyRecord, options: Value, at: DateTime<Utc>, config: Option<Value>) -> String {
    let engine = match config {
        Some(c) => s.engine.with_tokens(serde_json::from_value::<TokenConfig>(c).unwrap()).unwrap(),
        None => s.engine.clone(),
    };
    let options: TokenOptions = serde_json::from_value(options).unwrap();
    let random = seeded(&format!("jti/{}/{}", record.id, at.timestamp()));
    engine.issue_token(record, &options, &random, at).unwrap().access_token.expose().to_string()
}

fn segments(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    let dec = |p: &str| -> Value {
        serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).unwrap())
            .unwrap()
    };
    (dec(parts[0]), dec(parts[1]))
}

fn forge(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

fn ed_key() -> TokenKey {
    TokenKey::from_jwk(&keys()[0]).unwrap()
}

/// The attacks every verifier must refuse, built from a valid token.
fn forgeries(s: &mut Suite, valid: &str, id: &str) {
    let (header, claims) = segments(valid);
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let flipped = match sig.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &sig[1..]),
    };
    let case = |s: &mut Suite, name: &str, code: &str, token: String| {
        s.case_full(name, code, req("GET", "/v1/briefs", bearer(&token)), t0(), None, Some(id));
    };
    case(s, "tampered signature", "bad_token_signature", format!("{head}.{payload}.{flipped}"));
    let mut widened = claims.clone();
    widened["scope"] = json!("briefs:read briefs:write");
    let widened = format!("{head}.{}.{sig}", b64url(widened.to_string().as_bytes()));
    case(s, "tampered claims: scope widened, signature kept", "bad_token_signature", widened);
    let mut unknown = header.clone();
    unknown["kid"] = json!("ed-2025-12");
    case(s, "unknown kid", "unknown_token_key", forge(&unknown, &claims, |i| ed_key().sign(i).unwrap()));
    let none = json!({"alg": "none", "typ": "at+jwt", "kid": "ed-2026-03"});
    case(s, "alg none without a signature", "token_algorithm_not_allowed", forge(&none, &claims, |_| Vec::new()));
    // The classic confusion: HS256 keyed with the Ed25519 public key, which is public.
    let public =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, keys()[0].x.as_deref().unwrap())
            .unwrap();
    let swapped = json!({"alg": "HS256", "typ": "at+jwt", "kid": "ed-2026-03"});
    let hs =
        |i: &[u8]| Hmac::<Sha256>::new_from_slice(&public).unwrap().chain_update(i).finalize().into_bytes().to_vec();
    case(
        s,
        "alg swapped to HS256 with the public key as secret",
        "token_algorithm_not_allowed",
        forge(&swapped, &claims, hs),
    );
    let jwt = json!({"alg": "EdDSA", "typ": "JWT", "kid": "ed-2026-03"});
    case(s, "typ JWT instead of at+jwt", "malformed_token", forge(&jwt, &claims, |i| ed_key().sign(i).unwrap()));
    case(s, "JWS-shaped garbage", "malformed_token", "abc.def.ghi".to_string());
}

fn common(s: &mut Suite) -> (KeyRecord, KeyRecord) {
    let reader = mint(s, "key_7f3a9c21", &["briefs:read"], json!({}));
    let writer = mint(s, "key_0b4d2e88", &["briefs:read", "briefs:write"], json!({"allowed_ips": ["203.0.113.0/24"]}));
    (reader, writer)
}

fn confirmed() -> VectorFile {
    let mut s = suite(
        "tokens_verification",
        "Access tokens (RFC 9068 JWTs, EdDSA and HS256) as Bearer credentials, confirm_record: each use looks the key's record up by key id",
        true,
    );
    let (reader, writer) = common(&mut s);
    let revoked = mint(&mut s, "key_5c6e1a90", &["briefs:read"], json!({}));
    let at = t0() - Duration::seconds(60);
    let token = issue(&s, &reader, json!({}), at, None);
    let id = Some(reader.id.as_str());
    let briefs = |t: &str| req("GET", "/v1/briefs", bearer(t));
    s.case_full("EdDSA token on its key's route", "ok", briefs(&token), t0(), None, id);
    let key = s.mint(
        "reader-key",
        "matchii_live",
        json!({"name": "plain key", "id": "key_11aa22bb", "scopes": ["briefs:read"]}),
    );
    s.case("the key itself still works next to tokens", "ok", briefs(&key));
    let mut hs_config = tokens_config(ISSUER, AUDIENCE, true);
    hs_config["signing_kid"] = json!("hs-1");
    let hs = issue(&s, &reader, json!({}), at, Some(hs_config));
    s.case_full("HS256 token", "ok", briefs(&hs), t0(), None, id);
    let mut old_config = tokens_config(ISSUER, AUDIENCE, true);
    old_config["signing_kid"] = json!("ed-2026-01");
    let old = issue(&s, &reader, json!({}), at, Some(old_config));
    s.case_full(
        "token signed by the previous key still verifies (rotation by kid)",
        "ok",
        briefs(&old),
        t0(),
        None,
        id,
    );
    let exp = at + Duration::seconds(900);
    s.case_full("past exp but inside the 30 s leeway", "ok", briefs(&token), exp + Duration::seconds(29), None, id);
    s.case_full("expired", "token_expired", briefs(&token), exp + Duration::seconds(30), None, id);
    let future = issue(&s, &reader, json!({}), t0() + Duration::minutes(10), None);
    s.case_full("not yet valid", "token_not_yet_valid", briefs(&future), t0(), None, id);
    forgeries(&mut s, &token, &reader.id);
    let other_aud = issue(&s, &reader, json!({}), at, Some(tokens_config(ISSUER, "https://api.other.example", true)));
    s.case_full("wrong audience", "wrong_token_audience", briefs(&other_aud), t0(), None, id);
    let other_iss = issue(&s, &reader, json!({}), at, Some(tokens_config("https://evil.example/", AUDIENCE, true)));
    s.case_full("wrong issuer", "wrong_token_issuer", briefs(&other_iss), t0(), None, id);
    let write = |t: &str| req("POST", "/v1/briefs", bearer(t));
    s.case_full("read-only token on a write route", "insufficient_scope", write(&token), t0(), None, id);
    let wid = Some(writer.id.as_str());
    let derived = issue(&s, &writer, json!({"scopes": ["briefs:read"]}), at, None);
    let inside = |r: keyproof::Request| keyproof::Request { client_ip: Some("203.0.113.7".into()), ..r };
    s.case_full(
        "derived read-only token from a writer key cannot write",
        "insufficient_scope",
        inside(write(&derived)),
        t0(),
        None,
        wid,
    );
    s.case_full("derived read-only token reads", "ok", inside(briefs(&derived)), t0(), None, wid);
    // A token minted while its key held briefs:write; the key has lost it since.
    let mut wider = reader.clone();
    wider.scopes.push("briefs:write".into());
    let stale = issue(&s, &wider, json!({}), at, None);
    s.case_full("token claims a scope its key no longer holds", "insufficient_scope", write(&stale), t0(), None, id);
    s.case_full(
        "a key's allowlist travels with its token",
        "ip_not_allowed",
        req_ip("GET", "/v1/briefs", bearer(&derived), "10.0.0.1"),
        t0(),
        None,
        wid,
    );
    let narrow = issue(&s, &writer, json!({"cidrs": ["203.0.113.128/25"]}), at, None);
    s.case_full(
        "token narrowed to a smaller network, used outside it",
        "ip_not_allowed",
        inside(briefs(&narrow)),
        t0(),
        None,
        wid,
    );
    let revoked_token = issue(&s, &revoked, json!({}), at, None);
    let stored = s.records.iter_mut().find(|r| r.id == revoked.id).unwrap();
    stored.status = KeyStatus::Revoked;
    stored.revoked_at = Some(t0() - Duration::seconds(1));
    stored.updated_at = t0() - Duration::seconds(1);
    s.case_full(
        "token of a key revoked since it was issued",
        "key_revoked",
        briefs(&revoked_token),
        t0(),
        None,
        Some(&revoked.id),
    );
    let orphan = KeyRecord { id: "key_deadbeef".into(), ..reader.clone() };
    let orphan = issue(&s, &orphan, json!({}), at, None);
    s.case("token whose key record is gone", "unknown_key", briefs(&orphan));
    restricted(&mut s, &writer, at, true);
    s.finish()
}

/// Route-restricted SDK tokens and rate limits keyed by the key id.
fn restricted(s: &mut Suite, writer: &KeyRecord, at: DateTime<Utc>, confirm: bool) {
    let wid = if confirm { Some(writer.id.as_str()) } else { None };
    let sdk = issue(
        s,
        writer,
        json!({"kind": "sdk_token", "routes": ["/v1/sessions"], "scopes": [], "lifetime_seconds": 300}),
        at,
        None,
    );
    let from = |r: keyproof::Request| keyproof::Request { client_ip: Some("203.0.113.7".into()), ..r };
    s.case_full("SDK token on its one route", "ok", from(req("POST", "/v1/sessions", bearer(&sdk))), t0(), None, wid);
    s.case_full(
        "SDK token on another route",
        "token_route_not_allowed",
        from(req("GET", "/v1/briefs", bearer(&sdk))),
        t0(),
        None,
        wid,
    );
    let pinned = issue(
        s,
        writer,
        json!({"kind": "sdk_token", "routes": ["/v1/sessions"], "scopes": [], "origins": ["https://app.matchii.ai"]}),
        at,
        None,
    );
    let session = |extra: Option<(&str, &str)>| {
        let mut r = from(req("POST", "/v1/sessions", bearer(&pinned)));
        r.headers.extend(extra.map(|(n, v)| (n.to_string(), v.to_string())));
        r
    };
    let site = Some(("Origin", "https://app.matchii.ai"));
    s.case_full("SDK token pinned to its website, from it", "ok", session(site), t0(), None, wid);
    let elsewhere = Some(("Origin", "https://evil.example"));
    s.case_full(
        "SDK token pinned to its website, from another",
        "origin_not_allowed",
        session(elsewhere),
        t0(),
        None,
        wid,
    );
    s.case_full(
        "SDK token pinned to its website, without an origin",
        "origin_not_allowed",
        session(None),
        t0(),
        None,
        wid,
    );
    let token = issue(s, writer, json!({}), at, None);
    let full = Some(RateLimitState { tat_us: (t0() + Duration::seconds(10)).timestamp_micros() });
    s.case_full(
        "rate limit keyed by the key id: bucket empty",
        "rate_limited",
        from(req("GET", "/v1/briefs", bearer(&token))),
        t0(),
        full,
        wid,
    );
}

/// Offline revocation: `tokens.revoked_before` signs every holder out,
/// `revoked_before_by_key` one key's holders, `revoked_jtis` one leaked token; no
/// lookup either way (`confirm_record: false`).
fn revoked() -> VectorFile {
    let mut s = suite(
        "tokens_revoked",
        "Access tokens revoked without a lookup: tokens.revoked_before (every token issued at or before it), tokens.revoked_before_by_key (one key's tokens issued at or before its instant) and tokens.revoked_jtis (single leaked tokens) answer 401 token_revoked (public invalid_key)",
        false,
    );
    let (reader, _) = common(&mut s);
    let cutoff = t0() - Duration::seconds(300);
    let (before, at_cutoff) = (
        issue(&s, &reader, json!({}), cutoff - Duration::seconds(200), None),
        issue(&s, &reader, json!({}), cutoff, None),
    );
    let (after, leaked) = (
        issue(&s, &reader, json!({}), t0() - Duration::seconds(60), None),
        issue(&s, &reader, json!({}), t0() - Duration::seconds(59), None),
    );
    let jti = segments(&leaked).1["jti"].clone();
    assert_ne!(jti, segments(&after).1["jti"], "two tokens, two jtis");
    // One key's tokens signed out: before its own cutoff only, and no other key's.
    let signed_out = mint(&mut s, "key_9e8d7c6b", &["briefs:read"], json!({}));
    let key_cutoff = t0() - Duration::seconds(30);
    let (key_before, key_after) = (
        issue(&s, &signed_out, json!({}), key_cutoff - Duration::seconds(20), None),
        issue(&s, &signed_out, json!({}), key_cutoff + Duration::seconds(10), None),
    );
    let mut config = s.config().clone();
    config["tokens"]["revoked_before"] = json!(keyproof::timestamp::format_timestamp(&cutoff));
    config["tokens"]["revoked_jtis"] = json!([jti]);
    config["tokens"]["revoked_before_by_key"] =
        json!({ signed_out.id.as_str(): keyproof::timestamp::format_timestamp(&key_cutoff) });
    s.reconfigure(config);
    let briefs = |t: &str| req("GET", "/v1/briefs", bearer(t));
    s.case("issued before revoked_before", "token_revoked", briefs(&before));
    s.case("issued in the revoked_before second", "token_revoked", briefs(&at_cutoff));
    s.case("issued after revoked_before", "ok", briefs(&after));
    s.case("its jti listed in revoked_jtis", "token_revoked", briefs(&leaked));
    s.case("its key signed out after it was issued (revoked_before_by_key)", "token_revoked", briefs(&key_before));
    s.case("issued after its key's revoked_before_by_key", "ok", briefs(&key_after));
    s.case("another key's token issued at the same time", "ok", briefs(&after));
    s.finish()
}

fn offline() -> VectorFile {
    let mut s = suite(
        "tokens_offline",
        "Access tokens with confirm_record false: zero lookups, the token alone decides until it expires (a revoked key's token still works)",
        false,
    );
    let (reader, writer) = common(&mut s);
    let at = t0() - Duration::seconds(60);
    let token = issue(&s, &reader, json!({}), at, None);
    let briefs = |t: &str| req("GET", "/v1/briefs", bearer(t));
    s.case("valid token, no lookup", "ok", briefs(&token));
    let mut gone = reader.clone();
    gone.id = "key_c0ffee00".into();
    let revoked = issue(&s, &gone, json!({}), at, None);
    s.case("token of a revoked or deleted key works until it expires", "ok", briefs(&revoked));
    s.case_full("expired", "token_expired", briefs(&token), at + Duration::seconds(930), None, None);
    s.case("read-only token on a write route", "insufficient_scope", req("POST", "/v1/briefs", bearer(&token)));
    let (_, claims) = segments(&token);
    let mut widened = claims.clone();
    widened["scope"] = json!("briefs:read briefs:write");
    let (head, rest) = token.split_once('.').unwrap();
    let sig = rest.split_once('.').unwrap().1;
    let forged = format!("{head}.{}.{sig}", b64url(widened.to_string().as_bytes()));
    s.case("scope escalation by editing claims", "bad_token_signature", req("POST", "/v1/briefs", bearer(&forged)));
    restricted(&mut s, &writer, at, false);
    s.finish()
}
