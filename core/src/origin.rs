//! Origin allowlists: the websites a key (or a token derived from it) may be
//! used from, as Google's "HTTP referrer" and Mapbox's URL restrictions do for
//! keys that ship to browsers (publishable keys, seed 004's SDK token).
//!
//! A pattern is `scheme://host[:port]` (`https://app.example.com`,
//! `http://localhost:3000`) or `scheme://*.domain` for every subdomain (not the
//! domain itself). The request's origin is its `Origin` header, or the origin
//! of its `Referer` when it sends no `Origin` (browsers leave `Origin` off
//! same-origin GETs). Browsers set both and pages cannot change them, so a key
//! copied into another website stops working there; any other client can send
//! whatever it likes, so this limits where a browser key works, it does not
//! authenticate the caller.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// Longest pattern or sent origin read (a DNS name is at most 253 characters).
const MAX_ORIGIN_LENGTH: usize = 300;

/// The host part of a pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HostPattern {
    /// This host only.
    Exact(String),
    /// Every subdomain of this domain (`*.example.com`), not the domain itself.
    Subdomains(String),
}

/// One allowed origin: scheme, host (or every subdomain of a domain) and port.
/// Kept canonical: lowercase, the scheme's default port left out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OriginPattern {
    scheme: String,
    host: HostPattern,
    port: Option<u16>,
}

/// An origin a request was sent from (no wildcard).
#[derive(Clone, Debug, PartialEq, Eq)]
struct SentOrigin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OriginPattern {
    /// Parses a pattern: `https://app.example.com`, `http://localhost:3000`,
    /// `https://*.example.com`; one trailing `/` is allowed, nothing after the port.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |why: &str| Error::new(ErrorKind::InvalidOrigin, format!("{text:?} is not an origin: {why}"));
        let (scheme, host, port) = split(text).map_err(invalid)?;
        let host = match host.strip_prefix("*.") {
            Some(domain) => {
                dns_name(domain).map_err(invalid)?;
                if !domain.contains('.') {
                    return Err(invalid("a wildcard covers the subdomains of a domain of two labels or more"));
                }
                HostPattern::Subdomains(domain.to_string())
            }
            None => {
                host_name(&host).map_err(invalid)?;
                HostPattern::Exact(host)
            }
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether a request sent from `origin` (an `Origin` header's value) matches.
    fn matches(&self, origin: &SentOrigin) -> bool {
        self.scheme == origin.scheme
            && self.port == origin.port
            && match &self.host {
                HostPattern::Exact(host) => *host == origin.host,
                HostPattern::Subdomains(domain) => is_subdomain(&origin.host, domain),
            }
    }

    /// Whether every origin `other` matches, this one matches too (a token's
    /// origins must lie inside its key's).
    pub fn covers(&self, other: &OriginPattern) -> bool {
        self.scheme == other.scheme
            && self.port == other.port
            && match (&self.host, &other.host) {
                (HostPattern::Exact(a), HostPattern::Exact(b)) => a == b,
                (HostPattern::Subdomains(a), HostPattern::Exact(b)) => is_subdomain(b, a),
                (HostPattern::Subdomains(a), HostPattern::Subdomains(b)) => a == b || is_subdomain(b, a),
                (HostPattern::Exact(_), HostPattern::Subdomains(_)) => false,
            }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostPattern::Exact(host) => f.write_str(host)?,
            HostPattern::Subdomains(domain) => write!(f, "*.{domain}")?,
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

impl serde::Serialize for OriginPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses every entry of an allowlist (mint options, updates, token options and
/// claims carry plain strings, as they do IP allowlists).
pub(crate) fn parse_all(texts: &[String]) -> Result<Vec<OriginPattern>> {
    texts.iter().map(|t| OriginPattern::parse(t)).collect()
}

/// A record's `allowed_origins` as JSON: a list of origin strings, read through
/// the `Vec<String>` every loader already has.
pub(crate) mod list {
    use serde::{de, Deserialize, Deserializer, Serializer};

    use super::OriginPattern;

    pub(crate) fn serialize<S: Serializer>(v: &[OriginPattern], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OriginPattern>, D::Error> {
        super::parse_all(&Vec::<String>::deserialize(d)?)
            .map_err(|e| de::Error::custom(format!("invalid_origin: {}", e.message())))
    }
}

/// Whether a request whose origin header text is `sent` (see [`sent_origin`])
/// may use a credential restricted to `allowlist`. An empty list allows all;
/// a restricted credential needs an origin that parses and matches.
pub(crate) fn origin_allowed(allowlist: &[OriginPattern], sent: Option<&str>) -> bool {
    if allowlist.is_empty() {
        return true;
    }
    let Some(origin) = sent.and_then(|s| split(s).ok()) else { return false };
    let (scheme, host, port) = origin;
    let origin = SentOrigin { scheme, host, port };
    host_name(&origin.host).is_ok() && allowlist.iter().any(|p| p.matches(&origin))
}

/// The origin a request names, as text: its one `Origin` header, else the
/// scheme and authority of its one `Referer`. `None` when it sends neither,
/// sends either twice, or sends `Origin: null` (a sandboxed or private context).
pub(crate) fn sent_origin<N: AsRef<str>, V: AsRef<str>>(headers: &[(N, V)]) -> Option<String> {
    let (mut origin, mut referer) = (Seen::None, Seen::None);
    for (name, value) in headers {
        let name = name.as_ref();
        if name.eq_ignore_ascii_case("origin") {
            origin = origin.and(value.as_ref());
        } else if name.eq_ignore_ascii_case("referer") {
            referer = referer.and(value.as_ref());
        }
    }
    match (origin, referer) {
        (Seen::Once(origin), _) => Some(origin.trim().to_string()).filter(|o| o != "null"),
        (Seen::None, Seen::Once(referer)) => referer_origin(referer.trim()).map(str::to_string),
        _ => None,
    }
}

/// How often a header was sent.
enum Seen<'a> {
    None,
    Once(&'a str),
    More,
}

impl<'a> Seen<'a> {
    fn and(self, value: &'a str) -> Self {
        match self {
            Self::None => Self::Once(value),
            _ => Self::More,
        }
    }
}

/// `scheme://authority` of a URL (a `Referer`), without its path, query or fragment.
fn referer_origin(url: &str) -> Option<&str> {
    let start = url.find("://")?.checked_add(3)?;
    let rest = url.get(start..)?;
    let end = rest.find(['/', '?', '#']).map_or(url.len(), |i| start.saturating_add(i));
    url.get(..end)
}

/// Scheme, lowercase host text and port (the scheme's default left out) of
/// `scheme://host[:port]` (one trailing `/` allowed).
fn split(text: &str) -> std::result::Result<(String, String, Option<u16>), &'static str> {
    if text.len() > MAX_ORIGIN_LENGTH || !text.is_ascii() {
        return Err("origins are ASCII (IDNA names in their xn-- form), at most 300 characters");
    }
    let text = text.to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://").ok_or("it needs scheme://host")?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err("the scheme is not valid");
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@', '\\']) {
        return Err("an origin has no path, query, fragment or user name");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed.split_once(']').ok_or("the IPv6 address is not closed by ]")?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or("an origin has no path, query or fragment")?),
            };
            (format!("[{v6}]"), port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        },
    };
    let port = port.map(parse_port).transpose()?;
    let port = port.filter(|p| Some(*p) != default_port(scheme));
    Ok((scheme.to_string(), host, port))
}

/// A port: 1 to 65535, digits only.
fn parse_port(port: &str) -> std::result::Result<u16, &'static str> {
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| port.parse::<u16>().ok())
        .flatten()
        .filter(|p| *p != 0)
        .ok_or("the port is not a number from 1 to 65535")
}

/// The port a scheme's URLs leave out.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// A host: a DNS name, an IPv4 address or a bracketed IPv6 address.
fn host_name(host: &str) -> std::result::Result<(), &'static str> {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().map(drop).map_err(|_| "the IPv6 address is not valid"),
        None => dns_name(host),
    }
}

/// Dot-separated labels of letters, digits, `-` and `_`, none empty (no trailing dot).
fn dns_name(name: &str) -> std::result::Result<(), &'static str> {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err("the host is not a DNS name or IP address");
    }
    Ok(())
}

/// Whether `host` lies strictly below `domain`.
fn is_subdomain(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain).and_then(|head| head.strip_suffix('.')).is_some_and(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
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

        use super::super::*;

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
}
