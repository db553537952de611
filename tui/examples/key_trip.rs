//! One key press, to follow with a debugger: sets the dashboard up (the tests' demo data),
//! then sends one key between `trip_start` and `trip_end`, so a breakpoint on every function
//! of the crate between the two lists the key's trip (docs/ARCHITECTURE.md says how).
//!
//! `cargo run -p shaozi-tui --example key_trip -- wishes-open | wishes-filter | dispatch-open |
//! dispatch-send`

// The tests' demo data, as the tests use it (a fixture may unwrap).
#[path = "../tests/common/mod.rs"]
#[allow(clippy::unwrap_used)]
mod common;

use crossterm::event::KeyCode;
use shaozi_tui::app::{update, Msg};
use shaozi_tui::i18n::Lang;

#[inline(never)]
#[no_mangle]
pub extern "C" fn trip_start() {
    std::hint::black_box(());
}

#[inline(never)]
#[no_mangle]
pub extern "C" fn trip_end() {
    std::hint::black_box(());
}

/// Selects the first whistle nobody was called for yet (dispatching it asks no reason).
fn new_first(app: &mut shaozi_tui::app::App) {
    for _ in 0..app.rows().len() {
        if app
            .selected()
            .is_some_and(|w| w.status == shaozi_shared::WhistleStatus::New)
        {
            return;
        }
        common::key(app, KeyCode::Down);
    }
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let mut app = common::app(Lang::Zh, 120, 40);
    let last = match which.as_str() {
        "wishes-open" | "wishes-filter" => {
            common::key(&mut app, KeyCode::Char('3'));
            update(&mut app, Msg::Wishes(common::wishes()));
            if which == "wishes-filter" {
                common::key(&mut app, KeyCode::Char('/'));
                KeyCode::Char('x')
            } else {
                KeyCode::Enter
            }
        }
        "dispatch-open" => {
            new_first(&mut app);
            KeyCode::Char('a')
        }
        "dispatch-send" => {
            new_first(&mut app);
            common::key(&mut app, KeyCode::Char('a'));
            KeyCode::Enter
        }
        other => {
            eprintln!(
                "unknown trip {other:?}: wishes-open, wishes-filter, dispatch-open, dispatch-send"
            );
            std::process::exit(2);
        }
    };
    trip_start();
    let fx = common::key(&mut app, last);
    trip_end();
    println!(
        "{which}: {} effect(s): {fx:?}; prompt open: {}; said: {:?}",
        fx.len(),
        app.prompt.is_some(),
        app.flash.map(|f| f.text)
    );
}
