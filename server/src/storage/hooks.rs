//! Webhook subscriptions and their delivery state, kept beside the log rather than in it: a
//! cursor moves with every delivery, and writing it through the writer would make every
//! receiver's answer a write of the city's log.
//!
//! A subscription is written durably before its `201`. Its state (the cursor) is saved after
//! each delivery but need not be durable at once: after a crash the cursor may be a little
//! behind and some events go out again with their same `webhook-id` (at least once), never
//! ahead (nothing skipped).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use shaozi_shared::api::HookFormat;
use shaozi_shared::{Principal, Role, Scope};

use super::StoreError;

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHook {
    /// Its number (`H3` is 3); given by the store.
    pub id: u64,
    /// A name for people.
    pub name: String,
    /// Where to deliver.
    pub url: String,
    /// Event types, or `*`.
    pub events: Vec<String>,
    /// What part of the city it sees.
    pub scope: Scope,
    /// Whether it reads as the city office (its own events too).
    pub as_admin: bool,
    /// Its format.
    pub format: HookFormat,
    /// The signing key (`whsec_…`) or a robot's secret (`SEC…`).
    pub secret: Option<String>,
    /// The token that made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When someone last asked for it to resume; a pause before this is over.
    #[serde(default)]
    pub resumed_at: Option<DateTime<Utc>>,
}

impl StoredHook {
    /// Its id as shown, `H3`.
    pub fn label(&self) -> String {
        format!("H{}", self.id)
    }

    /// Who it reads events as.
    pub fn principal(&self) -> Principal {
        let role = if self.as_admin {
            Role::Admin
        } else {
            Role::Viewer
        };
        Principal::new(self.label(), role, self.scope)
    }

    /// Whether it asked for events of this type.
    pub fn wants(&self, kind: shaozi_shared::EventKind) -> bool {
        self.events.iter().any(|e| e == "*" || e == kind.as_str())
    }
}

/// A change to a subscription's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookChange {
    /// Someone asked it to resume at this time.
    Resumed(DateTime<Utc>),
    /// A token took it over: it owns it now, and it reads events as that token may.
    Adopted {
        /// The token's name.
        owner: String,
        /// Whether it reads as the city office.
        as_admin: bool,
    },
}

impl HookChange {
    /// Applies the change to a subscription.
    pub fn apply(&self, hook: &mut StoredHook) {
        match self {
            HookChange::Resumed(at) => hook.resumed_at = Some(*at),
            HookChange::Adopted { owner, as_admin } => {
                hook.created_by.clone_from(owner);
                hook.as_admin = *as_admin;
            }
        }
    }
}

/// How a subscription's deliveries stand; written only by its deliverer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HookState {
    /// The last event delivered or passed over.
    pub delivered: u64,
    /// When the last delivery was answered 2xx.
    #[serde(default)]
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// Failed attempts in a row.
    #[serde(default)]
    pub failures: u32,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The same, for a client to word (none in a state saved before it was kept).
    #[serde(default)]
    pub last_failure: Option<shaozi_shared::api::DeliveryFailure>,
    /// Since when it has been failing.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next attempt is due.
    #[serde(default)]
    pub next_retry_at: Option<DateTime<Utc>>,
    /// When it paused (after a day of failures).
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
}

impl HookState {
    /// Whether it is paused: it paused and no one has asked it to resume since.
    pub fn paused(&self, hook: &StoredHook) -> bool {
        match (self.paused_at, hook.resumed_at) {
            (Some(p), Some(r)) => r < p,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Where subscriptions live: the same store as the city (a sled tree pair, or PostgreSQL
/// tables that every server on the database shares).
pub trait HookStore: Send + Sync + 'static {
    /// Adds a subscription with its first state, giving it the next id (set in `hook`);
    /// durable before it returns.
    fn create_hook(&self, hook: &mut StoredHook, state: &HookState) -> Result<(), StoreError>;
    /// Writes a subscription under its own id with its state (copying a city keeps them);
    /// later ones are numbered after it. Durable before it returns.
    fn restore_hook(&self, hook: &StoredHook, state: &HookState) -> Result<(), StoreError>;
    /// Every subscription, in id order.
    fn hooks(&self) -> Result<Vec<StoredHook>, StoreError>;
    /// One subscription.
    fn hook(&self, id: u64) -> Result<Option<StoredHook>, StoreError>;
    /// A subscription's state.
    fn hook_state(&self, id: u64) -> Result<Option<HookState>, StoreError>;
    /// Changes a subscription in place (resumed, adopted), with no other change to it in
    /// between; durable before it returns. The subscription as changed, or None if there is
    /// no such subscription.
    fn change_hook(&self, id: u64, change: &HookChange) -> Result<Option<StoredHook>, StoreError>;
    /// Removes a subscription and its state; durable before it returns. False if there was
    /// none.
    fn delete_hook(&self, id: u64) -> Result<bool, StoreError>;
    /// Saves a subscription's state; its cursor never moves back (two deliverers for a
    /// moment, after a failover, only repeat). Durable now when `durable` (a pause), else
    /// with the next write.
    fn save_hook_state(&self, id: u64, state: &HookState, durable: bool) -> Result<(), StoreError>;
}
