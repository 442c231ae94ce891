//! Token endpoint vectors (kind `tokens`): client-credentials requests (RFC 6749
//! §4.4) answered through the I/O-free exchange step, derived tokens issued from
//! a record, and token configurations that must be refused. Seed 002's
//! deployment: client id + client secret → access token.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use keyproof::{Engine, EngineConfig, KeyRecord, KeyStatus, Step, TokenOptions};
use serde_json::{json, Value};

use super::tokens::tokens_config;
use super::{seeded, t0, Suite, VectorFile};

const CLIENT: &str = "UajESGdi9hMM9v3IsPv7NLYZfJ1uo53i";

fn config() -> Value {
    json!({
        "formats": ["matatika_client_secret"],
        "policy": {
            "realm": "app.matatika.com",
            "credentials": {"methods": ["basic", "bearer"]},
            "routes": [
                {"method": ["GET", "POST"], "path": "/api/apikeys", "credential_kinds": ["client_secret"], "all_of": ["apikeys:read"]},
                {"method": "*", "path": "/api/**", "credential_kinds": ["client_secret"]}
            ]
        },
        "tokens": tokens_config("https://identity.matatika.com/", "https://app.matatika.com/api", true),
    })
}

/// Answers one `request` vector: the exchange step driven like a host would.
pub fn answer(engine: &Engine, records: &[KeyRecord], v: &Value) -> Value {
    let r = &v["request"];
    let headers: Vec<(String, String)> = serde_json::from_value(r["headers"].clone()).unwrap();
    let now = keyproof::timestamp::parse_timestamp(v["now"].as_str().unwrap()).unwrap();
    let random = hex::decode(v["random_hex"].as_str().unwrap()).unwrap();
    let mut exchange = engine.begin_token(
        r["method"].as_str().unwrap(),
        &headers,
        r["body"].as_str().unwrap(),
        r["client_ip"].as_str(),
        now,
        &random,
    );
    while let Step::LookupRecord(hash) = exchange.next_step() {
        exchange.record(records.iter().find(|rec| rec.hash == hash).cloned());
    }
    serde_json::from_str(&exchange.finish().to_json()).unwrap()
}

/// Answers one `derive` vector: `Engine::issue_token` for the named record.
pub fn derive(engine: &Engine, records: &[KeyRecord], v: &Value) -> Value {
    let record = records.iter().find(|r| r.id == v["record_id"].as_str().unwrap()).unwrap();
    let options = TokenOptions::from_json(&v["options"].to_string()).unwrap();
    let now = keyproof::timestamp::parse_timestamp(v["now"].as_str().unwrap()).unwrap();
    let random = hex::decode(v["random_hex"].as_str().unwrap()).unwrap();
    match engine.issue_token(record, &options, &random, now) {
        Ok(t) => json!({"ok": true, "access_token": t.access_token.expose(), "claims": t.claims, "kid": t.kid}),
        Err(e) => json!({"ok": false, "code": e.code()}),
    }
}

/// Answers one `config` vector: an engine built from `input`.
pub fn load(v: &Value) -> Value {
    match EngineConfig::from_json(&v["input"].to_string()).and_then(|c| Engine::from_config(c, None)) {
        Ok(_) => json!({"ok": true}),
        Err(e) => json!({"ok": false, "code": e.code()}),
    }
}

/// Runs a `tokens` file in place; returns the codes it covers.
pub fn run(file: &Value) -> Vec<String> {
    let engine = Engine::from_config(serde_json::from_value(file["config"].clone()).unwrap(), None).unwrap();
    let records: Vec<KeyRecord> =
        file["records"].as_array().unwrap().iter().map(|r| KeyRecord::from_json(&r.to_string()).unwrap()).collect();
    let mut codes = Vec::new();
    for v in file["vectors"].as_array().unwrap() {
        let got = match v["op"].as_str().unwrap() {
            "request" => answer(&engine, &records, v),
            "derive" => derive(&engine, &records, v),
            "config" => load(v),
            other => panic!("unknown op {other}"),
        };
        assert_eq!(got, v["expected"], "{}", v["name"]);
        codes.push(got["code"].as_str().unwrap_or("ok").to_string());
    }
    codes
}

struct Gen {
    suite: Suite,
    engine: Engine,
    records: Vec<KeyRecord>,
    vectors: Vec<Value>,
}

impl Gen {
    fn mint(&mut self, label: &str, options: Value, edit: impl FnOnce(&mut KeyRecord)) -> String {
        let key = self.suite.mint_with(label, "matatika_client_secret", options, edit);
        self.records = self.suite.records.clone();
        key
    }

    fn push(&mut self, expect: &str, mut v: Value) {
        let got = match v["op"].as_str().unwrap() {
            "request" => answer(&self.engine, &self.records, &v),
            "derive" => derive(&self.engine, &self.records, &v),
            _ => load(&v),
        };
        assert_eq!(got["code"].as_str().unwrap_or("ok"), expect, "{}: {got}", v["name"]);
        assert!(self.vectors.iter().all(|o| o["name"] != v["name"]), "duplicate {}", v["name"]);
        v["expected"] = got;
        self.vectors.push(v);
    }

    fn request(&mut self, name: &str, expect: &str, method: &str, headers: Vec<(&str, String)>, body: &str) {
        self.request_from("203.0.113.9", name, expect, method, headers, body);
    }

    fn request_from(
        &mut self,
        ip: &str,
        name: &str,
        expect: &str,
        method: &str,
        headers: Vec<(&str, String)>,
        body: &str,
    ) {
        let label = format!("jti/{name}");
        self.push(
            expect,
            json!({
                "name": name, "op": "request",
                "request": {"method": method, "headers": headers, "body": body, "client_ip": ip},
                "now": keyproof::timestamp::format_timestamp(&t0()),
                "random_hex": hex::encode(&seeded(&label)[..16]),
            }),
        );
    }

    fn derive(&mut self, name: &str, expect: &str, record_id: &str, options: Value, now: DateTime<Utc>) {
        self.push(
            expect,
            json!({
                "name": name, "op": "derive", "record_id": record_id, "options": options,
                "now": keyproof::timestamp::format_timestamp(&now),
                "random_hex": hex::encode(&seeded(&format!("jti/{name}"))[..16]),
            }),
        );
    }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

pub fn suite() -> VectorFile {
    let config = config();
    let engine = Engine::from_config(serde_json::from_value(config.clone()).unwrap(), None).unwrap();
    let suite = Suite::new("tokens", "", config.clone());
    let mut g = Gen { suite, engine, records: Vec::new(), vectors: Vec::new() };
    let secret = g.mint(
        "cli",
        json!({"name": "default", "id": "6418582c-d796-4fc9-b3e3-228d1c956a3b", "client_id": CLIENT,
        "scopes": ["apikeys:read", "workspaces:read"], "allowed_ips": ["203.0.113.0/24"]}),
        |_| {},
    );
    let other = g.mint("other", json!({"name": "other", "id": "9904cf92-2202-48c0-a751-a9724e32c98e", "client_id": "jhohrZiQvdnYu2T4zyhhjUpV3J8RqXqk"}), |_| {});
    let revoked = g.mint("revoked", json!({"name": "deleted", "id": "c37bb094-b026-4ef3-884a-aeb2c2878479", "client_id": "G74LfXUIlm4fkxmfgsjQHJXBqEwED6CR"}), |r| {
        r.status = KeyStatus::Revoked;
        r.revoked_at = Some(t0() - Duration::days(2));
        r.updated_at = t0() - Duration::days(2);
    });
    let site = g.mint("site", json!({"name": "web app", "id": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "client_id": "Wq2bPzX7yT4kLm9NcVr3HsD8fJ6gAe1U",
        "scopes": ["apikeys:read"], "allowed_origins": ["https://*.matatika.com"]}), |_| {});
    let form = |extra: &str| ("Content-Type", format!("application/x-www-form-urlencoded{extra}"));
    let grant = "grant_type=client_credentials";
    g.request(
        "Basic client authentication, form body",
        "ok",
        "POST",
        vec![("Authorization", basic(CLIENT, &secret)), form("")],
        grant,
    );
    let body = format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={secret}");
    g.request("client_id and client_secret in the form body", "ok", "POST", vec![form("; charset=UTF-8")], &body);
    let json_body =
        json!({"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": secret}).to_string();
    g.request("JSON body", "ok", "POST", vec![("Content-Type", "application/json".into())], &json_body);
    let auth = || ("Authorization", basic(CLIENT, &secret));
    g.request(
        "scope narrowed to one of the key's scopes",
        "ok",
        "POST",
        vec![auth(), form("")],
        "grant_type=client_credentials&scope=apikeys%3Aread",
    );
    g.request(
        "scope the key lacks",
        "scope_not_granted",
        "POST",
        vec![auth(), form("")],
        "grant_type=client_credentials&scope=apikeys%3Aread+admin",
    );
    g.request(
        "malformed scope",
        "scope_not_granted",
        "POST",
        vec![auth(), form("")],
        "grant_type=client_credentials&scope=a%22b",
    );
    g.request(
        "password grant",
        "unsupported_grant_type",
        "POST",
        vec![auth(), form("")],
        "grant_type=password&username=a&password=b",
    );
    g.request("no grant_type", "invalid_token_request", "POST", vec![auth(), form("")], "scope=apikeys%3Aread");
    g.request("GET is not a token request", "invalid_token_request", "GET", vec![auth(), form("")], grant);
    g.request(
        "text/plain body",
        "invalid_token_request",
        "POST",
        vec![auth(), ("Content-Type", "text/plain".into())],
        grant,
    );
    g.request(
        "grant_type twice",
        "invalid_token_request",
        "POST",
        vec![auth(), form("")],
        "grant_type=client_credentials&grant_type=client_credentials",
    );
    let both = format!("{grant}&client_id={CLIENT}&client_secret={secret}");
    g.request("Basic and body credentials together", "invalid_token_request", "POST", vec![auth(), form("")], &both);
    let mut wrong = secret.clone();
    wrong.replace_range(10..11, if &wrong[10..11] == "A" { "B" } else { "A" });
    g.request(
        "wrong secret: 401 invalid_client",
        "unknown_key",
        "POST",
        vec![("Authorization", basic(CLIENT, &wrong)), form("")],
        grant,
    );
    g.request(
        "secret with another key's client id",
        "client_id_mismatch",
        "POST",
        vec![("Authorization", basic(CLIENT, &other)), form("")],
        grant,
    );
    g.request("no client credentials", "missing_credentials", "POST", vec![form("")], grant);
    g.request(
        "Basic credentials not base64",
        "invalid_basic_credentials",
        "POST",
        vec![("Authorization", "Basic !!!".into()), form("")],
        grant,
    );
    g.request(
        "revoked key",
        "key_revoked",
        "POST",
        vec![("Authorization", basic("G74LfXUIlm4fkxmfgsjQHJXBqEwED6CR", &revoked)), form("")],
        grant,
    );
    g.request_from(
        "10.0.0.1",
        "from outside the key's allowlist",
        "ip_not_allowed",
        "POST",
        vec![auth(), form("")],
        grant,
    );
    let site_auth = || ("Authorization", basic("Wq2bPzX7yT4kLm9NcVr3HsD8fJ6gAe1U", &site));
    let from_app = ("Origin", "https://app.matatika.com".to_string());
    g.request(
        "a key with an origin allowlist, from its website",
        "ok",
        "POST",
        vec![site_auth(), form(""), from_app],
        grant,
    );
    g.request(
        "a key with an origin allowlist, without an origin",
        "origin_not_allowed",
        "POST",
        vec![site_auth(), form("")],
        grant,
    );
    let id = "6418582c-d796-4fc9-b3e3-228d1c956a3b";
    g.derive("derived token narrowed to routes, scope, network and kind", "ok", id,
        json!({"scopes": ["apikeys:read"], "routes": ["/api/apikeys"], "cidrs": ["203.0.113.64/26"], "lifetime_seconds": 300}), t0());
    g.derive(
        "derived token asks for a scope the key lacks",
        "scope_not_granted",
        id,
        json!({"scopes": ["admin"]}),
        t0(),
    );
    g.derive(
        "derived token names a route outside the policy",
        "scope_not_granted",
        id,
        json!({"routes": ["/api/admin"]}),
        t0(),
    );
    g.derive("derived token widens the network", "scope_not_granted", id, json!({"cidrs": ["0.0.0.0/0"]}), t0());
    g.derive("derived token pinned to a website", "ok", id, json!({"origins": ["https://app.matatika.com"]}), t0());
    let site_id = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
    g.derive("derived token inherits its key's origins", "ok", site_id, json!({}), t0());
    g.derive(
        "derived token narrows its key's origins",
        "ok",
        site_id,
        json!({"origins": ["https://eu.matatika.com"]}),
        t0(),
    );
    g.derive(
        "derived token widens the origins",
        "scope_not_granted",
        site_id,
        json!({"origins": ["https://evil.example"]}),
        t0(),
    );
    g.derive("derived token widens the kind", "scope_not_granted", id, json!({"kind": "secret"}), t0());
    g.derive(
        "derived token outlives the configured lifetime",
        "scope_not_granted",
        id,
        json!({"lifetime_seconds": 901}),
        t0(),
    );
    g.derive(
        "derived token from a revoked key",
        "key_revoked",
        "c37bb094-b026-4ef3-884a-aeb2c2878479",
        json!({}),
        t0(),
    );
    g.push(
        "insufficient_randomness",
        json!({"name": "too few random bytes for the jti", "op": "derive", "record_id": id,
        "options": {}, "now": keyproof::timestamp::format_timestamp(&t0()), "random_hex": "00"}),
    );
    let mut bad = config.clone();
    bad["tokens"]["keys"][2]["k"] = json!("c2hvcnQ");
    g.push("invalid_token_key", json!({"name": "HS256 secret shorter than 32 bytes", "op": "config", "input": bad}));
    let mut public_only = config.clone();
    for k in public_only["tokens"]["keys"].as_array_mut().unwrap() {
        k.as_object_mut().unwrap().remove("d");
    }
    public_only["tokens"]["algorithms"] = json!(["EdDSA"]);
    public_only["tokens"]["keys"].as_array_mut().unwrap().truncate(2);
    public_only["tokens"]["signing_kid"] = json!(null);
    g.push(
        "ok",
        json!({"name": "verify-only keys (an edge with the public JWKS)", "op": "config", "input": public_only}),
    );
    let mut alg = config.clone();
    alg["tokens"]["algorithms"] = json!(["EdDSA"]);
    g.push(
        "invalid_token_key",
        json!({"name": "an HS256 key where only EdDSA is accepted", "op": "config", "input": alg}),
    );
    let records: Vec<Value> = g.records.iter().map(|r| serde_json::from_str(&r.to_json()).unwrap()).collect();
    let count = g.vectors.len();
    VectorFile {
        name: "tokens".into(),
        json: json!({
            "kind": "tokens",
            "description": "Seed 002's token endpoint: client-credentials requests (Basic or body, form or JSON), derived tokens and token configurations",
            "config": config,
            "records": records,
            "vectors": g.vectors,
        }),
        count,
    }
}
