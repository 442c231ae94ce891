//! Origin allowlists: a key a browser uses (a publishable key) restricted to
//! the websites that may send it, read from the request's `Origin` header, else
//! its `Referer`.

use serde_json::json;

use super::{req, req_ip, Suite, VectorFile};

fn sent(key: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers = vec![("Authorization".to_string(), format!("Bearer {key}"))];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    headers
}

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "origins",
        "Origin allowlists: a key with allowed_origins is accepted only from those websites (scheme, host and port; https://*.domain for every subdomain), read from the Origin header, else the Referer's origin; no origin, Origin: null, two Origin headers or another site answer 403 origin_not_allowed, after the IP allowlist and before the route's scopes",
        json!({
            "formats": ["stripe_publishable_live", "keyproof_live"],
            "policy": {
                "routes": [
                    {"method": "GET", "path": "/v1/products", "credential_kinds": ["publishable", "secret"]},
                    {"method": "POST", "path": "/v1/checkout", "all_of": ["checkout:write"], "credential_kinds": ["publishable", "secret"]}
                ]
            }
        }),
    );
    let shop = s.mint(
        "shop",
        "stripe_publishable_live",
        json!({"name": "Shop site", "scopes": ["checkout:write"],
               "allowed_origins": ["https://shop.example.com", "http://localhost:3000"]}),
    );
    let subdomains = s.mint(
        "subdomains",
        "stripe_publishable_live",
        json!({"name": "Every storefront", "allowed_origins": ["https://*.example.com"]}),
    );
    let open = s.mint("open", "stripe_publishable_live", json!({"name": "Any site"}));
    let fenced = s.mint(
        "fenced",
        "stripe_publishable_live",
        json!({"name": "Office site", "allowed_ips": ["203.0.113.0/24"], "allowed_origins": ["https://intranet.example.com"]}),
    );
    let products = |key: &str, extra: &[(&str, &str)]| req("GET", "/v1/products", sent(key, extra));
    let site = ("Origin", "https://shop.example.com");
    s.case("from its website (Origin)", "ok", products(&shop, &[site]));
    s.case(
        "the default port and any case name the same origin",
        "ok",
        products(&shop, &[("origin", "HTTPS://Shop.Example.com:443")]),
    );
    s.case("from its development server", "ok", products(&shop, &[("Origin", "http://localhost:3000")]));
    s.case(
        "another port is another origin",
        "origin_not_allowed",
        products(&shop, &[("Origin", "http://localhost:3001")]),
    );
    s.case("http is not https", "origin_not_allowed", products(&shop, &[("Origin", "http://shop.example.com")]));
    s.case("from another website", "origin_not_allowed", products(&shop, &[("Origin", "https://evil.example")]));
    s.case(
        "a look-alike host is another website",
        "origin_not_allowed",
        products(&shop, &[("Origin", "https://shop.example.com.evil.net")]),
    );
    s.case(
        "no Origin: the Referer's origin (a same-origin GET)",
        "ok",
        products(&shop, &[("Referer", "https://shop.example.com/cart?item=7#top")]),
    );
    s.case("neither Origin nor Referer (a server, curl)", "origin_not_allowed", products(&shop, &[]));
    s.case(
        "Origin: null (a sandboxed page) even with a good Referer",
        "origin_not_allowed",
        products(&shop, &[("Origin", "null"), ("Referer", "https://shop.example.com/")]),
    );
    s.case("two Origin headers", "origin_not_allowed", products(&shop, &[site, site]));
    s.case(
        "Origin decides over Referer",
        "origin_not_allowed",
        products(&shop, &[("Origin", "https://evil.example"), ("Referer", "https://shop.example.com/")]),
    );
    s.case("an Origin that is not an origin", "origin_not_allowed", products(&shop, &[("Origin", "shop.example.com")]));
    s.case("a subdomain of the wildcard", "ok", products(&subdomains, &[("Origin", "https://eu.example.com")]));
    s.case("a deeper subdomain", "ok", products(&subdomains, &[("Origin", "https://a.eu.example.com")]));
    s.case(
        "the wildcard's own domain is not a subdomain",
        "origin_not_allowed",
        products(&subdomains, &[("Origin", "https://example.com")]),
    );
    s.case("a key without an allowlist: any website", "ok", products(&open, &[("Origin", "https://evil.example")]));
    s.case("a key without an allowlist: no origin", "ok", products(&open, &[]));
    s.case(
        "the IP allowlist is judged first",
        "ip_not_allowed",
        req_ip("GET", "/v1/products", sent(&fenced, &[("Origin", "https://evil.example")]), "10.0.0.1"),
    );
    s.case(
        "inside both allowlists",
        "ok",
        req_ip("GET", "/v1/products", sent(&fenced, &[("Origin", "https://intranet.example.com")]), "203.0.113.5"),
    );
    let checkout = |key: &str, extra: &[(&str, &str)]| req("POST", "/v1/checkout", sent(key, extra));
    s.case("a scoped route from its website", "ok", checkout(&shop, &[site]));
    s.case(
        "the origin is judged before the route's scopes",
        "origin_not_allowed",
        checkout(&subdomains, &[("Origin", "https://evil.example")]),
    );
    s.case("then the scopes", "insufficient_scope", checkout(&subdomains, &[("Origin", "https://eu.example.com")]));
    s.finish()
}
