//! One batch inside the engine's transaction: idempotency, writing records with their
//! counters, and appending events, over the engine's [`Unit`] of work. Commands are in
//! `commands.rs`; nothing here knows which engine runs them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use shaozi_shared::{
    Actor, Audience, Category, Deadlines, EventKind, EventScope, RuleError, Whistle, Wish,
};

use super::request::{Command, Job, Published, Reply, WriteError};
use crate::storage::StoreError;
use crate::storage::{KeptAnswer, LogEntry, Unit};
use crate::store::keys::{self, Record};

/// A failure of the store, which aborts the whole batch.
pub(super) type TxError = StoreError;
pub(super) type CmdResult = Result<Reply, WriteError>;

/// One batch: the engine's unit of work and what the batch has produced so far.
pub(super) struct Tx<'a> {
    pub(super) u: &'a mut dyn Unit,
    pub(super) categories: &'a [Category],
    pub(super) calendar: &'a shaozi_shared::calendar::Calendar,
    pub(super) case: &'a shaozi_shared::case::CaseRules,
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

pub(super) fn corrupt(what: impl Into<String>, e: impl ToString) -> TxError {
    StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    }
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

use crate::storage::query::hex;

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
        staff_only: false,
    }
}

fn wish_scope(w: &Wish) -> EventScope {
    EventScope {
        audience: Audience::Wish,
        street: Some(w.street_id),
        community: Some(w.community_id),
        departments: Vec::new(),
        staff_only: false,
    }
}

/// Records the writer keeps: the scope of their events, and how the unit stores them.
pub(super) trait Tracked: Record + Sized {
    fn scope(&self, old: Option<&Self>) -> EventScope;
    fn put(
        u: &mut dyn Unit,
        old: Option<&Self>,
        new: &Self,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError>;
}

impl Tracked for Whistle {
    fn scope(&self, old: Option<&Self>) -> EventScope {
        whistle_scope(old, self)
    }
    fn put(
        u: &mut dyn Unit,
        old: Option<&Self>,
        new: &Self,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        u.put_whistle(old, new, json, events)
    }
}

impl Tracked for Wish {
    fn scope(&self, _old: Option<&Self>) -> EventScope {
        wish_scope(self)
    }
    fn put(
        u: &mut dyn Unit,
        old: Option<&Self>,
        new: &Self,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        u.put_wish(old, new, json, events)
    }
}

impl Tx<'_> {
    /// Runs one job, honouring its Idempotency-Key. The outer error aborts the whole batch
    /// (storage); the inner one is this job's refusal, made before it wrote anything.
    pub(super) fn run_once(
        &mut self,
        j: &Job,
        at: DateTime<Utc>,
        due: &[shaozi_shared::WhistleId],
    ) -> Result<CmdResult, TxError> {
        let Some(idem) = &j.idem else {
            return self.run(&j.cmd, &j.who, at, due);
        };
        let body = hex(&idem.body);
        if let Some(kept) = self.u.kept(&idem.key)? {
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
            self.u.keep(&idem.key, &KeptAnswer { body, answer })?;
        }
        Ok(r)
    }

    fn run(
        &mut self,
        cmd: &Command,
        who: &shaozi_shared::Principal,
        at: DateTime<Utc>,
        due: &[shaozi_shared::WhistleId],
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
            Command::SaveTemplate(b) => self.save_template(b, who, &actor, at),
            Command::DeleteTemplate(n) => self.delete_template(*n, who, &actor, at),
            Command::Probe => Ok(Ok(Reply::Probed)),
        }
    }

    pub(super) fn deadlines(&self, category: &str) -> Deadlines {
        self.categories
            .iter()
            .find(|c| c.code == category)
            .map(|c| c.deadlines)
            .unwrap_or(Deadlines::DEFAULT)
    }

    /// What a step on a whistle of `category` is measured against.
    pub(super) fn book(&self, category: &str) -> shaozi_shared::whistle::Book<'_> {
        shaozi_shared::whistle::Book {
            deadlines: self.deadlines(category),
            calendar: self.calendar,
            case: self.case,
        }
    }

    /// Writes a record with its counters and events.
    pub(super) fn write<R: Tracked>(
        &mut self,
        old: Option<&R>,
        new: &R,
        events: &[(EventKind, Option<String>)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let subject = new.subject();
        let json = serde_json::to_string(new).map_err(|e| corrupt(subject.clone(), e))?;
        let old_counts = old.map(R::counts).unwrap_or_default();
        for (name, delta) in keys::count_diff(&old_counts, &new.counts()) {
            *self.deltas.entry(name).or_default() += delta;
        }
        let scope = new.scope(old);
        // An internal note is for staff only: the event says so, and every stream, replay and
        // subscription filters by it.
        let staff = EventScope {
            staff_only: true,
            ..scope.clone()
        };
        let mut seqs = Vec::with_capacity(events.len());
        for (kind, note) in events {
            let scope = if *kind == EventKind::WhistleNotedInternal {
                &staff
            } else {
                &scope
            };
            seqs.push(self.emit(*kind, &subject, note.as_deref(), &json, actor, at, scope)?);
        }
        R::put(self.u, old, new, &json, &seqs)
    }

    /// Writes the batch's counter changes, once for the whole batch.
    pub(super) fn flush_counters(&mut self) -> Result<(), TxError> {
        let deltas = std::mem::take(&mut self.deltas);
        self.u.add_to_counters(&deltas)
    }

    /// Appends an event to the log under the next sequence number, which it returns.
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
        self.u.append_event(&LogEntry {
            seq: self.seq,
            kind,
            at,
            actor: &actor.name,
            subject,
            json: &json,
        })?;
        self.published.push(Published {
            seq: self.seq,
            json,
            kind: Some(kind),
            scope: scope.clone(),
        });
        Ok(self.seq)
    }
}
