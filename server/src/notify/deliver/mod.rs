//! The delivery loop: one task per subscription (`task`), reading the durable log from the
//! subscription's cursor, in sequence order, moving the cursor only after a 2xx; this module
//! keeps one task running per subscription this server holds.
//!
//! A task follows the writer's broadcast while it keeps up, and reads the log from the store
//! when it has fallen behind (a slow receiver, a restart), so a hanging receiver holds up only
//! its own subscription and never the writer or the streams. Failures are retried with
//! backoff; after a day of them the subscription pauses until someone resumes it.
//!
//! On several servers sharing a database, a subscription is delivered only by the server that
//! holds its lease (see [`Leases`]); were two to deliver for a moment, a receiver sees repeats
//! under the same `webhook-id`, never a gap.

mod route;
mod task;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::FixedOffset;
use tokio::sync::{watch, Notify};

use super::addr::AddressPolicy;
use super::send::Sender;
use super::vault::Vault;
use crate::auth::TokenBook;
use crate::clock::Clock;
use crate::storage::StoreError;
use crate::storage::{blocking, HookState, HookStore, Reads, StoredHook};
use crate::writer::WriterHandle;
use task::{Ctx, Spec, Task};

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

struct Running {
    spec: watch::Sender<Arc<Spec>>,
    state: Arc<Mutex<HookState>>,
    inbox: Arc<route::Inbox>,
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
        tokens: Arc<TokenBook>,
        config: DeliveryConfig,
        policy: AddressPolicy,
    ) -> Result<Deliveries, reqwest::Error> {
        Ok(Deliveries {
            ctx: Arc::new(Ctx {
                hooks,
                reads,
                writer,
                sender: Sender::new(config.limits, policy)?,
                clock,
                offset,
                vault,
                tokens,
                first_retry: config.first_retry,
                names: Mutex::default(),
                routes: Arc::default(),
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
        if let Ok(mut routes) = self.ctx.routes.lock() {
            routes.remove(id);
        }
        let gone = self.running.lock().ok().and_then(|mut r| r.remove(&id));
        // Dropping its spec is what the task checks before every attempt.
        drop(gone);
    }

    /// Events the router has handed to a subscription on this server, over all of them: a
    /// subscription is handed only what it wants.
    pub fn handed(&self) -> u64 {
        self.ctx.routes.lock().map(|r| r.handed()).unwrap_or(0)
    }

    /// The state of a subscription this server delivers, as it is this moment (the stored one
    /// may be up to a second behind).
    pub fn live_state(&self, id: u64) -> Option<HookState> {
        let running = self.running.lock().ok()?;
        let run = running.get(&id)?;
        let mut state = run.state.lock().ok()?.clone();
        // Nothing in hand and nothing failing: everything the router offered since was not
        // for it, so it is as far as the router.
        if state.failures == 0 && state.paused_at.is_none() && run.inbox.is_empty() {
            state.delivered = state.delivered.max(self.ctx.routed());
        }
        Some(state)
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
        let router = tokio::spawn(route::run(
            self.ctx.routes.clone(),
            self.ctx.writer.subscribe(),
            stop.clone(),
        ));
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
        let _ = router.await;
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
            let Ok(mut routes) = self.ctx.routes.lock() else {
                return Ok(());
            };
            running.retain(|id, r| {
                let keep = wanted.contains_key(id) && !r.task.is_finished();
                if !keep {
                    routes.remove(*id);
                }
                keep
            });
            for (id, hook) in wanted {
                match running.get(&id) {
                    Some(r) if *r.spec.borrow().hook() == hook => {}
                    Some(r) => {
                        routes.set(id, &hook.events, hook.principal(), r.inbox.clone());
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
            // Routed to before the task reads the log's head: nothing falls between.
            let inbox = Arc::new(route::Inbox::new());
            if let Ok(mut routes) = self.ctx.routes.lock() {
                routes.set(id, &hook.events, hook.principal(), inbox.clone());
            }
            let (spec_tx, spec_rx) = watch::channel(Arc::new(Spec::new(hook, &self.ctx.vault)));
            let shared = Arc::new(Mutex::new(state.clone()));
            let task = Task::new(
                self.ctx.clone(),
                inbox.clone(),
                spec_rx,
                stop.clone(),
                state,
                shared.clone(),
            );
            let task = tokio::spawn(task.run());
            if let Ok(mut running) = self.running.lock() {
                running.insert(
                    id,
                    Running {
                        spec: spec_tx,
                        state: shared,
                        inbox,
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

/// Lowers this thread's priority to [`NICENESS`].
fn lower_priority() {
    crate::priority::lower_this_thread(NICENESS);
}
