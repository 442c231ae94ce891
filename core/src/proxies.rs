//! The client's address behind reverse proxies. A host passes the address its
//! socket saw (the peer). When the peer is a trusted proxy, the address the
//! proxies forwarded is the client's: `X-Forwarded-For` is read right to left,
//! trusted proxies skipped, and the first address that is not one of them is the
//! client. Entries further left were written by the client itself and prove
//! nothing, so an IP allowlist cannot be passed by sending the header.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::ip::{parse_allowlist_entry, parse_client_ip};

/// The list header proxies append to (one address per hop).
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// Most trusted proxy entries a policy may list.
const MAX_TRUSTED: usize = 256;

/// Which proxies' forwarding header the engine believes (policy `client_ip`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientIpConfig {
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header is
    /// believed. Empty (the default): the peer address is the client's and no
    /// header is read.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header they write: `x-forwarded-for` (the default; a list each proxy
    /// appends to) or a header holding one address (`cf-connecting-ip`,
    /// `x-real-ip`, `fly-client-ip` …). Any case.
    #[serde(default = "default_header")]
    pub header: String,
}

fn default_header() -> String {
    FORWARDED_FOR.into()
}

impl Default for ClientIpConfig {
    fn default() -> Self {
        Self { trusted_proxies: Vec::new(), header: default_header() }
    }
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorKind::InvalidPolicy, format!("client_ip: {message}"))
}

impl ClientIpConfig {
    /// The trusted proxies, parsed; refuses bad entries and header names.
    pub fn trusted(&self) -> Result<Vec<IpNet>> {
        let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        if self.header.is_empty() || self.header.len() > 64 || !self.header.bytes().all(token) {
            return Err(invalid("header must be an HTTP header name"));
        }
        if self.trusted_proxies.len() > MAX_TRUSTED {
            return Err(invalid("at most 256 trusted_proxies"));
        }
        self.trusted_proxies.iter().map(|entry| parse_allowlist_entry(entry)).collect()
    }

    /// Whether the engine reads the header named `name` (any case) to find the client.
    pub fn reads_header(&self, name: &str) -> bool {
        !self.trusted_proxies.is_empty() && name.eq_ignore_ascii_case(&self.header)
    }
}

/// The client's address: the peer's, or (when the peer is a trusted proxy) the
/// one the proxies forwarded. A forwarded entry that is no address is refused
/// (`invalid_client_ip`): the proxy chain is broken or misconfigured.
pub(crate) fn client_ip<N: AsRef<str>, V: AsRef<str>>(
    config: &ClientIpConfig,
    trusted: &[IpNet],
    peer: Option<IpAddr>,
    headers: &[(N, V)],
) -> Result<Option<IpAddr>> {
    let Some(peer) = peer.filter(|p| is_trusted(trusted, *p)) else { return Ok(peer) };
    let mut values = headers.iter().filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(&config.header));
    if !config.header.eq_ignore_ascii_case(FORWARDED_FOR) {
        // One address per request: a second header is a client's attempt, not a proxy's.
        return match (values.next(), values.next()) {
            (None, _) => Ok(Some(peer)),
            (Some((_, value)), None) => forwarded(value.as_ref()).map(Some),
            (Some(_), Some(_)) => Err(refused("the client address header appears more than once")),
        };
    }
    // Several X-Forwarded-For headers form one list, in order (RFC 9110 §5.3).
    let entries: Vec<&str> = values.flat_map(|(_, v)| v.as_ref().split(',')).collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        client = forwarded(entry)?;
        if !is_trusted(trusted, client) {
            break;
        }
    }
    Ok(Some(client))
}

fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

fn refused(message: &str) -> Error {
    Error::fixed(ErrorKind::InvalidClientIp, message.to_string())
}

/// One forwarded address: `203.0.113.7`, `2001:db8::1`, or with a port
/// (`203.0.113.7:4711`, `[2001:db8::1]:443`) as some proxies write it.
fn forwarded(entry: &str) -> Result<IpAddr> {
    let entry = entry.trim_matches(|c| c == ' ' || c == '\t');
    parse_client_ip(entry)
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip().to_canonical()))
        .map_err(|_| refused("a forwarded client address is not an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(trusted: &[&str], header: &str, peer: &str, headers: &[(&str, &str)]) -> Result<Option<String>> {
        let config =
            ClientIpConfig { trusted_proxies: trusted.iter().map(|s| s.to_string()).collect(), header: header.into() };
        let nets = config.trusted()?;
        let peer = parse_client_ip(peer).ok();
        client_ip(&config, &nets, peer, headers).map(|ip| ip.map(|ip| ip.to_string()))
    }

    #[test]
    fn rightmost_untrusted_entry_is_the_client() {
        let xff = |v: &'static str| [("X-Forwarded-For", v)];
        let proxies = ["10.0.0.0/8"];
        let got = |peer, h: &[(&str, &str)]| resolve(&proxies, FORWARDED_FOR, peer, h).ok().flatten();
        // An untrusted peer is the client, whatever it sends.
        assert_eq!(got("198.51.100.9", &xff("203.0.113.7")).as_deref(), Some("198.51.100.9"));
        // Behind a trusted proxy: the address it appended.
        assert_eq!(got("10.0.0.2", &xff("203.0.113.7")).as_deref(), Some("203.0.113.7"));
        // A client's own entries (left) are skipped past; trusted hops (right) too.
        assert_eq!(got("10.0.0.2", &xff("1.2.3.4, 203.0.113.7, 10.0.0.5")).as_deref(), Some("203.0.113.7"));
        // Two headers are one list; ports and brackets are read; mapped IPv6 unwrapped.
        let two = [("x-forwarded-for", "1.2.3.4"), ("X-FORWARDED-FOR", "[::ffff:203.0.113.8]:443, 10.1.1.1")];
        assert_eq!(got("10.0.0.2", &two).as_deref(), Some("203.0.113.8"));
        assert_eq!(got("10.0.0.2", &xff("203.0.113.7:4711")).as_deref(), Some("203.0.113.7"));
        // Every hop trusted: the leftmost; no header: the peer.
        assert_eq!(got("10.0.0.2", &xff("10.9.9.9, 10.0.0.5")).as_deref(), Some("10.9.9.9"));
        assert_eq!(got("10.0.0.2", &[]).as_deref(), Some("10.0.0.2"));
        // Garbage where the client's address should be is refused.
        let bad = resolve(&proxies, FORWARDED_FOR, "10.0.0.2", &xff("1.2.3.4, nonsense"));
        assert_eq!(bad.map_err(|e| e.kind()), Err(ErrorKind::InvalidClientIp));
        // Garbage further left than the client is never read.
        assert_eq!(got("10.0.0.2", &xff("nonsense, 203.0.113.7")).as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn single_address_headers_and_config() {
        let cf = |peer, h: &[(&str, &str)]| resolve(&["173.245.48.0/20"], "CF-Connecting-IP", peer, h);
        assert_eq!(
            cf("173.245.48.1", &[("cf-connecting-ip", "2001:db8::7")]).ok().flatten().as_deref(),
            Some("2001:db8::7")
        );
        assert_eq!(
            cf("203.0.113.1", &[("cf-connecting-ip", "2001:db8::7")]).ok().flatten().as_deref(),
            Some("203.0.113.1")
        );
        let twice = cf("173.245.48.1", &[("cf-connecting-ip", "1.1.1.1"), ("cf-connecting-ip", "2.2.2.2")]);
        assert_eq!(twice.map_err(|e| e.kind()), Err(ErrorKind::InvalidClientIp));
        // No trusted proxies: nothing is read.
        assert_eq!(
            resolve(&[], FORWARDED_FOR, "10.0.0.2", &[("x-forwarded-for", "1.2.3.4")]).ok().flatten().as_deref(),
            Some("10.0.0.2")
        );
        assert!(ClientIpConfig::default().trusted().is_ok_and(|t| t.is_empty()));
        let bad_header = ClientIpConfig { trusted_proxies: vec!["10.0.0.0/8".into()], header: "x forwarded".into() };
        assert_eq!(bad_header.trusted().map_err(|e| e.kind()), Err(ErrorKind::InvalidPolicy));
        let bad_net = ClientIpConfig { trusted_proxies: vec!["10.0.0.0/33".into()], header: FORWARDED_FOR.into() };
        assert_eq!(bad_net.trusted().map_err(|e| e.kind()), Err(ErrorKind::InvalidCidr));
        assert!(!ClientIpConfig::default().reads_header("x-forwarded-for"));
        assert!(bad_net.reads_header("X-Forwarded-For"));
    }
}
