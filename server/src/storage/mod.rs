//! The storage seam: what the server reads, at the level of the domain (records with their
//! timelines, list pages by every filter the API has, stats, the log, tokens, the assessment's
//! measures). Routes, Open311 and the event streams read only through [`Reads`], so an engine
//! is a module implementing it; which keys, trees or tables it uses stays its own business.
//!
//! The write side is in [`unit`]: the writer's commands run over a [`Unit`] of work, and an
//! [`Engine`] runs each batch as one durable transaction.
//!
//! Engines: sled ([`crate::store`], the zero-setup default) and PostgreSQL ([`crate::pg`]).
//! The vocabulary both read and count by is declared here ([`query`], [`counts`],
//! [`Counted`], [`StoreError`]); each engine implements the traits in its own module.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

mod hooks;
pub use hooks::{HookChange, HookState, HookStore, StoredHook};
mod unit;
pub use unit::{Batch, DirectoryKind, Engine, KeptAnswer, LogEntry, NameHolder, Series, Unit};

use shaozi_shared::api::{Community, Day, Department, Stats, Street, TokenInfo};
use shaozi_shared::assessment::{UnitScore, Weights};
use shaozi_shared::{
    CommunityId, Event, Principal, TimelineEntry, Whistle, WhistleId, Wish, WishId,
};

mod counted;
pub use counted::Counted;
pub mod counts;
mod error;
pub use error::{decode, StoreError};
pub mod query;
pub mod queue;
pub use query::{FiledPage, Group, Pending, QueryError, WhistleQuery, WishQuery};

/// Runs blocking store work off the async runtime's threads (a sled read may wait on the
/// disk, a PostgreSQL one on the network).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unavailable {
            why: format!("a store task stopped: {e}"),
        })?
}

/// The tokens as the server loads them at start, and the admin token it may set then.
pub trait TokenKeeper: Send + Sync + 'static {
    /// Every token by the SHA-256 of its secret.
    fn tokens_by_hash(&self) -> Result<HashMap<[u8; 32], TokenInfo>, StoreError>;
    /// Sets the admin token, before the writer runs: `info` under the hash `new`, in place of
    /// the entry under `old` if there is one, durable before it returns.
    fn set_admin_token(
        &self,
        old: Option<[u8; 32]>,
        new: [u8; 32],
        info: &TokenInfo,
    ) -> Result<(), StoreError>;
}

/// What copying a city reads besides [`Reads`] and [`TokenKeeper`]: the first answers kept
/// for Idempotency-Keys, so a client's retry after the move still files nothing twice.
pub trait Export: Send + Sync + 'static {
    /// Every kept answer, by its key (token name, 0, the key).
    fn kept_answers(&self) -> Result<Vec<(Vec<u8>, KeptAnswer)>, StoreError>;
}

/// Everything the server reads. Every method reads a bounded amount, whatever the history's
/// size: lists walk an index from a cursor, stats read counters.
pub trait Reads: Send + Sync + 'static {
    /// The sequence number of the last event (0 for none).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// A whistle.
    fn whistle(&self, id: WhistleId) -> Result<Option<Whistle>, StoreError>;
    /// Several whistles, in the order asked, missing ones left out: one round trip where the
    /// engine is across a network (a search page, a ledger page, similar cases).
    fn whistles(&self, ids: &[WhistleId]) -> Result<Vec<Whistle>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.whistle(*id)?);
        }
        Ok(out)
    }
    /// Several whistles with their histories, in the order asked, missing ones left out (the
    /// search index's feed stages a page of the log's cases at once).
    fn whistles_with_timelines(
        &self,
        ids: &[WhistleId],
    ) -> Result<Vec<(Whistle, Vec<TimelineEntry>)>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for w in self.whistles(ids)? {
            let timeline = self.whistle_timeline(w.id)?;
            out.push((w, timeline));
        }
        Ok(out)
    }
    /// A whistle's history, oldest first (empty for no such whistle).
    fn whistle_timeline(&self, id: WhistleId) -> Result<Vec<TimelineEntry>, StoreError>;
    /// A wish.
    fn wish(&self, id: WishId) -> Result<Option<Wish>, StoreError>;
    /// A wish's history, oldest first (empty for no such wish).
    fn wish_timeline(&self, id: WishId) -> Result<Vec<TimelineEntry>, StoreError>;
    /// Every street office, in id order.
    fn streets(&self) -> Result<Vec<Street>, StoreError>;
    /// Every community, in id order.
    fn communities(&self) -> Result<Vec<Community>, StoreError>;
    /// One community.
    fn community(&self, id: CommunityId) -> Result<Option<Community>, StoreError>;
    /// Every department, in id order.
    fn departments(&self) -> Result<Vec<Department>, StoreError>;
    /// Every reply template kept through the API, in id order.
    fn templates(&self) -> Result<Vec<shaozi_shared::api::ReplyTemplate>, StoreError>;
    /// A page of whistles in queue order, and the cursor to the next.
    fn list_whistles(&self, q: &WhistleQuery)
        -> Result<(Vec<Whistle>, Option<String>), QueryError>;
    /// A page of wishes, newest first, and the cursor to the next.
    fn list_wishes(&self, q: &WishQuery) -> Result<(Vec<Wish>, Option<String>), QueryError>;
    /// The stats `who` may see.
    fn stats_for(&self, who: &Principal) -> Result<Stats, StoreError>;
    /// Up to `limit` events after sequence number `after`, as stored (JSON), in order.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError>;
    /// Every token, in name order, without secrets.
    fn token_list(&self) -> Result<Vec<TokenInfo>, StoreError>;
    /// A page of the log by actor and time, and the sequence number to continue after.
    fn audit(
        &self,
        actor: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), StoreError>;
    /// A page of whistles by filing time (Open311's search).
    fn filed_page(&self, q: &FiledPage) -> Result<Vec<Whistle>, StoreError>;
    /// A page of the events about whistles in a time window (Open311's updates).
    fn whistle_log_page(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
    ) -> Result<Vec<Event>, StoreError>;
    /// Whistles filed and closed per local day of [from, to).
    fn daily(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> Result<Vec<Day>, StoreError>;
    /// Every unit of `group`, measured over [from, to), scored and ranked.
    fn assessment(
        &self,
        group: Group,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        weights: &Weights,
    ) -> Result<Vec<UnitScore>, StoreError>;
    /// Whistles per status, city-wide (a status with none may be missing or 0).
    fn status_totals(&self) -> Result<Vec<(String, i64)>, StoreError>;
    /// The store's size on disk, in bytes.
    fn size_bytes(&self) -> Result<u64, StoreError>;
}
