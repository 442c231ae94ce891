//! Tests of origin patterns, sent origins and allowlists (examples and properties).

use super::*;

fn pattern(text: &str) -> OriginPattern {
    OriginPattern::parse(text).unwrap()
}

fn allowed(patterns: &[&str], sent: Option<&str>) -> bool {
    origin_allowed(&patterns.iter().map(|p| pattern(p)).collect::<Vec<_>>(), sent)
}

#[test]
fn patterns_are_canonical() {
    assert_eq!(pattern("HTTPS://App.Example.com:443/").to_string(), "https://app.example.com");
    assert_eq!(pattern("http://localhost:3000").to_string(), "http://localhost:3000");
    assert_eq!(pattern("https://*.Example.com").to_string(), "https://*.example.com");
    assert_eq!(pattern("http://[::1]:8080").to_string(), "http://[::1]:8080");
    assert_eq!(pattern("chrome-extension://abcdefghijklmnop").to_string(), "chrome-extension://abcdefghijklmnop");
}

#[test]
fn bad_patterns_are_refused() {
    for text in [
        "example.com",
        "https://example.com/app",
        "https://example.com?x=1",
        "https://user@example.com",
        "https://*.com",
        "https://a.*.example.com",
        "https://*",
        "*",
        "https://example.com:0",
        "https://example.com:70000",
        "https://example.com:",
        "https://exämple.com",
        "https://example.com.",
        "https://-example.com",
        "1https://example.com",
        "https://[::g]",
        "",
    ] {
        let err = OriginPattern::parse(text).unwrap_err();
        assert_eq!(err.code(), "invalid_origin", "{text}");
    }
}

#[test]
fn exact_patterns_match_scheme_host_and_port() {
    let list = ["https://app.example.com", "http://localhost:3000"];
    assert!(allowed(&list, Some("https://app.example.com")));
    assert!(allowed(&list, Some("https://APP.example.com:443")));
    assert!(allowed(&list, Some("http://localhost:3000")));
    assert!(!allowed(&list, Some("http://app.example.com")));
    assert!(!allowed(&list, Some("https://app.example.com:8443")));
    assert!(!allowed(&list, Some("https://evil.example.com")));
    assert!(!allowed(&list, Some("https://app.example.com.evil.net")));
    assert!(!allowed(&list, Some("http://localhost:3001")));
    assert!(!allowed(&list, None));
    assert!(!allowed(&list, Some("garbage")));
    assert!(allowed(&[], None));
}

#[test]
fn wildcards_match_subdomains_only() {
    let list = ["https://*.example.com"];
    assert!(allowed(&list, Some("https://app.example.com")));
    assert!(allowed(&list, Some("https://a.b.example.com")));
    assert!(!allowed(&list, Some("https://example.com")));
    assert!(!allowed(&list, Some("https://badexample.com")));
    assert!(!allowed(&list, Some("https://*.example.com")));
    assert!(!allowed(&list, Some("https://.example.com")));
}

#[test]
fn covering_narrows_only() {
    let wild = pattern("https://*.example.com");
    assert!(wild.covers(&pattern("https://app.example.com")));
    assert!(wild.covers(&pattern("https://*.app.example.com")));
    assert!(wild.covers(&wild));
    assert!(!wild.covers(&pattern("https://example.com")));
    assert!(!wild.covers(&pattern("http://app.example.com")));
    assert!(!pattern("https://app.example.com").covers(&wild));
}

#[test]
fn the_sent_origin_is_origin_then_referer() {
    let sent = |headers: &[(&str, &str)]| sent_origin(headers);
    assert_eq!(sent(&[("Origin", "https://a.example.com")]).as_deref(), Some("https://a.example.com"));
    assert_eq!(
        sent(&[("referer", "https://a.example.com:8443/page?q=1#x")]).as_deref(),
        Some("https://a.example.com:8443")
    );
    assert_eq!(sent(&[("referer", "https://a.example.com")]).as_deref(), Some("https://a.example.com"));
    assert_eq!(
        sent(&[("referer", "https://b.example.com/"), ("origin", "https://a.example.com")]).as_deref(),
        Some("https://a.example.com")
    );
    assert_eq!(sent(&[("origin", "null"), ("referer", "https://a.example.com/")]), None);
    assert_eq!(sent(&[("origin", "https://a.example.com"), ("origin", "https://a.example.com")]), None);
    assert_eq!(sent(&[("referer", "/relative")]), None);
    assert_eq!(sent(&[("x-other", "https://a.example.com")]), None);
}

mod properties {
    use proptest::prelude::*;

    use crate::origin::*;

    /// `(pattern text, wildcard, scheme, domain, port)` in any letter case.
    fn pattern_text() -> impl Strategy<Value = (String, bool, String, String, Option<u16>)> {
        let scheme = prop::sample::select(vec!["http", "https", "wss", "chrome-extension"]);
        let labels = prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", 2..5);
        (scheme, labels, any::<bool>(), prop::option::of(1u16..), any::<bool>()).prop_map(
            |(scheme, labels, wild, port, slash)| {
                let domain = labels.join(".");
                let host = if wild { format!("*.{domain}") } else { domain.clone() };
                let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
                let text = format!("{scheme}://{host}{port_text}{}", if slash { "/" } else { "" });
                (text, wild, scheme.to_string(), domain.to_ascii_lowercase(), port)
            },
        )
    }

    proptest! {
        #[test]
        fn canonical_text_parses_back_to_the_same_pattern((text, ..) in pattern_text()) {
            let parsed = OriginPattern::parse(&text).unwrap();
            let canonical = parsed.to_string();
            prop_assert_eq!(&canonical, &canonical.to_ascii_lowercase());
            prop_assert_eq!(OriginPattern::parse(&canonical).unwrap(), parsed);
        }

        #[test]
        fn a_pattern_matches_its_own_origins_and_no_neighbour(
            (text, wild, scheme, domain, port) in pattern_text(),
            label in "[a-z0-9]{1,8}",
        ) {
            let list = [OriginPattern::parse(&text).unwrap()];
            let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
            let own = if wild { format!("{label}.{domain}") } else { domain.clone() };
            let sent = |scheme: &str, host: &str, port: &str| Some(format!("{scheme}://{host}{port}"));
            let allowed = |origin: Option<String>| origin_allowed(&list, origin.as_deref());
            let shouted = sent(&scheme, &own, &port_text).map(|o| o.to_ascii_uppercase());
            prop_assert!(allowed(shouted));
            prop_assert!(!allowed(sent("ftp", &own, &port_text)));
            let longer = format!("{own}.evil.net");
            prop_assert!(!allowed(sent(&scheme, &longer, &port_text)));
            let prefixed = format!("x{own}");
            prop_assert!(wild || !allowed(sent(&scheme, &prefixed, &port_text)));
            let other_port = format!(":{}", port.map_or(8, |p| p.wrapping_add(1).max(1)));
            prop_assert!(!allowed(sent(&scheme, &own, &other_port)));
            if wild {
                prop_assert!(!allowed(sent(&scheme, &domain, &port_text)));
            }
        }

        #[test]
        fn narrower_patterns_are_covered_and_match_less(
            (outer, wild, scheme, domain, port) in pattern_text(),
            (label, deeper) in ("[a-z0-9]{1,8}", "[a-z0-9]{1,8}"),
            inner_wild in any::<bool>(),
        ) {
            let outer = OriginPattern::parse(&outer).unwrap();
            let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
            let below = format!("{label}.{domain}");
            let inner_host = if inner_wild { format!("*.{below}") } else { below.clone() };
            let inner = OriginPattern::parse(&format!("{scheme}://{inner_host}{port_text}")).unwrap();
            // Only a wildcard covers anything below its domain.
            prop_assert_eq!(outer.covers(&inner), wild);
            prop_assert!(!inner.covers(&outer) || outer == inner);
            let sent = format!("{scheme}://{deeper}.{below}{port_text}");
            let (by_inner, by_outer) = (origin_allowed(&[inner], Some(&sent)), origin_allowed(&[outer], Some(&sent)));
            prop_assert!(!by_inner || !wild || by_outer);
            prop_assert_eq!(by_inner, inner_wild);
        }

        #[test]
        fn any_text_parses_or_is_refused_with_invalid_origin(text in "\\PC{0,60}", sent in "\\PC{0,60}") {
            if let Err(e) = OriginPattern::parse(&text) {
                prop_assert_eq!(e.code(), "invalid_origin");
            }
            let list = [OriginPattern::parse("https://*.example.com").unwrap()];
            let _ = origin_allowed(&list, Some(&sent));
            let _ = sent_origin(&[("origin", sent.as_str()), ("referer", text.as_str())]);
        }
    }
}
