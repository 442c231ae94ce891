//! Access tokens through the public API: what the golden vectors do not pin —
//! the step's lookup value, writes a zero-lookup decision asks for, secret
//! hygiene of every token-bearing type, and token request parsing corners.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use keyproof::token::{parse_token_request, Keyring};
use keyproof::{mint, Engine, Jwk, KeyRecord, MintOptions, Step, TokenOptions};
use serde_json::json;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap()
}

fn engine(confirm_record: bool) -> Engine {
    Engine::from_json(
        &json!({
            "formats": ["matchii_live"],
            "policy": {"routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]},
            "tokens": {"issuer": "https://i.test/", "audience": "https://a.test/", "confirm_record": confirm_record,
                       "keys": [Jwk::ed25519(&[3; 32], "ed-1").unwrap()]},
        })
        .to_string(),
    )
    .unwrap()
}

fn record(engine: &Engine) -> (String, KeyRecord) {
    let options = MintOptions::from_json(r#"{"name": "k", "scopes": ["briefs:read"]}"#).unwrap();
    let minted =
        mint(engine.formats().get("matchii_live").unwrap(), engine.hasher(), &options, &[5; 64], now()).unwrap();
    (minted.key.expose().to_string(), minted.record)
}

/// Drives a verification; returns the lookup values asked for and the outcome.
fn drive(engine: &Engine, token: &str, store: &[KeyRecord]) -> (Vec<String>, keyproof::Outcome) {
    let headers = [("Authorization", format!("Bearer {token}"))];
    let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now());
    let mut asked = Vec::new();
    loop {
        match v.next_step() {
            Step::LookupRecord(value) => {
                asked.push(value.to_string());
                v.record(store.iter().find(|r| r.id == value || r.hash == value).cloned());
            }
            Step::LoadRateState(_) => v.rate_state(None),
            Step::Done => break,
        }
    }
    (asked, v.finish())
}

#[test]
fn confirm_record_looks_up_the_key_id_and_zero_lookup_asks_for_nothing() {
    for confirm in [true, false] {
        let e = engine(confirm);
        let (_, rec) = record(&e);
        let token = e.issue_token(&rec, &TokenOptions::default(), &[1; 16], now()).unwrap();
        let (asked, outcome) = drive(&e, token.access_token.expose(), std::slice::from_ref(&rec));
        assert!(outcome.decision.allowed, "{}", outcome.decision.detail);
        assert_eq!(outcome.decision.token.as_ref().unwrap().record_confirmed, confirm);
        if confirm {
            assert_eq!(asked, vec![rec.id.clone()]);
            assert!(!asked[0].contains(':'));
            assert!(outcome.touch_last_used.is_some());
        } else {
            assert!(asked.is_empty());
            assert_eq!(outcome.touch_last_used, None, "a zero-lookup decision asks for no write");
            assert_eq!(outcome.rate_write, None);
        }
        let prepared = e.prepare(
            "GET",
            "/v1/briefs",
            &[("Authorization", format!("Bearer {}", token.access_token.expose()))],
            None,
        );
        assert_eq!(prepared.access_token().unwrap().claims.key_id, rec.id);
        assert!(prepared.parsed_key().is_none());
    }
}

#[test]
fn no_token_or_secret_in_debug_output() {
    let e = engine(true);
    let (key, rec) = record(&e);
    let token = e.issue_token(&rec, &TokenOptions::default(), &[1; 16], now()).unwrap();
    let jwt = token.access_token.expose().to_string();
    let signature = jwt.rsplit('.').next().unwrap().to_string();
    assert!(!format!("{token:?}").contains(&signature));
    let body = format!("grant_type=client_credentials&client_id={}&client_secret={key}", rec.id);
    let mut x =
        e.begin_token("POST", &[("Content-Type", "application/x-www-form-urlencoded")], &body, None, now(), &[2; 16]);
    assert!(!format!("{x:?}").contains(&key));
    while let Step::LookupRecord(_) = x.next_step() {
        x.record(Some(rec.clone()));
    }
    let response = x.finish();
    assert_eq!(response.status, 200, "{}", response.detail);
    assert!(!format!("{response:?}").contains("eyJ"));
    let seed = keyproof::token::b64url(&[3; 32]);
    let config = format!("{:?}", e.tokens().unwrap());
    assert!(!config.contains(&seed), "the private key is never printed");
    let ring = Keyring::new(&[Jwk::ed25519(&[3; 32], "ed-1").unwrap()]).unwrap();
    assert!(!ring.public_jwks().to_string().contains(&seed));
}

#[test]
fn token_request_corners() {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let json_type = [("Content-Type", "application/json")];
    let code = |r: keyproof::Result<_>| r.map(|_: keyproof::token::TokenRequest| ()).err().map(|e| e.code());
    assert_eq!(
        code(parse_token_request("POST", &json_type, r#"{"grant_type": ["client_credentials"]}"#)),
        Some("invalid_token_request")
    );
    assert_eq!(code(parse_token_request("POST", &json_type, "[]")), Some("invalid_token_request"));
    assert_eq!(
        code(parse_token_request("POST", &form, "grant_type=client_credentials&client_id=a")),
        Some("missing_credentials")
    );
    assert_eq!(
        code(parse_token_request("POST", &form, "grant_type=client_credentials&client_id=&client_secret=x")),
        Some("empty_token")
    );
    let basic = [("Authorization", "Basic YTpi"), ("Content-Type", "application/x-www-form-urlencoded")];
    assert_eq!(
        code(parse_token_request("POST", &basic, "grant_type=client_credentials&client_id=other")),
        Some("invalid_token_request")
    );
    let ok = parse_token_request("POST", &basic, "grant_type=client_credentials&client_id=a&scope=x%3Ay+z").unwrap();
    assert_eq!(
        (ok.client_id.as_str(), ok.secret.expose(), ok.scopes),
        ("a", "b", Some(vec!["x:y".into(), "z".into()]))
    );
    // RFC 6749 §2.3.1: the client id and secret are form-encoded inside Basic.
    let encoded = [("Authorization", "Basic YSUyRGI6cyUyNStx"), ("Content-Type", "application/x-www-form-urlencoded")];
    let ok = parse_token_request("POST", &encoded, "grant_type=client_credentials").unwrap();
    assert_eq!((ok.client_id.as_str(), ok.secret.expose()), ("a-b", "s% q"));
    // A JSON member given twice is refused like a repeated form field (not "last wins").
    assert_eq!(
        code(parse_token_request(
            "POST",
            &json_type,
            r#"{"grant_type": "client_credentials", "client_id": "a", "client_secret": "x", "client_secret": "y"}"#
        )),
        Some("invalid_token_request")
    );
    let twice = [("Content-Type", "application/json"), ("content-type", "application/json")];
    assert_eq!(code(parse_token_request("POST", &twice, "{}")), Some("duplicate_header"));
    let big = "a".repeat(keyproof::token::MAX_TOKEN_BODY_BYTES + 1);
    assert_eq!(code(parse_token_request("POST", &form, &big)), Some("invalid_token_request"));
}

#[test]
fn tokens_never_outlive_their_key() {
    let e = engine(true);
    let (_, mut rec) = record(&e);
    rec.expires_at = Some(now() + chrono::Duration::seconds(90));
    let token = e.issue_token(&rec, &TokenOptions::default(), &[1; 16], now()).unwrap();
    assert_eq!((token.expires_in, token.claims.exp), (90, now().timestamp() + 90));
    let options = TokenOptions { kind: Some(keyproof::CredentialKind::SdkToken), ..TokenOptions::default() };
    assert_eq!(e.issue_token(&rec, &options, &[1; 16], now()).unwrap().claims.kind, keyproof::CredentialKind::SdkToken);
    let mut publishable = rec.clone();
    publishable.kind = keyproof::CredentialKind::Publishable;
    let options = TokenOptions { kind: Some(keyproof::CredentialKind::Secret), ..TokenOptions::default() };
    assert_eq!(
        e.issue_token(&publishable, &options, &[1; 16], now()).err().map(|e| e.code()),
        Some("scope_not_granted")
    );
}

#[test]
fn revocation_settings_are_bounded_and_apply_to_offline_verification() {
    let tokens = |extra: serde_json::Value| {
        let mut config = json!({"issuer": "https://i.test/", "audience": "https://a.test/",
                                "keys": [Jwk::ed25519(&[3; 32], "ed-1").unwrap()]});
        config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        keyproof::token::TokenConfig::from_json(&config.to_string()).map_err(|e| e.code())
    };
    let many: Vec<String> = (0..10_001).map(|i| format!("jti-{i}")).collect();
    assert_eq!(tokens(json!({"revoked_jtis": many})).err(), Some("invalid_policy"));
    assert_eq!(tokens(json!({"revoked_jtis": ["has space"]})).err(), Some("invalid_policy"));
    assert_eq!(tokens(json!({"revoked_before": "yesterday"})).err(), Some("invalid_timestamp"));
    let keys: serde_json::Map<String, serde_json::Value> =
        (0..10_001).map(|i| (format!("key_{i}"), json!("2026-03-18T10:30:00Z"))).collect();
    assert_eq!(tokens(json!({"revoked_before_by_key": keys})).err(), Some("invalid_policy"));
    assert_eq!(
        tokens(json!({"revoked_before_by_key": {"a key": "2026-03-18T10:30:00Z"}})).err(),
        Some("invalid_policy")
    );
    assert_eq!(tokens(json!({"revoked_before_by_key": {"key_1": "yesterday"}})).err(), Some("invalid_timestamp"));
    assert_eq!(tokens(json!({"revoked_before_by_key": {"key_1": 1_773_829_800}})).err(), Some("invalid_timestamp"));
    let by_key = tokens(json!({"revoked_before_by_key": {"key_1": "2026-03-18T12:30:00+02:00"}})).unwrap();
    assert_eq!(
        serde_json::to_value(&by_key).unwrap()["revoked_before_by_key"],
        json!({"key_1": "2026-03-18T10:30:00Z"})
    );
    // Engine::verify_token (offline verification) refuses a revoked token too.
    let e = engine(false);
    let (_, record) = record(&e);
    let issued = e.issue_token(&record, &TokenOptions::default(), &[9; 32], now()).unwrap();
    let token = issued.access_token.expose();
    assert!(e.verify_token(token, now()).is_ok());
    let revoked = e.with_tokens(tokens(json!({"revoked_before": "2026-03-18T10:30:00Z"})).unwrap()).unwrap();
    assert_eq!(revoked.verify_token(token, now()).map_err(|e| e.code()).err(), Some("token_revoked"));
    // One key's tokens signed out: only that key's, only those issued by then.
    let signed_out = |id: &str, at: &str| {
        e.with_tokens(tokens(json!({"revoked_before_by_key": {id: at}})).unwrap()).unwrap().verify_token(token, now())
    };
    assert_eq!(signed_out(&record.id, "2026-03-18T10:30:00Z").map_err(|e| e.code()).err(), Some("token_revoked"));
    assert!(signed_out(&record.id, "2026-03-18T10:29:59Z").is_ok(), "issued after its key's cutoff");
    assert!(signed_out("key_other", "2026-03-18T10:30:00Z").is_ok(), "another key's cutoff");
}

#[test]
fn a_token_narrowed_to_one_resource_opens_that_resource_only() {
    let e = Engine::from_json(
        &json!({
            "formats": ["matchii_live"],
            "policy": {"routes": [{"method": "GET", "path": "/v1/projects/{project}", "all_of": ["projects:{project}:read"]}]},
            "tokens": {"issuer": "https://i.test/", "audience": "https://a.test/", "confirm_record": false,
                       "keys": [Jwk::ed25519(&[3; 32], "ed-1").unwrap()]},
        })
        .to_string(),
    )
    .unwrap();
    let options = MintOptions::from_json(r#"{"name": "k", "scopes": ["projects:*"]}"#).unwrap();
    let rec = mint(e.formats().get("matchii_live").unwrap(), e.hasher(), &options, &[5; 64], now()).unwrap().record;
    let narrowed = TokenOptions { scopes: Some(vec!["projects:p_1:read".into()]), ..TokenOptions::default() };
    let token = e.issue_token(&rec, &narrowed, &[1; 16], now()).unwrap();
    let decide = |path: &str| {
        let headers = [("Authorization", format!("Bearer {}", token.access_token.expose()))];
        let v = e.begin("GET", path, &headers, None, now());
        assert_eq!(v.next_step(), Step::Done, "a zero-lookup token needs no I/O");
        v.finish().decision
    };
    assert!(decide("/v1/projects/p_1").allowed);
    let other = decide("/v1/projects/p_2");
    assert_eq!((other.code, other.missing_scope.as_deref()), ("insufficient_scope", Some("projects:p_2:read")));
}
