//! The one writer: owns every change to the store.
//!
//! Requests queue on a channel; the writer thread takes all that are waiting (up to
//! [`MAX_BATCH`]), applies them in one sled transaction (records, indexes, counters and events
//! together), calls the blocking `flush()` once (group commit), and only then answers each
//! request and publishes the events. A failed flush stops all writes: nothing unflushed is ever
//! acknowledged.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use tokio::sync::{broadcast, mpsc, oneshot};

use shaozi_shared::api::{
    Community, Department, NewCommunity, NewDepartment, NewStreet, NewWhistle, NewWish, Street,
};
use shaozi_shared::text::{optional, required, MAX_NAME, MAX_TEXT, MAX_TITLE};
use shaozi_shared::whistle::{self, Filing};
use shaozi_shared::wish::{self, check_value};
use shaozi_shared::{
    Actor, Category, CommunityId, Deadlines, EventKind, RuleError, Whistle, WhistleAction,
    WhistleId, Wish, WishAction, WishId, WishStatus,
};

use crate::clock::Clock;
use crate::store::keys::{self, be, dir, key};
use crate::store::{decode, decode_i64, Store, StoreError};

/// Most requests committed in one transaction and one flush.
pub const MAX_BATCH: usize = 512;
/// Requests that may wait for the writer before senders have to wait too.
const QUEUE_DEPTH: usize = 8192;
/// Deadlines handled per sweep; the next sweep takes the rest.
const SWEEP_LIMIT: usize = 2000;

/// A change someone asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Add a street office.
    CreateStreet(NewStreet),
    /// Add a community.
    CreateCommunity(NewCommunity),
    /// Add a department.
    CreateDepartment(NewDepartment),
    /// Blow the whistle.
    FileWhistle(NewWhistle),
    /// A step on a whistle.
    Whistle(WhistleId, WhistleAction),
    /// File a micro-wish.
    FileWish(NewWish),
    /// A step on a wish.
    Wish(WishId, WishAction),
    /// Mark overdue every whistle whose current deadline has passed.
    SweepDeadlines,
}

/// What a committed command produced.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A new street.
    Street(Street),
    /// A new community.
    Community(Community),
    /// A new department.
    Department(Department),
    /// The whistle after the change.
    Whistle(Box<Whistle>),
    /// The wish after the change.
    Wish(Box<Wish>),
    /// How many whistles went overdue.
    Swept(usize),
}

/// Why a command was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The rules refused it (bad field, or a step the status does not allow).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The record it acts on does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Another record with the same name exists.
    #[error("{0}")]
    Duplicate(String),
    /// The store cannot take writes (shutting down, or a storage failure).
    #[error("{0}")]
    Unavailable(String),
}

/// A committed event, serialized once for every subscriber.
#[derive(Debug)]
pub struct Published {
    /// Its sequence number.
    pub seq: u64,
    /// The event as JSON.
    pub json: String,
}

struct Job {
    cmd: Command,
    actor: Actor,
    at: Option<DateTime<Utc>>,
    reply: oneshot::Sender<Result<Reply, WriteError>>,
}

enum Msg {
    Job(Box<Job>),
    Stop,
}

/// A cheap handle for submitting commands to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    events: broadcast::Sender<Arc<Published>>,
    stopping: Arc<AtomicBool>,
    durable: Arc<AtomicU64>,
}

/// The running writer thread.
pub struct Writer {
    handle: WriterHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over `store`.
    pub fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        categories: Arc<Vec<Category>>,
    ) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        // Subscribers that fall this far behind are cut off and resume from the log.
        let (events, _) = broadcast::channel(4096);
        let last = store.last_seq()?;
        let durable = Arc::new(AtomicU64::new(last));
        let state = WriterThread {
            durable: durable.clone(),
            next_seq: last,
            store,
            clock,
            categories,
            events: events.clone(),
            failed: None,
        };
        let thread = std::thread::Builder::new()
            .name("shaozi-writer".into())
            .spawn(move || state.run(rx))
            .map_err(|e| StoreError::Corrupt {
                what: "writer thread".into(),
                why: e.to_string(),
            })?;
        Ok(Writer {
            handle: WriterHandle {
                tx,
                events,
                stopping: Arc::new(AtomicBool::new(false)),
                durable,
            },
            thread: Some(thread),
        })
    }

    /// A handle for submitting commands.
    pub fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// Refuses new commands, lets the writer finish those already queued and flush, and waits.
    pub async fn stop(mut self) {
        self.handle.stopping.store(true, Ordering::SeqCst);
        let _ = self.handle.tx.send(Msg::Stop).await;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl WriterHandle {
    /// Commits `cmd` on behalf of `actor`; returns once it is on disk.
    pub async fn submit(&self, cmd: Command, actor: Actor) -> Result<Reply, WriteError> {
        self.submit_at(cmd, actor, None).await
    }

    /// Like [`WriterHandle::submit`], with the change dated `at` instead of now. Only for
    /// loading history (the demo's backfill); the API never sets it.
    pub async fn submit_at(
        &self,
        cmd: Command,
        actor: Actor,
        at: Option<DateTime<Utc>>,
    ) -> Result<Reply, WriteError> {
        let gone = || WriteError::Unavailable("the server is shutting down; retry shortly".into());
        if self.stopping.load(Ordering::SeqCst) {
            return Err(gone());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Job(Box::new(Job {
                cmd,
                actor,
                at,
                reply,
            })))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The sequence number of the last event known to be on disk.
    pub fn durable_seq(&self) -> u64 {
        self.durable.load(Ordering::SeqCst)
    }

    /// Subscribes to committed events, in sequence order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }
}

struct WriterThread {
    store: Store,
    clock: Arc<dyn Clock>,
    categories: Arc<Vec<Category>>,
    events: broadcast::Sender<Arc<Published>>,
    durable: Arc<AtomicU64>,
    next_seq: u64,
    failed: Option<String>,
}

type TxError = ConflictableTransactionError<StoreError>;

impl WriterThread {
    fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut stop = false;
        while !stop {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut jobs = Vec::new();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Job(j) => jobs.push(*j),
                    Msg::Stop => {
                        stop = true;
                        break;
                    }
                }
                if jobs.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            if !jobs.is_empty() {
                self.commit(jobs);
            }
        }
        rx.close();
        while let Ok(Msg::Job(j)) = rx.try_recv() {
            let _ = j.reply.send(Err(WriteError::Unavailable(
                "the server is shutting down; retry shortly".into(),
            )));
        }
        if let Err(e) = self.store.db.flush() {
            tracing::error!(error = %e, "final flush failed");
        }
        tracing::info!(last_seq = self.next_seq, "writer stopped");
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        if let Some(why) = &self.failed {
            let why = format!("writes are stopped after a storage failure: {why}");
            for j in jobs {
                let _ = j.reply.send(Err(WriteError::Unavailable(why.clone())));
            }
            return;
        }
        let now = self.clock.now();
        // Transactions cannot scan, so the due deadlines are read before; the transaction
        // re-checks each one, and this thread is the only writer.
        let due: Vec<u64> = if jobs
            .iter()
            .any(|j| matches!(j.cmd, Command::SweepDeadlines))
        {
            match self.store.due_timers(keys::time_key(now), SWEEP_LIMIT) {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!(error = %e, "reading due deadlines failed");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let s = &self.store;
        let trees = (
            &s.meta,
            &s.dir,
            &s.whistles,
            &s.wishes,
            &s.events,
            &s.idx,
            &s.counters,
        );
        let result = trees.transaction(|(meta, dir, whistles, wishes, events, idx, counters)| {
            let mut tx = Tx {
                meta,
                dir,
                whistles,
                wishes,
                events,
                idx,
                counters,
                categories: &self.categories,
                seq: self.next_seq,
                published: Vec::new(),
            };
            let mut results = Vec::with_capacity(jobs.len());
            for j in &jobs {
                let at = j.at.unwrap_or(now);
                results.push(tx.run(&j.cmd, &j.actor, at, &due)?);
            }
            Ok((results, tx.seq, tx.published))
        });
        let outcome = result.map_err(|e| e.to_string()).and_then(|r| {
            self.store.db.flush().map_err(|e| e.to_string())?;
            Ok(r)
        });
        match outcome {
            Ok((results, seq, published)) => {
                self.next_seq = seq;
                self.durable.store(seq, Ordering::SeqCst);
                for p in published {
                    // No subscribers is fine; lagging ones are cut off by their own stream.
                    let _ = self.events.send(Arc::new(p));
                }
                for (j, r) in jobs.into_iter().zip(results) {
                    let _ = j.reply.send(r);
                }
            }
            Err(why) => {
                tracing::error!(error = %why, "commit failed; refusing further writes");
                for j in jobs {
                    let _ = j.reply.send(Err(WriteError::Unavailable(format!(
                        "storage failure, nothing was saved: {why}"
                    ))));
                }
                self.failed = Some(why);
            }
        }
    }
}

/// One batch's view of the trees inside the transaction.
struct Tx<'a> {
    meta: &'a TransactionalTree,
    dir: &'a TransactionalTree,
    whistles: &'a TransactionalTree,
    wishes: &'a TransactionalTree,
    events: &'a TransactionalTree,
    idx: &'a TransactionalTree,
    counters: &'a TransactionalTree,
    categories: &'a [Category],
    seq: u64,
    published: Vec<Published>,
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
}

fn corrupt(what: impl Into<String>, e: impl ToString) -> TxError {
    ConflictableTransactionError::Abort(StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    })
}

type CmdResult = Result<Reply, WriteError>;

fn invalid(field: &'static str, reason: impl Into<String>) -> WriteError {
    WriteError::Rule(RuleError::invalid(field, reason))
}

impl Tx<'_> {
    /// Runs one command. The outer error aborts the whole batch (storage); the inner one is
    /// this command's refusal, made before it wrote anything.
    fn run(
        &mut self,
        cmd: &Command,
        actor: &Actor,
        at: DateTime<Utc>,
        due: &[u64],
    ) -> Result<CmdResult, TxError> {
        match cmd {
            Command::CreateStreet(b) => self.create_street(b, actor, at),
            Command::CreateCommunity(b) => self.create_community(b, actor, at),
            Command::CreateDepartment(b) => self.create_department(b, actor, at),
            Command::FileWhistle(b) => self.file_whistle(b, actor, at),
            Command::Whistle(id, a) => self.act_on_whistle(*id, a, actor, at),
            Command::FileWish(b) => self.file_wish(b, actor, at),
            Command::Wish(id, a) => self.act_on_wish(*id, a, actor, at),
            Command::SweepDeadlines => self.sweep(due, at),
        }
    }

    fn next_id(&self, name: &str, first: u64) -> Result<u64, TxError> {
        let id = self
            .meta
            .get(name)?
            .and_then(|v| keys::read_be(&v))
            .unwrap_or(first);
        self.meta.insert(name, &be(id + 1))?;
        Ok(id)
    }

    fn has(&self, kind: u8, id: u64) -> Result<bool, TxError> {
        Ok(self.dir.get(keys::dir_key(kind, id))?.is_some())
    }

    fn deadlines(&self, category: &str) -> Deadlines {
        self.categories
            .iter()
            .find(|c| c.code == category)
            .map(|c| c.deadlines)
            .unwrap_or(Deadlines::DEFAULT)
    }

    /// Claims a unique name in the directory, or says who has it.
    fn claim_name(&self, kind: u8, name: &str, id: u64) -> Result<Result<(), WriteError>, TxError> {
        let k = key(&[&[b'N', kind], name.as_bytes()]);
        if let Some(v) = self.idx.get(&k)? {
            let other = keys::read_be(&v).unwrap_or(0);
            let what = match kind {
                dir::STREET => "street",
                dir::COMMUNITY => "community",
                _ => "department",
            };
            return Ok(Err(WriteError::Duplicate(format!(
                "a {what} named {name} already exists ({}{other})",
                kind as char
            ))));
        }
        self.idx.insert(k, &be(id))?;
        Ok(Ok(()))
    }

    fn put_dir<T: Serialize>(
        &mut self,
        kind: u8,
        id: u64,
        rec: &T,
        ev: EventKind,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let json = serde_json::to_string(rec).map_err(|e| corrupt("directory entry", e))?;
        self.dir.insert(keys::dir_key(kind, id), json.as_bytes())?;
        let subject = format!("{}{id}", kind as char);
        self.emit(ev, &subject, None, &json, actor, at, None)
    }

    fn create_street(
        &mut self,
        b: &NewStreet,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let name = match required("name", &b.name, MAX_NAME) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into())),
        };
        let id = self.peek_id("next/street")?;
        if let Err(e) = self.claim_name(dir::STREET, &name, id)? {
            return Ok(Err(e));
        }
        self.next_id("next/street", 1)?;
        let rec = Street {
            id: shaozi_shared::StreetId(id),
            name,
            created_at: at,
        };
        self.put_dir(dir::STREET, id, &rec, EventKind::StreetCreated, actor, at)?;
        Ok(Ok(Reply::Street(rec)))
    }

    fn peek_id(&self, name: &str) -> Result<u64, TxError> {
        Ok(self
            .meta
            .get(name)?
            .and_then(|v| keys::read_be(&v))
            .unwrap_or(1))
    }

    fn create_community(
        &mut self,
        b: &NewCommunity,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let name = match required("name", &b.name, MAX_NAME) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into())),
        };
        if !self.has(dir::STREET, b.street_id.0)? {
            return Ok(Err(invalid(
                "street_id",
                format!("there is no street {}", b.street_id),
            )));
        }
        let id = self.peek_id("next/community")?;
        if let Err(e) = self.claim_name(dir::COMMUNITY, &name, id)? {
            return Ok(Err(e));
        }
        self.next_id("next/community", 1)?;
        let rec = Community {
            id: CommunityId(id),
            name,
            street_id: b.street_id,
            created_at: at,
        };
        self.put_dir(
            dir::COMMUNITY,
            id,
            &rec,
            EventKind::CommunityCreated,
            actor,
            at,
        )?;
        Ok(Ok(Reply::Community(rec)))
    }

    fn create_department(
        &mut self,
        b: &NewDepartment,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let name = match required("name", &b.name, MAX_NAME) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into())),
        };
        if b.categories.is_empty() {
            return Ok(Err(invalid(
                "categories",
                "name at least one category code it handles",
            )));
        }
        let mut cats: Vec<String> = Vec::new();
        for c in &b.categories {
            if !self.categories.iter().any(|k| &k.code == c) {
                return Ok(Err(invalid(
                    "categories",
                    format!("unknown category {c:?}; see GET /api/v1/categories"),
                )));
            }
            if !cats.contains(c) {
                cats.push(c.clone());
            }
        }
        let id = self.peek_id("next/department")?;
        if let Err(e) = self.claim_name(dir::DEPARTMENT, &name, id)? {
            return Ok(Err(e));
        }
        self.next_id("next/department", 1)?;
        let rec = Department {
            id: shaozi_shared::DepartmentId(id),
            name,
            categories: cats,
            created_at: at,
        };
        self.put_dir(
            dir::DEPARTMENT,
            id,
            &rec,
            EventKind::DepartmentCreated,
            actor,
            at,
        )?;
        Ok(Ok(Reply::Department(rec)))
    }

    fn file_whistle(
        &mut self,
        b: &NewWhistle,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let filing = match self.check_filing(b)? {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let id = WhistleId(self.next_id("next/whistle", 1001)?);
        let deadlines = self.deadlines(&filing.category);
        let w = Whistle::file(id, filing, &actor.name, at, &deadlines);
        self.write_whistle(None, &w, &[(EventKind::WhistleCreated, None)], actor, at)?;
        Ok(Ok(Reply::Whistle(Box::new(w))))
    }

    fn check_filing(&self, b: &NewWhistle) -> Result<Result<Filing, WriteError>, TxError> {
        let Some(v) = self
            .dir
            .get(keys::dir_key(dir::COMMUNITY, b.community_id.0))?
        else {
            return Ok(Err(invalid(
                "community_id",
                format!("there is no community {}", b.community_id),
            )));
        };
        let community: Community =
            decode(&v, || b.community_id.to_string()).map_err(TxError::Abort)?;
        if !self.categories.iter().any(|c| c.code == b.category) {
            return Ok(Err(invalid(
                "category",
                format!(
                    "unknown category {:?}; see GET /api/v1/categories",
                    b.category
                ),
            )));
        }
        let text = (|| {
            let title = required("title", &b.title, MAX_TITLE)?;
            let description = required("description", &b.description, MAX_TEXT)?;
            let address = optional("address", b.address.as_deref(), MAX_TITLE)?;
            match (b.lat, b.long) {
                (None, None) => {}
                (Some(lat), Some(long)) => {
                    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                        return Err(RuleError::invalid(
                            "lat",
                            format!("must be from -90 to 90; got {lat}"),
                        ));
                    }
                    if !(long.is_finite() && (-180.0..=180.0).contains(&long)) {
                        return Err(RuleError::invalid(
                            "long",
                            format!("must be from -180 to 180; got {long}"),
                        ));
                    }
                }
                (Some(_), None) => {
                    return Err(RuleError::invalid("long", "give long together with lat"))
                }
                (None, Some(_)) => {
                    return Err(RuleError::invalid("lat", "give lat together with long"))
                }
            }
            Ok((title, description, address))
        })();
        let (title, description, address) = match text {
            Ok(t) => t,
            Err(e) => return Ok(Err(e.into())),
        };
        Ok(Ok(Filing {
            community_id: b.community_id,
            street_id: community.street_id,
            category: b.category.clone(),
            title,
            description,
            urgency: b.urgency,
            address,
            lat: b.lat,
            long: b.long,
        }))
    }

    fn load_whistle(&self, id: WhistleId) -> Result<Option<Whistle>, TxError> {
        match self.whistles.get(be(id.0))? {
            None => Ok(None),
            Some(v) => decode(&v, || id.to_string())
                .map(Some)
                .map_err(TxError::Abort),
        }
    }

    fn act_on_whistle(
        &mut self,
        id: WhistleId,
        action: &WhistleAction,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let Some(w) = self.load_whistle(id)? else {
            return Ok(Err(WriteError::NotFound(format!(
                "there is no whistle {id}"
            ))));
        };
        // References are checked here, where the directory is; the rules check the rest.
        match action {
            WhistleAction::Dispatch {
                department_id,
                assisting,
                ..
            } => {
                for (field, d) in std::iter::once(("department_id", department_id))
                    .chain(assisting.iter().map(|d| ("assisting", d)))
                {
                    if !self.has(dir::DEPARTMENT, d.0)? {
                        return Ok(Err(invalid(field, format!("there is no department {d}"))));
                    }
                }
            }
            WhistleAction::Reject {
                duplicate_of: Some(orig),
                ..
            } if *orig != id && self.load_whistle(*orig)?.is_none() => {
                return Ok(Err(invalid(
                    "duplicate_of",
                    format!("there is no whistle {orig} to be a duplicate of"),
                )));
            }
            _ => {}
        }
        let out = match whistle::apply(&w, action, at, &self.deadlines(&w.category)) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.into())),
        };
        self.write_whistle(Some(&w), &out.record, &out.events, actor, at)?;
        if let WhistleAction::Reject {
            duplicate_of: Some(orig),
            ..
        } = action
        {
            if let Some(o) = self.load_whistle(*orig)? {
                let link = WhistleAction::LinkDuplicate { duplicate: id };
                if let Ok(lo) = whistle::apply(&o, &link, at, &self.deadlines(&o.category)) {
                    self.write_whistle(Some(&o), &lo.record, &lo.events, actor, at)?;
                }
            }
        }
        Ok(Ok(Reply::Whistle(Box::new(out.record))))
    }

    fn sweep(&mut self, due: &[u64], at: DateTime<Utc>) -> Result<CmdResult, TxError> {
        let mut n = 0;
        let system = Actor::system();
        for &id in due {
            let Some(w) = self.load_whistle(WhistleId(id))? else {
                continue;
            };
            if w.pending_deadline().is_none_or(|d| d > at) {
                continue;
            }
            if let Ok(out) = whistle::apply(
                &w,
                &WhistleAction::DeadlinePassed,
                at,
                &self.deadlines(&w.category),
            ) {
                self.write_whistle(Some(&w), &out.record, &out.events, &system, at)?;
                n += 1;
            }
        }
        Ok(Ok(Reply::Swept(n)))
    }

    /// Writes a record into `tree` with its index entries, counters and events.
    fn write<R: keys::Record>(
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
        tree.insert(&be(new.number()), json.as_bytes())?;
        let old_idx = old.map(R::index).unwrap_or_default();
        let old_counts = old.map(R::counts).unwrap_or_default();
        self.reindex(&old_idx, &new.index())?;
        self.count(&keys::count_diff(&old_counts, &new.counts()))?;
        for (kind, note) in events {
            let timeline = Some((R::TIMELINE, new.number()));
            self.emit(*kind, &subject, note.as_deref(), &json, actor, at, timeline)?;
        }
        Ok(())
    }

    fn write_whistle(
        &mut self,
        old: Option<&Whistle>,
        new: &Whistle,
        events: &[(EventKind, Option<String>)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let tree = self.whistles;
        self.write(tree, old, new, events, actor, at)
    }

    fn file_wish(
        &mut self,
        b: &NewWish,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let Some(v) = self
            .dir
            .get(keys::dir_key(dir::COMMUNITY, b.community_id.0))?
        else {
            return Ok(Err(invalid(
                "community_id",
                format!("there is no community {}", b.community_id),
            )));
        };
        let community: Community =
            decode(&v, || b.community_id.to_string()).map_err(TxError::Abort)?;
        let checked = (|| {
            Ok::<_, RuleError>((
                required("title", &b.title, MAX_TITLE)?,
                optional("description", b.description.as_deref(), MAX_TEXT)?,
                check_value(b.value_fen)?,
            ))
        })();
        let (title, description, value_fen) = match checked {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.into())),
        };
        let id = WishId(self.next_id("next/wish", 1)?);
        let w = Wish {
            id,
            status: WishStatus::Open,
            community_id: b.community_id,
            street_id: community.street_id,
            title,
            description,
            value_fen,
            filed_by: actor.name.clone(),
            department_id: None,
            claimer: None,
            created_at: at,
            updated_at: at,
            claimed_at: None,
            completed_at: None,
            note: None,
            version: 1,
        };
        self.write_wish(None, &w, &[(EventKind::WishCreated, None)], actor, at)?;
        Ok(Ok(Reply::Wish(Box::new(w))))
    }

    fn act_on_wish(
        &mut self,
        id: WishId,
        action: &WishAction,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let w: Wish = match self.wishes.get(be(id.0))? {
            None => return Ok(Err(WriteError::NotFound(format!("there is no wish {id}")))),
            Some(v) => decode(&v, || id.to_string()).map_err(TxError::Abort)?,
        };
        if let WishAction::Claim {
            department_id: Some(d),
            ..
        } = action
        {
            if !self.has(dir::DEPARTMENT, d.0)? {
                return Ok(Err(invalid(
                    "department_id",
                    format!("there is no department {d}"),
                )));
            }
        }
        let out = match wish::apply(&w, action, at) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.into())),
        };
        self.write_wish(Some(&w), &out.record, &out.events, actor, at)?;
        Ok(Ok(Reply::Wish(Box::new(out.record))))
    }

    fn write_wish(
        &mut self,
        old: Option<&Wish>,
        new: &Wish,
        events: &[(EventKind, Option<String>)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let tree = self.wishes;
        self.write(tree, old, new, events, actor, at)
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

    fn count(&self, diff: &[(String, i64)]) -> Result<(), TxError> {
        for (name, delta) in diff {
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

    /// Appends an event to the log (and the record's timeline) under the next sequence number.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        kind: EventKind,
        subject: &str,
        note: Option<&str>,
        record_json: &str,
        actor: &Actor,
        at: DateTime<Utc>,
        timeline: Option<(u8, u64)>,
    ) -> Result<(), TxError> {
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
        };
        let json = serde_json::to_string(&ev).map_err(|e| corrupt(subject, e))?;
        self.events.insert(&be(self.seq), json.as_bytes())?;
        if let Some((fam, id)) = timeline {
            self.idx
                .insert(key(&[&[fam], &be(id), &be(self.seq)]), &[] as &[u8])?;
        }
        self.published.push(Published {
            seq: self.seq,
            json,
        });
        Ok(())
    }
}
