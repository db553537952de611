//! Joint 报到: a dispatch calls a lead department and any number of assisting ones, at a
//! place and time the street may set, and **each** reports for duty itself, before its own
//! deadline, with two or more named staff. The whistle keeps one [`Call`] per department; the
//! lead's report moves the case on (as it always did), an assisting department's is recorded
//! on its call, and so are a missed deadline and the moment an assisting department marks its
//! part done. The lead resolves; before every assisting part is done only with a note.

use chrono::{DateTime, Utc};

use super::{Whistle, WhistleStatus, TOP_ESCALATION};
use crate::case::{Call, CallRole, Muster};
use crate::event::EventKind;
use crate::ids::DepartmentId;
use crate::text::{self, optional, required};
use crate::{RefusalCode, RuleError};

/// Checks a muster: a place in words, and a time still to come.
pub(super) fn check_muster(m: &Muster, now: DateTime<Utc>) -> Result<Muster, RuleError> {
    let place = required("report.place", &m.place, text::ADDRESS)?;
    if m.at <= now {
        return Err(RuleError::coded(
            "report.at",
            RefusalCode::OutOfRange,
            "the time to report must be later than now",
        ));
    }
    Ok(Muster { place, at: m.at })
}

/// Calls the lead and the assisting departments of a (re)dispatch: each to report by the
/// muster's time when one is set, else by the case's report deadline. A department called
/// again in the same part keeps what it already did.
pub(super) fn call(
    old: &Whistle,
    n: &mut Whistle,
    lead: DepartmentId,
    helpers: &[DepartmentId],
    muster: Option<Muster>,
) {
    if let Some(m) = &muster {
        n.respond_by = m.at;
    }
    n.muster = muster.or_else(|| old.muster.clone());
    let report_by = n.respond_by;
    let kept = |d: DepartmentId, role: CallRole| {
        old.calls
            .iter()
            .find(|c| c.department_id == d && c.role == role)
            .cloned()
            // A dispatched lead that is called again has not reported; it keeps nothing.
            .filter(|c| role == CallRole::Assisting || c.reported_at.is_some())
    };
    let mut calls =
        vec![kept(lead, CallRole::Lead)
            .unwrap_or_else(|| Call::new(lead, CallRole::Lead, report_by))];
    calls.extend(helpers.iter().map(|d| {
        kept(*d, CallRole::Assisting)
            .unwrap_or_else(|| Call::new(*d, CallRole::Assisting, report_by))
    }));
    n.calls = calls;
}

/// The lead reported: its call says so too.
pub(super) fn lead_reported(n: &mut Whistle, now: DateTime<Utc>) {
    let (staff, late) = (n.staff.clone(), n.respond_late);
    if let Some(c) = n.calls.iter_mut().find(|c| c.role == CallRole::Lead) {
        c.reported_at = Some(now);
        c.staff = staff;
        c.late = c.late || late;
    }
}

fn not_allowed(w: &Whistle, action: &'static str, hint: String) -> RuleError {
    RuleError::NotAllowed {
        action,
        subject: "whistle",
        id: w.id.to_string(),
        status: w.status.as_str(),
        code: RefusalCode::NotAllowed,
        hint,
    }
}

fn assisting_call<'a>(
    w: &Whistle,
    n: &'a mut Whistle,
    d: DepartmentId,
    action: &'static str,
) -> Result<&'a mut Call, RuleError> {
    n.calls
        .iter_mut()
        .find(|c| c.department_id == d && c.role == CallRole::Assisting)
        .ok_or_else(|| not_allowed(w, action, format!("; {d} is not assisting on it")))
}

/// The dispatcher calls `add` to assist (each to report by `report_by`) and lets `remove` go;
/// a department already called, the lead, or one not assisting is refused with the field.
pub(super) fn change_assisting(
    w: &Whistle,
    n: &mut Whistle,
    add: &[DepartmentId],
    remove: &[DepartmentId],
    report_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RuleError> {
    if add.is_empty() && remove.is_empty() {
        return Err(RuleError::invalid(
            "add",
            "name departments to call (add) or to let go (remove)",
        ));
    }
    for d in add {
        if w.department_id == Some(*d) {
            return Err(RuleError::invalid(
                "add",
                format!("{d} is the lead department"),
            ));
        }
        if w.assisting.contains(d) {
            return Err(RuleError::invalid(
                "add",
                format!("{d} is already assisting"),
            ));
        }
    }
    for d in remove {
        if !w.assisting.contains(d) {
            return Err(RuleError::invalid(
                "remove",
                format!("{d} is not assisting"),
            ));
        }
    }
    n.assisting.retain(|d| !remove.contains(d));
    n.calls.retain(|c| !remove.contains(&c.department_id));
    for d in add {
        if !n.assisting.contains(d) {
            n.assisting.push(*d);
            n.calls.push(Call {
                called_at: Some(now),
                ..Call::new(*d, CallRole::Assisting, report_by)
            });
        }
    }
    Ok(())
}

/// An assisting department reports for duty with `staff` (already checked).
pub(super) fn report_assisting(
    w: &Whistle,
    n: &mut Whistle,
    d: DepartmentId,
    staff: Vec<String>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<(EventKind, Option<String>)>, RuleError> {
    let call = assisting_call(w, n, d, "report for duty on")?;
    if call.reported_at.is_some() {
        return Err(not_allowed(
            w,
            "report for duty on",
            format!("; {d} has already reported for duty"),
        ));
    }
    call.reported_at = Some(now);
    call.staff = staff;
    call.late = call.late || now > call.report_by;
    Ok(vec![(EventKind::WhistleAssistReported, note)])
}

/// An assisting department that reported marks its part done, saying what it did.
pub(super) fn part_done(
    w: &Whistle,
    n: &mut Whistle,
    d: DepartmentId,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(EventKind, Option<String>)>, RuleError> {
    let note = required("note", note, text::NOTE)?;
    let call = assisting_call(w, n, d, "mark a part done on")?;
    if call.reported_at.is_none() {
        return Err(not_allowed(
            w,
            "mark a part done on",
            format!("; {d} has not reported for duty yet"),
        ));
    }
    if call.done_at.is_some() {
        return Err(not_allowed(
            w,
            "mark a part done on",
            format!("; {d} already marked its part done"),
        ));
    }
    call.done_at = Some(now);
    call.done_note = Some(note.clone());
    Ok(vec![(EventKind::WhistleAssistDone, Some(note))])
}

/// The assisting departments whose part is not done yet.
pub fn parts_open(w: &Whistle) -> Vec<DepartmentId> {
    w.calls
        .iter()
        .filter(|c| c.role == CallRole::Assisting && c.done_at.is_none())
        .map(|c| c.department_id)
        .collect()
}

/// Resolving before every assisting part is done needs a note saying why.
pub(super) fn check_resolve_note(
    w: &Whistle,
    note: Option<&str>,
) -> Result<Option<String>, RuleError> {
    let note = optional("note", note, text::NOTE)?;
    let open = parts_open(w);
    if note.is_none() && !open.is_empty() {
        let names: Vec<String> = open.iter().map(ToString::to_string).collect();
        return Err(RuleError::coded(
            "note",
            RefusalCode::ReasonRequired,
            format!(
                "{} has not marked its part done; resolving now needs a note saying why",
                names.join(", ")
            ),
        ));
    }
    Ok(note)
}

/// Whether the assisting calls are still racing their deadlines (the lead's is the case's).
fn assisting_live(w: &Whistle) -> bool {
    matches!(
        w.status,
        WhistleStatus::Dispatched | WhistleStatus::Acknowledged
    )
}

/// The clock: every assisting department whose deadline passed unreported is late, each named
/// in the overdue event (not the lead), and the case goes up a level as for any missed
/// deadline.
pub(super) fn calls_missed(
    w: &Whistle,
    n: &mut Whistle,
    now: DateTime<Utc>,
) -> Result<Vec<(EventKind, Option<String>)>, RuleError> {
    let mut missed = Vec::new();
    if assisting_live(w) {
        for c in n.calls.iter_mut().filter(|c| {
            c.role == CallRole::Assisting
                && c.reported_at.is_none()
                && c.missed_at.is_none()
                && c.report_by <= now
        }) {
            c.missed_at = Some(now);
            c.late = true;
            missed.push((c.department_id, c.report_by));
        }
    }
    if missed.is_empty() {
        return Err(not_allowed(
            w,
            "mark a department late on",
            "; no assisting department's deadline to report has passed".into(),
        ));
    }
    let who: Vec<String> = missed.iter().map(|(d, _)| d.to_string()).collect();
    let due = missed
        .iter()
        .map(|(_, t)| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .next()
        .unwrap_or_default();
    let what = format!(
        "{} missed the deadline to report for duty ({due})",
        who.join(", ")
    );
    let mut events = vec![(EventKind::WhistleOverdue, Some(what.clone()))];
    if w.escalation_level < TOP_ESCALATION {
        n.escalation_level += 1;
        events.push((
            EventKind::WhistleEscalated,
            Some(format!(
                "escalated to level {} ({what})",
                n.escalation_level
            )),
        ));
    }
    Ok(events)
}

impl Whistle {
    /// How many called departments have reported, of how many were called (`报到 2/3`).
    pub fn reported(&self) -> (usize, usize) {
        let done = self
            .calls
            .iter()
            .filter(|c| c.reported_at.is_some())
            .count();
        (done, self.calls.len())
    }

    /// The departments the clock last found late to report (named by its overdue event at
    /// `at`).
    pub fn missed_at(&self, at: DateTime<Utc>) -> Vec<DepartmentId> {
        self.calls
            .iter()
            .filter(|c| c.missed_at == Some(at))
            .map(|c| c.department_id)
            .collect()
    }

    /// The call of a department, if it is called.
    pub fn call_of(&self, d: DepartmentId) -> Option<&Call> {
        self.calls.iter().find(|c| c.department_id == d)
    }
}
