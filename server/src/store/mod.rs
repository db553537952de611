//! The sled store: records, derived indexes and counters, and the event log.
//!
//! Only the writer ([`crate::writer`]) changes it, always in one transaction per batch; every
//! other part of the server only reads. Reads never scan history: lists walk an index from a
//! cursor, stats read counters.

mod assess;
mod by_time;
mod counts;
mod hooks;
pub mod keys;
mod migrate;
/// The store format this build writes (and upgrades older ones to).
pub use migrate::FORMAT;
pub mod postings;
pub mod stored;
mod unit;
pub(crate) use unit::series_key;
pub use unit::SledEngine;

mod query;
mod seam;

pub use crate::storage::{decode, StoreError};
pub use stored::decode_record;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

use std::path::Path;

use serde::de::DeserializeOwned;
use shaozi_shared::api::{Community, Department, Street};
use shaozi_shared::{TimelineEntry, Whistle, WhistleId, Wish, WishId};

use keys::{be, dir, family, key, read_be};

/// The trees of one shaozi store.
#[derive(Clone)]
pub struct Store {
    /// The sled database (for flushing).
    pub db: sled::Db,
    /// Id counters and the admin token's hash.
    pub meta: sled::Tree,
    /// Streets, communities, departments.
    pub dir: sled::Tree,
    /// Whistles by id.
    pub whistles: sled::Tree,
    /// Wishes by id.
    pub wishes: sled::Tree,
    /// The event log by sequence number.
    pub events: sled::Tree,
    /// Secondary indexes, see [`keys::family`].
    pub idx: sled::Tree,
    /// Counters: name → i64.
    pub counters: sled::Tree,
    /// Tokens: SHA-256 → token info.
    pub tokens: sled::Tree,
    /// Idempotency keys: token name, 0, key → the first answer.
    pub idem: sled::Tree,
    /// Webhook subscriptions by id (see `hooks.rs`).
    pub hooks: sled::Tree,
    /// Webhook delivery state by id.
    pub hook_state: sled::Tree,
}

/// sled's page cache, set deliberately so memory stays bounded on large stores.
pub const CACHE_BYTES: u64 = 128 * 1024 * 1024;

impl Store {
    /// Opens (or creates) the store in `path`, upgrading an older format.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Self::sled_at(path)?;
        // Before any tree is opened: an upgrade replaces the index tree.
        migrate::ensure_format(&db)?;
        Self::of_db(db)
    }

    /// Opens the store in `path` only if it is one in this build's format: for a backup or
    /// a check, which must neither create a store where an operator mistyped the path (and
    /// back up nothing, successfully, every night) nor upgrade one that the build it came
    /// from should go on reading.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display();
        if !path.is_dir() {
            return Err(StoreError::NotAStore {
                why: format!(
                    "there is no store in {shown}: no such directory (give --data the server's \
                     data directory)"
                ),
            });
        }
        // sled's own files; a directory without them is not a store, and opening it would
        // make one.
        if !path.join("conf").is_file() || !path.join("db").is_file() {
            return Err(StoreError::NotAStore {
                why: format!(
                    "there is no store in {shown}: the directory holds none (give --data the \
                     server's data directory)"
                ),
            });
        }
        let db = Self::sled_at(path)?;
        match migrate::format_of(&db)? {
            Some(migrate::FORMAT) => {}
            Some(n) if n > migrate::FORMAT => {
                return Err(StoreError::NotAStore {
                    why: format!(
                        "the store in {shown} is in format {n}, newer than this build's {}; \
                         run a newer shaozi-server (nothing was changed)",
                        migrate::FORMAT
                    ),
                })
            }
            Some(n) => {
                return Err(StoreError::NotAStore {
                    why: format!(
                        "the store in {shown} is in format {n}, and this build would upgrade it \
                         to format {} on opening; nothing was changed. Back it up with the \
                         build that wrote it (or copy the stopped directory), or start this \
                         build's server on it once to upgrade it first",
                        migrate::FORMAT
                    ),
                })
            }
            None => {
                return Err(StoreError::NotAStore {
                    why: format!("there is no shaozi store in {shown}: sled files, no shaozi data"),
                })
            }
        }
        Self::of_db(db)
    }

    fn sled_at(path: &Path) -> Result<sled::Db, StoreError> {
        Ok(sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            // Durability comes from the writer's explicit flush before every answer.
            .flush_every_ms(None)
            .open()?)
    }

    fn of_db(db: sled::Db) -> Result<Store, StoreError> {
        Ok(Store {
            meta: db.open_tree("meta")?,
            dir: db.open_tree("dir")?,
            whistles: db.open_tree("whistles")?,
            wishes: db.open_tree("wishes")?,
            events: db.open_tree("events")?,
            idx: db.open_tree(migrate::INDEX_TREE)?,
            counters: db.open_tree("counters")?,
            tokens: db.open_tree("tokens")?,
            idem: db.open_tree("idem")?,
            hooks: db.open_tree("hooks")?,
            hook_state: db.open_tree("hook_state")?,
            db,
        })
    }

    /// Sequence number of the last committed event (0 when empty).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self
            .events
            .last()?
            .and_then(|(k, _)| read_be(&k))
            .unwrap_or(0))
    }

    /// A whistle by id.
    pub fn whistle(&self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        self.whistles
            .get(be(id.0))?
            .map(|v| decode_record(&v, || id.to_string()))
            .transpose()
    }

    /// A wish by id.
    pub fn wish(&self, id: WishId) -> Result<Option<Wish>, StoreError> {
        self.wishes
            .get(be(id.0))?
            .map(|v| decode_record(&v, || id.to_string()))
            .transpose()
    }

    /// All streets, in id order.
    pub fn streets(&self) -> Result<Vec<Street>, StoreError> {
        self.dir_list(dir::STREET)
    }

    /// All communities, in id order.
    pub fn communities(&self) -> Result<Vec<Community>, StoreError> {
        self.dir_list(dir::COMMUNITY)
    }

    /// All departments, in id order.
    pub fn departments(&self) -> Result<Vec<Department>, StoreError> {
        self.dir_list(dir::DEPARTMENT)
    }

    fn dir_list<T: DeserializeOwned>(&self, kind: u8) -> Result<Vec<T>, StoreError> {
        self.dir
            .scan_prefix([kind])
            .map(|r| {
                let (k, v) = r?;
                decode(&v, || format!("directory entry {k:?}"))
            })
            .collect()
    }

    /// One directory record.
    pub fn dir_get<T: DeserializeOwned>(&self, kind: u8, id: u64) -> Result<Option<T>, StoreError> {
        decode_opt(self.dir.get(keys::dir_key(kind, id))?, || {
            format!("{}{id}", kind as char)
        })
    }

    /// A counter's value.
    pub fn counter(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self
            .counters
            .get(name)?
            .map(|v| decode_i64(&v))
            .unwrap_or(0))
    }

    /// Every counter under `prefix`, as (rest of the name, value).
    pub fn counters_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        self.counters
            .scan_prefix(prefix)
            .map(|r| {
                let (k, v) = r?;
                let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                Ok((name, decode_i64(&v)))
            })
            .collect()
    }

    /// Up to `limit` events after `after`, as stored JSON with their sequence numbers.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let start = after.saturating_add(1);
        self.events
            .range(be(start)..)
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                let seq = read_be(&k).unwrap_or(0);
                Ok((seq, String::from_utf8_lossy(&v).into_owned()))
            })
            .collect()
    }

    /// A whistle's history, oldest first (empty for no such whistle).
    pub fn whistle_timeline(&self, id: WhistleId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.timeline(&self.whistles, id.0)
    }

    /// A wish's history, oldest first (empty for no such wish).
    pub fn wish_timeline(&self, id: WishId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.timeline(&self.wishes, id.0)
    }

    /// The history of record `id` in `tree`: its events, by the sequence numbers it keeps.
    fn timeline(&self, tree: &sled::Tree, id: u64) -> Result<Vec<TimelineEntry>, StoreError> {
        let Some(v) = tree.get(be(id))? else {
            return Ok(Vec::new());
        };
        let seqs = stored::timeline(&v).ok_or_else(|| stored::cut_short(format!("record {id}")))?;
        let mut out = Vec::new();
        for seq in seqs {
            if let Some(v) = self.events.get(be(seq))? {
                let e: shaozi_shared::event::TimelineEvent = decode(&v, || format!("event {seq}"))?;
                out.push(e.entry());
            }
        }
        Ok(out)
    }

    /// Whether an id exists in the directory.
    pub fn dir_has(&self, kind: u8, id: u64) -> Result<bool, StoreError> {
        Ok(self.dir.contains_key(keys::dir_key(kind, id))?)
    }

    /// Every token by the SHA-256 of its secret.
    pub fn tokens_by_hash(
        &self,
    ) -> Result<std::collections::HashMap<[u8; 32], shaozi_shared::api::TokenInfo>, StoreError>
    {
        let mut out = std::collections::HashMap::new();
        for r in self.tokens.iter() {
            let (k, v) = r?;
            if let Ok(h) = <[u8; 32]>::try_from(k.as_ref()) {
                out.insert(h, decode(&v, || "a token".into())?);
            }
        }
        Ok(out)
    }

    /// Sets the admin token at start-up, before the writer runs: `info` under the hash `new`,
    /// in place of the entry under `old` if there is one, and on disk before it returns.
    pub fn set_admin_token(
        &self,
        old: Option<[u8; 32]>,
        new: [u8; 32],
        info: &shaozi_shared::api::TokenInfo,
    ) -> Result<(), StoreError> {
        if let Some(old) = old {
            self.tokens.remove(old)?;
        }
        let json = serde_json::to_vec(info).map_err(|e| StoreError::Corrupt {
            what: "admin token".into(),
            why: e.to_string(),
        })?;
        self.tokens.insert(new, json)?;
        self.idx
            .insert(keys::name_key(keys::dir::TOKEN, &info.name), &new)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every token, in name order.
    pub fn token_list(&self) -> Result<Vec<shaozi_shared::api::TokenInfo>, StoreError> {
        let mut out: Vec<shaozi_shared::api::TokenInfo> = self
            .tokens
            .iter()
            .map(|r| {
                let (_, v) = r?;
                decode(&v, || "a token".into())
            })
            .collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// One page of the log for the audit, oldest first: by actor and time range; returns
    /// events and the cursor (a sequence number) to continue after. A page looks at no more
    /// than 5,000 events; a sparse filter hands back a cursor to go on from.
    pub fn audit(
        &self,
        actor: Option<&str>,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), StoreError> {
        const MAX_SCAN: usize = 5000;
        let lo = from.map(keys::time_key).unwrap_or(0);
        let hi = to.map(keys::time_key).unwrap_or(u64::MAX);
        let seqs: Box<dyn Iterator<Item = Result<u64, StoreError>>> = match actor {
            Some(name) => Box::new(postings::ascending(
                &self.idx,
                &keys::actor_prefix(name),
                after,
            )),
            None => match self.minute_span(family::AUDIT_TIME, lo, hi)? {
                Some(span) => {
                    Box::new((span.first.max(after.saturating_add(1))..=span.last).map(Ok))
                }
                None => Box::new(std::iter::empty()),
            },
        };
        let mut out = Vec::new();
        let mut last = None;
        for (scanned, seq) in seqs.enumerate() {
            if out.len() >= limit || scanned >= MAX_SCAN {
                return Ok((out, last));
            }
            let seq = seq?;
            last = Some(seq);
            let Some(v) = self.events.get(be(seq))? else {
                continue;
            };
            let e: serde_json::Value = decode(&v, || format!("event {seq}"))?;
            let t = e
                .get("at")
                .and_then(|a| a.as_str())
                .and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok())
                .map(|a| keys::time_key(a.with_timezone(&chrono::Utc)))
                .unwrap_or(0);
            if t >= lo && t <= hi {
                out.push(e);
            }
        }
        Ok((out, None))
    }

    /// The span of `fam` ([`family::AUDIT_TIME`] or [`family::FILED`]) over the minutes from
    /// `lo` to `hi` (time keys). Times only go backwards when the clock does, so the span is
    /// tight in practice, and it always covers everything of the range; callers check each
    /// record's own time.
    pub(crate) fn minute_span(
        &self,
        fam: u8,
        lo: u64,
        hi: u64,
    ) -> Result<Option<keys::MinuteSpan>, StoreError> {
        let mut span: Option<keys::MinuteSpan> = None;
        for r in self.minutes(fam, lo, hi) {
            let (_, s) = r?;
            span = Some(span.map_or(s, |a| a.merge(s)));
        }
        Ok(span.filter(|s| s.first <= s.last))
    }

    /// The minute spans of `fam` from `lo` to `hi` (time keys), as (minute, span).
    pub(crate) fn minutes(
        &self,
        fam: u8,
        lo: u64,
        hi: u64,
    ) -> impl DoubleEndedIterator<Item = Result<(u64, keys::MinuteSpan), StoreError>> {
        let start = key(&[&[fam], &be(lo / 60_000)]);
        let end = key(&[&[fam], &be(hi / 60_000)]);
        self.idx.range(start..=end).map(|r| {
            let (k, v) = r?;
            Ok((read_be(&k[1..]).unwrap_or(0), keys::MinuteSpan::decode(&v)))
        })
    }

    /// Keys of the pending deadlines due at or before `now_key` (see [`keys::time_key`]).
    pub fn due_timers(&self, now_key: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let start = [family::TIMER];
        let end = key(&[&[family::TIMER], &be(now_key.saturating_add(1))]);
        self.idx
            .range(start.to_vec()..end)
            .take(limit)
            .map(|r| {
                let (k, _) = r?;
                Ok(read_be(&k[9..]).unwrap_or(0))
            })
            .collect()
    }
}

fn decode_opt<T: DeserializeOwned>(
    v: Option<sled::IVec>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    v.map(|v| decode(&v, what)).transpose()
}

/// Decodes a counter value.
pub fn decode_i64(v: &[u8]) -> i64 {
    v.get(..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0)
}
