//! How a batch's writes reach the database: prepared array inserts for what every batch of
//! creates writes, and multi-row statements with typed parameters for the rest (one round
//! trip each, no separate prepare).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::{ToSql, Type};
use postgres::Transaction;

use shaozi_shared::{Whistle, WhistleStatus, Wish};

use super::{col, db_error};
use crate::storage::queue;
use crate::storage::StoreError;

/// A parameter of a multi-row statement.
pub(super) type Param = Box<dyn ToSql + Sync>;

/// The most parameters PostgreSQL takes in one statement.
pub(super) const MAX_PARAMS: usize = 65_535;

/// The rows of a batch's new records (`new`) or of its changed ones.
pub(super) fn record_rows<R>(
    records: &BTreeMap<u64, Pending<R>>,
    new: bool,
    row: fn(&R, &str) -> Vec<Param>,
) -> Vec<Vec<Param>> {
    records
        .values()
        .filter(|p| p.is_new == new)
        .map(|p| row(&p.record, &p.json))
        .collect()
}

/// Adds the batch's counter changes: existing counters in one statement, new ones in another
/// (no `ON CONFLICT`: the log head's lock keeps other batches out meanwhile).
pub(super) fn write_counters(
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
pub(super) fn insert_whistles(
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
                .then(|| queue::queue_tail(&p.record))
        })
        .collect();
    let due: Vec<Option<DateTime<Utc>>> = new.iter().map(|p| p.record.next_alarm()).collect();
    let deadline: Vec<Option<DateTime<Utc>>> =
        new.iter().map(|p| p.record.pending_deadline()).collect();
    let source: Vec<&str> = new.iter().map(|p| p.record.source.as_str()).collect();
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
            &deadline,
            &source,
            &json,
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

/// Appends the batch's events with one prepared statement.
pub(super) fn insert_events(
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

pub(super) const WHISTLE_COLUMNS: &[(&str, &str)] = &[
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
    ("deadline_at", "timestamptz"),
    ("source", "text"),
    ("json", "text"),
];

/// A whistle's columns besides its id and JSON: everything the database derives from the
/// record to query it by. The consistency check compares them with what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WhistleDerived {
    pub(crate) status: i16,
    pub(crate) department_id: Option<i64>,
    pub(crate) community_id: i64,
    pub(crate) street_id: i64,
    pub(crate) category: String,
    pub(crate) urgent: bool,
    pub(crate) overdue: bool,
    pub(crate) queue_key: Option<Vec<u8>>,
    pub(crate) due_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) dispatched_at: Option<DateTime<Utc>>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
    pub(crate) deadline_at: Option<DateTime<Utc>>,
    pub(crate) source: String,
}

impl WhistleDerived {
    /// What the columns hold for `w`.
    pub(crate) fn of(w: &Whistle) -> WhistleDerived {
        WhistleDerived {
            status: i16::from(w.status.code()),
            department_id: w.department_id.map(|d| id_of(d.0)),
            community_id: id_of(w.community_id.0),
            street_id: id_of(w.street_id.0),
            category: w.category.clone(),
            urgent: w.urgency == shaozi_shared::Urgency::Urgent,
            overdue: w.overdue,
            queue_key: w.status.is_unanswered().then(|| queue::queue_tail(w)),
            due_at: w.next_alarm(),
            created_at: w.created_at,
            dispatched_at: w.dispatched_at,
            closed_at: if w.status == WhistleStatus::Closed {
                w.closed_at
            } else {
                None
            },
            deadline_at: w.pending_deadline(),
            source: w.source.as_str().to_string(),
        }
    }

    /// As a row of [`WHISTLE_COLUMNS`].
    pub(crate) fn row(self, id: u64, json: &str) -> Vec<Param> {
        vec![
            Box::new(id_of(id)),
            Box::new(self.status),
            Box::new(self.department_id),
            Box::new(self.community_id),
            Box::new(self.street_id),
            Box::new(self.category),
            Box::new(self.urgent),
            Box::new(self.overdue),
            Box::new(self.queue_key),
            Box::new(self.due_at),
            Box::new(self.created_at),
            Box::new(self.dispatched_at),
            Box::new(self.closed_at),
            Box::new(self.deadline_at),
            Box::new(self.source),
            Box::new(json.to_string()),
        ]
    }
}

pub(super) fn whistle_row(w: &Whistle, json: &str) -> Vec<Param> {
    WhistleDerived::of(w).row(w.id.0, json)
}

pub(super) const WISH_COLUMNS: &[(&str, &str)] = &[
    ("id", "bigint"),
    ("status", "smallint"),
    ("community_id", "bigint"),
    ("street_id", "bigint"),
    ("department_id", "bigint"),
    ("created_at", "timestamptz"),
    ("claimed_at", "timestamptz"),
    ("json", "text"),
];

/// A wish's columns besides its id and JSON (see [`WhistleDerived`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WishDerived {
    pub(crate) status: i16,
    pub(crate) community_id: i64,
    pub(crate) street_id: i64,
    pub(crate) department_id: Option<i64>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) claimed_at: Option<DateTime<Utc>>,
}

impl WishDerived {
    /// What the columns hold for `w`.
    pub(crate) fn of(w: &Wish) -> WishDerived {
        WishDerived {
            status: i16::from(w.status.code()),
            community_id: id_of(w.community_id.0),
            street_id: id_of(w.street_id.0),
            department_id: w.department_id.map(|d| id_of(d.0)),
            created_at: w.created_at,
            claimed_at: w.claimed_at,
        }
    }

    /// As a row of [`WISH_COLUMNS`].
    pub(crate) fn row(self, id: u64, json: &str) -> Vec<Param> {
        vec![
            Box::new(id_of(id)),
            Box::new(self.status),
            Box::new(self.community_id),
            Box::new(self.street_id),
            Box::new(self.department_id),
            Box::new(self.created_at),
            Box::new(self.claimed_at),
            Box::new(json.to_string()),
        ]
    }
}

pub(super) fn wish_row(w: &Wish, json: &str) -> Vec<Param> {
    WishDerived::of(w).row(w.id.0, json)
}

pub(super) const EVENT_COLUMNS: &[(&str, &str)] = &[
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
pub(super) fn chunks(rows: Vec<Vec<Param>>, width: usize) -> Vec<Vec<Vec<Param>>> {
    let per = (MAX_PARAMS / width.max(1)).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(per).collect());
    }
    out
}

/// The driver's type for a column type we use.
pub(super) fn sql_type(name: &str) -> Type {
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
pub(super) fn values_list(
    cols: &[(&str, &str)],
    rows: Vec<Vec<Param>>,
) -> (String, Vec<(Param, Type)>) {
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

pub(super) fn refs(params: &[(Param, Type)]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|(p, t)| (p.as_ref() as &(dyn ToSql + Sync), t.clone()))
        .collect()
}

/// Inserts rows in multi-row statements.
pub(super) fn insert(
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
pub(super) fn update(
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

pub(super) fn id_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A whistle or wish as the batch leaves it, to be written at the end.
pub(super) struct Pending<R> {
    pub(super) is_new: bool,
    pub(super) record: R,
    pub(super) json: String,
}

/// An event to append.
pub(super) struct PendingEvent {
    pub(super) seq: u64,
    pub(super) kind: &'static str,
    pub(super) at: DateTime<Utc>,
    pub(super) actor: String,
    pub(super) subject: String,
    pub(super) about_whistle: bool,
    pub(super) record: Option<(&'static str, u64)>,
    pub(super) json: String,
}

/// The statements every batch of creates runs, prepared once per connection: a batch then
/// sends each with its columns as arrays, one message, no parse or plan. (Multi-argument
/// `unnest` is SQL:2003's `UNNEST(a, b, …)`.)
pub(super) struct Prepared {
    pub(super) insert_whistles: postgres::Statement,
    pub(super) insert_events: postgres::Statement,
    pub(super) counters_present: postgres::Statement,
    pub(super) add_to_counters: postgres::Statement,
}

impl Prepared {
    pub(super) fn on(c: &mut postgres::Client) -> Result<Prepared, StoreError> {
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
