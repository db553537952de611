//! One department's cases (dispatched, in progress, resolved), opened from the departments.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::{DepartmentId, Whistle, WhistleId, WhistleStatus};

use super::table::{header, row, Columns, Marks};
use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out, View};
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
    /// Opens a department's cases (empty until they arrive).
    pub fn open(&mut self, d: DepartmentId) -> Vec<Effect> {
        self.dept = Some(d);
        self.cases.clear();
        self.list.place(0, 0);
        vec![Effect::FetchDeptCases(d)]
    }

    /// A case changed.
    pub fn changed(&mut self, w: &Whistle) {
        let Some(d) = self.dept else {
            return;
        };
        let cases = &mut self.cases;
        if let Some(i) = cases.iter().position(|c| c.id == w.id) {
            if cases[i].version > w.version {
                return;
            }
            if belongs(w, d) {
                cases[i] = w.clone();
            } else {
                cases.remove(i);
                let (sel, n) = (self.list.sel, cases.len());
                self.list.place(sel, n);
            }
        }
    }

    /// A department's cases arrived (kept only while they are the ones shown).
    pub fn loaded(&mut self, shown: View, dept: DepartmentId, cases: Vec<Whistle>) {
        if shown == View::DeptCases(dept) {
            self.cases = cases;
            let (sel, n) = (self.list.sel, self.cases.len());
            self.list.place(sel, n);
        }
    }
}

impl Screen for DeptCasesScreen {
    fn tab(&self) -> usize {
        1
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.cases.len();
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.cases.len();
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.current().map(Out::OpenDetail).into_iter().collect()),
            Action::Back => Some(vec![Out::Show(View::Departments)]),
            Action::Export => {
                let what = self
                    .dept
                    .map_or("department".to_string(), |d| d.to_string());
                Some(vec![crate::export::ledger(cx, &what, &self.cases)])
            }
            _ => None,
        }
    }

    fn current(&self) -> Option<WhistleId> {
        self.cases.get(self.list.sel).map(|w| w.id)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        super::case_hints()
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let View::DeptCases(d) = cx.view else {
            return;
        };
        let cols = Columns::new(cx, area.width);
        let name = cx.model.dir.department(Some(d));
        let n = self.cases.len();
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("{name} · {n}"),
                Style::default().add_modifier(Modifier::BOLD),
            ))),
            Rect { height: 1, ..area },
        );
        let marks = Marks::of(cx);
        self.list.table(
            f,
            table_area(area),
            header(cx, &cols),
            cols.constraints(),
            1,
            n,
            |i, selected| {
                let w = self.cases.get(i)?;
                Some(row(cx, marks, w, &cols, theme, selected))
            },
        );
    }
}
