//! IP allowlists: IPv4 and IPv6 CIDR ranges; IPv4-mapped IPv6 clients
//! (`::ffff:203.0.113.7`, common behind dual-stack proxies) match IPv4 ranges.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Error, ErrorKind, Result};

/// Parses an allowlist entry: a CIDR range or a single address (seed 001 mixes both).
/// Host bits are cleared, so `203.0.113.9/24` means `203.0.113.0/24`.
pub fn parse_allowlist_entry(text: &str) -> Result<IpNet> {
    let invalid = || Error::new(ErrorKind::InvalidCidr, format!("{text:?} is not an IP address or CIDR range"));
    if text.len() > 64 {
        return Err(invalid());
    }
    if text.contains('/') {
        let net: IpNet = text.parse().map_err(|_| invalid())?;
        return Ok(canonical_net(net).trunc());
    }
    let ip: IpAddr = text.parse().map_err(|_| invalid())?;
    Ok(IpNet::from(ip.to_canonical()))
}

fn canonical_net(net: IpNet) -> IpNet {
    // `::ffff:203.0.113.0/120` is the IPv4 range 203.0.113.0/24.
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(n) = ipnet::Ipv4Net::new(v4, v6.prefix_len().saturating_sub(96)) {
                return IpNet::V4(n);
            }
        }
    }
    net
}

/// Parses a client address, unwrapping IPv4-mapped IPv6.
pub fn parse_client_ip(text: &str) -> Result<IpAddr> {
    text.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| Error::fixed(ErrorKind::InvalidClientIp, "the client IP address is not valid"))
}

/// Whether `ip` is inside any range of `allowlist`. An empty list allows all.
pub fn ip_allowed(allowlist: &[IpNet], ip: Option<IpAddr>) -> bool {
    if allowlist.is_empty() {
        return true;
    }
    match ip {
        Some(ip) => {
            let ip = ip.to_canonical();
            allowlist.iter().any(|net| net.contains(&ip))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<IpNet> {
        v.iter().filter_map(|s| parse_allowlist_entry(s).ok()).collect()
    }

    #[test]
    fn v4_v6_and_mapped() {
        let allow = list(&["203.0.113.0/24", "198.51.100.42", "2001:db8::/32"]);
        assert_eq!(allow.len(), 3);
        let ip = |s: &str| parse_client_ip(s).ok();
        assert!(ip_allowed(&allow, ip("203.0.113.200")));
        assert!(ip_allowed(&allow, ip("::ffff:203.0.113.7")));
        assert!(ip_allowed(&allow, ip("198.51.100.42")));
        assert!(!ip_allowed(&allow, ip("198.51.100.43")));
        assert!(ip_allowed(&allow, ip("2001:db8:1::5")));
        assert!(!ip_allowed(&allow, ip("2001:db9::1")));
        assert!(!ip_allowed(&allow, None));
        assert!(ip_allowed(&[], None));
        let mapped_range = list(&["::ffff:10.0.0.0/104"]);
        assert!(ip_allowed(&mapped_range, ip("10.1.2.3")));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "300.1.1.1", "10.0.0.0/33", "abc", "10.0.0.0/", "1.2.3.4/24/1"] {
            assert_eq!(parse_allowlist_entry(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidCidr), "{bad}");
        }
        assert_eq!(
            parse_allowlist_entry("203.0.113.9/24").map(|n| n.to_string()).ok().as_deref(),
            Some("203.0.113.0/24")
        );
        assert!(parse_client_ip("not-an-ip").is_err());
    }
}
