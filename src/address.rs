//! Which client addresses count as one: the key of per-address limits and address bans.
//!
//! An IPv4 address is one client (or one NAT). An IPv6 client is usually handed a whole /64 by
//! its provider and picks addresses in it at will, so keying by the exact string would let it
//! join from a fresh address every time (55 addresses of one /64 all joined where one address
//! was limited, and a kicked member came back from the next one). IPv6 addresses are therefore
//! keyed by their /64 prefix; IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are their IPv4
//! address. Anything that does not parse as an address is keyed as it is (trimmed).

use std::net::{IpAddr, Ipv6Addr};

/// The key of `address` (a `CF-Connecting-IP` value) for limits and bans.
pub fn key(address: &str) -> String {
    let trimmed = address.trim();
    // A zone (`fe80::1%eth0`) names an interface of the sender's, not a different client.
    let bare = trimmed.split('%').next().unwrap_or(trimmed);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => prefix_64(&v6),
        },
        Err(_) => trimmed.to_string(),
    }
}

/// `a`'s /64 as `Ipv6Addr`'s `Display` writes the prefix (RFC 5952: the four zero segments of
/// the host part are always the longest run, so they and any zeros just before them are the
/// `::`), without carrying that `Display` into the Wasm (the upload budget, issue 18).
fn prefix_64(a: &Ipv6Addr) -> String {
    let s = a.segments();
    let kept = s[..4].iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    let mut out = String::new();
    for (i, x) in s[..kept].iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{x:x}"));
    }
    out.push_str("::/64");
    out
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn a_prefix_is_written_as_ipv6_display_writes_it() {
        use std::net::Ipv6Addr;
        let values = [0u16, 1, 0xf, 0x10, 0xdb8, 0xffff];
        for a in values {
            for b in values {
                for c in values {
                    for d in [0u16, 1, 0xabcd] {
                        let p = Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0);
                        let expected = format!("{p}/64");
                        assert_eq!(
                            super::prefix_64(&Ipv6Addr::new(a, b, c, d, 1, 2, 3, 4)),
                            expected
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ipv4_addresses_are_keyed_whole() {
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_ne!(key("203.0.113.9"), key("203.0.113.10"));
        assert_eq!(key(" 203.0.113.9 "), "203.0.113.9");
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_a_key() {
        let a = key("2001:db8:1:2::1");
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), a);
        assert_eq!(key("2001:0DB8:0001:0002:0:0:0:abcd"), a, "any spelling");
        assert_eq!(key("2001:db8:1:2::1%eth0"), a, "a zone is not a client");
        assert_ne!(key("2001:db8:1:3::1"), a, "the next /64 is another client");
        assert_ne!(key("2001:db8:2:2::1"), a);
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_address() {
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn anything_else_is_keyed_as_it_is() {
        assert_eq!(key("not an address"), "not an address");
        assert_eq!(key(""), "");
    }
}
