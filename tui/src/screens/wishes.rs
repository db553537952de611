//! Residents' micro-wishes: totals as gauges, then per community.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Gauge, Row};
use ratatui::Frame;

use super::{body, table_rows, Hints, Screen};
use crate::app::{App, Effect};
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::text::fit;
use crate::view::{loading, Theme};

/// The wishes' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WishesScreen {
    /// The communities' rows on screen.
    pub list: ListView,
}

/// Three gauges and a blank line above the table.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 4,
        height: body.height.saturating_sub(4),
        ..body
    }
}

fn len(app: &App) -> usize {
    app.model
        .stats
        .as_ref()
        .map_or(0, |s| s.wishes.by_community.len())
}

/// A sum of fen as whole yuan with thousands separated: `¥12,300`.
pub(crate) fn yuan(fen: i64) -> String {
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

impl Screen for WishesScreen {
    const TAB: usize = 2;

    fn fit(app: &mut App) {
        let rows = table_rows(table_area(body(app.size)));
        let n = len(app);
        app.wishes.list.set_rows(rows, n);
    }

    fn moved(app: &mut App, delta: isize, _action: Action) {
        let n = len(app);
        app.wishes.list.moved(delta, n);
    }

    fn on_action(_app: &mut App, _action: Action) -> Option<Vec<Effect>> {
        None
    }

    fn entered(_app: &mut App) -> Vec<Effect> {
        vec![Effect::FetchStats]
    }

    fn hints(app: &App) -> Hints {
        Hints::Text(app.lang.t().hints.wishes)
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
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
        let list = &stats.wishes.by_community;
        app.wishes.list.table(
            f,
            table_area(area),
            header,
            [16, 8, 8, 8, 14].map(Constraint::Length).to_vec(),
            2,
            list.len(),
            |i, selected| {
                let c = list.get(i)?;
                let style = if selected {
                    theme.selected()
                } else {
                    Style::default()
                };
                Some(
                    Row::new(vec![
                        fit(&c.name, 16),
                        c.totals.total.to_string(),
                        c.totals.claimed.to_string(),
                        c.totals.completed.to_string(),
                        yuan(c.totals.value_completed_fen),
                    ])
                    .style(style),
                )
            },
        );
    }
}
