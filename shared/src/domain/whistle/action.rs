//! The steps someone (or the clock) may take on a whistle, as data.

use chrono::{DateTime, Utc};

use crate::case::Muster;
use crate::ids::{DepartmentId, WhistleId};

/// A step someone (or the clock) takes on a whistle. Referenced ids are checked by the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum WhistleAction {
    /// Call a department (or reassign to another, which needs a reason).
    Dispatch {
        /// Lead department.
        department_id: DepartmentId,
        /// Assisting departments.
        assisting: Vec<DepartmentId>,
        /// Instructions, or the reason for a reassignment.
        note: Option<String>,
        /// Where and when every called department reports.
        report: Option<Muster>,
    },
    /// Report for duty with two or more staff.
    Acknowledge {
        /// Staff names.
        staff: Vec<String>,
        /// Optional note.
        note: Option<String>,
    },
    /// Reply that the problem is fixed.
    Resolve {
        /// The reply.
        reply: String,
        /// Why it is resolved before every assisting department marked its part done.
        note: Option<String>,
    },
    /// A department reports for duty on a case it was called to (the lead's report is
    /// [`WhistleAction::Acknowledge`]; naming the lead here is the same).
    ReportAssisting {
        /// The department.
        department: DepartmentId,
        /// Staff names.
        staff: Vec<String>,
        /// Optional note.
        note: Option<String>,
    },
    /// An assisting department that reported marks its part done.
    PartDone {
        /// The department (a department's own token names itself).
        department: Option<DepartmentId>,
        /// What it did.
        note: String,
    },
    /// The clock: assisting departments' deadlines to report passed unreported.
    CallsMissed,
    /// The dispatcher corrects a case's category, urgency or address (改类): its deadlines
    /// are worked out again under the new category and urgency. The book a step is applied
    /// with holds the new category's deadlines.
    Reclassify {
        /// The new category, when it changes.
        category: Option<String>,
        /// The new urgency, when it changes.
        urgency: Option<crate::category::Urgency>,
        /// The new address, when it changes.
        address: Option<String>,
        /// Why.
        reason: String,
    },
    /// A note between steps, for staff only or for everyone who follows the case.
    Note {
        /// What it says.
        text: String,
        /// Whether the public may read it (the community, Open311, the robots).
        public: bool,
    },
    /// The dispatcher calls more departments to assist, or lets some go, after the dispatch.
    ChangeAssisting {
        /// Departments called to assist now.
        add: Vec<DepartmentId>,
        /// Assisting departments let go.
        remove: Vec<DepartmentId>,
        /// Why.
        reason: String,
    },
    /// The community confirms and rates.
    Close {
        /// 1–5.
        satisfaction: i64,
        /// Optional comment.
        note: Option<String>,
    },
    /// The community rejects the fix.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Not a real problem, or a duplicate of another whistle.
    Reject {
        /// Why.
        reason: String,
        /// The original, when a duplicate.
        duplicate_of: Option<WhistleId>,
    },
    /// Raise the escalation level by hand.
    Escalate {
        /// Why.
        reason: String,
    },
    /// The clock: the current stage's deadline has passed.
    DeadlinePassed,
    /// Another whistle was rejected as a duplicate of this one.
    LinkDuplicate {
        /// The duplicate.
        duplicate: WhistleId,
        /// Who reported the duplicate, carried over to this one.
        reporter: Option<super::Reporter>,
    },
    /// The lead department sends a misrouted case back (退单).
    Return {
        /// Why it is not theirs.
        reason: String,
    },
    /// The dispatcher overrules a return: back to the same department, its clock running.
    Overrule {
        /// Why it is theirs after all.
        reason: String,
    },
    /// The lead department asks for more time to resolve (延期).
    RequestExtension {
        /// The resolve deadline asked for.
        until: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// The dispatcher grants the pending request, as asked or shorter.
    ApproveExtension {
        /// A shorter deadline than asked, if any.
        until: Option<DateTime<Utc>>,
        /// Optional note.
        note: Option<String>,
    },
    /// The dispatcher denies the pending request.
    DenyExtension {
        /// Why.
        reason: String,
    },
    /// The dispatcher presses the department (催办) without raising the escalation level.
    Urge {
        /// What about.
        note: String,
    },
    /// The dispatcher records a call to the resident after the fix (回访).
    CallBack {
        /// Whether the resident was reached.
        reached: bool,
        /// Their own rating, 1–5.
        satisfaction: Option<i64>,
        /// What they said.
        note: String,
    },
    /// The clock: the pending deadline is near (its due-soon share of time is left).
    DueSoon,
    /// The clock: a resolved whistle was neither closed nor reopened in time.
    ConfirmDeadlinePassed,
}

impl WhistleAction {
    /// The verb, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            WhistleAction::Dispatch { .. } => "dispatch",
            WhistleAction::Acknowledge { .. } => "acknowledge",
            WhistleAction::Resolve { .. } => "resolve",
            WhistleAction::ReportAssisting { .. } => "report for duty on",
            WhistleAction::PartDone { .. } => "mark a part done on",
            WhistleAction::CallsMissed => "mark a department late on",
            WhistleAction::ChangeAssisting { .. } => "change the assisting departments of",
            WhistleAction::Reclassify { .. } => "reclassify",
            WhistleAction::Note { .. } => "add a note to",
            WhistleAction::Close { .. } => "close",
            WhistleAction::Reopen { .. } => "reopen",
            WhistleAction::Reject { .. } => "reject",
            WhistleAction::Escalate { .. } => "escalate",
            WhistleAction::DeadlinePassed => "mark overdue",
            WhistleAction::LinkDuplicate { .. } => "link a duplicate to",
            WhistleAction::Return { .. } => "return",
            WhistleAction::Overrule { .. } => "overrule the return of",
            WhistleAction::RequestExtension { .. } => "ask for an extension on",
            WhistleAction::ApproveExtension { .. } => "approve an extension on",
            WhistleAction::DenyExtension { .. } => "deny an extension on",
            WhistleAction::Urge { .. } => "urge",
            WhistleAction::CallBack { .. } => "record a call-back on",
            WhistleAction::DueSoon => "warn about",
            WhistleAction::ConfirmDeadlinePassed => "close unconfirmed",
        }
    }
}
