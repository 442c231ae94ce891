//! Client addresses behind reverse proxies (policy `client_ip`): the
//! `X-Forwarded-For` of a trusted proxy is read right to left, past trusted
//! hops, so an IP allowlist holds against a client that sends the header itself.

use serde_json::json;

use super::{bearer, req_ip, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "client_ip_proxies",
        "The client's address behind trusted reverse proxies: X-Forwarded-For read right to left past trusted hops; a spoofed header from an untrusted peer is ignored; a one-address header (CF-Connecting-IP style) for its own proxies",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
                "client_ip": {"trusted_proxies": ["10.0.0.0/8", "2001:db8:ffff::/48"]}
            }
        }),
    );
    let office = s.mint(
        "office",
        "keyproof_live",
        json!({"name": "Office key", "scopes": ["items:read"], "allowed_ips": ["203.0.113.0/24"]}),
    );
    let with = |xff: &[&str]| {
        let mut headers = bearer(&office);
        headers.extend(xff.iter().map(|v| ("X-Forwarded-For".to_string(), v.to_string())));
        headers
    };
    let get = |xff: &[&str], peer: &str| req_ip("GET", "/v1/items", with(xff), peer);
    s.case("a trusted proxy forwards an allowed client", "ok", get(&["203.0.113.7"], "10.0.0.2"));
    s.case("a trusted proxy forwards another client", "ip_not_allowed", get(&["198.51.100.9"], "10.0.0.2"));
    s.case(
        "an untrusted peer's own X-Forwarded-For is ignored",
        "ip_not_allowed",
        get(&["203.0.113.7"], "198.51.100.9"),
    );
    s.case("an allowed peer without proxies", "ok", get(&[], "203.0.113.8"));
    s.case(
        "the client's own entries left of the proxy's are skipped",
        "ip_not_allowed",
        get(&["203.0.113.7, 198.51.100.9"], "10.0.0.2"),
    );
    s.case(
        "trusted hops on the right are passed over",
        "ok",
        get(&["198.51.100.9, 203.0.113.7, 10.0.0.5, 2001:db8:ffff::1"], "10.0.0.2"),
    );
    s.case("two headers form one list", "ok", get(&["198.51.100.9", "203.0.113.7, 10.0.0.5"], "10.0.0.2"));
    s.case("ports and IPv4-mapped IPv6 are read", "ok", get(&["[::ffff:203.0.113.7]:443"], "10.0.0.2"));
    s.case("a trusted IPv6 proxy", "ok", get(&["203.0.113.7:4711"], "2001:db8:ffff::9"));
    s.case("no header behind a trusted proxy: the proxy is the client", "ip_not_allowed", get(&[], "10.0.0.2"));
    s.case("garbage where the client should be", "invalid_client_ip", get(&["203.0.113.7, unknown"], "10.0.0.2"));
    s.case("garbage left of the client is never read", "ok", get(&["unknown, 203.0.113.7"], "10.0.0.2"));
    s.finish()
}

pub fn single_header_suite() -> VectorFile {
    let mut s = Suite::new(
        "client_ip_single_header",
        "A proxy that names the client in a one-address header (CF-Connecting-IP): believed from its own ranges only, refused when sent twice",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
                "client_ip": {"trusted_proxies": ["173.245.48.0/20"], "header": "CF-Connecting-IP"}
            }
        }),
    );
    let office = s.mint(
        "office",
        "keyproof_live",
        json!({"name": "Office key", "scopes": ["items:read"], "allowed_ips": ["2001:db8:1::/48"]}),
    );
    let get = |values: &[&str], peer: &str| {
        let mut headers = bearer(&office);
        headers.extend(values.iter().map(|v| ("cf-connecting-ip".to_string(), v.to_string())));
        req_ip("GET", "/v1/items", headers, peer)
    };
    s.case("the proxy names an allowed client", "ok", get(&["2001:db8:1::7"], "173.245.48.1"));
    s.case("the proxy names another client", "ip_not_allowed", get(&["2001:db8:2::7"], "173.245.48.1"));
    s.case(
        "the header from outside the proxy's ranges is ignored",
        "ip_not_allowed",
        get(&["2001:db8:1::7"], "198.51.100.9"),
    );
    s.case("the header twice", "invalid_client_ip", get(&["2001:db8:1::7", "2001:db8:1::8"], "173.245.48.1"));
    s.finish()
}
