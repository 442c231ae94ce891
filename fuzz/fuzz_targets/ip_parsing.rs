//! Client IPs (`parse_client_ip`), allowlist entries (`parse_allowlist_entry`)
//! and the allowlist check (`ip_allowed`), from fuzzed text and from fuzzed
//! address bytes and prefix lengths written out as text.
//!
//! Invariants: no panic; accepted text uses only address characters (no zones,
//! no inner spaces, no hex or octal IPv4 forms); parsed addresses are canonical
//! (IPv4-mapped IPv6 → IPv4) and round-trip through their text; allowlist
//! entries are truncated networks that round-trip (what a stored record keeps);
//! every well-formed `addr/len` is accepted; `ip_allowed` agrees with an
//! independent bit-mask model, allows everything for an empty list and nothing
//! without an address.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use keyproof::ip::{ip_allowed, parse_allowlist_entry, parse_client_ip};
use keyproof::ErrorKind;
use keyproof_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let raw_v6 = input.u128();
    let raw_v4 = input.u32();
    let prefix = input.u8();
    let which = input.u8();
    let client_text = input.field();

    let mut allowlist: Vec<IpNet> = Vec::new();
    while let Some(entry) = input.next_field() {
        if let Some(net) = check_entry(&entry) {
            allowlist.push(net);
        }
    }
    // Structured entries: any address with any prefix length, as text.
    let (addr, max): (IpAddr, u8) = match which % 3 {
        0 => (IpAddr::V4(Ipv4Addr::from(raw_v4)), 32),
        1 => (IpAddr::V6(Ipv6Addr::from(raw_v6)), 128),
        _ => (IpAddr::V6(Ipv4Addr::from(raw_v4).to_ipv6_mapped()), 128),
    };
    let text = if which & 4 != 0 { addr.to_string() } else { format!("{addr}/{prefix}") };
    let structured = check_entry(&text);
    let well_formed = which & 4 != 0 || prefix <= max;
    assert_eq!(structured.is_some(), well_formed, "{text:?} accepted: {structured:?}");
    allowlist.extend(structured);

    let client = check_client(&client_text);
    let candidates = [client, Some(addr), Some(IpAddr::V6(Ipv6Addr::from(raw_v6))), None];
    for ip in candidates {
        assert_eq!(ip_allowed(&allowlist, ip), model(&allowlist, ip), "{ip:?} in {allowlist:?}");
        assert!(ip_allowed(&[], ip));
        if let Some(ip) = ip {
            // An address is an entry that allows itself; /0 of its family allows it too.
            let exact = parse_allowlist_entry(&ip.to_string()).expect("an address is an entry");
            assert!(ip_allowed(&[exact], Some(ip)));
            let any = if ip.to_canonical().is_ipv4() { "0.0.0.0/0" } else { "::/0" };
            let any = parse_allowlist_entry(any).expect("/0 is an entry");
            assert!(ip_allowed(&[any], Some(ip)));
        }
    }
    assert_eq!(ip_allowed(&allowlist, None), allowlist.is_empty());
});

fn address_chars(text: &str) -> bool {
    text.bytes().all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':' || c == b'/')
}

fn check_entry(text: &str) -> Option<IpNet> {
    match parse_allowlist_entry(text) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidCidr);
            None
        }
        Ok(net) => {
            assert!(address_chars(text), "accepted {text:?}");
            assert_eq!(net, net.trunc(), "{text:?} is not truncated");
            if let IpNet::V6(v6) = net {
                assert!(v6.addr().to_ipv4_mapped().is_none() || v6.prefix_len() < 96, "{text:?} stays mapped");
            }
            let again = parse_allowlist_entry(&net.to_string());
            assert_eq!(again.ok(), Some(net), "{text:?} → {net} does not round-trip");
            Some(net)
        }
    }
}

fn check_client(text: &str) -> Option<IpAddr> {
    match parse_client_ip(text) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidClientIp);
            None
        }
        Ok(ip) => {
            assert!(address_chars(text.trim()), "accepted client IP {text:?}");
            assert_eq!(ip, ip.to_canonical(), "{text:?} is not canonical");
            assert_eq!(parse_client_ip(&ip.to_string()).ok(), Some(ip));
            Some(ip)
        }
    }
}

/// `ip_allowed`, computed independently with masks on canonical addresses.
fn model(list: &[IpNet], ip: Option<IpAddr>) -> bool {
    if list.is_empty() {
        return true;
    }
    let Some(ip) = ip else { return false };
    let ip = match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
                let o = v6.octets();
                IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            } else {
                ip
            }
        }
        v4 => v4,
    };
    list.iter().any(|net| match (net, ip) {
        (IpNet::V4(n), IpAddr::V4(a)) => {
            let len = u32::from(n.prefix_len());
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n.network()) & mask
        }
        (IpNet::V6(n), IpAddr::V6(a)) => {
            let len = u32::from(n.prefix_len());
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(a) & mask == u128::from(n.network()) & mask
        }
        _ => false,
    })
}
