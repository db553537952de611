//! What a street dispatcher, a department liaison and a community secretary hit on a normal
//! morning (issue 14), each as the keys they pressed.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::Step;
use shaozi_shared::{DepartmentId, WhistleId};
use shaozi_tui::app::{update, Effect, Msg, Refusal};
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

fn rows(app: &shaozi_tui::app::App) -> Vec<u64> {
    app.rows().iter().map(|k| k.id).collect()
}

fn flash(app: &shaozi_tui::app::App) -> String {
    app.flash.clone().map(|f| f.text).unwrap_or_default()
}

fn command(app: &mut shaozi_tui::app::App, line: &str) -> Vec<Effect> {
    key(app, KeyCode::Char(':'));
    typed(app, line);
    key(app, KeyCode::Enter)
}

#[test]
fn every_list_row_says_its_status_and_why_it_jumped_the_queue() {
    let app = app(Lang::Zh, 120, 40);
    let screen = render(&app);
    let row = |id: &str| {
        screen
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("W1002").contains("未派单"), "{screen}");
    assert!(
        row("W1001").contains("待报到↑1"),
        "escalated once: {screen}"
    );
}

#[test]
fn a_department_filter_says_which_it_chose_and_asks_when_a_name_fits_two() {
    let mut app = app(Lang::Zh, 120, 40);
    let mut dir = directory();
    let d4 = DepartmentId(4);
    let mut extra = dir.departments[&DepartmentId(3)].clone();
    extra.id = d4;
    extra.name = "市住建执法支队".into();
    dir.departments.insert(d4, extra);
    update(&mut app, Msg::Directory(Box::new(dir)));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "dept=住建");
    key(&mut app, KeyCode::Enter);
    let Some(shaozi_tui::prompt::Prompt::Filter { hint, .. }) = app.prompt.clone() else {
        panic!("an ambiguous name keeps the filter open");
    };
    assert!(
        hint.contains("市住建执法支队") && hint.contains("市住房和城乡建设局"),
        "{hint}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    // Retyping from the applied (empty) filter.
    typed(&mut app, "dept=住房");
    key(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none());
    assert_eq!(rows(&app), [1004]);
    let screen = render(&app);
    assert!(screen.contains("部门 = 市住房和城乡建设局"), "{screen}");
}

#[test]
fn filters_by_status_and_street_and_unknown_keys_are_named() {
    let mut app = app(Lang::Zh, 120, 40);
    for text in ["status=new", "未派单", "状态=未派单"] {
        command(&mut app, &format!("filter {text}"));
        assert_eq!(rows(&app), [1002, 1003, 1005], "{text}");
    }
    command(&mut app, "filter street=赫山");
    assert_eq!(rows(&app), [1004, 1005]);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    for _ in 0..20 {
        key(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "foo=bar");
    key(&mut app, KeyCode::Enter);
    let Some(shaozi_tui::prompt::Prompt::Filter { hint, .. }) = app.prompt.clone() else {
        panic!("an unknown key keeps the filter open");
    };
    assert!(hint.contains("不认识的筛选条件“foo”"), "{hint}");
}

#[test]
fn assigning_an_assigned_case_on_the_command_line_needs_the_reason_on_the_line() {
    let mut app = app(Lang::Zh, 120, 40);
    let fx = command(&mut app, "assign W1001 住房");
    assert!(fx.is_empty());
    // No reason box behind the command line: the line itself stays, as typed, to be completed
    // (issue 27: it used to close, losing what was typed).
    let Some(shaozi_tui::prompt::Prompt::Command { editor, .. }) = app.prompt.clone() else {
        panic!("no reason box behind the command line: {:?}", app.prompt)
    };
    assert_eq!(editor.text(), "assign W1001 住房");
    assert!(
        flash(&app).contains(":assign W1001 住房 理由"),
        "{}",
        flash(&app)
    );
    key(&mut app, KeyCode::Esc);
    let fx = command(&mut app, "派单 W1001 住房 属于物业维修");
    // 住房 does not handle W1001's category: said, and confirmed, before it goes.
    assert!(fx.is_empty(), "{fx:?}");
    let Some(shaozi_tui::prompt::Prompt::Confirm { cautions, .. }) = app.prompt.clone() else {
        panic!(
            "a department that does not handle the category is confirmed: {:?}",
            app.prompt
        )
    };
    assert_eq!(
        cautions,
        [(WhistleId(1001), shaozi_tui::prompt::Caution::DoesNotHandle)]
    );
    let fx = key(&mut app, KeyCode::Char('y'));
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        body.json(),
        serde_json::json!({"department_id": "D3", "note": "属于物业维修"})
    );
}

#[test]
fn going_to_a_missing_case_says_not_found_instead_of_loading_for_ever() {
    let mut app = app(Lang::Zh, 120, 40);
    let fx = command(&mut app, "goto W9999");
    assert_eq!(
        fx,
        [
            Effect::FetchDetail(WhistleId(9999)),
            Effect::FetchSimilar(WhistleId(9999))
        ]
    );
    update(
        &mut app,
        Msg::DetailFailed(
            WhistleId(9999),
            Refusal {
                status: 404,
                detail: "there is no whistle W9999".into(),
                code: Some("not_found".into()),
                ..Default::default()
            },
        ),
    );
    let screen = render(&app);
    assert!(
        screen.contains("找不到 W9999：不存在，或不在你的范围内") && !screen.contains("加载中"),
        "{screen}"
    );
}

#[test]
fn the_command_line_remembers_and_speaks_chinese() {
    let mut app = app(Lang::Zh, 120, 40);
    command(&mut app, "跳转 W1003");
    assert_eq!(app.queue.sel, Some(WhistleId(1003)));
    command(&mut app, "筛选 紧急");
    assert_eq!(rows(&app), [1001, 1002]);
    key(&mut app, KeyCode::Char(':'));
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    let Some(shaozi_tui::prompt::Prompt::Command { editor, .. }) = app.prompt.clone() else {
        panic!()
    };
    assert_eq!(editor.text(), "跳转 W1003");
    key(&mut app, KeyCode::Down);
    let Some(shaozi_tui::prompt::Prompt::Command { editor, .. }) = app.prompt.clone() else {
        panic!()
    };
    assert_eq!(editor.text(), "筛选 紧急");
}

#[test]
fn a_refusal_is_worded_in_the_ui_language_and_shown_whole() {
    let mut app = app(Lang::Zh, 80, 24);
    key(&mut app, KeyCode::Char('r'));
    typed(&mut app, "张伟 张伟");
    // The dashboard's own check counts names as typed; the server's says two different.
    let fx = key(&mut app, KeyCode::Enter);
    let [Effect::Act { draft, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1001),
            step: Step::Acknowledge,
            result: Err(Refusal {
                status: 422,
                detail: "staff: reporting for duty needs two or more different staff names; got 1"
                    .into(),
                code: Some("too_few_staff".into()),
                field: Some("staff".into()),
                ..Default::default()
            }),
            draft: draft.clone(),
        },
    );
    assert_eq!(flash(&app), "W1001 未能报到：报到需要两名以上不同的人员");
    // A long one (a code this dashboard does not know) is shown whole above the status line.
    let long = "the server refused this for a reason this dashboard has no words for, and says so at length so that the end of it would be cut: END";
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1001),
            step: Step::Acknowledge,
            result: Err(Refusal {
                status: 422,
                detail: long.into(),
                code: Some("something_new".into()),
                ..Default::default()
            }),
            draft: None,
        },
    );
    let screen = render(&app);
    assert!(screen.contains("END"), "{screen}");
}

#[test]
fn a_bulk_step_is_summed_up_when_its_last_answer_is_in() {
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('a'));
    typed(&mut app, "住房");
    key(&mut app, KeyCode::Enter);
    let screen = render(&app);
    assert!(screen.contains("派往 市住房和城乡建设局：2 件"), "{screen}");
    let fx = key(&mut app, KeyCode::Char('y'));
    assert_eq!(fx.len(), 2);
    let mut w = app.model.queue.get(WhistleId(1002)).unwrap().clone();
    w.status = shaozi_shared::WhistleStatus::Dispatched;
    w.department_id = Some(DepartmentId(3));
    w.version += 1;
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1002),
            step: Step::Dispatch,
            result: Ok(Box::new(w)),
            draft: None,
        },
    );
    assert!(app.flash.is_none(), "nothing said until every answer is in");
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1003),
            step: Step::Dispatch,
            result: Err(Refusal {
                status: 409,
                detail: "cannot dispatch whistle W1003: it is rejected; it is finished".into(),
                code: Some("not_allowed".into()),
                current_status: Some("rejected".into()),
                ..Default::default()
            }),
            draft: None,
        },
    );
    assert_eq!(
        flash(&app),
        "1 件已派往 市住房和城乡建设局，1 件被拒绝：W1003 未能派单：当前状态为「已驳回」，不能派单"
    );
}

#[test]
fn an_empty_reason_or_an_offline_submit_says_why() {
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('x'));
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(flash(&app).contains("请填写"), "{}", flash(&app));
    typed(&mut app, "不属于本街道");
    update(&mut app, Msg::Conn(shaozi_tui::app::Conn::Offline));
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(app.prompt.is_some(), "what was typed stays");
    assert!(flash(&app).contains("离线：未提交"), "{}", flash(&app));
}

#[test]
fn escalating_and_reopening_say_what_they_did() {
    let mut app = app(Lang::Zh, 120, 40);
    let mut w = app.model.queue.get(WhistleId(1001)).unwrap().clone();
    w.escalation_level = 2;
    w.version += 1;
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1001),
            step: Step::Escalate,
            result: Ok(Box::new(w.clone())),
            draft: None,
        },
    );
    assert_eq!(flash(&app), "W1001 已升级至 2 级（市领导）");
    w.status = shaozi_shared::WhistleStatus::Acknowledged;
    w.reopened = 1;
    w.version += 1;
    update(
        &mut app,
        Msg::Acted {
            id: WhistleId(1001),
            step: Step::Reopen,
            result: Ok(Box::new(w)),
            draft: None,
        },
    );
    assert_eq!(
        flash(&app),
        "W1001 已退回 市城市管理和综合执法局 重办，办结时限重新计算"
    );
}

#[test]
fn the_footer_keeps_the_command_key_and_reopen_at_80_columns() {
    let q = app(Lang::Zh, 80, 24);
    let hints = render(&q).lines().nth(23).unwrap().to_string();
    assert!(
        hints.contains(": 命令") && hints.contains("q 退出"),
        "{hints}"
    );
    let c = community_app(Lang::Zh, 80, 24);
    let hints = render(&c).lines().nth(23).unwrap().to_string();
    assert!(
        hints.contains("o 重办") && hints.contains(": 命令"),
        "{hints}"
    );
}

#[test]
fn at_160_columns_the_department_gets_its_whole_name() {
    let app = app(Lang::Zh, 160, 40);
    let screen = render(&app);
    let row = screen.lines().find(|l| l.contains("W1001")).unwrap();
    assert!(row.contains("市城市管理和综合执法局"), "{row}");
    let narrow = render(&common::app(Lang::Zh, 80, 24));
    let row = narrow.lines().find(|l| l.contains("W1002")).unwrap();
    assert!(row.contains("梓山社区") && row.contains("下水道"), "{row}");
}

#[test]
fn the_timeline_shows_the_rating_and_a_duplicates_original() {
    use shaozi_shared::{Actor, EventKind, TimelineEntry};
    let mut app = community_app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Enter);
    let mut w = app.work.shown[0].clone();
    w.status = shaozi_shared::WhistleStatus::Closed;
    w.satisfaction = Some(4);
    let entry = |kind, note: Option<&str>| TimelineEntry {
        seq: 1,
        kind,
        at: now(),
        actor: Actor {
            name: "朝阳路社区书记".into(),
            role: "community".into(),
        },
        note: note.map(str::to_string),
        department_id: Some("D3".into()),
        status: Some("closed".into()),
    };
    update(
        &mut app,
        Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
            whistle: w.clone(),
            timeline: vec![entry(EventKind::WhistleClosed, Some("修得及时"))],
        })),
    );
    let screen = render(&app);
    assert!(
        screen.contains("关闭评价  评价 ★★★★☆（4 分）  朝阳路社区书记：修得及时"),
        "{screen}"
    );
    w.status = shaozi_shared::WhistleStatus::Rejected;
    w.duplicate_of = Some(WhistleId(1003));
    update(
        &mut app,
        Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
            whistle: w,
            timeline: vec![entry(EventKind::WhistleRejected, Some("同一处路灯"))],
        })),
    );
    let screen = render(&app);
    assert!(screen.contains("驳回      重复件，原件 W1003"), "{screen}");
}

#[test]
fn the_assessment_names_minutes_as_times_and_a_custom_period_shows_its_dates() {
    let mut app = app(Lang::Zh, 120, 40);
    command(&mut app, "period 2026-10-01 2026-10-31");
    update(&mut app, Msg::Assessment(Box::new(assessment())));
    let screen = render(&app);
    assert!(
        screen.contains("自定期间 2026-10-01 至 2026-10-31"),
        "{screen}"
    );
    assert!(
        screen.contains("报到用时") && screen.contains("办结用时") && !screen.contains("报到分"),
        "{screen}"
    );
    // D1's median time to resolve is 100 minutes: shown as a time.
    let d1 = screen.lines().find(|l| l.contains("市城市管理")).unwrap();
    assert!(d1.contains("1h40"), "{d1}");
}

#[test]
fn times_are_shown_in_the_citys_offset_whatever_the_machines() {
    let mut app = app(Lang::Zh, 120, 40);
    let mut me = shaozi_tui::app::Me {
        name: "调度员".into(),
        role: shaozi_shared::Role::Dispatcher,
        scope: shaozi_shared::Scope::City,
        may: vec![shaozi_shared::Op::Dispatch],
        utc_offset_minutes: Some(480),
    };
    update(&mut app, Msg::Me(Box::new(me.clone())));
    // 02:00 UTC is 10:00 in the city.
    let screen = render(&app);
    assert!(screen.contains("数据 10:00:00"), "{screen}");
    me.utc_offset_minutes = None;
    let mut other = common::app(Lang::Zh, 120, 40);
    update(&mut other, Msg::Me(Box::new(me)));
    assert!(render(&other).contains("数据 02:00:00"));
}

#[test]
fn the_departments_headers_fit_in_english_and_names_are_whole() {
    let mut app = app(Lang::En, 120, 40);
    key(&mut app, KeyCode::Char('2'));
    let screen = render(&app);
    let header = screen.lines().nth(1).unwrap();
    for h in [" waiting", " in progress", " ✗overdue", " open"] {
        assert!(header.contains(h), "{h:?} in {header}");
    }
    assert!(!header.contains("progress✗"), "{header}");
    assert!(screen.contains("市城市管理和综合执法局"), "{screen}");
}

#[test]
fn a_failed_load_is_said_in_the_ui_language() {
    let mut app = app(Lang::Zh, 120, 40);
    update(
        &mut app,
        Msg::LoadFailed(Refusal::plain(401, "missing or invalid bearer token")),
    );
    assert_eq!(
        flash(&app),
        "令牌无效或已被吊销，请换一个令牌（--token 或 SHAOZI_TOKEN）"
    );
}

/// Issue 27, bug 6: `/` where nothing can be narrowed says so, and the queue's filter is not
/// shown over a screen it does not narrow.
#[test]
fn slash_where_nothing_narrows_says_so() {
    let mut app = app(Lang::Zh, 120, 40);
    command(&mut app, "filter 住房");
    assert!(render(&app).contains("筛选: 住房"), "{}", render(&app));
    for screen in ['2', '5'] {
        key(&mut app, KeyCode::Char(screen));
        key(&mut app, KeyCode::Char('/'));
        assert!(app.prompt.is_none(), "{screen}: {:?}", app.prompt);
        assert!(
            flash(&app).contains("本页不能筛选"),
            "{screen}: {}",
            flash(&app)
        );
        assert!(!render(&app).contains("筛选: 住房"), "{}", render(&app));
    }
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char('/'));
    assert!(app.prompt.is_some());
}

/// Issue 27, bug 11: one word, one meaning. The header counts every unanswered case (new,
/// dispatched and returned) as 未响应; 待报到 stays the status of a dispatched case only.
#[test]
fn the_header_count_is_not_named_after_one_status() {
    let app = app(Lang::Zh, 120, 40);
    let screen = render(&app);
    let title = screen.lines().next().unwrap_or_default();
    let unanswered = app.model.stats.as_ref().map(|s| s.queue.unanswered);
    assert!(
        title.contains(&format!("未响应 {}", unanswered.unwrap_or_default())),
        "{title}"
    );
    assert!(!title.contains("待报到"), "{title}");
}

/// Issue 27, bug 14: once the department reported for duty, the detail stops counting down to
/// the deadline to report; it counts down to the deadline to resolve.
#[test]
fn the_detail_stops_counting_down_to_reporting_once_reported() {
    let mut app = app(Lang::Zh, 120, 40);
    let mut w = acknowledged(app.model.queue.get(WhistleId(1002)).unwrap().clone());
    w.respond_by = now() + chrono::Duration::minutes(20);
    w.resolve_by = now() + chrono::Duration::hours(5);
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "goto W1002");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    update(
        &mut app,
        Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
            whistle: w,
            timeline: Vec::new(),
        })),
    );
    let screen = render(&app);
    let line = |label: &str| {
        screen
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_default()
            .to_string()
    };
    assert!(!line("报到时限").contains('('), "{}", line("报到时限"));
    assert!(line("办结时限").contains("(5h00)"), "{}", line("办结时限"));
}

/// Issue 27, bug 15: from 100 columns the status column holds the longest status with its
/// marks (the escalation level, the urge, due soon), in both languages.
#[test]
fn the_status_column_holds_the_level_and_the_marks_at_120() {
    for lang in [Lang::Zh, Lang::En] {
        let mut app = app(lang, 120, 40);
        let mut w = app.model.queue.get(WhistleId(1001)).unwrap().clone();
        w.escalation_level = 3;
        w.urges = 1;
        w.due_soon_sent_for = Some(w.respond_by);
        w.respond_by = now() + chrono::Duration::minutes(5);
        w.due_soon_sent_for = Some(w.respond_by);
        w.version += 1;
        update(&mut app, event("whistle.urged", &w, 70));
        let full = shaozi_tui::words::list_status(lang, &w);
        let screen = render(&app);
        let row = screen.lines().find(|l| l.contains("W1001")).unwrap();
        assert!(row.contains(&full), "{full} in {row}");
    }
}

/// Issue 27, bug 13: English at 80 columns: every count of the title whole, two categories
/// never cut to the same word, no space before an ellipsis, and a space after a long event
/// name in the timeline.
#[test]
fn english_at_80_columns_reads_whole() {
    let mut app = app(Lang::En, 80, 24);
    let mut lamp = app.model.queue.get(WhistleId(1003)).unwrap().clone();
    lamp.category = "market".into();
    lamp.version += 1;
    update(&mut app, event("whistle.escalated", &lamp, 71));
    let mut water = app.model.queue.get(WhistleId(1004)).unwrap().clone();
    water.category = "utilities".into();
    water.version += 1;
    update(&mut app, event("whistle.escalated", &water, 72));
    let screen = render(&app);
    let title = screen.lines().next().unwrap();
    let urgent = app.model.stats.as_ref().unwrap().queue.urgent;
    assert!(title.ends_with(&format!("urg {urgent}")), "{title}");
    assert!(!screen.contains(" …"), "{screen}");
    let cats: Vec<&str> = ["W1003", "W1004", "W1005"]
        .iter()
        .map(|id| screen.lines().find(|l| l.contains(id)).unwrap())
        .collect();
    assert!(cats[0].contains("Market "), "{}", cats[0]);
    assert!(cats[1].contains("Water "), "{}", cats[1]);
    assert!(shaozi_tui::text::fit("Water and gas supply", 7) == "Water…");
}

/// Issue 27: below 80×24 a key typed into an open prompt is kept, not lost (and `q` there is a
/// letter, not quitting); sending waits until the prompt can be seen.
#[test]
fn typing_into_a_prompt_while_too_small_keeps_what_is_typed() {
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('a'));
    update(&mut app, Msg::Resize(60, 20));
    typed(&mut app, "q住");
    assert!(!app.quit);
    assert!(
        key(&mut app, KeyCode::Enter).is_empty(),
        "nothing is sent unseen"
    );
    update(&mut app, Msg::Resize(120, 40));
    let Some(shaozi_tui::prompt::Prompt::Picker { editor, .. }) = app.prompt.clone() else {
        panic!("{:?}", app.prompt)
    };
    assert_eq!(editor.text(), "q住");
}

/// Issue 27: a key that does nothing on the screen shown says so, and where it works.
#[test]
fn a_key_that_does_nothing_here_says_where_it_works() {
    let mut app = app(Lang::Zh, 120, 40);
    for (k, said) in [
        ('p', "p（切换周期）在本页没有作用，在5 考核"),
        ('R', "R（恢复推送）在本页没有作用，在6 推送"),
    ] {
        assert!(key(&mut app, KeyCode::Char(k)).is_empty());
        assert_eq!(flash(&app), said);
    }
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(flash(&app), "Space（标记）在本页没有作用，在1 队列");
}

/// Issue 27: `:goto` to a case in the queue says where it is, and that the filter hiding it
/// was cleared.
#[test]
fn goto_says_where_the_case_is() {
    let mut app = app(Lang::Zh, 120, 40);
    command(&mut app, "filter 住房");
    command(&mut app, "goto W1002");
    assert_eq!(app.queue.sel, Some(WhistleId(1002)));
    assert!(app.queue.filter_text.is_empty());
    assert_eq!(flash(&app), "W1002 在队列第 2 行（共 5 行）；筛选已清除");
}

/// Issue 27: a reversed `:period` says which way round it goes, not only the usage.
#[test]
fn a_reversed_period_says_which_way_round() {
    let mut app = app(Lang::Zh, 120, 40);
    command(&mut app, "period 2026-11-30 2026-11-01");
    assert_eq!(
        flash(&app),
        "开始日期 2026-11-30 晚于结束日期 2026-11-01：应写作 :period 2026-11-01 2026-11-30"
    );
}

/// Issue 27: Esc does not throw away a reason half typed: the same step on the same case
/// brings it back; another step starts empty; sending clears it.
#[test]
fn esc_keeps_a_half_typed_reason_for_the_same_step() {
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('x'));
    typed(&mut app, "不属于本市管辖，建议转省");
    key(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
    assert!(flash(&app).contains("输入已保留"), "{}", flash(&app));
    key(&mut app, KeyCode::Char('e'));
    let Some(shaozi_tui::prompt::Prompt::Text { editor, .. }) = app.prompt.clone() else {
        panic!("{:?}", app.prompt)
    };
    assert_eq!(editor.text(), "", "another step starts empty");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('x'));
    let Some(shaozi_tui::prompt::Prompt::Text { editor, .. }) = app.prompt.clone() else {
        panic!("{:?}", app.prompt)
    };
    assert_eq!(editor.text(), "不属于本市管辖，建议转省");
    // Rejecting for good is confirmed first, even for one case.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(matches!(
        app.prompt,
        Some(shaozi_tui::prompt::Prompt::Confirm { .. })
    ));
    assert_eq!(key(&mut app, KeyCode::Char('y')).len(), 1, "sent");
    key(&mut app, KeyCode::Char('x'));
    let Some(shaozi_tui::prompt::Prompt::Text { editor, .. }) = app.prompt.clone() else {
        panic!("{:?}", app.prompt)
    };
    assert_eq!(editor.text(), "", "a sent reason is not brought back");
}

/// Issue 27: q leaves a screen for home first (as in k9s), and quits from home.
#[test]
fn q_goes_home_first_then_quits() {
    let mut app = app(Lang::Zh, 120, 40);
    key(&mut app, KeyCode::Char('3'));
    assert!(!key(&mut app, KeyCode::Char('q')).contains(&Effect::Quit));
    assert!(!app.quit);
    assert_eq!(app.view, shaozi_tui::app::View::Queue);
    assert!(flash(&app).contains("再按 q 退出"), "{}", flash(&app));
    assert_eq!(key(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
    assert!(app.quit);
}

/// Issue 27: a day and 23 hours reads 1d23, not 1d (which covered 24 h to 47 h 59).
#[test]
fn spans_of_days_keep_their_hours() {
    use chrono::Duration;
    use shaozi_tui::view::short_span;
    assert_eq!(short_span(Duration::minutes(47 * 60 + 59)), "1d23");
    assert_eq!(short_span(Duration::hours(24)), "1d00");
    assert_eq!(
        short_span(Duration::hours(23) + Duration::minutes(5)),
        "23h05"
    );
    assert_eq!(short_span(Duration::days(12)), "12d");
}
