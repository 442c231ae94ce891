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
mod tests;
