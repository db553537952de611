//! One batch inside its sled transaction: idempotency, writing records with their derived
//! index entries and counters, and appending events. Commands are in `commands.rs`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use shaozi_shared::{
    Actor, Audience, Category, Deadlines, EventKind, EventScope, RuleError, Whistle, Wish,
};

use super::{Command, Job, Published, Reply, WriteError};
use crate::store::keys::{self, be, family, Record};
use crate::store::{decode_i64, postings, stored, StoreError};

pub(super) type TxError = ConflictableTransactionError<StoreError>;
pub(super) type CmdResult = Result<Reply, WriteError>;

/// One batch's view of the trees inside the transaction.
pub(super) struct Tx<'a> {
    pub(super) meta: &'a TransactionalTree,
    pub(super) dir: &'a TransactionalTree,
    pub(super) whistles: &'a TransactionalTree,
    pub(super) wishes: &'a TransactionalTree,
    pub(super) events: &'a TransactionalTree,
    pub(super) idx: &'a TransactionalTree,
    pub(super) counters: &'a TransactionalTree,
    pub(super) tokens: &'a TransactionalTree,
    pub(super) idem: &'a TransactionalTree,
    pub(super) categories: &'a [Category],
    pub(super) calendar: &'a shaozi_shared::calendar::Calendar,
    pub(super) seq: u64,
    pub(super) published: Vec<Published>,
    /// Counter changes of the whole batch, written once at its end.
    pub(super) deltas: std::collections::BTreeMap<String, i64>,
}

#[derive(Serialize)]
struct EventOut<'a> {
    seq: u64,
    #[serde(rename = "type")]
    kind: EventKind,
    at: DateTime<Utc>,
    actor: &'a Actor,
    subject: &'a str,
    note: Option<&'a str>,
    record: &'a RawValue,
    scope: &'a EventScope,
}

/// What an idempotent create keeps: the body's hash and the first answer.
#[derive(Serialize, serde::Deserialize)]
struct Kept {
    body: String,
    answer: String,
}

pub(super) fn corrupt(what: impl Into<String>, e: impl ToString) -> TxError {
    ConflictableTransactionError::Abort(StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    })
}

pub(super) fn invalid(field: &'static str, reason: impl Into<String>) -> WriteError {
    WriteError::Rule(RuleError::invalid(field, reason))
}

/// A field naming a record (a department, a community, a category) that does not exist.
pub(super) fn unknown(field: &'static str, reason: impl Into<String>) -> WriteError {
    WriteError::Rule(RuleError::coded(
        field,
        shaozi_shared::RefusalCode::UnknownReference,
        reason,
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Who may see events about a whistle: its units, and the previous lead after a reassignment.
pub(super) fn whistle_scope(old: Option<&Whistle>, w: &Whistle) -> EventScope {
    let mut departments: Vec<_> = w
        .department_id
        .into_iter()
        .chain(w.assisting.iter().copied())
        .collect();
    if let Some(prev) = old.and_then(|o| o.department_id) {
        if !departments.contains(&prev) {
            departments.push(prev);
        }
    }
    EventScope {
        audience: Audience::Whistle,
        street: Some(w.street_id),
        community: Some(w.community_id),
        departments,
    }
}

fn wish_scope(w: &Wish) -> EventScope {
    EventScope {
        audience: Audience::Wish,
        street: Some(w.street_id),
        community: Some(w.community_id),
        departments: Vec::new(),
    }
}

/// Records the writer keeps, with the scope of their events.
pub(super) trait Tracked: Record {
    fn scope(&self, old: Option<&Self>) -> EventScope;
}

impl Tracked for Whistle {
    fn scope(&self, old: Option<&Self>) -> EventScope {
        whistle_scope(old, self)
    }
}

impl Tracked for Wish {
    fn scope(&self, _old: Option<&Self>) -> EventScope {
        wish_scope(self)
    }
}

/// Reads a value inside the transaction and decodes it with `decode`.
fn read_with<T>(
    tree: &TransactionalTree,
    key: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T, StoreError>,
) -> Result<Option<T>, TxError> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => decode(&v).map(Some).map_err(TxError::Abort),
    }
}

/// Reads and decodes a whistle or wish inside the transaction.
pub(super) fn read_record<T: serde::de::DeserializeOwned>(
    tree: &TransactionalTree,
    key: impl AsRef<[u8]>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, TxError> {
    read_with(tree, key.as_ref(), |v| crate::store::decode_record(v, what))
}

/// Reads and decodes a directory record or token inside the transaction.
pub(super) fn read<T: serde::de::DeserializeOwned>(
    tree: &TransactionalTree,
    key: impl AsRef<[u8]>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, TxError> {
    read_with(tree, key.as_ref(), |v| crate::store::decode(v, what))
}

impl Tx<'_> {
    /// Runs one job, honouring its Idempotency-Key. The outer error aborts the whole batch
    /// (storage); the inner one is this job's refusal, made before it wrote anything.
    pub(super) fn run_once(
        &mut self,
        j: &Job,
        at: DateTime<Utc>,
        due: &[u64],
    ) -> Result<CmdResult, TxError> {
        let Some(idem) = &j.idem else {
            return self.run(&j.cmd, &j.who, at, due);
        };
        let body = hex(&idem.body);
        if let Some(v) = self.idem.get(&idem.key)? {
            let kept: Kept =
                serde_json::from_slice(&v).map_err(|e| corrupt("an idempotency key", e))?;
            return Ok(if kept.body == body {
                Ok(Reply::Replayed(kept.answer))
            } else {
                Err(WriteError::KeyReused(
                    "this Idempotency-Key was already used with a different body; use a new key for a new request".into(),
                ))
            });
        }
        let r = self.run(&j.cmd, &j.who, at, due)?;
        if let Some(answer) = r.as_ref().ok().and_then(Reply::to_json) {
            let kept = serde_json::to_vec(&Kept { body, answer })
                .map_err(|e| corrupt("an idempotency key", e))?;
            self.idem.insert(idem.key.as_slice(), kept)?;
        }
        Ok(r)
    }

    fn run(
        &mut self,
        cmd: &Command,
        who: &shaozi_shared::Principal,
        at: DateTime<Utc>,
        due: &[u64],
    ) -> Result<CmdResult, TxError> {
        let actor = crate::auth::actor(who);
        match cmd {
            Command::CreateStreet(b) => self.create_street(b, who, &actor, at),
            Command::CreateCommunity(b) => self.create_community(b, who, &actor, at),
            Command::CreateDepartment(b) => self.create_department(b, who, &actor, at),
            Command::FileWhistle(b) => self.file_whistle(b, who, &actor, at),
            Command::Whistle(id, a, expected) => {
                self.act_on_whistle(*id, a, *expected, who, &actor, at)
            }
            Command::FileWish(b) => self.file_wish(b, who, &actor, at),
            Command::Wish(id, a, expected) => self.act_on_wish(*id, a, *expected, who, &actor, at),
            Command::SweepDeadlines => self.sweep(due, at),
            Command::CreateToken(b, h) => self.create_token(b, *h, who, &actor, at),
            Command::RevokeToken(name) => self.revoke_token(name, who, &actor, at),
            Command::RecordActivity(b) => self.record_activity(b, who, &actor, at),
        }
    }

    pub(super) fn next_id(&self, name: &str, first: u64) -> Result<u64, TxError> {
        let id = self
            .meta
            .get(name)?
            .and_then(|v| keys::read_be(&v))
            .unwrap_or(first);
        self.meta.insert(name, &be(id + 1))?;
        Ok(id)
    }

    pub(super) fn peek_id(&self, name: &str) -> Result<u64, TxError> {
        Ok(self
            .meta
            .get(name)?
            .and_then(|v| keys::read_be(&v))
            .unwrap_or(1))
    }

    pub(super) fn has(&self, kind: u8, id: u64) -> Result<bool, TxError> {
        Ok(self.dir.get(keys::dir_key(kind, id))?.is_some())
    }

    pub(super) fn deadlines(&self, category: &str) -> Deadlines {
        self.categories
            .iter()
            .find(|c| c.code == category)
            .map(|c| c.deadlines)
            .unwrap_or(Deadlines::DEFAULT)
    }

    /// Writes a record into `tree` with its index entries, counters and events.
    pub(super) fn write<R: Tracked>(
        &mut self,
        tree: &TransactionalTree,
        old: Option<&R>,
        new: &R,
        events: &[(EventKind, Option<String>)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let subject = new.subject();
        let json = serde_json::to_string(new).map_err(|e| corrupt(subject.clone(), e))?;
        let key = be(new.number());
        let mut timeline = match (old, tree.get(key)?) {
            (Some(_), Some(v)) => stored::timeline(&v)
                .ok_or_else(|| corrupt(subject.clone(), "timeline cut short"))?,
            _ => Vec::new(),
        };
        let old_idx = old.map(R::index).unwrap_or_default();
        let old_counts = old.map(R::counts).unwrap_or_default();
        self.reindex(&old_idx, &new.index())?;
        let old_lists = old.map(R::lists).unwrap_or_default();
        self.relist(new.number(), &old_lists, &new.lists())?;
        self.count(&keys::count_diff(&old_counts, &new.counts()));
        let scope = new.scope(old);
        for (kind, note) in events {
            let seq = self.emit(*kind, &subject, note.as_deref(), &json, actor, at, &scope)?;
            timeline.push(seq);
        }
        tree.insert(&key, stored::encode(&timeline, json.as_bytes()))?;
        Ok(())
    }

    /// Replaces a record's old index entries with its new ones.
    fn reindex(
        &self,
        old: &[(Vec<u8>, Vec<u8>)],
        new: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), TxError> {
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
    fn relist(&self, id: u64, old: &[Vec<u8>], new: &[Vec<u8>]) -> Result<(), TxError> {
        for p in old.iter().filter(|p| !new.contains(p)) {
            self.unpost(p, id)?;
        }
        for p in new.iter().filter(|p| !old.contains(p)) {
            self.post(p, id)?;
        }
        Ok(())
    }

    /// Counts number `n` (an event, or a whistle filed) in the minute of `at`.
    pub(super) fn count_in_minute(
        &self,
        fam: u8,
        at: DateTime<Utc>,
        n: u64,
    ) -> Result<(), TxError> {
        let k = keys::minute_span_key(fam, at);
        let span = match self.idx.get(&k)? {
            Some(v) => keys::MinuteSpan::decode(&v).with(n),
            None => keys::MinuteSpan::of(n),
        };
        self.idx.insert(k, &span.encode())?;
        Ok(())
    }

    /// Adds `id` to the list `prefix`.
    pub(super) fn post(&self, prefix: &[u8], id: u64) -> Result<(), TxError> {
        let k = postings::bucket_key(prefix, id);
        let v = self.idx.get(&k)?;
        let nv = postings::with(v.as_deref().unwrap_or_default(), id);
        self.idx.insert(k, nv)?;
        Ok(())
    }

    /// Takes `id` out of the list `prefix`.
    fn unpost(&self, prefix: &[u8], id: u64) -> Result<(), TxError> {
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

    fn count(&mut self, diff: &[(String, i64)]) {
        for (name, delta) in diff {
            *self.deltas.entry(name.clone()).or_default() += delta;
        }
    }

    /// Writes the batch's counter changes: one read and write per counter, however many
    /// commands touched it.
    pub(super) fn flush_counters(&mut self) -> Result<(), TxError> {
        for (name, delta) in std::mem::take(&mut self.deltas) {
            if delta == 0 {
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

    /// Appends an event to the log (and the audit indexes by actor and by time) under the
    /// next sequence number, which it returns.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit(
        &mut self,
        kind: EventKind,
        subject: &str,
        note: Option<&str>,
        record_json: &str,
        actor: &Actor,
        at: DateTime<Utc>,
        scope: &EventScope,
    ) -> Result<u64, TxError> {
        let record =
            RawValue::from_string(record_json.to_string()).map_err(|e| corrupt(subject, e))?;
        self.seq += 1;
        let ev = EventOut {
            seq: self.seq,
            kind,
            at,
            actor,
            subject,
            note,
            record: &record,
            scope,
        };
        let json = serde_json::to_string(&ev).map_err(|e| corrupt(subject, e))?;
        let seq = be(self.seq);
        self.events.insert(&seq, json.as_bytes())?;
        for list in keys::event_lists(kind, &actor.name) {
            self.post(&list, self.seq)?;
        }
        self.count_in_minute(family::AUDIT_TIME, at, self.seq)?;
        self.published.push(Published {
            seq: self.seq,
            json,
            scope: scope.clone(),
        });
        Ok(self.seq)
    }
}
