//! Rendered screens, snapshot-tested on ratatui's TestBackend with Chinese data.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::WhistleDetail;
use shaozi_shared::{Actor, EventKind, TimelineEntry, WhistleId};
use shaozi_tui::app::{update, Conn, Msg};
use shaozi_tui::i18n::Lang;

#[test]
fn queue_80x24_zh() {
    insta::assert_snapshot!(render(&app(Lang::Zh, 80, 24)));
}

#[test]
fn queue_120x40_zh() {
    insta::assert_snapshot!(render(&app(Lang::Zh, 120, 40)));
}

#[test]
fn queue_80x24_en_offline_with_marks_and_a_message() {
    let mut a = app(Lang::En, 80, 24);
    key(&mut a, KeyCode::Char(' '));
    update(&mut a, Msg::Conn(Conn::Offline));
    update(
        &mut a,
        event(
            "whistle.created",
            &whistle(
                1009,
                2,
                "safety",
                shaozi_shared::Urgency::Urgent,
                0,
                "燃气泄漏，楼道有异味",
            ),
            50,
        ),
    );
    insta::assert_snapshot!(render(&a));
}

#[test]
fn assign_picker_120x40() {
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('a'));
    insta::assert_snapshot!(render(&a));
}

#[test]
fn departments_and_wishes_80x24() {
    let mut a = app(Lang::Zh, 80, 24);
    key(&mut a, KeyCode::Char('2'));
    let deps = render(&a);
    key(&mut a, KeyCode::Char('3'));
    update(&mut a, Msg::Wishes(wishes()));
    insta::assert_snapshot!(format!("{deps}\n{}", render(&a)));
}

#[test]
fn detail_120x40() {
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Enter);
    let mut w = a.model.queue.get(WhistleId(1001)).unwrap().clone();
    // Reported through Open311: the resident's contact, a photo and an answered question.
    w.category = "roads".into();
    w.reporter = Some(shaozi_shared::api::Reporter {
        name: Some("王芳".into()),
        email: None,
        phone: Some("13800000000".into()),
    });
    w.media_url = Some("https://example.cn/p/1.jpg".into());
    w.attributes.insert("hazard".into(), vec!["cover".into()]);
    let entry = |seq, kind, mins, who: &str, note: Option<&str>| TimelineEntry {
        seq,
        kind,
        at: now() - chrono::Duration::minutes(mins),
        actor: Actor {
            name: who.into(),
            role: if who == "system" {
                "system"
            } else {
                "dispatcher"
            }
            .into(),
        },
        note: note.map(str::to_string),
        department_id: (kind != EventKind::WhistleCreated).then(|| "D1".to_string()),
        status: Some(
            if kind == EventKind::WhistleCreated {
                "new"
            } else {
                "dispatched"
            }
            .into(),
        ),
    };
    let timeline = vec![
        entry(10, EventKind::WhistleCreated, 75, "朝阳路社区", None),
        entry(
            12,
            EventKind::WhistleDispatched,
            72,
            "桃花仑街道调度员",
            Some("请立即派专干到现场报到"),
        ),
        entry(
            20,
            EventKind::WhistleOverdue,
            45,
            "system",
            Some("the deadline to report for duty (2026-11-26 01:15 UTC) has passed"),
        ),
        entry(
            21,
            EventKind::WhistleEscalated,
            45,
            "system",
            Some("escalated to level 1 (deadline passed)"),
        ),
    ];
    update(
        &mut a,
        Msg::Detail(Box::new(WhistleDetail {
            whistle: w,
            timeline,
        })),
    );
    insta::assert_snapshot!(render(&a));
}

#[test]
fn too_small_asks_to_enlarge_and_help_lists_keys() {
    let mut a = app(Lang::Zh, 60, 20);
    let small = render(&a);
    assert_eq!(small.lines().count(), 20);
    assert!(small.contains("请放大窗口"), "{small}");
    update(&mut a, Msg::Resize(80, 24));
    key(&mut a, KeyCode::Char('?'));
    insta::assert_snapshot!(format!("{small}\n{}", render(&a)));
}

#[test]
fn a_department_sees_only_its_steps_80x24() {
    let mut a = app(Lang::Zh, 80, 24);
    update(
        &mut a,
        Msg::Me(Box::new(shaozi_tui::app::Me {
            name: "城管专干".into(),
            role: shaozi_shared::Role::Department,
            scope: shaozi_shared::Scope::Department(shaozi_shared::DepartmentId(1)),
            may: vec![shaozi_shared::Op::Handle, shaozi_shared::Op::ClaimWish],
            utc_offset_minutes: None,
        })),
    );
    update(&mut a, Msg::Work(open_cases()));
    // Its own cases: W1001 waits for it to report for duty, W1014 is in progress.
    let screen = render(&a);
    let hints = screen.lines().nth(23).unwrap_or_default().to_string();
    assert!(hints.contains("报到") && !hints.contains("办结"), "{hints}");
    key(&mut a, KeyCode::Char('j'));
    let moved = render(&a);
    let hints2 = moved.lines().nth(23).unwrap_or_default().to_string();
    assert!(
        hints2.contains("办结") && !hints2.contains("报到"),
        "{hints2}"
    );
    for h in [&hints, &hints2] {
        assert!(
            !h.contains("派单") && !h.contains("关闭") && !h.contains("驳回"),
            "{h}"
        );
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn assessment_80x24_and_120x40() {
    let mut narrow = app(Lang::Zh, 80, 24);
    key(&mut narrow, KeyCode::Char('5'));
    update(&mut narrow, Msg::Assessment(Box::new(assessment())));
    let mut wide = app(Lang::Zh, 120, 40);
    key(&mut wide, KeyCode::Char('5'));
    update(&mut wide, Msg::Assessment(Box::new(assessment())));
    insta::assert_snapshot!(format!("{}\n{}", render(&narrow), render(&wide)));
}

/// Plain http to another machine is said on the status line, whatever else is there, in both
/// languages; on the last line of an 80-column screen.
#[test]
fn plain_http_to_another_machine_is_warned_of_80x24() {
    let mut zh = app(Lang::Zh, 80, 24);
    zh.unencrypted = true;
    let mut en = app(Lang::En, 80, 24);
    en.unencrypted = true;
    update(&mut en, Msg::Conn(Conn::Offline));
    let (zh, en) = (render(&zh), render(&en));
    // The status line is the one above the hints.
    let status = |s: &str| {
        s.lines()
            .rev()
            .filter(|l| !l.is_empty())
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert!(zh.contains("⚠ 未加密(http)"), "{zh}");
    assert!(en.contains("⚠ unencrypted http"), "{en}");
    insta::assert_snapshot!(format!("{}\n{}", status(&zh), status(&en)));
}

/// Issue 27, bug 12: the help box keeps its left border over Chinese text: a wide character
/// under its edge was drawn across the border.
#[test]
fn help_keeps_its_left_border_over_chinese_text() {
    fn char_at(line: &str, col: usize) -> Option<char> {
        let mut x = 0;
        for c in line.chars() {
            if x == col {
                return Some(c);
            }
            x += unicode_width::UnicodeWidthChar::width(c)
                .unwrap_or(0)
                .max(1);
            if x > col {
                return None;
            }
        }
        None
    }
    for (screen, width) in ['3', '5', '4']
        .into_iter()
        .flat_map(|s| (80..=130).map(move |w| (s, w)))
    {
        let mut a = common::app(Lang::Zh, width, 30);
        update(&mut a, Msg::Wishes(common::wishes()));
        if screen == '4' {
            common::key(&mut a, crossterm::event::KeyCode::Enter);
        }
        common::key(&mut a, crossterm::event::KeyCode::Char(screen));
        common::key(&mut a, crossterm::event::KeyCode::Char('?'));
        let text = common::render(&a);
        let lines: Vec<&str> = text.lines().collect();
        let top = lines.iter().position(|l| l.contains('┌')).expect("a box");
        let left = {
            let l = lines[top];
            let byte = l.find('┌').unwrap();
            unicode_width::UnicodeWidthStr::width(&l[..byte])
        };
        for line in &lines[top + 1..] {
            if char_at(line, left) == Some('└') {
                break;
            }
            assert_eq!(
                char_at(line, left),
                Some('│'),
                "{screen} at {width}: {line:?}\n{text}"
            );
        }
    }
}

/// Issue 27: `?` explains the shown screen's marks (the queue) and short headers (the
/// assessment) below its keys.
#[test]
fn help_explains_the_marks_and_the_short_headers_of_the_screen_shown() {
    let mut a = common::app(Lang::Zh, 120, 40);
    common::key(&mut a, crossterm::event::KeyCode::Char('?'));
    let queue = common::render(&a);
    assert!(
        queue.contains("↑1 已升级到第 1 级") && queue.contains("◷ 时限将到"),
        "{queue}"
    );
    common::key(&mut a, crossterm::event::KeyCode::Esc);
    common::key(&mut a, crossterm::event::KeyCode::Char('5'));
    common::key(&mut a, crossterm::event::KeyCode::Char('?'));
    let assessment = common::render(&a);
    assert!(assessment.contains("退单准/驳=退单核准"), "{assessment}");
}
