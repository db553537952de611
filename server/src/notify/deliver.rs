//! The delivery loop: one task per subscription, reading the durable log from the
//! subscription's cursor, in sequence order, moving the cursor only after a 2xx.
//!
//! A task follows the writer's broadcast while it keeps up, and reads the log from the store
//! when it has fallen behind (a slow receiver, a restart), so a hanging receiver holds up only
//! its own subscription and never the writer or the streams. Failures are retried with
//! backoff; after a day of them the subscription pauses until someone resumes it.
//!
//! On several servers sharing a database, a subscription is delivered only by the server that
//! holds its lease (see [`Leases`]); were two to deliver for a moment, a receiver sees repeats
//! under the same `webhook-id`, never a gap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use tokio::sync::{broadcast, watch, Notify};

use shaozi_shared::api::HookFormat;
use shaozi_shared::{CommunityId, DepartmentId, Event, EventKind, EventScope, Principal};

use super::message::{phone_text, Names};
use super::send::{retry_after, Sender, Sent, Target, PAUSE_AFTER};
use super::sign::WebhookSecret;
use super::vault::{Vault, VaultError};
use crate::clock::Clock;
use crate::storage::{HookState, HookStore, Reads, StoredHook};
use crate::store::StoreError;
use crate::writer::WriterHandle;

/// Events read from the log per step when catching up.
const PAGE: usize = 256;
/// How often a subscription's cursor is saved while it moves (it is saved at once when a
/// delivery fails or the subscription pauses); a crash repeats about this much.
const SAVE_EVERY: Duration = Duration::from_millis(250);
/// How often the subscriptions are read again (new ones, deleted ones, resumed ones, and on
/// several servers the ones whose server went away).
const RECONCILE_EVERY: Duration = Duration::from_secs(2);

/// How deliveries behave.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryConfig {
    /// The first wait after a failure (it doubles, to 10 minutes); 5 s. Tests shorten it.
    pub first_retry: Duration,
    /// Limits of one request.
    pub limits: super::send::Limits,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            first_retry: Duration::from_secs(5),
            limits: super::send::Limits::default(),
        }
    }
}

/// Which subscriptions this server delivers. With one server on a store: all of them. With
/// several on PostgreSQL: those whose advisory lock it holds.
pub trait Leases: Send + Sync + 'static {
    /// Of `ids`, the ones this server may deliver now (taking the leases it can).
    fn hold(&self, ids: &[u64]) -> Result<Vec<u64>, StoreError>;
}

/// Every subscription is this server's (the sled store has one server).
pub struct AllMine;

impl Leases for AllMine {
    fn hold(&self, ids: &[u64]) -> Result<Vec<u64>, StoreError> {
        Ok(ids.to_vec())
    }
}

/// A subscription as a task runs it: the stored record with what follows from it.
struct Spec {
    hook: StoredHook,
    who: Principal,
    /// Its secret, opened (or why it does not open).
    secret: Result<Option<String>, VaultError>,
    key: Option<WebhookSecret>,
}

impl Spec {
    fn new(hook: StoredHook, vault: &Vault) -> Spec {
        let secret = hook.secret.as_deref().map(|s| vault.open(s)).transpose();
        let key = match (hook.format, &secret) {
            (HookFormat::Json, Ok(Some(s))) => WebhookSecret::parse(s).ok(),
            _ => None,
        };
        Spec {
            who: hook.principal(),
            hook,
            secret,
            key,
        }
    }

    /// How a delivery is signed, or why it cannot be.
    fn target(&self) -> Result<Target<'_>, String> {
        let secret = self.secret.as_ref().map_err(ToString::to_string)?;
        Ok(match self.hook.format {
            HookFormat::Json => Target::Json(
                self.key
                    .as_ref()
                    .ok_or_else(|| "its signing key does not read".to_string())?,
            ),
            HookFormat::Wecom => Target::Wecom,
            HookFormat::Dingtalk => Target::Dingtalk(secret.as_deref()),
        })
    }
}

struct Ctx {
    hooks: Arc<dyn HookStore>,
    reads: Arc<dyn Reads>,
    writer: WriterHandle,
    sender: Sender,
    clock: Arc<dyn Clock>,
    offset: FixedOffset,
    vault: Vault,
    first_retry: Duration,
}

struct Running {
    spec: watch::Sender<Arc<Spec>>,
    state: Arc<Mutex<HookState>>,
    task: tokio::task::JoinHandle<()>,
}

/// The subscriptions' deliveries on this server: started by the server, asked by the API for
/// a subscription's live health, poked when a subscription is made, resumed or deleted.
#[derive(Clone)]
pub struct Deliveries {
    ctx: Arc<Ctx>,
    poke: Arc<Notify>,
    running: Arc<Mutex<HashMap<u64, Running>>>,
}

impl Deliveries {
    /// Deliveries over a store; nothing runs until [`Deliveries::run`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hooks: Arc<dyn HookStore>,
        reads: Arc<dyn Reads>,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        offset: FixedOffset,
        vault: Vault,
        config: DeliveryConfig,
    ) -> Result<Deliveries, reqwest::Error> {
        Ok(Deliveries {
            ctx: Arc::new(Ctx {
                hooks,
                reads,
                writer,
                sender: Sender::new(config.limits)?,
                clock,
                offset,
                vault,
                first_retry: config.first_retry,
            }),
            poke: Arc::new(Notify::new()),
            running: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The sender, for a test message.
    pub fn sender(&self) -> &Sender {
        &self.ctx.sender
    }

    /// Asks the loop to read the subscriptions again now.
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    /// Stops delivering a subscription at once (it was deleted): no attempt starts after this
    /// returns.
    pub fn forget(&self, id: u64) {
        let gone = self.running.lock().ok().and_then(|mut r| r.remove(&id));
        // Dropping its spec is what the task checks before every attempt.
        drop(gone);
    }

    /// The state of a subscription this server delivers, as it is this moment (the stored one
    /// may be up to a second behind).
    pub fn live_state(&self, id: u64) -> Option<HookState> {
        let running = self.running.lock().ok()?;
        let state = running.get(&id)?.state.lock().ok()?;
        Some(state.clone())
    }

    /// Runs the deliveries on a thread of their own, at a lower priority than the server's
    /// (niceness [`NICENESS`]), until `stop`; the returned task ends when they have saved
    /// their cursors. A delivery costs about as much CPU as a request: when the machine is
    /// saturated, deliveries wait (their lag grows) rather than the writers and readers.
    pub fn spawn(
        self,
        leases: Arc<dyn Leases>,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("shaozi-hooks".into())
            .spawn(move || {
                lower_priority();
                // Dropped here, after the runtime: a PostgreSQL lease holds a blocking
                // client, which must not be dropped inside a runtime.
                let kept = leases.clone();
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .thread_name("shaozi-hooks-io")
                    .build()
                {
                    Ok(rt) => {
                        rt.block_on(self.run(leases, stop));
                        drop(rt);
                    }
                    Err(e) => tracing::error!(error = %e, "webhook delivery cannot start"),
                }
                drop(kept);
                let _ = done_tx.send(());
            })?;
        Ok(tokio::spawn(async move {
            let _ = done_rx.await;
        }))
    }

    /// Runs until `stop`: keeps one task per subscription this server holds.
    pub async fn run(self, leases: Arc<dyn Leases>, mut stop: watch::Receiver<bool>) {
        let mut failing = false;
        loop {
            match self.reconcile(leases.clone(), &stop).await {
                Ok(()) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "reading webhook subscriptions failed; retrying");
                    }
                    failing = true;
                }
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = self.poke.notified() => {}
                _ = tokio::time::sleep(RECONCILE_EVERY) => {}
            }
            if *stop.borrow() {
                break;
            }
        }
        // Each task saves its cursor as it stops; its spec is kept until then, so it stops
        // for the server's stop rather than for a subscription gone.
        let running: Vec<Running> = match self.running.lock() {
            Ok(mut r) => r.drain().map(|(_, run)| run).collect(),
            Err(_) => Vec::new(),
        };
        for run in running {
            let _ = run.task.await;
            drop(run.spec);
        }
    }

    async fn reconcile(
        &self,
        leases: Arc<dyn Leases>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        let store = self.ctx.hooks.clone();
        let (hooks, held) = blocking(move || {
            let hooks = store.hooks()?;
            let ids: Vec<u64> = hooks.iter().map(|h| h.id).collect();
            let held = leases.hold(&ids)?;
            Ok((hooks, held))
        })
        .await?;
        let mut start = Vec::new();
        {
            let Ok(mut running) = self.running.lock() else {
                return Ok(());
            };
            let wanted: HashMap<u64, StoredHook> = hooks
                .into_iter()
                .filter(|h| held.contains(&h.id))
                .map(|h| (h.id, h))
                .collect();
            // Gone, or no longer this server's: dropping its sender stops the task.
            running.retain(|id, r| wanted.contains_key(id) && !r.task.is_finished());
            for (id, hook) in wanted {
                match running.get(&id) {
                    Some(r) if r.spec.borrow().hook == hook => {}
                    Some(r) => {
                        let _ = r.spec.send(Arc::new(Spec::new(hook, &self.ctx.vault)));
                    }
                    None => start.push(hook),
                }
            }
        }
        for hook in start {
            let id = hook.id;
            let store = self.ctx.hooks.clone();
            let state = blocking(move || store.hook_state(id)).await?;
            let Some(state) = state else {
                continue; // deleted meanwhile
            };
            let (spec_tx, spec_rx) = watch::channel(Arc::new(Spec::new(hook, &self.ctx.vault)));
            let shared = Arc::new(Mutex::new(state.clone()));
            let task = Task {
                ctx: self.ctx.clone(),
                spec: spec_rx,
                stop: stop.clone(),
                state,
                shared: shared.clone(),
                dirty: false,
                saved_at: tokio::time::Instant::now(),
            };
            let task = tokio::spawn(task.run());
            if let Ok(mut running) = self.running.lock() {
                running.insert(
                    id,
                    Running {
                        spec: spec_tx,
                        state: shared,
                        task,
                    },
                );
            }
        }
        Ok(())
    }
}

/// How much the deliverers' thread gives way (Linux niceness, 0 to 19): at 19 it gets a
/// small share of a CPU the writer and the request handlers are contending for, and all of an
/// idle one. Measured with the load tool (`--webhooks 50`): creates 0.85 of the figure
/// without subscriptions at 10, 0.96 at 19; the deliveries' p99 lag 117 → 280 ms.
pub const NICENESS: i32 = 19;

/// Lowers this thread's priority (threads it starts inherit it); on Linux a thread is a task
/// of its own, so the rest of the server keeps its priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority and gettid only read their arguments; no memory is shared.
        let r = unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, NICENESS)
        };
        if r != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "could not lower the webhook deliverers' priority"
            );
        }
    }
}

/// Runs blocking store work off the runtime's threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unavailable {
            why: format!("a store task stopped: {e}"),
        })?
}

/// What a task does after an event.
enum Next {
    /// Go on with the next.
    Go,
    /// Paused: wait for a resume.
    Paused,
    /// Stop: deleted, no longer this server's, or the server is stopping.
    Stop,
}

struct Task {
    ctx: Arc<Ctx>,
    spec: watch::Receiver<Arc<Spec>>,
    stop: watch::Receiver<bool>,
    state: HookState,
    shared: Arc<Mutex<HookState>>,
    dirty: bool,
    saved_at: tokio::time::Instant,
}

impl Task {
    async fn run(mut self) {
        // Subscribed before the head is read, so nothing falls between the log and the live
        // events.
        let mut live = self.ctx.writer.subscribe();
        // The log is read from the store only up to here: what was there before this task
        // followed the live events, or what it missed while it was held up. Everything else
        // comes from the broadcast, in order, without touching the store.
        let mut catch_up_to = self.ctx.writer.durable_seq();
        let mut tick = tokio::time::interval(SAVE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *self.stop.borrow() {
                break;
            }
            let spec = self.spec.borrow().clone();
            if self.state.paused(&spec.hook) {
                self.save(true).await;
                tokio::select! {
                    _ = self.stop.changed() => break,
                    r = self.spec.changed() => if r.is_err() { break },
                }
                continue;
            }
            if self.state.paused_at.is_some() {
                // Resumed: the held event is tried again at once, its failures forgotten.
                tracing::info!(webhook = %spec.hook.label(), "webhook resumed");
                self.state.paused_at = None;
                self.state.failures = 0;
                self.state.failing_since = None;
                self.state.next_retry_at = None;
                self.save(true).await;
                catch_up_to = catch_up_to.max(self.ctx.writer.durable_seq());
            }
            if self.state.delivered < catch_up_to {
                match self.catch_up(catch_up_to).await {
                    Next::Go => continue,
                    Next::Paused => {
                        catch_up_to = catch_up_to.max(self.ctx.writer.durable_seq());
                        continue;
                    }
                    Next::Stop => break,
                }
            }
            tokio::select! {
                _ = self.stop.changed() => break,
                r = self.spec.changed() => if r.is_err() { break },
                _ = tick.tick() => {
                    if self.dirty {
                        self.save(false).await;
                    }
                    // Nothing waiting live, yet the log is further on: read it.
                    let durable = self.ctx.writer.durable_seq();
                    if live.is_empty() && self.state.delivered < durable {
                        catch_up_to = catch_up_to.max(durable);
                    }
                }
                r = live.recv() => {
                    // One wake-up takes every event waiting, not one: under load a
                    // subscription that wants few of them costs little per event.
                    let mut r = r.map_err(|e| match e {
                        broadcast::error::RecvError::Lagged(n) => {
                            broadcast::error::TryRecvError::Lagged(n)
                        }
                        broadcast::error::RecvError::Closed => broadcast::error::TryRecvError::Closed,
                    });
                    loop {
                        match r {
                            Ok(p) => match self.on_live(&p, &mut catch_up_to).await {
                                Next::Stop => return self.save(true).await,
                                Next::Go | Next::Paused => {}
                            },
                            // Fell behind the broadcast: the next event received shows the
                            // gap.
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                            Err(broadcast::error::TryRecvError::Empty) => break,
                            Err(broadcast::error::TryRecvError::Closed) => {
                                return self.save(true).await
                            }
                        }
                        if self.state.delivered < catch_up_to || *self.stop.borrow() {
                            break;
                        }
                        r = live.try_recv();
                    }
                }
            }
        }
        // Stopping, deleted, or no longer this server's (a lease lost): keep where it got to
        // (for a deleted subscription the store keeps nothing).
        self.save(true).await;
    }

    /// A live event: offered when it is the next one; a gap means some were missed, and the
    /// log is read up to it.
    async fn on_live(&mut self, p: &crate::writer::Published, catch_up_to: &mut u64) -> Next {
        if p.seq <= self.state.delivered {
            return Next::Go;
        }
        if p.seq > self.state.delivered + 1 {
            *catch_up_to = (*catch_up_to).max(p.seq);
            return Next::Go;
        }
        let next = self.offer(p.seq, &p.json, p.kind, &p.scope).await;
        if let Next::Paused = next {
            *catch_up_to = (*catch_up_to).max(self.ctx.writer.durable_seq());
        }
        next
    }

    /// Delivers from the log up to `head`, a page at a time.
    async fn catch_up(&mut self, head: u64) -> Next {
        let (reads, after) = (self.ctx.reads.clone(), self.state.delivered);
        let page = blocking(move || {
            let page = reads.events_after(after, PAGE)?;
            Ok(page
                .into_iter()
                .filter(|(seq, _)| *seq <= head)
                .map(|(seq, json)| {
                    let head = crate::routes::events::stored_head(&json, reads.as_ref());
                    (seq, json, head)
                })
                .collect::<Vec<_>>())
        })
        .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "a webhook could not read the log; retrying");
                tokio::select! {
                    _ = self.stop.changed() => return Next::Stop,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => return Next::Go,
                }
            }
        };
        if page.is_empty() {
            // The head moved on without the log (should not happen); wait for the next event.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Next::Go;
        }
        for (seq, json, head) in page {
            let (kind, scope) = match head {
                Some((k, s)) => (Some(k), s),
                None => (None, EventScope::default()),
            };
            match self.offer(seq, &json, kind, &scope).await {
                Next::Go => {}
                other => return other,
            }
        }
        Next::Go
    }

    /// Delivers one event if the subscription wants it, or passes over it; returns when it is
    /// delivered, passed over, paused or stopped.
    async fn offer(
        &mut self,
        seq: u64,
        json: &str,
        kind: Option<EventKind>,
        scope: &EventScope,
    ) -> Next {
        let spec = self.spec.borrow().clone();
        let wanted = kind.is_some_and(|k| spec.hook.wants(k)) && scope.visible_to(&spec.who);
        let body = if wanted {
            self.body(&spec, json).await
        } else {
            None
        };
        let Some(body) = body else {
            self.moved(seq, None);
            return Next::Go;
        };
        let target = match spec.target() {
            Ok(t) => t,
            // A secret this server cannot open cannot sign: say so, and hold the event.
            Err(why) => return self.failed(seq, None, why).await,
        };
        loop {
            // Deleted meanwhile (its spec dropped): nothing more goes out.
            if self.spec.has_changed().is_err() {
                return Next::Stop;
            }
            let now = self.ctx.clock.now();
            let sent = {
                let send = self
                    .ctx
                    .sender
                    .send(&spec.hook.url, seq, body.clone(), target, now);
                tokio::pin!(send);
                loop {
                    tokio::select! {
                        s = &mut send => break s,
                        _ = self.stop.changed() => return Next::Stop,
                        r = self.spec.changed() => if r.is_err() { return Next::Stop },
                    }
                }
            };
            match sent {
                Sent::Delivered => {
                    self.moved(seq, Some(self.ctx.clock.now()));
                    return Next::Go;
                }
                Sent::Failed { status, why } => match self.failed(seq, status, why).await {
                    Next::Go => continue,
                    other => return other,
                },
            }
        }
    }

    /// What goes out for an event: the event itself, or a robot's message (None for what a
    /// robot is not told, such as the directory).
    async fn body(&self, spec: &Spec, json: &str) -> Option<Vec<u8>> {
        match spec.hook.format {
            HookFormat::Json => Some(json.as_bytes().to_vec()),
            format => {
                let event: Event = serde_json::from_str(json).ok()?;
                if !event.kind.about_whistle() {
                    return None;
                }
                let reads = self.ctx.reads.clone();
                let names = blocking(move || DirectoryNames::read(reads.as_ref()))
                    .await
                    .unwrap_or_default();
                let text = phone_text(&event, self.ctx.clock.now(), self.ctx.offset, &names)?;
                let body = match format {
                    HookFormat::Wecom => text.wecom(),
                    _ => text.dingtalk(),
                };
                serde_json::to_vec(&body).ok()
            }
        }
    }

    /// The cursor moved past `seq` (delivered at `at`, or not for this subscription).
    fn moved(&mut self, seq: u64, at: Option<DateTime<Utc>>) {
        self.state.delivered = seq;
        if at.is_some() {
            self.state.last_delivered_at = at;
            self.state.failures = 0;
            self.state.last_error = None;
            self.state.failing_since = None;
            self.state.next_retry_at = None;
        }
        self.dirty = true;
        self.share();
    }

    /// A failed attempt at `seq`: wait for the next (Go), or pause after a day of failures.
    async fn failed(&mut self, seq: u64, status: Option<u16>, why: String) -> Next {
        let now = self.ctx.clock.now();
        let label = self.spec.borrow().hook.label();
        self.state.failures = self.state.failures.saturating_add(1);
        self.state.last_error = Some(why.clone());
        let since = *self.state.failing_since.get_or_insert(now);
        if now - since >= PAUSE_AFTER {
            tracing::warn!(webhook = %label, seq, error = %why, "webhook paused after a day of failures");
            self.state.paused_at = Some(now);
            self.state.next_retry_at = None;
            self.save(true).await;
            return Next::Paused;
        }
        let scale = self.ctx.first_retry.as_secs_f64() / 5.0;
        let wait = retry_after(self.state.failures, rand::random::<f64>()).mul_f64(scale);
        self.state.next_retry_at =
            Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero()));
        tracing::info!(webhook = %label, seq, ?status, error = %why, failures = self.state.failures,
            "webhook delivery failed; trying again later");
        self.save(false).await;
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return Next::Go,
                _ = self.stop.changed() => return Next::Stop,
                r = self.spec.changed() => {
                    if r.is_err() {
                        return Next::Stop;
                    }
                }
            }
        }
    }

    fn share(&self) {
        if let Ok(mut s) = self.shared.lock() {
            s.clone_from(&self.state);
        }
    }

    /// Saves the state (at once when `durable`, else when a second has passed since the last
    /// save).
    async fn save(&mut self, durable: bool) {
        self.share();
        if !durable && self.state.failures == 0 && self.saved_at.elapsed() < SAVE_EVERY {
            return;
        }
        let (store, id, state) = (
            self.ctx.hooks.clone(),
            self.spec.borrow().hook.id,
            self.state.clone(),
        );
        match blocking(move || store.save_hook_state(id, &state, durable)).await {
            Ok(()) => {
                self.dirty = false;
                self.saved_at = tokio::time::Instant::now();
            }
            Err(e) => tracing::warn!(error = %e, webhook = id, "saving a webhook's cursor failed"),
        }
    }
}

/// The directory's names, read for a robot's message.
#[derive(Default)]
struct DirectoryNames {
    communities: HashMap<CommunityId, String>,
    departments: HashMap<DepartmentId, String>,
}

impl DirectoryNames {
    fn read(reads: &dyn Reads) -> Result<DirectoryNames, StoreError> {
        Ok(DirectoryNames {
            communities: reads
                .communities()?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect(),
            departments: reads
                .departments()?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect(),
        })
    }
}

impl Names for DirectoryNames {
    fn community(&self, id: CommunityId) -> Option<String> {
        self.communities.get(&id).cloned()
    }
    fn department(&self, id: DepartmentId) -> Option<String> {
        self.departments.get(&id).cloned()
    }
}
