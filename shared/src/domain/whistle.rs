//! The whistle (吹哨, a case) and its state machine.
//!
//! ```text
//! new ─dispatch─▶ dispatched ─acknowledge─▶ acknowledged ─resolve─▶ resolved ─close─▶ closed
//!  │               │ ▲ │ ▲ reassign              ▲  │ extension,            │ ▲      ▲
//!  │               │ │ └─┘                       │  └ approve/deny          │ │      │
//!  │        return │ │ overrule, or dispatch     └──────reopen──────────────┘ │ (confirmation
//!  │               ▼ │ elsewhere (upheld)                       call-back ──┘   deadline:
//!  │            returned                                                        auto-close)
//!  └─reject─▶ rejected  (dispatched and returned may also be rejected)
//! ```
//! Escalation (by hand, or when a deadline passes) raises the level of an open whistle
//! without changing its status; urging presses the department without raising it. The middle
//! of a case (returns, extensions, urges, call-backs, due-soon warnings, the confirmation
//! deadline) is described in [`crate::case`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::case::{CallBack, CaseRules, ExtensionRequest, ReturnRequest, Source};
use crate::category::{Deadlines, Urgency};
use crate::ids::{CommunityId, DepartmentId, StreetId, WhistleId};

mod action;
mod joint;
mod middle;
mod steps;

pub use crate::case::{Call, CallRole, Muster};
pub use action::WhistleAction;
pub use joint::parts_open;
pub use steps::{allowed, apply, open_to, Outcome};

/// The highest escalation level: 0 the street, 1 the city, 2 the city's leaders.
pub const TOP_ESCALATION: u32 = 2;

/// Where a whistle is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WhistleStatus {
    /// Filed; no department called yet.
    New,
    /// A department has been called and must report for duty.
    Dispatched,
    /// The department reported for duty (报到) and is working on it.
    Acknowledged,
    /// The department replied that it is fixed; awaiting the community's confirmation.
    Resolved,
    /// The community confirmed and rated the fix.
    Closed,
    /// Not a real problem, or a duplicate.
    Rejected,
    /// The department sent it back as not theirs (退单); the dispatcher upholds the return by
    /// dispatching elsewhere, or overrules it. Last, so the store codes of the others stay.
    Returned,
}

impl WhistleStatus {
    /// Every status, in life order.
    pub const ALL: [WhistleStatus; 7] = [
        WhistleStatus::New,
        WhistleStatus::Dispatched,
        WhistleStatus::Acknowledged,
        WhistleStatus::Resolved,
        WhistleStatus::Closed,
        WhistleStatus::Rejected,
        WhistleStatus::Returned,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WhistleStatus::New => "new",
            WhistleStatus::Dispatched => "dispatched",
            WhistleStatus::Acknowledged => "acknowledged",
            WhistleStatus::Resolved => "resolved",
            WhistleStatus::Closed => "closed",
            WhistleStatus::Rejected => "rejected",
            WhistleStatus::Returned => "returned",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Nobody has reported for duty yet: the dispatcher's live queue.
    pub fn is_unanswered(self) -> bool {
        matches!(
            self,
            WhistleStatus::New | WhistleStatus::Dispatched | WhistleStatus::Returned
        )
    }

    /// No further step is possible.
    pub fn is_terminal(self) -> bool {
        matches!(self, WhistleStatus::Closed | WhistleStatus::Rejected)
    }

    /// A small stable number for store keys.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status for a store key byte.
    pub fn from_code(c: u8) -> Option<Self> {
        Self::ALL.get(usize::from(c)).copied()
    }
}

impl std::fmt::Display for WhistleStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resident who reported a problem (through Open311, say). Kept with the case for the
/// department's call-back; the public Open311 read side never shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 50))]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub phone: Option<String>,
}

/// A case a community filed, with everything that happened to it so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Whistle {
    /// Short id, e.g. `W1042`.
    pub id: WhistleId,
    /// Where it is in its life.
    pub status: WhistleStatus,
    /// Urgent or normal.
    pub urgency: Urgency,
    /// Category code.
    pub category: String,
    /// The community that blew the whistle.
    pub community_id: CommunityId,
    /// The community's street office.
    pub street_id: StreetId,
    /// The lead department, once dispatched.
    pub department_id: Option<DepartmentId>,
    /// Departments assisting the lead.
    #[serde(default)]
    pub assisting: Vec<DepartmentId>,
    /// Every department called, the lead first: its deadline to report, when it reported
    /// and who came, and (assisting) when it marked its part done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// Where and when the called departments report, when the dispatcher set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muster: Option<Muster>,
    /// One line.
    pub title: String,
    /// What the problem is.
    pub description: String,
    /// Where, in words.
    pub address: Option<String>,
    /// Latitude, WGS84.
    pub lat: Option<f64>,
    /// Longitude, WGS84.
    pub long: Option<f64>,
    /// A photo of the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The resident who reported it, for the call-back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
    /// Answers to the category's questions.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: crate::questions::Answers,
    /// Who filed it.
    pub filed_by: String,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Deadline to report for duty.
    pub respond_by: DateTime<Utc>,
    /// Deadline to resolve.
    pub resolve_by: DateTime<Utc>,
    /// When a department was (last) called.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// When the department reported for duty.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was (last) resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it closed or was rejected.
    pub closed_at: Option<DateTime<Utc>>,
    /// Staff who reported for duty.
    #[serde(default)]
    pub staff: Vec<String>,
    /// The department's latest reply.
    pub reply: Option<String>,
    /// The community's rating, 1–5.
    pub satisfaction: Option<u8>,
    /// Past the deadline of its current stage.
    pub overdue: bool,
    /// Reported for duty after the deadline (or not yet, and the deadline passed).
    #[serde(default)]
    pub respond_late: bool,
    /// Resolved after the deadline (or not yet, and the deadline passed).
    #[serde(default)]
    pub resolve_late: bool,
    /// 0 street, 1 city, 2 leaders; raised when a deadline passes or by hand.
    pub escalation_level: u32,
    /// Times the community rejected the fix.
    #[serde(default)]
    pub reopened: u32,
    /// The original, when rejected as a duplicate.
    pub duplicate_of: Option<WhistleId>,
    /// Whistles rejected as duplicates of this one.
    #[serde(default)]
    pub duplicates: Vec<WhistleId>,
    /// Who reported its duplicates (their contact carried over, so each can be called back),
    /// read only by those who may read the reporter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_reported: Vec<Reporter>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// Where it came from.
    #[serde(default)]
    pub source: Source,
    /// The department's return, while the dispatcher decides (status `returned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_return: Option<ReturnRequest>,
    /// Departments whose return was upheld (it was not theirs), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns_upheld: Vec<DepartmentId>,
    /// Returns the dispatcher overruled (they count against the lead department).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returns_overruled: u32,
    /// Times a department was called: the first dispatch, reassignments and re-dispatches.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dispatches: u32,
    /// The department's request for more time, while the dispatcher decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_extension: Option<ExtensionRequest>,
    /// Extensions granted (the resolve deadline moved).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extensions_granted: u32,
    /// Extensions denied.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extensions_denied: u32,
    /// Times a dispatcher urged the department (催办).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub urges: u32,
    /// When it was last urged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urged_at: Option<DateTime<Utc>>,
    /// When the pending deadline becomes due soon (its due-soon share of time left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_soon_at: Option<DateTime<Utc>>,
    /// The deadline a due-soon warning went out for: one warning per deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_soon_sent_for: Option<DateTime<Utc>>,
    /// When the deadlines now running started, if not at filing: a re-dispatch after an upheld
    /// return (both clocks), or the latest reopening (the resolve clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks_from: Option<DateTime<Utc>>,
    /// While resolved: when it closes by itself unless the community closes or reopens it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<DateTime<Utc>>,
    /// Closed by the confirmation deadline, without a rating.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_closed: bool,
    /// Calls back to the resident (回访), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<CallBack>,
    /// Bumped by every change; starts at 1.
    pub version: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What a community sends to blow the whistle, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    /// The community.
    pub community_id: CommunityId,
    /// Its street office.
    pub street_id: StreetId,
    /// Category code.
    pub category: String,
    /// One line.
    pub title: String,
    /// What the problem is.
    pub description: String,
    /// Urgent or normal.
    pub urgency: Urgency,
    /// Where, in words.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub long: Option<f64>,
    /// A photo of the problem.
    pub media_url: Option<String>,
    /// The resident who reported it.
    pub reporter: Option<Reporter>,
    /// Answers to the category's questions.
    pub attributes: crate::questions::Answers,
}

impl Whistle {
    /// A freshly filed whistle with its deadlines set; [`Whistle::schedule`] then sets when
    /// its first deadline is due soon, by the case rules.
    pub fn file(
        id: WhistleId,
        f: Filing,
        filed_by: &str,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
        cal: &Calendar,
    ) -> Whistle {
        Whistle {
            id,
            status: WhistleStatus::New,
            urgency: f.urgency,
            category: f.category,
            community_id: f.community_id,
            street_id: f.street_id,
            department_id: None,
            assisting: Vec::new(),
            calls: Vec::new(),
            muster: None,
            title: f.title,
            description: f.description,
            address: f.address,
            lat: f.lat,
            long: f.long,
            media_url: f.media_url,
            reporter: f.reporter,
            attributes: f.attributes,
            filed_by: filed_by.to_string(),
            created_at: now,
            updated_at: now,
            respond_by: deadlines.respond_by(f.urgency, now, cal),
            resolve_by: deadlines.resolve_by(f.urgency, now, cal),
            dispatched_at: None,
            acknowledged_at: None,
            resolved_at: None,
            closed_at: None,
            staff: Vec::new(),
            reply: None,
            satisfaction: None,
            overdue: false,
            respond_late: false,
            resolve_late: false,
            escalation_level: 0,
            reopened: 0,
            duplicate_of: None,
            duplicates: Vec::new(),
            also_reported: Vec::new(),
            reject_reason: None,
            source: Source::default(),
            pending_return: None,
            returns_upheld: Vec::new(),
            returns_overruled: 0,
            dispatches: 0,
            pending_extension: None,
            extensions_granted: 0,
            extensions_denied: 0,
            urges: 0,
            urged_at: None,
            due_soon_at: None,
            due_soon_sent_for: None,
            clocks_from: None,
            confirm_by: None,
            auto_closed: false,
            callbacks: Vec::new(),
            version: 1,
        }
    }

    /// The deadline the whistle is racing now, if any: to report for duty while unanswered,
    /// to resolve while acknowledged. Once that deadline has passed (overdue) there is none.
    pub fn pending_deadline(&self) -> Option<DateTime<Utc>> {
        if self.overdue {
            return None;
        }
        self.stage_deadline()
    }

    /// The deadline of its current stage (passed or not), for ordering and display.
    pub fn stage_deadline(&self) -> Option<DateTime<Utc>> {
        match self.status {
            s if s.is_unanswered() => Some(self.respond_by),
            WhistleStatus::Acknowledged => Some(self.resolve_by),
            _ => None,
        }
    }

    /// When the clock next has something to do with it: warn that the pending deadline is
    /// near, mark it passed, or close a fix nobody confirmed. The store keeps whistles by this
    /// time, so the sweep reads only what is due.
    pub fn next_alarm(&self) -> Option<DateTime<Utc>> {
        if self.status == WhistleStatus::Resolved {
            return self.confirm_by;
        }
        let own = self.pending_deadline().map(|due| match self.due_soon_at {
            Some(soon) if self.due_soon_sent_for != Some(due) && soon < due => soon,
            _ => due,
        });
        // An assisting department's deadline to report wakes the clock too.
        match (own, self.next_missed()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest deadline of an assisting department that has neither reported nor been
    /// found late, while the case is dispatched or being worked on.
    pub fn next_missed(&self) -> Option<DateTime<Utc>> {
        if !matches!(
            self.status,
            WhistleStatus::Dispatched | WhistleStatus::Acknowledged
        ) {
            return None;
        }
        self.calls
            .iter()
            .filter(|c| {
                c.role == CallRole::Assisting && c.reported_at.is_none() && c.missed_at.is_none()
            })
            .map(|c| c.report_by)
            .min()
    }

    /// Sets when the pending deadline becomes due soon, from when its clock started; a
    /// deadline that already had its warning gets none again.
    pub fn schedule(&mut self, rules: &CaseRules) {
        self.due_soon_at = self.pending_deadline().and_then(|due| {
            if self.due_soon_sent_for == Some(due) {
                return None;
            }
            let from = self.clocks_from.unwrap_or(self.created_at);
            rules.due_soon_at(from, due)
        });
    }

    /// Its class in the queue's order, first what the dispatcher must act on: 0 returned by
    /// the department, 1 overdue, 2 the rest. The store and the dashboard sort by it alike.
    pub fn queue_class(&self) -> u8 {
        if self.status == WhistleStatus::Returned {
            0
        } else if self.overdue {
            1
        } else {
            2
        }
    }

    /// The resident's own rating from the latest call-back that reached them and got one.
    pub fn resident_satisfaction(&self) -> Option<u8> {
        self.callbacks.iter().rev().find_map(|c| c.satisfaction)
    }
}

/// What a step is measured against: the category's deadlines, the calendar they are counted
/// on, and the rules of the middle of a case.
#[derive(Debug, Clone, Copy)]
pub struct Book<'a> {
    /// The whistle's category's deadlines.
    pub deadlines: Deadlines,
    /// Working hours and holidays.
    pub calendar: &'a Calendar,
    /// Windows and limits of returns, extensions, warnings and confirmation.
    pub case: &'a CaseRules,
}
