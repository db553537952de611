//! What keeps the parts that need no token from taking the server down: a request rate per
//! client address for anonymous traffic (Open311), a limit on wrong keys and tokens per client
//! address (for Open311's `api_key` and `/api/v1`'s bearer tokens alike: past it they are
//! answered 429), and a bound on how many of the heavy public reads (Open311 searches and its
//! updates feed) run at once.
//!
//! The client address is the connection's peer, unless that peer is a trusted proxy: then it is
//! the nearest address in `X-Forwarded-For` that is not a trusted proxy. Without trusted
//! proxies the header is ignored, since anyone can send it.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Limits on traffic without a token.
#[derive(Debug, Clone)]
pub struct PublicLimits {
    /// Anonymous requests per second per client address (0: no limit); bursts of three
    /// seconds' worth.
    pub anon_rate_per_sec: f64,
    /// Failed keys or tokens per minute per client address (0: no limit); bursts of as many.
    pub failures_per_min: f64,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Heavy public reads served at once (default: half the cores); more wait their turn.
    pub heavy_reads: usize,
}

impl Default for PublicLimits {
    fn default() -> Self {
        PublicLimits {
            anon_rate_per_sec: 20.0,
            failures_per_min: 10.0,
            trusted_proxies: Vec::new(),
            // Public searches may keep half the machine busy, never all of it.
            heavy_reads: std::thread::available_parallelism()
                .map_or(1, |n| n.get() / 2)
                .max(1),
        }
    }
}

impl PublicLimits {
    /// No rate limits (tests and load tools on loopback); heavy reads are still bounded.
    pub fn off() -> Self {
        PublicLimits {
            anon_rate_per_sec: 0.0,
            failures_per_min: 0.0,
            ..Default::default()
        }
    }
}

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            // An IPv4 client seen through an IPv6 socket.
            (IpAddr::V4(_), IpAddr::V6(b)) => b
                .to_ipv4_mapped()
                .is_some_and(|b| self.contains(IpAddr::V4(b))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or block (10.0.0.0/8, ::1)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// Where a request comes from, as far as limits go: IPv6 clients by their /64, since one host
/// usually holds a whole /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => ClientKey(IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())),
            },
            v4 => ClientKey(v4),
        }
    }
}

/// The client address of a request (see the module's notes); `None` only when the server
/// was not given the connection's address (a router driven without a socket).
#[derive(Debug, Clone, Copy)]
pub struct Client(pub Option<ClientKey>);

impl Client {
    /// Resolves the client from the peer and, behind a trusted proxy, `X-Forwarded-For`.
    pub fn resolve(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Client {
        let Some(peer) = peer.map(|p| p.ip()) else {
            return Client(None);
        };
        let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
        if !is_trusted(peer) {
            return Client(Some(ClientKey::of(peer)));
        }
        // Each proxy appends the address it got the request from, so the nearest hop is last;
        // what a client put in the header itself is further left and never reached.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        for hop in hops.into_iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if is_trusted(ip) => continue,
                Ok(ip) => return Client(Some(ClientKey::of(ip))),
                // A hop the proxy did not write well: limit by the proxy rather than guess.
                Err(_) => break,
            }
        }
        Client(Some(ClientKey::of(peer)))
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key: `rate` a second, bursts of `burst`. Memory stays bounded: past
/// [`RateBuckets::MAX_KEYS`] keys, buckets that have refilled (and so hold nothing a fresh
/// one would not) are dropped.
pub struct RateBuckets<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateBuckets<K> {
    /// Keys kept before refilled buckets are dropped.
    pub const MAX_KEYS: usize = 100_000;

    /// Buckets of `rate` a second and `burst` at most; a rate of 0 lets everything through.
    pub fn new(rate: f64, burst: f64) -> Self {
        RateBuckets {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, key: &K, f: impl FnOnce(&mut Bucket, f64) -> T) -> T {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= Self::MAX_KEYS && !map.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if map.len() >= Self::MAX_KEYS {
                // Every one of them is busy: forget them all rather than grow without end.
                map.clear();
            }
        }
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        f(b, self.rate)
    }

    /// Takes one from `key`'s bucket, or says how many seconds to wait.
    pub fn take(&self, key: &K) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        self.with(key, |b, rate| {
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                Ok(())
            } else {
                Err(wait(b.tokens, rate))
            }
        })
    }
}

fn wait(tokens: f64, rate: f64) -> u64 {
    ((1.0 - tokens) / rate).ceil().max(1.0) as u64
}

/// The public side's limits, live.
pub struct Guard {
    /// As configured.
    pub limits: PublicLimits,
    anon: RateBuckets<ClientKey>,
    failures: RateBuckets<ClientKey>,
    heavy: Semaphore,
}

/// How long a heavy public read waits for its turn before the client is told to come back.
const HEAVY_WAIT: Duration = Duration::from_secs(5);

/// Why the guard said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Over the anonymous rate: wait this many seconds.
    Rate(u64),
    /// Too many failed keys from this address: wait this many seconds.
    Failures(u64),
    /// The heavy reads are all busy: come back in this many seconds.
    Busy(u64),
}

impl Guard {
    /// A guard with these limits.
    pub fn new(limits: PublicLimits) -> Guard {
        let anon = RateBuckets::new(limits.anon_rate_per_sec, limits.anon_rate_per_sec * 3.0);
        let failures = RateBuckets::new(limits.failures_per_min / 60.0, limits.failures_per_min);
        let heavy = Semaphore::new(limits.heavy_reads.max(1));
        Guard {
            limits,
            anon,
            failures,
            heavy,
        }
    }

    /// One anonymous request from `client`.
    pub fn anonymous(&self, client: Client) -> Result<(), Refused> {
        match client.0 {
            Some(k) => self.anon.take(&k).map_err(Refused::Rate),
            None => Ok(()),
        }
    }

    /// A key or token that was wrong: counted against the client, and refused as too many
    /// (429) once it is over its failures. A right key is never refused for its neighbours'
    /// mistakes (an office behind one address), and with 256-bit keys that lets no one guess.
    pub fn key_failed(&self, client: Client) -> Result<(), Refused> {
        match client.0 {
            Some(k) => self.failures.take(&k).map_err(Refused::Failures),
            None => Ok(()),
        }
    }

    /// A turn at a heavy public read, held while it runs.
    pub async fn heavy_read(&self) -> Result<SemaphorePermit<'_>, Refused> {
        match tokio::time::timeout(HEAVY_WAIT, self.heavy.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Refused::Busy(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn key(s: &str) -> Option<ClientKey> {
        Some(ClientKey::of(s.parse().unwrap()))
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let n: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("proxy".parse::<IpNet>().is_err());
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let peer: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let spoof = headers(&["1.2.3.4"]);
        // Not trusted: the header is the client's own word, and ignored.
        assert_eq!(Client::resolve(Some(peer), &spoof, &[]).0, key("10.0.0.5"));
        let trusted = ["10.0.0.0/24".parse().unwrap()];
        assert_eq!(
            Client::resolve(Some(peer), &spoof, &trusted).0,
            key("1.2.3.4")
        );
        // What a client wrote before the proxy appended its address is never reached.
        let chain = headers(&["6.6.6.6, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(
            Client::resolve(Some(peer), &chain, &trusted).0,
            key("203.0.113.9")
        );
        // No header, or a broken one: the proxy itself.
        assert_eq!(
            Client::resolve(Some(peer), &headers(&[]), &trusted).0,
            key("10.0.0.5")
        );
        assert_eq!(
            Client::resolve(Some(peer), &headers(&["junk"]), &trusted).0,
            key("10.0.0.5")
        );
    }

    #[test]
    fn an_ipv6_host_is_one_client_per_64() {
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    }

    #[test]
    fn buckets_refuse_past_the_burst_and_stay_bounded() {
        let b: RateBuckets<u32> = RateBuckets::new(1.0, 3.0);
        assert!((0..3).all(|_| b.take(&7).is_ok()));
        assert_eq!(b.take(&7), Err(1));
        assert!(b.take(&8).is_ok());
        let off: RateBuckets<u32> = RateBuckets::new(0.0, 0.0);
        assert!((0..1000).all(|_| off.take(&1).is_ok()));
        let many: RateBuckets<u32> = RateBuckets::new(1000.0, 1.0);
        for k in 0..(RateBuckets::<u32>::MAX_KEYS as u32 + 10) {
            let _ = many.take(&k);
        }
        let n = many.buckets.lock().unwrap().len();
        assert!(n <= RateBuckets::<u32>::MAX_KEYS, "{n} keys kept");
    }
}
