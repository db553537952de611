//! The Assessment view: units ranked by how they answered, sortable by any column, with
//! sparklines of whistles filed and closed per day.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table};
use ratatui::Frame;

use super::Theme;
use crate::app::App;
use crate::assess::{Period, COLUMNS};
use crate::i18n::Lang;
use crate::text::fit;

/// Draws the Assessment view.
pub fn assessment(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let zh = app.lang == Lang::Zh;
    let (from, to) = app.assess.period.range(app.now, app.tz);
    let period = match (app.assess.period, zh) {
        (Period::Today, true) => "今日".to_string(),
        (Period::Week, true) => "本周".to_string(),
        (Period::Month, true) => "本月".to_string(),
        (Period::Today, false) => "today".to_string(),
        (Period::Week, false) => "this week".to_string(),
        (Period::Month, false) => "this month".to_string(),
        (Period::Custom(..), _) => String::new(),
    };
    let sort = &COLUMNS[app.assess.sort.min(COLUMNS.len() - 1)];
    let head = if zh {
        format!("考核 {period} {from} 至 {to} · 按「{}」排序", sort.zh)
    } else {
        format!("Assessment {period} {from} to {to} · sorted by {}", sort.en)
    };
    f.render_widget(
        Paragraph::new(Span::styled(
            fit(&head, usize::from(area.width)),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Rect { height: 1, ..area },
    );
    let Some(data) = &app.assess.data else {
        f.render_widget(
            Paragraph::new(app.lang.t().loading),
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
        return;
    };
    // Filed and closed per day, side by side.
    let half = area.width / 2;
    let label_w = 10u16;
    for (i, (label, values)) in [
        (
            if zh { "吹哨/日" } else { "filed/day" },
            data.daily
                .iter()
                .map(|d| d.filed.max(0) as u64)
                .collect::<Vec<_>>(),
        ),
        (
            if zh { "关闭/日" } else { "closed/day" },
            data.daily
                .iter()
                .map(|d| d.closed.max(0) as u64)
                .collect::<Vec<_>>(),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let x = area.x + half * i as u16;
        let total: u64 = values.iter().sum();
        let text = format!("{label} {total}");
        f.render_widget(
            Paragraph::new(fit(&text, usize::from(label_w) + 4)),
            Rect {
                x,
                y: area.y + 1,
                width: label_w + 4,
                height: 1,
            },
        );
        let spark_w = half.saturating_sub(label_w + 5);
        let shown: Vec<u64> = values
            .iter()
            .rev()
            .take(usize::from(spark_w))
            .rev()
            .copied()
            .collect();
        f.render_widget(
            Sparkline::default().data(&shown).style(theme.good()),
            Rect {
                x: x + label_w + 4,
                y: area.y + 1,
                width: spark_w,
                height: 2,
            },
        );
    }
    let table_area = Rect {
        y: area.y + 3,
        height: area.height.saturating_sub(3),
        ..area
    };
    let wide = area.width >= 110;
    let cols: Vec<(usize, &crate::assess::Column)> = COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, c)| wide || c.narrow)
        .collect();
    let header = Row::new(cols.iter().map(|(i, c)| {
        let name = if zh { c.zh } else { c.en };
        let (text, style) = if *i == app.assess.sort {
            (
                format!("{name}{}", if c.ascending { "↑" } else { "↓" }),
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            )
        } else {
            (
                name.to_string(),
                Style::default().add_modifier(Modifier::BOLD),
            )
        };
        Span::styled(text, style)
    }));
    let units = app.assess.sorted();
    let h = usize::from(table_area.height.saturating_sub(1));
    let cur = app.assess.cursor;
    let rows: Vec<Row> = units
        .iter()
        .enumerate()
        .skip(cur.offset)
        .take(h)
        .map(|(i, u)| {
            let cells: Vec<Span> = cols
                .iter()
                .map(|(_, c)| Span::raw(fit(&(c.text)(u), usize::from(c.width))))
                .collect();
            let mut style = Style::default();
            if u.score.is_none() {
                style = style.add_modifier(Modifier::DIM);
            }
            if i == cur.sel {
                style = style.add_modifier(Modifier::REVERSED);
            }
            if u.overdue_now > 0 && i != cur.sel {
                style = style.patch(theme.alert()).remove_modifier(Modifier::BOLD);
            }
            Row::new(cells).style(style)
        })
        .collect();
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|(_, c)| Constraint::Length(c.width))
        .collect();
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if units.is_empty() {
        let msg = if zh {
            "此期间没有单位"
        } else {
            "no units in this period"
        };
        f.render_widget(
            Paragraph::new(Line::from(msg)),
            Rect {
                y: table_area.y + 1,
                height: 1,
                ..table_area
            },
        );
    }
}
