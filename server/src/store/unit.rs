//! The sled engine's write side: a batch is one sled transaction over the nine trees, made
//! durable by one blocking `flush()` on the writer's thread (sled's `flush_async` deadlocks
//! under concurrency, sled #1308). Index entries, postings, timelines and per-minute spans
//! are derived here from the records the commands write.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

use shaozi_shared::api::{Activity, Community, ReplyTemplate, TokenInfo};
use shaozi_shared::{CommunityId, StreetId, Whistle, WhistleId, Wish, WishId};

use super::keys::{self, be, dir, family, Record};
use super::{decode, decode_i64, decode_record, postings, stored, Store, StoreError};
use crate::storage::{
    Batch, DirectoryKind, Engine, KeptAnswer, LogEntry, NameHolder, Series, Unit,
};

impl From<UnabortableTransactionError> for StoreError {
    fn from(e: UnabortableTransactionError) -> Self {
        match e {
            UnabortableTransactionError::Conflict => StoreError::Conflict,
            UnabortableTransactionError::Storage(e) => StoreError::from(e),
        }
    }
}

fn dir_code(kind: DirectoryKind) -> u8 {
    match kind {
        DirectoryKind::Street => dir::STREET,
        DirectoryKind::Community => dir::COMMUNITY,
        DirectoryKind::Department => dir::DEPARTMENT,
    }
}

/// The `meta` entry holding the next id of a series.
/// Where the meta tree keeps a series' next id.
pub(crate) fn series_key(series: Series) -> &'static str {
    match series {
        Series::Directory(DirectoryKind::Street) => "next/street",
        Series::Directory(DirectoryKind::Community) => "next/community",
        Series::Directory(DirectoryKind::Department) => "next/department",
        Series::Whistle => "next/whistle",
        Series::Wish => "next/wish",
        Series::Activity => "next/activity",
        Series::Template => "next/template",
    }
}

/// The sled engine's write side: the store, and the log's head (this process is the only
/// writer of a sled store).
pub struct SledEngine {
    store: Store,
    head: u64,
}

impl SledEngine {
    /// The write side of `store`.
    pub fn new(store: Store) -> Result<SledEngine, StoreError> {
        let head = store.last_seq()?;
        Ok(SledEngine { store, head })
    }
}

/// One batch's view of the trees inside the transaction.
struct SledUnit<'a> {
    head: &'a std::cell::Cell<u64>,
    meta: &'a TransactionalTree,
    dir: &'a TransactionalTree,
    whistles: &'a TransactionalTree,
    wishes: &'a TransactionalTree,
    events: &'a TransactionalTree,
    idx: &'a TransactionalTree,
    counters: &'a TransactionalTree,
    tokens: &'a TransactionalTree,
    idem: &'a TransactionalTree,
}

impl SledUnit<'_> {
    fn read_record<T: serde::de::DeserializeOwned>(
        tree: &TransactionalTree,
        id: u64,
        what: impl FnOnce() -> String,
    ) -> Result<Option<T>, StoreError> {
        tree.get(be(id))?
            .map(|v| decode_record(&v, what))
            .transpose()
    }

    /// Writes a record into `tree` with its index entries, lists and timeline.
    fn put<R: Record>(
        &self,
        tree: &TransactionalTree,
        old: Option<&R>,
        new: &R,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        let key = be(new.number());
        let mut timeline = match (old, tree.get(key)?) {
            (Some(_), Some(v)) => stored::timeline(&v).ok_or_else(|| StoreError::Corrupt {
                what: new.subject(),
                why: "its stored timeline is cut short".into(),
            })?,
            _ => Vec::new(),
        };
        timeline.extend_from_slice(events);
        self.reindex(&old.map(R::index).unwrap_or_default(), &new.index())?;
        self.relist(
            new.number(),
            &old.map(R::lists).unwrap_or_default(),
            &new.lists(),
        )?;
        tree.insert(&key, stored::encode(&timeline, json.as_bytes()))?;
        Ok(())
    }

    /// Replaces a record's old index entries with its new ones.
    fn reindex(
        &self,
        old: &[(Vec<u8>, Vec<u8>)],
        new: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let keep: BTreeSet<&[u8]> = new.iter().map(|(k, _)| k.as_slice()).collect();
        for (k, _) in old {
            if !keep.contains(k.as_slice()) {
                self.idx.remove(k.as_slice())?;
            }
        }
        let had: BTreeSet<(&[u8], &[u8])> = old
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        for (k, v) in new {
            if !had.contains(&(k.as_slice(), v.as_slice())) {
                self.idx.insert(k.as_slice(), v.as_slice())?;
            }
        }
        Ok(())
    }

    /// Moves a record between id-ordered lists (postings).
    fn relist(&self, id: u64, old: &[Vec<u8>], new: &[Vec<u8>]) -> Result<(), StoreError> {
        for p in old.iter().filter(|p| !new.contains(p)) {
            self.unpost(p, id)?;
        }
        for p in new.iter().filter(|p| !old.contains(p)) {
            self.post(p, id)?;
        }
        Ok(())
    }

    /// Counts number `n` (an event, or a whistle filed) in the minute of `at`.
    fn count_in_minute(&self, fam: u8, at: DateTime<Utc>, n: u64) -> Result<(), StoreError> {
        let k = keys::minute_span_key(fam, at);
        let span = match self.idx.get(&k)? {
            Some(v) => keys::MinuteSpan::decode(&v).with(n),
            None => keys::MinuteSpan::of(n),
        };
        self.idx.insert(k, &span.encode())?;
        Ok(())
    }

    /// Adds `id` to the list `prefix`.
    fn post(&self, prefix: &[u8], id: u64) -> Result<(), StoreError> {
        let k = postings::bucket_key(prefix, id);
        let v = self.idx.get(&k)?;
        let nv = postings::with(v.as_deref().unwrap_or_default(), id);
        self.idx.insert(k, nv)?;
        Ok(())
    }

    /// Takes `id` out of the list `prefix`.
    fn unpost(&self, prefix: &[u8], id: u64) -> Result<(), StoreError> {
        let k = postings::bucket_key(prefix, id);
        let Some(v) = self.idx.get(&k)? else {
            return Ok(());
        };
        let nv = postings::without(&v, id);
        if nv.is_empty() {
            self.idx.remove(k)?;
        } else {
            self.idx.insert(k, nv)?;
        }
        Ok(())
    }
}

impl Unit for SledUnit<'_> {
    fn log_head(&mut self) -> Result<u64, StoreError> {
        Ok(self.head.get())
    }

    fn whistle(&mut self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        Self::read_record(self.whistles, id.0, || id.to_string())
    }

    fn wish(&mut self, id: WishId) -> Result<Option<Wish>, StoreError> {
        Self::read_record(self.wishes, id.0, || id.to_string())
    }

    fn put_whistle(
        &mut self,
        old: Option<&Whistle>,
        new: &Whistle,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        self.put(self.whistles, old, new, json, events)?;
        if old.is_none() {
            // Filing times never change: kept per minute, for Open311's search by time.
            self.count_in_minute(family::FILED, new.created_at, new.id.0)?;
        }
        Ok(())
    }

    fn put_wish(
        &mut self,
        old: Option<&Wish>,
        new: &Wish,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        self.put(self.wishes, old, new, json, events)
    }

    fn has(&mut self, kind: DirectoryKind, id: u64) -> Result<bool, StoreError> {
        Ok(self.dir.get(keys::dir_key(dir_code(kind), id))?.is_some())
    }

    fn community(&mut self, id: CommunityId) -> Result<Option<Community>, StoreError> {
        self.dir
            .get(keys::dir_key(dir::COMMUNITY, id.0))?
            .map(|v| decode(&v, || id.to_string()))
            .transpose()
    }

    fn put_directory(
        &mut self,
        kind: DirectoryKind,
        id: u64,
        json: &str,
    ) -> Result<(), StoreError> {
        self.dir
            .insert(keys::dir_key(dir_code(kind), id), json.as_bytes())?;
        Ok(())
    }

    fn put_activity(
        &mut self,
        a: &Activity,
        id: u64,
        street: StreetId,
        day: DateTime<Utc>,
        json: &str,
    ) -> Result<(), StoreError> {
        self.dir
            .insert(keys::dir_key(dir::ACTIVITY, id), json.as_bytes())?;
        let value =
            serde_json::to_vec(&(a.kind, a.participants)).map_err(|e| StoreError::Corrupt {
                what: a.id.clone(),
                why: e.to_string(),
            })?;
        for (unit, uid) in [
            (family::DEPARTMENT, a.department_id.0),
            (family::COMMUNITY, a.community_id.0),
            (family::STREET, street.0),
        ] {
            self.idx.insert(
                keys::unit_time_key(family::ACTIVITY, unit, uid, day, id),
                value.clone(),
            )?;
        }
        Ok(())
    }

    fn put_template(&mut self, id: u64, json: Option<&str>) -> Result<(), StoreError> {
        let key = keys::dir_key(dir::TEMPLATE, id);
        match json {
            Some(json) => self.dir.insert(key, json.as_bytes())?,
            None => self.dir.remove(key)?,
        };
        Ok(())
    }

    fn template(&mut self, id: u64) -> Result<Option<ReplyTemplate>, StoreError> {
        self.dir
            .get(keys::dir_key(dir::TEMPLATE, id))?
            .map(|v| decode(&v, || format!("T{id}")))
            .transpose()
    }

    fn peek_id(&mut self, series: Series) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(series_key(series))?
            .and_then(|v| keys::read_be(&v))
            .unwrap_or(series.first()))
    }

    fn take_id(&mut self, series: Series) -> Result<u64, StoreError> {
        let id = self.peek_id(series)?;
        self.meta.insert(series_key(series), &be(id + 1))?;
        Ok(id)
    }

    fn restore_series(&mut self, series: Series, next: u64) -> Result<(), StoreError> {
        self.meta.insert(series_key(series), &be(next))?;
        Ok(())
    }

    fn claim_name(
        &mut self,
        name: &str,
        holder: NameHolder,
    ) -> Result<Option<NameHolder>, StoreError> {
        let (code, value) = match holder {
            NameHolder::Directory(kind, id) => (dir_code(kind), be(id).to_vec()),
            NameHolder::Token(h) => (dir::TOKEN, h.to_vec()),
        };
        let k = keys::name_key(code, name);
        if let Some(v) = self.idx.get(&k)? {
            let had = match holder {
                NameHolder::Directory(kind, _) => {
                    NameHolder::Directory(kind, keys::read_be(&v).unwrap_or(0))
                }
                NameHolder::Token(_) => {
                    NameHolder::Token(<[u8; 32]>::try_from(v.as_ref()).unwrap_or_default())
                }
            };
            return Ok(Some(had));
        }
        self.idx.insert(k, value)?;
        Ok(None)
    }

    fn token_named(&mut self, name: &str) -> Result<Option<([u8; 32], TokenInfo)>, StoreError> {
        let Some(h) = self.idx.get(keys::name_key(dir::TOKEN, name))? else {
            return Ok(None);
        };
        let Ok(hash) = <[u8; 32]>::try_from(h.as_ref()) else {
            return Ok(None);
        };
        let Some(v) = self.tokens.get(h)? else {
            return Ok(None);
        };
        Ok(Some((hash, decode(&v, || name.to_string())?)))
    }

    fn put_token(&mut self, hash: &[u8; 32], json: &str) -> Result<(), StoreError> {
        self.tokens.insert(&hash[..], json.as_bytes())?;
        Ok(())
    }

    fn append_event(&mut self, e: &LogEntry<'_>) -> Result<(), StoreError> {
        self.head.set(e.seq);
        self.events.insert(&be(e.seq), e.json.as_bytes())?;
        for list in keys::event_lists(e.kind, e.actor) {
            self.post(&list, e.seq)?;
        }
        self.count_in_minute(family::AUDIT_TIME, e.at, e.seq)
    }

    /// One read and write per counter, however many commands of the batch touched it.
    fn add_to_counters(&mut self, deltas: &BTreeMap<String, i64>) -> Result<(), StoreError> {
        for (name, delta) in deltas {
            if *delta == 0 {
                continue;
            }
            let cur = self
                .counters
                .get(name.as_bytes())?
                .map(|v| decode_i64(&v))
                .unwrap_or(0);
            self.counters
                .insert(name.as_bytes(), &(cur + delta).to_be_bytes())?;
        }
        Ok(())
    }

    fn kept(&mut self, key: &[u8]) -> Result<Option<KeptAnswer>, StoreError> {
        self.idem
            .get(key)?
            .map(|v| decode(&v, || "an idempotency key".into()))
            .transpose()
    }

    fn keep(&mut self, key: &[u8], kept: &KeptAnswer) -> Result<(), StoreError> {
        let v = serde_json::to_vec(kept).map_err(|e| StoreError::Corrupt {
            what: "an idempotency key".into(),
            why: e.to_string(),
        })?;
        self.idem.insert(key, v)?;
        Ok(())
    }
}

impl Engine for SledEngine {
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        Ok(self.head)
    }

    fn due_whistles(
        &mut self,
        at: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, StoreError> {
        Ok(self
            .store
            .due_timers(keys::time_key(at), limit)?
            .into_iter()
            .map(WhistleId)
            .collect())
    }

    fn commit(&mut self, batch: &mut Batch<'_>) -> Result<(), StoreError> {
        let s = &self.store;
        let trees = (
            &s.meta,
            &s.dir,
            &s.whistles,
            &s.wishes,
            &s.events,
            &s.idx,
            &s.counters,
            &s.tokens,
            &s.idem,
        );
        // The head as the batch leaves it; kept only once the batch is durable.
        let head = std::cell::Cell::new(self.head);
        // sled wants a closure it can call again; the batch is only ever run by one call.
        let batch = std::cell::RefCell::new(batch);
        trees
            .transaction(
                |(meta, dir, whistles, wishes, events, idx, counters, tokens, idem)| {
                    head.set(self.head);
                    let mut unit = SledUnit {
                        head: &head,
                        meta,
                        dir,
                        whistles,
                        wishes,
                        events,
                        idx,
                        counters,
                        tokens,
                        idem,
                    };
                    (batch.borrow_mut())(&mut unit).map_err(|e| match e {
                        // sled runs the closure again when a transaction met another.
                        StoreError::Conflict => ConflictableTransactionError::Conflict,
                        e => ConflictableTransactionError::Abort(e),
                    })
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::from(e),
            })?;
        self.store.db.flush()?;
        self.head = head.get();
        Ok(())
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.store.db.flush()?;
        Ok(())
    }
}
