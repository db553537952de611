//! Bearer tokens: random 256-bit values stored only as SHA-256 hashes, each with a name,
//! role and scope. The book is loaded once at start (it grows with tokens, not history) and
//! kept current by the writer; it also limits each token's request rate and event streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::header;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use shaozi_shared::api::{OwnerStanding, TokenInfo};
use shaozi_shared::{Actor, Principal, Role, Scope};

use crate::clock::Clock;
use crate::guard::RateBuckets;
use crate::storage::StoreError;

/// Why a token is refused: unknown, revoked or expired (an answer of 401).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unauthorized(pub String);

/// A token's SHA-256.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether two secrets are the same, in time that does not depend on where they differ
/// (their hashes are compared, every byte).
pub fn same_secret(given: &str, want: &str) -> bool {
    let (a, b) = (hash(given), hash(want));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A new random token: 256 bits as 64 hex digits.
pub fn generate() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The actor a principal appears as in the log.
pub fn actor(p: &Principal) -> Actor {
    Actor {
        name: p.name.clone(),
        role: p.role.as_str().to_string(),
    }
}

/// Limits per token.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sustained requests per second (0: no limit).
    pub rate_per_sec: f64,
    /// Requests allowed in a burst.
    pub burst: f64,
    /// Open event streams.
    pub streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_sec: 100.0,
            burst: 300.0,
            streams: 16,
        }
    }
}

/// The accepted tokens and their limits.
pub struct TokenBook {
    by_hash: RwLock<HashMap<[u8; 32], TokenInfo>>,
    rates: RateBuckets<String>,
    streams: Mutex<HashMap<String, usize>>,
    /// Counts revocations. A `watch` never lags, so however many notices are in flight, every
    /// stream sees that something was revoked and checks its own token against the book.
    revoked: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
    limits: Limits,
}

impl TokenBook {
    /// Loads the tokens and sets up the admin token: the given one (replacing the stored
    /// admin's hash), else the stored one, else a new one, returned to be printed once.
    pub fn load(
        store: &dyn crate::storage::TokenKeeper,
        given_admin: Option<&str>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Result<(Arc<TokenBook>, Option<String>), StoreError> {
        let mut by_hash = store.tokens_by_hash()?;
        let admin_hash = by_hash
            .iter()
            .find(|(_, i)| i.name == "admin")
            .map(|(h, _)| *h);
        let mut created = None;
        let wanted = match (given_admin, admin_hash) {
            (Some(t), _) => Some(hash(t)),
            (None, Some(_)) => None,
            (None, None) => {
                let t = generate();
                let h = hash(&t);
                created = Some(t);
                Some(h)
            }
        };
        if let Some(h) = wanted.filter(|h| Some(*h) != admin_hash) {
            let info = match admin_hash.and_then(|old| by_hash.remove(&old)) {
                Some(mut old) => {
                    old.revoked_at = None;
                    old
                }
                None => TokenInfo {
                    name: "admin".into(),
                    role: Role::Admin,
                    scope: Scope::City,
                    created_by: "shaozi-server".into(),
                    created_at: clock.now(),
                    expires_at: None,
                    revoked_at: None,
                },
            };
            store.set_admin_token(admin_hash, h, &info)?;
            by_hash.insert(h, info);
        }
        let (revoked, _) = watch::channel(0);
        let book = TokenBook {
            by_hash: RwLock::new(by_hash),
            rates: RateBuckets::new(limits.rate_per_sec, limits.burst),
            streams: Mutex::new(HashMap::new()),
            revoked,
            clock,
            limits,
        };
        Ok((Arc::new(book), created))
    }

    /// Who holds `token`, or why it is refused.
    pub fn principal(&self, token: &str) -> Result<Principal, Unauthorized> {
        self.principal_by_hash(&hash(token))
    }

    /// Whether the token with this hash is still good (known, not revoked, not expired):
    /// what an open event stream asks before every event it sends.
    pub fn is_valid(&self, h: &[u8; 32]) -> bool {
        self.principal_by_hash(h).is_ok()
    }

    pub fn principal_by_hash(&self, h: &[u8; 32]) -> Result<Principal, Unauthorized> {
        let book = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        let info = book
            .get(h)
            .ok_or_else(|| Unauthorized("this token is not known to the server".into()))?;
        if info.revoked_at.is_some() {
            return Err(Unauthorized(format!("the token {} was revoked", info.name)));
        }
        if info.expires_at.is_some_and(|e| e <= self.clock.now()) {
            return Err(Unauthorized(format!("the token {} has expired", info.name)));
        }
        Ok(Principal {
            name: info.name.clone(),
            role: info.role,
            scope: info.scope,
        })
    }

    /// How the token named `name` stands: what a webhook asks of its owner before every
    /// delivery (tokens are few; a scan of the book is cheaper than a second index kept in
    /// step).
    pub fn standing(&self, name: &str) -> OwnerStanding {
        let book = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        let Some(info) = book.values().find(|i| i.name == name) else {
            return OwnerStanding::Unknown;
        };
        if info.revoked_at.is_some() {
            OwnerStanding::Revoked
        } else if info.expires_at.is_some_and(|e| e <= self.clock.now()) {
            OwnerStanding::Expired
        } else {
            OwnerStanding::Active
        }
    }

    /// The principal of the good token named `name`, if there is one.
    pub fn named(&self, name: &str) -> Option<Principal> {
        if !self.standing(name).active() {
            return None;
        }
        let book = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        book.values()
            .find(|i| i.name == name)
            .map(|info| Principal {
                name: info.name.clone(),
                role: info.role,
                scope: info.scope,
            })
    }

    /// Records a committed new token.
    pub fn insert(&self, h: [u8; 32], info: TokenInfo) {
        self.by_hash
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(h, info);
    }

    /// Records a committed revocation; the token's event streams see it and close.
    pub fn revoke(&self, name: &str, at: DateTime<Utc>) {
        for info in self
            .by_hash
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
        {
            if info.name == name {
                info.revoked_at = Some(at);
            }
        }
        self.revoked.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever a token is revoked; the receiver then checks its own token with
    /// [`TokenBook::is_valid`].
    pub fn revocations(&self) -> watch::Receiver<u64> {
        self.revoked.subscribe()
    }

    /// Takes one request from the token's allowance, or says how many seconds to wait.
    pub fn take(&self, name: &str) -> Result<(), u64> {
        self.rates.take(&name.to_string())
    }

    /// Opens an event stream for the token, unless it has too many open.
    pub fn open_stream(self: &Arc<Self>, name: &str) -> Option<StreamSlot> {
        let mut open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(name.to_string()).or_default();
        if *n >= self.limits.streams {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            book: self.clone(),
            name: name.to_string(),
        })
    }

    /// Event streams open now, over every token.
    pub fn open_streams(&self) -> usize {
        let open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        open.values().sum()
    }

    /// The cap on open event streams per token.
    pub fn stream_cap(&self) -> usize {
        self.limits.streams
    }
}

/// An open event stream's place in its token's allowance; freed when dropped.
pub struct StreamSlot {
    book: Arc<TokenBook>,
    name: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.book.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.name) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The token of an `Authorization: Bearer …` header; the scheme's name in any case (RFC 9110
/// says it is case-insensitive), the same on every route.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()
        .and_then(bearer_value)
}

pub(crate) fn bearer_value(v: &str) -> Option<&str> {
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The hash of the token a request came with, for checks that outlive the request (an event
/// stream re-checks it before every event).
#[derive(Debug, Clone, Copy)]
pub struct Credential(pub [u8; 32]);
