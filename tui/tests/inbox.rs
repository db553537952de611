//! The dispatcher's inbox (issue 27): returns to decide, requests for more time, cases about to
//! breach and fixes waiting for a call-back, each a section with its count, followed live.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::case::{ExtensionRequest, ReturnRequest};
use shaozi_shared::{DepartmentId, Whistle, WhistleId, WhistleStatus};
use shaozi_tui::app::{update, App, Effect, Msg, View};
use shaozi_tui::i18n::Lang;

/// The queue with W1003 returned by 路灯 (D2); W1011 (住建局) asks for three more days; W1013 is
/// fixed and nobody called the resident yet.
fn inbox(lang: Lang, w: u16, h: u16) -> App {
    let mut a = app(lang, w, h);
    let mut returned = a.model.queue.get(WhistleId(1003)).unwrap().clone();
    returned.status = WhistleStatus::Returned;
    returned.department_id = Some(DepartmentId(2));
    returned.pending_return = Some(ReturnRequest {
        department_id: DepartmentId(2),
        at: now() - Duration::minutes(5),
        reason: "该路段路灯归开发区管理".into(),
    });
    returned.version += 1;
    update(&mut a, event("whistle.returned", &returned, 60));
    let fx = key(&mut a, KeyCode::Char('i'));
    assert_eq!(a.view, View::Inbox);
    assert_eq!(
        fx,
        vec![Effect::FetchInbox],
        "opening it loads what the queue lacks"
    );
    update(&mut a, Msg::Inbox(Ok((vec![asking()], vec![fixed()]))));
    a
}

fn asking() -> Whistle {
    let mut w = open_cases()
        .into_iter()
        .find(|w| w.id == WhistleId(1011))
        .unwrap();
    w.pending_extension = Some(ExtensionRequest {
        until: w.resolve_by + Duration::days(3),
        reason: "需更换整栋楼的排水管".into(),
        at: now() - Duration::minutes(20),
        was_late: false,
    });
    w.version += 1;
    w
}

fn fixed() -> Whistle {
    open_cases()
        .into_iter()
        .find(|w| w.id == WhistleId(1013))
        .unwrap()
}

fn ids(a: &App) -> Vec<u64> {
    a.inbox.rows.iter().map(|(_, w)| w.id.0).collect()
}

#[test]
fn the_inbox_in_both_languages_80x24_and_120x40() {
    let zh = (
        render(&inbox(Lang::Zh, 80, 24)),
        render(&inbox(Lang::Zh, 120, 40)),
    );
    let en = (
        render(&inbox(Lang::En, 80, 24)),
        render(&inbox(Lang::En, 120, 40)),
    );
    assert!(
        zh.0.contains("退单待定 1 · 延期待批 1 · 即将超时 1 · 待回访 1"),
        "{}",
        zh.0
    );
    insta::assert_snapshot!(format!("{}\n{}\n{}\n{}", zh.0, zh.1, en.0, en.1));
}

#[test]
fn each_section_holds_what_waits_and_follows_it_live() {
    let mut a = inbox(Lang::Zh, 120, 40);
    // Returns, then more time asked, then about to breach (W1002: 20 minutes left), then
    // call-backs.
    assert_eq!(ids(&a), vec![1003, 1011, 1002, 1013]);
    // A step is taken on the selected row: the return is overruled from here.
    key(&mut a, KeyCode::Char('g'));
    let fx = key(&mut a, KeyCode::Char('v'));
    assert!(fx.is_empty());
    assert!(matches!(
        a.prompt,
        Some(shaozi_tui::prompt::Prompt::Text { .. })
    ));
    key(&mut a, KeyCode::Esc);
    // The extension granted elsewhere leaves; the resident called back leaves too.
    let mut granted = asking();
    granted.pending_extension = None;
    granted.version += 1;
    update(&mut a, event("whistle.extension_granted", &granted, 61));
    let mut called = fixed();
    called.callbacks = vec![shaozi_shared::case::CallBack {
        at: now(),
        reached: true,
        satisfaction: Some(5),
        note: "满意".into(),
    }];
    called.version += 1;
    update(&mut a, event("whistle.called_back", &called, 62));
    assert_eq!(ids(&a), vec![1003, 1002]);
    // A new request arrives live.
    let mut another = open_cases()
        .into_iter()
        .find(|w| w.id == WhistleId(1012))
        .unwrap();
    another.pending_extension = asking().pending_extension;
    another.version += 1;
    update(&mut a, event("whistle.extension_requested", &another, 63));
    assert_eq!(ids(&a), vec![1003, 1012, 1002]);
    // Enter opens the case; Esc comes back to the inbox.
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.view, View::Detail);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Inbox);
}

#[test]
fn the_inbox_is_the_dispatchers() {
    let mut a = department_app(Lang::Zh, 120, 40);
    let fx = key(&mut a, KeyCode::Char('i'));
    assert!(fx.is_empty());
    assert_ne!(a.view, View::Inbox);
    assert!(
        a.flash.as_ref().unwrap().text.contains("待办是调度员的")
            && a.flash.as_ref().unwrap().text.contains("按 m 看通知"),
        "{:?}",
        a.flash
    );
}
