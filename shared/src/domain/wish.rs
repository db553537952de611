//! The micro-wish (微心愿) and its state machine: open → claimed → completed, or cancelled.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::EventKind;
use crate::ids::{CommunityId, DepartmentId, StreetId, WishId};
use crate::text::{self, optional, required};
use crate::whistle::Outcome;
use crate::{RefusalCode, RuleError};

/// Where a wish is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WishStatus {
    /// Waiting for someone to claim it.
    Open,
    /// Claimed (认领) by a department or a person.
    Claimed,
    /// Done (完成).
    Completed,
    /// Withdrawn.
    Cancelled,
}

impl WishStatus {
    /// Every status.
    pub const ALL: [WishStatus; 4] = [
        WishStatus::Open,
        WishStatus::Claimed,
        WishStatus::Completed,
        WishStatus::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WishStatus::Open => "open",
            WishStatus::Claimed => "claimed",
            WishStatus::Completed => "completed",
            WishStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A small stable number for store keys.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A resident's small wish and who took it on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wish {
    /// Short id, e.g. `M17`.
    pub id: WishId,
    /// Where it is in its life.
    pub status: WishStatus,
    /// The resident's community.
    pub community_id: CommunityId,
    /// The community's street office.
    pub street_id: StreetId,
    /// One line, e.g. "给留守儿童买一个书包".
    pub title: String,
    /// More detail.
    pub description: Option<String>,
    /// Value in fen (1 yuan = 100 fen).
    pub value_fen: i64,
    /// Who filed it.
    pub filed_by: String,
    /// The claiming department, if a department claimed it.
    pub department_id: Option<DepartmentId>,
    /// The claiming person, if named.
    pub claimer: Option<String>,
    /// When filed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// When completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Completion note or cancellation reason.
    pub note: Option<String>,
    /// Bumped by every change; starts at 1.
    pub version: u64,
}

/// Largest value of one wish: 1,000,000 yuan, far above any micro-wish, to catch typos.
pub const MAX_VALUE_FEN: i64 = 100_000_000;

/// A step on a wish.
#[derive(Debug, Clone, PartialEq)]
pub enum WishAction {
    /// Take it on.
    Claim {
        /// Claiming department.
        department_id: Option<DepartmentId>,
        /// Claiming person.
        claimer: Option<String>,
    },
    /// It is done.
    Complete {
        /// Optional note.
        note: Option<String>,
    },
    /// Withdraw it.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl WishAction {
    /// The verb, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            WishAction::Claim { .. } => "claim",
            WishAction::Complete { .. } => "complete",
            WishAction::Cancel { .. } => "cancel",
        }
    }
}

/// Which statuses allow an action.
pub fn allowed(status: WishStatus, action: &WishAction) -> bool {
    match action {
        WishAction::Claim { .. } => status == WishStatus::Open,
        WishAction::Complete { .. } => status == WishStatus::Claimed,
        WishAction::Cancel { .. } => matches!(status, WishStatus::Open | WishStatus::Claimed),
    }
}

/// Applies `action` to `w` at `now`.
pub fn apply(
    w: &Wish,
    action: &WishAction,
    now: DateTime<Utc>,
) -> Result<Outcome<Wish>, RuleError> {
    if !allowed(w.status, action) {
        let hint = match (w.status, action) {
            (WishStatus::Open, WishAction::Complete { .. }) => "; claim it first",
            (WishStatus::Claimed, WishAction::Claim { .. }) => "; someone has already claimed it",
            _ => "",
        };
        return Err(RuleError::NotAllowed {
            action: action.name(),
            subject: "wish",
            id: w.id.to_string(),
            status: w.status.as_str(),
            code: RefusalCode::NotAllowed,
            hint: hint.to_string(),
        });
    }
    let mut n = w.clone();
    n.version += 1;
    n.updated_at = now;
    let events = match action {
        WishAction::Claim {
            department_id,
            claimer,
        } => {
            let claimer = optional("claimer", claimer.as_deref(), text::PERSON)?;
            if department_id.is_none() && claimer.is_none() {
                return Err(RuleError::invalid(
                    "department_id",
                    "name the claiming department (department_id) or person (claimer)",
                ));
            }
            n.status = WishStatus::Claimed;
            n.department_id = *department_id;
            n.claimer = claimer;
            n.claimed_at = Some(now);
            vec![(EventKind::WishClaimed, None)]
        }
        WishAction::Complete { note } => {
            let note = optional("note", note.as_deref(), text::NOTE)?;
            n.status = WishStatus::Completed;
            n.completed_at = Some(now);
            n.note = note.clone();
            vec![(EventKind::WishCompleted, note)]
        }
        WishAction::Cancel { reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            n.status = WishStatus::Cancelled;
            n.note = Some(reason.clone());
            vec![(EventKind::WishCancelled, Some(reason))]
        }
    };
    Ok(Outcome { record: n, events })
}

/// Checks a wish's value.
pub fn check_value(value_fen: i64) -> Result<i64, RuleError> {
    if !(0..=MAX_VALUE_FEN).contains(&value_fen) {
        return Err(RuleError::coded(
            "value_fen",
            RefusalCode::OutOfRange,
            format!("must be from 0 to {MAX_VALUE_FEN} fen (1 yuan = 100 fen); got {value_fen}"),
        ));
    }
    Ok(value_fen)
}
