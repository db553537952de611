//! The one writer: owns every change to the store.
//!
//! Requests queue on a channel; the writer thread takes all that are waiting (up to
//! [`MAX_BATCH`]), hands them to the storage engine as one batch (one transaction: records,
//! indexes, counters and events together, made durable once: group commit), and only then
//! answers each request and publishes the events. A failed commit stops all writes: nothing
//! that is not durable is ever acknowledged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot};

use shaozi_shared::{Principal, Rules, WhistleAction, WhistleId, WishId};

mod admin;
mod commands;
mod head;
mod request;
mod templates;
mod tx;

pub use admin::activity_scope;
pub use head::{stored_head, EventHead};
use request::Job;
pub use request::{Command, Idem, Published, Reply, WriteError};

use crate::auth::TokenBook;
use crate::clock::Clock;
use crate::storage::Engine;
use crate::storage::StoreError;
use tx::Tx;

/// Most requests committed in one transaction and one flush.
pub const MAX_BATCH: usize = 512;
/// Requests that may wait for the writer before senders have to wait too.
const QUEUE_DEPTH: usize = 8192;
/// Deadlines handled per sweep; the next sweep takes the rest.
const SWEEP_LIMIT: usize = 2000;

enum Msg {
    Job(Box<Job>),
    /// Runs on the writer's thread between two batches, given the last durable sequence
    /// number: nothing is being written while it runs.
    Between(Box<dyn FnOnce(u64) + Send>),
    Stop,
}

/// A cheap handle for submitting commands to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    events: broadcast::Sender<Arc<Published>>,
    stopping: Arc<AtomicBool>,
    durable: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::WriterMetrics>,
}

/// The running writer thread.
pub struct Writer {
    handle: WriterHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over an engine's write side.
    pub fn start(
        mut store: Box<dyn Engine>,
        clock: Arc<dyn Clock>,
        rules: Arc<Rules>,
        tokens: Arc<TokenBook>,
        publishing: Publishing,
    ) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        // Subscribers that fall this far behind are cut off and resume from the log.
        let (events, _) = broadcast::channel(4096);
        let durable = Arc::new(AtomicU64::new(0));
        let metrics = Arc::new(crate::metrics::WriterMetrics::default());
        let metrics_w = metrics.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let (durable_w, events_w) = (durable.clone(), events.clone());
        // Waking every stream and deliverer costs a wake-up each per event: a thread of its
        // own pays it, so the writer goes on to the next batch at once.
        let (publish, to_publish) = std::sync::mpsc::channel::<Vec<Published>>();
        std::thread::Builder::new()
            .name("shaozi-publish".into())
            .spawn(move || {
                // Ends when the writer drops its side.
                for batch in to_publish {
                    for p in batch {
                        // No subscribers is fine; lagging ones are cut off by their own
                        // stream.
                        let _ = events_w.send(Arc::new(p));
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt {
                what: "publishing thread".into(),
                why: e.to_string(),
            })?;
        // The engine lives and dies on the writer's thread: a PostgreSQL client must not
        // block (nor be dropped) on the async runtime's threads.
        let thread = std::thread::Builder::new()
            .name("shaozi-writer".into())
            .spawn(move || {
                let last = match store.last_seq() {
                    Ok(last) => last,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                durable_w.store(last, Ordering::SeqCst);
                let _ = ready_tx.send(Ok(()));
                WriterThread {
                    tokens,
                    durable: durable_w,
                    store,
                    clock,
                    rules,
                    publish,
                    failed: None,
                    publishing,
                    metrics: metrics_w,
                }
                .run(rx)
            })
            .map_err(|e| StoreError::Corrupt {
                what: "writer thread".into(),
                why: e.to_string(),
            })?;
        ready_rx.recv().map_err(|_| StoreError::Corrupt {
            what: "writer thread".into(),
            why: "stopped before it started".into(),
        })??;
        Ok(Writer {
            handle: WriterHandle {
                tx,
                events,
                stopping: Arc::new(AtomicBool::new(false)),
                durable,
                metrics,
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
    /// Commits `cmd` on behalf of `who`; returns once it is on disk.
    pub async fn submit(&self, cmd: Command, who: Principal) -> Result<Reply, WriteError> {
        self.send(cmd, who, None, None).await
    }

    /// Like [`WriterHandle::submit`], with the change dated `at` instead of now. Only for
    /// loading history (the demo's backfill); the API never sets it.
    pub async fn submit_at(
        &self,
        cmd: Command,
        who: Principal,
        at: Option<DateTime<Utc>>,
    ) -> Result<Reply, WriteError> {
        self.send(cmd, who, at, None).await
    }

    /// Like [`WriterHandle::submit`] for a create carrying an Idempotency-Key: a retry with the
    /// same key and body gets the first answer ([`Reply::Replayed`]) and creates nothing.
    pub async fn submit_once(
        &self,
        cmd: Command,
        who: Principal,
        idem: Option<Idem>,
    ) -> Result<Reply, WriteError> {
        self.send(cmd, who, None, idem).await
    }

    async fn send(
        &self,
        cmd: Command,
        who: Principal,
        at: Option<DateTime<Utc>>,
        idem: Option<Idem>,
    ) -> Result<Reply, WriteError> {
        let gone = || WriteError::Unavailable("the server is shutting down; retry shortly".into());
        if self.stopping.load(Ordering::SeqCst) {
            return Err(gone());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Job(Box::new(Job {
                cmd,
                who,
                at,
                idem,
                reply,
            })))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Runs `f` on the writer's thread between two batches, with the last durable sequence
    /// number, and returns what it returns: what it reads of the store is exactly as of that
    /// number. Keep it short: writes wait while it runs.
    pub async fn between_batches<T: Send + 'static>(
        &self,
        f: impl FnOnce(u64) -> T + Send + 'static,
    ) -> Result<T, WriteError> {
        let gone = || WriteError::Unavailable("the server is shutting down; retry shortly".into());
        if self.stopping.load(Ordering::SeqCst) {
            return Err(gone());
        }
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Between(Box::new(move |seq| {
                let _ = tx.send(f(seq));
            })))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }

    /// What the writer has counted: batch sizes, commit times, outcomes.
    pub fn metrics(&self) -> &crate::metrics::WriterMetrics {
        &self.metrics
    }

    /// Whether it has stopped taking commands (the server is shutting down).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The sequence number of the last event known to be on disk.
    pub fn durable_seq(&self) -> u64 {
        self.durable.load(Ordering::SeqCst)
    }

    /// Publishes an event read from the log by the follower, and counts it as durable.
    pub fn publish_followed(&self, p: Published) {
        let seq = p.seq;
        let _ = self.events.send(Arc::new(p));
        self.durable.fetch_max(seq, Ordering::SeqCst);
    }

    /// Subscribes to committed events, in sequence order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }
}

/// Who publishes committed events to this server's streams.
pub enum Publishing {
    /// The writer, after each batch: it is the store's only writer (sled).
    Direct,
    /// A log follower (see `crate::follow`), which the writer wakes after each batch: other
    /// servers write to the same store, and their events must reach the streams in order.
    Follower(Arc<tokio::sync::Notify>),
}

struct WriterThread {
    publishing: Publishing,
    tokens: Arc<TokenBook>,
    store: Box<dyn Engine>,
    clock: Arc<dyn Clock>,
    rules: Arc<Rules>,
    /// To the publishing thread, a batch's events at a time, in order.
    publish: std::sync::mpsc::Sender<Vec<Published>>,
    durable: Arc<AtomicU64>,
    failed: Option<String>,
    metrics: Arc<crate::metrics::WriterMetrics>,
}

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
                    Msg::Between(f) => {
                        // What came before it is committed first; what comes after, after.
                        if !jobs.is_empty() {
                            self.commit(std::mem::take(&mut jobs));
                        }
                        f(self.durable.load(Ordering::SeqCst));
                    }
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
        if let Err(e) = self.store.close() {
            tracing::error!(error = %e, "final flush failed");
        }
        tracing::info!(
            last_seq = self.durable.load(Ordering::SeqCst),
            "writer stopped"
        );
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
        // sled's transactions cannot scan, so the due deadlines are read before; the batch
        // re-checks each one.
        let due: Vec<WhistleId> = if jobs
            .iter()
            .any(|j| matches!(j.cmd, Command::SweepDeadlines))
        {
            match self.store.due_whistles(now, SWEEP_LIMIT) {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!(error = %e, "reading due deadlines failed");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let (whistles, wishes) = named_records(&jobs, &due);
        let (categories, calendar, case) = (
            &self.rules.categories,
            &self.rules.calendar,
            &self.rules.case,
        );
        let mut done = None;
        let started = std::time::Instant::now();
        let commands = jobs.len();
        let result = self.store.commit(&mut |u| {
            let first_seq = u.log_head()?;
            let keys: Vec<&[u8]> = jobs
                .iter()
                .filter_map(|j| j.idem.as_ref().map(|i| i.key.as_slice()))
                .collect();
            u.prefetch(&whistles, &wishes, &keys)?;
            let mut tx = Tx {
                u,
                categories,
                calendar,
                case,
                seq: first_seq,
                published: Vec::new(),
                deltas: Default::default(),
            };
            let mut results = Vec::with_capacity(jobs.len());
            for j in &jobs {
                let at = j.at.unwrap_or(now);
                results.push(tx.run_once(j, at, &due)?);
            }
            tx.flush_counters()?;
            done = Some((results, tx.seq, tx.published));
            Ok(())
        });
        let outcome = match (result, done) {
            (Ok(()), Some(r)) => Ok(r),
            (Ok(()), None) => Err(StoreError::Corrupt {
                what: "the writer".into(),
                why: "the engine committed without running the batch".into(),
            }),
            (Err(e), _) => Err(e),
        };
        let m = &self.metrics;
        match &outcome {
            Ok(_) => {
                m.commit_seconds.observe_duration(started.elapsed());
                m.batch_commands.observe(commands as f64);
                m.committed.fetch_add(1, Ordering::Relaxed);
            }
            Err(StoreError::Unavailable { .. }) => {
                m.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                m.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        match outcome {
            Ok((results, seq, published)) => {
                match &self.publishing {
                    Publishing::Direct => {
                        self.durable.store(seq, Ordering::SeqCst);
                        let _ = self.publish.send(published);
                    }
                    // Other servers' events may come before these: the log follower
                    // publishes everything in sequence order. Every number up to this
                    // batch's is committed (the log head's lock orders commits), so a page
                    // or a replay read now from the store may include them.
                    Publishing::Follower(wake) => {
                        self.durable.fetch_max(seq, Ordering::SeqCst);
                        wake.notify_one();
                    }
                }
                for (j, r) in jobs.into_iter().zip(results) {
                    match &r {
                        Ok(Reply::Token(info, h)) => self.tokens.insert(*h, (**info).clone()),
                        Ok(Reply::Revoked(info)) => self
                            .tokens
                            .revoke(&info.name, info.revoked_at.unwrap_or(now)),
                        _ => {}
                    }
                    let _ = j.reply.send(r);
                }
            }
            // PostgreSQL refused a statement (cancelled by a DBA, a lock or statement
            // timeout, a value it cannot store): the transaction rolled back, so nothing of
            // the batch was saved and the store is as it was. Only this batch fails; the
            // commands in it run again one by one, so one bad command fails alone.
            Err(StoreError::Database(why)) if jobs.len() > 1 => {
                tracing::warn!(error = %why, commands = jobs.len(),
                    "a statement failed; running the batch's commands one by one");
                for j in jobs {
                    self.commit(vec![j]);
                }
            }
            Err(StoreError::Database(why)) => {
                tracing::warn!(error = %why, "a statement failed; nothing of it was saved");
                for j in jobs {
                    let _ = j.reply.send(Err(WriteError::Unavailable(format!(
                        "the database refused the change, nothing was saved; retry: {why}"
                    ))));
                }
            }
            Err(StoreError::Unavailable { why }) => {
                // The database is away or read-only: this batch is not acknowledged (its
                // outcome may even be unknown), and the next batch tries again.
                tracing::warn!(error = %why, "commit failed; the next batch retries");
                for j in jobs {
                    let _ = j.reply.send(Err(WriteError::Unavailable(why.clone())));
                }
            }
            Err(why) => {
                let why = why.to_string();
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

/// The whistles and wishes a batch names, for the engine to fetch in one go.
fn named_records(jobs: &[Job], due: &[WhistleId]) -> (Vec<WhistleId>, Vec<WishId>) {
    let mut whistles = due.to_vec();
    let mut wishes = Vec::new();
    for j in jobs {
        match &j.cmd {
            Command::Whistle(id, a, _) => {
                whistles.push(*id);
                if let WhistleAction::Reject {
                    duplicate_of: Some(orig),
                    ..
                } = a
                {
                    whistles.push(*orig);
                }
            }
            Command::Wish(id, _, _) => wishes.push(*id),
            _ => {}
        }
    }
    whistles.sort_unstable_by_key(|w| w.0);
    whistles.dedup();
    wishes.sort_unstable_by_key(|w| w.0);
    wishes.dedup();
    (whistles, wishes)
}
