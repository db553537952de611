//! The dashboard's screens, one file each. A screen is a value that owns its state (a
//! [`ListView`] when it lists rows): its functions get that state and a read-only
//! [`Context`] of what every screen shares, and answer with [`Out`]s (a message, a prompt,
//! another screen, work for the runtime). No screen imports the app or another screen; the app
//! holds one of each and routes a key to the one shown (`crate::app::route`).
//!
//! [`ListView`]: crate::list::ListView
//! [`Out`]: crate::message::Out

pub mod assessment;
pub mod departments;
pub mod dept_cases;
pub mod detail;
pub mod inbox;
pub mod notices;
pub mod queue;
pub mod search;
pub mod table;
pub mod trends;
pub mod webhooks;
pub mod wishes;
pub mod work;

use ratatui::layout::Rect;
use ratatui::Frame;

use shaozi_shared::api::Step;
use shaozi_shared::WhistleId;

use crate::context::Context;
use crate::keys::Action;
use crate::message::Out;
use crate::view::Theme;

/// What a screen's hint line offers: keys (from the live keymap, only the steps the token may
/// take), or fixed words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hints {
    /// These actions, each with its key.
    Keys(Vec<Action>),
    /// These words.
    Text(&'static str),
}

/// One screen of the dashboard.
pub trait Screen {
    /// Its tab in the title line (0 the queue … 4 the assessment, 5 the webhooks).
    fn tab(&self) -> usize;

    /// Sets how many rows its list shows on a terminal of `cx.size`, from the same layout its
    /// drawing uses.
    fn fit(&mut self, cx: &Context);

    /// Moves within it (up, down, a page, the top or the bottom: `delta` rows).
    fn moved(&mut self, cx: &Context, delta: isize, action: Action);

    /// What its own keys do (opening a row, backing out, its own commands); `None` when the
    /// action is not one of its own.
    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>>;

    /// The data it needs when it is shown.
    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        Vec::new()
    }

    /// The whistle a step taken here is about.
    fn current(&self) -> Option<WhistleId> {
        None
    }

    /// What its hint line offers.
    fn hints(&self, cx: &Context) -> Hints;

    /// Draws it in `area` (between the title line and the status line).
    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme);
}

/// What a list of cases offers (the queue and a department's cases): the dispatcher's steps,
/// opening, filtering and marking.
pub fn case_hints() -> Hints {
    let step = Action::Step;
    Hints::Keys(vec![
        step(Step::Dispatch),
        step(Step::Acknowledge),
        step(Step::Reject),
        step(Step::Escalate),
        Action::Open,
        Action::New,
        Action::ViewInbox,
        Action::Filter,
        Action::Mark,
        Action::Command,
        Action::Help,
        Action::Quit,
    ])
}

/// The screens' body: the terminal less the title line above and the status and hint lines
/// below (what drawing gives a screen).
pub fn body(size: (u16, u16)) -> Rect {
    Rect {
        x: 0,
        y: 1,
        width: size.0,
        height: size.1.saturating_sub(3),
    }
}

/// Rows a table in `area` shows under its header line.
pub fn table_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(1))
}
