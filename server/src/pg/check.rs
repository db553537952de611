//! The PostgreSQL engine's consistency check: every column the database derives from a
//! record's or an event's JSON, every unique name, every counter, worked out again from the
//! JSON and compared. A check reads inside one snapshot (REPEATABLE READ), so servers go on
//! writing; a repair holds the log head's lock, as a writer's batch does, so none commits
//! while it rewrites what differs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SubsecRound, Utc};
use postgres::types::ToSql;
use postgres::{IsolationLevel, Row, Transaction};

use shaozi_shared::api::{Activity, Community, ConsistencyReport};
use shaozi_shared::{Event, Whistle, Wish};

use super::statements::{WhistleDerived, WishDerived};
use super::{col, connect, db_error};
use crate::check::{CheckError, Findings};
use crate::clock::noon;
use crate::copy::activity_number;
use crate::storage::counts::{whistle_counts, wish_counts};
use crate::storage::StoreError;
use crate::storage::{DirectoryKind, Series};

/// Rows read at a time.
const PAGE: i64 = 5000;

/// Checks the database at `url`; with `repair`, rewrites what differs from the JSON.
/// `offset` is the city's offset from UTC, which dates activities.
pub fn check(
    url: &str,
    offset: chrono::FixedOffset,
    repair: bool,
) -> Result<ConsistencyReport, CheckError> {
    let mut client = connect(url)?;
    let mut tx = client
        .build_transaction()
        .isolation_level(if repair {
            IsolationLevel::ReadCommitted
        } else {
            IsolationLevel::RepeatableRead
        })
        .read_only(!repair)
        .start()
        .map_err(db_error)?;
    let head_sql = if repair {
        "SELECT seq FROM log_head WHERE one = 1 FOR UPDATE"
    } else {
        "SELECT seq FROM log_head WHERE one = 1"
    };
    let row = tx.query_one(head_sql, &[]).map_err(db_error)?;
    let seq = col::<i64>(&row, 0)?.max(0) as u64;
    let mut c = Checking {
        findings: Findings::default(),
        compared: 0,
        counts: BTreeMap::new(),
        repair,
    };
    c.whistles(&mut tx)?;
    c.wishes(&mut tx)?;
    c.activities(&mut tx, offset)?;
    c.events(&mut tx)?;
    c.names(&mut tx)?;
    c.series(&mut tx)?;
    c.counters(&mut tx)?;
    let repaired = repair && c.findings.total > 0;
    tx.commit().map_err(db_error)?;
    Ok(c.findings.report(seq, c.compared, repaired))
}

struct Checking {
    findings: Findings,
    compared: u64,
    /// The counters as the records count them.
    counts: BTreeMap<String, i64>,
    repair: bool,
}

/// Times as the database keeps them (microseconds).
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

fn decode<T: serde::de::DeserializeOwned>(json: &str, what: String) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what,
        why: e.to_string(),
    })
}

/// The names of the fields that differ between two values of one struct.
macro_rules! differing {
    ($a:expr, $b:expr, $($f:ident),+) => {{
        let mut names: Vec<&str> = Vec::new();
        $(if $a.$f != $b.$f { names.push(stringify!($f)); })+
        names.join(", ")
    }};
}

/// Calls `f` with every row `sql` gives, a page at a time: `sql` takes the last key seen
/// (`$1`, its first column) and the page's size (`$2`), and orders by that key.
fn each_row<'a>(
    tx: &mut Transaction<'a>,
    sql: &str,
    page: i64,
    mut f: impl FnMut(&mut Transaction<'a>, &Row) -> Result<(), CheckError>,
) -> Result<(), CheckError> {
    let mut after = 0i64;
    loop {
        let rows = tx.query(sql, &[&after, &page]).map_err(db_error)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = col(last, 0)?;
        for r in &rows {
            f(tx, r)?;
        }
    }
}

fn params(p: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl Checking {
    /// Notes that `subject`'s columns are not as its JSON says (`fields`); whether to write
    /// them again.
    fn columns_differ(&mut self, subject: impl std::fmt::Display, fields: String) -> bool {
        self.findings.add(
            "index",
            format!("{subject}'s columns ({fields}) are not as its JSON says"),
        );
        self.repair
    }

    fn whistles(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        each_row(
            tx,
            "SELECT id, status, department_id, community_id, street_id, category, urgent, \
             overdue, queue_key, due_at, created_at, dispatched_at, closed_at, deadline_at, \
             source, json FROM whistles WHERE id > $1 ORDER BY id LIMIT $2",
            PAGE,
            |tx, r| {
                let id: i64 = col(r, 0)?;
                let json: String = col(r, 15)?;
                let w: Whistle = decode(&json, format!("whistle {id}"))?;
                for (k, n) in whistle_counts(&w) {
                    *self.counts.entry(k).or_default() += n;
                }
                let have = whistle_columns(r)?;
                let mut want = WhistleDerived::of(&w);
                want.due_at = want.due_at.map(micros);
                want.created_at = micros(want.created_at);
                want.dispatched_at = want.dispatched_at.map(micros);
                want.closed_at = want.closed_at.map(micros);
                want.deadline_at = want.deadline_at.map(micros);
                self.compared += 1;
                if have != want
                    && self.columns_differ(
                        w.id,
                        differing!(
                            have,
                            want,
                            status,
                            department_id,
                            community_id,
                            street_id,
                            category,
                            urgent,
                            overdue,
                            queue_key,
                            due_at,
                            created_at,
                            dispatched_at,
                            closed_at,
                            deadline_at,
                            source
                        ),
                    )
                {
                    let row = WhistleDerived::of(&w).row(w.id.0, &json);
                    tx.execute(
                        "UPDATE whistles SET status = $2, department_id = $3, \
                             community_id = $4, street_id = $5, category = $6, urgent = $7, \
                             overdue = $8, queue_key = $9, due_at = $10, created_at = $11, \
                             dispatched_at = $12, closed_at = $13, deadline_at = $14, \
                             source = $15 WHERE id = $1",
                        &params(&row[..15]),
                    )
                    .map_err(db_error)?;
                }
                Ok(())
            },
        )
    }

    fn wishes(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        each_row(
            tx,
            "SELECT id, status, community_id, street_id, department_id, created_at, claimed_at, \
             json FROM wishes WHERE id > $1 ORDER BY id LIMIT $2",
            PAGE,
            |tx, r| {
                let id: i64 = col(r, 0)?;
                let json: String = col(r, 7)?;
                let w: Wish = decode(&json, format!("wish {id}"))?;
                for (k, n) in wish_counts(&w) {
                    *self.counts.entry(k).or_default() += n;
                }
                let have = WishDerived {
                    status: col(r, 1)?,
                    community_id: col(r, 2)?,
                    street_id: col(r, 3)?,
                    department_id: col(r, 4)?,
                    created_at: col(r, 5)?,
                    claimed_at: col(r, 6)?,
                };
                let mut want = WishDerived::of(&w);
                want.created_at = micros(want.created_at);
                want.claimed_at = want.claimed_at.map(micros);
                self.compared += 1;
                if have != want
                    && self.columns_differ(
                        w.id,
                        differing!(
                            have,
                            want,
                            status,
                            community_id,
                            street_id,
                            department_id,
                            created_at,
                            claimed_at
                        ),
                    )
                {
                    let row = WishDerived::of(&w).row(w.id.0, &json);
                    tx.execute(
                        "UPDATE wishes SET status = $2, community_id = $3, street_id = $4, \
                             department_id = $5, created_at = $6, claimed_at = $7 WHERE id = $1",
                        &params(&row[..7]),
                    )
                    .map_err(db_error)?;
                }
                Ok(())
            },
        )
    }

    /// Each activity's columns (what the assessment counts it by) against its JSON: its
    /// street is its community's, its day noon of its date in the city's time.
    fn activities(
        &mut self,
        tx: &mut Transaction<'_>,
        offset: chrono::FixedOffset,
    ) -> Result<(), CheckError> {
        #[derive(Debug, PartialEq, Eq)]
        struct Columns {
            department_id: i64,
            community_id: i64,
            street_id: i64,
            day: DateTime<Utc>,
        }
        let mut street_of: BTreeMap<i64, i64> = BTreeMap::new();
        for r in tx
            .query("SELECT id, json FROM directory WHERE kind = 'C'", &[])
            .map_err(db_error)?
        {
            let id: i64 = col(&r, 0)?;
            let c: Community = decode(&col::<String>(&r, 1)?, format!("C{id}"))?;
            street_of.insert(id, c.street_id.0 as i64);
        }
        each_row(
            tx,
            "SELECT id, department_id, community_id, street_id, day, json FROM activities \
             WHERE id > $1 ORDER BY id LIMIT $2",
            PAGE,
            |tx, r| {
                let id: i64 = col(r, 0)?;
                let a: Activity = decode(&col::<String>(r, 5)?, format!("activity A{id}"))?;
                if activity_number(&a.id).ok() != Some(id as u64) {
                    // The record itself is wrong: nothing derived can be rewritten from it.
                    self.findings.add(
                        "record",
                        format!("activity A{id}'s JSON says it is {}", a.id),
                    );
                    return Ok(());
                }
                let community_id = a.community_id.0 as i64;
                let have = Columns {
                    department_id: col(r, 1)?,
                    community_id: col(r, 2)?,
                    street_id: col(r, 3)?,
                    day: col(r, 4)?,
                };
                let want = Columns {
                    department_id: a.department_id.0 as i64,
                    community_id,
                    // A community never moves street; one the directory lacks is a record
                    // missing, not a column to rewrite.
                    street_id: street_of
                        .get(&community_id)
                        .copied()
                        .unwrap_or(have.street_id),
                    day: micros(noon(a.date, offset).unwrap_or(a.created_at)),
                };
                self.compared += 1;
                if have != want
                    && self.columns_differ(
                        &a.id,
                        differing!(have, want, department_id, community_id, street_id, day),
                    )
                {
                    tx.execute(
                        "UPDATE activities SET department_id = $2, community_id = $3, \
                             street_id = $4, day = $5 WHERE id = $1",
                        &[
                            &id,
                            &want.department_id,
                            &want.community_id,
                            &want.street_id,
                            &want.day,
                        ],
                    )
                    .map_err(db_error)?;
                }
                Ok(())
            },
        )
    }

    /// Each series' next id past its records'.
    fn series(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        let next = read_numbers(tx, NamedNumbers::Series)?;
        for series in Series::ALL {
            let highest_sql = match series {
                Series::Directory(DirectoryKind::Street) => {
                    "SELECT max(id) FROM directory WHERE kind = 'S'"
                }
                Series::Directory(DirectoryKind::Community) => {
                    "SELECT max(id) FROM directory WHERE kind = 'C'"
                }
                Series::Directory(DirectoryKind::Department) => {
                    "SELECT max(id) FROM directory WHERE kind = 'D'"
                }
                Series::Whistle => "SELECT max(id) FROM whistles",
                Series::Wish => "SELECT max(id) FROM wishes",
                Series::Activity => "SELECT max(id) FROM activities",
                Series::Template => "SELECT max(id) FROM directory WHERE kind = 'R'",
            };
            let row = tx.query_one(highest_sql, &[]).map_err(db_error)?;
            let highest = col::<Option<i64>>(&row, 0)?.map(|h| h.max(0) as u64);
            let have = next
                .get(series.name())
                .map_or(series.first(), |n| (*n).max(0) as u64);
            self.compared += 1;
            if self.findings.series(series, have, highest) && self.repair {
                let want = highest.map_or(series.first(), |h| h + 1) as i64;
                write_number(tx, NamedNumbers::Series, series.name(), want)?;
            }
        }
        Ok(())
    }

    /// Each event's columns (what the timelines and the audit read by) against its JSON.
    fn events(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        #[derive(Debug, PartialEq, Eq)]
        struct Columns {
            kind: String,
            at: DateTime<Utc>,
            actor: String,
            subject: String,
            record_kind: Option<String>,
            record_id: Option<i64>,
            about_whistle: bool,
        }
        each_row(
            tx,
            "SELECT seq, kind, at, actor, subject, record_kind, record_id, about_whistle, json \
             FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            PAGE * 4,
            |tx, r| {
                let seq: i64 = col(r, 0)?;
                let e: Event = decode(&col::<String>(r, 8)?, format!("event {seq}"))?;
                let on_record = e.kind.about_whistle() || e.kind.as_str().starts_with("wish.");
                let record = on_record
                    .then(|| {
                        let letter = e.subject.get(..1)?;
                        let id: i64 = e.subject.get(1..)?.parse().ok()?;
                        Some((letter.to_string(), id))
                    })
                    .flatten();
                let want = Columns {
                    kind: e.kind.as_str().to_string(),
                    at: micros(e.at),
                    actor: e.actor.name.clone(),
                    subject: e.subject.clone(),
                    record_kind: record.as_ref().map(|r| r.0.clone()),
                    record_id: record.as_ref().map(|r| r.1),
                    about_whistle: e.kind.about_whistle(),
                };
                let have = Columns {
                    kind: col(r, 1)?,
                    at: col(r, 2)?,
                    actor: col(r, 3)?,
                    subject: col(r, 4)?,
                    record_kind: col(r, 5)?,
                    record_id: col(r, 6)?,
                    about_whistle: col(r, 7)?,
                };
                self.compared += 1;
                if have != want
                    && self.columns_differ(
                        format!("event {seq}"),
                        differing!(
                            have,
                            want,
                            kind,
                            at,
                            actor,
                            subject,
                            record_kind,
                            record_id,
                            about_whistle
                        ),
                    )
                {
                    tx.execute(
                        "UPDATE events SET kind = $2, at = $3, actor = $4, subject = $5, \
                             record_kind = $6, record_id = $7, about_whistle = $8 WHERE seq = $1",
                        &[
                            &seq,
                            &want.kind,
                            &e.at,
                            &want.actor,
                            &want.subject,
                            &want.record_kind,
                            &want.record_id,
                            &want.about_whistle,
                        ],
                    )
                    .map_err(db_error)?;
                }
                Ok(())
            },
        )
    }

    /// Every directory record's and token's name, claimed by it and by nothing else.
    fn names(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        type Holder = (Option<i64>, Option<Vec<u8>>);
        let mut want: BTreeMap<(String, String), Holder> = BTreeMap::new();
        for r in tx
            .query(
                "SELECT kind, id, json FROM directory WHERE kind IN ('S', 'C', 'D')",
                &[],
            )
            .map_err(db_error)?
        {
            let (kind, id): (String, i64) = (col(&r, 0)?, col(&r, 1)?);
            let n: Named = decode(&col::<String>(&r, 2)?, format!("{kind}{id}"))?;
            want.insert((kind, n.name), (Some(id), None));
        }
        for r in tx
            .query("SELECT hash, json FROM tokens", &[])
            .map_err(db_error)?
        {
            let hash: Vec<u8> = col(&r, 0)?;
            let n: Named = decode(&col::<String>(&r, 1)?, "a token".into())?;
            want.insert(("T".into(), n.name), (None, Some(hash)));
        }
        let mut have: BTreeMap<(String, String), Holder> = BTreeMap::new();
        for r in tx
            .query("SELECT kind, name, holder_id, holder_hash FROM names", &[])
            .map_err(db_error)?
        {
            have.insert((col(&r, 0)?, col(&r, 1)?), (col(&r, 2)?, col(&r, 3)?));
        }
        let keys: BTreeSet<&(String, String)> = have.keys().chain(want.keys()).collect();
        let mut fixes = Vec::new();
        for k in keys {
            self.compared += 1;
            let (h, w) = (have.get(k), want.get(k));
            if h == w {
                continue;
            }
            let what = match (h, w) {
                (None, _) => "is not claimed",
                (_, None) => "is claimed by nothing that has it",
                _ => "is claimed by another",
            };
            self.findings
                .add("name", format!("the name {:?} ({}) {what}", k.1, k.0));
            fixes.push((k.clone(), w.cloned()));
        }
        if self.repair {
            for ((kind, name), holder) in fixes {
                tx.execute(
                    "DELETE FROM names WHERE kind = $1 AND name = $2",
                    &[&kind, &name],
                )
                .map_err(db_error)?;
                if let Some((id, hash)) = holder {
                    tx.execute(
                        "INSERT INTO names (kind, name, holder_id, holder_hash) \
                         VALUES ($1, $2, $3, $4)",
                        &[&kind, &name, &id, &hash],
                    )
                    .map_err(db_error)?;
                }
            }
        }
        Ok(())
    }

    /// Every counter against the records' count.
    fn counters(&mut self, tx: &mut Transaction<'_>) -> Result<(), CheckError> {
        let have = read_numbers(tx, NamedNumbers::Counters)?;
        let names: BTreeSet<String> = have.keys().chain(self.counts.keys()).cloned().collect();
        for name in names {
            self.compared += 1;
            let (h, w) = (
                have.get(&name).copied().unwrap_or(0),
                self.counts.get(&name).copied().unwrap_or(0),
            );
            if h == w {
                continue;
            }
            self.findings.add(
                "counter",
                format!("{name} is {h}; a recount of the records says {w}"),
            );
            if self.repair {
                write_number(tx, NamedNumbers::Counters, &name, w)?;
            }
        }
        Ok(())
    }
}

/// The tables that keep a number by name.
#[derive(Clone, Copy)]
enum NamedNumbers {
    /// Each series' next id.
    Series,
    /// The counters.
    Counters,
}

impl NamedNumbers {
    /// The table and its number's column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            NamedNumbers::Series => ("series", "next_id"),
            NamedNumbers::Counters => ("counters", "value"),
        }
    }
}

fn read_numbers(
    tx: &mut Transaction<'_>,
    t: NamedNumbers,
) -> Result<BTreeMap<String, i64>, CheckError> {
    let (table, column) = t.table();
    let mut all = BTreeMap::new();
    for r in tx
        .query(&format!("SELECT name, {column} FROM {table}"), &[])
        .map_err(db_error)?
    {
        all.insert(col(&r, 0)?, col(&r, 1)?);
    }
    Ok(all)
}

/// Sets a number; plain SQL, as everywhere here (no ON CONFLICT), since the row may be
/// missing.
fn write_number(
    tx: &mut Transaction<'_>,
    t: NamedNumbers,
    name: &str,
    value: i64,
) -> Result<(), CheckError> {
    let (table, column) = t.table();
    tx.execute(&format!("DELETE FROM {table} WHERE name = $1"), &[&name])
        .map_err(db_error)?;
    tx.execute(
        &format!("INSERT INTO {table} (name, {column}) VALUES ($1, $2)"),
        &[&name, &value],
    )
    .map_err(db_error)?;
    Ok(())
}

fn whistle_columns(r: &Row) -> Result<WhistleDerived, StoreError> {
    Ok(WhistleDerived {
        status: col(r, 1)?,
        department_id: col(r, 2)?,
        community_id: col(r, 3)?,
        street_id: col(r, 4)?,
        category: col(r, 5)?,
        urgent: col(r, 6)?,
        overdue: col(r, 7)?,
        queue_key: col(r, 8)?,
        due_at: col(r, 9)?,
        created_at: col(r, 10)?,
        dispatched_at: col(r, 11)?,
        closed_at: col(r, 12)?,
        deadline_at: col(r, 13)?,
        source: col(r, 14)?,
    })
}
