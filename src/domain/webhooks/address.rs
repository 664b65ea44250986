//! Where a webhook may point (SSRF protection): `https` only unless `allow_http`, and
//! never at loopback, private, link-local (the cloud metadata address among them), CGNAT,
//! multicast, unspecified, broadcast or reserved addresses, nor their IPv4-mapped IPv6
//! forms, unless the host is on the allow-list. URLs are checked at registration, and
//! again at every delivery, where the resolved addresses are checked too (DNS rebinding):
//! `outbox::webhook` plugs [`forbidden`] into its HTTP client's resolver.
//!
//! May call: nothing outside `domain`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest webhook URL, in bytes.
pub const URL_MAX_BYTES: usize = 2048;

/// The webhook settings (`WEBHOOK_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `http` URLs are accepted too (`WEBHOOK_ALLOW_HTTP`, false): development and tests.
    pub allow_http: bool,
    /// Hosts exempt from the address checks, lower case (`WEBHOOK_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
    /// Failed attempts in a row that disable an endpoint (`WEBHOOK_MAX_FAILURES`, 10).
    pub max_failures: u32,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            allow_http: false,
            allowed_hosts: Vec::new(),
            max_failures: 10,
        }
    }
}

impl WebhookPolicy {
    /// True when `host` (a name, or an address without brackets) is on the allow-list.
    pub fn is_allowed_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// Checks `raw` as a webhook URL: a valid absolute `https` (or allowed `http`) URL of
    /// at most [`URL_MAX_BYTES`], with a host, no credentials, and, when the host is an
    /// address, not a forbidden one. The message says what is wrong.
    pub fn check_url(&self, raw: &str) -> Result<Url, String> {
        if raw.len() > URL_MAX_BYTES {
            return Err(format!("must be at most {URL_MAX_BYTES} bytes"));
        }
        let url =
            Url::parse(raw.trim()).map_err(|e| format!("is not a valid absolute URL ({e})"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err("must use https".into()),
            _ => return Err("must be an https URL".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        let Some(host) = url.host() else {
            return Err("must name a host".into());
        };
        if let Some(ip) = host_ip(&host)
            && forbidden(ip)
            && !self.is_allowed_host(&ip.to_string())
        {
            return Err(format!(
                "must not point at a private or reserved address ({ip})"
            ));
        }
        Ok(url)
    }

    /// Checks the URL a delivery is about to POST to (the policy may have changed since
    /// registration); an IP-literal host is checked here, since no resolver sees it.
    pub fn check_target(&self, url: &Url) -> Result<(), String> {
        self.check_url(url.as_str()).map(|_| ())
    }
}

/// The address of an IP-literal host.
pub fn host_ip(host: &Host<&str>) -> Option<IpAddr> {
    match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
        Host::Domain(_) => None,
    }
}

/// True for an address no webhook may reach: loopback, private (10/8, 172.16/12,
/// 192.168/16, fc00::/7), link-local (169.254/16 with the metadata address, fe80::/10),
/// CGNAT (100.64/10), multicast, unspecified, broadcast, "this network" (0/8), reserved
/// and documentation ranges, and IPv4 addresses in IPv6 clothing (mapped, compatible,
/// NAT64) judged as the IPv4 address inside.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || a >= 240 // reserved 240/4
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) carry an IPv4
    // address a gateway may reach.
    let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return forbidden_v4(embedded);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(embedded);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_every_inner_range() {
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::10.0.0.1",
        ] {
            assert!(forbidden(bad.parse().unwrap()), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(!forbidden(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn checks_urls() {
        let policy = WebhookPolicy::default();
        assert!(policy.check_url("https://hooks.example.com/x?y=1").is_ok());
        for (bad, why) in [
            ("http://hooks.example.com/", "https"),
            ("ftp://hooks.example.com/", "https"),
            ("/relative", "valid absolute URL"),
            ("https://user:pw@hooks.example.com/", "credentials"),
            ("https://127.0.0.1/", "private"),
            ("https://[::ffff:10.0.0.1]/", "private"),
            ("https://169.254.169.254/latest/meta-data", "private"),
        ] {
            let message = policy.check_url(bad).unwrap_err();
            assert!(message.contains(why), "{bad}: {message}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_BYTES));
        assert!(policy.check_url(&long).unwrap_err().contains("2048"));
        let dev = WebhookPolicy {
            allow_http: true,
            allowed_hosts: vec!["127.0.0.1".into()],
            ..WebhookPolicy::default()
        };
        assert!(dev.check_url("http://127.0.0.1:9/hook").is_ok());
        assert!(dev.check_url("http://10.0.0.1/hook").is_err());
    }
}
