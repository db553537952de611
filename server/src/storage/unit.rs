//! The write side of the seam: what the writer's commands ask of an engine inside one batch
//! (a [`Unit`] of work), and how an engine runs a batch durably ([`Engine`]).
//!
//! The commands (every permission and rule check) are written once, in `crate::writer`, over
//! `&mut dyn Unit`. An engine keeps whatever it derives from a record (indexes, lists,
//! timelines, per-minute spans) private: the unit hands it the record before and after, and
//! the engine works out the rest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use shaozi_shared::api::{Activity, Community, ReplyTemplate, TokenInfo};
use shaozi_shared::{CommunityId, EventKind, StreetId, Whistle, WhistleId, Wish, WishId};

use super::StoreError;

/// Kinds of directory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryKind {
    /// A street office.
    Street,
    /// A community.
    Community,
    /// A department.
    Department,
}

impl DirectoryKind {
    /// The letter its ids are shown with (`S3`, `C12`, `D4`).
    pub fn letter(self) -> char {
        match self {
            DirectoryKind::Street => 'S',
            DirectoryKind::Community => 'C',
            DirectoryKind::Department => 'D',
        }
    }

    /// The word for it in messages.
    pub fn word(self) -> &'static str {
        match self {
            DirectoryKind::Street => "street",
            DirectoryKind::Community => "community",
            DirectoryKind::Department => "department",
        }
    }
}

/// Numbered series the store hands out ids from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    /// Directory records of a kind.
    Directory(DirectoryKind),
    /// Whistles (from 1001, as the city's hotline numbers them).
    Whistle,
    /// Wishes.
    Wish,
    /// Activities.
    Activity,
    /// Reply templates kept through the API.
    Template,
}

impl Series {
    /// Every series.
    pub const ALL: [Series; 7] = [
        Series::Directory(DirectoryKind::Street),
        Series::Directory(DirectoryKind::Community),
        Series::Directory(DirectoryKind::Department),
        Series::Whistle,
        Series::Wish,
        Series::Activity,
        Series::Template,
    ];

    /// Its name, as the stores keep it.
    pub fn name(self) -> &'static str {
        match self {
            Series::Directory(kind) => kind.word(),
            Series::Whistle => "whistle",
            Series::Wish => "wish",
            Series::Activity => "activity",
            Series::Template => "template",
        }
    }

    /// The first id of the series.
    pub fn first(self) -> u64 {
        match self {
            Series::Whistle => 1001,
            _ => 1,
        }
    }
}

/// Who holds a unique name: a directory record by id, or a token by the hash of its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameHolder {
    /// A directory record.
    Directory(DirectoryKind, u64),
    /// A token.
    Token([u8; 32]),
}

/// An event as the log keeps it.
#[derive(Debug, Clone, Copy)]
pub struct LogEntry<'a> {
    /// Its sequence number: the previous event's plus one.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Who did it (the audit lists events by actor).
    pub actor: &'a str,
    /// What it is about (`W1042`, `M7`, `S3`, a token's name).
    pub subject: &'a str,
    /// The whole event as JSON, as streams and the log serve it.
    pub json: &'a str,
}

impl<'a> LogEntry<'a> {
    /// An event read back (from a store or a backup) with its JSON as it was kept, to be
    /// appended again under its own number.
    pub fn of(e: &'a shaozi_shared::Event, json: &'a str) -> LogEntry<'a> {
        LogEntry {
            seq: e.seq,
            kind: e.kind,
            at: e.at,
            actor: &e.actor.name,
            subject: &e.subject,
            json,
        }
    }
}

/// What an idempotent create keeps: the hash of its body and its first answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptAnswer {
    /// The body's SHA-256, hex.
    pub body: String,
    /// The first answer, JSON.
    pub answer: String,
}

/// One batch's reads and writes, inside the engine's transaction. Reads see the batch's own
/// writes. Nothing is visible to anyone else, or durable, until [`Engine::commit`] returns.
pub trait Unit {
    /// The sequence number of the log's last event before this batch; the batch's events
    /// follow it with no gap. With several servers, the engine reads it under the lock that
    /// orders their batches.
    fn log_head(&mut self) -> Result<u64, StoreError>;
    /// Fetches in one go the records and Idempotency-Keys the batch is about to ask for; the
    /// unit may serve them from memory afterwards. An engine whose reads are local may ignore
    /// it.
    fn prefetch(
        &mut self,
        _whistles: &[WhistleId],
        _wishes: &[WishId],
        _keys: &[&[u8]],
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// A whistle as it is now.
    fn whistle(&mut self, id: WhistleId) -> Result<Option<Whistle>, StoreError>;
    /// A wish as it is now.
    fn wish(&mut self, id: WishId) -> Result<Option<Wish>, StoreError>;
    /// Writes a whistle (`old` is what [`Unit::whistle`] returned, None for a new one) with
    /// its JSON; `events` are the sequence numbers of the events this change appended, in
    /// order, for its timeline.
    fn put_whistle(
        &mut self,
        old: Option<&Whistle>,
        new: &Whistle,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError>;
    /// Writes a wish, as [`Unit::put_whistle`].
    fn put_wish(
        &mut self,
        old: Option<&Wish>,
        new: &Wish,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError>;
    /// Whether a directory record exists.
    fn has(&mut self, kind: DirectoryKind, id: u64) -> Result<bool, StoreError>;
    /// A community.
    fn community(&mut self, id: CommunityId) -> Result<Option<Community>, StoreError>;
    /// Writes a new directory record with its JSON.
    fn put_directory(&mut self, kind: DirectoryKind, id: u64, json: &str)
        -> Result<(), StoreError>;
    /// Writes a new activity (number `id`, in `street`, its community's) with its JSON; the
    /// assessment counts it at `day`, noon of its date in the city's time.
    fn put_activity(
        &mut self,
        activity: &Activity,
        id: u64,
        street: StreetId,
        day: DateTime<Utc>,
        json: &str,
    ) -> Result<(), StoreError>;
    /// Writes a kept reply template (number `id`) with its JSON, or removes it (None).
    fn put_template(&mut self, id: u64, json: Option<&str>) -> Result<(), StoreError>;
    /// A kept reply template.
    fn template(&mut self, id: u64) -> Result<Option<ReplyTemplate>, StoreError>;
    /// The id the series hands out next, without taking it.
    fn peek_id(&mut self, series: Series) -> Result<u64, StoreError>;
    /// Takes the series' next id.
    fn take_id(&mut self, series: Series) -> Result<u64, StoreError>;
    /// Sets the id a series hands out next (copying a city keeps its numbers).
    fn restore_series(&mut self, series: Series, next: u64) -> Result<(), StoreError>;
    /// Claims `name` for `holder`; when someone has it already, claims nothing and says who.
    fn claim_name(
        &mut self,
        name: &str,
        holder: NameHolder,
    ) -> Result<Option<NameHolder>, StoreError>;
    /// A token by name, with the hash of its secret.
    fn token_named(&mut self, name: &str) -> Result<Option<([u8; 32], TokenInfo)>, StoreError>;
    /// Writes a token under the hash of its secret.
    fn put_token(&mut self, hash: &[u8; 32], json: &str) -> Result<(), StoreError>;
    /// Appends an event to the log.
    fn append_event(&mut self, entry: &LogEntry<'_>) -> Result<(), StoreError>;
    /// Adds to named counters (a missing counter counts from 0).
    fn add_to_counters(&mut self, deltas: &BTreeMap<String, i64>) -> Result<(), StoreError>;
    /// What an Idempotency-Key (token name, 0, the key) kept, if it was used.
    fn kept(&mut self, key: &[u8]) -> Result<Option<KeptAnswer>, StoreError>;
    /// Keeps a create's first answer under its Idempotency-Key.
    fn keep(&mut self, key: &[u8], kept: &KeptAnswer) -> Result<(), StoreError>;
}

/// A batch as the writer hands it to an engine: run it on a unit; it may be run again from
/// the start when the engine retries (so it keeps its results only from the last run).
pub type Batch<'a> = dyn FnMut(&mut dyn Unit) -> Result<(), StoreError> + 'a;

/// An engine's write side, owned by the writer thread.
pub trait Engine: Send + 'static {
    /// The sequence number of the last event committed (0 for none).
    fn last_seq(&mut self) -> Result<u64, StoreError>;
    /// Whistles with a pending deadline at or before `at`, soonest first, up to `limit`. The
    /// sweep checks each again inside its batch, so this may read outside one.
    fn due_whistles(
        &mut self,
        at: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, StoreError>;
    /// Runs `batch` in one transaction and returns once it is durable. An error means nothing
    /// of it is durable, or (for a lost connection during commit) that it is not known to be:
    /// either way nothing of it may be acknowledged.
    fn commit(&mut self, batch: &mut Batch<'_>) -> Result<(), StoreError>;
    /// Makes everything committed durable before the server stops.
    fn close(&mut self) -> Result<(), StoreError>;
    /// After a bulk load (a copy, a restore): lets the engine take stock of what it now
    /// holds, so the first reads are planned for it (PostgreSQL gathers its statistics; a
    /// server whose autovacuum is off or behind would otherwise plan for empty tables).
    fn settle(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}
