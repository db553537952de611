//! Which subscription an event is for, decided once per event for all of them: the writer's
//! broadcast is read by one router, which matches each event by type (an index) and then by
//! scope, and hands it only to the subscriptions that want it. A subscription that wants none
//! of a city's traffic costs nothing per event: its task sleeps until something is for it.
//! Before, every subscription's task woke for every event to see whether it was wanted: with
//! thousands of subscriptions that wanted nothing, that alone took the server's CPU.
//!
//! The router offers events in sequence order, so when a subscription's next event is further
//! on than its cursor, everything between was not for it, and its cursor moves there without
//! reading the log. When the router itself falls behind the broadcast, or an inbox fills, the
//! subscriptions it could not serve are told to read the log from their cursors.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch, Notify};

use shaozi_shared::{EventKind, Principal};

use crate::writer::Published;

/// Events an inbox holds before its subscription is told to read the log instead (a slow
/// receiver's subscription falls behind; the others go on).
const INBOX: usize = 1024;

/// What the router hands one subscription's task.
pub(super) struct Inbox {
    events: Mutex<VecDeque<Arc<Published>>>,
    /// Something was put in (or it overflowed).
    pub(super) ready: Notify,
    /// Events meant for it were dropped: it reads the log from its cursor.
    overflowed: AtomicBool,
    /// Its task is not asleep with nothing to do: events in hand, the log being read, a
    /// retry or a pause waited out, or not started yet.
    busy: AtomicBool,
}

impl Inbox {
    /// An inbox whose task has not started yet (busy until it sleeps with nothing to do).
    pub(super) fn new() -> Inbox {
        Inbox {
            events: Mutex::default(),
            ready: Notify::new(),
            overflowed: AtomicBool::new(false),
            busy: AtomicBool::new(true),
        }
    }

    /// The task is awake: whatever the router offered since is not known to be passed over.
    pub(super) fn awake(&self) {
        self.busy.store(true, Ordering::Release);
    }
    /// Everything waiting, and whether some was lost (then the log must be read); the task
    /// is busy with them until [`Inbox::done`].
    pub(super) fn take(&self) -> (Vec<Arc<Published>>, bool) {
        self.busy.store(true, Ordering::Release);
        let lost = self.overflowed.swap(false, Ordering::AcqRel);
        let events = match self.events.lock() {
            Ok(mut q) => q.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        (events, lost)
    }

    /// The task goes to sleep with nothing to do.
    pub(super) fn asleep(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// Whether nothing waits and nothing is in hand.
    pub(super) fn is_empty(&self) -> bool {
        !self.busy.load(Ordering::Acquire)
            && !self.overflowed.load(Ordering::Acquire)
            && self.events.lock().map(|q| q.is_empty()).unwrap_or(true)
    }

    fn put(&self, e: Arc<Published>) {
        let full = match self.events.lock() {
            Ok(mut q) if q.len() < INBOX => {
                q.push_back(e);
                false
            }
            _ => true,
        };
        if full {
            self.lose();
        } else {
            self.ready.notify_one();
        }
    }

    fn lose(&self) {
        self.overflowed.store(true, Ordering::Release);
        if let Ok(mut q) = self.events.lock() {
            q.clear();
        }
        self.ready.notify_one();
    }
}

/// One subscription as the router matches it.
struct Route {
    /// Event types it wants (None: every one).
    kinds: Option<Vec<EventKind>>,
    /// Who it reads events as.
    who: Principal,
    inbox: Arc<Inbox>,
}

/// The subscriptions this server delivers, indexed by the event types they want.
#[derive(Default)]
pub(super) struct Routes {
    routes: HashMap<u64, Route>,
    /// Subscriptions by event type; those that want every type under None.
    by_kind: HashMap<Option<EventKind>, Vec<u64>>,
    /// The last sequence number offered to every subscription.
    routed: AtomicU64,
    /// Events handed to a subscription, over all of them (`/metrics`).
    handed: AtomicU64,
}

impl Routes {
    /// Adds or changes a subscription's route.
    pub(super) fn set(&mut self, id: u64, events: &[String], who: Principal, inbox: Arc<Inbox>) {
        let kinds = if events.iter().any(|e| e == "*") {
            None
        } else {
            Some(
                EventKind::ALL
                    .iter()
                    .copied()
                    .filter(|k| events.iter().any(|e| e == k.as_str()))
                    .collect(),
            )
        };
        self.routes.insert(id, Route { kinds, who, inbox });
        self.reindex();
    }

    /// Removes a subscription's route.
    pub(super) fn remove(&mut self, id: u64) {
        if self.routes.remove(&id).is_some() {
            self.reindex();
        }
    }

    fn reindex(&mut self) {
        self.by_kind.clear();
        for (id, r) in &self.routes {
            match &r.kinds {
                None => self.by_kind.entry(None).or_default().push(*id),
                Some(kinds) => {
                    for k in kinds {
                        self.by_kind.entry(Some(*k)).or_default().push(*id);
                    }
                }
            }
        }
    }

    /// Hands `e` to the subscriptions it is for.
    fn offer(&self, e: &Arc<Published>) {
        let by_type = e.kind.and_then(|k| self.by_kind.get(&Some(k)));
        let every = self.by_kind.get(&None);
        for id in by_type.into_iter().chain(every).flatten() {
            if let Some(r) = self.routes.get(id) {
                if e.scope.visible_to(&r.who) {
                    r.inbox.put(e.clone());
                    self.handed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.routed.store(e.seq, Ordering::Release);
    }

    /// Every inbox misses what the router missed: each reads the log.
    fn lose_all(&self) {
        for r in self.routes.values() {
            r.inbox.lose();
        }
    }

    /// Events handed to a subscription so far, over all of them.
    pub(super) fn handed(&self) -> u64 {
        self.handed.load(Ordering::Relaxed)
    }

    /// The last sequence number offered to every subscription.
    pub(super) fn routed(&self) -> u64 {
        self.routed.load(Ordering::Acquire)
    }
}

/// Reads the writer's broadcast until `stop`, handing each event to the subscriptions it is for.
pub(super) async fn run(
    routes: Arc<Mutex<Routes>>,
    mut live: broadcast::Receiver<Arc<Published>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            _ = stop.changed() => return,
            r = live.recv() => r,
        };
        let mut next = Some(first);
        while let Some(r) = next.take() {
            match r {
                Ok(p) => {
                    if let Ok(routes) = routes.lock() {
                        routes.offer(&p);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(routes) = routes.lock() {
                        routes.lose_all();
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
            next = match live.try_recv() {
                Ok(p) => Some(Ok(p)),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Some(Err(broadcast::error::RecvError::Lagged(n)))
                }
                Err(_) => None,
            };
        }
    }
}
