//! Domain types and rules of shaozi (哨子), shared by the server and the dashboard.
//!
//! Pure: no I/O, no clocks. Every rule takes `now` from its caller so that the server can
//! inject time and tests can move it.
//!
//! Two halves: [`domain`], the rules (records, state machines, deadlines, the calendar,
//! permissions, the assessment), and [`api`], the wire (every request body and answer of the
//! HTTP API, which the server and the dashboard both use). The wire builds on the rules, never
//! the other way round, and neither half has an import circle (a test checks both).

// Both crates that use this one read it as their reference: every public item says what it is.
#![deny(missing_docs)]

pub mod api;
pub mod domain;
#[cfg(feature = "openapi")]
mod schema;

pub use domain::{
    access, assessment, calendar, case, category, csv, event, ids, ledger, patterns, questions,
    rules, templates, text, whistle, wish, RefusalCode, RuleError,
};

pub use access::{Op, Principal, Role, Scope};
pub use category::{Category, Deadlines, StageDeadlines, Urgency, CATEGORIES};
pub use event::{Actor, Audience, Event, EventKind, EventScope, TimelineEntry};
pub use ids::{CommunityId, DepartmentId, IdParseError, StreetId, WhistleId, WishId};
pub use rules::Rules;
pub use whistle::{Whistle, WhistleAction, WhistleStatus};
pub use wish::{Wish, WishAction, WishStatus};
