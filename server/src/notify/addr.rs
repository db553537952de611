//! Where a delivery may go. A subscription names any URL, so without a policy any token could
//! make the server call inside the city's own network (a database's port, a cloud's metadata
//! at 169.254.169.254) and read what answers. By default the server refuses every address that
//! is not on the public internet; a city's own systems on its intranet are allowed by blocks the
//! operator names (`--webhook-allow 10.20.0.0/16`).
//!
//! The check is made on the addresses a name resolves to, by the resolver the HTTP client
//! connects through, so a name that resolves to a public address when the subscription is made
//! and to an internal one later (DNS rebinding) is refused at the moment it matters. An address
//! written in the URL itself never reaches a resolver and is checked before the request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::guard::IpNet;

/// Which addresses deliveries may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Blocks allowed although internal (a city's intranet; the tests' receivers on loopback).
    pub allow: Vec<IpNet>,
}

/// A delivery refused because of where it would go.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} is an internal address ({ip}); deliveries go to the public internet unless the server's --webhook-allow names it")]
pub struct AddressRefused {
    /// The host as named.
    pub host: String,
    /// The address it came to.
    pub ip: IpAddr,
}

impl AddressPolicy {
    /// A policy allowing `allow` besides the public internet.
    pub fn allowing(allow: Vec<IpNet>) -> AddressPolicy {
        AddressPolicy { allow }
    }

    /// Whether a delivery may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|n| n.contains(ip)) || !internal(ip)
    }

    /// Refuses a URL whose host is an address (as written in it) the policy does not permit;
    /// a name is checked when it is resolved.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), AddressRefused> {
        let host = url.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) if !self.permits(ip) => Err(AddressRefused {
                host: host.to_string(),
                ip,
            }),
            _ => Ok(()),
        }
    }

    /// The addresses of `host:port` the policy permits; refused when it resolves to none of
    /// them (an error from the resolver otherwise).
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
        let first = found.first().map(|a| a.ip());
        let kept: Vec<SocketAddr> = found.into_iter().filter(|a| self.permits(a.ip())).collect();
        match (kept.is_empty(), first) {
            (true, Some(ip)) => Err(Box::new(AddressRefused {
                host: host.to_string(),
                ip,
            })),
            _ => Ok(kept),
        }
    }
}

/// An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) is judged as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    let s = v6.segments();
    if let Some(v4) = v6.to_ipv4() {
        // `::` and `::1` read as 0.0.0.0 and 0.0.0.1: both stay refused as "this network".
        return IpAddr::V4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    }
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    }
    ip
}

/// Whether an address is not on the public internet: loopback, private, shared (CGNAT),
/// link-local, multicast, unspecified, reserved, or IPv6's unique-local and site-local.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_unspecified()
                || o[0] == 0 // "this network"
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || v4.is_multicast()
                || o[0] >= 240 // reserved and broadcast
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_unspecified()
                || v6.is_loopback()
                || (s[0] & 0xfe00) == 0xfc00 // unique-local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside)
                || v6.is_multicast()
                || s[..4] == [0x100, 0, 0, 0] // discard
                || s[..3] == [0x64, 0xff9b, 1] // local NAT64
                || s[0] == 0x2001 && s[1] == 0xdb8 // documentation
                || v6 == Ipv6Addr::UNSPECIFIED
        }
    }
}

/// The resolver deliveries connect through: what the policy refuses is never connected to.
#[derive(Debug, Clone)]
pub struct PolicyResolver(pub Arc<AddressPolicy>);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // The port is the URL's, put in by the client after resolving.
            let addrs = policy.resolve(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether an error (or one of its causes) is a refusal by the policy.
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a AddressRefused> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<AddressRefused>() {
            return Some(r);
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        let p = AddressPolicy::default();
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!p.permits(ip(refused)), "{refused} permitted");
        }
        for public in [
            "1.1.1.1",
            "101.226.103.106",
            "172.32.0.1",
            "2408:8000::1",
            "::ffff:1.1.1.1",
        ] {
            assert!(p.permits(ip(public)), "{public} refused");
        }
    }

    #[test]
    fn an_allowed_block_opens_only_itself() {
        let p = AddressPolicy::allowing(vec![
            "10.20.0.0/16".parse().unwrap_or_else(|_| unreachable!()),
            "127.0.0.1".parse().unwrap_or_else(|_| unreachable!()),
        ]);
        assert!(p.permits(ip("10.20.3.4")));
        assert!(p.permits(ip("::ffff:10.20.3.4")));
        assert!(p.permits(ip("127.0.0.1")));
        assert!(!p.permits(ip("10.21.0.1")));
        assert!(!p.permits(ip("127.0.0.2")));
        assert!(!p.permits(ip("169.254.169.254")));
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_when_it_is_resolved() {
        let p = AddressPolicy::default();
        let e = p.resolve("localhost", 80).await;
        let e = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("internal address"), "{e}");
        let open = AddressPolicy::allowing(vec![
            "127.0.0.0/8".parse().unwrap_or_else(|_| unreachable!()),
            "::1".parse().unwrap_or_else(|_| unreachable!()),
        ]);
        assert!(open
            .resolve("localhost", 80)
            .await
            .is_ok_and(|a| !a.is_empty()));
    }
}
