//! The middle of a case, as hotline rules have it (its records and limits; the steps are in
//! `whistle/middle.rs`): a department returns a misrouted case
//! (退单) and the dispatcher upholds or overrules the return; a department asks for more time
//! (延期) and the dispatcher grants or denies it; the dispatcher urges (催办); the clock warns
//! before a deadline (即将到期) and closes a fix nobody confirmed; the resident is called back
//! (回访). The limits come from the rules file ([`CaseRules`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Span};
use crate::ids::DepartmentId;

/// The rules file's `[case]` table: windows and limits of the middle of a case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseRules {
    /// How long after a dispatch the department may return the case.
    pub return_within: Span,
    /// Extensions granted per whistle at most.
    pub extensions: u32,
    /// The longest one extension may be, counted from the deadline it moves.
    pub longest_extension: Span,
    /// The share of a deadline's time left when the due-soon warning goes out (0–1).
    pub due_soon_share: f64,
    /// How long a resolved whistle waits for the community before it closes by itself.
    pub confirm: Span,
}

impl Default for CaseRules {
    fn default() -> Self {
        CaseRules {
            return_within: Span::WorkingDays(1),
            extensions: 2,
            longest_extension: Span::WorkingDays(10),
            due_soon_share: 0.2,
            confirm: Span::WorkingDays(3),
        }
    }
}

impl CaseRules {
    /// Checks the values a rules file gave.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.due_soon_share.is_finite() && (0.0..1.0).contains(&self.due_soon_share)) {
            return Err(format!(
                "case.due_soon_share: must be at least 0 and below 1; got {}",
                self.due_soon_share
            ));
        }
        if self.extensions > 20 {
            return Err(format!(
                "case.extensions: at most 20; got {}",
                self.extensions
            ));
        }
        Ok(())
    }

    /// When a deadline running from `from` to `due` is due soon: when only the due-soon share
    /// of its time is left. `None` when the share is zero (no warnings).
    pub fn due_soon_at(&self, from: DateTime<Utc>, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.due_soon_share <= 0.0 || due <= from {
            return None;
        }
        let span_ms = (due - from).num_milliseconds() as f64;
        let left = chrono::Duration::milliseconds((span_ms * self.due_soon_share).round() as i64);
        Some(due - left)
    }
}

/// Where a whistle came from (来源).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A community blew the whistle (社区吹哨).
    #[default]
    Community,
    /// The 12345 hotline.
    Hotline,
    /// An Open311 app.
    Open311,
    /// A grid worker (网格员).
    Grid,
    /// Someone walked in.
    WalkIn,
    /// The street blew the whistle itself (执法, 应急, what its own staff found).
    Street,
    /// Anything else.
    Other,
}

impl Source {
    /// Every source, in the order totals are shown.
    pub const ALL: [Source; 7] = [
        Source::Community,
        Source::Hotline,
        Source::Open311,
        Source::Grid,
        Source::WalkIn,
        Source::Street,
        Source::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Community => "community",
            Source::Hotline => "hotline",
            Source::Open311 => "open311",
            Source::Grid => "grid",
            Source::WalkIn => "walk_in",
            Source::Street => "street",
            Source::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A department's return of a case it was called to by mistake, while the dispatcher decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnRequest {
    /// The department that returned it.
    pub department_id: DepartmentId,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it is not theirs.
    pub reason: String,
}

/// A department's request for more time to resolve, while the dispatcher decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtensionRequest {
    /// The resolve deadline asked for.
    pub until: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// When it was asked.
    pub at: DateTime<Utc>,
    /// Whether the case was already late to resolve when it was asked: what its lateness
    /// goes back to if the deadline passes while the dispatcher decides and the extension is
    /// then granted (asked in time, it is not the department's delay).
    #[serde(default)]
    pub was_late: bool,
}

/// A call to the resident after the fix (回访).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallBack {
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the resident was reached.
    pub reached: bool,
    /// The resident's own rating, 1–5, when reached and willing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<u8>,
    /// What they said.
    pub note: String,
}

/// Call-backs kept per whistle at most: enough for any real case, and a bound on its size.
pub const MAX_CALLBACKS: usize = 20;

/// The latest time an extension may reach: `longest` after the deadline it moves.
pub fn longest_until(deadline: DateTime<Utc>, rules: &CaseRules, cal: &Calendar) -> DateTime<Utc> {
    cal.add(deadline, rules.longest_extension)
}

/// Where and when the called departments report (指定地点报到), as the dispatcher sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Muster {
    /// Where, e.g. 梓山社区居委会.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub place: String,
    /// By when every called department reports there.
    pub at: DateTime<Utc>,
}

/// A department's part in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallRole {
    /// Leads: its report moves the case on, and it resolves.
    Lead,
    /// Assists: reports for duty and marks its part done.
    Assisting,
}

/// One department called to a case, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    /// The department.
    pub department_id: DepartmentId,
    /// Lead or assisting.
    pub role: CallRole,
    /// Its deadline to report for duty.
    pub report_by: DateTime<Utc>,
    /// When it was called, if after the dispatch (an assisting department added later): its
    /// time to report is counted from then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_at: Option<DateTime<Utc>>,
    /// When it reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<DateTime<Utc>>,
    /// Who came (two or more).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<String>,
    /// When the clock found its deadline passed without a report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at: Option<DateTime<Utc>>,
    /// It reported after its deadline, or not by it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    /// An assisting department: when it marked its part done (the lead: when it resolved
    /// before every assisting part was done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    /// What it said of its part (the lead: why it resolved before the others were done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_note: Option<String>,
}

impl Call {
    /// A department just called: nothing done yet.
    pub fn new(department_id: DepartmentId, role: CallRole, report_by: DateTime<Utc>) -> Call {
        Call {
            department_id,
            role,
            report_by,
            called_at: None,
            reported_at: None,
            staff: Vec::new(),
            missed_at: None,
            late: false,
            done_at: None,
            done_note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn due_soon_is_the_share_of_the_deadlines_time_before_it() {
        let r = CaseRules::default();
        let from = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let due = from + chrono::Duration::hours(10);
        assert_eq!(
            r.due_soon_at(from, due),
            Some(from + chrono::Duration::hours(8))
        );
        let none = CaseRules {
            due_soon_share: 0.0,
            ..r
        };
        assert_eq!(none.due_soon_at(from, due), None);
        assert_eq!(r.due_soon_at(due, from), None);
    }

    #[test]
    fn sources_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("fax"), None);
    }

    #[test]
    fn rules_are_checked() {
        assert!(CaseRules::default().validate().is_ok());
        for bad in [-0.1, 1.0, f64::NAN] {
            let r = CaseRules {
                due_soon_share: bad,
                ..CaseRules::default()
            };
            assert!(r.validate().is_err(), "{bad}");
        }
    }
}
