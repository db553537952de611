//! What a street dispatcher, a department liaison and a community secretary hit on a normal
//! morning (issue 14), each as the keys they pressed.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::WhistleId;
use shaozi_tui::app::{update, Effect, Msg};
use shaozi_tui::i18n::Lang;

#[test]
fn below_80x24_only_quitting_does_anything() {
    let mut app = app(Lang::Zh, 120, 40);
    update(&mut app, Msg::Resize(70, 20));
    let sel = app.queue.sel;
    for k in ['a', 'j', ':', '/', 'x', '?', '2'] {
        assert!(key(&mut app, KeyCode::Char(k)).is_empty(), "{k}");
    }
    assert_eq!(app.queue.sel, sel);
    assert!(
        app.prompt.is_none() && !app.help,
        "nothing opened off-screen"
    );
    assert_eq!(app.view, shaozi_tui::app::View::Queue);
    // Big enough again: keys work.
    update(&mut app, Msg::Resize(80, 24));
    key(&mut app, KeyCode::Char('j'));
    assert_ne!(app.queue.sel, sel);
    update(&mut app, Msg::Resize(70, 20));
    assert_eq!(key(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
    assert!(app.quit);
    let _ = WhistleId(0);
}

/// Draws a frame, as the run loop does after every key.
#[test]
fn paging_down_the_detail_stops_at_its_last_line() {
    use shaozi_shared::{Actor, EventKind, TimelineEntry};
    let mut app = app(Lang::Zh, 80, 24);
    key(&mut app, KeyCode::Enter);
    let w = app.model.queue.get(WhistleId(1001)).unwrap().clone();
    let timeline = (0..40)
        .map(|i| TimelineEntry {
            seq: i,
            kind: EventKind::WhistleEscalated,
            at: now(),
            actor: Actor {
                name: "admin".into(),
                role: "admin".into(),
            },
            note: Some(format!("第{i}次催办")),
            department_id: None,
            status: None,
        })
        .collect();
    update(
        &mut app,
        Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
            whistle: w,
            timeline,
        })),
    );
    render(&app);
    for _ in 0..30 {
        key(&mut app, KeyCode::PageDown);
        render(&app);
    }
    let screen = render(&app);
    assert!(
        screen.contains("第39次催办"),
        "the last line is on screen:\n{screen}"
    );
    let body: Vec<&str> = screen.lines().skip(1).take(21).collect();
    assert!(
        body.iter().all(|l| !l.trim().is_empty()),
        "no blank screen below the end:\n{screen}"
    );
    // And back up at once, not after paging through blank space.
    key(&mut app, KeyCode::PageUp);
    let up = render(&app);
    assert!(
        !up.contains("第39次催办") || up.contains("第19次催办"),
        "{up}"
    );
}

#[test]
fn a_resolved_or_rejected_case_shows_its_deadlines_without_a_countdown() {
    use shaozi_shared::WhistleStatus;
    for status in [
        WhistleStatus::Resolved,
        WhistleStatus::Rejected,
        WhistleStatus::Closed,
    ] {
        let mut app = app(Lang::Zh, 120, 40);
        key(&mut app, KeyCode::Enter);
        let mut w = app.model.queue.get(WhistleId(1001)).unwrap().clone();
        assert!(w.overdue, "the fixture's first whistle is overdue");
        w.status = status;
        w.overdue = false;
        update(
            &mut app,
            Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
                whistle: w,
                timeline: Vec::new(),
            })),
        );
        let screen = render(&app);
        let deadlines: Vec<&str> = screen
            .lines()
            .filter(|l| l.contains("报到时限") || l.contains("办结时限"))
            .collect();
        assert_eq!(deadlines.len(), 2, "{screen}");
        for l in deadlines {
            assert!(!l.contains('✗') && !l.contains('('), "{status:?}: {l}");
        }
    }
}

#[test]
fn a_case_reassigned_away_leaves_the_old_departments_list() {
    use shaozi_shared::{DepartmentId, Urgency, WhistleStatus};
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    let d3 = DepartmentId(3);
    let case = |id: u64| {
        let mut w = whistle(id, 1, "lighting", Urgency::Normal, 30, "路灯不亮");
        w.status = WhistleStatus::Dispatched;
        w.department_id = Some(d3);
        w.version = 2;
        w
    };
    update(&mut app, Msg::DeptCases(d3, vec![case(2001), case(2002)]));
    assert_eq!(app.cases.cases.len(), 2);
    assert!(render(&app).contains("· 2"), "the title counts two");
    // Someone reassigns one of them to D1: it leaves this list, and the count follows.
    let mut moved = case(2001);
    moved.department_id = Some(DepartmentId(1));
    moved.version = 3;
    update(&mut app, event("whistle.reassigned", &moved, 60));
    let ids: Vec<u64> = app.cases.cases.iter().map(|w| w.id.0).collect();
    assert_eq!(ids, [2002]);
    assert!(render(&app).contains("· 1"));
    // Our own reassignment, answered by the server: the same.
    let mut ours = case(2002);
    ours.department_id = Some(DepartmentId(2));
    ours.version = 3;
    update(
        &mut app,
        Msg::Acted {
            id: ours.id,
            step: shaozi_shared::api::Step::Dispatch,
            result: Ok(Box::new(ours)),
            draft: None,
        },
    );
    assert!(app.cases.cases.is_empty());
}

#[test]
fn the_pickers_tick_is_for_every_marked_case_and_ticked_departments_come_first() {
    let mut app = app(Lang::Zh, 120, 40);
    // Mark a lighting case and a property case.
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.queue.marked.len(), 2);
    key(&mut app, KeyCode::Char('a'));
    let p = app.prompt.clone().expect("the picker");
    let ticked: Vec<(u64, bool)> = p
        .visible_options()
        .iter()
        .map(|o| (o.id.0, o.handles))
        .collect();
    // Only 住建 handles both lighting and property; 路灯 handles only the first.
    assert_eq!(ticked, [(3, true), (2, false), (1, false)]);
    // A name that matches better does not put an unticked department above a ticked one.
    typed(&mut app, "市");
    let p = app.prompt.clone().expect("the picker");
    assert_eq!(p.visible_options()[0].id.0, 3);
    // The tick is explained.
    let screen = render(&app);
    assert!(screen.contains("✓ 负责所选哨件的类别"), "{screen}");
}

#[test]
fn a_long_reply_typed_in_80_columns_keeps_its_end_and_the_cursor_in_view() {
    let mut app = app(Lang::Zh, 80, 24);
    key(&mut app, KeyCode::Char('x'));
    assert!(app.prompt.is_some(), "rejecting asks for a reason");
    let reason = "此事不属于本街道管辖范围请转交区城管执法局处理并抄送住建委谢谢配合结尾";
    typed(&mut app, reason);
    let screen = render(&app);
    assert!(screen.contains("谢谢配合结尾"), "{screen}");
    assert!(screen.contains('…'), "the hidden start is marked: {screen}");
    // The same for the filter prompt.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, &"朝阳门内大街".repeat(10));
    typed(&mut app, "末尾");
    let screen = render(&app);
    assert!(screen.contains("末尾"), "{screen}");
}
