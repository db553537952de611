//! Rebuilding a store from a backup: the file is checked whole and read through once without
//! writing (every line parses, the log is gapless up to the header's number, the counts at
//! the end agree); only then is it read again and written, the log in order and each record
//! from its last event, into an empty store that derives its own indexes and counters.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use shaozi_shared::api::{Activity, Community, Department, ReplyTemplate, Street};
use shaozi_shared::{Event, EventKind, StreetId, Whistle, Wish};

use super::file::{check, unhex, Header, Line};
use super::{BackupError, Counts};
use crate::clock::noon;
use crate::copy::{activity_number, add_counts, restore as restore_series};
use crate::storage::StoreError;
use crate::storage::{DirectoryKind, KeptAnswer, LogEntry, NameHolder, Series, Unit};
use crate::store::keys::Record;
use crate::OpenedEngine;

/// Events (with the records they finish) written per transaction.
const CHUNK: usize = 2000;

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's header.
    pub header: Header,
    /// What it held.
    pub counts: Counts,
    /// Whistles and wishes rebuilt.
    pub records: u64,
}

/// What a record's subject is.
fn record_of(kind: EventKind) -> Option<RecordKind> {
    use EventKind::*;
    Some(match kind {
        StreetCreated => RecordKind::Directory(DirectoryKind::Street),
        CommunityCreated => RecordKind::Directory(DirectoryKind::Community),
        DepartmentCreated => RecordKind::Directory(DirectoryKind::Department),
        ActivityRecorded => RecordKind::Activity,
        TemplateSaved | TemplateDeleted => RecordKind::Template,
        TokenCreated | TokenRevoked => return None,
        k if k.about_whistle() => RecordKind::Whistle,
        k if k.as_str().starts_with("wish.") => RecordKind::Wish,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordKind {
    Whistle,
    Wish,
    Directory(DirectoryKind),
    Activity,
    Template,
}

/// A backup checked whole, ready to restore.
#[derive(Debug)]
pub struct Verified {
    /// Its header.
    pub header: Header,
    /// What it holds.
    pub counts: Counts,
    /// Its size in bytes.
    pub size: u64,
    /// Who its tokens are: how many of each role it would bring in.
    pub tokens_by_role: std::collections::BTreeMap<String, u64>,
    /// The SHA-256 of everything before its trailer (hex), and how many bytes that is.
    sum: (String, u64),
    /// The signature in its trailer, if it was signed.
    signature: Option<String>,
    /// Each record's last event.
    last_of: HashMap<String, u64>,
}

/// Whether a backup is the city's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Signed with this city's key.
    Signed,
    /// Not signed (taken by a server without a key, or by a version before signing).
    Unsigned,
    /// Signed with another key, or this restore has no key to check it with.
    Foreign,
}

impl Verified {
    /// Whether `vault`'s key signed this backup.
    pub fn provenance(&self, vault: &crate::notify::vault::Vault) -> Provenance {
        match &self.signature {
            None => Provenance::Unsigned,
            Some(sig) if vault.signed_backup(&self.sum.0, self.sum.1, sig) => Provenance::Signed,
            Some(_) => Provenance::Foreign,
        }
    }

    /// What restoring it brings in besides the city's records: its tokens by role and its
    /// webhook subscriptions, in words.
    pub fn brings_in(&self) -> String {
        let roles: Vec<String> = self
            .tokens_by_role
            .iter()
            .map(|(role, n)| format!("{n} {role}"))
            .collect();
        format!(
            "{} tokens ({}) and {} webhook subscriptions",
            self.counts.tokens,
            if roles.is_empty() {
                "none".to_string()
            } else {
                roles.join(", ")
            },
            self.counts.hooks
        )
    }
}

/// Checks the backup at `path` whole, without writing anything: its checksum, every line,
/// the log gapless to the header's number, the counts at the end.
pub fn verify(path: &Path) -> Result<Verified, BackupError> {
    let checked = check(path)?;
    let mut lines = checked.lines(path)?;
    let mut last_of: HashMap<String, u64> = HashMap::new();
    let mut tokens_by_role = std::collections::BTreeMap::new();
    let mut seen = Counts::default();
    let mut end = None;
    let out_of_place = |what: &str| {
        BackupError::Damaged(format!(
            "{} is damaged: {what} out of place",
            path.display()
        ))
    };
    while let Some(line) = lines.next_line()? {
        if end.is_some() {
            return Err(out_of_place("a line after the end"));
        }
        match line {
            Line::Event(raw) => {
                if seen.tokens + seen.kept + seen.hooks > 0 {
                    return Err(out_of_place("an event"));
                }
                let e: Event = crate::storage::decode(raw.get().as_bytes(), || {
                    format!("event {} of the backup", seen.events + 1)
                })?;
                if e.seq != seen.events + 1 {
                    return Err(BackupError::Damaged(format!(
                        "{} is damaged: event {} follows {}",
                        path.display(),
                        e.seq,
                        seen.events
                    )));
                }
                if record_of(e.kind).is_some() {
                    last_of.insert(e.subject, e.seq);
                }
                seen.events += 1;
            }
            Line::Token { hash, info } => {
                if seen.kept + seen.hooks > 0 || unhex(&hash).is_none_or(|h| h.len() != 32) {
                    return Err(out_of_place("a token"));
                }
                *tokens_by_role
                    .entry(info.role.as_str().to_string())
                    .or_insert(0) += 1;
                seen.tokens += 1;
            }
            Line::Kept { key, .. } => {
                if seen.hooks > 0 || unhex(&key).is_none() {
                    return Err(out_of_place("a kept answer"));
                }
                seen.kept += 1;
            }
            Line::Hook { .. } => seen.hooks += 1,
            Line::End(c) => end = Some(c),
        }
    }
    let Some(end) = end else {
        return Err(BackupError::Damaged(format!(
            "{} is damaged: its body ends before its last line",
            path.display()
        )));
    };
    if end != seen || seen.events != checked.header.seq {
        return Err(BackupError::Damaged(format!(
            "{} is damaged: it says it holds {} events (to {}), {} tokens, {} kept answers and {} subscriptions, and has {}, {}, {} and {}",
            path.display(),
            end.events,
            checked.header.seq,
            end.tokens,
            end.kept,
            end.hooks,
            seen.events,
            seen.tokens,
            seen.kept,
            seen.hooks
        )));
    }
    Ok(Verified {
        header: checked.header,
        counts: seen,
        size: checked.size,
        tokens_by_role,
        sum: checked.sum,
        signature: checked.signature,
        last_of,
    })
}

/// Whether `to` holds nothing yet (a restore's destination must not).
pub fn ensure_empty(to: &mut OpenedEngine) -> Result<(), BackupError> {
    let head = to.engine.last_seq()?;
    if head > 0 || !to.reads.streets()?.is_empty() || !to.keeper.tokens_by_hash()?.is_empty() {
        return Err(BackupError::NotEmpty(head));
    }
    Ok(())
}

/// Restores the backup at `path`, already [`verify`]'d, into the empty store `to`. On an
/// error the destination may hold part of the city: the caller removes it. Blocking.
pub fn restore(
    path: &Path,
    verified: Verified,
    to: &mut OpenedEngine,
    offset: chrono::FixedOffset,
) -> Result<Restored, BackupError> {
    ensure_empty(to)?;
    let Verified {
        header,
        counts,
        last_of,
        ..
    } = verified;
    let checked = check(path)?;
    let mut lines = checked.lines(path)?;

    let mut w = Writing {
        offset,
        last_of,
        timelines: HashMap::new(),
        street_of: HashMap::new(),
        counters: BTreeMap::new(),
        highest: HashMap::new(),
        records: 0,
    };
    let mut events: Vec<Event> = Vec::with_capacity(CHUNK);
    let mut raws: Vec<String> = Vec::with_capacity(CHUNK);
    let mut tokens = Vec::new();
    let mut kept = Vec::new();
    let mut hooks = Vec::new();
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Event(raw) => {
                let e: Event = crate::storage::decode(raw.get().as_bytes(), || {
                    format!("event {} of the backup", events.len())
                })?;
                events.push(e);
                raws.push(raw.get().to_string());
                if events.len() == CHUNK {
                    w.write_events(to, &events, &raws)?;
                    events.clear();
                    raws.clear();
                }
            }
            Line::Token { hash, info } => tokens.push((hash, info)),
            Line::Kept { key, body, answer } => kept.push((key, KeptAnswer { body, answer })),
            Line::Hook { hook, state } => hooks.push((hook, state)),
            Line::End(_) => {}
        }
    }
    w.write_events(to, &events, &raws)?;

    let counters = std::mem::take(&mut w.counters);
    let highest = std::mem::take(&mut w.highest);
    to.engine.commit(&mut |u| {
        for (hash, info) in &tokens {
            let h: [u8; 32] = unhex(hash)
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| corrupt("a token's hash", "not 32 bytes of hex"))?;
            u.put_token(&h, &to_json(info)?)?;
            u.claim_name(&info.name, NameHolder::Token(h))?;
        }
        for (key, k) in &kept {
            let key = unhex(key).ok_or_else(|| corrupt("a kept answer's key", "not hex"))?;
            u.keep(&key, k)?;
        }
        u.add_to_counters(&counters)?;
        for (series, max) in &highest {
            restore_series(u, *series, std::iter::once(*max))?;
        }
        Ok(())
    })?;
    for (hook, state) in &hooks {
        to.hooks.restore_hook(hook, state)?;
    }

    to.engine.settle()?;
    // What was written reads back as the backup says.
    let now = to.engine.last_seq()?;
    if now != header.seq {
        return Err(BackupError::Differs(format!(
            "its log ends at {now}, the backup's at {}",
            header.seq
        )));
    }
    crate::copy::recount(to.reads.as_ref(), to.counted.as_ref())
        .map_err(|e| BackupError::Differs(e.to_string()))?;
    Ok(Restored {
        header,
        counts,
        records: w.records,
    })
}

/// What a restore keeps while it writes the log.
struct Writing {
    /// The city's offset from UTC: activities are dated noon of their day in it.
    offset: chrono::FixedOffset,
    /// Each record's last event: where it is written from.
    last_of: HashMap<String, u64>,
    /// Each whistle's or wish's events so far.
    timelines: HashMap<String, Vec<u64>>,
    /// Each community's street, for its activities.
    street_of: HashMap<u64, u64>,
    counters: BTreeMap<String, i64>,
    /// The highest id of each series.
    highest: HashMap<Series, u64>,
    records: u64,
}

impl Writing {
    /// Appends a chunk of events and writes every record whose last event is among them, in
    /// one transaction.
    fn write_events(
        &mut self,
        to: &mut OpenedEngine,
        events: &[Event],
        raws: &[String],
    ) -> Result<(), BackupError> {
        if events.is_empty() {
            return Ok(());
        }
        // Which records these events finish, with their timelines, worked out before the
        // transaction (which may run again on a retry).
        let mut finished = Vec::new();
        for (e, raw) in events.iter().zip(raws) {
            let Some(kind) = record_of(e.kind) else {
                continue;
            };
            if matches!(kind, RecordKind::Whistle | RecordKind::Wish) {
                self.timelines
                    .entry(e.subject.clone())
                    .or_default()
                    .push(e.seq);
            }
            if self.last_of.get(&e.subject) == Some(&e.seq) {
                let timeline = self.timelines.remove(&e.subject).unwrap_or_default();
                finished.push((kind, e, raw, timeline));
            }
        }
        let mut parsed = Vec::with_capacity(finished.len());
        for (kind, e, raw, timeline) in finished {
            // The record exactly as the writer stored it (its JSON is in the event as it was
            // written; a parsed value would come back with its keys reordered).
            #[derive(serde::Deserialize)]
            struct RecordOf<'a> {
                #[serde(borrow)]
                record: &'a serde_json::value::RawValue,
            }
            let json = serde_json::from_str::<RecordOf<'_>>(raw)
                .map(|r| r.record.get().to_string())
                .map_err(|err| corrupt(&format!("{}'s record in the backup", e.subject), err))?;
            let rec = match kind {
                RecordKind::Whistle => {
                    let w: Whistle = decode(&json, &e.subject)?;
                    add_counts(&mut self.counters, w.counts());
                    self.high(Series::Whistle, w.id.0);
                    Parsed::Whistle(Box::new(w))
                }
                RecordKind::Wish => {
                    let w: Wish = decode(&json, &e.subject)?;
                    add_counts(&mut self.counters, w.counts());
                    self.high(Series::Wish, w.id.0);
                    Parsed::Wish(Box::new(w))
                }
                RecordKind::Directory(DirectoryKind::Street) => {
                    let s: Street = decode(&json, &e.subject)?;
                    self.high(Series::Directory(DirectoryKind::Street), s.id.0);
                    Parsed::Street(s)
                }
                RecordKind::Directory(DirectoryKind::Community) => {
                    let c: Community = decode(&json, &e.subject)?;
                    self.street_of.insert(c.id.0, c.street_id.0);
                    self.high(Series::Directory(DirectoryKind::Community), c.id.0);
                    Parsed::Community(c)
                }
                RecordKind::Directory(DirectoryKind::Department) => {
                    let d: Department = decode(&json, &e.subject)?;
                    self.high(Series::Directory(DirectoryKind::Department), d.id.0);
                    Parsed::Department(d)
                }
                RecordKind::Activity => {
                    let a: Activity = decode(&json, &e.subject)?;
                    let n = activity_number(&a.id)?;
                    self.high(Series::Activity, n);
                    let street = self.street_of.get(&a.community_id.0).copied().unwrap_or(0);
                    let day = noon(a.date, self.offset).unwrap_or(a.created_at);
                    Parsed::Activity(Box::new(a), n, street, day)
                }
                RecordKind::Template => {
                    let t: ReplyTemplate = decode(&json, &e.subject)?;
                    let n = ReplyTemplate::kept_number(&t.id).ok_or_else(|| {
                        corrupt(
                            &format!("{} in the backup", e.subject),
                            "a kept template is numbered T1, T2…",
                        )
                    })?;
                    self.high(Series::Template, n);
                    // Its last event says whether it is still kept.
                    Parsed::Template(n, e.kind == EventKind::TemplateSaved)
                }
            };
            parsed.push((rec, json, timeline));
        }
        self.records += parsed
            .iter()
            .filter(|(r, _, _)| matches!(r, Parsed::Whistle(_) | Parsed::Wish(_)))
            .count() as u64;
        to.engine.commit(&mut |u| {
            for (e, json) in events.iter().zip(raws) {
                u.append_event(&LogEntry::of(e, json))?;
            }
            for (rec, json, timeline) in &parsed {
                match rec {
                    Parsed::Whistle(w) => u.put_whistle(None, w, json, timeline)?,
                    Parsed::Wish(w) => u.put_wish(None, w, json, timeline)?,
                    Parsed::Street(s) => put_one(u, DirectoryKind::Street, s, s.id.0, &s.name)?,
                    Parsed::Community(c) => {
                        put_one(u, DirectoryKind::Community, c, c.id.0, &c.name)?
                    }
                    Parsed::Department(d) => {
                        put_one(u, DirectoryKind::Department, d, d.id.0, &d.name)?
                    }
                    Parsed::Activity(a, n, street, day) => {
                        u.put_activity(a, *n, StreetId(*street), *day, json)?
                    }
                    Parsed::Template(n, kept) => {
                        u.put_template(*n, kept.then_some(json.as_str()))?
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    fn high(&mut self, s: Series, id: u64) {
        let h = self.highest.entry(s).or_default();
        *h = (*h).max(id);
    }
}

enum Parsed {
    Whistle(Box<Whistle>),
    Wish(Box<Wish>),
    Street(Street),
    Community(Community),
    Department(Department),
    Activity(Box<Activity>, u64, u64, chrono::DateTime<chrono::Utc>),
    /// A kept template's number, and whether it is still kept.
    Template(u64, bool),
}

fn put_one<T: serde::Serialize>(
    u: &mut dyn Unit,
    kind: DirectoryKind,
    rec: &T,
    id: u64,
    name: &str,
) -> Result<(), StoreError> {
    u.put_directory(kind, id, &to_json(rec)?)?;
    u.claim_name(name, NameHolder::Directory(kind, id))?;
    Ok(())
}

fn decode<T: serde::de::DeserializeOwned>(json: &str, subject: &str) -> Result<T, BackupError> {
    Ok(crate::storage::decode(json.as_bytes(), || {
        format!("{subject} in the backup")
    })?)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt("a record to restore", e))
}

fn corrupt(what: &str, why: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        why: why.to_string(),
    }
}
