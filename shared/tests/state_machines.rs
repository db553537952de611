//! The whistle and wish state machines, checked exhaustively and against a model.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use shaozi_shared::whistle::{apply, Filing, Outcome};
use shaozi_shared::wish::{self, Wish, WishAction, WishStatus};
use shaozi_shared::{
    CommunityId, Deadlines, DepartmentId, EventKind, RuleError, StreetId, Urgency, Whistle,
    WhistleAction, WhistleId, WhistleStatus, WishId,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

fn filed(urgency: Urgency) -> Whistle {
    Whistle::file(
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
        &shaozi_shared::calendar::Calendar::default(),
    )
}

fn in_status(status: WhistleStatus) -> Whistle {
    let mut w = filed(Urgency::Urgent);
    w.status = status;
    if status != WhistleStatus::New {
        w.department_id = Some(DepartmentId(1));
    }
    w
}

/// A valid instance of every action.
fn actions() -> Vec<WhistleAction> {
    vec![
        WhistleAction::Dispatch {
            department_id: DepartmentId(2),
            assisting: vec![],
            note: Some("请城管局牵头".into()),
        },
        WhistleAction::Acknowledge {
            staff: vec!["张伟".into(), "李娜".into()],
            note: None,
        },
        WhistleAction::Resolve {
            reply: "已更换灯泡".into(),
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
    ]
}

/// The domain diagram, written out independently of the implementation's table.
fn expected(status: WhistleStatus, action: &WhistleAction) -> Option<WhistleStatus> {
    use WhistleStatus::*;
    match (status, action) {
        (New | Dispatched, WhistleAction::Dispatch { .. }) => Some(Dispatched),
        (Dispatched, WhistleAction::Acknowledge { .. }) => Some(Acknowledged),
        (Acknowledged, WhistleAction::Resolve { .. }) => Some(Resolved),
        (Resolved, WhistleAction::Close { .. }) => Some(Closed),
        (Resolved, WhistleAction::Reopen { .. }) => Some(Acknowledged),
        (New | Dispatched, WhistleAction::Reject { .. }) => Some(Rejected),
        (New | Dispatched | Acknowledged, WhistleAction::Escalate { .. }) => Some(status),
        (New | Dispatched | Acknowledged, WhistleAction::DeadlinePassed) => Some(status),
        _ => None,
    }
}

#[test]
fn every_status_times_every_action() {
    let late = t0() + Duration::days(30);
    for status in WhistleStatus::ALL {
        for action in actions() {
            let w = in_status(status);
            let got = apply(
                &w,
                &action,
                late,
                &Deadlines::DEFAULT,
                &shaozi_shared::calendar::Calendar::default(),
            );
            match (expected(status, &action), got) {
                (Some(next), Ok(Outcome { record, events })) => {
                    assert_eq!(record.status, next, "{status} + {}", action.name());
                    assert_eq!(record.version, w.version + 1);
                    assert_eq!(record.updated_at, late);
                    assert!(!events.is_empty());
                }
                (None, Err(RuleError::NotAllowed { status: s, .. })) => {
                    assert_eq!(s, status.as_str());
                }
                (want, got) => panic!("{status} + {}: want {want:?}, got {got:?}", action.name()),
            }
        }
    }
}

#[test]
fn refusals_name_the_status_and_a_way_forward() {
    let w = in_status(WhistleStatus::New);
    let err = apply(
        &w,
        &actions()[1],
        t0(),
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
    )
    .unwrap_err();
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
        let err = apply(
            &w,
            &a,
            t0(),
            &Deadlines::DEFAULT,
            &shaozi_shared::calendar::Calendar::default(),
        )
        .unwrap_err();
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
    };
    assert!(matches!(
        apply(
            &w,
            &same,
            t0(),
            &Deadlines::DEFAULT,
            &shaozi_shared::calendar::Calendar::default()
        ),
        Err(RuleError::NotAllowed { .. })
    ));
    let no_reason = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![],
        note: None,
    };
    assert!(matches!(
        apply(
            &w,
            &no_reason,
            t0(),
            &Deadlines::DEFAULT,
            &shaozi_shared::calendar::Calendar::default()
        ),
        Err(RuleError::Invalid { field, .. }) if field == "note"
    ));
    let ok = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![DepartmentId(3), DepartmentId(3)],
        note: Some("属于住建局职责".into()),
    };
    let out = apply(
        &w,
        &ok,
        t0(),
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
    )
    .unwrap();
    assert_eq!(out.events[0].0, EventKind::WhistleReassigned);
    assert_eq!(out.record.assisting, vec![DepartmentId(3)]);
    let lead_assists = WhistleAction::Dispatch {
        department_id: DepartmentId(2),
        assisting: vec![DepartmentId(2)],
        note: Some("x".into()),
    };
    assert!(apply(
        &w,
        &lead_assists,
        t0(),
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default()
    )
    .is_err());
}

#[test]
fn deadlines_mark_overdue_once_and_escalate() {
    let w = filed(Urgency::Urgent);
    let early = t0() + Duration::minutes(29);
    assert!(apply(
        &w,
        &WhistleAction::DeadlinePassed,
        early,
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default()
    )
    .is_err());
    let late = t0() + Duration::minutes(31);
    let out = apply(
        &w,
        &WhistleAction::DeadlinePassed,
        late,
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
    )
    .unwrap();
    assert!(out.record.overdue && out.record.respond_late);
    assert_eq!(out.record.escalation_level, 1);
    let kinds: Vec<_> = out.events.iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [EventKind::WhistleOverdue, EventKind::WhistleEscalated]
    );
    // The same deadline never fires twice.
    assert!(apply(
        &out.record,
        &WhistleAction::DeadlinePassed,
        late,
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default()
    )
    .is_err());
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
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
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
                &Deadlines::DEFAULT,
                &shaozi_shared::calendar::Calendar::default()
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
            }
        }),
        proptest::collection::vec("[a-c ]{0,2}", 0..4)
            .prop_map(|staff| WhistleAction::Acknowledge { staff, note: None }),
        "[a-z ]{0,3}".prop_map(|reply| WhistleAction::Resolve { reply }),
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
        } => {
            w.status != WhistleStatus::Dispatched
                || (w.department_id != Some(*department_id)
                    && note.as_deref().is_some_and(|n| !blank(n)))
        }
        WhistleAction::Acknowledge { staff, .. } => {
            let mut names: Vec<&str> = staff.iter().map(|s| s.trim()).collect();
            if names.iter().any(|n| n.is_empty()) {
                return false;
            }
            names.sort();
            names.dedup();
            names.len() >= 2
        }
        WhistleAction::Resolve { reply } => !blank(reply),
        WhistleAction::Close { satisfaction, .. } => (1..=5).contains(satisfaction),
        WhistleAction::Reopen { reason } | WhistleAction::Reject { reason, .. } => !blank(reason),
        WhistleAction::Escalate { reason } => {
            !blank(reason) && w.escalation_level < shaozi_shared::whistle::TOP_ESCALATION
        }
        WhistleAction::DeadlinePassed => w.pending_deadline().is_some_and(|d| now >= d),
        WhistleAction::LinkDuplicate { .. } => true,
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
            let want = expected(w.status, &action).filter(|_| input_ok(&w, &action, now));
            match apply(&w, &action, now, &Deadlines::DEFAULT, &shaozi_shared::calendar::Calendar::default()) {
                Ok(out) => {
                    let next = want.expect("the model refuses what the rules allowed");
                    let r = out.record;
                    prop_assert_eq!(r.status, next);
                    prop_assert_eq!(r.version, w.version + 1);
                    prop_assert!(r.escalation_level >= w.escalation_level);
                    prop_assert!(r.escalation_level <= shaozi_shared::whistle::TOP_ESCALATION);
                    if r.status == WhistleStatus::Closed {
                        prop_assert!(r.satisfaction.is_some() && r.reply.is_some());
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
                let mut w = in_status(status);
                w.escalation_level = level;
                let got = apply(
                    &w,
                    &action,
                    late,
                    &Deadlines::DEFAULT,
                    &shaozi_shared::calendar::Calendar::default(),
                );
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
