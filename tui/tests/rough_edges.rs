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
fn draw(app: &shaozi_tui::app::App) -> String {
    let (w, h) = app.size;
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| shaozi_tui::view::draw(app, f)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut x = 0;
        while x < w {
            let sym = buf[(x, y)].symbol();
            out.push_str(sym);
            x += unicode_width::UnicodeWidthStr::width(sym).max(1) as u16;
        }
        out.push('\n');
    }
    out
}

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
    draw(&app);
    for _ in 0..30 {
        key(&mut app, KeyCode::PageDown);
        draw(&app);
    }
    let screen = draw(&app);
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
    let up = draw(&app);
    assert!(
        !up.contains("第39次催办") || up.contains("第19次催办"),
        "{up}"
    );
}
