//! A department's and a community's notices (issue 27): what others did about its cases stays
//! until it is seen, counted on the status line, listed newest first with `m`.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::WhistleId;
use shaozi_tui::app::{update, App, Effect, View};
use shaozi_tui::i18n::Lang;

/// The department's extension on W1011 denied, then W1011 urged, while it looks at its work.
fn told_twice(lang: Lang, w: u16, h: u16) -> App {
    let mut a = department_app(lang, w, h);
    let mut case = a
        .work
        .cases
        .iter()
        .find(|w| w.id.0 == 1011)
        .unwrap()
        .clone();
    case.version += 1;
    update(
        &mut a,
        event_with_note("whistle.extension_denied", &case, 80, "可先临时处置"),
    );
    case.urges = 1;
    case.version += 1;
    update(
        &mut a,
        event_with_note("whistle.urged", &case, 81, "群众反映强烈"),
    );
    a
}

fn status_line(a: &App) -> String {
    let screen = render(a);
    let lines: Vec<&str> = screen.lines().collect();
    lines[lines.len() - 2].to_string()
}

#[test]
fn notices_stay_until_seen_and_open_their_case() {
    let mut a = told_twice(Lang::Zh, 120, 40);
    // The second replaced the first on the status line; both are kept and counted.
    assert_eq!(a.notices.unseen, 2);
    let status = status_line(&a);
    assert!(status.contains("✉ 2 条新通知（m）"), "{status}");
    // Another department's case is no notice of this one's.
    let mut other = a.model.queue.get(WhistleId(1001)).unwrap().clone();
    other.urges = 1;
    other.version += 1;
    update(&mut a, event_with_note("whistle.urged", &other, 82, "快"));
    assert_eq!(a.notices.unseen, 2);

    assert!(key(&mut a, KeyCode::Char('m')).is_empty());
    assert_eq!(a.view, View::Notices);
    assert_eq!(a.notices.unseen, 0, "seen once opened");
    let screen = render(&a);
    assert!(!status_line(&a).contains("✉"), "{screen}");
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("W1011")).collect();
    assert_eq!(rows.len(), 2, "{screen}");
    assert!(rows[0].contains("● ") && rows[0].contains("被催办（第 1 次）：群众反映强烈"));
    assert!(rows[1].contains("● ") && rows[1].contains("延期未获批准，办结时限不变"));

    let fx = key(&mut a, KeyCode::Enter);
    assert!(fx.contains(&Effect::FetchDetail(WhistleId(1011))), "{fx:?}");
    assert_eq!(a.view, View::Detail);
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('m'));
    assert_eq!(a.view, View::Notices);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Work, "back to its own work");
}

#[test]
fn a_community_is_told_a_fix_waits_for_it_and_the_inbox_key_points_here() {
    let mut c = community_app(Lang::En, 120, 40);
    let mut fixed = c
        .work
        .cases
        .iter()
        .find(|w| w.id.0 == 1014)
        .unwrap()
        .clone();
    fixed.status = shaozi_shared::WhistleStatus::Resolved;
    fixed.version += 1;
    update(
        &mut c,
        event_with_note("whistle.resolved", &fixed, 83, "cleared"),
    );
    assert!(status_line(&c).contains("✉ 1 new (m)"), "{}", render(&c));
    key(&mut c, KeyCode::Char('i'));
    let said = c.flash.clone().unwrap().text;
    assert!(said.contains("press m for notices"), "{said}");
    key(&mut c, KeyCode::Char('m'));
    assert!(render(&c).contains("W1014"), "{}", render(&c));
}

#[test]
fn notices_in_both_languages_80x24_and_120x40() {
    let shot = |lang, w, h| {
        let mut a = told_twice(lang, w, h);
        key(&mut a, KeyCode::Char('m'));
        render(&a)
    };
    let empty = {
        let mut a = department_app(Lang::Zh, 80, 24);
        key(&mut a, KeyCode::Char('m'));
        render(&a)
    };
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}\n{}",
        shot(Lang::Zh, 80, 24),
        shot(Lang::Zh, 120, 40),
        shot(Lang::En, 80, 24),
        shot(Lang::En, 120, 40),
        empty
    ));
}

/// Issue 28: a department called to assist after the dispatch is told where and by when to
/// report, and the notice stays.
#[test]
fn a_department_called_to_assist_later_is_told_where_and_by_when() {
    let mut a = department_app(Lang::Zh, 120, 40);
    let mut w = a.model.queue.get(WhistleId(1001)).unwrap().clone();
    let by = now() + chrono::Duration::hours(1);
    w.muster = Some(shaozi_shared::whistle::Muster {
        place: "朝阳路社区居委会".into(),
        at: by,
    });
    w.assisting = vec![shaozi_shared::DepartmentId(3)];
    w.calls = vec![shaozi_shared::whistle::Call::new(
        shaozi_shared::DepartmentId(3),
        shaozi_shared::whistle::CallRole::Assisting,
        by,
    )];
    w.version += 1;
    update(
        &mut a,
        event_with_note("whistle.assisting_changed", &w, 90, "需要住建到场"),
    );
    assert_eq!(
        a.flash.clone().unwrap().text,
        "W1001 请本部门协办：03:00:00 前到 朝阳路社区居委会 报到：需要住建到场"
    );
    assert_eq!(a.notices.unseen, 1);
}
