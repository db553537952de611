//! The vocabulary every engine reads by: list queries and their cursors, pages by filing
//! time, the assessment's groups and days.

use chrono::{DateTime, Utc};
use shaozi_shared::{
    CommunityId, DepartmentId, StreetId, Urgency, Whistle, WhistleStatus, WishStatus,
};

use shaozi_shared::assessment::{CaseMeasures, UnitKind};

use super::StoreError;

/// Filters and paging for `GET /api/v1/whistles`.
#[derive(Debug, Clone, Default)]
pub struct WhistleQuery {
    /// Statuses to include; empty means all.
    pub statuses: Vec<WhistleStatus>,
    /// Lead department.
    pub department_id: Option<DepartmentId>,
    /// A department leading or assisting (a department's own list: joint 报到).
    pub involving: Option<DepartmentId>,
    /// Community.
    pub community_id: Option<CommunityId>,
    /// Street office.
    pub street_id: Option<StreetId>,
    /// Only overdue (true) or only not overdue (false).
    pub overdue: Option<bool>,
    /// Only this urgency.
    pub urgency: Option<Urgency>,
    /// Only this category.
    pub category: Option<String>,
    /// Only whistles whose pending deadline falls in this span (from now to now + due_within).
    pub due_between: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
    /// Only whistles from this source.
    pub source: Option<shaozi_shared::case::Source>,
    /// Only whistles with this request waiting for the dispatcher's decision.
    pub pending: Option<Pending>,
    /// Page size.
    pub limit: usize,
    /// Where the previous page stopped.
    pub cursor: Option<String>,
}

/// A request on a whistle that waits for the dispatcher's decision (the dispatcher's inbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// The lead department asked for more time (延期).
    Extension,
    /// The department sent the case back (退单).
    Return,
}

impl Pending {
    /// From its wire name.
    pub fn parse(s: &str) -> Option<Pending> {
        match s {
            "extension" => Some(Pending::Extension),
            "return" => Some(Pending::Return),
            _ => None,
        }
    }

    /// The whistle's field that holds the request (in its JSON too).
    pub fn field(self) -> &'static str {
        match self {
            Pending::Extension => "pending_extension",
            Pending::Return => "pending_return",
        }
    }

    /// Whether the request waits on `w`.
    pub fn waits_on(self, w: &Whistle) -> bool {
        match self {
            Pending::Extension => w.pending_extension.is_some(),
            Pending::Return => w.pending_return.is_some(),
        }
    }
}

/// Filters and paging for `GET /api/v1/wishes`.
#[derive(Debug, Clone, Default)]
pub struct WishQuery {
    /// Statuses to include; empty means all.
    pub statuses: Vec<WishStatus>,
    /// Community.
    pub community_id: Option<CommunityId>,
    /// Page size.
    pub limit: usize,
    /// Where the previous page stopped.
    pub cursor: Option<String>,
}

/// A cursor the client sent that we did not issue.
#[derive(Debug, thiserror::Error)]
#[error("cursor {0:?} is not one this server issued; start again without it")]
pub struct BadCursor(pub String);

/// A query's failure: a bad cursor (the client's fault) or the store.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The cursor is not ours.
    #[error(transparent)]
    Cursor(#[from] BadCursor),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Bytes as lowercase hex (queue cursors).
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex back to bytes; None for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The id a newest-first page stopped at.
pub fn id_cursor(c: Option<&str>) -> Result<Option<u64>, BadCursor> {
    c.map(|c| {
        c.strip_prefix('i')
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| BadCursor(c.to_string()))
    })
    .transpose()
}

impl WhistleQuery {
    pub(crate) fn uses_queue(&self) -> bool {
        !self.statuses.is_empty() && self.statuses.iter().all(|s| s.is_unanswered())
    }

    pub(crate) fn matches(&self, w: &Whistle) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&w.status))
            && self
                .department_id
                .is_none_or(|d| w.department_id == Some(d))
            && self
                .involving
                .is_none_or(|d| w.department_id == Some(d) || w.assisting.contains(&d))
            && self.community_id.is_none_or(|c| w.community_id == c)
            && self.street_id.is_none_or(|s| w.street_id == s)
            && self.overdue.is_none_or(|o| w.overdue == o)
            && self.urgency.is_none_or(|u| w.urgency == u)
            && self.category.as_ref().is_none_or(|c| &w.category == c)
            && self.source.is_none_or(|s| w.source == s)
            && self.pending.is_none_or(|p| p.waits_on(w))
            && self
                .due_between
                .is_none_or(|(from, to)| w.pending_deadline().is_some_and(|d| from <= d && d <= to))
    }
}

/// Which whistles a page by filing time is drawn from.
#[derive(Debug, Clone)]
pub struct FiledPage {
    /// Filed at or after.
    pub from: DateTime<Utc>,
    /// Filed before.
    pub to: DateTime<Utc>,
    /// Statuses to include; empty means all.
    pub statuses: Vec<WhistleStatus>,
    /// Only this category.
    pub category: Option<String>,
    /// Whistles passed over before the page.
    pub skip: usize,
    /// The page's size.
    pub take: usize,
}

/// Which units to rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Departments.
    Department,
    /// Street offices.
    Street,
    /// Communities.
    Community,
}

impl Group {
    /// Parses `department`, `street` or `community`.
    pub fn parse(s: &str) -> Option<Group> {
        match s {
            "department" => Some(Group::Department),
            "street" => Some(Group::Street),
            "community" => Some(Group::Community),
            _ => None,
        }
    }

    /// Every unit of the group, in id order, as (number, id, name).
    pub fn units(
        self,
        reads: &dyn crate::storage::Reads,
    ) -> Result<Vec<(u64, String, String)>, StoreError> {
        Ok(match self {
            Group::Department => reads
                .departments()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
            Group::Street => reads
                .streets()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
            Group::Community => reads
                .communities()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
        })
    }

    /// The kind of unit, for the measures only some kinds have.
    pub fn kind(self) -> UnitKind {
        match self {
            Group::Department => UnitKind::Department,
            Group::Street => UnitKind::Street,
            Group::Community => UnitKind::Community,
        }
    }

    /// A case's parts in this group's units, by unit number: a department's (the lead's, and
    /// those of departments whose return was upheld), or its street's or community's.
    pub fn case_parts(self, w: &shaozi_shared::Whistle) -> Vec<(u64, CaseMeasures)> {
        match self {
            Group::Department => CaseMeasures::per_department(w)
                .into_iter()
                .map(|(d, m)| (d.0, m))
                .collect(),
            Group::Street => CaseMeasures::of(w)
                .filter(|_| w.department_id.is_some())
                .map(|m| (w.street_id.0, m))
                .into_iter()
                .collect(),
            Group::Community => CaseMeasures::of(w)
                .filter(|_| w.department_id.is_some())
                .map(|m| (w.community_id.0, m))
                .into_iter()
                .collect(),
        }
    }

    /// The counter of a unit's overdue cases now.
    pub fn overdue_counter(self, id: u64) -> String {
        use super::counts::counter::{self, Queue};
        match self {
            Group::Department => counter::department(id, "overdue"),
            Group::Street => counter::queue(Queue::Street(id), "overdue"),
            Group::Community => counter::queue(Queue::Community(id), "overdue"),
        }
    }
}

/// The local days of [from, to) in `offset` (at most 400), each as its date and the part of
/// the range it covers.
pub fn local_days(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> Vec<(chrono::NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    use chrono::TimeZone;
    let mut out = Vec::new();
    let mut date = from.with_timezone(&offset).date_naive();
    while out.len() < 400 {
        let Some(start) = date
            .and_hms_opt(0, 0, 0)
            .and_then(|t| offset.from_local_datetime(&t).single())
        else {
            break;
        };
        let start = start.with_timezone(&Utc);
        if start >= to {
            break;
        }
        let Some(next) = date.succ_opt() else { break };
        let end = next
            .and_hms_opt(0, 0, 0)
            .and_then(|t| offset.from_local_datetime(&t).single())
            .map_or(to, |t| t.with_timezone(&Utc));
        out.push((date, start.max(from), end.min(to)));
        date = next;
    }
    out
}
