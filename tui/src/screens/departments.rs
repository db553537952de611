//! Load per department, busiest first: waiting to report for duty ░, in progress █, overdue.
//! Enter opens a department's cases.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::DepartmentId;

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::text::{fit, pad, width};
use crate::view::{loading, Theme};

/// The departments' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepartmentsScreen {
    /// Its rows on screen.
    pub list: ListView,
}

fn len(cx: &Context) -> usize {
    cx.model.stats.as_ref().map_or(0, |s| s.departments.len())
}

impl Screen for DepartmentsScreen {
    fn tab(&self) -> usize {
        1
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(body(cx.size));
        self.list.set_rows(rows, len(cx));
    }

    fn moved(&mut self, cx: &Context, delta: isize, _action: Action) {
        self.list.moved(delta, len(cx));
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        if action != Action::Open {
            return None;
        }
        let dept = cx
            .model
            .stats
            .as_ref()
            .and_then(|s| s.departments.get(self.list.sel))
            .and_then(|d| d.id.parse::<DepartmentId>().ok());
        Some(dept.map(Out::OpenCases).into_iter().collect())
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        vec![Out::Fx(Effect::FetchStats)]
    }

    fn hints(&self, cx: &Context) -> Hints {
        // Nothing to open on an empty board: only what works.
        if len(cx) == 0 {
            return Hints::Keys(vec![Action::NextView, Action::Help, Action::Quit]);
        }
        Hints::Text(cx.lang.t().hints.departments)
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let Some(stats) = &cx.model.stats else {
            return loading(cx.lang, f, area);
        };
        let t = cx.lang.t();
        if stats.departments.is_empty() {
            let msg = match (cx.me.map(|m| m.role), cx.lang) {
                (Some(shaozi_shared::Role::Community), Lang::Zh) => {
                    "部门的负荷由调度中心查看；本社区的哨件在 1 本社区。"
                }
                (Some(shaozi_shared::Role::Community), Lang::En) => {
                    "Departments' loads are the dispatchers'; your community's cases are on 1."
                }
                (_, Lang::Zh) => "还没有部门。",
                (_, Lang::En) => "No departments yet.",
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.muted()))),
                Rect { height: 1, ..area },
            );
            return;
        }
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
        let list = &self.list;
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
            if cx.stale() {
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
