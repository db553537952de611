//! What is asked of the writer and what it answers: the commands, their replies and
//! refusals, and the events it publishes once a batch is durable.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use shaozi_shared::api::{Community, Department};
use shaozi_shared::api::{
    NewCommunity, NewDepartment, NewStreet, NewToken, NewWhistle, NewWish, Street, TokenInfo,
};
use shaozi_shared::{
    EventScope, Principal, RuleError, Whistle, WhistleAction, WhistleId, Wish, WishAction, WishId,
};

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
    /// A step on a whistle, if it is still at the given version.
    Whistle(WhistleId, WhistleAction, Option<u64>),
    /// File a micro-wish.
    FileWish(NewWish),
    /// A step on a wish, if it is still at the given version.
    Wish(WishId, WishAction, Option<u64>),
    /// Whatever the clock has to do: warn of deadlines near, mark passed ones overdue, close
    /// fixes nobody confirmed in time.
    SweepDeadlines,
    /// Issue a token whose secret hashes to the given value.
    CreateToken(NewToken, [u8; 32]),
    /// Revoke a token by name.
    RevokeToken(String),
    /// Record an activity.
    RecordActivity(shaozi_shared::api::NewActivity),
    /// Add a reply template for the caller's part of the city.
    SaveTemplate(shaozi_shared::api::NewTemplate),
    /// Delete a kept reply template by number (`T3` is 3).
    DeleteTemplate(u64),
    /// Nothing: answered once its batch is durable, so it proves the store takes writes
    /// (`/readyz`).
    Probe,
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
    /// How many steps the clock took (due-soon warnings, deadlines passed, fixes closed
    /// unconfirmed).
    Swept(usize),
    /// A new token.
    Token(Box<TokenInfo>, [u8; 32]),
    /// A revoked token.
    Revoked(Box<TokenInfo>),
    /// The first answer to a create retried with the same Idempotency-Key.
    Replayed(String),
    /// A recorded activity.
    Activity(Box<shaozi_shared::api::Activity>),
    /// A template added, or the one deleted.
    Template(Box<shaozi_shared::api::ReplyTemplate>),
    /// A probe's batch was committed.
    Probed,
}

impl Reply {
    /// The record as JSON, as a create answers it (kept for idempotent retries).
    pub(super) fn to_json(&self) -> Option<String> {
        match self {
            Reply::Street(x) => serde_json::to_string(x).ok(),
            Reply::Community(x) => serde_json::to_string(x).ok(),
            Reply::Department(x) => serde_json::to_string(x).ok(),
            Reply::Whistle(x) => serde_json::to_string(x).ok(),
            Reply::Wish(x) => serde_json::to_string(x).ok(),
            Reply::Activity(x) => serde_json::to_string(x).ok(),
            Reply::Template(x) => serde_json::to_string(x).ok(),
            Reply::Replayed(j) => Some(j.clone()),
            _ => None,
        }
    }
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
    /// The token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The record changed since the version the client read.
    #[error("{detail}")]
    Stale {
        /// Who changed what, in words.
        detail: String,
        /// The record now.
        current: Box<serde_json::Value>,
    },
    /// An Idempotency-Key was reused with a different body.
    #[error("{0}")]
    KeyReused(String),
}

/// A committed event, serialized once for every subscriber.
#[derive(Debug)]
pub struct Published {
    /// Its sequence number.
    pub seq: u64,
    /// The event as JSON.
    pub json: String,
    /// What happened (None only for an event this build cannot read).
    pub kind: Option<shaozi_shared::EventKind>,
    /// Who may see it.
    pub scope: EventScope,
}

/// An Idempotency-Key, namespaced by token, with the hash of the request body.
#[derive(Debug, Clone)]
pub struct Idem {
    /// Token name, 0, the key.
    pub key: Vec<u8>,
    /// SHA-256 of the canonical body.
    pub body: [u8; 32],
}

/// One request as the writer holds it until its batch is durable.
pub(super) struct Job {
    pub(super) cmd: Command,
    pub(super) who: Principal,
    pub(super) at: Option<DateTime<Utc>>,
    pub(super) idem: Option<Idem>,
    pub(super) reply: oneshot::Sender<Result<Reply, WriteError>>,
}
