//! The PostgreSQL engine's write side. A batch is one transaction: it locks the log head
//! first, fetches the rows the batch names in one go, runs the commands against them in
//! memory, then writes everything in a few multi-row statements and commits. A 2xx is sent
//! only after COMMIT returned.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};

use shaozi_shared::api::{Activity, Community, TokenInfo};
use shaozi_shared::{CommunityId, StreetId, Whistle, WhistleId, WhistleStatus, Wish, WishId};

use super::{col, connect, db_error};
use crate::storage::{
    Batch, DirectoryKind, Engine, KeptAnswer, LogEntry, NameHolder, Series, Unit,
};
use crate::store::{decode, keys, StoreError};

/// A parameter of a multi-row statement.
type Param = Box<dyn ToSql + Sync>;

/// The most parameters PostgreSQL takes in one statement.
const MAX_PARAMS: usize = 65_535;

/// The letter of a directory kind in the `directory` and `names` tables.
pub(crate) fn dir_letter(kind: DirectoryKind) -> &'static str {
    match kind {
        DirectoryKind::Street => "S",
        DirectoryKind::Community => "C",
        DirectoryKind::Department => "D",
    }
}

fn series_name(series: Series) -> &'static str {
    match series {
        Series::Directory(DirectoryKind::Street) => "street",
        Series::Directory(DirectoryKind::Community) => "community",
        Series::Directory(DirectoryKind::Department) => "department",
        Series::Whistle => "whistle",
        Series::Wish => "wish",
        Series::Activity => "activity",
    }
}

fn id_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn corrupt(what: impl Into<String>, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    }
}

/// The PostgreSQL engine's write side, owned by the writer thread. It reconnects after a
/// lost connection; until then, batches are refused as unavailable.
pub struct PgEngine {
    url: String,
    client: Option<Client>,
    prepared: Option<Prepared>,
}

/// The statements every batch of creates runs, prepared once per connection: a batch then
/// sends each with its columns as arrays, one message, no parse or plan. (Multi-argument
/// `unnest` is SQL:2003's `UNNEST(a, b, …)`.)
struct Prepared {
    insert_whistles: postgres::Statement,
    insert_events: postgres::Statement,
    counters_present: postgres::Statement,
    add_to_counters: postgres::Statement,
}

impl Prepared {
    fn on(c: &mut Client) -> Result<Prepared, StoreError> {
        let arrays = |cols: &[(&str, &str)]| -> (String, String) {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let args: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("${}::{}[]", i + 1, c.1))
                .collect();
            (names.join(","), args.join(","))
        };
        let (wn, wa) = arrays(WHISTLE_COLUMNS);
        let (en, ea) = arrays(EVENT_COLUMNS);
        let mut prep = |sql: &str| c.prepare(sql).map_err(db_error);
        Ok(Prepared {
            insert_whistles: prep(&format!(
                "INSERT INTO whistles ({wn}) SELECT * FROM unnest({wa})"
            ))?,
            insert_events: prep(&format!(
                "INSERT INTO events ({en}) SELECT * FROM unnest({ea})"
            ))?,
            counters_present: prep("SELECT name FROM counters WHERE name = ANY($1::text[])")?,
            add_to_counters: prep(
                "UPDATE counters SET value = counters.value + v.delta \
                 FROM unnest($1::text[], $2::bigint[]) AS v(name, delta) \
                 WHERE counters.name = v.name",
            )?,
        })
    }
}

impl PgEngine {
    /// Connects to the database at `url` (already migrated).
    pub fn new(url: &str) -> Result<PgEngine, StoreError> {
        let mut client = connect(url)?;
        let prepared = Prepared::on(&mut client)?;
        Ok(PgEngine {
            url: url.to_string(),
            client: Some(client),
            prepared: Some(prepared),
        })
    }

    fn client(&mut self) -> Result<&mut Client, StoreError> {
        Ok(self.connection()?.0)
    }

    /// The writer's connection and its prepared statements, connecting again if it was lost.
    fn connection(&mut self) -> Result<(&mut Client, &Prepared), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) || self.prepared.is_none() {
            self.client = None;
            self.prepared = None;
            let mut c = connect(&self.url)?;
            self.prepared = Some(Prepared::on(&mut c)?);
            self.client = Some(c);
        }
        match (self.client.as_mut(), self.prepared.as_ref()) {
            (Some(c), Some(p)) => Ok((c, p)),
            _ => Err(StoreError::Unavailable {
                why: "no database connection".into(),
            }),
        }
    }

    /// Forgets a connection that failed, so the next batch reconnects.
    fn forget_if_lost<T>(&mut self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if matches!(r, Err(StoreError::Unavailable { .. })) {
            self.client = None;
            self.prepared = None;
        }
        r
    }
}

/// The client's drop closes the connection by blocking on its own runtime, which must not
/// happen on an async runtime's thread; wherever the engine is dropped, it happens aside.
impl Drop for PgEngine {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("shaozi-pg-close".into())
                .spawn(move || drop(c));
        }
    }
}

impl Engine for PgEngine {
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        let r = self
            .client()?
            .query_one("SELECT seq FROM log_head WHERE one = 1", &[])
            .map_err(db_error)
            .and_then(|row| col::<i64>(&row, 0))
            .map(|s| s.max(0) as u64);
        self.forget_if_lost(r)
    }

    fn due_whistles(
        &mut self,
        at: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let r = self
            .client()?
            .query(
                "SELECT id FROM whistles WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2",
                &[&at, &limit],
            )
            .map_err(db_error)
            .and_then(|rows| {
                rows.iter()
                    .map(|r| col::<i64>(r, 0).map(|id| WhistleId(id.max(0) as u64)))
                    .collect()
            });
        self.forget_if_lost(r)
    }

    fn commit(&mut self, batch: &mut Batch<'_>) -> Result<(), StoreError> {
        for attempt in 0..2 {
            let (client, prepared) = self.connection()?;
            match run_batch(client, prepared, batch) {
                // The connection was found broken before the batch sent anything: nothing
                // can have been saved, so it runs again on a new connection.
                Err(BatchError::NotStarted(StoreError::Unavailable { .. })) if attempt == 0 => {
                    self.client = None;
                    self.prepared = None;
                }
                Err(BatchError::NotStarted(e) | BatchError::Failed(e)) => {
                    return self.forget_if_lost(Err(e))
                }
                Ok(()) => return Ok(()),
            }
        }
        Err(StoreError::Unavailable {
            why: "the database cannot be reached".into(),
        })
    }

    fn close(&mut self) -> Result<(), StoreError> {
        // Every batch was committed before it was answered; nothing waits in memory.
        Ok(())
    }
}

/// Why a batch failed: before it sent anything of its own (safe to run again), or after.
enum BatchError {
    NotStarted(StoreError),
    Failed(StoreError),
}

fn run_batch(
    client: &mut Client,
    prepared: &Prepared,
    batch: &mut Batch<'_>,
) -> Result<(), BatchError> {
    let mut tx = client
        .transaction()
        .map_err(|e| BatchError::NotStarted(db_error(e)))?;
    // Locked first: this orders the batches of every server.
    let head: i64 = tx
        .query_typed_one("SELECT seq FROM log_head WHERE one = 1 FOR UPDATE", &[])
        .map_err(db_error)
        .and_then(|row| col(&row, 0))
        .map_err(BatchError::NotStarted)?;
    let mut unit = PgUnit::new(&mut tx, prepared, head.max(0) as u64);
    batch(&mut unit).map_err(BatchError::Failed)?;
    unit.write_all().map_err(BatchError::Failed)?;
    tx.commit().map_err(|e| {
        BatchError::Failed(match db_error(e) {
            StoreError::Unavailable { why } => StoreError::Unavailable {
                why: format!(
                    "the database connection failed during COMMIT, so whether the change was \
                 saved is unknown; retry with the same Idempotency-Key ({why})"
                ),
            },
            other => other,
        })
    })
}

/// A whistle or wish as the batch leaves it, to be written at the end.
struct Pending<R> {
    is_new: bool,
    record: R,
    json: String,
}

/// An event to append.
struct PendingEvent {
    seq: u64,
    kind: &'static str,
    at: DateTime<Utc>,
    actor: String,
    subject: String,
    about_whistle: bool,
    record: Option<(&'static str, u64)>,
    json: String,
}

/// A series' next id, and whether its row exists yet.
struct SeriesState {
    next: u64,
    stored: bool,
    changed: bool,
}

struct PgUnit<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    prepared: &'t Prepared,
    head: u64,
    whistles: HashMap<u64, Option<Whistle>>,
    wishes: HashMap<u64, Option<Wish>>,
    new_whistles: BTreeMap<u64, Pending<Whistle>>,
    new_wishes: BTreeMap<u64, Pending<Wish>>,
    /// Ids of each directory kind, loaded whole on first use (a city has hundreds).
    directory_ids: HashMap<&'static str, HashSet<u64>>,
    communities: Option<HashMap<u64, Community>>,
    new_directory: Vec<(&'static str, u64, String)>,
    new_activities: Vec<(u64, i64, i64, i64, DateTime<Utc>, String)>,
    series: HashMap<&'static str, SeriesState>,
    names: HashMap<(&'static str, String), Option<NameHolder>>,
    new_names: Vec<(&'static str, String, NameHolder)>,
    tokens: HashMap<[u8; 32], (bool, String)>,
    events: Vec<PendingEvent>,
    /// Events of earlier batches to put on a record's timeline.
    earlier_marks: Vec<(&'static str, u64, u64)>,
    counters: BTreeMap<String, i64>,
    kept: HashMap<Vec<u8>, Option<KeptAnswer>>,
    new_kept: Vec<(Vec<u8>, KeptAnswer)>,
}

impl<'t, 'c> PgUnit<'t, 'c> {
    fn new(tx: &'t mut Transaction<'c>, prepared: &'t Prepared, head: u64) -> Self {
        PgUnit {
            tx,
            prepared,
            head,
            whistles: HashMap::new(),
            wishes: HashMap::new(),
            new_whistles: BTreeMap::new(),
            new_wishes: BTreeMap::new(),
            directory_ids: HashMap::new(),
            communities: None,
            new_directory: Vec::new(),
            new_activities: Vec::new(),
            series: HashMap::new(),
            names: HashMap::new(),
            new_names: Vec::new(),
            tokens: HashMap::new(),
            events: Vec::new(),
            earlier_marks: Vec::new(),
            counters: BTreeMap::new(),
            kept: HashMap::new(),
            new_kept: Vec::new(),
        }
    }

    /// Loads records by id into `cache` (None for those that do not exist).
    fn load<T: serde::de::DeserializeOwned>(
        tx: &mut Transaction<'c>,
        table: &str,
        ids: &[u64],
        cache: &mut HashMap<u64, Option<T>>,
        letter: char,
    ) -> Result<(), StoreError> {
        let want: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !cache.contains_key(id))
            .collect();
        for chunk in want.chunks(1000) {
            let list = in_list(chunk);
            let rows = tx
                .query_typed(
                    &format!("SELECT id, json FROM {table} WHERE id IN ({list})"),
                    &[],
                )
                .map_err(db_error)?;
            for id in chunk {
                cache.insert(*id, None);
            }
            for row in rows {
                let id = col::<i64>(&row, 0)?.max(0) as u64;
                let json: String = col(&row, 1)?;
                let rec = decode(json.as_bytes(), || format!("{letter}{id}"))?;
                cache.insert(id, Some(rec));
            }
        }
        Ok(())
    }

    fn directory_ids(&mut self, letter: &'static str) -> Result<&mut HashSet<u64>, StoreError> {
        if !self.directory_ids.contains_key(letter) {
            let rows = self
                .tx
                .query_typed(
                    "SELECT id FROM directory WHERE kind = $1",
                    &[(&letter, Type::TEXT)],
                )
                .map_err(db_error)?;
            let ids = rows
                .iter()
                .map(|r| col::<i64>(r, 0).map(|i| i.max(0) as u64))
                .collect::<Result<HashSet<_>, _>>()?;
            self.directory_ids.insert(letter, ids);
        }
        self.directory_ids
            .get_mut(letter)
            .ok_or_else(|| corrupt("directory", "not loaded"))
    }

    fn series(&mut self, series: Series) -> Result<&mut SeriesState, StoreError> {
        let name = series_name(series);
        if !self.series.contains_key(name) {
            let row = self
                .tx
                .query_typed(
                    "SELECT next_id FROM series WHERE name = $1",
                    &[(&name, Type::TEXT)],
                )
                .map_err(db_error)?
                .pop();
            let state = match row {
                Some(r) => SeriesState {
                    next: col::<i64>(&r, 0)?.max(0) as u64,
                    stored: true,
                    changed: false,
                },
                None => SeriesState {
                    next: series.first(),
                    stored: false,
                    changed: false,
                },
            };
            self.series.insert(name, state);
        }
        self.series
            .get_mut(name)
            .ok_or_else(|| corrupt("series", "not loaded"))
    }

    /// Puts the events `seqs` on the timeline of record `id`: those of this batch as they
    /// are written, earlier ones (a city being copied) by an update at the end.
    fn mark_timeline(&mut self, letter: &'static str, id: u64, seqs: &[u64]) {
        let first_pending = self.events.first().map_or(u64::MAX, |e| e.seq);
        for &seq in seqs {
            match seq.checked_sub(first_pending) {
                Some(i) => {
                    if let Some(e) = self.events.get_mut(i as usize).filter(|e| e.seq == seq) {
                        e.record = Some((letter, id));
                    }
                }
                None => self.earlier_marks.push((letter, id, seq)),
            }
        }
    }

    /// Writes everything the batch did, a few statements per table.
    fn write_all(&mut self) -> Result<(), StoreError> {
        let tx = &mut *self.tx;
        insert_whistles(tx, self.prepared, &self.new_whistles)?;
        update(
            tx,
            "whistles",
            WHISTLE_COLUMNS,
            self.new_whistles
                .values()
                .filter(|p| !p.is_new)
                .map(|p| whistle_row(&p.record, &p.json))
                .collect(),
        )?;
        write_records(tx, "wishes", WISH_COLUMNS, &self.new_wishes, wish_row)?;
        insert_events(tx, self.prepared, &self.events)?;
        let marks: Vec<Vec<Param>> = self
            .earlier_marks
            .iter()
            .map(|(k, id, seq)| -> Vec<Param> {
                vec![
                    Box::new(id_of(*seq)),
                    Box::new(k.to_string()),
                    Box::new(id_of(*id)),
                ]
            })
            .collect();
        update(
            tx,
            "events",
            &[
                ("seq", "bigint"),
                ("record_kind", "text"),
                ("record_id", "bigint"),
            ],
            marks,
        )?;
        let directory: Vec<Vec<Param>> = self
            .new_directory
            .iter()
            .map(|(k, id, json)| -> Vec<Param> {
                vec![
                    Box::new(k.to_string()),
                    Box::new(id_of(*id)),
                    Box::new(json.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "directory",
            &[("kind", "text"), ("id", "bigint"), ("json", "text")],
            directory,
        )?;
        let names: Vec<Vec<Param>> = self
            .new_names
            .iter()
            .map(|(k, name, holder)| -> Vec<Param> {
                let (id, hash) = match holder {
                    NameHolder::Directory(_, id) => (Some(id_of(*id)), None),
                    NameHolder::Token(h) => (None, Some(h.to_vec())),
                };
                vec![
                    Box::new(k.to_string()),
                    Box::new(name.clone()),
                    Box::new(id),
                    Box::new(hash),
                ]
            })
            .collect();
        insert(
            tx,
            "names",
            &[
                ("kind", "text"),
                ("name", "text"),
                ("holder_id", "bigint"),
                ("holder_hash", "bytea"),
            ],
            names,
        )?;
        let activities: Vec<Vec<Param>> = self
            .new_activities
            .iter()
            .map(|(id, d, c, s, day, json)| -> Vec<Param> {
                vec![
                    Box::new(id_of(*id)),
                    Box::new(*d),
                    Box::new(*c),
                    Box::new(*s),
                    Box::new(*day),
                    Box::new(json.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "activities",
            &[
                ("id", "bigint"),
                ("department_id", "bigint"),
                ("community_id", "bigint"),
                ("street_id", "bigint"),
                ("day", "timestamptz"),
                ("json", "text"),
            ],
            activities,
        )?;
        let token_rows = |stored: bool| -> Vec<Vec<Param>> {
            self.tokens
                .iter()
                .filter(|(_, (s, _))| *s == stored)
                .map(|(h, (_, json))| -> Vec<Param> {
                    vec![Box::new(h.to_vec()), Box::new(json.clone())]
                })
                .collect()
        };
        let token_cols = &[("hash", "bytea"), ("json", "text")];
        insert(tx, "tokens", token_cols, token_rows(false))?;
        update(tx, "tokens", token_cols, token_rows(true))?;
        let kept: Vec<Vec<Param>> = self
            .new_kept
            .iter()
            .map(|(k, v)| -> Vec<Param> {
                vec![
                    Box::new(k.clone()),
                    Box::new(v.body.clone()),
                    Box::new(v.answer.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "idempotency",
            &[("key", "bytea"), ("body", "text"), ("answer", "text")],
            kept,
        )?;
        let series_rows = |stored: bool| -> Vec<Vec<Param>> {
            self.series
                .iter()
                .filter(|(_, s)| s.changed && s.stored == stored)
                .map(|(n, s)| -> Vec<Param> {
                    vec![Box::new(n.to_string()), Box::new(id_of(s.next))]
                })
                .collect()
        };
        let series_cols = &[("name", "text"), ("next_id", "bigint")];
        insert(tx, "series", series_cols, series_rows(false))?;
        update(tx, "series", series_cols, series_rows(true))?;
        write_counters(tx, self.prepared, &self.counters)?;
        if let Some(last) = self.events.last() {
            tx.execute_typed(
                "UPDATE log_head SET seq = $1 WHERE one = 1",
                &[(&id_of(last.seq), Type::INT8)],
            )
            .map_err(db_error)?;
        }
        Ok(())
    }
}

/// Inserts the new records of a batch and updates the changed ones.
fn write_records<R>(
    tx: &mut Transaction<'_>,
    table: &str,
    cols: &[(&str, &str)],
    records: &BTreeMap<u64, Pending<R>>,
    row: fn(&R, &str) -> Vec<Param>,
) -> Result<(), StoreError> {
    let rows = |new: bool| -> Vec<Vec<Param>> {
        records
            .values()
            .filter(|p| p.is_new == new)
            .map(|p| row(&p.record, &p.json))
            .collect()
    };
    insert(tx, table, cols, rows(true))?;
    update(tx, table, cols, rows(false))
}

/// Adds the batch's counter changes: existing counters in one statement, new ones in another
/// (no `ON CONFLICT`: the log head's lock keeps other batches out meanwhile).
fn write_counters(
    tx: &mut Transaction<'_>,
    prepared: &Prepared,
    deltas: &BTreeMap<String, i64>,
) -> Result<(), StoreError> {
    let changed: Vec<(&String, i64)> = deltas
        .iter()
        .filter(|(_, d)| **d != 0)
        .map(|(n, d)| (n, *d))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = changed.iter().map(|(n, _)| n.as_str()).collect();
    let existing: HashSet<String> = tx
        .query(&prepared.counters_present, &[&names])
        .map_err(db_error)?
        .iter()
        .map(|r| col::<String>(r, 0))
        .collect::<Result<_, _>>()?;
    let new: Vec<Vec<Param>> = changed
        .iter()
        .filter(|(n, _)| !existing.contains(*n))
        .map(|(n, d)| -> Vec<Param> { vec![Box::new((*n).clone()), Box::new(*d)] })
        .collect();
    insert(
        tx,
        "counters",
        &[("name", "text"), ("value", "bigint")],
        new,
    )?;
    let (add_names, add_deltas): (Vec<&str>, Vec<i64>) = changed
        .iter()
        .filter(|(n, _)| existing.contains(*n))
        .map(|(n, d)| (n.as_str(), *d))
        .unzip();
    if !add_names.is_empty() {
        tx.execute(&prepared.add_to_counters, &[&add_names, &add_deltas])
            .map_err(db_error)?;
    }
    Ok(())
}

/// Inserts the batch's new whistles with one prepared statement, a column per array.
fn insert_whistles(
    tx: &mut Transaction<'_>,
    prepared: &Prepared,
    pending: &BTreeMap<u64, Pending<Whistle>>,
) -> Result<(), StoreError> {
    let new: Vec<&Pending<Whistle>> = pending.values().filter(|p| p.is_new).collect();
    if new.is_empty() {
        return Ok(());
    }
    let col =
        |f: &dyn Fn(&Whistle) -> i64| -> Vec<i64> { new.iter().map(|p| f(&p.record)).collect() };
    let ids = col(&|w| id_of(w.id.0));
    let communities = col(&|w| id_of(w.community_id.0));
    let streets = col(&|w| id_of(w.street_id.0));
    let statuses: Vec<i16> = new
        .iter()
        .map(|p| i16::from(p.record.status.code()))
        .collect();
    let departments: Vec<Option<i64>> = new
        .iter()
        .map(|p| p.record.department_id.map(|d| id_of(d.0)))
        .collect();
    let categories: Vec<&str> = new.iter().map(|p| p.record.category.as_str()).collect();
    let urgent: Vec<bool> = new
        .iter()
        .map(|p| p.record.urgency == shaozi_shared::Urgency::Urgent)
        .collect();
    let overdue: Vec<bool> = new.iter().map(|p| p.record.overdue).collect();
    let queue: Vec<Option<Vec<u8>>> = new
        .iter()
        .map(|p| {
            p.record
                .status
                .is_unanswered()
                .then(|| keys::queue_tail(&p.record))
        })
        .collect();
    let due: Vec<Option<DateTime<Utc>>> = new.iter().map(|p| p.record.pending_deadline()).collect();
    let created: Vec<DateTime<Utc>> = new.iter().map(|p| p.record.created_at).collect();
    let dispatched: Vec<Option<DateTime<Utc>>> =
        new.iter().map(|p| p.record.dispatched_at).collect();
    let closed: Vec<Option<DateTime<Utc>>> = new
        .iter()
        .map(|p| {
            (p.record.status == WhistleStatus::Closed)
                .then_some(p.record.closed_at)
                .flatten()
        })
        .collect();
    let json: Vec<&str> = new.iter().map(|p| p.json.as_str()).collect();
    tx.execute(
        &prepared.insert_whistles,
        &[
            &ids,
            &statuses,
            &departments,
            &communities,
            &streets,
            &categories,
            &urgent,
            &overdue,
            &queue,
            &due,
            &created,
            &dispatched,
            &closed,
            &json,
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

/// Appends the batch's events with one prepared statement.
fn insert_events(
    tx: &mut Transaction<'_>,
    prepared: &Prepared,
    events: &[PendingEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = events.iter().map(|e| id_of(e.seq)).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
    let at: Vec<DateTime<Utc>> = events.iter().map(|e| e.at).collect();
    let actors: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let record_kinds: Vec<Option<&str>> = events.iter().map(|e| e.record.map(|r| r.0)).collect();
    let record_ids: Vec<Option<i64>> = events
        .iter()
        .map(|e| e.record.map(|r| id_of(r.1)))
        .collect();
    let about: Vec<bool> = events.iter().map(|e| e.about_whistle).collect();
    let json: Vec<&str> = events.iter().map(|e| e.json.as_str()).collect();
    tx.execute(
        &prepared.insert_events,
        &[
            &seqs,
            &kinds,
            &at,
            &actors,
            &subjects,
            &record_kinds,
            &record_ids,
            &about,
            &json,
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

const WHISTLE_COLUMNS: &[(&str, &str)] = &[
    ("id", "bigint"),
    ("status", "smallint"),
    ("department_id", "bigint"),
    ("community_id", "bigint"),
    ("street_id", "bigint"),
    ("category", "text"),
    ("urgent", "boolean"),
    ("overdue", "boolean"),
    ("queue_key", "bytea"),
    ("due_at", "timestamptz"),
    ("created_at", "timestamptz"),
    ("dispatched_at", "timestamptz"),
    ("closed_at", "timestamptz"),
    ("json", "text"),
];

fn whistle_row(w: &Whistle, json: &str) -> Vec<Param> {
    let queue_key = w.status.is_unanswered().then(|| keys::queue_tail(w));
    let closed_at = if w.status == WhistleStatus::Closed {
        w.closed_at
    } else {
        None
    };
    vec![
        Box::new(id_of(w.id.0)),
        Box::new(i16::from(w.status.code())),
        Box::new(w.department_id.map(|d| id_of(d.0))),
        Box::new(id_of(w.community_id.0)),
        Box::new(id_of(w.street_id.0)),
        Box::new(w.category.clone()),
        Box::new(w.urgency == shaozi_shared::Urgency::Urgent),
        Box::new(w.overdue),
        Box::new(queue_key),
        Box::new(w.pending_deadline()),
        Box::new(w.created_at),
        Box::new(w.dispatched_at),
        Box::new(closed_at),
        Box::new(json.to_string()),
    ]
}

const WISH_COLUMNS: &[(&str, &str)] = &[
    ("id", "bigint"),
    ("status", "smallint"),
    ("community_id", "bigint"),
    ("street_id", "bigint"),
    ("department_id", "bigint"),
    ("created_at", "timestamptz"),
    ("claimed_at", "timestamptz"),
    ("json", "text"),
];

fn wish_row(w: &Wish, json: &str) -> Vec<Param> {
    vec![
        Box::new(id_of(w.id.0)),
        Box::new(i16::from(w.status.code())),
        Box::new(id_of(w.community_id.0)),
        Box::new(id_of(w.street_id.0)),
        Box::new(w.department_id.map(|d| id_of(d.0))),
        Box::new(w.created_at),
        Box::new(w.claimed_at),
        Box::new(json.to_string()),
    ]
}

const EVENT_COLUMNS: &[(&str, &str)] = &[
    ("seq", "bigint"),
    ("kind", "text"),
    ("at", "timestamptz"),
    ("actor", "text"),
    ("subject", "text"),
    ("record_kind", "text"),
    ("record_id", "bigint"),
    ("about_whistle", "boolean"),
    ("json", "text"),
];

/// Ids as a literal `IN` list (numbers only, so nothing to escape).
pub(crate) fn in_list(ids: &[u64]) -> String {
    ids.iter()
        .map(|i| id_of(*i).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Rows split so that no statement has more parameters than PostgreSQL takes.
fn chunks(rows: Vec<Vec<Param>>, width: usize) -> Vec<Vec<Vec<Param>>> {
    let per = (MAX_PARAMS / width.max(1)).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(per).collect());
    }
    out
}

/// The driver's type for a column type we use.
fn sql_type(name: &str) -> Type {
    match name {
        "bigint" => Type::INT8,
        "smallint" => Type::INT2,
        "timestamptz" => Type::TIMESTAMPTZ,
        "bytea" => Type::BYTEA,
        "boolean" => Type::BOOL,
        _ => Type::TEXT,
    }
}

/// `($1::bigint, $2::text), (…)` for `rows`, and the parameters in order, typed so that a
/// statement costs one round trip (no separate prepare).
fn values_list(cols: &[(&str, &str)], rows: Vec<Vec<Param>>) -> (String, Vec<(Param, Type)>) {
    let mut sql = String::new();
    let mut params = Vec::new();
    for (r, row) in rows.into_iter().enumerate() {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for (c, p) in row.into_iter().enumerate() {
            if c > 0 {
                sql.push(',');
            }
            let ty = cols.get(c).map_or("text", |c| c.1);
            params.push((p, sql_type(ty)));
            sql.push_str(&format!("${}::{ty}", params.len()));
        }
        sql.push(')');
    }
    (sql, params)
}

fn refs(params: &[(Param, Type)]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|(p, t)| (p.as_ref() as &(dyn ToSql + Sync), t.clone()))
        .collect()
}

/// Inserts rows in multi-row statements.
fn insert(
    tx: &mut Transaction<'_>,
    table: &str,
    cols: &[(&str, &str)],
    rows: Vec<Vec<Param>>,
) -> Result<(), StoreError> {
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    for chunk in chunks(rows, cols.len()) {
        let (values, params) = values_list(cols, chunk);
        tx.execute_typed(
            &format!("INSERT INTO {table} ({}) VALUES {values}", names.join(",")),
            &refs(&params),
        )
        .map_err(db_error)?;
    }
    Ok(())
}

/// Updates rows by their first column (the key), in multi-row statements.
fn update(
    tx: &mut Transaction<'_>,
    table: &str,
    cols: &[(&str, &str)],
    rows: Vec<Vec<Param>>,
) -> Result<(), StoreError> {
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let Some((key, rest)) = names.split_first() else {
        return Ok(());
    };
    let set: Vec<String> = rest.iter().map(|c| format!("{c} = v.{c}")).collect();
    for chunk in chunks(rows, cols.len()) {
        let (values, params) = values_list(cols, chunk);
        tx.execute_typed(
            &format!(
                "UPDATE {table} SET {} FROM (VALUES {values}) AS v({}) WHERE {table}.{key} = v.{key}",
                set.join(", "),
                names.join(",")
            ),
            &refs(&params),
        )
        .map_err(db_error)?;
    }
    Ok(())
}

impl Unit for PgUnit<'_, '_> {
    fn log_head(&mut self) -> Result<u64, StoreError> {
        Ok(self.head)
    }

    fn prefetch(
        &mut self,
        whistles: &[WhistleId],
        wishes: &[WishId],
        keys: &[&[u8]],
    ) -> Result<(), StoreError> {
        let w: Vec<u64> = whistles.iter().map(|w| w.0).collect();
        Self::load(self.tx, "whistles", &w, &mut self.whistles, 'W')?;
        let m: Vec<u64> = wishes.iter().map(|w| w.0).collect();
        Self::load(self.tx, "wishes", &m, &mut self.wishes, 'M')?;
        let keys: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| !self.kept.contains_key(**k))
            .map(|k| k.to_vec())
            .collect();
        for chunk in keys.chunks(1000) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<(&(dyn ToSql + Sync), Type)> = chunk
                .iter()
                .map(|k| (k as &(dyn ToSql + Sync), Type::BYTEA))
                .collect();
            let rows = self
                .tx
                .query_typed(
                    &format!(
                        "SELECT key, body, answer FROM idempotency WHERE key IN ({})",
                        list.join(",")
                    ),
                    &params,
                )
                .map_err(db_error)?;
            for k in chunk {
                self.kept.insert(k.clone(), None);
            }
            for r in rows {
                let key: Vec<u8> = col(&r, 0)?;
                let kept = KeptAnswer {
                    body: col(&r, 1)?,
                    answer: col(&r, 2)?,
                };
                self.kept.insert(key, Some(kept));
            }
        }
        Ok(())
    }

    fn whistle(&mut self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        Self::load(self.tx, "whistles", &[id.0], &mut self.whistles, 'W')?;
        Ok(self.whistles.get(&id.0).cloned().flatten())
    }

    fn wish(&mut self, id: WishId) -> Result<Option<Wish>, StoreError> {
        Self::load(self.tx, "wishes", &[id.0], &mut self.wishes, 'M')?;
        Ok(self.wishes.get(&id.0).cloned().flatten())
    }

    fn put_whistle(
        &mut self,
        old: Option<&Whistle>,
        new: &Whistle,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        let id = new.id.0;
        self.whistles.insert(id, Some(new.clone()));
        let is_new = self
            .new_whistles
            .get(&id)
            .map_or(old.is_none(), |p| p.is_new);
        self.new_whistles.insert(
            id,
            Pending {
                is_new,
                record: new.clone(),
                json: json.to_string(),
            },
        );
        self.mark_timeline("W", id, events);
        Ok(())
    }

    fn put_wish(
        &mut self,
        old: Option<&Wish>,
        new: &Wish,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        let id = new.id.0;
        self.wishes.insert(id, Some(new.clone()));
        let is_new = self.new_wishes.get(&id).map_or(old.is_none(), |p| p.is_new);
        self.new_wishes.insert(
            id,
            Pending {
                is_new,
                record: new.clone(),
                json: json.to_string(),
            },
        );
        self.mark_timeline("M", id, events);
        Ok(())
    }

    fn has(&mut self, kind: DirectoryKind, id: u64) -> Result<bool, StoreError> {
        Ok(self.directory_ids(dir_letter(kind))?.contains(&id))
    }

    fn community(&mut self, id: CommunityId) -> Result<Option<Community>, StoreError> {
        if self.communities.is_none() {
            let rows = self
                .tx
                .query_typed("SELECT id, json FROM directory WHERE kind = 'C'", &[])
                .map_err(db_error)?;
            let mut all = HashMap::new();
            for r in rows {
                let cid = col::<i64>(&r, 0)?.max(0) as u64;
                let json: String = col(&r, 1)?;
                all.insert(cid, decode(json.as_bytes(), || format!("C{cid}"))?);
            }
            self.communities = Some(all);
        }
        Ok(self
            .communities
            .as_ref()
            .and_then(|all| all.get(&id.0).cloned()))
    }

    fn put_directory(
        &mut self,
        kind: DirectoryKind,
        id: u64,
        json: &str,
    ) -> Result<(), StoreError> {
        let letter = dir_letter(kind);
        self.directory_ids(letter)?.insert(id);
        if kind == DirectoryKind::Community {
            let c: Community = decode(json.as_bytes(), || format!("C{id}"))?;
            if let Some(all) = self.communities.as_mut() {
                all.insert(id, c);
            }
        }
        self.new_directory.push((letter, id, json.to_string()));
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
        self.new_activities.push((
            id,
            id_of(a.department_id.0),
            id_of(a.community_id.0),
            id_of(street.0),
            day,
            json.to_string(),
        ));
        Ok(())
    }

    fn peek_id(&mut self, series: Series) -> Result<u64, StoreError> {
        Ok(self.series(series)?.next)
    }

    fn take_id(&mut self, series: Series) -> Result<u64, StoreError> {
        let s = self.series(series)?;
        let id = s.next;
        s.next += 1;
        s.changed = true;
        Ok(id)
    }

    fn restore_series(&mut self, series: Series, next: u64) -> Result<(), StoreError> {
        let s = self.series(series)?;
        s.next = next;
        s.changed = true;
        Ok(())
    }

    fn claim_name(
        &mut self,
        name: &str,
        holder: NameHolder,
    ) -> Result<Option<NameHolder>, StoreError> {
        let (letter, kind) = match holder {
            NameHolder::Directory(kind, _) => (dir_letter(kind), Some(kind)),
            NameHolder::Token(_) => ("T", None),
        };
        if let Some(had) = self.name_holder(letter, kind, name)? {
            return Ok(Some(had));
        }
        self.names.insert((letter, name.to_string()), Some(holder));
        self.new_names.push((letter, name.to_string(), holder));
        Ok(None)
    }

    fn token_named(&mut self, name: &str) -> Result<Option<([u8; 32], TokenInfo)>, StoreError> {
        let Some(NameHolder::Token(hash)) = self.name_holder("T", None, name)? else {
            return Ok(None);
        };
        let json = match self.tokens.get(&hash) {
            Some((_, json)) => json.clone(),
            None => {
                let Some(row) = self
                    .tx
                    .query_opt("SELECT json FROM tokens WHERE hash = $1", &[&hash.to_vec()])
                    .map_err(db_error)?
                else {
                    return Ok(None);
                };
                col(&row, 0)?
            }
        };
        Ok(Some((hash, decode(json.as_bytes(), || name.to_string())?)))
    }

    fn put_token(&mut self, hash: &[u8; 32], json: &str) -> Result<(), StoreError> {
        let stored = match self.tokens.get(hash) {
            Some((stored, _)) => *stored,
            None => self
                .tx
                .query_opt("SELECT 1 FROM tokens WHERE hash = $1", &[&hash.to_vec()])
                .map_err(db_error)?
                .is_some(),
        };
        self.tokens.insert(*hash, (stored, json.to_string()));
        Ok(())
    }

    fn append_event(&mut self, e: &LogEntry<'_>) -> Result<(), StoreError> {
        self.events.push(PendingEvent {
            seq: e.seq,
            kind: e.kind.as_str(),
            at: e.at,
            actor: e.actor.to_string(),
            subject: e.subject.to_string(),
            about_whistle: e.kind.about_whistle(),
            record: None,
            json: e.json.to_string(),
        });
        Ok(())
    }

    fn add_to_counters(&mut self, deltas: &BTreeMap<String, i64>) -> Result<(), StoreError> {
        for (name, d) in deltas {
            *self.counters.entry(name.clone()).or_default() += d;
        }
        Ok(())
    }

    fn kept(&mut self, key: &[u8]) -> Result<Option<KeptAnswer>, StoreError> {
        if let Some(k) = self.kept.get(key) {
            return Ok(k.clone());
        }
        let row = self
            .tx
            .query_opt(
                "SELECT body, answer FROM idempotency WHERE key = $1",
                &[&key.to_vec()],
            )
            .map_err(db_error)?;
        let k = match row {
            Some(r) => Some(KeptAnswer {
                body: col(&r, 0)?,
                answer: col(&r, 1)?,
            }),
            None => None,
        };
        self.kept.insert(key.to_vec(), k.clone());
        Ok(k)
    }

    fn keep(&mut self, key: &[u8], kept: &KeptAnswer) -> Result<(), StoreError> {
        self.kept.insert(key.to_vec(), Some(kept.clone()));
        self.new_kept.push((key.to_vec(), kept.clone()));
        Ok(())
    }
}

impl PgUnit<'_, '_> {
    /// Who holds a name (a directory kind's, or a token's when `kind` is None).
    fn name_holder(
        &mut self,
        letter: &'static str,
        kind: Option<DirectoryKind>,
        name: &str,
    ) -> Result<Option<NameHolder>, StoreError> {
        let key = (letter, name.to_string());
        if let Some(h) = self.names.get(&key) {
            return Ok(*h);
        }
        let row = self
            .tx
            .query_opt(
                "SELECT holder_id, holder_hash FROM names WHERE kind = $1 AND name = $2",
                &[&letter, &name],
            )
            .map_err(db_error)?;
        let holder = match row {
            None => None,
            Some(r) => {
                let id: Option<i64> = col(&r, 0)?;
                let hash: Option<Vec<u8>> = col(&r, 1)?;
                match (kind, id, hash) {
                    (Some(k), Some(id), _) => Some(NameHolder::Directory(k, id.max(0) as u64)),
                    (None, _, Some(h)) => Some(NameHolder::Token(
                        <[u8; 32]>::try_from(h.as_slice())
                            .map_err(|e| corrupt(format!("token {name}"), e))?,
                    )),
                    _ => return Err(corrupt(format!("the name {name}"), "no holder")),
                }
            }
        };
        self.names.insert(key, holder);
        Ok(holder)
    }
}
