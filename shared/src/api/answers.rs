//! What the server answers: records, pages, totals, the assessment, who a token is, and the
//! problem document of every refusal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Op, Role, Scope};
use crate::assessment::{UnitScore, Weights};
use crate::category::Category;
use crate::event::TimelineEntry;
use crate::ids::{CommunityId, DepartmentId, StreetId};
use crate::whistle::Whistle;
use crate::wish::Wish;

use super::ActivityKind;

/// A street office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Street {
    /// Id, e.g. `S2`.
    pub id: StreetId,
    /// Name, e.g. 桃花仑街道.
    pub name: String,
    /// When added.
    pub created_at: DateTime<Utc>,
}

/// A community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Community {
    /// Id, e.g. `C12`.
    pub id: CommunityId,
    /// Name, e.g. 朝阳路社区.
    pub name: String,
    /// Its street office.
    pub street_id: StreetId,
    /// When added.
    pub created_at: DateTime<Utc>,
}

/// A municipal department and the categories it handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Department {
    /// Id, e.g. `D40`.
    pub id: DepartmentId,
    /// Name, e.g. 市城管局.
    pub name: String,
    /// Category codes it handles.
    pub categories: Vec<String>,
    /// When added.
    pub created_at: DateTime<Utc>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/whistles/{id}`: the whistle and its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhistleDetail {
    /// The whistle.
    #[serde(flatten)]
    pub whistle: Whistle,
    /// Every step, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// A case like another (`GET /api/v1/whistles/{id}/similar`, and a create's `similar`): the
/// problem may already be known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Similar {
    /// The case.
    pub whistle: Whistle,
    /// How alike their words are, 0–1: the share of the asking case's terms it holds too.
    pub score: f64,
    /// Filed in the same community.
    pub same_community: bool,
    /// Metres between them, when both have coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Words both hold (character pairs for Chinese), the most telling first.
    pub shared: Vec<String>,
}

/// `POST /api/v1/whistles`' answer: the whistle filed, and the known cases most like it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filed {
    /// The whistle.
    #[serde(flatten)]
    pub whistle: Whistle,
    /// Open or recent cases of the same category nearby whose words are alike, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub similar: Vec<Similar>,
}

/// `GET /api/v1/categories` item.
pub type CategoryInfo = Category;

/// The unanswered queue's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueStats {
    /// New or dispatched: nobody has reported for duty.
    pub unanswered: i64,
    /// Unanswered and past the deadline to report for duty.
    pub overdue: i64,
    /// Unanswered and urgent.
    pub urgent: i64,
}

/// One department's load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentLoad {
    /// Department id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Dispatched and waiting for it to report for duty.
    pub dispatched: i64,
    /// Reported for duty, being worked on.
    pub acknowledged: i64,
    /// Not yet closed or rejected (dispatched, acknowledged or resolved).
    pub open: i64,
    /// Past a deadline now.
    pub overdue: i64,
}

/// Wish totals, overall or for one community.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishTotals {
    /// Filed (not cancelled).
    pub total: i64,
    /// Claimed, including those since completed.
    pub claimed: i64,
    /// Completed.
    pub completed: i64,
    /// Value of all filed wishes, fen.
    pub value_total_fen: i64,
    /// Value of completed wishes, fen.
    pub value_completed_fen: i64,
}

/// One community's wishes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunityWishes {
    /// Community id.
    pub community_id: String,
    /// Its name.
    pub name: String,
    /// Its totals.
    #[serde(flatten)]
    pub totals: WishTotals,
}

/// Wish totals with the per-community breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishStats {
    /// City-wide totals.
    #[serde(flatten)]
    pub totals: WishTotals,
    /// Per community, most wishes first.
    pub by_community: Vec<CommunityWishes>,
}

/// `GET /api/v1/stats`: kept as counters, so it costs the same at any history size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// The unanswered queue.
    pub queue: QueueStats,
    /// Load per department, busiest first.
    pub departments: Vec<DepartmentLoad>,
    /// Micro-wishes.
    pub wishes: WishStats,
    /// Whistles per source (来源), every source listed, within the token's scope (a
    /// department's: those it leads).
    #[serde(default)]
    pub sources: Vec<SourceTotal>,
    /// Sequence number of the last event reflected here.
    pub last_seq: u64,
}

/// How many whistles came from one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceTotal {
    /// The source.
    pub source: crate::case::Source,
    /// Whistles from it, all time.
    pub whistles: i64,
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// Name.
    pub name: String,
    /// Role.
    pub role: crate::access::Role,
    /// Scope.
    pub scope: crate::access::Scope,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `201` to `POST /api/v1/tokens`: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// Name.
    pub name: String,
    /// Role.
    pub role: crate::access::Role,
    /// The token; only its hash is kept.
    pub token: String,
    /// Scope.
    pub scope: crate::access::Scope,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A recorded activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    /// Id, e.g. `A7`.
    pub id: String,
    /// The department.
    pub department_id: DepartmentId,
    /// The community.
    pub community_id: CommunityId,
    /// What kind.
    pub kind: ActivityKind,
    /// The day.
    pub date: chrono::NaiveDate,
    /// How many took part.
    pub participants: i64,
    /// What was done.
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A wish with its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishDetail {
    /// The wish.
    #[serde(flatten)]
    pub wish: Wish,
    /// Every step so far.
    pub timeline: Vec<TimelineEntry>,
}

/// `GET /api/v1/me`: who this token is and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Token name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// The steps this token may take (within its scope): file_whistle, dispatch, handle,
    /// confirm, file_wish, claim_wish, edit_directory, administer.
    pub may: Vec<Op>,
    /// The city's offset from UTC in minutes (480 for UTC+8): deadlines, working hours and
    /// the assessment's days are counted in it, so a client shows times in it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
}

impl Me {
    /// Whether the token may do `op` at all.
    pub fn may(&self, op: Op) -> bool {
        self.may.contains(&op)
    }
}

/// Whistles filed and closed on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Day {
    /// The local date.
    pub date: chrono::NaiveDate,
    /// Filed that day.
    pub filed: i64,
    /// Closed that day.
    pub closed: i64,
}

/// The assessment of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// department, street or community.
    pub group: String,
    /// The weights of the score.
    pub weights: Weights,
    /// Units, ranked.
    pub units: Vec<UnitScore>,
    /// Whistles filed and closed per local day of the period.
    pub daily: Vec<Day>,
}

/// One page of the durable log, for polling clients.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    /// Events after `after` that this token may see, in sequence order.
    // Each is passed through as stored, never parsed again.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::event::Event>))]
    pub items: Vec<Box<serde_json::value::RawValue>>,
    /// The sequence number this page read up to: pass it as `after` next time.
    pub after: u64,
    /// Whether more events were already on disk past this page.
    pub more: bool,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// Events, in sequence order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::event::Event>))]
    pub items: Vec<serde_json::Value>,
    /// Pass as `cursor` for more.
    pub next_cursor: Option<String>,
}

/// A problem as it goes on the wire (RFC 9457 `application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What exactly went wrong and what to do, in English.
    pub detail: String,
    /// The refusal's stable machine name, for clients to word in their own language:
    /// invalid, empty, too_long, control_characters, direction_control, no_visible_text,
    /// too_few_staff, too_many_staff, reason_required, out_of_range, self_duplicate,
    /// unknown_reference, not_allowed, already_assigned, top_escalation, already_overdue,
    /// not_found, forbidden, unauthorized, stale, rate_limited, unavailable, duplicate,
    /// bad_request, internal. More may be added; treat an unknown one as `invalid`.
    #[serde(default)]
    pub code: String,
    /// The request field at fault, for input errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The record's current status, for steps it does not allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    /// The record as it is now, for a stale `If-Match` (412).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub current: Option<serde_json::Value>,
}
