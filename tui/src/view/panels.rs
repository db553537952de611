//! Departments (load as bars), wishes (gauges and per community) and a whistle's detail.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::{local_time, stale, Theme};
use crate::app::App;
use crate::i18n::Lang;
use crate::text::{fit, pad, width};

fn loading(app: &App, f: &mut Frame, area: Rect) {
    f.render_widget(
        Paragraph::new(app.lang.t().loading),
        Rect { height: 1, ..area },
    );
}

/// Load per department, busiest first: waiting ░, in progress █, and the overdue count.
pub fn departments(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let Some(stats) = &app.model.stats else {
        return loading(app, f, area);
    };
    let t = app.lang.t();
    let name_w = 18usize;
    let num_w = 7usize;
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
    let h = usize::from(area.height.saturating_sub(1));
    let start = app.dcur.offset.min(stats.departments.len());
    for (i, d) in stats.departments.iter().enumerate().skip(start).take(h) {
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
        if i == app.dcur.sel {
            style = style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::from(spans).style(style));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn yuan(fen: i64) -> String {
    let y = fen / 100;
    let s = y.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("¥{out}")
}

/// Wish totals as gauges, then per community.
pub fn wishes(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let Some(stats) = &app.model.stats else {
        return loading(app, f, area);
    };
    let t = app.lang.t();
    let w = &stats.wishes.totals;
    let ratio = |a: i64, b: i64| {
        if b > 0 {
            (a as f64 / b as f64).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let gauges = [
        (
            format!("{} {}/{}", t.wishes[1], w.claimed, w.total),
            ratio(w.claimed, w.total),
        ),
        (
            format!("{} {}/{}", t.wishes[2], w.completed, w.total),
            ratio(w.completed, w.total),
        ),
        (
            format!(
                "{} {} / {}",
                t.wishes[3],
                yuan(w.value_completed_fen),
                yuan(w.value_total_fen)
            ),
            ratio(w.value_completed_fen, w.value_total_fen),
        ),
    ];
    for (i, (label, r)) in gauges.into_iter().enumerate() {
        let g = Gauge::default()
            .ratio(r)
            .label(label)
            .gauge_style(theme.good())
            .use_unicode(true);
        f.render_widget(
            g,
            Rect {
                y: area.y + i as u16,
                height: 1,
                ..area
            },
        );
    }
    let table_area = Rect {
        y: area.y + 4,
        height: area.height.saturating_sub(4),
        ..area
    };
    let header = Row::new(vec![
        Span::styled(
            if app.lang == Lang::Zh {
                "社区"
            } else {
                "Community"
            },
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(t.wishes[0]),
        Span::raw(t.wishes[1]),
        Span::raw(t.wishes[2]),
        Span::raw(t.wishes[3]),
    ]);
    let h = usize::from(table_area.height.saturating_sub(1));
    let list = &stats.wishes.by_community;
    let start = app.wcur.offset.min(list.len());
    let rows: Vec<Row> = list
        .iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(i, c)| {
            let style = if i == app.wcur.sel {
                theme.selected()
            } else {
                Style::default()
            };
            Row::new(vec![
                fit(&c.name, 16),
                c.totals.total.to_string(),
                c.totals.claimed.to_string(),
                c.totals.completed.to_string(),
                yuan(c.totals.value_completed_fen),
            ])
            .style(style)
        })
        .collect();
    let widths = [16, 8, 8, 8, 14].map(Constraint::Length);
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(2),
        table_area,
    );
}

/// Everything about one whistle, then its timeline.
pub fn detail(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let Some((id, data)) = &app.detail else {
        f.render_widget(
            Paragraph::new(app.lang.t().nothing),
            Rect { height: 1, ..area },
        );
        return;
    };
    let Some(d) = data else {
        f.render_widget(
            Paragraph::new(format!("{id} · {}", app.lang.t().loading)),
            Rect { height: 1, ..area },
        );
        return;
    };
    let t = app.lang.t();
    let zh = app.lang == Lang::Zh;
    let w = &d.whistle;
    let dir = &app.model.dir;
    let label_w = t.detail.fields.iter().map(|l| width(l)).max().unwrap_or(8) + 1;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(vec![Span::styled(format!("{}  {}", w.id, w.title), bold)]),
        Line::from(w.description.clone()),
    ];
    let deadline = |due: chrono::DateTime<chrono::Utc>| {
        let left = due - app.now;
        let rel = if left < chrono::Duration::zero() {
            format!("✗ {}", super::short_span(left))
        } else {
            super::short_span(left)
        };
        format!("{}  ({rel})", local_time(due, app.now, app.tz))
    };
    let assisting: Vec<String> = w
        .assisting
        .iter()
        .map(|a| dir.department(Some(*a)))
        .collect();
    // The category's questions, answered with the choices' names where it has them.
    let questions = dir
        .categories
        .iter()
        .find(|c| c.code == w.category)
        .map(|c| c.questions.as_slice())
        .unwrap_or_default();
    let answers: Vec<String> = w
        .attributes
        .iter()
        .map(|(code, values)| {
            let q = questions.iter().find(|q| &q.code == code);
            let shown: Vec<&str> = values
                .iter()
                .map(|v| {
                    q.and_then(|q| q.values.iter().find(|c| &c.key == v))
                        .map_or(v.as_str(), |c| c.name.as_str())
                })
                .collect();
            format!("{code}: {}", shown.join("、"))
        })
        .collect();
    let resident = w
        .reporter
        .as_ref()
        .map(|r| {
            [&r.name, &r.phone, &r.email]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .unwrap_or_default();
    let values: [String; 17] = [
        t.status(w.status).to_string() + if w.overdue { " ✗" } else { "" },
        t.urgency[usize::from(w.urgency != shaozi_shared::Urgency::Urgent)].to_string(),
        dir.category(&w.category, app.lang),
        dir.community(w.community_id),
        dir.street(w.street_id),
        dir.department(w.department_id),
        assisting.join("、"),
        w.address.clone().unwrap_or_default(),
        deadline(w.respond_by)
            + if w.respond_late {
                if zh {
                    " 迟报"
                } else {
                    " late"
                }
            } else {
                ""
            },
        deadline(w.resolve_by)
            + if w.resolve_late {
                if zh {
                    " 超期"
                } else {
                    " late"
                }
            } else {
                ""
            },
        format!("{} ({})", w.escalation_level, t.level(w.escalation_level)),
        w.staff.join("、"),
        w.reply.clone().unwrap_or_default(),
        w.satisfaction
            .map(|s| "★".repeat(usize::from(s)))
            .unwrap_or_default(),
        answers.join("；"),
        w.media_url.clone().unwrap_or_default(),
        resident,
    ];
    for (label, value) in t.detail.fields.iter().zip(values) {
        if value.is_empty() {
            continue;
        }
        let style = if value.contains('✗') {
            theme.alert()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(pad(label, label_w), theme.muted()),
            Span::styled(value, style),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(t.detail.timeline, bold)));
    for e in &d.timeline {
        let mut spans = vec![
            Span::styled(
                format!("{}  ", local_time(e.at, app.now, app.tz)),
                theme.muted(),
            ),
            Span::styled(
                format!("{:<6}", t.event(e.kind, zh)),
                if e.kind.as_str().ends_with("overdue") {
                    theme.alert()
                } else {
                    bold
                },
            ),
            Span::raw(format!("  {}", e.actor.name)),
        ];
        if let Some(n) = &e.note {
            spans.push(Span::raw(format!("：{n}")));
        }
        lines.push(Line::from(spans));
    }
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll.min(u16::MAX as usize) as u16, 0));
    f.render_widget(p, area);
}
