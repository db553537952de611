//! Joint 报到 in the dashboard (issue 28): a joint case says how many departments reported in
//! every list, its detail lists each department with its part, and an assisting department
//! reports and marks its part done from its own work list.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use crossterm::event::KeyCode;
use serde_json::json;

use shaozi_shared::api::{Step, WhistleDetail};
use shaozi_shared::whistle::{Call, CallRole, Muster};
use shaozi_shared::{DepartmentId, Urgency, Whistle, WhistleId};
use shaozi_tui::app::{update, App, Effect, Msg, View};
use shaozi_tui::i18n::Lang;

/// W1020: 城管 (D1) leads, 住建 (D3) and 路灯 (D2) assist, all called to 梓山社区居委会 within
/// the hour; the lead has reported, 路灯 missed its deadline.
fn joint() -> Whistle {
    let mut w = dispatched(
        whistle(
            1020,
            2,
            "sanitation",
            Urgency::Urgent,
            90,
            "梓山路口垃圾堆积",
        ),
        1,
    );
    let by = now() + Duration::minutes(40);
    w.muster = Some(Muster {
        place: "梓山社区居委会".into(),
        at: by,
    });
    w.assisting = vec![DepartmentId(3), DepartmentId(2)];
    let mut lead = Call::new(DepartmentId(1), CallRole::Lead, by);
    lead.reported_at = Some(now() - Duration::minutes(30));
    lead.staff = vec!["张伟".into(), "李娜".into()];
    let mut power = Call::new(
        DepartmentId(2),
        CallRole::Assisting,
        now() - Duration::minutes(5),
    );
    power.missed_at = Some(now() - Duration::minutes(4));
    power.late = true;
    w.calls = vec![
        lead,
        Call::new(DepartmentId(3), CallRole::Assisting, by),
        power,
    ];
    w = acknowledged(w);
    w
}

/// 住建局 (D3)'s dashboard with the joint case in its work.
fn assisting(lang: Lang, wd: u16, h: u16) -> App {
    let mut a = department_app(lang, wd, h);
    let mut work = open_cases();
    work.push(joint());
    update(&mut a, Msg::Work(work));
    a
}

fn select(a: &mut App, id: u64) {
    key(a, KeyCode::Char('g'));
    for _ in 0..20 {
        if a.work.shown.get(a.work.list.sel).map(|w| w.id) == Some(WhistleId(id)) {
            return;
        }
        key(a, KeyCode::Char('j'));
    }
    panic!("{id} not in the list");
}

#[test]
fn an_assisting_department_reports_and_marks_its_part_from_its_own_list() {
    let mut a = assisting(Lang::Zh, 120, 40);
    let screen = render(&a);
    let row = screen
        .lines()
        .find(|l| l.contains("W1020"))
        .unwrap_or_default();
    // In its 待报到 section though the lead reported; the list says 1 of 3 came and who is
    // late.
    assert!(row.contains("处理中↑") || row.contains("处理中"), "{row}");
    assert!(row.contains("1/3"), "{row}");
    assert!(row.contains("✗市路灯管理处"), "{row}");
    select(&mut a, 1020);
    assert!(a.offers(Step::Acknowledge), "it reports for itself");
    for lead_only in [
        Step::Resolve,
        Step::Return,
        Step::RequestExtension,
        Step::PartDone,
    ] {
        assert!(!a.offers(lead_only), "{lead_only:?}");
    }
    key(&mut a, KeyCode::Char('r'));
    typed(&mut a, "陈刚 周洁");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, WhistleId(1020));
    assert_eq!(body.json(), json!({"staff": ["陈刚", "周洁"]}));

    // Reported: now its part to mark done, with what it did.
    let mut w = joint();
    w.calls[1].reported_at = Some(now());
    w.calls[1].staff = vec!["陈刚".into(), "周洁".into()];
    w.version += 1;
    update(&mut a, event("whistle.assist_reported", &w, 90));
    assert!(!a.offers(Step::Acknowledge));
    assert!(a.offers(Step::PartDone));
    let hints = render(&a).lines().last().unwrap_or_default().to_string();
    assert!(hints.contains("f 协办完成"), "{hints}");
    key(&mut a, KeyCode::Char('f'));
    typed(&mut a, "已核查楼体结构，无需施工");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (body.step(), body.json()),
        (Step::PartDone, json!({"note": "已核查楼体结构，无需施工"}))
    );
}

fn detail(lang: Lang, wd: u16, h: u16) -> App {
    let mut a = app(lang, wd, h);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "goto W1020");
    key(&mut a, KeyCode::Enter);
    update(
        &mut a,
        Msg::Detail(Box::new(WhistleDetail {
            whistle: joint(),
            timeline: Vec::new(),
        })),
    );
    assert_eq!(a.view, View::Detail);
    a
}

#[test]
fn a_joint_cases_detail_lists_each_department_in_both_languages_80x24_and_120x40() {
    let zh = render(&detail(Lang::Zh, 120, 40));
    assert!(zh.contains("1/3 已报到 · 梓山社区居委会"), "{zh}");
    assert!(
        zh.contains("市城市管理和综合执法局（牵头）  已报到"),
        "{zh}"
    );
    assert!(zh.contains("市住房和城乡建设局（协办）  待报到"), "{zh}");
    assert!(zh.contains("市路灯管理处（协办）  ✗ 未按时报到"), "{zh}");
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        render(&detail(Lang::Zh, 80, 24)),
        zh,
        render(&detail(Lang::En, 80, 24)),
        render(&detail(Lang::En, 120, 40))
    ));
}

#[test]
fn an_assisting_departments_work_list_in_both_languages_80x24_and_120x40() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        render(&assisting(Lang::Zh, 80, 24)),
        render(&assisting(Lang::Zh, 120, 40)),
        render(&assisting(Lang::En, 80, 24)),
        render(&assisting(Lang::En, 120, 40))
    ));
}

/// The dispatcher calls departments jointly from the picker: Space marks those that assist,
/// Enter chooses the lead, then where and by when they all report.
#[test]
fn the_picker_calls_a_lead_and_assisting_departments_to_a_place_and_time() {
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.queue.sel, Some(WhistleId(1003)), "a new lighting whistle");
    key(&mut a, KeyCode::Char('a'));
    typed(&mut a, "住建");
    key(&mut a, KeyCode::Char(' '));
    let screen = render(&a);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("市住房和城乡建设局") && l.contains("+协办")),
        "{screen}"
    );
    for _ in 0..2 {
        key(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "路灯");
    assert!(
        key(&mut a, KeyCode::Enter).is_empty(),
        "where and when first"
    );
    let screen = render(&a);
    assert!(
        screen.contains("联合报到 市路灯管理处、市住房和城乡建设局"),
        "{screen}"
    );
    // A place without a time is said, not sent.
    typed(&mut a, "梓山社区居委会");
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert!(a.flash.clone().unwrap().text.contains("写报到地点和时间"));
    typed(&mut a, " +2h");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, WhistleId(1003));
    let at = (now() + Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        body.json(),
        json!({"department_id": "D2", "assisting": ["D3"],
               "report": {"place": "梓山社区居委会", "at": at}})
    );
}

/// Once a joint case is fixed, the department column names the lead again: who was late is
/// history (the detail keeps it).
#[test]
fn a_fixed_case_no_longer_marks_who_was_late() {
    let mut a = assisting(Lang::Zh, 120, 40);
    let mut w = joint();
    w.status = shaozi_shared::WhistleStatus::Resolved;
    w.version += 1;
    update(&mut a, event("whistle.resolved", &w, 95));
    let screen = render(&a);
    let row = screen
        .lines()
        .find(|l| l.contains("W1020"))
        .unwrap_or_default();
    assert!(row.contains("待确认"), "{row}");
    assert!(!row.contains('✗'), "{row}");
    assert!(row.contains("市城市管理"), "{row}");
}

/// After the dispatch, the dispatcher calls one more department and lets another go with `H`:
/// those assisting now are marked, Space changes the marks (not on the lead), Enter asks why
/// and names who is called and who let go.
#[test]
fn the_dispatcher_changes_the_assisting_departments_from_the_detail() {
    let mut a = detail(Lang::Zh, 120, 40);
    // 住建 alone assists on this one.
    let mut w = joint();
    w.assisting = vec![DepartmentId(3)];
    w.calls.retain(|c| c.department_id != DepartmentId(2));
    w.version += 1;
    update(
        &mut a,
        Msg::Detail(Box::new(WhistleDetail {
            whistle: w,
            timeline: Vec::new(),
        })),
    );
    key(&mut a, KeyCode::Char('H'));
    let screen = render(&a);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("市住房和城乡建设局") && l.contains("+协办")),
        "住建 assists now: {screen}"
    );
    assert!(
        screen.contains("协办部门（空格标记，回车确定）"),
        "{screen}"
    );
    // Nothing changed yet: Enter says so and sends nothing.
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert!(a.flash.clone().unwrap().text.contains("协办部门没有变化"));
    // The lead cannot assist its own case.
    typed(&mut a, "城管");
    key(&mut a, KeyCode::Char(' '));
    assert!(a.flash.clone().unwrap().text.contains("是牵头部门"));
    for _ in 0..2 {
        key(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "路灯");
    key(&mut a, KeyCode::Char(' '));
    for _ in 0..2 {
        key(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "住建");
    key(&mut a, KeyCode::Char(' '));
    assert!(key(&mut a, KeyCode::Enter).is_empty(), "why, first");
    let screen = render(&a);
    assert!(
        screen.contains("调整协办部门的理由 · 呼叫 市路灯管理处 · 放走 市住房和城乡建设局"),
        "{screen}"
    );
    assert!(key(&mut a, KeyCode::Enter).is_empty(), "a reason is needed");
    typed(&mut a, "是线路问题，不涉及楼体");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, WhistleId(1020));
    assert_eq!(
        (body.step(), body.json()),
        (
            Step::Assisting,
            json!({"add": ["D2"], "remove": ["D3"], "reason": "是线路问题，不涉及楼体"})
        )
    );
    // The answer says who assists now.
    let mut changed = joint();
    changed.assisting = vec![DepartmentId(2)];
    changed.version += 5;
    update(
        &mut a,
        Msg::Acted {
            id: WhistleId(1020),
            step: Step::Assisting,
            result: Ok(Box::new(changed)),
            draft: None,
        },
    );
    let said = a.flash.clone().unwrap().text;
    assert_eq!(said, "W1020 协办部门：市路灯管理处");
}
