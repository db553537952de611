//! The steps of the middle of a case (see [`crate::case`]): returns, extensions, urges,
//! call-backs, and the clock's due-soon warning and confirmation deadline.

use chrono::{DateTime, Utc};

use super::action::WhistleAction;
use super::{Book, Whistle, WhistleStatus};
use crate::case::{longest_until, CallBack, ExtensionRequest, ReturnRequest, MAX_CALLBACKS};
use crate::event::EventKind;
use crate::ids::DepartmentId;
use crate::text::{self, optional, required};
use crate::{RefusalCode, RuleError};

/// The events of a step, each with the text the actor wrote or the system's words.
type Events = Vec<(EventKind, Option<String>)>;

fn window(field: &'static str, reason: String) -> RuleError {
    RuleError::coded(field, RefusalCode::OutOfWindow, reason)
}

fn over(field: &'static str, reason: String) -> RuleError {
    RuleError::coded(field, RefusalCode::OverLimit, reason)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The dispatcher upholds a return by dispatching the case to another department: a misroute,
/// counted for the street, not against the department. The new department's clocks start
/// afresh, since the time lost was the dispatcher's.
pub(crate) fn uphold(
    w: &Whistle,
    n: &mut Whistle,
    department_id: DepartmentId,
    assisting: Vec<DepartmentId>,
    note: Option<String>,
    now: DateTime<Utc>,
    book: &Book<'_>,
) -> Result<Events, RuleError> {
    let returned_by = w.pending_return.as_ref().map(|r| r.department_id);
    if returned_by == Some(department_id) || w.department_id == Some(department_id) {
        return Err(RuleError::NotAllowed {
            action: "dispatch",
            subject: "whistle",
            id: w.id.to_string(),
            status: w.status.as_str(),
            code: RefusalCode::AlreadyAssigned,
            hint: format!(
                "; {department_id} returned it: dispatch it to another department, or overrule the return"
            ),
        });
    }
    let Some(note) = note else {
        return Err(RuleError::coded(
            "note",
            RefusalCode::ReasonRequired,
            "dispatching a returned whistle elsewhere needs a note for the new department",
        ));
    };
    let from = returned_by.or(w.department_id);
    n.returns_upheld.extend(from);
    n.pending_return = None;
    n.status = WhistleStatus::Dispatched;
    n.department_id = Some(department_id);
    n.assisting = assisting;
    n.dispatched_at = Some(now);
    n.dispatches = w.dispatches.max(1) + 1;
    n.respond_by = book.deadlines.respond_by(w.urgency, now, book.calendar);
    n.resolve_by = book.deadlines.resolve_by(w.urgency, now, book.calendar);
    n.clocks_from = Some(now);
    n.respond_late = false;
    n.overdue = false;
    let who = from.map_or_else(|| "the department".to_string(), |d| d.to_string());
    Ok(vec![
        (
            EventKind::WhistleReturnUpheld,
            Some(format!("the return by {who} was upheld")),
        ),
        (EventKind::WhistleReassigned, Some(note)),
    ])
}

/// The middle's own steps (the upheld return is a dispatch, above). `n` is the record being
/// changed, already bumped; returns its events.
pub(crate) fn apply(
    w: &Whistle,
    n: &mut Whistle,
    action: &WhistleAction,
    now: DateTime<Utc>,
    book: &Book<'_>,
) -> Result<Events, RuleError> {
    let (rules, cal) = (book.case, book.calendar);
    Ok(match action {
        WhistleAction::Return { reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            let since = w.dispatched_at.unwrap_or(w.created_at);
            let last = cal.add(since, rules.return_within);
            if now > last {
                return Err(window(
                    "reason",
                    format!(
                        "a case can be returned within {} of its dispatch, until {}; it was dispatched at {}",
                        rules.return_within,
                        when(last),
                        when(since)
                    ),
                ));
            }
            n.status = WhistleStatus::Returned;
            n.pending_return = w.department_id.map(|d| ReturnRequest {
                department_id: d,
                at: now,
                reason: reason.clone(),
            });
            vec![(EventKind::WhistleReturned, Some(reason))]
        }
        WhistleAction::Overrule { reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            // Back to the same department; its clock never stopped.
            n.status = WhistleStatus::Dispatched;
            n.pending_return = None;
            n.returns_overruled += 1;
            vec![(EventKind::WhistleReturnOverruled, Some(reason))]
        }
        WhistleAction::RequestExtension { until, reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            if now >= w.resolve_by || w.overdue {
                return Err(window(
                    "until",
                    format!(
                        "the resolve deadline ({}) has passed; ask for more time before it",
                        when(w.resolve_by)
                    ),
                ));
            }
            if w.extensions_granted >= rules.extensions {
                return Err(over(
                    "until",
                    format!(
                        "at most {} extensions per whistle (case.extensions); {} granted already",
                        rules.extensions, w.extensions_granted
                    ),
                ));
            }
            if *until <= w.resolve_by {
                return Err(RuleError::invalid(
                    "until",
                    format!(
                        "must be after the current resolve deadline, {}",
                        when(w.resolve_by)
                    ),
                ));
            }
            let longest = longest_until(w.resolve_by, rules, cal);
            if *until > longest {
                return Err(over(
                    "until",
                    format!(
                        "one extension is at most {} (case.longest_extension): until {} at the latest",
                        rules.longest_extension,
                        when(longest)
                    ),
                ));
            }
            n.pending_extension = Some(ExtensionRequest {
                until: *until,
                reason: reason.clone(),
                at: now,
                was_late: w.resolve_late,
            });
            vec![(
                EventKind::WhistleExtensionRequested,
                Some(format!("until {}: {reason}", when(*until))),
            )]
        }
        WhistleAction::ApproveExtension { until, note } => {
            let note = optional("note", note.as_deref(), text::NOTE)?;
            let Some(req) = &w.pending_extension else {
                return Err(RuleError::invalid(
                    "until",
                    "no extension request is waiting",
                ));
            };
            let until = until.unwrap_or(req.until);
            if until > req.until {
                return Err(RuleError::invalid(
                    "until",
                    format!(
                        "may shorten what was asked ({}), not lengthen it",
                        when(req.until)
                    ),
                ));
            }
            let floor = w.resolve_by.max(now);
            if until <= floor {
                return Err(RuleError::invalid(
                    "until",
                    format!("must be after {}", when(floor)),
                ));
            }
            n.resolve_by = until;
            n.pending_extension = None;
            n.extensions_granted += 1;
            // Asked in time: a deadline that passed while the dispatcher decided was not the
            // department's delay.
            if w.overdue {
                n.overdue = false;
                n.resolve_late = req.was_late;
            }
            let words = format!("resolve by {}", when(until));
            vec![(
                EventKind::WhistleExtensionGranted,
                Some(note.map_or(words.clone(), |t| format!("{words}: {t}"))),
            )]
        }
        WhistleAction::DenyExtension { reason } => {
            let reason = required("reason", reason, text::NOTE)?;
            n.pending_extension = None;
            n.extensions_denied += 1;
            vec![(EventKind::WhistleExtensionDenied, Some(reason))]
        }
        WhistleAction::Urge { note } => {
            let note = required("note", note, text::NOTE)?;
            n.urges += 1;
            n.urged_at = Some(now);
            vec![(EventKind::WhistleUrged, Some(note))]
        }
        WhistleAction::CallBack {
            reached,
            satisfaction,
            note,
        } => {
            let note = required("note", note, text::NOTE)?;
            let satisfaction = match (reached, satisfaction) {
                (false, Some(_)) => {
                    return Err(RuleError::invalid(
                        "satisfaction",
                        "a resident who was not reached gives no rating",
                    ))
                }
                (_, Some(s)) if !(1..=5).contains(s) => {
                    return Err(RuleError::coded(
                        "satisfaction",
                        RefusalCode::OutOfRange,
                        format!("must be a whole number from 1 to 5; got {s}"),
                    ))
                }
                (_, s) => s.and_then(|s| u8::try_from(s).ok()),
            };
            if w.callbacks.len() >= MAX_CALLBACKS {
                return Err(over(
                    "note",
                    format!("at most {MAX_CALLBACKS} call-backs per whistle"),
                ));
            }
            n.callbacks.push(CallBack {
                at: now,
                reached: *reached,
                satisfaction,
                note: note.clone(),
            });
            vec![(EventKind::WhistleCalledBack, Some(note))]
        }
        WhistleAction::DueSoon => {
            let due = w
                .pending_deadline()
                .filter(|_| w.clock_action(now) == Some(WhistleAction::DueSoon))
                .ok_or_else(|| RuleError::invalid("now", "no deadline is due soon"))?;
            n.due_soon_sent_for = Some(due);
            let stage = if w.status == WhistleStatus::Acknowledged {
                "resolve"
            } else {
                "report for duty"
            };
            vec![(
                EventKind::WhistleDueSoon,
                Some(format!("the deadline to {stage} ({}) is near", when(due))),
            )]
        }
        WhistleAction::ConfirmDeadlinePassed => {
            if w.clock_action(now) != Some(WhistleAction::ConfirmDeadlinePassed) {
                return Err(RuleError::invalid(
                    "now",
                    "the confirmation deadline has not passed",
                ));
            }
            n.status = WhistleStatus::Closed;
            n.closed_at = Some(now);
            n.confirm_by = None;
            n.auto_closed = true;
            vec![(
                EventKind::WhistleAutoClosed,
                Some(format!(
                    "closed without the community's confirmation, {} after the fix",
                    rules.confirm
                )),
            )]
        }
        _ => {
            return Err(RuleError::invalid(
                "action",
                "not a step of the middle of a case",
            ))
        }
    })
}

/// Corrects a case's category, urgency or address (改类). Both deadlines are worked out again
/// from when their clocks started, under the new category and urgency (`book` holds the new
/// category's): what was spent stays spent, a place and time to report stays, and a granted
/// extension stays granted (the later of the two). The note says old → new, then why.
pub(super) fn reclassify(
    w: &Whistle,
    n: &mut Whistle,
    category: Option<&str>,
    urgency: Option<crate::category::Urgency>,
    address: Option<&str>,
    reason: &str,
    book: &Book<'_>,
) -> Result<Vec<(EventKind, Option<String>)>, RuleError> {
    let reason = required("reason", reason, text::NOTE)?;
    let address = optional("address", address, text::ADDRESS)?;
    let category = category.map(str::trim).filter(|c| *c != w.category);
    let urgency = urgency.filter(|u| *u != w.urgency);
    let address = address.filter(|a| w.address.as_deref() != Some(a.as_str()));
    let mut changes = Vec::new();
    if let Some(c) = category {
        changes.push(format!("category {} → {c}", w.category));
        n.category = c.to_string();
    }
    if let Some(u) = urgency {
        let word = |u: crate::category::Urgency| match u {
            crate::category::Urgency::Urgent => "urgent",
            crate::category::Urgency::Normal => "normal",
        };
        changes.push(format!("urgency {} → {}", word(w.urgency), word(u)));
        n.urgency = u;
    }
    if let Some(a) = address {
        changes.push(format!("address → {a}"));
        n.address = Some(a);
    }
    if changes.is_empty() {
        return Err(RuleError::invalid(
            "category",
            "nothing changes: give a new category, urgency or address",
        ));
    }
    if category.is_some() || urgency.is_some() {
        let (deadlines, cal) = (&book.deadlines, book.calendar);
        n.respond_by = match &w.muster {
            Some(m) => m.at,
            None => deadlines.respond_by(n.urgency, w.created_at, cal),
        };
        let from = w.clocks_from.unwrap_or(w.created_at);
        let resolve_by = deadlines.resolve_by(n.urgency, from, cal);
        n.resolve_by = if w.extensions_granted > 0 {
            resolve_by.max(w.resolve_by)
        } else {
            resolve_by
        };
        for c in n.calls.iter_mut().filter(|c| c.reported_at.is_none()) {
            if w.muster.is_none() {
                c.report_by = n.respond_by;
            }
        }
        // A later deadline lifts the overdue mark (lateness already recorded stays); an
        // earlier one already passed is found by the clock, with its event and escalation.
        if w.overdue && n.stage_deadline().is_some_and(|d| d > n.updated_at) {
            n.overdue = false;
        }
        n.due_soon_sent_for = None;
    }
    Ok(vec![(
        EventKind::WhistleReclassified,
        Some(format!("{}: {reason}", changes.join("; "))),
    )])
}
