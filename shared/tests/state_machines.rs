//! The whistle and wish state machines, checked exhaustively and against a model.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use shaozi_shared::calendar::{Calendar, Span};
use shaozi_shared::case::{CaseRules, ExtensionRequest, ReturnRequest};
use shaozi_shared::whistle::{apply, Book, Filing, Outcome};
use shaozi_shared::wish::{self, Wish, WishAction, WishStatus};
use shaozi_shared::{
    CommunityId, Deadlines, DepartmentId, EventKind, RuleError, StreetId, Urgency, Whistle,
    WhistleAction, WhistleId, WhistleStatus, WishId,
};

fn case_rules() -> &'static CaseRules {
    static RULES: std::sync::OnceLock<CaseRules> = std::sync::OnceLock::new();
    RULES.get_or_init(CaseRules::default)
}

fn calendar() -> &'static Calendar {
    static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CAL.get_or_init(Calendar::default)
}

fn book() -> Book<'static> {
    Book {
        deadlines: Deadlines::DEFAULT,
        calendar: calendar(),
        case: case_rules(),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

/// A whistle as the writer files it: with its deadlines, and scheduled for its warnings.
fn filed(urgency: Urgency) -> Whistle {
    let mut w = Whistle::file(
        WhistleId(1001),
        Filing {
            community_id: CommunityId(1),
            street_id: StreetId(1),
            category: "lighting".into(),
            title: "路灯不亮".into(),
            description: "朝阳路口三盏路灯连续一周不亮".into(),
            urgency,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        },
        "admin",
        t0(),
        &Deadlines::DEFAULT,
        calendar(),
    );
    w.schedule(case_rules());
    w
}

/// A whistle in `status` as the steps would have left it: dispatched to D1 at filing, a
/// pending return when returned, a confirmation deadline when resolved.
fn in_status(status: WhistleStatus) -> Whistle {
    let mut w = filed(Urgency::Urgent);
    w.status = status;
    if status != WhistleStatus::New {
        w.department_id = Some(DepartmentId(1));
        w.dispatched_at = Some(t0());
        w.dispatches = 1;
    }
    if status == WhistleStatus::Returned {
        w.pending_return = Some(ReturnRequest {
            department_id: DepartmentId(1),
            at: t0(),
            reason: "不归我局管".into(),
        });
    }
    if status == WhistleStatus::Resolved {
        w.confirm_by = Some(t0() + Duration::days(1));
    }
    w.schedule(case_rules());
    w
}

/// The same, with an extension request waiting.
fn with_request(mut w: Whistle) -> Whistle {
    w.pending_extension = Some(ExtensionRequest {
        until: w.resolve_by + Duration::days(2),
        reason: "需要更换管道".into(),
        at: t0(),
        was_late: false,
    });
    w
}

/// When to try an action in the table: the clock's when it is due, the rest early (within
/// the return window, before the deadlines).
fn when_to_try(w: &Whistle, a: &WhistleAction) -> DateTime<Utc> {
    match a {
        WhistleAction::DeadlinePassed | WhistleAction::ConfirmDeadlinePassed => {
            t0() + Duration::days(30)
        }
        WhistleAction::DueSoon => w.due_soon_at.unwrap_or(t0()),
        _ => t0() + Duration::minutes(5),
    }
}

/// A valid instance of every action.
fn actions() -> Vec<WhistleAction> {
    vec![
        WhistleAction::Dispatch {
            department_id: DepartmentId(2),
            assisting: vec![],
            note: Some("请城管局牵头".into()),
            report: None,
        },
        WhistleAction::Acknowledge {
            staff: vec!["张伟".into(), "李娜".into()],
            note: None,
        },
        WhistleAction::Resolve {
            reply: "已更换灯泡".into(),
            note: None,
        },
        WhistleAction::Close {
            satisfaction: 5,
            note: None,
        },
        WhistleAction::Reopen {
            reason: "还有一盏不亮".into(),
        },
        WhistleAction::Reject {
            reason: "重复上报".into(),
            duplicate_of: Some(WhistleId(1)),
        },
        WhistleAction::Escalate {
            reason: "群众反映强烈".into(),
        },
        WhistleAction::DeadlinePassed,
        WhistleAction::Return {
            reason: "属于住建局职责".into(),
        },
        WhistleAction::Overrule {
            reason: "路灯归城管局".into(),
        },
        WhistleAction::RequestExtension {
            until: t0() + Duration::days(3),
            reason: "需要更换管道".into(),
        },
        WhistleAction::ApproveExtension {
            until: None,
            note: None,
        },
        WhistleAction::DenyExtension {
            reason: "可以先临时处置".into(),
        },
        WhistleAction::Urge {
            note: "群众反映强烈".into(),
        },
        WhistleAction::CallBack {
            reached: true,
            satisfaction: Some(4),
            note: "居民表示满意".into(),
        },
        WhistleAction::DueSoon,
        WhistleAction::ConfirmDeadlinePassed,
        // A whistle with no assisting department: none of these has anything to act on.
        WhistleAction::ReportAssisting {
            department: DepartmentId(9),
            staff: vec!["王强".into(), "赵敏".into()],
            note: None,
        },
        WhistleAction::PartDone {
            department: Some(DepartmentId(9)),
            note: "已完成".into(),
        },
        WhistleAction::CallsMissed,
        WhistleAction::ChangeAssisting {
            add: vec![DepartmentId(9)],
            remove: vec![],
            reason: "需要供电部门配合".into(),
        },
        WhistleAction::Reclassify {
            category: Some("roads".into()),
            urgency: None,
            address: None,
            reason: "是路面塌陷，不是路灯".into(),
        },
        WhistleAction::Note {
            text: "已电话联系物业".into(),
            public: false,
        },
    ]
}

/// The domain diagram, written out independently of the implementation's table: the status
/// a step leads to from a whistle as it is (a pending extension decides what can be asked
/// and answered).
fn expected(w: &Whistle, action: &WhistleAction) -> Option<WhistleStatus> {
    use WhistleStatus::*;
    let status = w.status;
    let pending = w.pending_extension.is_some();
    match (status, action) {
        (New | Dispatched | Returned, WhistleAction::Dispatch { .. }) => Some(Dispatched),
        (Dispatched, WhistleAction::Acknowledge { .. }) => Some(Acknowledged),
        (Acknowledged, WhistleAction::Resolve { .. }) => Some(Resolved),
        (Resolved, WhistleAction::Close { .. }) => Some(Closed),
        (Resolved, WhistleAction::Reopen { .. }) => Some(Acknowledged),
        (New | Dispatched | Returned, WhistleAction::Reject { .. }) => Some(Rejected),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::Escalate { .. })
            if w.escalation_level < shaozi_shared::whistle::TOP_ESCALATION =>
        {
            Some(status)
        }
        (New | Dispatched | Acknowledged | Returned, WhistleAction::DeadlinePassed) => Some(status),
        (Dispatched, WhistleAction::Return { .. }) => Some(Returned),
        (Returned, WhistleAction::Overrule { .. }) => Some(Dispatched),
        (Acknowledged, WhistleAction::RequestExtension { .. }) if !pending => Some(status),
        (
            Acknowledged,
            WhistleAction::ApproveExtension { .. } | WhistleAction::DenyExtension { .. },
        ) if pending => Some(status),
        (Dispatched | Acknowledged, WhistleAction::Urge { .. }) => Some(status),
        (Dispatched | Acknowledged, WhistleAction::ChangeAssisting { .. }) => Some(status),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::Reclassify { .. }) => {
            Some(status)
        }
        (_, WhistleAction::Note { .. }) => Some(status),
        (Resolved | Closed, WhistleAction::CallBack { .. }) => Some(status),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::DueSoon) => Some(status),
        (Resolved, WhistleAction::ConfirmDeadlinePassed) => Some(Closed),
        _ => None,
    }
}

#[test]
fn every_status_times_every_action() {
    for status in WhistleStatus::ALL {
        for pending in [false, true] {
            for action in actions() {
                let mut w = in_status(status);
                if pending {
                    w = with_request(w);
                }
                let at = when_to_try(&w, &action);
                let got = apply(&w, &action, at, &book());
                match (expected(&w, &action), got) {
                    (Some(next), Ok(Outcome { record, events })) => {
                        assert_eq!(record.status, next, "{status} + {}", action.name());
                        assert_eq!(record.version, w.version + 1);
                        assert_eq!(record.updated_at, at);
                        assert!(!events.is_empty());
                    }
                    (None, Err(RuleError::NotAllowed { status: s, .. })) => {
                        assert_eq!(s, status.as_str());
                    }
                    (want, got) => panic!(
                        "{status} (extension pending: {pending}) + {}: want {want:?}, got {got:?}",
                        action.name()
                    ),
                }
            }
        }
    }
}

#[test]
fn refusals_name_the_status_and_a_way_forward() {
    let w = in_status(WhistleStatus::New);
    let err = apply(&w, &actions()[1], t0(), &book()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot acknowledge whistle W1001: it is new; dispatch it to a department first"
    );
}

#[test]
fn reporting_for_duty_needs_two_different_staff() {
    let w = in_status(WhistleStatus::Dispatched);
    for staff in [
        vec![],
        vec!["张伟"],
        vec!["张伟", " 张伟 "],
        vec!["张伟", "  "],
    ] {
        let a = WhistleAction::Acknowledge {
            staff: staff.iter().map(|s| s.to_string()).collect(),
            note: None,
        };
        let err = apply(&w, &a, t0(), &book()).unwrap_err();
        assert!(
            matches!(&err, RuleError::Invalid { field, .. } if field == "staff"),
            "{staff:?}: {err}"
        );
    }
}

#[test]
fn reassigning_needs_a_reason_and_a_change() {
    let w = in_status(WhistleStatus::Dispatched);
    let same = WhistleAction::Dispatch {
        department_id: DepartmentId(1),
        assisting: vec![],
        note: Some("再派一次".into()),
        report: None,
    };
    assert!(matches!(
        apply(&w, &same, t0(), &book()),
        Err(RuleError::NotAllowed { .. })
    ));
    let no_reason = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![],
        note: None,
        report: None,
    };
    assert!(matches!(
        apply(
            &w,
            &no_reason,
            t0(),
            &book()
        ),
        Err(RuleError::Invalid { field, .. }) if field == "note"
    ));
    let ok = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![DepartmentId(3), DepartmentId(3)],
        note: Some("属于住建局职责".into()),
        report: None,
    };
    let out = apply(&w, &ok, t0(), &book()).unwrap();
    assert_eq!(out.events[0].0, EventKind::WhistleReassigned);
    assert_eq!(out.record.assisting, vec![DepartmentId(3)]);
    let lead_assists = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![DepartmentId(2)],
        note: Some("x".into()),
        report: None,
    };
    assert!(apply(&w, &lead_assists, t0(), &book()).is_err());
}

#[test]
fn deadlines_mark_overdue_once_and_escalate() {
    let w = filed(Urgency::Urgent);
    let early = t0() + Duration::minutes(29);
    assert!(apply(&w, &WhistleAction::DeadlinePassed, early, &book()).is_err());
    let late = t0() + Duration::minutes(31);
    let out = apply(&w, &WhistleAction::DeadlinePassed, late, &book()).unwrap();
    assert!(out.record.overdue && out.record.respond_late);
    assert_eq!(out.record.escalation_level, 1);
    let kinds: Vec<_> = out.events.iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [EventKind::WhistleOverdue, EventKind::WhistleEscalated]
    );
    // The same deadline never fires twice.
    assert!(apply(&out.record, &WhistleAction::DeadlinePassed, late, &book()).is_err());
    assert_eq!(out.record.pending_deadline(), None);
}

#[test]
fn reopening_restarts_the_resolve_clock() {
    let w = in_status(WhistleStatus::Resolved);
    let at = t0() + Duration::days(3);
    let out = apply(
        &w,
        &WhistleAction::Reopen {
            reason: "没修好".into(),
        },
        at,
        &book(),
    )
    .unwrap();
    assert_eq!(out.record.resolve_by, at + Duration::hours(24));
    assert_eq!(out.record.reopened, 1);
    assert_eq!(
        out.record.pending_deadline(),
        Some(at + Duration::hours(24))
    );
}

#[test]
fn closing_checks_the_rating() {
    let w = in_status(WhistleStatus::Resolved);
    for bad in [0, 6, -1, 1000] {
        let a = WhistleAction::Close {
            satisfaction: bad,
            note: None,
        };
        assert!(matches!(
            apply(
                &w,
                &a,
                t0(),
                &book()
            ),
            Err(RuleError::Invalid { field, .. }) if field == "satisfaction"
        ));
    }
}

fn arb_action() -> impl Strategy<Value = WhistleAction> {
    prop_oneof![
        (1u64..4, proptest::option::of("[a-z]{0,3}")).prop_map(|(d, note)| {
            WhistleAction::Dispatch {
                department_id: DepartmentId(d),
                assisting: vec![],
                note,
                report: None,
            }
        }),
        proptest::collection::vec("[a-c ]{0,2}", 0..4)
            .prop_map(|staff| WhistleAction::Acknowledge { staff, note: None }),
        "[a-z ]{0,3}".prop_map(|reply| WhistleAction::Resolve { reply, note: None }),
        (-1i64..7).prop_map(|satisfaction| WhistleAction::Close {
            satisfaction,
            note: None
        }),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Reopen { reason }),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Reject {
            reason,
            duplicate_of: None
        }),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Escalate { reason }),
        Just(WhistleAction::DeadlinePassed),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Return { reason }),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::Overrule { reason }),
        (0i64..30_000, "[a-z ]{0,3}").prop_map(|(m, reason)| WhistleAction::RequestExtension {
            until: t0() + Duration::minutes(m),
            reason
        }),
        proptest::option::of(0i64..30_000).prop_map(|m| WhistleAction::ApproveExtension {
            until: m.map(|m| t0() + Duration::minutes(m)),
            note: None
        }),
        "[a-z ]{0,3}".prop_map(|reason| WhistleAction::DenyExtension { reason }),
        "[a-z ]{0,3}".prop_map(|note| WhistleAction::Urge { note }),
        (any::<bool>(), proptest::option::of(-1i64..7), "[a-z ]{0,3}").prop_map(
            |(reached, satisfaction, note)| WhistleAction::CallBack {
                reached,
                satisfaction,
                note
            }
        ),
        Just(WhistleAction::DueSoon),
        Just(WhistleAction::ConfirmDeadlinePassed),
    ]
}

/// Whether the model thinks the action's input is acceptable (ignoring status).
fn input_ok(w: &Whistle, a: &WhistleAction, now: DateTime<Utc>) -> bool {
    let blank = |s: &str| s.trim().is_empty();
    match a {
        WhistleAction::Dispatch {
            department_id,
            note,
            ..
        } => match w.status {
            WhistleStatus::Dispatched | WhistleStatus::Returned => {
                w.department_id != Some(*department_id)
                    && note.as_deref().is_some_and(|n| !blank(n))
            }
            _ => true,
        },
        WhistleAction::Acknowledge { staff, .. } => {
            let mut names: Vec<&str> = staff.iter().map(|s| s.trim()).collect();
            if names.iter().any(|n| n.is_empty()) {
                return false;
            }
            names.sort();
            names.dedup();
            names.len() >= 2
        }
        WhistleAction::Resolve { reply, .. } => !blank(reply),
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
        // Due soon: within the last fifth of the deadline's time, once per deadline.
        WhistleAction::DueSoon => w.pending_deadline().is_some_and(|due| {
            let from = w.clocks_from.unwrap_or(w.created_at);
            let soon = due - (due - from) / 5;
            now >= soon && now < due && w.due_soon_sent_for != Some(due)
        }),
        WhistleAction::ConfirmDeadlinePassed => w.confirm_by.is_some_and(|c| now >= c),
        // Joint 报到 is walked by its own model (tests/joint.rs); here no department assists.
        WhistleAction::ReportAssisting { .. }
        | WhistleAction::PartDone { .. }
        | WhistleAction::ChangeAssisting { .. }
        | WhistleAction::Reclassify { .. }
        | WhistleAction::Note { .. }
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
        for (action, minutes) in steps {
            now += Duration::minutes(minutes);
            let want = expected(&w, &action).filter(|_| input_ok(&w, &action, now));
            match apply(&w, &action, now, &book()) {
                Ok(out) => {
                    let next = want.expect("the model refuses what the rules allowed");
                    let r = out.record;
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

fn open_wish() -> Wish {
    Wish {
        id: WishId(1),
        status: WishStatus::Open,
        community_id: CommunityId(1),
        street_id: StreetId(1),
        title: "给留守儿童买一个书包".into(),
        description: None,
        value_fen: 12_000,
        filed_by: "admin".into(),
        department_id: None,
        claimer: None,
        created_at: t0(),
        updated_at: t0(),
        claimed_at: None,
        completed_at: None,
        note: None,
        version: 1,
    }
}

#[test]
fn every_wish_status_times_every_action() {
    let acts = [
        WishAction::Claim {
            department_id: Some(DepartmentId(1)),
            claimer: None,
        },
        WishAction::Complete { note: None },
        WishAction::Cancel {
            reason: "居民已搬走".into(),
        },
    ];
    for status in WishStatus::ALL {
        for a in &acts {
            let mut w = open_wish();
            w.status = status;
            let want = match (status, a) {
                (WishStatus::Open, WishAction::Claim { .. }) => Some(WishStatus::Claimed),
                (WishStatus::Claimed, WishAction::Complete { .. }) => Some(WishStatus::Completed),
                (WishStatus::Open | WishStatus::Claimed, WishAction::Cancel { .. }) => {
                    Some(WishStatus::Cancelled)
                }
                _ => None,
            };
            match (want, wish::apply(&w, a, t0())) {
                (Some(s), Ok(out)) => {
                    assert_eq!(out.record.status, s);
                    assert_eq!(out.record.version, 2);
                }
                (None, Err(RuleError::NotAllowed { .. })) => {}
                (want, got) => panic!("{status:?} + {}: want {want:?}, got {got:?}", a.name()),
            }
        }
    }
    let nobody = WishAction::Claim {
        department_id: None,
        claimer: Some("  ".into()),
    };
    assert!(wish::apply(&open_wish(), &nobody, t0()).is_err());
    assert!(wish::check_value(-1).is_err());
    assert!(wish::check_value(wish::MAX_VALUE_FEN + 1).is_err());
}

/// What a client offers is exactly what the rules allow: for every status and escalation
/// level, a step fits a whistle when applying it is not refused for its status or level.
#[test]
fn the_steps_offered_are_the_steps_the_rules_allow() {
    use shaozi_shared::api::Step;
    let late = t0() + Duration::days(30);
    for status in WhistleStatus::ALL {
        for level in 0..=shaozi_shared::whistle::TOP_ESCALATION {
            for action in actions() {
                let Some(step) = Step::of_whistle(&action) else {
                    continue;
                };
                // A department's own call (reporting as an assisting department, its part
                // done) is read from the record's calls, not from the step's fit.
                if matches!(
                    action,
                    WhistleAction::ReportAssisting { .. } | WhistleAction::PartDone { .. }
                ) {
                    continue;
                }
                let mut w = in_status(status);
                w.escalation_level = level;
                let got = apply(&w, &action, late, &book());
                let refused = matches!(got, Err(RuleError::NotAllowed { .. }));
                assert_eq!(
                    step.fits_whistle(&w),
                    !refused,
                    "{status} at level {level}: {}",
                    step.name()
                );
            }
        }
    }
    for status in WishStatus::ALL {
        for step in Step::WISH {
            let body = match step {
                Step::Claim => WishAction::Claim {
                    department_id: Some(DepartmentId(1)),
                    claimer: None,
                },
                Step::Complete => WishAction::Complete { note: None },
                _ => WishAction::Cancel {
                    reason: "已不需要".into(),
                },
            };
            assert_eq!(
                step.fits_wish(status),
                wish::allowed(status, &body),
                "{status:?}: {}",
                step.name()
            );
            assert!(!step.fits_whistle(&in_status(WhistleStatus::New)));
        }
    }
}

#[test]
fn an_upheld_return_restarts_the_clocks_and_their_warning_from_the_re_dispatch() {
    let w = filed(Urgency::Normal);
    let d1 = WhistleAction::Dispatch {
        department_id: DepartmentId(1),
        assisting: vec![],
        note: None,
        report: None,
    };
    let w = apply(&w, &d1, t0(), &book()).unwrap().record;
    let back = WhistleAction::Return {
        reason: "不归我局".into(),
    };
    let w = apply(&w, &back, t0() + Duration::hours(1), &book())
        .unwrap()
        .record;
    let at = t0() + Duration::hours(2);
    let d2 = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![],
        note: Some("归住建".into()),
        report: None,
    };
    let out = apply(&w, &d2, at, &book()).unwrap();
    let r = out.record;
    assert_eq!(
        out.events.iter().map(|e| e.0).collect::<Vec<_>>(),
        [EventKind::WhistleReturnUpheld, EventKind::WhistleReassigned]
    );
    assert_eq!(r.returns_upheld, vec![DepartmentId(1)]);
    assert_eq!((r.dispatches, r.department_id), (2, Some(DepartmentId(2))));
    // 24 hours to report for duty from the re-dispatch, warned when a fifth is left.
    assert_eq!(r.respond_by, at + Duration::hours(24));
    assert_eq!(
        r.due_soon_at,
        Some(at + Duration::hours(24) - Duration::minutes(288))
    );
    assert_eq!(r.clocks_from, Some(at));
}
