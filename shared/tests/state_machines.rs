//! The whistle and wish state machines, checked exhaustively (the random walk against a
//! model is in random_walk.rs).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{book, case_rules, expected, filed, t0};
use shaozi_shared::case::{ExtensionRequest, ReturnRequest};
use shaozi_shared::whistle::{apply, Outcome};
use shaozi_shared::wish::{self, Wish, WishAction, WishStatus};
use shaozi_shared::{
    CommunityId, DepartmentId, EventKind, RuleError, StreetId, Urgency, Whistle, WhistleAction,
    WhistleId, WhistleStatus, WishId,
};

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
