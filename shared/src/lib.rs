//! Domain types and rules of shaozi (哨子), shared by the server and the dashboard.
//!
//! Pure: no I/O, no clocks. Every rule takes `now` from its caller so that the server can
//! inject time and tests can move it.

pub mod access;
pub mod api;
pub mod assessment;
pub mod calendar;
pub mod category;
pub mod csv;
pub mod event;
pub mod ids;
pub mod questions;
#[cfg(feature = "openapi")]
mod schema;
pub mod text;
pub mod whistle;
pub mod wish;

pub use access::{Op, Principal, Role, Scope};
pub use category::{Category, Deadlines, Rules, StageDeadlines, CATEGORIES};
pub use event::{Actor, Audience, Event, EventKind, EventScope, TimelineEntry};
pub use ids::{CommunityId, DepartmentId, IdParseError, StreetId, WhistleId, WishId};
pub use whistle::{Urgency, Whistle, WhistleAction, WhistleStatus};
pub use wish::{Wish, WishAction, WishStatus};

/// Why a rule refused a command: bad input (a field) or a step the current status forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A field's value is unacceptable; `reason` says why in words a person can act on.
    #[error("{field}: {reason}")]
    Invalid {
        /// The JSON field at fault.
        field: std::borrow::Cow<'static, str>,
        /// What is wrong with it.
        reason: String,
    },
    /// The record's current status does not allow this step.
    #[error("cannot {action} {subject} {id}: it is {status}{hint}")]
    NotAllowed {
        /// The step that was attempted.
        action: &'static str,
        /// "whistle" or "wish".
        subject: &'static str,
        /// The record's id.
        id: String,
        /// Its current status.
        status: &'static str,
        /// Extra guidance, starting with "; " when present.
        hint: String,
    },
}

impl RuleError {
    /// Shorthand for an invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An invalid field whose name is built at run time, e.g. `attribute[hazard]`.
    pub fn invalid_owned(field: String, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
