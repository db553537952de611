//! The middle of a case in the dashboard: the queue's marks (returned ↩, urged !, due soon ◷),
//! the detail's pending request with the keys that answer it, the filters, and the prompts
//! that read an extension's deadline and a call-back's outcome.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::{Step, StepBody, WhistleDetail};
use shaozi_shared::case::{CallBack, ExtensionRequest, ReturnRequest, Source};
use shaozi_shared::{Actor, DepartmentId, EventKind, TimelineEntry, WhistleId, WhistleStatus};
use shaozi_tui::app::{update, Effect, Msg};
use shaozi_tui::i18n::Lang;

/// The queue after three events: 路灯 returned W1003 (it heads the queue, above the overdue
/// W1001), the dispatcher urged W1004 twice, and W1002's deadline to report for duty is near.
fn marked(lang: Lang, w: u16, h: u16) -> shaozi_tui::app::App {
    let mut a = app(lang, w, h);
    let mut returned = a.model.queue.get(WhistleId(1003)).unwrap().clone();
    returned.status = WhistleStatus::Returned;
    returned.department_id = Some(DepartmentId(2));
    returned.dispatched_at = Some(now() - Duration::minutes(30));
    returned.pending_return = Some(ReturnRequest {
        department_id: DepartmentId(2),
        at: now() - Duration::minutes(5),
        reason: "该路段路灯归开发区管理".into(),
    });
    returned.version += 1;
    update(&mut a, event("whistle.returned", &returned, 60));
    let mut urged = a.model.queue.get(WhistleId(1004)).unwrap().clone();
    urged.urges = 2;
    urged.urged_at = Some(now());
    urged.version += 1;
    update(&mut a, event("whistle.urged", &urged, 61));
    let mut soon = a.model.queue.get(WhistleId(1002)).unwrap().clone();
    soon.due_soon_sent_for = Some(soon.respond_by);
    soon.version += 1;
    update(&mut a, event("whistle.due_soon", &soon, 62));
    a
}

#[test]
fn the_queue_marks_returned_urged_and_due_soon_80x24_and_120x40() {
    let narrow = marked(Lang::Zh, 80, 24);
    let wide = marked(Lang::Zh, 120, 40);
    let (n, w) = (render(&narrow), render(&wide));
    // Returned first, marked; urged and due soon marked where they stand.
    let first = n.lines().find(|l| l.contains("W100")).unwrap().to_string();
    assert!(first.contains("W1003") && first.contains("退单↩"), "{n}");
    assert!(
        n.lines().any(|l| l.contains("W1004") && l.contains('!')),
        "{n}"
    );
    assert!(
        n.lines().any(|l| l.contains("W1002") && l.contains('◷')),
        "{n}"
    );
    insta::assert_snapshot!(format!("{n}\n{w}"));
}

#[test]
fn the_queue_filters_returned_due_and_source() {
    let mut a = marked(Lang::Zh, 120, 40);
    let mut hotline = a.model.queue.get(WhistleId(1005)).unwrap().clone();
    hotline.source = Source::Hotline;
    hotline.version += 1;
    update(&mut a, event("whistle.created", &hotline, 63));
    for (typed_text, want) in [
        ("退单", vec![1003]),
        ("returned", vec![1003]),
        ("due", vec![1002]),
        ("将到期", vec![1002]),
        ("来源=热线", vec![1005]),
        ("source=hotline", vec![1005]),
    ] {
        key(&mut a, KeyCode::Char('/'));
        typed(&mut a, typed_text);
        key(&mut a, KeyCode::Enter);
        assert_eq!(ids(&a), want, "{typed_text}");
        key(&mut a, KeyCode::Char('/'));
        for _ in 0..typed_text.chars().count() {
            key(&mut a, KeyCode::Backspace);
        }
        key(&mut a, KeyCode::Enter);
    }
    key(&mut a, KeyCode::Char('/'));
    typed(&mut a, "来源=传真");
    key(&mut a, KeyCode::Enter);
    assert!(render(&a).contains("没有“传真”这个来源"), "{}", render(&a));
}

fn with_pending_extension(lang: Lang, w: u16, h: u16) -> shaozi_tui::app::App {
    let mut a = app(lang, w, h);
    let mut x = a.model.queue.get(WhistleId(1004)).unwrap().clone();
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Enter);
    x.status = WhistleStatus::Acknowledged;
    x.version += 3;
    x.staff = vec!["王强".into(), "赵敏".into()];
    x.acknowledged_at = Some(now() - Duration::minutes(150));
    x.pending_extension = Some(ExtensionRequest {
        until: x.resolve_by + Duration::days(3),
        reason: "需更换整栋楼的排水管，材料三天后到".into(),
        at: now() - Duration::minutes(20),
        was_late: false,
    });
    x.urges = 1;
    x.urged_at = Some(now() - Duration::minutes(60));
    x.returns_overruled = 1;
    x.source = Source::Hotline;
    x.callbacks = vec![CallBack {
        at: now() - Duration::minutes(10),
        reached: false,
        satisfaction: None,
        note: "居民电话无人接听".into(),
    }];
    let entry = |seq, kind, mins, who: &str, role: &str, note: Option<String>| TimelineEntry {
        seq,
        kind,
        at: now() - Duration::minutes(mins),
        actor: Actor {
            name: who.into(),
            role: role.into(),
        },
        note,
        department_id: Some("D3".into()),
        status: Some("acknowledged".into()),
    };
    let until = (x.resolve_by + Duration::days(3))
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let timeline = vec![
        entry(
            30,
            EventKind::WhistleCreated,
            200,
            "龙洲村",
            "community",
            None,
        ),
        entry(
            31,
            EventKind::WhistleDispatched,
            197,
            "赫山街道调度员",
            "dispatcher",
            None,
        ),
        entry(
            32,
            EventKind::WhistleReturned,
            190,
            "住建局",
            "department",
            Some("不属于住建职责".into()),
        ),
        entry(
            33,
            EventKind::WhistleReturnOverruled,
            180,
            "赫山街道调度员",
            "dispatcher",
            Some("老旧小区改造归住建".into()),
        ),
        entry(
            34,
            EventKind::WhistleAcknowledged,
            150,
            "住建局",
            "department",
            None,
        ),
        entry(
            35,
            EventKind::WhistleUrged,
            60,
            "赫山街道调度员",
            "dispatcher",
            Some("居民多次来电".into()),
        ),
        entry(
            36,
            EventKind::WhistleExtensionRequested,
            20,
            "住建局",
            "department",
            Some(format!("until {until}: 需更换整栋楼的排水管，材料三天后到")),
        ),
    ];
    update(
        &mut a,
        Msg::Detail(Box::new(WhistleDetail {
            whistle: x,
            timeline,
        })),
    );
    a
}

#[test]
fn the_detail_shows_a_pending_extension_with_the_keys_to_answer_it_80x24_and_120x40() {
    let narrow = with_pending_extension(Lang::Zh, 80, 24);
    let wide = with_pending_extension(Lang::Zh, 120, 40);
    let w = render(&wide);
    let line = w.lines().find(|l| l.contains("申请延期")).unwrap();
    assert!(
        line.contains("A 批准延期") && line.contains("D 不准延期"),
        "{line}"
    );
    assert!(w.contains("申请至"), "the timeline words the deadline: {w}");
    assert!(!w.contains("until 20"), "not the server's English: {w}");
    insta::assert_snapshot!(format!("{}\n{w}", render(&narrow)));
    // Answering it from the detail: A asks first (issue 27: it granted at once); Enter grants
    // it as asked.
    let mut a = wide;
    assert!(key(&mut a, KeyCode::Char('A')).is_empty());
    assert!(matches!(
        a.prompt,
        Some(shaozi_tui::prompt::Prompt::Text {
            step: Step::ApproveExtension,
            ..
        })
    ));
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (*id, body.step(), body.json()),
        (
            WhistleId(1004),
            Step::ApproveExtension,
            serde_json::json!({})
        )
    );
}

/// Issue 27: the dispatcher may grant less than asked, with a note, and is told the deadline
/// granted.
#[test]
fn an_extension_is_granted_shorter_with_a_note_and_the_new_deadline_said() {
    let mut a = with_pending_extension(Lang::Zh, 120, 40);
    let w = a.whistle(WhistleId(1004)).unwrap().clone();
    key(&mut a, KeyCode::Char('A'));
    typed(&mut a, "+1天 先换主干管");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let until = w.resolve_by.max(now()) + Duration::days(1);
    assert_eq!(
        body.json(),
        serde_json::json!({
            "until": until.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "note": "先换主干管"
        })
    );
    let mut granted = w.clone();
    granted.pending_extension = None;
    granted.resolve_by = until;
    granted.version += 1;
    update(
        &mut a,
        Msg::Acted {
            id: WhistleId(1004),
            step: Step::ApproveExtension,
            result: Ok(Box::new(granted)),
            draft: None,
        },
    );
    let said = a.flash.clone().unwrap().text;
    assert!(
        said.starts_with("W1004 已批准延期：办结时限改为 "),
        "{said}"
    );
}

/// The detail fetched again after an event, as the dashboard does.
fn reload(a: &mut shaozi_tui::app::App, w: &shaozi_shared::Whistle) {
    update(
        a,
        Msg::Detail(Box::new(WhistleDetail {
            whistle: w.clone(),
            timeline: Vec::new(),
        })),
    );
}

#[test]
fn an_extension_and_a_call_back_are_typed_in_one_line() {
    let mut a = with_pending_extension(Lang::Zh, 120, 40);
    // The pending request is answered first: asking again is not offered.
    assert!(!a.offers(Step::RequestExtension));
    let mut w = a
        .detail
        .shown
        .as_ref()
        .unwrap()
        .1
        .as_ref()
        .unwrap()
        .whistle
        .clone();
    w.pending_extension = None;
    w.version += 1;
    update(&mut a, event("whistle.extension_denied", &w, 70));
    reload(&mut a, &w);
    let due = w.resolve_by;
    key(&mut a, KeyCode::Char('l'));
    typed(&mut a, "+2d");
    let fx = key(&mut a, KeyCode::Enter);
    assert!(fx.is_empty(), "a reason is needed");
    assert!(render(&a).contains("请写明延期理由"));
    typed(&mut a, " 材料未到");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let StepBody::RequestExtension(b) = body else {
        panic!("{body:?}")
    };
    assert_eq!(
        (b.until, b.reason.as_str()),
        (due + Duration::days(2), "材料未到")
    );

    // A call-back on a resolved one: the outcome, then what the resident said.
    w.status = WhistleStatus::Resolved;
    w.version += 1;
    update(&mut a, event("whistle.resolved", &w, 71));
    reload(&mut a, &w);
    key(&mut a, KeyCode::Char('C'));
    typed(&mut a, "4 水管通了");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let StepBody::CallBack(b) = body else {
        panic!("{body:?}")
    };
    assert_eq!(
        (b.reached, b.satisfaction, b.note.as_str()),
        (true, Some(4), "水管通了")
    );
}

#[test]
fn the_assessment_turns_to_streets_and_shows_their_dispatch_accuracy() {
    use shaozi_tui::screens::assessment::Units;
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('5'));
    let fx = key(&mut a, KeyCode::Char('U'));
    let [Effect::FetchAssessment(_, _, Units::Streets)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let mut streets = assessment();
    streets.group = "street".into();
    for (u, (id, name, acc)) in streets.units.iter_mut().zip([
        ("S1", "桃花仑街道", 0.75),
        ("S2", "赫山街道", 1.0),
        ("S3", "会龙山街道", 0.5),
        ("S4", "鱼形山街道", 1.0),
    ]) {
        u.id = id.into();
        u.name = name.into();
        u.dispatch_accuracy = Some(acc);
        u.dispatches = Some(4);
    }
    update(&mut a, Msg::Assessment(Box::new(streets)));
    let screen = render(&a);
    assert!(screen.contains("考核 街道"), "{screen}");
    assert!(screen.contains("派单准确"), "{screen}");
    let row = screen.lines().find(|l| l.contains("桃花仑街道")).unwrap();
    assert!(row.contains("75%"), "{row}");
    // Departments have no such column.
    key(&mut a, KeyCode::Char('U'));
    key(&mut a, KeyCode::Char('U'));
    update(&mut a, Msg::Assessment(Box::new(assessment())));
    assert!(!render(&a).contains("派单准确"));
}

/// Issue 27, bug 1: upholding a return with `a` asks for the note the new department needs,
/// rather than sending without one and reopening the picker for ever; `:assign` says so too.
#[test]
fn upholding_a_return_asks_for_the_note_the_new_department_needs() {
    let mut a = marked(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('g'));
    assert_eq!(a.queue.sel, Some(WhistleId(1003)));
    key(&mut a, KeyCode::Char('a'));
    typed(&mut a, "住房");
    let fx = key(&mut a, KeyCode::Enter);
    assert!(fx.is_empty(), "sent without a note: {fx:?}");
    assert!(
        matches!(
            &a.prompt,
            Some(shaozi_tui::prompt::Prompt::Text {
                reassign_to: Some(c),
                ..
            }) if c.lead == DepartmentId(3)
        ),
        "{:?}",
        a.prompt
    );
    typed(&mut a, "属住建局维修范围");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act {
        id,
        body: StepBody::Dispatch(d),
        ..
    }] = fx.as_slice()
    else {
        panic!("{fx:?}");
    };
    assert_eq!(*id, WhistleId(1003));
    assert_eq!(d.department_id, DepartmentId(3));
    assert_eq!(d.note.as_deref(), Some("属住建局维修范围"));
    assert!(a.prompt.is_none());

    // On the command line, without the note: said, with the line to type.
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "assign W1003 住房");
    let fx = key(&mut a, KeyCode::Enter);
    assert!(fx.is_empty(), "{fx:?}");
    let said = a.flash.clone().map(|f| f.text).unwrap_or_default();
    assert!(said.contains(":assign W1003 住房"), "{said}");
}
