//! One subscription's task: follows the live events (the log for what it missed), offers
//! each to its subscription, delivers what it wants, retries, pauses, and saves its cursor.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use shaozi_shared::api::{DeliveryFailure, HookFormat};
use shaozi_shared::{CommunityId, DepartmentId, Event, EventKind, EventScope, Principal};

use super::super::message::{phone_text, Names};
use super::super::send::{retry_after, Sent, Target, PAUSE_AFTER};
use super::super::sign::WebhookSecret;
use super::super::vault::{Vault, VaultError};
use super::route::Inbox;
use crate::auth::TokenBook;
use crate::clock::Clock;
use crate::notify::send::Sender;
use crate::storage::HookStore;
use crate::storage::StoreError;
use crate::storage::{blocking, HookState, Reads, StoredHook};
use crate::writer::WriterHandle;
use chrono::FixedOffset;

/// Events read from the log per step when catching up.
const PAGE: usize = 256;
/// How often an idle subscription's cursor follows the router and is saved.
const IDLE_SAVE: Duration = Duration::from_secs(30);
/// How often a subscription's cursor is saved while it moves (it is saved at once when a
/// delivery fails or the subscription pauses); a crash repeats about this much.
const SAVE_EVERY: Duration = Duration::from_millis(250);
/// How often a held subscription looks again at its owner's standing.
const OWNER_RECHECK: Duration = Duration::from_secs(1);
/// How long a stopping server waits for the answer to a delivery already sent.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A subscription as a task runs it: the stored record with what follows from it.
pub(super) struct Spec {
    hook: StoredHook,
    who: Principal,
    /// Its secret, opened (or why it does not open).
    secret: Result<Option<String>, VaultError>,
    key: Option<WebhookSecret>,
}

impl Spec {
    pub(super) fn new(hook: StoredHook, vault: &Vault) -> Spec {
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

    /// The subscription as stored.
    pub(super) fn hook(&self) -> &StoredHook {
        &self.hook
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

/// What a task does after an event.
enum Next {
    /// Go on with the next.
    Go,
    /// Paused: wait for a resume.
    Paused,
    /// Stop: deleted, no longer this server's, or the server is stopping.
    Stop,
}

pub(super) struct Task {
    ctx: Arc<Ctx>,
    inbox: Arc<Inbox>,
    spec: watch::Receiver<Arc<Spec>>,
    stop: watch::Receiver<bool>,
    state: HookState,
    shared: Arc<Mutex<HookState>>,
    dirty: bool,
    saved_at: tokio::time::Instant,
}

impl Task {
    /// A task for the subscription `spec` holds, from `state` (as stored), until `stop`.
    pub(super) fn new(
        ctx: Arc<Ctx>,
        inbox: Arc<Inbox>,
        spec: watch::Receiver<Arc<Spec>>,
        stop: watch::Receiver<bool>,
        state: HookState,
        shared: Arc<Mutex<HookState>>,
    ) -> Task {
        Task {
            ctx,
            inbox,
            spec,
            stop,
            state,
            shared,
            dirty: false,
            saved_at: tokio::time::Instant::now(),
        }
    }

    /// Delivers until the server stops, the subscription is deleted or another server has it.
    pub(super) async fn run(mut self) {
        // The router had this subscription's inbox before the head is read, so nothing falls
        // between the log and the live events.
        // The log is read from the store only up to here: what was there before this task
        // followed the live events, or what it missed while it was held up. Everything else
        // comes from its inbox, in order, without touching the store.
        let mut catch_up_to = self.ctx.writer.durable_seq();
        loop {
            self.inbox.awake();
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
            // Nothing to deliver: asleep until something is for it. A cursor not saved yet is
            // saved a moment later; an idle one now and then moves to where the router is, so
            // a restart does not read again what was never for it.
            let save_in = if self.dirty { SAVE_EVERY } else { IDLE_SAVE };
            self.inbox.asleep();
            tokio::select! {
                _ = self.stop.changed() => break,
                r = self.spec.changed() => if r.is_err() { break },
                _ = tokio::time::sleep(save_in) => {
                    if !self.dirty {
                        self.follow_router();
                    }
                    if self.dirty {
                        self.save(false).await;
                    }
                }
                _ = self.inbox.ready.notified() => {
                    let (events, lost) = self.inbox.take();
                    if lost {
                        // Some were dropped before they reached it: the log has them.
                        catch_up_to = catch_up_to.max(self.ctx.writer.durable_seq());
                        self.inbox.awake();
                        continue;
                    }
                    for p in events {
                        if let Next::Stop = self.on_live(&p, &mut catch_up_to).await {
                            self.inbox.awake();
                            return self.save(true).await;
                        }
                        if self.state.delivered < catch_up_to || *self.stop.borrow() {
                            break;
                        }
                    }
                    self.inbox.awake();
                }
            }
        }
        // Stopping, deleted, or no longer this server's (a lease lost): keep where it got to
        // (for a deleted subscription the store keeps nothing).
        self.follow_router();
        self.save(true).await;
    }

    /// An idle subscription (nothing waiting, nothing failing) is as far as the router: what
    /// it offered since was not for it.
    fn follow_router(&mut self) {
        let routed = self.ctx.routed();
        if self.state.failures == 0
            && self.state.paused_at.is_none()
            && self.inbox.is_empty()
            && routed > self.state.delivered
        {
            self.moved(routed, None);
        }
    }

    /// An event the router says is for it. What lies between its cursor and the event was
    /// not for it (the router offers in order), so the cursor moves there; while it is still
    /// reading the log, the log covers the event too.
    async fn on_live(&mut self, p: &crate::writer::Published, catch_up_to: &mut u64) -> Next {
        if p.seq <= self.state.delivered {
            return Next::Go;
        }
        if self.state.delivered < *catch_up_to {
            *catch_up_to = (*catch_up_to).max(p.seq);
            return Next::Go;
        }
        if p.seq > self.state.delivered + 1 {
            self.moved(p.seq - 1, None);
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
                    let head = crate::writer::stored_head(&json, reads.as_ref());
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
            Err(why) => return self.failed(seq, DeliveryFailure::Secret, why).await,
        };
        loop {
            // Deleted meanwhile (its spec dropped): nothing more goes out.
            if self.spec.has_changed().is_err() {
                return Next::Stop;
            }
            // Nothing goes out on behalf of a token that no longer stands: the event waits
            // for another owner (adopted) or for the subscription's deletion.
            if !self.ctx.tokens.standing(&spec.hook.created_by).active() {
                match self.owner_lapsed(&spec).await {
                    // Adopted, or a token this server had not yet heard of: look again with
                    // the subscription as it now is.
                    Next::Go => return Box::pin(self.offer(seq, json, kind, scope)).await,
                    other => return other,
                }
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
                        _ = self.stop.changed() => {
                            // Stopping with a request out: its answer is worth a moment's
                            // wait, or the next server to start sends it again (a robot's
                            // group chat has no way to drop a repeat).
                            match tokio::time::timeout(STOP_GRACE, &mut send).await {
                                Ok(s @ Sent::Delivered) => break s,
                                _ => return Next::Stop,
                            }
                        }
                        r = self.spec.changed() => if r.is_err() { return Next::Stop },
                    }
                }
            };
            match sent {
                Sent::Delivered => {
                    self.moved(seq, Some(self.ctx.clock.now()));
                    // Stopping (the answer came in the grace): the caller saves the cursor.
                    if *self.stop.borrow() {
                        return Next::Stop;
                    }
                    return Next::Go;
                }
                Sent::Failed { reason, why } => match self.failed(seq, reason, why).await {
                    Next::Go => continue,
                    other => return other,
                },
            }
        }
    }

    /// Waits while the subscription's owner does not stand: until it is changed (adopted) or
    /// deleted, the server stops, or (for a token this server has not heard of yet, or one
    /// restored) the owner stands again. A revocation reaches the book of every server from
    /// the log, so deliveries stop everywhere.
    async fn owner_lapsed(&mut self, spec: &Spec) -> Next {
        let standing = self.ctx.tokens.standing(&spec.hook.created_by);
        tracing::warn!(webhook = %spec.hook.label(), owner = %spec.hook.created_by, ?standing,
            "webhook held: its owner's token does not stand; adopt or delete it");
        self.save(true).await;
        let mut revocations = self.ctx.tokens.revocations();
        loop {
            tokio::select! {
                _ = self.stop.changed() => return Next::Stop,
                r = self.spec.changed() => return if r.is_err() { Next::Stop } else { Next::Go },
                _ = revocations.changed() => {}
                _ = tokio::time::sleep(OWNER_RECHECK) => {}
            }
            if self
                .ctx
                .tokens
                .standing(&self.spec.borrow().hook.created_by)
                .active()
            {
                return Next::Go;
            }
        }
    }

    /// What goes out for an event: the event itself, or a robot's message (None for what a
    /// robot is not told, such as the directory).
    async fn body(&self, spec: &Spec, json: &str) -> Option<Vec<u8>> {
        match spec.hook.format {
            HookFormat::Json => Some(
                crate::reporter::event_for(json, &spec.who)
                    .as_bytes()
                    .to_vec(),
            ),
            format => {
                let event: Event = serde_json::from_str(json).ok()?;
                if !event.kind.about_whistle() {
                    return None;
                }
                let now = self.ctx.clock.now();
                let cached = self.ctx.names.lock().map(|n| n.clone()).unwrap_or_default();
                let noting = Noting(&cached, Cell::new(false));
                let mut text = phone_text(&event, now, self.ctx.offset, &noting);
                if noting.1.get() {
                    // A unit added since the names were read: read them again, once.
                    let reads = self.ctx.reads.clone();
                    if let Ok(fresh) = blocking(move || DirectoryNames::read(reads.as_ref())).await
                    {
                        let fresh = Arc::new(fresh);
                        text = phone_text(&event, now, self.ctx.offset, fresh.as_ref());
                        if let Ok(mut n) = self.ctx.names.lock() {
                            *n = fresh;
                        }
                    }
                }
                let text = text?;
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
            self.state.last_failure = None;
            self.state.failing_since = None;
            self.state.next_retry_at = None;
        }
        self.dirty = true;
        self.share();
    }

    /// A failed attempt at `seq`: wait for the next (Go), or pause after a day of failures.
    async fn failed(&mut self, seq: u64, reason: DeliveryFailure, why: String) -> Next {
        let now = self.ctx.clock.now();
        let label = self.spec.borrow().hook.label();
        self.state.failures = self.state.failures.saturating_add(1);
        self.state.last_error = Some(why.clone());
        self.state.last_failure = Some(reason);
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
        tracing::info!(webhook = %label, seq, ?reason, error = %why, failures = self.state.failures,
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
pub(super) struct DirectoryNames {
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

/// Names from a cached directory, noting when one was missing.
struct Noting<'a>(&'a DirectoryNames, Cell<bool>);

impl Names for Noting<'_> {
    fn community(&self, id: CommunityId) -> Option<String> {
        let n = self.0.community(id);
        self.1.set(self.1.get() || n.is_none());
        n
    }
    fn department(&self, id: DepartmentId) -> Option<String> {
        let n = self.0.department(id);
        self.1.set(self.1.get() || n.is_none());
        n
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

/// What every subscription's task shares.
pub(super) struct Ctx {
    pub(super) hooks: Arc<dyn HookStore>,
    pub(super) reads: Arc<dyn Reads>,
    pub(super) writer: WriterHandle,
    pub(super) sender: Sender,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) offset: FixedOffset,
    pub(super) vault: Vault,
    /// Whose tokens stand: a subscription delivers only while its owner's does.
    pub(super) tokens: Arc<TokenBook>,
    pub(super) first_retry: Duration,
    /// The directory's names for robots' messages, read again only when one is missing.
    pub(super) names: Mutex<Arc<DirectoryNames>>,
    /// Which subscription each event is for.
    pub(super) routes: Arc<Mutex<super::route::Routes>>,
}

impl Ctx {
    /// The last sequence number the router offered to every subscription.
    pub(super) fn routed(&self) -> u64 {
        self.routes.lock().map(|r| r.routed()).unwrap_or(0)
    }
}
