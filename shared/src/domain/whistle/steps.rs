//! The steps on a whistle: the actions, which statuses allow them, and what each does
//! (`apply`). The middle of a case's own steps are in `middle.rs`.

use chrono::{DateTime, Utc};

use super::action::WhistleAction;
use super::{joint, middle, Book, Whistle, WhistleStatus, TOP_ESCALATION};
use crate::event::EventKind;
use crate::ids::DepartmentId;
use crate::text::{self, optional, required};
use crate::{RefusalCode, RuleError};

/// The result of a step: the new record and the events that describe it, each with the text
/// the actor wrote (or the system's explanation).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    /// The record after the step, version bumped.
    pub record: T,
    /// What happened, in order.
    pub events: Vec<(EventKind, Option<String>)>,
}

/// Which statuses allow an action: the state machine's table, in one place.
pub fn allowed(status: WhistleStatus, action: &WhistleAction) -> bool {
    use WhistleStatus::*;
    match action {
        WhistleAction::Dispatch { .. } | WhistleAction::Reject { .. } => {
            matches!(status, New | Dispatched | Returned)
        }
        WhistleAction::Acknowledge { .. } | WhistleAction::Return { .. } => status == Dispatched,
        WhistleAction::Overrule { .. } => status == Returned,
        // An assisting department reports and does its part while the lead works too.
        WhistleAction::Reclassify { .. } => {
            matches!(status, New | Dispatched | Acknowledged | Returned)
        }
        // Coordination goes on till the case is over, and a word after it is still a word.
        WhistleAction::Note { .. } => true,
        WhistleAction::ReportAssisting { .. }
        | WhistleAction::PartDone { .. }
        | WhistleAction::ChangeAssisting { .. }
        | WhistleAction::CallsMissed => matches!(status, Dispatched | Acknowledged),
        WhistleAction::Resolve { .. }
        | WhistleAction::RequestExtension { .. }
        | WhistleAction::ApproveExtension { .. }
        | WhistleAction::DenyExtension { .. } => status == Acknowledged,
        WhistleAction::Urge { .. } => matches!(status, Dispatched | Acknowledged),
        WhistleAction::Close { .. }
        | WhistleAction::Reopen { .. }
        | WhistleAction::ConfirmDeadlinePassed => status == Resolved,
        WhistleAction::CallBack { .. } => matches!(status, Resolved | Closed),
        WhistleAction::Escalate { .. } | WhistleAction::DeadlinePassed | WhistleAction::DueSoon => {
            matches!(status, New | Dispatched | Acknowledged | Returned)
        }
        WhistleAction::LinkDuplicate { .. } => true,
    }
}

/// Whether a step can be taken on the whistle as it is now: its status allows it, and what
/// the step needs is there (a pending extension to answer, none to ask again, a level left to
/// escalate to). A client offers only these.
pub fn open_to(w: &Whistle, action: &WhistleAction) -> bool {
    allowed(w.status, action) && pending_refusal(w, action).is_none()
}

/// Why a step the status allows still conflicts with the whistle's state, if it does (409).
fn pending_refusal(w: &Whistle, action: &WhistleAction) -> Option<RuleError> {
    let refuse = |code, hint: String| {
        Some(RuleError::NotAllowed {
            action: action.name(),
            subject: "whistle",
            id: w.id.to_string(),
            status: w.status.as_str(),
            code,
            hint,
        })
    };
    match action {
        WhistleAction::Escalate { .. } if w.escalation_level >= TOP_ESCALATION => refuse(
            RefusalCode::TopEscalation,
            format!(
                " and already at the top escalation level ({}: the city's leaders)",
                w.escalation_level
            ),
        ),
        WhistleAction::RequestExtension { .. } if w.pending_extension.is_some() => refuse(
            RefusalCode::ExtensionPending,
            "; an extension request is already waiting for the dispatcher".into(),
        ),
        WhistleAction::ApproveExtension { .. } | WhistleAction::DenyExtension { .. }
            if w.pending_extension.is_none() =>
        {
            refuse(
                RefusalCode::NoExtensionPending,
                "; no extension request is waiting".into(),
            )
        }
        _ => None,
    }
}

fn hint(status: WhistleStatus, action: &WhistleAction) -> &'static str {
    use WhistleStatus::*;
    match (status, action) {
        (New, WhistleAction::Acknowledge { .. }) => "; dispatch it to a department first",
        (Acknowledged, WhistleAction::Dispatch { .. }) => {
            "; the department has already reported for duty"
        }
        (Closed | Rejected, _) => "; it is finished",
        (Resolved, WhistleAction::Resolve { .. }) => {
            "; it is waiting for the community to close or reopen it"
        }
        (_, WhistleAction::Close { .. } | WhistleAction::Reopen { .. }) => {
            "; only a resolved whistle can be closed or reopened"
        }
        _ => "",
    }
}

/// Applies `action` to `w` at `now`: checks the rules and returns the new record and its events.
/// The book holds the whistle's category's deadlines (a reopening restarts the resolve clock),
/// the calendar they are counted on, and the limits of the middle of a case.
pub fn apply(
    w: &Whistle,
    action: &WhistleAction,
    now: DateTime<Utc>,
    book: &Book<'_>,
) -> Result<Outcome<Whistle>, RuleError> {
    if !allowed(w.status, action) {
        return Err(RuleError::NotAllowed {
            action: action.name(),
            subject: "whistle",
            id: w.id.to_string(),
            status: w.status.as_str(),
            code: RefusalCode::NotAllowed,
            hint: hint(w.status, action).to_string(),
        });
    }
    if let Some(e) = pending_refusal(w, action) {
        return Err(e);
    }
    let (deadlines, cal) = (&book.deadlines, book.calendar);
    let mut n = w.clone();
    n.version += 1;
    n.updated_at = now;
    let events = match action {
        WhistleAction::Dispatch {
            department_id,
            assisting,
            note,
            report,
        } => {
            let note = optional("note", note.as_deref(), text::NOTE)?;
            let muster = report
                .as_ref()
                .map(|m| joint::check_muster(m, now))
                .transpose()?;
            let mut helpers: Vec<DepartmentId> = Vec::new();
            for d in assisting {
                if d == department_id {
                    return Err(RuleError::invalid(
                        "assisting",
                        format!("{d} is already the lead department"),
                    ));
                }
                if !helpers.contains(d) {
                    helpers.push(*d);
                }
            }
            if w.status == WhistleStatus::Returned {
                let events =
                    middle::uphold(w, &mut n, *department_id, helpers.clone(), note, now, book)?;
                joint::call(w, &mut n, *department_id, &helpers, muster);
                n.schedule(book.case);
                return Ok(Outcome { record: n, events });
            }
            let kind = if w.status == WhistleStatus::Dispatched {
                if w.department_id == Some(*department_id)
                    && w.assisting == helpers
                    && muster.is_none()
                {
                    return Err(RuleError::NotAllowed {
                        action: "reassign",
                        subject: "whistle",
                        id: w.id.to_string(),
                        status: w.status.as_str(),
                        code: RefusalCode::AlreadyAssigned,
                        hint: format!("; it is already dispatched to {department_id}"),
                    });
                }
                if note.is_none() {
                    return Err(RuleError::coded(
                        "note",
                        RefusalCode::ReasonRequired,
                        "reassigning a dispatched whistle needs a reason",
                    ));
                }
                EventKind::WhistleReassigned
            } else {
                EventKind::WhistleDispatched
            };
            n.status = WhistleStatus::Dispatched;
            n.department_id = Some(*department_id);
            joint::call(w, &mut n, *department_id, &helpers, muster);
            n.assisting = helpers;
            n.dispatched_at = Some(now);
            n.dispatches = w.dispatches.max(u32::from(w.dispatched_at.is_some())) + 1;
            vec![(kind, note)]
        }
        WhistleAction::Acknowledge { staff, note } => {
            let names = check_staff(staff)?;
            let note = optional("note", note.as_deref(), text::NOTE)?;
            n.status = WhistleStatus::Acknowledged;
            n.staff = names;
            n.acknowledged_at = Some(now);
            // Reporting for duty ends the race against the response deadline; lateness stays
            // on record for the assessment, and the resolve clock may already have run out.
            n.respond_late = w.respond_late || now > w.respond_by;
            n.overdue = false;
            joint::lead_reported(&mut n, now);
            vec![(EventKind::WhistleAcknowledged, note)]
        }
        // The lead named as a department reporting is the lead's own report.
        WhistleAction::ReportAssisting {
            department,
            staff,
            note,
        } if w.department_id == Some(*department) => {
            let lead = WhistleAction::Acknowledge {
                staff: staff.clone(),
                note: note.clone(),
            };
            return apply(w, &lead, now, book);
        }
        WhistleAction::ReportAssisting {
            department,
            staff,
            note,
        } => {
            let names = check_staff(staff)?;
            let note = optional("note", note.as_deref(), text::NOTE)?;
            joint::report_assisting(w, &mut n, *department, names, note, now)?
        }
        WhistleAction::PartDone { department, note } => {
            let Some(d) = department else {
                return Err(RuleError::invalid(
                    "department_id",
                    "name the assisting department whose part is done",
                ));
            };
            joint::part_done(w, &mut n, *d, note, now)?
        }
        WhistleAction::CallsMissed => joint::calls_missed(w, &mut n, now)?,
        WhistleAction::Note { text: t, public } => {
            let t = required("text", t, text::NOTE)?;
            let kind = if *public {
                EventKind::WhistleNoted
            } else {
                EventKind::WhistleNotedInternal
            };
            vec![(kind, Some(t))]
        }
        WhistleAction::Reclassify {
            category,
            urgency,
            address,
            reason,
        } => middle::reclassify(
            w,
            &mut n,
            category.as_deref(),
            *urgency,
            address.as_deref(),
            reason,
            book,
        )?,
        WhistleAction::ChangeAssisting {
            add,
            remove,
            reason,
        } => {
            let reason = required("reason", reason, text::NOTE)?;
            let report_by = match &w.muster {
                Some(m) if m.at > now => m.at,
                _ => deadlines.respond_by(w.urgency, now, cal),
            };
            joint::change_assisting(w, &mut n, add, remove, report_by, now)?;
            vec![(EventKind::WhistleAssistingChanged, Some(reason))]
        }
        WhistleAction::Resolve { reply, note } => {
            let reply = required("reply", reply, text::REPLY)?;
            let why = joint::check_resolve_note(w, note.as_deref())?;
            n.status = WhistleStatus::Resolved;
            n.reply = Some(reply.clone());
            n.resolved_at = Some(now);
            n.resolve_late = w.resolve_late || now > w.resolve_by;
            n.overdue = false;
            // Resolved, a request for more time has nothing left to decide.
            n.pending_extension = None;
            n.confirm_by = Some(cal.add(now, book.case.confirm));
            // Why it was resolved before every assisting part was done stays on the lead's
            // call (the reply is what the public reads).
            if let Some(why) = why {
                if let Some(c) = n
                    .calls
                    .iter_mut()
                    .find(|c| c.role == crate::case::CallRole::Lead)
                {
                    c.done_at = Some(now);
                    c.done_note = Some(why);
                }
            }
            vec![(EventKind::WhistleResolved, Some(reply))]
        }
        WhistleAction::Close { satisfaction, note } => {
            if !(1..=5).contains(satisfaction) {
                return Err(RuleError::coded(
                    "satisfaction",
                    RefusalCode::OutOfRange,
                    format!("must be a whole number from 1 to 5; got {satisfaction}"),
                ));
            }
            let note = optional("note", note.as_deref(), text::NOTE)?;
            n.status = WhistleStatus::Closed;
            n.satisfaction = u8::try_from(*satisfaction).ok();
            n.closed_at = Some(now);
            n.confirm_by = None;
            vec![(EventKind::WhistleClosed, note)]
        }
        WhistleAction::Reopen { reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            n.status = WhistleStatus::Acknowledged;
            n.reopened += 1;
            n.resolved_at = None;
            n.resolve_by = deadlines.resolve_by(w.urgency, now, cal);
            n.clocks_from = Some(now);
            n.confirm_by = None;
            n.overdue = false;
            vec![(EventKind::WhistleReopened, Some(reason))]
        }
        WhistleAction::Reject {
            reason,
            duplicate_of,
        } => {
            let reason = required("reason", reason, text::NOTE)?;
            if *duplicate_of == Some(w.id) {
                return Err(RuleError::coded(
                    "duplicate_of",
                    RefusalCode::SelfDuplicate,
                    "a whistle cannot be a duplicate of itself",
                ));
            }
            n.status = WhistleStatus::Rejected;
            n.pending_return = None;
            n.duplicate_of = *duplicate_of;
            n.reject_reason = Some(reason.clone());
            n.closed_at = Some(now);
            n.overdue = false;
            vec![(EventKind::WhistleRejected, Some(reason))]
        }
        WhistleAction::Escalate { reason } => {
            // The top is the top (refused above): the city's leaders already have it.
            let reason = required("reason", reason, text::NOTE)?;
            n.escalation_level += 1;
            vec![(EventKind::WhistleEscalated, Some(reason))]
        }
        WhistleAction::DeadlinePassed => {
            let Some(due) = w.pending_deadline() else {
                return Err(RuleError::NotAllowed {
                    action: action.name(),
                    subject: "whistle",
                    id: w.id.to_string(),
                    status: w.status.as_str(),
                    code: RefusalCode::AlreadyOverdue,
                    hint: "; it is already overdue".to_string(),
                });
            };
            if now < due {
                return Err(RuleError::invalid(
                    "now",
                    format!("the deadline {due} has not passed yet"),
                ));
            }
            n.overdue = true;
            n.due_soon_sent_for = Some(due);
            let stage = if w.status == WhistleStatus::Acknowledged {
                n.resolve_late = true;
                "resolve"
            } else {
                n.respond_late = true;
                // The lead's own call records its miss, as an assisting department's does.
                if let Some(c) = n
                    .calls
                    .iter_mut()
                    .find(|c| c.role == crate::case::CallRole::Lead && c.reported_at.is_none())
                {
                    c.missed_at = Some(now);
                    c.late = true;
                }
                "report for duty"
            };
            let mut events = vec![(
                EventKind::WhistleOverdue,
                Some(format!(
                    "the deadline to {stage} ({}) has passed",
                    due.format("%Y-%m-%d %H:%M UTC")
                )),
            )];
            // Past the top, a missed deadline is recorded but there is no one higher.
            if w.escalation_level < TOP_ESCALATION {
                n.escalation_level += 1;
                events.push((
                    EventKind::WhistleEscalated,
                    Some(format!(
                        "escalated to level {} (deadline passed)",
                        n.escalation_level
                    )),
                ));
            }
            events
        }
        WhistleAction::LinkDuplicate {
            duplicate,
            reporter,
        } => {
            if !n.duplicates.contains(duplicate) {
                n.duplicates.push(*duplicate);
            }
            // Whoever reported the duplicate is kept here, to be called back with the fix;
            // the note says so without naming them (every reader of the timeline sees it).
            let carried = match reporter {
                Some(r) if n.reporter.is_none() => {
                    n.reporter = Some(r.clone());
                    true
                }
                Some(r) if n.reporter.as_ref() != Some(r) && !n.also_reported.contains(r) => {
                    n.also_reported.push(r.clone());
                    true
                }
                _ => false,
            };
            vec![(
                EventKind::WhistleDuplicateLinked,
                Some(if carried {
                    format!(
                        "{duplicate} was rejected as a duplicate of this whistle; its reporter's contact is kept here"
                    )
                } else {
                    format!("{duplicate} was rejected as a duplicate of this whistle")
                }),
            )]
        }
        WhistleAction::Return { .. }
        | WhistleAction::Overrule { .. }
        | WhistleAction::RequestExtension { .. }
        | WhistleAction::ApproveExtension { .. }
        | WhistleAction::DenyExtension { .. }
        | WhistleAction::Urge { .. }
        | WhistleAction::CallBack { .. }
        | WhistleAction::DueSoon
        | WhistleAction::ConfirmDeadlinePassed => middle::apply(w, &mut n, action, now, book)?,
    };
    n.schedule(book.case);
    Ok(Outcome { record: n, events })
}

/// Staff names for a report: two or more different people (compared after NFKC with invisible
/// characters removed, and kept without the invisible ones), at most [`text::MAX_STAFF`].
fn check_staff(staff: &[String]) -> Result<Vec<String>, RuleError> {
    let mut names: Vec<String> = Vec::new();
    let mut people: Vec<String> = Vec::new();
    for s in staff {
        let s: String = required("staff", s, text::PERSON)?
            .chars()
            .filter(|c| !text::is_invisible(*c))
            .collect();
        let who = text::person_key(&s);
        if who.is_empty() {
            return Err(RuleError::coded(
                "staff",
                RefusalCode::NoVisibleText,
                "a staff name has no visible characters",
            ));
        }
        if !people.contains(&who) {
            people.push(who);
            names.push(s);
        }
    }
    if names.len() < 2 {
        return Err(RuleError::coded(
            "staff",
            RefusalCode::TooFewStaff,
            format!(
                "reporting for duty needs two or more different staff names; got {}",
                names.len()
            ),
        ));
    }
    if names.len() > text::MAX_STAFF {
        return Err(RuleError::coded(
            "staff",
            RefusalCode::TooManyStaff,
            format!("at most {} staff names", text::MAX_STAFF),
        ));
    }
    Ok(names)
}

/// The clock's steps: beside the others, so that the record does not name its own steps.
impl Whistle {
    /// What the clock does to it at `now`, if anything is due.
    pub fn clock_action(&self, now: DateTime<Utc>) -> Option<WhistleAction> {
        if self.status == WhistleStatus::Resolved {
            return self
                .confirm_by
                .filter(|c| *c <= now)
                .map(|_| WhistleAction::ConfirmDeadlinePassed);
        }
        // An assisting department late to report is found late whatever the lead does.
        if self.next_missed().is_some_and(|t| t <= now) {
            return Some(WhistleAction::CallsMissed);
        }
        let due = self.pending_deadline()?;
        if due <= now {
            return Some(WhistleAction::DeadlinePassed);
        }
        match self.due_soon_at {
            Some(soon) if soon <= now && self.due_soon_sent_for != Some(due) => {
                Some(WhistleAction::DueSoon)
            }
            _ => None,
        }
    }
}
