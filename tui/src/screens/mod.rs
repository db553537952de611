//! The dashboard's screens, one file each. A screen owns its state (a [`ListView`] when it lists
//! rows), says what its own keys do, which keys its hint line offers and which tab it is, and
//! draws itself. [`App`] holds one of each and shows the one `app.view` names; [`on_screen!`]
//! is the only place that chooses between them.
//!
//! [`ListView`]: crate::list::ListView

pub mod assessment;
pub mod departments;
pub mod dept_cases;
pub mod detail;
pub mod queue;
pub mod table;
pub mod webhooks;
pub mod wishes;
pub mod work;

use ratatui::layout::Rect;
use ratatui::Frame;

use shaozi_shared::api::Step;
use shaozi_shared::WhistleId;

use crate::app::{App, Effect};
use crate::keys::Action;
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

/// One screen of the dashboard. Its functions take the whole [`App`]: the screen's own state is
/// its field there, beside the data every screen reads (the model, the language, the clock).
pub trait Screen {
    /// Its tab in the title line (0 the queue … 4 the assessment, 5 the webhooks).
    const TAB: usize;

    /// Sets how many rows its list shows on a terminal of `app.size`, from the same layout
    /// its drawing uses.
    fn fit(app: &mut App);

    /// Moves within it (up, down, a page, the top or the bottom: `delta` rows).
    fn moved(app: &mut App, delta: isize, action: Action);

    /// What its own keys do (opening a row, backing out, its own commands); `None` when the
    /// action is not one of its own.
    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>>;

    /// The data it needs when it is shown.
    fn entered(_app: &mut App) -> Vec<Effect> {
        Vec::new()
    }

    /// The whistle a step taken here is about.
    fn current(_app: &App) -> Option<WhistleId> {
        None
    }

    /// What its hint line offers.
    fn hints(app: &App) -> Hints;

    /// Draws it in `area` (between the title line and the status line).
    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme);
}

/// Runs `$body` with `$S` standing for the screen `$view` names.
#[macro_export]
macro_rules! on_screen {
    ($view:expr, $S:ident => $body:expr) => {{
        use $crate::screens::Screen as _;
        match $view {
            $crate::app::View::Queue => {
                type $S = $crate::screens::queue::QueueScreen;
                $body
            }
            $crate::app::View::Work => {
                type $S = $crate::screens::work::WorkScreen;
                $body
            }
            $crate::app::View::Departments => {
                type $S = $crate::screens::departments::DepartmentsScreen;
                $body
            }
            $crate::app::View::DeptCases(_) => {
                type $S = $crate::screens::dept_cases::DeptCasesScreen;
                $body
            }
            $crate::app::View::Wishes => {
                type $S = $crate::screens::wishes::WishesScreen;
                $body
            }
            $crate::app::View::Detail => {
                type $S = $crate::screens::detail::DetailScreen;
                $body
            }
            $crate::app::View::Assessment => {
                type $S = $crate::screens::assessment::AssessmentScreen;
                $body
            }
            $crate::app::View::Webhooks => {
                type $S = $crate::screens::webhooks::WebhooksScreen;
                $body
            }
        }
    }};
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
        Action::Filter,
        Action::Mark,
        Action::Command,
        Action::Help,
        Action::Quit,
    ])
}

/// Fits every screen's list to the terminal (after a resize).
pub fn fit_all(app: &mut App) {
    queue::QueueScreen::fit(app);
    work::WorkScreen::fit(app);
    departments::DepartmentsScreen::fit(app);
    dept_cases::DeptCasesScreen::fit(app);
    wishes::WishesScreen::fit(app);
    detail::DetailScreen::fit(app);
    assessment::AssessmentScreen::fit(app);
    webhooks::WebhooksScreen::fit(app);
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
