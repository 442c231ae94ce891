//! The hostile-input catalogue (Hardening II): look-alikes, invisible and
//! bidirectional characters, huge and numerous headers, scheme games, Basic
//! padding games, `:` in secrets, odd IP spellings and zones, clock skew,
//! expiry at the instant, and the edges of CIDR ranges — each with its code.

use base64::Engine as _;
use chrono::Duration;
use serde_json::json;

use super::{req, req_ip, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![headers(), network_and_time()]
}

fn h(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn headers() -> VectorFile {
    let mut s = Suite::new(
        "hostile_catalogue_headers",
        "Hostile credentials: Unicode look-alikes, zero-width and bidi characters, scheme spellings, Basic padding games, ':' in secrets, 1 MB and 10 000 headers",
        json!({
            "formats": ["keyproof_live", "matatika_client_secret"],
            "policy": {
                "realm": "api.example.com",
                "credentials": {"methods": ["bearer", "basic", "api_key_header"]},
                "routes": [
                    {"method": "GET", "path": "/v1/items", "credential_kinds": ["secret", "client_secret"]}
                ]
            }
        }),
    );
    let key = s.mint("reader", "keyproof_live", json!({"name": "Reader"}));
    let secret = s.mint("client", "matatika_client_secret", json!({"name": "Client", "generate_client_id": true}));
    let client_id = s.records.last().unwrap().client_id.clone().unwrap();
    let get = |headers: Vec<(String, String)>| req("GET", "/v1/items", headers);
    let auth = |v: String| h(&[("Authorization", v)]);
    let mid = key.len() / 2;
    let (head, tail) = key.split_at(mid);
    type Case = (String, &'static str, Vec<(String, String)>);
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: &str, expect: &'static str, headers: Vec<(String, String)>| {
        cases.push((name.to_string(), expect, headers));
    };
    // Scheme spellings.
    add("bearer lower case", "ok", auth(format!("bearer {key}")));
    add("bEaReR mixed case", "ok", auth(format!("bEaReR {key}")));
    add("tab between scheme and key", "ok", auth(format!("Bearer\t{key}")));
    add("two tabs", "ok", auth(format!("Bearer\t\t{key}")));
    add("tab then space", "ok", auth(format!("Bearer\t {key}")));
    add("leading space before the scheme", "ok", auth(format!(" Bearer {key}")));
    add("leading tab before the scheme", "ok", auth(format!("\tBearer {key}")));
    add("scheme glued to the key", "missing_credentials", auth(format!("Bearer{key}")));
    add("scheme with a colon", "missing_credentials", auth(format!("Bearer: {key}")));
    add("scheme misspelt Baerer", "missing_credentials", auth(format!("Baerer {key}")));
    add("Cyrillic Ве in the scheme", "invalid_header_value", auth(format!("\u{412}\u{435}arer {key}")));
    add("fullwidth scheme", "invalid_header_value", auth(format!("\u{ff22}earer {key}")));
    add("non-breaking space after the scheme", "invalid_header_value", auth(format!("Bearer\u{a0}{key}")));
    add("vertical tab after the scheme", "invalid_header_value", auth(format!("Bearer\u{b}{key}")));
    add("form feed after the key", "invalid_header_value", auth(format!("Bearer {key}\u{c}")));
    add("DEL character", "invalid_header_value", auth(format!("Bearer {key}\u{7f}")));
    // Invisible and bidirectional characters inside the key.
    for (name, c) in [
        ("zero-width space", '\u{200b}'),
        ("zero-width joiner", '\u{200d}'),
        ("zero-width non-joiner", '\u{200c}'),
        ("byte-order mark", '\u{feff}'),
        ("right-to-left override", '\u{202e}'),
        ("left-to-right mark", '\u{200e}'),
        ("right-to-left isolate", '\u{2067}'),
        ("soft hyphen", '\u{ad}'),
        ("combining acute accent", '\u{301}'),
        ("Mongolian vowel separator", '\u{180e}'),
    ] {
        add(&format!("{name} inside the key"), "invalid_header_value", auth(format!("Bearer {head}{c}{tail}")));
        add(&format!("{name} after the key"), "invalid_header_value", auth(format!("Bearer {key}{c}")));
    }
    // Look-alike characters in place of key characters.
    for (name, from, to) in [
        ("Cyrillic а for a", 'a', '\u{430}'),
        ("Greek ο for o", 'o', '\u{3bf}'),
        ("fullwidth digit", '1', '\u{ff11}'),
        ("mathematical bold A", 'A', '\u{1d400}'),
    ] {
        let swapped: String = key.chars().map(|c| if c == from { to } else { c }).collect();
        let expect = if swapped == key { "ok" } else { "invalid_header_value" };
        add(&format!("look-alike: {name}"), expect, auth(format!("Bearer {swapped}")));
    }
    add(
        "look-alike prefix kр_live_ (Cyrillic р)",
        "invalid_header_value",
        auth(format!("Bearer k\u{440}{}", &key[2..])),
    );
    // Token shapes.
    add("key in single quotes", "malformed_authorization", auth(format!("Bearer '{key}'")));
    add("key in backticks", "malformed_authorization", auth(format!("Bearer `{key}`")));
    add("key in parentheses", "malformed_authorization", auth(format!("Bearer ({key})")));
    add("key with = padding", "wrong_length", auth(format!("Bearer {key}=")));
    add("key with == padding", "wrong_length", auth(format!("Bearer {key}==")));
    add("padding only", "malformed_authorization", auth("Bearer ==".to_string()));
    add("key followed by a query string", "malformed_authorization", auth(format!("Bearer {key}?x=1")));
    add("URL-encoded key", "malformed_authorization", auth(format!("Bearer {}%5F{}", &key[..2], &key[3..])));
    add("key twice glued", "wrong_length", auth(format!("Bearer {key}{key}")));
    add("upper-cased key", "unknown_prefix", auth(format!("Bearer {}", key.to_uppercase())));
    add("key with a plus", "bad_character", auth(format!("Bearer {}+{}", &key[..9], &key[10..])));
    add("key with a slash", "bad_character", auth(format!("Bearer {}/{}", &key[..9], &key[10..])));
    add("key with a tilde", "bad_character", auth(format!("Bearer {}~{}", &key[..9], &key[10..])));
    add("key with a dot", "bad_character", auth(format!("Bearer {}.{}", &key[..9], &key[10..])));
    // Basic padding games and ':' in secrets.
    let basic = |text: &str| auth(format!("Basic {}", b64(text)));
    add("Basic with the right pair", "ok", basic(&format!("{client_id}:{secret}")));
    add("basic lower-case scheme", "ok", auth(format!("basic {}", b64(&format!("{client_id}:{secret}")))));
    add(
        "Basic without its padding",
        "invalid_basic_credentials",
        auth(format!("Basic {}", b64(&format!("{client_id}:{secret}x")).trim_end_matches('='))),
    );
    add(
        "Basic with extra padding",
        "invalid_basic_credentials",
        auth(format!("Basic {}==", b64(&format!("{client_id}:{secret}")))),
    );
    add(
        "Basic with a ':' inside the secret",
        "unknown_prefix",
        basic(&format!("{client_id}:{}:{}", &secret[..10], &secret[10..])),
    );
    add("Basic with a trailing ':'", "unknown_prefix", basic(&format!("{client_id}:{secret}:")));
    add("Basic with an empty client id", "invalid_basic_credentials", basic(&format!(":{secret}")));
    add("Basic with an empty secret", "invalid_basic_credentials", basic(&format!("{client_id}:")));
    add("Basic without a colon", "invalid_basic_credentials", basic(&format!("{client_id}{secret}")));
    add("Basic with a newline in the secret", "invalid_basic_credentials", basic(&format!("{client_id}:{secret}\n")));
    add(
        "Basic of Latin-1 bytes",
        "invalid_basic_credentials",
        auth(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode([0xe9u8, b':', b'x']))),
    );
    add("Basic with URL-safe alphabet", "invalid_basic_credentials", auth("Basic _-_-".to_string()));
    add("Basic with spaces inside", "invalid_basic_credentials", auth(format!("Basic {} x", b64("a:b"))));
    add("Basic with a wrong client id", "client_id_mismatch", basic(&format!("someone:{secret}")));
    add("empty Basic", "empty_token", auth("Basic".to_string()));
    // Volume: one huge header, many headers.
    add("1 MB credential header", "header_too_large", auth(format!("Bearer {}", "A".repeat(1 << 20))));
    add(
        "1 MB unrelated header is ignored",
        "ok",
        h(&[("Authorization", format!("Bearer {key}")), ("X-Junk", "j".repeat(1 << 20))]),
    );
    let mut many: Vec<(String, String)> = (0..10_000).map(|i| (format!("X-H{i}"), "v".to_string())).collect();
    many.push(("Authorization".into(), format!("Bearer {key}")));
    add("10 000 unrelated headers, key last", "ok", many.clone());
    many.push(("authorization".into(), format!("Bearer {key}")));
    add("10 000 headers with the key twice", "duplicate_header", many);
    add(
        "X-API-KEY with the same key as Bearer",
        "ok",
        h(&[("Authorization", format!("Bearer {key}")), ("x-api-key", key.clone())]),
    );
    add("X-Api-Key mixed-case name", "ok", h(&[("X-Api-Key", key.clone())]));
    add("X-API-KEY with surrounding spaces", "ok", h(&[("X-API-KEY", format!("  {key}  "))]));
    add("X-API-KEY with a Bearer prefix", "unknown_prefix", h(&[("X-API-KEY", format!("Bearer {key}"))]));
    add("X-API-KEY with surrounding tabs", "ok", h(&[("X-API-KEY", format!("\t{key}\t"))]));
    add("X-API-KEY with a tab inside", "invalid_header_value", h(&[("X-API-KEY", format!("{head}\t{tail}"))]));
    add(
        "X-CLIENT-ID with a tab inside (found by fuzzing)",
        "invalid_header_value",
        h(&[("X-API-KEY", key.clone()), ("X-CLIENT-ID", "amc_4Jr8TqZ\txVb9".to_string())]),
    );
    for (name, expect, headers) in cases {
        s.case(&name, expect, get(headers));
    }
    s.finish()
}

fn network_and_time() -> VectorFile {
    let mut s = Suite::new(
        "hostile_catalogue_network_time",
        "Client IP spellings (IPv6 zones, 0x7f.1, mapped addresses), /0 /32 /128 allowlists, clock skew and expiry at the exact instant",
        json!({
            "formats": ["keyproof_live"],
            "policy": {"routes": [{"method": "GET", "path": "/v1/items"}]}
        }),
    );
    let open_v4 = s.mint("open v4", "keyproof_live", json!({"name": "Any IPv4", "allowed_ips": ["0.0.0.0/0"]}));
    let open_v6 = s.mint("open v6", "keyproof_live", json!({"name": "Any IPv6", "allowed_ips": ["::/0"]}));
    let one_v4 = s.mint("one v4", "keyproof_live", json!({"name": "One IPv4", "allowed_ips": ["203.0.113.9/32"]}));
    let one_v6 = s.mint("one v6", "keyproof_live", json!({"name": "One IPv6", "allowed_ips": ["2001:db8::1/128"]}));
    let plain = s.mint("plain", "keyproof_live", json!({"name": "No allowlist"}));
    let expiring = s.mint_with("expiring", "keyproof_live", json!({"name": "Expires at t0"}), |r| {
        r.expires_at = Some(t0());
    });
    let future = s.mint_with("future", "keyproof_live", json!({"name": "Created in the future"}), |r| {
        r.created_at = t0() + Duration::hours(1);
        r.updated_at = t0() + Duration::hours(1);
    });
    let bearer = |k: &str| super::bearer(k);
    let at = |k: &str, ip: &str| req_ip("GET", "/v1/items", bearer(k), ip);
    for (name, key, ip, expect) in [
        ("0.0.0.0/0 admits any IPv4", &open_v4, "198.51.100.7", "ok"),
        ("0.0.0.0/0 admits a mapped IPv4", &open_v4, "::ffff:198.51.100.7", "ok"),
        ("0.0.0.0/0 refuses IPv6", &open_v4, "2001:db8::7", "ip_not_allowed"),
        ("::/0 admits any IPv6", &open_v6, "2001:db8::7", "ok"),
        ("::/0 refuses plain IPv4", &open_v6, "198.51.100.7", "ip_not_allowed"),
        ("/32 admits its address", &one_v4, "203.0.113.9", "ok"),
        ("/32 refuses the next address", &one_v4, "203.0.113.10", "ip_not_allowed"),
        ("/32 admits the mapped form", &one_v4, "::ffff:203.0.113.9", "ok"),
        ("/32 admits a padded address", &one_v4, " 203.0.113.9 ", "ok"),
        ("/128 admits its address", &one_v6, "2001:db8::1", "ok"),
        ("/128 admits the long spelling", &one_v6, "2001:0db8:0000:0000:0000:0000:0000:0001", "ok"),
        ("/128 refuses the next address", &one_v6, "2001:db8::2", "ip_not_allowed"),
        ("an IPv6 zone is not an address", &one_v6, "fe80::1%eth0", "invalid_client_ip"),
        ("a bracketed IPv6 is not an address", &one_v6, "[2001:db8::1]", "invalid_client_ip"),
        ("an address with a port", &one_v4, "203.0.113.9:443", "invalid_client_ip"),
        ("0x7f.1 is not an address", &plain, "0x7f.1", "invalid_client_ip"),
        ("octal-looking 0177.0.0.1", &plain, "0177.0.0.1", "invalid_client_ip"),
        ("shortened 127.1", &plain, "127.1", "invalid_client_ip"),
        ("decimal 2130706433", &plain, "2130706433", "invalid_client_ip"),
        ("an IP with a trailing dot", &plain, "203.0.113.9.", "invalid_client_ip"),
        ("a host name", &plain, "localhost", "invalid_client_ip"),
        ("an empty IP", &plain, "", "invalid_client_ip"),
        ("no allowlist: any valid IP", &plain, "2001:db8::99", "ok"),
    ] {
        s.case(name, expect, at(key, ip));
    }
    s.case_full(
        "expiry exactly now is expired",
        "key_expired",
        req("GET", "/v1/items", bearer(&expiring)),
        t0(),
        None,
        None,
    );
    s.case_full(
        "one microsecond before expiry",
        "ok",
        req("GET", "/v1/items", bearer(&expiring)),
        t0() - Duration::microseconds(1),
        None,
        None,
    );
    s.case_full(
        "clock skew: now before created_at is still judged",
        "ok",
        req("GET", "/v1/items", bearer(&future)),
        t0(),
        None,
        None,
    );
    s.case_full(
        "clock far in the past",
        "ok",
        req("GET", "/v1/items", bearer(&plain)),
        t0() - Duration::days(365 * 100),
        None,
        None,
    );
    s.finish()
}
