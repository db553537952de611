//! The queue table and a department's cases: rows are built only for the visible window.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use shaozi_shared::{DepartmentId, Urgency, Whistle, WhistleId};

use super::{short_span, stale, Theme};
use crate::app::App;
use crate::i18n::Lang;
use crate::text::fit;

/// Column widths: mark, urgency, id, age, left, community, category, title, department.
fn widths(total: u16) -> [u16; 9] {
    let (comm, cat, dept) = if total >= 120 {
        (14, 10, 16)
    } else {
        (10, 8, 12)
    };
    let fixed = 1 + 2 + 6 + 5 + 6 + comm + cat + dept + 8;
    [
        1,
        2,
        6,
        5,
        6,
        comm,
        cat,
        total.saturating_sub(fixed).max(8),
        dept,
    ]
}

fn row<'a>(app: &App, w: &Whistle, cols: &[u16; 9], theme: Theme, selected: bool) -> Row<'a> {
    let dir = &app.model.dir;
    let mark = if app.marked.contains(&w.id) {
        "*"
    } else if app.new_ids.contains(&w.id) {
        "+"
    } else {
        " "
    };
    let urg = match (w.urgency, app.lang) {
        (Urgency::Urgent, Lang::Zh) => "急",
        (Urgency::Urgent, Lang::En) => "!!",
        _ => "",
    };
    let age = short_span(app.now - w.created_at);
    let left_d = w.stage_deadline().map(|d| d - app.now);
    let (left, left_style) = match left_d {
        Some(d) if w.overdue || d < chrono::Duration::zero() => {
            (format!("✗{}", short_span(d)), theme.alert())
        }
        Some(d) if d < chrono::Duration::minutes(10) => (short_span(d), theme.warn()),
        Some(d) => (short_span(d), Style::default()),
        None => (String::new(), Style::default()),
    };
    let c = |i: usize| usize::from(cols[i]);
    let cells = vec![
        Span::styled(mark, theme.warn()),
        Span::styled(
            urg,
            if w.urgency == Urgency::Urgent {
                theme.alert()
            } else {
                Style::default()
            },
        ),
        Span::raw(w.id.to_string()),
        Span::raw(age),
        Span::styled(left, left_style),
        Span::raw(fit(&dir.community(w.community_id), c(5))),
        Span::raw(fit(&dir.category(&w.category, app.lang), c(6))),
        Span::raw(fit(&w.title, c(7))),
        Span::raw(fit(&dir.department(w.department_id), c(8))),
    ];
    let mut style = Style::default();
    if stale(app) {
        style = style.add_modifier(Modifier::DIM);
    }
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Row::new(cells).style(style)
}

fn table<'a>(app: &App, rows: Vec<Row<'a>>, cols: &[u16; 9], area: Rect, f: &mut Frame) {
    let t = app.lang.t();
    let header = Row::new(
        std::iter::once("")
            .chain(t.cols.iter().copied())
            .map(|h| Span::styled(h, Style::default().add_modifier(Modifier::BOLD))),
    );
    let table = Table::new(rows, cols.map(Constraint::Length))
        .header(header)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// The unanswered queue.
pub fn queue(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let cols = widths(area.width);
    let rows = app.rows();
    if app.loaded && rows.is_empty() {
        let msg = if app.filter.is_empty() {
            app.lang.t().queue_empty.to_string()
        } else {
            format!("{}: {}", app.lang.t().filter, app.filter_text)
        };
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(msg, theme.good()))),
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
        table(app, Vec::new(), &cols, Rect { height: 1, ..area }, f);
        return;
    }
    let h = usize::from(area.height.saturating_sub(1));
    let start = app.qcur.offset.min(rows.len());
    let end = (start + h).min(rows.len());
    let built: Vec<Row> = rows[start..end]
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            app.model
                .queue
                .get(WhistleId(k.id))
                .map(|w| row(app, w, &cols, theme, start + i == app.qcur.sel))
        })
        .collect();
    table(app, built, &cols, area, f);
}

/// One department's cases.
pub fn dept_cases(app: &App, d: DepartmentId, f: &mut Frame, area: Rect, theme: Theme) {
    let cols = widths(area.width);
    let name = app.model.dir.department(Some(d));
    let title = Rect { height: 1, ..area };
    let n = app.dept_cases.len();
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            format!("{name} · {n}"),
            Style::default().add_modifier(Modifier::BOLD),
        ))),
        title,
    );
    let rest = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let h = usize::from(rest.height.saturating_sub(1));
    let start = app.ccur.offset.min(n);
    let end = (start + h).min(n);
    let built = app.dept_cases[start..end]
        .iter()
        .enumerate()
        .map(|(i, w)| row(app, w, &cols, theme, start + i == app.ccur.sel))
        .collect();
    table(app, built, &cols, rest, f);
}
