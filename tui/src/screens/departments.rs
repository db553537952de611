//! Load per department, busiest first: waiting to report for duty ░, in progress █, overdue.
//! Enter opens a department's cases.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::DepartmentId;

use super::{body, table_rows, Hints, Screen};
use crate::app::{App, Effect, View};
use crate::keys::Action;
use crate::list::ListView;
use crate::text::{fit, pad, width};
use crate::view::{loading, stale, Theme};

/// The departments' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepartmentsScreen {
    /// Its rows on screen.
    pub list: ListView,
}

fn len(app: &App) -> usize {
    app.model.stats.as_ref().map_or(0, |s| s.departments.len())
}

impl Screen for DepartmentsScreen {
    const TAB: usize = 1;

    fn fit(app: &mut App) {
        let rows = table_rows(body(app.size));
        let n = len(app);
        app.departments.list.set_rows(rows, n);
    }

    fn moved(app: &mut App, delta: isize, _action: Action) {
        let n = len(app);
        app.departments.list.moved(delta, n);
    }

    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
        if action != Action::Open {
            return None;
        }
        let dept = app
            .model
            .stats
            .as_ref()
            .and_then(|s| s.departments.get(app.departments.list.sel))
            .and_then(|d| d.id.parse::<DepartmentId>().ok());
        Some(match dept {
            Some(d) => app.open_cases(d),
            None => Vec::new(),
        })
    }

    fn entered(_app: &mut App) -> Vec<Effect> {
        vec![Effect::FetchStats]
    }

    fn hints(app: &App) -> Hints {
        Hints::Text(app.lang.t().hints.departments)
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
        let Some(stats) = &app.model.stats else {
            return loading(app, f, area);
        };
        let t = app.lang.t();
        // Names as wide as the longest (within reason); each number as wide as its header.
        let name_w = stats
            .departments
            .iter()
            .map(|d| width(&d.name))
            .max()
            .unwrap_or(18)
            .clamp(12, 24);
        let num_w = t
            .load
            .iter()
            .map(|l| width(l) + 2)
            .max()
            .unwrap_or(7)
            .max(7);
        let nums_w = num_w * 4;
        let bar_w = usize::from(area.width)
            .saturating_sub(name_w + nums_w + 2)
            .max(4);
        let max = stats
            .departments
            .iter()
            .map(|d| d.dispatched + d.acknowledged)
            .max()
            .unwrap_or(0)
            .max(1);
        let right = |s: &str| format!("{}{s}", " ".repeat(num_w.saturating_sub(width(s))));
        let legend = format!("░ {}  █ {}", t.load[0], t.load[1]);
        let header = format!(
            "{} {}{}{}{}{}",
            pad("", name_w),
            pad(&legend, bar_w),
            right(t.load[0]),
            right(t.load[1]),
            right(&format!("✗{}", t.load[2])),
            right(t.load[3])
        );
        let mut lines = vec![Line::from(Span::styled(
            fit(&header, usize::from(area.width)),
            Style::default().add_modifier(Modifier::BOLD),
        ))];
        let list = &app.departments.list;
        for i in list.window(table_rows(area), stats.departments.len()) {
            let d = &stats.departments[i];
            let scale = |n: i64| (n as usize * bar_w).div_ceil(max as usize);
            let waiting = scale(d.dispatched);
            let busy = scale(d.acknowledged).min(bar_w - waiting.min(bar_w));
            let nums = format!(
                "{:>w$}{:>w$}{:>w$}{:>w$}",
                d.dispatched,
                d.acknowledged,
                d.overdue,
                d.open,
                w = num_w
            );
            let mut spans = vec![
                Span::raw(pad(&d.name, name_w)),
                Span::raw(" "),
                Span::styled("░".repeat(waiting), theme.warn()),
                Span::styled("█".repeat(busy), theme.good()),
                Span::raw(" ".repeat(bar_w - waiting - busy)),
            ];
            spans.push(Span::styled(
                nums,
                if d.overdue > 0 {
                    theme.alert()
                } else {
                    Style::default()
                },
            ));
            let mut style = Style::default();
            if stale(app) {
                style = style.add_modifier(Modifier::DIM);
            }
            if i == list.sel {
                style = style.add_modifier(Modifier::REVERSED);
            }
            lines.push(Line::from(spans).style(style));
        }
        f.render_widget(Paragraph::new(lines), area);
    }
}

impl App {
    /// Opens a department's cases.
    pub(crate) fn open_cases(&mut self, d: DepartmentId) -> Vec<Effect> {
        self.view = View::DeptCases(d);
        self.cases.dept = Some(d);
        self.cases.cases.clear();
        self.cases.list.place(0, 0);
        vec![Effect::FetchDeptCases(d)]
    }
}
