//! One department's cases (dispatched, in progress, resolved), opened from the departments.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::{DepartmentId, Whistle, WhistleId, WhistleStatus};

use super::table::{header, row, Columns};
use super::{body, table_rows, Hints, Screen};
use crate::app::{App, Effect, View};
use crate::keys::Action;
use crate::list::ListView;
use crate::view::Theme;

/// A department's cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeptCasesScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// Whose cases they are.
    pub dept: Option<DepartmentId>,
    /// The cases, once loaded.
    pub cases: Vec<Whistle>,
}

/// Whether a case belongs on `dept`'s list: what the list's query asks the server for.
pub(crate) fn belongs(w: &Whistle, dept: DepartmentId) -> bool {
    w.department_id == Some(dept)
        && matches!(
            w.status,
            WhistleStatus::Dispatched | WhistleStatus::Acknowledged | WhistleStatus::Resolved
        )
}

/// Its title line takes the first row; the table the rest.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 1,
        height: body.height.saturating_sub(1),
        ..body
    }
}

impl DeptCasesScreen {
    /// A case changed (an event, or the answer to a step): updated where it is, and off the
    /// list when it no longer belongs there (reassigned away, closed). Newer versions only.
    pub fn changed(app: &mut App, w: &Whistle) {
        let Some(d) = app.cases.dept else {
            return;
        };
        let cases = &mut app.cases.cases;
        if let Some(i) = cases.iter().position(|c| c.id == w.id) {
            if cases[i].version > w.version {
                return;
            }
            if belongs(w, d) {
                cases[i] = w.clone();
            } else {
                cases.remove(i);
                let (sel, n) = (app.cases.list.sel, cases.len());
                app.cases.list.place(sel, n);
            }
        }
    }

    /// The cases of `dept` arrived (kept only if that department is still shown).
    pub fn loaded(app: &mut App, dept: DepartmentId, cases: Vec<Whistle>) {
        if app.view == View::DeptCases(dept) {
            app.cases.cases = cases;
            let (sel, n) = (app.cases.list.sel, app.cases.cases.len());
            app.cases.list.place(sel, n);
        }
    }
}

impl Screen for DeptCasesScreen {
    const TAB: usize = 1;

    fn fit(app: &mut App) {
        let rows = table_rows(table_area(body(app.size)));
        let n = app.cases.cases.len();
        app.cases.list.set_rows(rows, n);
    }

    fn moved(app: &mut App, delta: isize, _action: Action) {
        let n = app.cases.cases.len();
        app.cases.list.moved(delta, n);
    }

    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::Open => Some(match Self::current(app) {
                Some(id) => app.open_detail(id),
                None => Vec::new(),
            }),
            Action::Back => {
                app.view = View::Departments;
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn current(app: &App) -> Option<WhistleId> {
        app.cases.cases.get(app.cases.list.sel).map(|w| w.id)
    }

    fn hints(_app: &App) -> Hints {
        super::case_hints()
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
        let View::DeptCases(d) = app.view else {
            return;
        };
        let cols = Columns::new(app, area.width);
        let name = app.model.dir.department(Some(d));
        let n = app.cases.cases.len();
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("{name} · {n}"),
                Style::default().add_modifier(Modifier::BOLD),
            ))),
            Rect { height: 1, ..area },
        );
        app.cases.list.table(
            f,
            table_area(area),
            header(app, &cols),
            cols.constraints(),
            1,
            n,
            |i, selected| {
                let w = app.cases.cases.get(i)?;
                Some(row(app, w, &cols, theme, selected))
            },
        );
    }
}
