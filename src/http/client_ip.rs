//! The client's IP address behind reverse proxies: the socket peer, unless the peer is
//! one of `TRUSTED_PROXIES`, in which case the right-most address of `X-Forwarded-For`
//! (or, without it, of RFC 7239 `Forwarded`) that is not itself a trusted proxy.
//!
//! Walking right to left matters: every proxy appends the address it received the
//! request from, so only the entries added by trusted proxies are true; whatever the
//! client put on the left is its own say-so. No header, an empty list or an entry that is
//! not an address (`unknown`, an obfuscated `_node`, garbage) stops the walk at the peer:
//! a client can never choose its own key. Framing only; it uses the leaf-free
//! [`ClientIp`] of `ratelimit`.

use std::{net::IpAddr, str::FromStr};

use axum::http::{HeaderMap, header::FORWARDED};
use ipnet::IpNet;

use crate::ratelimit::ClientIp;

/// The peers whose forwarding headers are believed (`TRUSTED_PROXIES`, a comma-separated
/// list of CIDR networks or single addresses; empty by default: no header is believed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip.to_canonical()),
                    Err(_) => return Err(format!("{item:?} is not a CIDR network or an address")),
                },
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }
}

impl TrustedProxies {
    /// True when `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> ClientIp {
        ClientIp(self.resolve(peer.to_canonical(), headers))
    }

    fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        for entry in chain.iter().rev() {
            let Some(ip) = entry else {
                // Not an address: nothing left of it can be believed.
                return peer;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        // Every hop is a trusted proxy: the left-most one is as close as we get.
        client
    }
}

/// The addresses the proxies appended, left to right (`None` for an entry that is not
/// an address): `X-Forwarded-For` when present, else the `for=` of `Forwarded`. Several
/// header lines count as one list, in order.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    if !xff.is_empty() {
        return xff
            .into_iter()
            .flat_map(|value| match value.to_str() {
                Ok(text) => text.split(',').map(parse_node).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .collect();
    }
    headers
        .get_all(FORWARDED)
        .iter()
        .flat_map(|value| match value.to_str() {
            // Elements are comma-separated, pairs within one by `;`.
            Ok(text) => text
                .split(',')
                .map(|element| {
                    element.split(';').find_map(|pair| {
                        let (name, value) = pair.split_once('=')?;
                        name.trim()
                            .eq_ignore_ascii_case("for")
                            .then(|| value.trim())
                    })
                })
                .map(|value| value.and_then(parse_node))
                .collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// One node: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:80`, optionally quoted.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    let node = node
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(node)
        .trim();
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(valid_port)) {
            return None;
        }
        return inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = node.rsplit_once(':')?;
    if !valid_port(port) {
        return None;
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn valid_port(port: &str) -> bool {
    port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn resolve(trusted: &str, peer: &str, headers: &[(&str, &str)]) -> IpAddr {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let ClientIp(ip) = trusted
            .parse::<TrustedProxies>()
            .unwrap()
            .client_ip(self::ip(peer), &map);
        ip
    }

    #[test]
    fn parses_networks_and_addresses_and_refuses_garbage() {
        let t: TrustedProxies = " 10.0.0.0/8, 192.168.1.7 ,fd00::/8,".parse().unwrap();
        assert!(t.contains(ip("10.1.2.3")) && t.contains(ip("192.168.1.7")));
        assert!(t.contains(ip("::ffff:10.9.9.9")) && t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("192.168.1.8")) && !t.contains(ip("11.0.0.1")));
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.1/8/8", "::1/129"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let spoof = [("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")];
        assert_eq!(resolve("", "9.9.9.9", &spoof), ip("9.9.9.9"));
        assert_eq!(resolve("10.0.0.0/8", "9.9.9.9", &spoof), ip("9.9.9.9"));
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let t = "10.0.0.0/8, 2001:db8:ffff::/48";
        // What the client wrote on the left is skipped.
        let h = [("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("203.0.113.9"));
        // Several header lines are one list.
        let h = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9:5555"),
        ];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("203.0.113.9"));
        let h = [("x-forwarded-for", "[2001:db8::7]:443, 2001:db8:ffff::1")];
        assert_eq!(resolve(t, "::ffff:10.0.0.1", &h), ip("2001:db8::7"));
        let h = [(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::9]:4711\";proto=https, For=10.0.0.3;by=10.0.0.1",
        )];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("2001:db8::9"));
        let h = [("forwarded", "proto=http;for=198.51.100.4:80")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("198.51.100.4"));
        // X-Forwarded-For wins over Forwarded.
        let h = [("forwarded", "for=6.6.6.6"), ("x-forwarded-for", "7.7.7.7")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("7.7.7.7"));
        // Only trusted hops: the left-most.
        let h = [("x-forwarded-for", "10.0.0.5, 10.0.0.2")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("10.0.0.5"));
    }

    #[test]
    fn no_header_or_garbage_means_the_peer() {
        let t = "10.0.0.0/8";
        assert_eq!(resolve(t, "10.0.0.1", &[]), ip("10.0.0.1"));
        for garbage in [
            "",
            "unknown",
            "1.2.3.4, _hidden",
            "1.2.3.4, not an ip",
            "[2001:db8::1",
            "2001:db8::1]:80",
            "1.2.3.4:99999",
            "[1.2.3.4]",
            "1.2.3.4.5",
        ] {
            let h = [("x-forwarded-for", garbage)];
            assert_eq!(resolve(t, "10.0.0.1", &h), ip("10.0.0.1"), "{garbage:?}");
        }
        let h = [("forwarded", "for=unknown"), ("forwarded", "proto=https")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("10.0.0.1"));
        // A garbage entry left of a good one does not matter: the walk stops first.
        let h = [("x-forwarded-for", "garbage, 203.0.113.9")];
        assert_eq!(resolve(t, "10.0.0.1", &h), ip("203.0.113.9"));
    }
}
