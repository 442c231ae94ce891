//! Vectors beyond the seeds: hostile requests, peppered hashing and migration,
//! authenticate-only routing with Seam keys, and the non-decision kinds
//! (parse, mint, rate_limit, scan).

use chrono::Duration;
use keyproof::{presets, Hasher, Quota, RateLimitState};
use serde_json::{json, Value};

use super::{bearer, req, seeded, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![hostile(), pepper(), authenticate_only(), parse(), mint(), rate_limit(), scan(), config_errors()]
}

fn hostile() -> VectorFile {
    let mut s = Suite::new(
        "hostile_requests",
        "Hostile and malformed requests against a checksummed kp_live_ deployment",
        json!({
            "formats": ["keyproof_live", "keyproof_test"],
            "policy": {
                "environments": ["live"],
                "credentials": {"methods": ["bearer", "api_key_header"]},
                "routes": [
                    {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
                    {"method": "GET", "path": "/v1/admin/{*rest}", "all_of": ["admin"]}
                ]
            }
        }),
    );
    let key = s.mint("reader", "keyproof_live", json!({"name": "Reader", "scopes": ["items:read"]}));
    let other = s.mint("other", "keyproof_live", json!({"name": "Other", "scopes": ["items:read"]}));
    let other_id = s.records.last().unwrap().id.clone();
    let ok = |p: &str| req("GET", p, bearer(&key));
    s.case("baseline", "ok", ok("/v1/items"));
    let hdr = |pairs: &[(&str, String)]| pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect::<Vec<_>>();
    for (name, value, expect) in [
        ("Bearer with two spaces", format!("Bearer  {key}"), "ok"),
        ("BEARER upper case", format!("BEARER {key}"), "ok"),
        ("Bearer with tab", format!("Bearer\t{key}"), "ok"),
        ("Bearer with trailing space", format!("Bearer {key} "), "ok"),
        ("empty Bearer", "Bearer".to_string(), "empty_token"),
        ("Bearer and spaces only", "Bearer    ".to_string(), "empty_token"),
        ("Bearer with a comma", format!("Bearer {key},x"), "malformed_authorization"),
        ("Bearer with two tokens", format!("Bearer {key} {key}"), "malformed_authorization"),
        ("unknown scheme", format!("Token {key}"), "missing_credentials"),
        ("raw key without scheme", key.clone(), "missing_credentials"),
        ("Basic is not accepted", "Basic dXNlcjpwYXNz".to_string(), "missing_credentials"),
        ("NUL byte", format!("Bearer {key}\u{0}"), "invalid_header_value"),
        ("newline injection", format!("Bearer {key}\r\nX-Admin: 1"), "invalid_header_value"),
        ("non-ASCII", format!("Bearer {key}é"), "invalid_header_value"),
        ("over 4 KiB", format!("Bearer {}", "A".repeat(4100)), "header_too_large"),
        ("exactly at the size limit", format!("Bearer {}", "A".repeat(4089)), "wrong_length"),
        ("unknown prefix", "Bearer zz_live_abcdefghijklmnopqrstuvwxyz0123456789".to_string(), "unknown_prefix"),
        ("wrong length", format!("Bearer {}", &key[..key.len() - 1]), "wrong_length"),
        ("bad character", format!("Bearer {}-{}", &key[..12], &key[13..]), "bad_character"),
        (
            "bad checksum",
            format!("Bearer {}{}", &key[..10], if &key[10..11] == "a" { "b" } else { "a" }) + &key[11..],
            "bad_checksum",
        ),
        ("JWT-looking token", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln".to_string(), "unknown_prefix"),
    ] {
        s.case(name, expect, req("GET", "/v1/items", hdr(&[("Authorization", value)])));
    }
    s.case(
        "two Authorization headers",
        "duplicate_header",
        req(
            "GET",
            "/v1/items",
            hdr(&[("Authorization", format!("Bearer {key}")), ("authorization", format!("Bearer {key}"))]),
        ),
    );
    s.case(
        "same key in Bearer and X-API-KEY",
        "ok",
        req("GET", "/v1/items", hdr(&[("Authorization", format!("Bearer {key}")), ("X-API-KEY", key.clone())])),
    );
    s.case(
        "different keys in Bearer and X-API-KEY",
        "conflicting_credentials",
        req("GET", "/v1/items", hdr(&[("Authorization", format!("Bearer {key}")), ("X-API-KEY", other.clone())])),
    );
    s.case("empty X-API-KEY", "empty_token", req("GET", "/v1/items", hdr(&[("X-API-KEY", String::new())])));
    s.case(
        "irrelevant huge header is ignored",
        "ok",
        req("GET", "/v1/items", hdr(&[("Authorization", format!("Bearer {key}")), ("X-Padding", "p".repeat(10_000))])),
    );
    for (name, path, expect) in [
        ("double slash", "/v1//items", "invalid_path"),
        ("dot-dot escape", "/v1/admin/../items", "invalid_path"),
        ("dot segment", "/v1/./items", "invalid_path"),
        ("encoded slash", "/v1/admin%2Fusers", "invalid_path"),
        ("encoded dot-dot", "/v1/%2e%2e/admin/x", "invalid_path"),
        ("backslash", "/v1\\admin\\x", "invalid_path"),
        ("relative path", "v1/items", "invalid_path"),
        ("space in path", "/v1/it ems", "invalid_path"),
        ("admin wildcard without admin scope", "/v1/admin/users", "insufficient_scope"),
        ("case differs from the route", "/V1/ITEMS", "route_not_allowed"),
        ("fragment ignored", "/v1/items#top", "ok"),
    ] {
        s.case(name, expect, ok(path));
    }
    s.case("lower-case method", "ok", req("get", "/v1/items", bearer(&key)));
    s.case("method with a space", "invalid_method", req("GE T", "/v1/items", bearer(&key)));
    s.case("empty method", "invalid_method", req("", "/v1/items", bearer(&key)));
    s.case("bad path wins over missing key", "invalid_path", req("GET", "/v1/../x", vec![]));
    let test_key = s.mint("test", "keyproof_test", json!({"name": "Test key", "scopes": ["items:read"]}));
    s.case(
        "checksummed test key at live",
        "wrong_environment",
        ok("/v1/items").clone().with_headers(bearer(&test_key)),
    );
    s.case_full(
        "host supplies a record that does not match the key",
        "key_mismatch",
        ok("/v1/items"),
        t0(),
        None,
        Some(&other_id),
    );
    s.finish()
}

trait WithHeaders {
    fn with_headers(self, h: Vec<(String, String)>) -> Self;
}

impl WithHeaders for keyproof::Request {
    fn with_headers(mut self, h: Vec<(String, String)>) -> Self {
        self.headers = h;
        self
    }
}

fn pepper() -> VectorFile {
    let pepper_hex = "6b657970726f6f662d746573742d7065707065722d33322d62797465732d2121";
    let mut s = Suite::new(
        "hashing_pepper_migration",
        "HMAC-SHA256 with a pepper; sha256 records still verify and ask to be rehashed",
        json!({
            "formats": ["stripe_secret_live", "stripe_publishable_live", "stripe_restricted_live", "github_pat"],
            "hashing": {"algorithm": "hmac-sha256", "pepper_hex": pepper_hex},
            "policy": {"unknown_routes": "authenticate", "routes": [
                {"method": "GET", "path": "/v1/public/config", "credential_kinds": ["publishable", "secret"]},
                {"method": "POST", "path": "/v1/charges", "any_of": ["charges:write"]}
            ]}
        }),
    );
    let peppered = s.mint("peppered", "stripe_secret_live", json!({"name": "Peppered", "scopes": ["charges:write"]}));
    assert!(s.records.last().unwrap().hash.starts_with("hmac-sha256:"));
    let legacy = s.mint("legacy", "github_pat", json!({"name": "Legacy sha256"}));
    let legacy_parsed = s.engine.parse(&legacy).unwrap();
    let fmt = s.engine.formats().get("github_pat").unwrap().clone();
    let plain = Hasher::default().hash(&fmt, &legacy_parsed).unwrap();
    let rec = s.records.last_mut().unwrap();
    rec.hash = plain.clone();
    rec.fingerprint = keyproof::fingerprint(&plain);
    let publishable = s.mint("pk", "stripe_publishable_live", json!({"name": "Publishable"}));
    let restricted = s.mint("rk", "stripe_restricted_live", json!({"name": "Restricted", "scopes": ["charges:write"]}));
    s.case("peppered key", "ok", req("POST", "/v1/charges", bearer(&peppered)));
    s.case(
        "legacy sha256 record still verifies and asks for a rehash",
        "ok",
        req("GET", "/v1/anything", bearer(&legacy)),
    );
    s.case("publishable key on its public route", "ok", req("GET", "/v1/public/config", bearer(&publishable)));
    s.case(
        "publishable key on a server route",
        "credential_kind_not_allowed",
        req("POST", "/v1/charges", bearer(&publishable)),
    );
    s.case(
        "publishable key on an unlisted route",
        "credential_kind_not_allowed",
        req("GET", "/v1/customers", bearer(&publishable)),
    );
    s.case("restricted key with the scope", "ok", req("POST", "/v1/charges", bearer(&restricted)));
    s.case(
        "restricted key on the public route",
        "credential_kind_not_allowed",
        req("GET", "/v1/public/config", bearer(&restricted)),
    );
    s.case("unlisted route only authenticates", "ok", req("DELETE", "/v1/customers/cus_1", bearer(&peppered)));
    s.finish()
}

fn authenticate_only() -> VectorFile {
    let mut s = Suite::new(
        "seam_authenticate_only",
        "Seam prefixed-api-key formats (prefixes with and without '_') behind an authenticate-only policy with a 1/s limit",
        json!({
            "formats": [
                {"id": "seam_mycompany", "prefix": "mycompany_", "environment": "live", "kind": "secret", "alphabet": "base58", "length": 24, "layout": "seam", "short_length": 8, "hash": "seam-sha256"},
                {"id": "seam_my_company", "prefix": "my_company_", "environment": "live", "kind": "secret", "alphabet": "base58", "length": 24, "layout": "seam", "short_length": 8, "hash": "seam-sha256"}
            ],
            "policy": {"unknown_routes": "authenticate", "plans": {"tiny": {"limit": 1, "period_seconds": 1, "burst": 1}}, "default_plan": "tiny"}
        }),
    );
    let a = s.mint("a", "seam_mycompany", json!({"name": "Seam key"}));
    let b = s.mint("b", "seam_my_company", json!({"name": "Seam underscore key"}));
    let state = s.case("seam key", "ok", req("GET", "/anything", bearer(&a)));
    s.case_full(
        "seam key again in the same second",
        "rate_limited",
        req("GET", "/anything", bearer(&a)),
        t0(),
        state,
        None,
    );
    s.case_full(
        "seam key a second later",
        "ok",
        req("GET", "/anything", bearer(&a)),
        t0() + Duration::seconds(1),
        state,
        None,
    );
    s.case("underscore prefix", "ok", req("POST", "/x/y", bearer(&b)));
    let swapped = format!("my_company_{}", &a["mycompany_".len()..]);
    s.case("long token moved under another prefix", "key_mismatch", req("GET", "/", bearer(&swapped)));
    s.case(
        "missing separator",
        "malformed_key",
        req("GET", "/", bearer(&format!("mycompany_{}x{}", &a[10..18], &a[19..]))),
    );
    s.finish()
}

fn file(name: &str, kind: &str, description: &str, extra: Value, vectors: Vec<Value>) -> VectorFile {
    let count = vectors.len();
    let mut json = json!({"kind": kind, "description": description, "vectors": vectors});
    if let (Some(obj), Some(extra)) = (json.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    VectorFile { name: name.into(), json, count }
}

fn parse() -> VectorFile {
    let set = presets::all_set().unwrap();
    let hasher = Hasher::default();
    let mut vectors = Vec::new();
    for format in presets::all() {
        let minted =
            keyproof::mint(&format, &hasher, &keyproof::MintOptions::named("Vector key"), &seeded(&format.id), t0())
                .unwrap();
        let key = minted.key.expose().to_string();
        let mut variants = vec![
            ("valid", key.clone()),
            ("one short", key[..key.len() - 1].to_string()),
            ("one long", format!("{key}a")),
        ];
        let last = &key[key.len() - 1..];
        variants.push((
            "last character changed",
            format!("{}{}", &key[..key.len() - 1], if last == "2" { "3" } else { "2" }),
        ));
        variants.push(("bad character", format!("{}!{}", &key[..key.len() - 2], last)));
        for (label, candidate) in variants {
            let expected = match keyproof::parse_key(&set, &candidate) {
                Ok(p) => {
                    let f = p.format();
                    json!({"ok": true, "format_id": p.format_id(), "environment": p.environment(), "kind": p.kind(), "public_part": p.public_part(),
                           "preview": p.preview(), "has_checksum": p.has_checksum(), "hash": hasher.hash(f, &p).unwrap(), "lookup_hashes": hasher.lookup_hashes(f, &p)})
                }
                Err(e) => json!({"ok": false, "code": e.code()}),
            };
            if label == "valid" {
                assert_eq!(expected["ok"], true);
            }
            vectors.push(json!({"name": format!("{} {label}", format.id), "key": candidate, "expected": expected}));
        }
    }
    for (name, key, code) in [
        ("empty", "", "wrong_length"),
        ("unknown prefix", "xx_live_0123456789", "unknown_prefix"),
        ("too long", &"k".repeat(600)[..], "wrong_length"),
    ] {
        assert_eq!(keyproof::parse_key(&set, key).err().map(|e| e.code()), Some(code), "{name}");
        vectors.push(json!({"name": name, "key": key, "expected": {"ok": false, "code": code}}));
    }
    file("parse_presets", "parse", "Every preset: a minted key, and one-character mutations, parsed with all presets loaded (a key no prefix claims and the unprefixed Matatika format rejects is unknown_prefix)", json!({"formats": presets::ids()}), vectors)
}

fn mint() -> VectorFile {
    let hasher = Hasher::default();
    let mut vectors = Vec::new();
    let options = [
        json!({"name": "Production key", "scopes": ["briefs:read"], "id_style": {"style": "prefixed", "prefix": "key_", "hex_length": 8}}),
        json!({"name": "Expiring key", "expires_in": "90d", "role": "admin", "allowed_ips": ["203.0.113.0/24"], "plan": "pro", "generate_client_id": true}),
    ];
    for format in presets::all() {
        for (i, opts) in options.iter().enumerate() {
            let random = seeded(&format!("mint/{}/{i}", format.id));
            let parsed = keyproof::MintOptions::from_json(&opts.to_string()).unwrap();
            let m = keyproof::mint(&format, &hasher, &parsed, &random, t0()).unwrap();
            vectors.push(json!({"name": format!("{} options {i}", format.id), "format": format.id, "options": opts, "random_hex": hex::encode(&random), "now": "2026-03-18T10:30:00Z",
                "expected": {"ok": true, "key": m.key.expose(), "record": serde_json::from_str::<Value>(&m.record.to_json()).unwrap()}}));
        }
    }
    for (name, opts, random, code) in [
        ("15 random bytes", json!({"name": "Short"}), vec![7u8; 15], "insufficient_randomness"),
        ("empty name", json!({"name": ""}), vec![7u8; 32], "invalid_name"),
        ("name of 201 characters", json!({"name": "n".repeat(201)}), vec![7u8; 32], "invalid_name"),
        ("name with surrounding spaces", json!({"name": " padded "}), vec![7u8; 32], "invalid_name"),
        ("bad expiry", json!({"name": "abc", "expires_in": "0d"}), vec![7u8; 32], "invalid_expiry"),
        ("bad CIDR", json!({"name": "abc", "allowed_ips": ["10.0.0.0/33"]}), vec![7u8; 32], "invalid_cidr"),
        ("bad scope", json!({"name": "abc", "scopes": ["has space"]}), vec![7u8; 32], "invalid_scope"),
        (
            "prefixed id longer than 128 characters (found by fuzzing)",
            json!({"name": "abc", "id_style": {"style": "prefixed", "prefix": "k".repeat(121), "hex_length": 8}}),
            vec![7u8; 32],
            "invalid_id",
        ),
    ] {
        let parsed = keyproof::MintOptions::from_json(&opts.to_string()).unwrap();
        let err = keyproof::mint(&presets::get("keyproof_live").unwrap(), &hasher, &parsed, &random, t0()).unwrap_err();
        assert_eq!(err.code(), code, "{name}");
        vectors.push(json!({"name": name, "format": "keyproof_live", "options": opts, "random_hex": hex::encode(&random), "now": "2026-03-18T10:30:00Z", "expected": {"ok": false, "code": code}}));
    }
    file(
        "mint_presets",
        "mint",
        "Deterministic minting: the same random bytes and clock give the same key and record in every runtime",
        json!({}),
        vectors,
    )
}

fn rate_limit() -> VectorFile {
    let mut vectors = Vec::new();
    let now0: i64 = t0().timestamp_micros();
    for (plan, quota) in [
        ("starter", Quota::per_minute(60, 10)),
        ("pro", Quota::per_minute(300, 50)),
        ("enterprise", Quota::per_minute(1000, 200)),
        ("hourly", Quota { limit: 7, period_seconds: 3600, burst: 3 }),
    ] {
        let mut state: Option<RateLimitState> = None;
        let steps: Vec<(i64, u32)> =
            (0..quota.burst + 2).map(|_| (0, 1)).chain([(1_000_000, 1), (30_000_000, 2), (3_600_000_000, 1)]).collect();
        for (i, (offset, cost)) in steps.into_iter().enumerate() {
            let now = now0 + offset;
            let out = keyproof::gcra(state, now, &quota, cost);
            if i < quota.burst as usize {
                assert!(out.allowed, "{plan} {i}");
            }
            if i == quota.burst as usize {
                assert!(!out.allowed, "{plan} {i}");
            }
            if i == 0 || i + 3 >= quota.burst as usize {
                vectors.push(json!({"name": format!("{plan} step {i}"), "quota": quota, "state": state, "now_us": now, "cost": cost, "expected": out}));
            }
            state = Some(out.state);
        }
    }
    vectors.push(json!({"name": "cost above burst", "quota": Quota::per_minute(60, 10), "state": null, "now_us": now0, "cost": 11, "expected": keyproof::gcra(None, now0, &Quota::per_minute(60, 10), 11)}));
    file("rate_limit_gcra", "rate_limit", "GCRA steps for the seed 000 plans and an hourly quota", json!({}), vectors)
}

fn scan() -> VectorFile {
    let set = presets::all_set().unwrap();
    let hasher = Hasher::default();
    let key_of = |id: &str| {
        let f = presets::get(id).unwrap();
        keyproof::mint(&f, &hasher, &keyproof::MintOptions::named("Scan key"), &seeded(&format!("scan/{id}")), t0())
            .unwrap()
            .key
            .expose()
            .to_string()
    };
    let kp = key_of("keyproof_live");
    let gh = key_of("github_pat");
    let tm = key_of("tmmate_prod");
    let broken = format!("{}{}", &kp[..kp.len() - 1], if kp.ends_with('0') { "1" } else { "0" });
    let texts = [
        ("key at start", format!("{kp} is the key")),
        ("env file", format!("API_KEY={kp}\nGITHUB_TOKEN={gh}\n")),
        ("json", format!("{{\"key\": \"{tm}\", \"other\": 1}}")),
        ("two on one line", format!("a={kp} b={gh}")),
        ("checksum broken", format!("token {broken} here")),
        ("glued to a word", format!("x{kp}")),
        ("glued after", format!("{kp}x")),
        ("multi-line unicode", format!("héllo wörld\n  → {gh}\n")),
        ("nothing", "no keys here, only kp_live_ and ghp_".to_string()),
        ("glued after a URL-encoded =", format!("GET /?api_key%3D{kp}&x=1")),
        ("glued before _old", format!("OLD={kp}_old")),
        ("glued before -v2", format!("{gh}-v2")),
        ("astral characters before the key (UTF-16 offsets differ)", format!("🔑🔑 ключ: {kp}\n😀 {tm}")),
    ];
    let vectors = texts
        .into_iter()
        .map(|(name, text)| {
            let findings = keyproof::scan(&set, &text);
            // Byte offsets stay in `findings`; character and UTF-16 offsets sit beside them.
            let offsets: Vec<Value> = findings
                .iter()
                .map(|f| json!({"char_start": f.char_start, "char_end": f.char_end, "utf16_start": f.utf16_start, "utf16_end": f.utf16_end}))
                .collect();
            let findings: Vec<Value> = findings
                .iter()
                .map(|f| {
                    let mut v = serde_json::to_value(f).unwrap();
                    for k in ["char_start", "char_end", "utf16_start", "utf16_end"] {
                        v.as_object_mut().unwrap().remove(k);
                    }
                    v
                })
                .collect();
            json!({"name": name, "text": text, "expected": {"findings": findings, "offsets": offsets, "redacted": keyproof::redact(&set, &text)}})
        })
        .collect();
    file(
        "scan_text",
        "scan",
        "Leak scanning with all presets: findings with byte offsets, line, column and preview; redaction",
        json!({"formats": presets::ids()}),
        vectors,
    )
}

fn config_errors() -> VectorFile {
    let record = |patch: Value| {
        let mut r = json!({"id": "key_1", "name": "Good name", "hash": format!("sha256:{}", "0".repeat(64)), "fingerprint": "fp_0", "preview": "kp_live_…",
            "format": "keyproof_live", "environment": "live", "kind": "secret", "created_at": "2026-03-18T10:30:00Z", "updated_at": "2026-03-18T10:30:00Z"});
        r.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        r
    };
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("valid record", "record", record(json!({})), "ok"),
        (
            "naive timestamp read as UTC",
            "record",
            record(json!({"created_at": "2026-01-11T18:58:35.961074", "updated_at": "2026-01-11T18:58:35.961074"})),
            "ok",
        ),
        ("record with unknown field", "record", record(json!({"colour": "red"})), "invalid_record"),
        ("record with bad timestamp", "record", record(json!({"created_at": "yesterday"})), "invalid_timestamp"),
        ("record with bad CIDR", "record", record(json!({"allowed_ips": ["10.0.0.0/33"]})), "invalid_cidr"),
        (
            "record with an origin allowlist",
            "record",
            record(json!({"allowed_origins": ["https://shop.example.com", "https://*.example.com"]})),
            "ok",
        ),
        (
            "record with an origin that has a path",
            "record",
            record(json!({"allowed_origins": ["https://shop.example.com/cart"]})),
            "invalid_origin",
        ),
        (
            "record with a top-level wildcard origin",
            "record",
            record(json!({"allowed_origins": ["https://*.com"]})),
            "invalid_origin",
        ),
        ("record with empty name", "record", record(json!({"name": ""})), "invalid_name"),
        ("record with 1001-character name", "record", record(json!({"name": "n".repeat(1001)})), "invalid_name"),
        (
            "record with a 63-character name (seed 002)",
            "record",
            record(json!({"name": "SIT-generated api key (2026-01-11T18:58:35.918500330) - renamed"})),
            "ok",
        ),
        ("record with bad hash", "record", record(json!({"hash": "md5:abc"})), "invalid_hash"),
        ("record with bad id", "record", record(json!({"id": "key 1"})), "invalid_id"),
        ("record with bad scope", "record", record(json!({"scopes": ["a b"]})), "invalid_scope"),
        ("revoked record without revoked_at", "record", record(json!({"status": "revoked"})), "invalid_record"),
        ("valid policy", "policy", json!({"routes": [{"method": "GET", "path": "/v1/{id}"}]}), "ok"),
        ("policy with unknown field", "policy", json!({"route": []}), "invalid_policy"),
        (
            "policy with conflicting routes",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/{id}"}, {"method": "GET", "path": "/v1/{name}"}]}),
            "invalid_policy",
        ),
        (
            "policy with unknown role",
            "policy",
            json!({"roles": ["member"], "routes": [{"method": "GET", "path": "/a", "role": "owner"}]}),
            "invalid_policy",
        ),
        ("policy with zero quota", "policy", json!({"plans": {"free": {"limit": 0, "burst": 1}}}), "invalid_quota"),
        ("policy with unknown default plan", "policy", json!({"default_plan": "gold"}), "invalid_policy"),
        ("policy realm with a quote", "policy", json!({"realm": "a\"b"}), "invalid_policy"),
        (
            "policy with the same method and path twice",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/x", "all_of": ["a"]}, {"method": "GET", "path": "/v1/x"}]}),
            "invalid_policy",
        ),
        (
            "policy with * before GET on one path",
            "policy",
            json!({"routes": [{"method": "*", "path": "/v1/x"}, {"method": "GET", "path": "/v1/x", "all_of": ["a"]}]}),
            "invalid_policy",
        ),
        (
            "policy with overlapping method lists",
            "policy",
            json!({"routes": [{"method": ["GET", "POST"], "path": "/v1/x"}, {"method": ["post"], "path": "/v1/x"}]}),
            "invalid_policy",
        ),
        (
            "policy with GET and HEAD rules on one path",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/x"}, {"method": "HEAD", "path": "/v1/x"}]}),
            "ok",
        ),
        (
            "policy problem_base with a control character",
            "policy",
            json!({"problem_base": "https://e.x/\u{7}"}),
            "invalid_policy",
        ),
        (
            "policy problem_base with a newline",
            "policy",
            json!({"problem_base": "https://e.x/\nX: y"}),
            "invalid_policy",
        ),
        ("policy without credential methods", "policy", json!({"credentials": {"methods": []}}), "invalid_policy"),
        (
            "policy with a scope template naming a path parameter",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/projects/{project}", "all_of": ["projects:{project}:read"]}]}),
            "ok",
        ),
        (
            "policy with a scope template naming no path parameter",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/projects/{project}", "all_of": ["projects:{id}:read"]}]}),
            "invalid_policy",
        ),
        (
            "policy with a scope template that starts with a placeholder",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/{scope}", "all_of": ["{scope}"]}]}),
            "invalid_policy",
        ),
        (
            "policy with a placeholder inside a scope part",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/projects/{project}", "all_of": ["projects:p-{project}"]}]}),
            "invalid_policy",
        ),
        (
            "policy with a scope template naming a catch-all",
            "policy",
            json!({"routes": [{"method": "GET", "path": "/v1/files/{*rest}", "all_of": ["files:{rest}"]}]}),
            "invalid_policy",
        ),
        (
            "valid format",
            "format",
            json!({"id": "acme", "prefix": "acme_", "environment": "live", "kind": "secret", "alphabet": "base62", "length": 22}),
            "ok",
        ),
        (
            "format under 128 bits",
            "format",
            json!({"id": "weak", "prefix": "w_", "environment": "live", "kind": "secret", "alphabet": "hex", "length": 31}),
            "invalid_format",
        ),
        (
            "format with unknown alphabet",
            "format",
            json!({"id": "x", "prefix": "x_", "environment": "live", "kind": "secret", "alphabet": "base64", "length": 40}),
            "invalid_format",
        ),
        (
            "format with bad prefix",
            "format",
            json!({"id": "x", "prefix": "x y", "environment": "live", "kind": "secret", "alphabet": "hex", "length": 40}),
            "invalid_format",
        ),
        ("engine with unknown preset", "engine", json!({"formats": ["nope"]}), "unknown_format"),
        (
            "engine with duplicate prefixes",
            "engine",
            json!({"formats": ["keyproof_live", {"id": "other", "prefix": "kp_live_", "environment": "live", "kind": "secret", "alphabet": "base62", "length": 30}]}),
            "invalid_format",
        ),
        (
            "engine with hmac and no pepper",
            "engine",
            json!({"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256"}}),
            "missing_pepper",
        ),
        (
            "engine with a short pepper",
            "engine",
            json!({"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256", "pepper_hex": "0011"}}),
            "missing_pepper",
        ),
        (
            "valid engine",
            "engine",
            json!({"formats": ["keyproof_live"], "hashing": {"algorithm": "hmac-sha256", "pepper_hex": "00112233445566778899aabbccddeeff"}}),
            "ok",
        ),
        (
            "engine with a record cache kept for 0 seconds",
            "engine",
            json!({"formats": ["keyproof_live"], "record_cache": {"ttl_seconds": 0}}),
            "invalid_cache",
        ),
        (
            "engine remembering unknown keys longer than records",
            "engine",
            json!({"formats": ["keyproof_live"], "record_cache": {"ttl_seconds": 10, "absent_ttl_seconds": 11}}),
            "invalid_cache",
        ),
        (
            "engine with an unknown record cache setting",
            "engine",
            json!({"formats": ["keyproof_live"], "record_cache": {"ttl": 10}}),
            "invalid_cache",
        ),
        ("engine with a record cache", "engine", json!({"formats": ["keyproof_live"], "record_cache": {}}), "ok"),
        ("rate-limit state with unknown field", "rate_limit_state", json!({"tat": 1}), "invalid_quota"),
        ("valid rate-limit state", "rate_limit_state", json!({"tat_us": 1}), "ok"),
    ];
    let raw = [
        ("record that is not JSON", "record", "{\"id\": ", "invalid_json"),
        ("policy that is not JSON", "policy", "[", "invalid_json"),
    ];
    let cases = cases
        .into_iter()
        .map(|(n, w, v, c)| (n, w, v.to_string(), c))
        .chain(raw.map(|(n, w, t, c)| (n, w, t.to_string(), c)));
    let vectors = cases
        .map(|(name, what, text, code)| {
            let result = match what {
                "record" => keyproof::KeyRecord::from_json(&text).map(|_| ()),
                "policy" => keyproof::Policy::from_json(&text).and_then(|p| p.compile()).map(|_| ()),
                "format" => keyproof::KeyFormat::from_json(&text).map(|_| ()),
                "engine" => keyproof::Engine::from_json(&text).map(|_| ()),
                _ => RateLimitState::from_json(&text).map(|_| ()),
            };
            let got = result.err().map_or("ok", |e| e.code());
            assert_eq!(got, code, "{name}");
            let expected = if code == "ok" { json!({"ok": true}) } else { json!({"ok": false, "code": code}) };
            json!({"name": name, "what": what, "input": text, "expected": expected})
        })
        .collect();
    file(
        "config_errors",
        "config",
        "Loading records, policies, formats, engine configs and rate-limit states: the stable code of every rejection",
        json!({}),
        vectors,
    )
}
