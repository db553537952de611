//! Joint 报到 (issue 28): every department a dispatch calls reports for duty itself, at the
//! place and time the street set; late is per department; assisting parts are marked done;
//! the lead resolves before the others only with a note.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use shaozi_shared::calendar::Calendar;
use shaozi_shared::case::CaseRules;
use shaozi_shared::whistle::{apply, Book, CallRole, Filing, Muster};
use shaozi_shared::{
    CommunityId, Deadlines, DepartmentId, EventKind, RefusalCode, RuleError, StreetId, Urgency,
    Whistle, WhistleAction, WhistleId, WhistleStatus,
};

fn book() -> Book<'static> {
    static RULES: std::sync::OnceLock<CaseRules> = std::sync::OnceLock::new();
    static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    Book {
        deadlines: Deadlines::DEFAULT,
        calendar: CAL.get_or_init(Calendar::default),
        case: RULES.get_or_init(CaseRules::default),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

const LEAD: DepartmentId = DepartmentId(1);
const POWER: DepartmentId = DepartmentId(2);
const POLICE: DepartmentId = DepartmentId(3);

fn filed() -> Whistle {
    let mut w = Whistle::file(
        WhistleId(1001),
        Filing {
            community_id: CommunityId(1),
            street_id: StreetId(1),
            category: "roads".into(),
            title: "路面塌陷".into(),
            description: "梓山路口塌陷约两平方米".into(),
            urgency: Urgency::Normal,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        },
        "梓山社区",
        t0(),
        &Deadlines::DEFAULT,
        book().calendar,
    );
    w.schedule(book().case);
    w
}

fn muster() -> Muster {
    Muster {
        place: "梓山社区居委会".into(),
        at: t0() + Duration::hours(2),
    }
}

fn step(w: &Whistle, a: WhistleAction, at: DateTime<Utc>) -> Result<Whistle, RuleError> {
    apply(w, &a, at, &book()).map(|o| o.record)
}

fn joint(w: &Whistle) -> Whistle {
    step(
        w,
        WhistleAction::Dispatch {
            department_id: LEAD,
            assisting: vec![POWER, POLICE],
            note: None,
            report: Some(muster()),
        },
        t0() + Duration::minutes(5),
    )
    .unwrap()
}

fn staff() -> Vec<String> {
    vec!["王强".into(), "赵敏".into()]
}

fn report(w: &Whistle, d: DepartmentId, at: DateTime<Utc>) -> Result<Whistle, RuleError> {
    step(
        w,
        WhistleAction::ReportAssisting {
            department: d,
            staff: staff(),
            note: None,
        },
        at,
    )
}

#[test]
fn a_joint_dispatch_calls_every_department_to_the_place_and_time_set() {
    let w = joint(&filed());
    assert_eq!(w.muster, Some(muster()));
    assert_eq!(w.respond_by, muster().at, "the lead reports there too");
    let calls: Vec<(DepartmentId, CallRole, DateTime<Utc>)> = w
        .calls
        .iter()
        .map(|c| (c.department_id, c.role, c.report_by))
        .collect();
    assert_eq!(
        calls,
        [
            (LEAD, CallRole::Lead, muster().at),
            (POWER, CallRole::Assisting, muster().at),
            (POLICE, CallRole::Assisting, muster().at),
        ]
    );
    assert_eq!(w.reported(), (0, 3));

    // Without a place and time, each reports by the category's deadline, as before.
    let plain = step(
        &filed(),
        WhistleAction::Dispatch {
            department_id: LEAD,
            assisting: vec![POWER],
            note: None,
            report: None,
        },
        t0(),
    )
    .unwrap();
    assert_eq!(plain.muster, None);
    assert!(plain
        .calls
        .iter()
        .all(|c| c.report_by == filed().respond_by));

    // A time already past, or no place, is refused with the field named.
    for (bad, field) in [
        (
            Muster {
                at: t0(),
                ..muster()
            },
            "report.at",
        ),
        (
            Muster {
                place: "  ".into(),
                ..muster()
            },
            "report.place",
        ),
    ] {
        let got = step(
            &filed(),
            WhistleAction::Dispatch {
                department_id: LEAD,
                assisting: vec![],
                note: None,
                report: Some(bad),
            },
            t0() + Duration::minutes(5),
        );
        assert!(
            matches!(&got, Err(RuleError::Invalid { field: f, .. }) if f == field),
            "{got:?}"
        );
    }
}

#[test]
fn each_department_reports_itself_and_the_leads_report_moves_the_case() {
    let w = joint(&filed());
    let at = t0() + Duration::minutes(50);
    let w = report(&w, POWER, at).unwrap();
    assert_eq!(w.status, WhistleStatus::Dispatched, "an assisting report");
    let power = w.call_of(POWER).unwrap();
    assert_eq!(
        (power.reported_at, power.staff.clone()),
        (Some(at), staff())
    );
    assert!(!power.late);
    assert_eq!(w.reported(), (1, 3));
    // Once is enough; a department not called has nothing to report on.
    assert!(matches!(
        report(&w, POWER, at),
        Err(RuleError::NotAllowed { .. })
    ));
    assert!(matches!(
        report(&w, DepartmentId(9), at),
        Err(RuleError::NotAllowed { .. })
    ));
    // One name is not a report.
    let one = step(
        &w,
        WhistleAction::ReportAssisting {
            department: POLICE,
            staff: vec!["李娜".into()],
            note: None,
        },
        at,
    );
    assert!(matches!(
        one,
        Err(RuleError::Invalid {
            code: RefusalCode::TooFewStaff,
            ..
        })
    ));

    // The lead, named as a department reporting, is the lead's own report.
    let w = report(&w, LEAD, at).unwrap();
    assert_eq!(w.status, WhistleStatus::Acknowledged);
    assert_eq!(w.staff, staff());
    assert_eq!(w.call_of(LEAD).unwrap().reported_at, Some(at));
    assert_eq!(w.reported(), (2, 3));
    // An assisting department may still report after the lead did.
    let w = report(&w, POLICE, at + Duration::minutes(1)).unwrap();
    assert_eq!(w.reported(), (3, 3));
    assert_eq!(w.status, WhistleStatus::Acknowledged);
}

#[test]
fn a_department_that_misses_its_deadline_is_named_alone() {
    let w = joint(&filed());
    let w = report(&w, LEAD, t0() + Duration::minutes(30)).unwrap();
    let w = report(&w, POWER, t0() + Duration::minutes(40)).unwrap();
    // The clock wakes at the assisting deadline, and finds only the police late.
    assert_eq!(w.next_alarm(), Some(muster().at));
    let late = muster().at + Duration::minutes(1);
    assert_eq!(w.clock_action(late), Some(WhistleAction::CallsMissed));
    let out = apply(&w, &WhistleAction::CallsMissed, late, &book()).unwrap();
    let kinds: Vec<EventKind> = out.events.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [EventKind::WhistleOverdue, EventKind::WhistleEscalated]
    );
    let note = out.events[0].1.clone().unwrap_or_default();
    assert!(
        note.starts_with("D3 missed the deadline to report"),
        "{note}"
    );
    assert!(!note.contains("D1") && !note.contains("D2"), "{note}");
    let w = out.record;
    assert_eq!(w.missed_at(late), [POLICE]);
    assert!(w.call_of(POLICE).unwrap().late);
    assert!(
        !w.call_of(LEAD).unwrap().late && !w.overdue,
        "the lead is on time"
    );
    assert_eq!(w.escalation_level, 1);
    // Found once: the clock does not come back for it.
    assert_ne!(w.clock_action(late), Some(WhistleAction::CallsMissed));
    assert_ne!(w.next_alarm(), Some(muster().at));
    // It may still come, late.
    let w = report(&w, POLICE, late + Duration::minutes(20)).unwrap();
    assert!(w.call_of(POLICE).unwrap().late);
    assert_eq!(w.reported(), (3, 3));
}

#[test]
fn assisting_parts_are_marked_done_and_the_lead_resolves_before_them_only_with_a_note() {
    let w = joint(&filed());
    let at = t0() + Duration::minutes(30);
    let w = report(&w, LEAD, at).unwrap();
    let done = |w: &Whistle, d| {
        step(
            w,
            WhistleAction::PartDone {
                department: Some(d),
                note: "已断电并恢复供电".into(),
            },
            at + Duration::hours(1),
        )
    };
    // Not before it reported.
    assert!(matches!(done(&w, POWER), Err(RuleError::NotAllowed { .. })));
    let w = report(&w, POWER, at).unwrap();
    let w = done(&w, POWER).unwrap();
    let power = w.call_of(POWER).unwrap();
    assert_eq!(power.done_note.as_deref(), Some("已断电并恢复供电"));
    assert!(
        matches!(done(&w, POWER), Err(RuleError::NotAllowed { .. })),
        "once"
    );
    // The lead has no part to mark: it resolves.
    assert!(matches!(done(&w, LEAD), Err(RuleError::NotAllowed { .. })));
    assert_eq!(shaozi_shared::whistle::parts_open(&w), [POLICE]);

    let resolve = |note: Option<&str>| {
        step(
            &w,
            WhistleAction::Resolve {
                reply: "路面已修复".into(),
                note: note.map(str::to_string),
            },
            at + Duration::hours(3),
        )
    };
    let refused = resolve(None).unwrap_err();
    assert!(
        matches!(&refused, RuleError::Invalid { field, code: RefusalCode::ReasonRequired, reason } if field == "note" && reason.contains("D3")),
        "{refused:?}"
    );
    let w = resolve(Some("公安已撤离，无需其配合")).unwrap();
    assert_eq!(w.status, WhistleStatus::Resolved);
    assert_eq!(
        w.call_of(LEAD).unwrap().done_note.as_deref(),
        Some("公安已撤离，无需其配合")
    );
}

#[test]
fn a_reassignment_keeps_what_assisting_departments_did() {
    let w = joint(&filed());
    let w = report(&w, POWER, t0() + Duration::minutes(20)).unwrap();
    let moved = step(
        &w,
        WhistleAction::Dispatch {
            department_id: DepartmentId(4),
            assisting: vec![POWER],
            note: Some("属于住建局".into()),
            report: None,
        },
        t0() + Duration::minutes(30),
    )
    .unwrap();
    let calls: Vec<(DepartmentId, CallRole)> = moved
        .calls
        .iter()
        .map(|c| (c.department_id, c.role))
        .collect();
    assert_eq!(
        calls,
        [
            (DepartmentId(4), CallRole::Lead),
            (POWER, CallRole::Assisting)
        ]
    );
    assert!(moved.call_of(POWER).unwrap().reported_at.is_some());
    assert_eq!(moved.muster, Some(muster()), "the place and time stand");
    assert_eq!(moved.reported(), (1, 2));
}

#[test]
fn departments_are_called_to_assist_or_let_go_after_the_dispatch_with_a_reason() {
    let w = joint(&filed());
    let w = report(&w, LEAD, t0() + Duration::minutes(10)).unwrap();
    let change = |add: Vec<DepartmentId>, remove: Vec<DepartmentId>, reason: &str| {
        apply(
            &w,
            &WhistleAction::ChangeAssisting {
                add,
                remove,
                reason: reason.into(),
            },
            t0() + Duration::minutes(20),
            &book(),
        )
    };
    let out = change(
        vec![DepartmentId(4)],
        vec![POLICE],
        "需要燃气公司到场；公安无需到场",
    )
    .unwrap();
    assert_eq!(
        out.events.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [EventKind::WhistleAssistingChanged]
    );
    let n = out.record;
    assert_eq!(n.status, WhistleStatus::Acknowledged);
    assert_eq!(n.assisting, [POWER, DepartmentId(4)]);
    let gas = n.call_of(DepartmentId(4)).unwrap();
    assert_eq!(
        (gas.role, gas.report_by),
        (CallRole::Assisting, muster().at),
        "the muster's time, still to come"
    );
    assert!(n.call_of(POLICE).is_none());
    assert_eq!(n.reported(), (1, 3));
    // A reason, something to change, and each name in its place.
    assert!(change(vec![DepartmentId(4)], vec![], " ").is_err());
    assert!(change(vec![], vec![], "x").is_err());
    assert!(change(vec![LEAD], vec![], "x").is_err(), "the lead");
    assert!(
        change(vec![POWER], vec![], "x").is_err(),
        "already assisting"
    );
    assert!(
        change(vec![], vec![DepartmentId(4)], "x").is_err(),
        "not assisting"
    );
}

#[test]
fn the_leads_missed_deadline_is_on_its_own_call_too() {
    let w = joint(&filed());
    let w = report(&w, POWER, t0() + Duration::minutes(10)).unwrap();
    let w = report(&w, POLICE, t0() + Duration::minutes(20)).unwrap();
    let late = muster().at + Duration::minutes(1);
    assert_eq!(w.clock_action(late), Some(WhistleAction::DeadlinePassed));
    let w = apply(&w, &WhistleAction::DeadlinePassed, late, &book())
        .unwrap()
        .record;
    assert!(w.overdue && w.respond_late);
    assert_eq!(w.missed_at(late), [LEAD], "the lead, named by its call");
    assert_eq!(w.reported(), (2, 3));
}

/// Issue 28 §3: a wrong category is corrected without refiling; both deadlines are worked
/// out again from when their clocks started, under the new category and urgency.
#[test]
fn a_reclassified_case_gets_its_new_categorys_deadlines_from_its_clocks_start() {
    let w = step(
        &filed(),
        WhistleAction::Dispatch {
            department_id: LEAD,
            assisting: vec![],
            note: None,
            report: None,
        },
        t0() + Duration::minutes(5),
    )
    .unwrap();
    let urgent = Deadlines::DEFAULT.for_urgency(Urgency::Urgent);
    let out = apply(
        &w,
        &WhistleAction::Reclassify {
            category: Some("lighting".into()),
            urgency: Some(Urgency::Urgent),
            address: Some("梓山路口".into()),
            reason: "现场是路灯杆倒伏，且有触电风险".into(),
        },
        t0() + Duration::minutes(20),
        &book(),
    )
    .unwrap();
    let n = out.record;
    assert_eq!(
        (n.category.as_str(), n.urgency),
        ("lighting", Urgency::Urgent)
    );
    assert_eq!(n.address.as_deref(), Some("梓山路口"));
    // From filing, not from now: the twenty minutes already spent stay spent.
    assert_eq!(n.respond_by, book().calendar.add(t0(), urgent.respond));
    assert_eq!(n.resolve_by, book().calendar.add(t0(), urgent.resolve));
    assert_eq!(
        n.calls[0].report_by, n.respond_by,
        "the lead's call follows"
    );
    let (kind, note) = &out.events[0];
    assert_eq!(*kind, EventKind::WhistleReclassified);
    assert_eq!(
        note.as_deref(),
        Some("category roads → lighting; urgency normal → urgent; address → 梓山路口: 现场是路灯杆倒伏，且有触电风险")
    );
    // Nothing to change, or no reason: refused with the field.
    let same = WhistleAction::Reclassify {
        category: Some("roads".into()),
        urgency: Some(Urgency::Normal),
        address: None,
        reason: "x".into(),
    };
    assert!(matches!(
        apply(&w, &same, t0(), &book()),
        Err(RuleError::Invalid { field, .. }) if field == "category"
    ));
}

/// The assessment's view of a joint case: one entry per department, the lead's the whole
/// case, each assisting department's its own report (from when it was called), and a
/// department whose return was upheld and that now assists has that return on the same entry.
#[test]
fn each_called_department_is_measured_on_its_own_call() {
    use shaozi_shared::assessment::CaseMeasures;
    let w = joint(&filed());
    let w = report(&w, POWER, t0() + Duration::minutes(65)).unwrap();
    let parts = CaseMeasures::per_department(&w);
    let of = |d: DepartmentId| {
        parts
            .iter()
            .filter(|(x, _)| *x == d)
            .map(|(_, m)| *m)
            .collect::<Vec<_>>()
    };
    assert_eq!(parts.len(), 3);
    let lead = of(LEAD)[0];
    assert!(lead.lead && !lead.assisting && !lead.responded);
    let power = of(POWER)[0];
    assert!(!power.lead && power.assisting && power.responded && power.on_time);
    assert_eq!(
        power.respond_minutes,
        Some(60),
        "from the dispatch at 08:05"
    );
    let police = of(POLICE)[0];
    assert!(police.assisting && !police.responded && !police.on_time);
    assert_eq!(police.respond_minutes, None);

    // The lead returns it; the dispatcher sends it to the power department to lead, with
    // the first lead assisting: the first lead's one entry has its upheld return and its call.
    let back = step(
        &w,
        WhistleAction::Return {
            reason: "属于供电部门".into(),
        },
        t0() + Duration::minutes(70),
    )
    .unwrap();
    let again = step(
        &back,
        WhistleAction::Dispatch {
            department_id: POWER,
            assisting: vec![LEAD],
            note: Some("供电牵头".into()),
            report: None,
        },
        t0() + Duration::minutes(80),
    )
    .unwrap();
    let parts = CaseMeasures::per_department(&again);
    let first: Vec<_> = parts.iter().filter(|(d, _)| *d == LEAD).collect();
    assert_eq!(first.len(), 1, "{parts:?}");
    assert!(first[0].1.assisting && first[0].1.returns_upheld == 1);
    assert!(parts.iter().any(|(d, m)| *d == POWER && m.lead));
    assert!(
        !parts.iter().any(|(d, _)| *d == POLICE),
        "let go by the new call"
    );
}
