//! The PostgreSQL engine's read side: the same answers as the sled engine's, from SQL. A few
//! threads each keep a connection; a read hands its query to one and waits, as a sled read
//! waits on the disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::{mpsc, Arc, Mutex};

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::Client;

use shaozi_shared::api::{Community, Day, Department, Stats, Street, TokenInfo};
use shaozi_shared::assessment::{measure, rank, CaseMeasures, UnitScore, Weights};
use shaozi_shared::event::TimelineEvent;
use shaozi_shared::{
    CommunityId, Event, Principal, TimelineEntry, Whistle, WhistleId, WhistleStatus, Wish, WishId,
    WishStatus,
};

use super::{col, connect, db_error};
use crate::storage::counts::{self, WishMeasure};
use crate::storage::query::{hex, id_cursor, unhex, BadCursor};
use crate::storage::Reads;
use crate::storage::{
    decode, queue, Counted, FiledPage, Group, QueryError, StoreError, WhistleQuery, WishQuery,
};

/// Connections kept for reads.
const READERS: usize = 4;
/// Most events an audit page holds, as the sled engine's.
const MAX_SCAN: i64 = 5_000;

type Job = Box<dyn FnOnce(&mut Option<Client>) + Send>;

/// The read side over a PostgreSQL database.
pub struct PgReads {
    jobs: Mutex<mpsc::Sender<Job>>,
    url: String,
}

impl PgReads {
    /// Starts the reading threads (each connects when first needed, and again after a lost
    /// connection).
    pub fn new(url: &str) -> Result<PgReads, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..READERS {
            let rx = rx.clone();
            let url = url.to_string();
            std::thread::Builder::new()
                .name(format!("shaozi-pg-read-{n}"))
                .spawn(move || {
                    let mut client: Option<Client> = connect(&url).ok();
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        if client.as_ref().is_some_and(Client::is_closed) {
                            client = None;
                        }
                        job(&mut client);
                    }
                })
                .map_err(|e| StoreError::Unavailable {
                    why: format!("cannot start a reading thread: {e}"),
                })?;
        }
        Ok(PgReads {
            jobs: Mutex::new(tx),
            url: url.to_string(),
        })
    }

    /// Runs `f` on a reading connection and waits for its answer. A connection found broken
    /// (the database restarted, a failover) is replaced and `f` tried once more on the new
    /// one: reads change nothing, so trying again is safe.
    pub(super) fn run<T: Send + 'static>(
        &self,
        f: impl Fn(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let url = self.url.clone();
        let job: Job = Box::new(move |c: &mut Option<Client>| {
            let mut r = Err(StoreError::Unavailable {
                why: "the database cannot be reached".into(),
            });
            for attempt in 0..2 {
                if attempt > 0 || c.is_none() {
                    *c = connect(&url).ok();
                }
                r = match c.as_mut() {
                    Some(client) => f(client),
                    None => continue,
                };
                if !matches!(r, Err(StoreError::Unavailable { .. })) {
                    break;
                }
                *c = None;
            }
            let _ = tx.send(r);
        });
        let gone = || StoreError::Unavailable {
            why: "the database readers stopped".into(),
        };
        self.jobs
            .lock()
            .map_err(|_| gone())?
            .send(job)
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }

    pub(super) fn jsons<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        sql: String,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
    ) -> Result<Vec<T>, StoreError> {
        self.run(move |c| {
            let p: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = c.query(&sql, &p).map_err(db_error)?;
            rows.iter()
                .map(|r| {
                    let json: String = col(r, 0)?;
                    decode(json.as_bytes(), || "a stored record".into())
                })
                .collect()
        })
    }

    fn count(
        &self,
        sql: String,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
    ) -> Result<i64, StoreError> {
        self.run(move |c| {
            let p: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let row = c.query_one(&sql, &p).map_err(db_error)?;
            col(&row, 0)
        })
    }

    fn timeline(&self, letter: &'static str, id: u64) -> Result<Vec<TimelineEntry>, StoreError> {
        let events: Vec<TimelineEvent> = self.jsons(
            "SELECT json FROM events WHERE record_kind = $1 AND record_id = $2 ORDER BY seq".into(),
            vec![Box::new(letter), Box::new(id_of(id))],
        )?;
        Ok(events.into_iter().map(TimelineEvent::entry).collect())
    }

    fn directory<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        letter: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        self.jsons(
            "SELECT json FROM directory WHERE kind = $1 ORDER BY id".into(),
            vec![Box::new(letter)],
        )
    }
}

fn id_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Builds a WHERE clause with numbered parameters.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Filter {
    fn add(&mut self, clause: &str, p: impl ToSql + Sync + Send + 'static) {
        self.params.push(Box::new(p));
        self.clauses
            .push(clause.replace('?', &format!("${}", self.params.len())));
    }
    fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".into()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

fn status_list(codes: impl Iterator<Item = u8>) -> String {
    codes.map(|c| c.to_string()).collect::<Vec<_>>().join(",")
}

/// Every counter and the directory at one moment, for the stats.
struct Snapshot {
    last_seq: u64,
    counters: BTreeMap<String, i64>,
    communities: Vec<Community>,
    departments: Vec<Department>,
}

impl Counted for Snapshot {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.last_seq)
    }
    fn counter(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self.counters.get(name).copied().unwrap_or(0))
    }
    fn counters_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self
            .counters
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k[prefix.len()..].to_string(), *v))
            .collect())
    }
    fn departments(&self) -> Result<Vec<Department>, StoreError> {
        Ok(self.departments.clone())
    }
    fn communities(&self) -> Result<Vec<Community>, StoreError> {
        Ok(self.communities.clone())
    }
}

impl Counted for PgReads {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self
            .count("SELECT seq FROM log_head WHERE one = 1".into(), vec![])?
            .max(0) as u64)
    }
    fn counter(&self, name: &str) -> Result<i64, StoreError> {
        let name = name.to_string();
        self.run(move |c| {
            let row = c
                .query_opt("SELECT value FROM counters WHERE name = $1", &[&name])
                .map_err(db_error)?;
            row.map_or(Ok(0), |r| col(&r, 0))
        })
    }
    fn counters_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let prefix = prefix.to_string();
        self.run(move |c| {
            // LIKE matches character by character whatever the database's collation (a
            // range would not); counter names hold no LIKE wildcards, but escape anyway.
            let pattern = format!(
                "{}%",
                prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let rows = c
                .query(
                    "SELECT name, value FROM counters WHERE name LIKE $1",
                    &[&pattern],
                )
                .map_err(db_error)?;
            let mut out = rows
                .iter()
                .map(|r| {
                    let name: String = col(r, 0)?;
                    Ok((name[prefix.len().min(name.len())..].to_string(), col(r, 1)?))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.sort();
            Ok(out)
        })
    }
    fn departments(&self) -> Result<Vec<Department>, StoreError> {
        self.directory("D")
    }
    fn communities(&self) -> Result<Vec<Community>, StoreError> {
        self.directory("C")
    }
}

impl Reads for PgReads {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Counted::last_seq(self)
    }
    fn whistle(&self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        Ok(self
            .jsons(
                "SELECT json FROM whistles WHERE id = $1".into(),
                vec![Box::new(id_of(id.0))],
            )?
            .pop())
    }
    fn whistles(&self, ids: &[WhistleId]) -> Result<Vec<Whistle>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = ids.iter().map(|i| id_of(i.0)).collect();
        let found: Vec<Whistle> = self.jsons(
            "SELECT json FROM whistles WHERE id = ANY($1)".into(),
            vec![Box::new(wanted)],
        )?;
        // Back in the order asked (the index's order).
        let mut by_id: std::collections::HashMap<WhistleId, Whistle> =
            found.into_iter().map(|w| (w.id, w)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }
    fn whistles_with_timelines(
        &self,
        ids: &[WhistleId],
    ) -> Result<Vec<(Whistle, Vec<TimelineEntry>)>, StoreError> {
        let cases = self.whistles(ids)?;
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = cases.iter().map(|w| id_of(w.id.0)).collect();
        let events: Vec<TimelineEvent> = self.jsons(
            "SELECT json FROM events WHERE record_kind = 'W' AND record_id = ANY($1) ORDER BY seq"
                .into(),
            vec![Box::new(wanted)],
        )?;
        let mut by_case: std::collections::HashMap<String, Vec<TimelineEntry>> =
            std::collections::HashMap::new();
        for e in events {
            by_case
                .entry(e.subject.clone())
                .or_default()
                .push(e.entry());
        }
        Ok(cases
            .into_iter()
            .map(|w| {
                let timeline = by_case.remove(&w.id.to_string()).unwrap_or_default();
                (w, timeline)
            })
            .collect())
    }
    fn whistle_timeline(&self, id: WhistleId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.timeline("W", id.0)
    }
    fn wish(&self, id: WishId) -> Result<Option<Wish>, StoreError> {
        Ok(self
            .jsons(
                "SELECT json FROM wishes WHERE id = $1".into(),
                vec![Box::new(id_of(id.0))],
            )?
            .pop())
    }
    fn wish_timeline(&self, id: WishId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.timeline("M", id.0)
    }
    fn streets(&self) -> Result<Vec<Street>, StoreError> {
        self.directory("S")
    }
    fn communities(&self) -> Result<Vec<Community>, StoreError> {
        self.directory("C")
    }
    fn community(&self, id: CommunityId) -> Result<Option<Community>, StoreError> {
        Ok(self
            .jsons(
                "SELECT json FROM directory WHERE kind = 'C' AND id = $1".into(),
                vec![Box::new(id_of(id.0))],
            )?
            .pop())
    }
    fn departments(&self) -> Result<Vec<Department>, StoreError> {
        self.directory("D")
    }
    fn templates(&self) -> Result<Vec<shaozi_shared::api::ReplyTemplate>, StoreError> {
        self.directory("R")
    }

    fn list_whistles(
        &self,
        q: &WhistleQuery,
    ) -> Result<(Vec<Whistle>, Option<String>), QueryError> {
        let unanswered_only =
            !q.statuses.is_empty() && q.statuses.iter().all(|s| s.is_unanswered());
        if unanswered_only {
            return self.list_queue(q);
        }
        let mut f = whistle_filter(q, false);
        if let Some(b) = id_cursor(q.cursor.as_deref())? {
            f.add("id < ?", id_of(b));
        }
        let statuses: Vec<u8> = if q.statuses.is_empty() {
            WhistleStatus::ALL.iter().map(|s| s.code()).collect()
        } else {
            q.statuses.iter().map(|s| s.code()).collect()
        };
        let (items, more) = self.page_desc::<Whistle>("whistles", &statuses, f, q.limit)?;
        let next = items
            .last()
            .filter(|_| more)
            .map(|w| format!("i{}", w.id.0));
        Ok((items, next))
    }

    fn list_wishes(&self, q: &WishQuery) -> Result<(Vec<Wish>, Option<String>), QueryError> {
        let mut f = Filter::default();
        if let Some(c) = q.community_id {
            f.add("community_id = ?", id_of(c.0));
        }
        if let Some(b) = id_cursor(q.cursor.as_deref())? {
            f.add("id < ?", id_of(b));
        }
        let statuses: Vec<u8> = if q.statuses.is_empty() {
            WishStatus::ALL.iter().map(|s| s.code()).collect()
        } else {
            q.statuses.iter().map(|s: &WishStatus| s.code()).collect()
        };
        let (items, more) = self.page_desc::<Wish>("wishes", &statuses, f, q.limit)?;
        let next = items
            .last()
            .filter(|_| more)
            .map(|w| format!("i{}", w.id.0));
        Ok((items, next))
    }

    /// From one snapshot of every counter and of the directory, read in one transaction: a
    /// round trip per counter would cost more than the whole answer.
    fn stats_for(&self, who: &Principal) -> Result<Stats, StoreError> {
        // The streets' views of the departments grow with streets × departments: only the
        // caller's own street's is read.
        let street_view = match who.scope {
            shaozi_shared::Scope::Street(st) => counts::counter::street_departments(st.0),
            _ => String::new(),
        };
        let snap = self.run(move |c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db_error)?;
            let head: i64 = col(
                &tx.query_one("SELECT seq FROM log_head WHERE one = 1", &[])
                    .map_err(db_error)?,
                0,
            )?;
            let mut counters = BTreeMap::new();
            for r in tx
                .query(
                    "SELECT name, value FROM counters \
                     WHERE name NOT LIKE 'sdept/%' OR ($1 <> '' AND starts_with(name, $1))",
                    &[&street_view],
                )
                .map_err(db_error)?
            {
                counters.insert(col::<String>(&r, 0)?, col::<i64>(&r, 1)?);
            }
            let mut directory = Vec::new();
            for r in tx
                .query(
                    "SELECT kind, json FROM directory WHERE kind IN ('C', 'D') ORDER BY kind, id",
                    &[],
                )
                .map_err(db_error)?
            {
                directory.push((col::<String>(&r, 0)?, col::<String>(&r, 1)?));
            }
            tx.commit().map_err(db_error)?;
            let mut snap = Snapshot {
                last_seq: head.max(0) as u64,
                counters,
                communities: Vec::new(),
                departments: Vec::new(),
            };
            for (kind, json) in directory {
                match kind.as_str() {
                    "C" => snap
                        .communities
                        .push(decode(json.as_bytes(), || "a community".into())?),
                    _ => snap
                        .departments
                        .push(decode(json.as_bytes(), || "a department".into())?),
                }
            }
            Ok(snap)
        })?;
        Counted::stats_for(&snap, who)
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let (after, limit) = (id_of(after), limit_of(limit));
        self.run(move |c| {
            let rows = c
                .query(
                    "SELECT seq, json FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &limit],
                )
                .map_err(db_error)?;
            rows.iter()
                .map(|r| Ok((col::<i64>(r, 0)?.max(0) as u64, col(r, 1)?)))
                .collect()
        })
    }

    fn token_list(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut out: Vec<TokenInfo> = self.jsons("SELECT json FROM tokens".into(), vec![])?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn audit(
        &self,
        actor: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), StoreError> {
        let mut f = Filter::default();
        f.add("seq > ?", id_of(after));
        if let Some(a) = actor {
            f.add("actor = ?", a.to_string());
        }
        if let Some(t) = from {
            f.add("at >= ?", t);
        }
        if let Some(t) = to {
            f.add("at <= ?", t);
        }
        let take = limit_of(limit.min(MAX_SCAN as usize)).saturating_add(1);
        let sql = format!(
            "SELECT seq, json FROM events WHERE {} ORDER BY seq LIMIT {take}",
            f.sql()
        );
        let rows: Vec<(u64, String)> = self.run(move |c| {
            let p: Vec<&(dyn ToSql + Sync)> = f
                .params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = c.query(&sql, &p).map_err(db_error)?;
            rows.iter()
                .map(|r| Ok((col::<i64>(r, 0)?.max(0) as u64, col(r, 1)?)))
                .collect()
        })?;
        let more = rows.len() > limit;
        let mut out = Vec::new();
        let mut last = None;
        for (seq, json) in rows.into_iter().take(limit) {
            last = Some(seq);
            out.push(decode(json.as_bytes(), || format!("event {seq}"))?);
        }
        Ok((out, if more { last } else { None }))
    }

    fn filed_page(&self, q: &FiledPage) -> Result<Vec<Whistle>, StoreError> {
        let mut f = Filter::default();
        f.add("created_at >= ?", q.from);
        f.add("created_at < ?", q.to);
        if !q.statuses.is_empty() {
            f.raw(format!(
                "status IN ({})",
                status_list(q.statuses.iter().map(|s| s.code()))
            ));
        }
        if let Some(c) = &q.category {
            f.add("category = ?", c.clone());
        }
        let sql = format!(
            "SELECT json FROM whistles WHERE {} ORDER BY id DESC OFFSET {} LIMIT {}",
            f.sql(),
            limit_of(q.skip),
            limit_of(q.take)
        );
        self.jsons(sql, f.params)
    }

    fn whistle_log_page(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let sql = format!(
            "SELECT json FROM events WHERE about_whistle AND at >= $1 AND at < $2 \
             ORDER BY seq OFFSET {} LIMIT {}",
            limit_of(skip),
            limit_of(take)
        );
        self.jsons(sql, vec![Box::new(from), Box::new(to)])
    }

    fn daily(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> Result<Vec<Day>, StoreError> {
        let days = crate::storage::query::local_days(from, to, offset);
        let mut out = Vec::with_capacity(days.len());
        for (date, a, b) in days {
            let filed = self.count(
                "SELECT count(*) FROM whistles WHERE created_at >= $1 AND created_at < $2".into(),
                vec![Box::new(a), Box::new(b)],
            )?;
            let closed = self.count(
                "SELECT count(*) FROM whistles WHERE closed_at >= $1 AND closed_at < $2".into(),
                vec![Box::new(a), Box::new(b)],
            )?;
            out.push(Day {
                date,
                filed,
                closed,
            });
        }
        Ok(out)
    }

    fn assessment(
        &self,
        group: Group,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        weights: &Weights,
    ) -> Result<Vec<UnitScore>, StoreError> {
        let units = group.units(self)?;
        // The cases dispatched in the period, as the sled engine's measures are dated.
        let cases: Vec<Whistle> = self.jsons(
            "SELECT json FROM whistles WHERE dispatched_at >= $1 AND dispatched_at < $2 \
             AND department_id IS NOT NULL"
                .into(),
            vec![Box::new(from), Box::new(to)],
        )?;
        let mut by_unit: HashMap<u64, Vec<CaseMeasures>> = HashMap::new();
        for w in &cases {
            for (u, m) in group.case_parts(w) {
                by_unit.entry(u).or_default().push(m);
            }
        }
        // Wishes: a department from when it claimed, a community and street from filing.
        let wish_sql = match group {
            Group::Department => {
                "SELECT json FROM wishes WHERE claimed_at >= $1 AND claimed_at < $2 \
                 AND department_id IS NOT NULL"
            }
            _ => "SELECT json FROM wishes WHERE created_at >= $1 AND created_at < $2",
        };
        let wishes: Vec<Wish> = self.jsons(wish_sql.into(), vec![Box::new(from), Box::new(to)])?;
        let mut wish_by_unit: HashMap<u64, Vec<WishMeasure>> = HashMap::new();
        for w in &wishes {
            let unit = match group {
                Group::Department => w.department_id.map(|d| d.0),
                Group::Street => Some(w.street_id.0),
                Group::Community => Some(w.community_id.0),
            };
            if let (Some(m), Some(u)) = (counts::wish_measure(w), unit) {
                wish_by_unit.entry(u).or_default().push(m);
            }
        }
        let unit_col = match group {
            Group::Department => "department_id",
            Group::Street => "street_id",
            Group::Community => "community_id",
        };
        let activity_counts: Vec<(i64, i64)> = self.run(move |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {unit_col}, count(*) FROM activities \
                         WHERE day >= $1 AND day < $2 GROUP BY {unit_col}"
                    ),
                    &[&from, &to],
                )
                .map_err(db_error)?;
            rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
        })?;
        let activities: HashMap<u64, i64> = activity_counts
            .into_iter()
            .map(|(u, n)| (u.max(0) as u64, n))
            .collect();
        let mut out = Vec::with_capacity(units.len());
        for (uid, id, name) in units {
            let mut u = measure(
                group.kind(),
                &id,
                &name,
                by_unit.get(&uid).map_or(&[][..], |v| v),
            );
            for w in wish_by_unit.get(&uid).map_or(&[][..], |v| v) {
                u.wishes_claimed += i64::from(w.claimed);
                u.wishes_completed += i64::from(w.completed);
                u.wishes_value_fen += w.value_fen;
            }
            u.activities = activities.get(&uid).copied().unwrap_or(0);
            u.overdue_now = self.counter(&group.overdue_counter(uid))?;
            out.push(u);
        }
        rank(&mut out, weights);
        Ok(out)
    }
    fn status_totals(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Counted::counters_under(self, counts::counter::STATUS)
    }
    fn size_bytes(&self) -> Result<u64, StoreError> {
        Ok(self
            .count("SELECT pg_database_size(current_database())".into(), vec![])?
            .max(0) as u64)
    }
}

impl PgReads {
    /// The unanswered queue in queue order, with the sled engine's cursors (the queue's
    /// prefix and the whistle's queue key, in hex).
    fn list_queue(&self, q: &WhistleQuery) -> Result<(Vec<Whistle>, Option<String>), QueryError> {
        let prefix = queue::queue_prefix(q.department_id, q.community_id, q.street_id);
        let mut f = whistle_filter(q, true);
        f.raw("queue_key IS NOT NULL".into());
        if let Some(c) = &q.cursor {
            let tail = c
                .strip_prefix('q')
                .and_then(unhex)
                .filter(|k| k.len() == prefix.len() + queue::QUEUE_TAIL && k.starts_with(&prefix))
                .map(|k| k[prefix.len()..].to_vec())
                .ok_or_else(|| BadCursor(c.clone()))?;
            f.add("queue_key > ?", tail);
        }
        let take = limit_of(q.limit).saturating_add(1);
        let sql = format!(
            "SELECT json FROM whistles WHERE {} ORDER BY queue_key LIMIT {take}",
            f.sql()
        );
        let mut items: Vec<Whistle> = self.jsons(sql, f.params)?;
        let next = (items.len() > q.limit).then(|| {
            items.truncate(q.limit);
            items
                .last()
                .map(|w| format!("q{}{}", hex(&prefix), hex(&queue::queue_tail(w))))
        });
        Ok((items, next.flatten()))
    }

    /// A page of at most `limit` rows, newest first, and whether more follow.
    /// One newest-first walk per status, merged: each walks its (unit, status, id) index
    /// backwards and stops at the page's size, so a page costs the same at any history size
    /// (`status IN (…)` would read and sort every row of the unit).
    fn page_desc<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        table: &str,
        statuses: &[u8],
        f: Filter,
        limit: usize,
    ) -> Result<(Vec<T>, bool), StoreError> {
        let take = limit_of(limit).saturating_add(1);
        let rest = f.sql();
        let walks: Vec<String> = statuses
            .iter()
            .map(|st| {
                format!(
                    "(SELECT id, json FROM {table} WHERE status = {st} AND {rest} \
                     ORDER BY id DESC LIMIT {take})"
                )
            })
            .collect();
        let sql = format!(
            "SELECT json FROM ({}) AS page ORDER BY id DESC LIMIT {take}",
            walks.join(" UNION ALL ")
        );
        let mut items: Vec<T> = self.jsons(sql, f.params)?;
        let more = items.len() > limit;
        items.truncate(limit);
        Ok((items, more))
    }
}

/// Every filter of a whistle list, as SQL.
fn whistle_filter(q: &WhistleQuery, with_statuses: bool) -> Filter {
    let mut f = Filter::default();
    if with_statuses && !q.statuses.is_empty() {
        f.raw(format!(
            "status IN ({})",
            status_list(q.statuses.iter().map(|s| s.code()))
        ));
    }
    if let Some(d) = q.department_id {
        f.add("department_id = ?", id_of(d.0));
    }
    // A department's own list: the cases it leads or assists on. Both are the engine's own
    // numbers and id text, never what a client typed.
    if let (None, Some(d)) = (q.department_id, q.involving) {
        f.raw(format!(
            "(department_id = {} OR (json::jsonb -> 'assisting') @> '[\"{d}\"]'::jsonb)",
            id_of(d.0)
        ));
    }
    if let Some(c) = q.community_id {
        f.add("community_id = ?", id_of(c.0));
    }
    if let Some(s) = q.street_id {
        f.add("street_id = ?", id_of(s.0));
    }
    if let Some(o) = q.overdue {
        f.add("overdue = ?", o);
    }
    if let Some(u) = q.urgency {
        f.add("urgent = ?", u == shaozi_shared::Urgency::Urgent);
    }
    if let Some(c) = &q.category {
        f.add("category = ?", c.clone());
    }
    if let Some(s) = q.source {
        // A literal from the enum, so the planner can use the index of non-community sources.
        f.raw(format!("source = '{}'", s.as_str()));
    }
    if let Some(p) = q.pending {
        // The record's JSON holds the field only while the request waits.
        f.raw(format!("(json::jsonb -> '{}') IS NOT NULL", p.field()));
    }
    if let Some((from, to)) = q.due_between {
        f.add("deadline_at >= ?", from);
        f.add("deadline_at <= ?", to);
    }
    f
}

impl crate::storage::Export for PgReads {
    fn kept_answers(&self) -> Result<Vec<(Vec<u8>, crate::storage::KeptAnswer)>, StoreError> {
        self.run(|c| {
            let rows = c
                .query(
                    "SELECT key, body, answer FROM idempotency ORDER BY key",
                    &[],
                )
                .map_err(db_error)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        col(r, 0)?,
                        crate::storage::KeptAnswer {
                            body: col(r, 1)?,
                            answer: col(r, 2)?,
                        },
                    ))
                })
                .collect()
        })
    }
}

impl crate::storage::TokenKeeper for PgReads {
    fn tokens_by_hash(&self) -> Result<HashMap<[u8; 32], TokenInfo>, StoreError> {
        self.run(|c| {
            let rows = c
                .query("SELECT hash, json FROM tokens", &[])
                .map_err(db_error)?;
            let mut out = HashMap::new();
            for r in rows {
                let h: Vec<u8> = col(&r, 0)?;
                let json: String = col(&r, 1)?;
                if let Ok(h) = <[u8; 32]>::try_from(h.as_slice()) {
                    out.insert(h, decode(json.as_bytes(), || "a token".into())?);
                }
            }
            Ok(out)
        })
    }

    /// Under the log head's lock, like any write, so servers starting together with the
    /// same admin token leave exactly one.
    fn set_admin_token(
        &self,
        old: Option<[u8; 32]>,
        new: [u8; 32],
        info: &TokenInfo,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(info).map_err(|e| StoreError::Corrupt {
            what: "admin token".into(),
            why: e.to_string(),
        })?;
        let name = info.name.clone();
        self.run(move |c| {
            let mut tx = c.transaction().map_err(db_error)?;
            tx.execute("SELECT seq FROM log_head WHERE one = 1 FOR UPDATE", &[])
                .map_err(db_error)?;
            for h in old.iter().chain(std::iter::once(&new)) {
                tx.execute("DELETE FROM tokens WHERE hash = $1", &[&h.to_vec()])
                    .map_err(db_error)?;
            }
            tx.execute(
                "INSERT INTO tokens (hash, json) VALUES ($1, $2)",
                &[&new.to_vec(), &json],
            )
            .map_err(db_error)?;
            tx.execute("DELETE FROM names WHERE kind = 'T' AND name = $1", &[&name])
                .map_err(db_error)?;
            tx.execute(
                "INSERT INTO names (kind, name, holder_hash) VALUES ('T', $1, $2)",
                &[&name, &new.to_vec()],
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)
        })
    }
}
