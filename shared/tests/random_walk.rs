//! The whistle's state machine walked at random against a model: every step the rules
//! allow, the model allows, and the record it leaves is the one the model expects. Joint
//! 报到 is in the walk: assisting departments called at dispatch and after, each reporting
//! for itself, parts marked done, the clock finding one late; the model keeps its own
//! record of each call.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::{book, calendar, expected, filed, t0};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shaozi_shared::calendar::Span;
use shaozi_shared::whistle::{apply, CallRole, Muster};
use shaozi_shared::{DepartmentId, Urgency, Whistle, WhistleAction, WhistleStatus};

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Two or more different people, none unnamed.
fn staff_ok(staff: &[String]) -> bool {
    let mut names: Vec<&str> = staff.iter().map(|s| s.trim()).collect();
    if names.iter().any(|n| n.is_empty()) {
        return false;
    }
    names.sort_unstable();
    names.dedup();
    names.len() >= 2
}

/// Each department once, in the order first named.
fn first_of_each(ds: &[DepartmentId]) -> Vec<DepartmentId> {
    let mut out: Vec<DepartmentId> = Vec::new();
    for d in ds {
        if !out.contains(d) {
            out.push(*d);
        }
    }
    out
}

/// The model's own record of the assisting calls: who is called, who reported, whose part is
/// done, whom the clock found late. Kept from the steps taken, never read from the record
/// (only each call's deadline is), so the record's calls are checked against it.
#[derive(Default)]
struct Calls {
    assisting: Vec<DepartmentId>,
    reported: BTreeSet<DepartmentId>,
    done: BTreeSet<DepartmentId>,
    missed: BTreeSet<DepartmentId>,
}

impl Calls {
    fn parts_open(&self, _w: &Whistle) -> Vec<DepartmentId> {
        self.assisting
            .iter()
            .filter(|d| !self.done.contains(d))
            .copied()
            .collect()
    }

    /// The assisting departments past their own deadline, unreported, not yet found late.
    fn late_now(&self, w: &Whistle, now: DateTime<Utc>) -> Vec<DepartmentId> {
        self.assisting
            .iter()
            .filter(|d| !self.reported.contains(d) && !self.missed.contains(d))
            .filter(|d| w.call_of(**d).is_some_and(|c| c.report_by <= now))
            .copied()
            .collect()
    }

    /// The status a step leads to, or none when the model refuses it.
    fn want(&self, w: &Whistle, a: &WhistleAction, now: DateTime<Utc>) -> Option<WhistleStatus> {
        use WhistleStatus::*;
        let live = matches!(w.status, Dispatched | Acknowledged);
        match a {
            // The lead named as reporting is the lead's own report.
            WhistleAction::ReportAssisting {
                department, staff, ..
            } if w.department_id == Some(*department) => {
                (w.status == Dispatched && staff_ok(staff)).then_some(Acknowledged)
            }
            WhistleAction::ReportAssisting {
                department, staff, ..
            } => (live
                && self.assisting.contains(department)
                && !self.reported.contains(department)
                && staff_ok(staff))
            .then_some(w.status),
            WhistleAction::PartDone { department, note } => (live
                && !blank(note)
                && department.is_some_and(|d| {
                    self.assisting.contains(&d)
                        && self.reported.contains(&d)
                        && !self.done.contains(&d)
                }))
            .then_some(w.status),
            WhistleAction::CallsMissed => {
                (live && !self.late_now(w, now).is_empty()).then_some(w.status)
            }
            WhistleAction::ChangeAssisting {
                add,
                remove,
                reason,
            } => (live
                && !blank(reason)
                && !(add.is_empty() && remove.is_empty())
                && add
                    .iter()
                    .all(|d| w.department_id != Some(*d) && !self.assisting.contains(d))
                && remove.iter().all(|d| self.assisting.contains(d)))
            .then_some(w.status),
            _ => expected(w, a).filter(|_| input_ok(w, a, now, self)),
        }
    }

    /// Follows a step the rules took.
    fn took(&mut self, w: &Whistle, a: &WhistleAction, now: DateTime<Utc>) {
        match a {
            WhistleAction::Dispatch { assisting, .. } => {
                // A department called again to assist keeps what it did; any other is new.
                let helpers = first_of_each(assisting);
                let kept = |d: &DepartmentId| helpers.contains(d) && self.assisting.contains(d);
                self.reported.retain(kept);
                self.done.retain(kept);
                self.missed.retain(kept);
                self.assisting = helpers;
            }
            WhistleAction::ChangeAssisting { add, remove, .. } => {
                self.assisting.retain(|d| !remove.contains(d));
                for d in remove {
                    self.reported.remove(d);
                    self.done.remove(d);
                    self.missed.remove(d);
                }
                for d in first_of_each(add) {
                    self.assisting.push(d);
                }
            }
            WhistleAction::ReportAssisting { department, .. }
                if w.department_id != Some(*department) =>
            {
                self.reported.insert(*department);
            }
            WhistleAction::PartDone {
                department: Some(d),
                ..
            } => {
                self.done.insert(*d);
            }
            WhistleAction::CallsMissed => {
                let late = self.late_now(w, now);
                self.missed.extend(late);
            }
            _ => {}
        }
    }

    /// The record's calls are the model's: one lead call for the department that leads, and
    /// each assisting call reported, done and late exactly when the model says.
    fn check(&self, r: &Whistle) -> Result<(), TestCaseError> {
        use WhistleStatus::*;
        prop_assert_eq!(&r.assisting, &self.assisting);
        let assisting: Vec<DepartmentId> = r
            .calls
            .iter()
            .filter(|c| c.role == CallRole::Assisting)
            .map(|c| c.department_id)
            .collect();
        if r.status != Rejected {
            prop_assert_eq!(&assisting, &self.assisting);
        }
        for c in r.calls.iter().filter(|c| c.role == CallRole::Assisting) {
            let d = c.department_id;
            prop_assert_eq!(c.reported_at.is_some(), self.reported.contains(&d));
            prop_assert_eq!(c.done_at.is_some(), self.done.contains(&d));
            prop_assert_eq!(c.missed_at.is_some(), self.missed.contains(&d));
            let came_late = c.reported_at.is_some_and(|t| t > c.report_by);
            prop_assert_eq!(c.late, came_late || c.missed_at.is_some(), "{:?}", c);
        }
        if !matches!(r.status, New | Rejected) {
            let leads: Vec<_> = r
                .calls
                .iter()
                .filter(|c| c.role == CallRole::Lead)
                .collect();
            prop_assert_eq!(leads.len(), 1);
            prop_assert_eq!(Some(leads[0].department_id), r.department_id);
            match r.status {
                Dispatched => prop_assert!(leads[0].reported_at.is_none()),
                Acknowledged | Resolved | Closed => {
                    prop_assert!(leads[0].reported_at.is_some());
                    prop_assert_eq!(&leads[0].staff, &r.staff);
                }
                _ => {}
            }
            let (came, called) = r.reported();
            prop_assert_eq!(called, 1 + self.assisting.len());
            prop_assert_eq!(
                came,
                usize::from(leads[0].reported_at.is_some()) + self.reported.len()
            );
        }
        Ok(())
    }
}

fn arb_action() -> impl Strategy<Value = WhistleAction> {
    prop_oneof![
        3 => (
            1u64..4,
            proptest::collection::vec(1u64..5, 0..3),
            proptest::option::of("[a-z]{0,3}"),
            proptest::option::of(0i64..12_000),
        )
            .prop_map(|(d, assisting, note, report)| WhistleAction::Dispatch {
                department_id: DepartmentId(d),
                assisting: assisting.into_iter().map(DepartmentId).collect(),
                note,
                report: report.map(|m| Muster {
                    place: "梓山社区居委会".into(),
                    at: t0() + Duration::minutes(m),
                }),
            }),
        1 => proptest::collection::vec("[a-c ]{0,2}", 0..4)
            .prop_map(|staff| WhistleAction::Acknowledge { staff, note: None }),
        1 => ("[a-z ]{0,3}", proptest::option::of("[a-z ]{0,3}"))
            .prop_map(|(reply, note)| WhistleAction::Resolve { reply, note }),
        1 => (-1i64..7).prop_map(|satisfaction| WhistleAction::Close {
            satisfaction,
            note: None
        }),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Reopen { reason }),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Reject {
            reason,
            duplicate_of: None
        }),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Escalate { reason }),
        1 => Just(WhistleAction::DeadlinePassed),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Return { reason }),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Overrule { reason }),
        1 => (0i64..30_000, "[a-z ]{0,3}").prop_map(|(m, reason)| WhistleAction::RequestExtension {
            until: t0() + Duration::minutes(m),
            reason
        }),
        1 => proptest::option::of(0i64..30_000).prop_map(|m| WhistleAction::ApproveExtension {
            until: m.map(|m| t0() + Duration::minutes(m)),
            note: None
        }),
        1 => "[a-z ]{0,3}".prop_map(|reason| WhistleAction::DenyExtension { reason }),
        1 => "[a-z ]{0,3}".prop_map(|note| WhistleAction::Urge { note }),
        1 => (any::<bool>(), proptest::option::of(-1i64..7), "[a-z ]{0,3}").prop_map(
            |(reached, satisfaction, note)| WhistleAction::CallBack {
                reached,
                satisfaction,
                note
            }
        ),
        1 => Just(WhistleAction::DueSoon),
        1 => Just(WhistleAction::ConfirmDeadlinePassed),
        // Joint 报到: each called department's own steps, and the dispatcher's.
        // (Weighted, and mostly two good names: a walk reaches a report, then a part done,
        // then a re-dispatch that keeps them.)
        4 => (
            1u64..5,
            prop_oneof![
                3 => Just(vec!["王强".to_string(), "赵敏".to_string()]),
                1 => proptest::collection::vec("[a-c ]{0,2}", 1..4),
            ]
        )
            .prop_map(|(d, staff)| WhistleAction::ReportAssisting {
                department: DepartmentId(d),
                staff,
                note: None,
            }),
        3 => (1u64..5, "[a-z ]{0,3}").prop_map(|(d, note)| WhistleAction::PartDone {
            department: Some(DepartmentId(d)),
            note,
        }),
        1 => Just(WhistleAction::CallsMissed),
        1 => (
            proptest::collection::vec(1u64..5, 0..2),
            proptest::collection::vec(1u64..5, 0..2),
            "[a-z ]{0,3}",
        )
            .prop_map(|(add, remove, reason)| WhistleAction::ChangeAssisting {
                add: add.into_iter().map(DepartmentId).collect(),
                remove: remove.into_iter().map(DepartmentId).collect(),
                reason,
            }),
        1 => (
            proptest::option::of(prop_oneof![Just("lighting"), Just("roads")]),
            proptest::option::of(prop_oneof![Just(Urgency::Urgent), Just(Urgency::Normal)]),
            "[a-z ]{0,3}",
        )
            .prop_map(|(category, urgency, reason)| WhistleAction::Reclassify {
                category: category.map(String::from),
                urgency,
                address: None,
                reason,
            }),
        1 => ("[a-z ]{0,3}", any::<bool>())
            .prop_map(|(text, public)| WhistleAction::Note { text, public }),
    ]
}

/// Whether the model thinks the action's input is acceptable (ignoring status).
fn input_ok(w: &Whistle, a: &WhistleAction, now: DateTime<Utc>, model: &Calls) -> bool {
    let blank = |s: &str| s.trim().is_empty();
    match a {
        WhistleAction::Dispatch {
            department_id,
            assisting,
            note,
            report,
        } => {
            let noted = note.as_deref().is_some_and(|n| !blank(n));
            let helpers = first_of_each(assisting);
            !assisting.contains(department_id)
                && report.as_ref().is_none_or(|m| m.at > now)
                && match w.status {
                    // The same call again is no change; any change needs a reason.
                    WhistleStatus::Dispatched => {
                        !(w.department_id == Some(*department_id)
                            && w.assisting == helpers
                            && report.is_none())
                            && noted
                    }
                    WhistleStatus::Returned => w.department_id != Some(*department_id) && noted,
                    _ => true,
                }
        }
        WhistleAction::Acknowledge { staff, .. } => staff_ok(staff),
        // Before every assisting part is done, only with a note saying why.
        WhistleAction::Resolve { reply, note } => {
            !blank(reply)
                && (model.parts_open(w).is_empty() || note.as_deref().is_some_and(|n| !blank(n)))
        }
        WhistleAction::Close { satisfaction, .. } => (1..=5).contains(satisfaction),
        WhistleAction::Reopen { reason } | WhistleAction::Reject { reason, .. } => !blank(reason),
        WhistleAction::Escalate { reason } => {
            !blank(reason) && w.escalation_level < shaozi_shared::whistle::TOP_ESCALATION
        }
        WhistleAction::DeadlinePassed => w.pending_deadline().is_some_and(|d| now >= d),
        WhistleAction::LinkDuplicate { .. } => true,
        WhistleAction::Return { reason } => {
            let since = w.dispatched_at.unwrap_or(w.created_at);
            !blank(reason) && now <= calendar().add(since, Span::WorkingDays(1))
        }
        WhistleAction::Overrule { reason } | WhistleAction::DenyExtension { reason } => {
            !blank(reason)
        }
        WhistleAction::RequestExtension { until, reason } => {
            !blank(reason)
                && now < w.resolve_by
                && !w.overdue
                && w.extensions_granted < 2
                && *until > w.resolve_by
                && *until <= calendar().add(w.resolve_by, Span::WorkingDays(10))
        }
        WhistleAction::ApproveExtension { until, .. } => {
            w.pending_extension.as_ref().is_some_and(|r| {
                let u = until.unwrap_or(r.until);
                u <= r.until && u > w.resolve_by.max(now)
            })
        }
        WhistleAction::Urge { note } => !blank(note),
        WhistleAction::CallBack {
            reached,
            satisfaction,
            note,
        } => {
            !blank(note)
                && (*reached || satisfaction.is_none())
                && satisfaction.is_none_or(|s| (1..=5).contains(&s))
                && w.callbacks.len() < 20
        }
        // Due soon: within the last fifth of the deadline's time, once per deadline; an
        // assisting department late and not yet found is the clock's first concern.
        WhistleAction::DueSoon => w.pending_deadline().is_some_and(|due| {
            let live = matches!(
                w.status,
                WhistleStatus::Dispatched | WhistleStatus::Acknowledged
            );
            if live && !model.late_now(w, now).is_empty() {
                return false;
            }
            let from = w.clocks_from.unwrap_or(w.created_at);
            let soon = due - (due - from) / 5;
            now >= soon && now < due && w.due_soon_sent_for != Some(due)
        }),
        WhistleAction::ConfirmDeadlinePassed => w.confirm_by.is_some_and(|c| now >= c),
        WhistleAction::Reclassify {
            category,
            urgency,
            reason,
            ..
        } => {
            !blank(reason)
                && (category.as_deref().is_some_and(|c| c != w.category)
                    || urgency.is_some_and(|u| u != w.urgency))
        }
        WhistleAction::Note { text, .. } => !blank(text),
        // A department's own call is the model's to judge (`Calls::want`).
        WhistleAction::ReportAssisting { .. }
        | WhistleAction::PartDone { .. }
        | WhistleAction::ChangeAssisting { .. }
        | WhistleAction::CallsMissed => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any sequence of steps keeps the whistle on the domain's paths, and every refusal
    /// leaves it untouched.
    #[test]
    fn random_walks_follow_the_model(
        steps in proptest::collection::vec((arb_action(), 0i64..600), 1..40),
        urgent in any::<bool>(),
    ) {
        let mut w = filed(if urgent { Urgency::Urgent } else { Urgency::Normal });
        let mut now = t0();
        let mut calls = Calls::default();
        for (action, minutes) in steps {
            now += Duration::minutes(minutes);
            let want = calls.want(&w, &action, now);
            match apply(&w, &action, now, &book()) {
                Ok(out) => {
                    let next = want.expect("the model refuses what the rules allowed");
                    let r = out.record;
                    calls.took(&w, &action, now);
                    calls.check(&r)?;
                    prop_assert_eq!(r.status, next);
                    prop_assert_eq!(r.version, w.version + 1);
                    prop_assert!(r.escalation_level >= w.escalation_level);
                    prop_assert!(r.escalation_level <= shaozi_shared::whistle::TOP_ESCALATION);
                    if r.status == WhistleStatus::Closed {
                        prop_assert!(r.satisfaction.is_some() != r.auto_closed);
                        prop_assert!(r.reply.is_some());
                    }
                    // What is pending belongs to its status.
                    prop_assert_eq!(r.pending_return.is_some(), r.status == WhistleStatus::Returned);
                    prop_assert!(r.pending_extension.is_none() || r.status == WhistleStatus::Acknowledged);
                    prop_assert_eq!(r.confirm_by.is_some(), r.status == WhistleStatus::Resolved);
                    prop_assert!(r.extensions_granted <= 2);
                    // Every call of a department is counted, and an upheld return is one of them.
                    if r.department_id.is_some() && r.dispatched_at.is_some() {
                        prop_assert!(r.dispatches as usize > r.returns_upheld.len());
                    }
                    // The clock looks again no later than the pending deadline.
                    if let (Some(alarm), Some(due)) = (r.next_alarm(), r.pending_deadline()) {
                        prop_assert!(alarm <= due);
                    }
                    if r.status == WhistleStatus::Acknowledged {
                        prop_assert!(r.staff.len() >= 2);
                    }
                    if r.status != WhistleStatus::New {
                        prop_assert!(r.department_id.is_some() || r.status == WhistleStatus::Rejected);
                    }
                    prop_assert!(!(r.overdue && r.pending_deadline().is_some()));
                    w = r;
                }
                Err(e) => {
                    prop_assert!(want.is_none(), "rules refused an allowed step: {}", e);
                }
            }
        }
    }
}
