//! The assessment: units ranked by how they answered over a period, sortable by any column,
//! with sparklines of whistles filed and closed per day; `E` exports it as CSV.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline};
use ratatui::Frame;

use shaozi_shared::api::Assessment;
use shaozi_shared::assessment::UnitScore;

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::text::fit;
use crate::view::Theme;

pub use crate::message::Units;

mod columns;
pub use columns::{csv, Column, COLUMNS};

/// Which period is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Today.
    Today,
    /// Since Monday.
    Week,
    /// Since the 1st.
    Month,
    /// Typed with `:period FROM TO`.
    Custom(NaiveDate, NaiveDate),
}

impl Period {
    /// The next preset (`p`).
    pub fn next(self) -> Period {
        match self {
            Period::Today => Period::Week,
            Period::Week => Period::Month,
            _ => Period::Today,
        }
    }

    /// First and last local day, inclusive.
    pub fn range(self, now: DateTime<Utc>, tz: FixedOffset) -> (NaiveDate, NaiveDate) {
        let today = now.with_timezone(&tz).date_naive();
        match self {
            Period::Today => (today, today),
            Period::Week => (
                today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
                today,
            ),
            Period::Month => (today.with_day(1).unwrap_or(today), today),
            Period::Custom(a, b) => (a, b),
        }
    }
}

/// The assessment's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentScreen {
    /// The period shown.
    pub period: Period,
    /// Which units are ranked.
    pub units: Units,
    /// Its data, once loaded.
    pub data: Option<Box<Assessment>>,
    /// Sort column (index into [`COLUMNS`]).
    pub sort: usize,
    /// Its rows on screen.
    pub list: ListView,
}

impl Default for AssessmentScreen {
    fn default() -> Self {
        AssessmentScreen {
            period: Period::Month,
            units: Units::Departments,
            data: None,
            sort: 0,
            list: ListView::default(),
        }
    }
}

impl AssessmentScreen {
    /// The units in the chosen order: by the sort column's direction, units without a value last.
    pub fn sorted(&self) -> Vec<&UnitScore> {
        let Some(d) = &self.data else {
            return Vec::new();
        };
        let col = &COLUMNS[self.sort.min(COLUMNS.len() - 1)];
        let mut units: Vec<&UnitScore> = d.units.iter().collect();
        if self.sort == 1 {
            units.sort_by_cached_key(|u| (crate::text::reading_key(&u.name), u.id.clone()));
            return units;
        }
        units.sort_by(|a, b| match ((col.key)(a), (col.key)(b)) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                if col.ascending {
                    o
                } else {
                    o.reverse()
                }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.id.cmp(&b.id),
        });
        units
    }
}

/// The title line and two rows of sparklines above the table.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 3,
        height: body.height.saturating_sub(3),
        ..body
    }
}

impl AssessmentScreen {
    /// Loads the assessment for the period and units chosen.
    pub fn fetch(&self, now: DateTime<Utc>, tz: FixedOffset) -> Effect {
        let (from, to) = self.period.range(now, tz);
        Effect::FetchAssessment(from, to, self.units)
    }

    /// The assessment arrived.
    pub fn loaded(&mut self, d: Box<Assessment>) {
        let n = d.units.len();
        self.data = Some(d);
        let sel = self.list.sel;
        self.list.place(sel, n);
    }

    fn len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.units.len())
    }
}

impl Screen for AssessmentScreen {
    fn tab(&self) -> usize {
        4
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.len();
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.len();
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Period => {
                self.period = self.period.next();
                self.data = None;
                Some(vec![Out::Fx(self.fetch(cx.now, cx.tz))])
            }
            Action::Units => {
                self.units = self.units.next();
                if !COLUMNS[self.sort].fits(self.units) {
                    self.sort = 0;
                }
                self.data = None;
                Some(vec![Out::Fx(self.fetch(cx.now, cx.tz))])
            }
            Action::SortNext | Action::SortPrev => {
                // Through the columns these units have (a street's own only for streets).
                let n = COLUMNS.len();
                for _ in 0..n {
                    self.sort = if action == Action::SortNext {
                        (self.sort + 1) % n
                    } else {
                        (self.sort + n - 1) % n
                    };
                    if COLUMNS[self.sort].fits(self.units) {
                        break;
                    }
                }
                Some(Vec::new())
            }
            Action::Export => {
                if self.data.is_none() {
                    return Some(vec![Out::warn_in(
                        cx.lang,
                        "考核数据尚未加载，稍后再导出",
                        "the assessment has not loaded yet",
                    )]);
                }
                let (from, to) = self.period.range(cx.now, cx.tz);
                Some(vec![Out::Fx(Effect::WriteCsv {
                    file: match self.units {
                        // The file name of before, for departments.
                        Units::Departments => format!("shaozi-assessment-{from}-{to}.csv"),
                        u => format!("shaozi-assessment-{}-{from}-{to}.csv", u.wire()),
                    },
                    text: csv(self, cx.lang),
                })])
            }
            _ => None,
        }
    }

    fn entered(&mut self, cx: &Context) -> Vec<Out> {
        vec![Out::Fx(self.fetch(cx.now, cx.tz))]
    }

    fn hints(&self, _cx: &Context) -> Hints {
        use Action::*;
        Hints::Keys(vec![Period, Units, SortNext, Export, Help, Quit])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let zh = cx.lang == Lang::Zh;
        let (from, to) = self.period.range(cx.now, cx.tz);
        let period = match (self.period, zh) {
            (Period::Today, true) => "今日".to_string(),
            (Period::Week, true) => "本周".to_string(),
            (Period::Month, true) => "本月".to_string(),
            (Period::Today, false) => "today".to_string(),
            (Period::Week, false) => "this week".to_string(),
            (Period::Month, false) => "this month".to_string(),
            (Period::Custom(..), true) => "自定期间".to_string(),
            (Period::Custom(..), false) => "period".to_string(),
        };
        let sort = &COLUMNS[self.sort.min(COLUMNS.len() - 1)];
        let units = self.units.name(cx.lang);
        let head = if zh {
            format!(
                "考核 {units} {period} {from} 至 {to} · 按「{}」排序",
                sort.zh
            )
        } else {
            format!(
                "Assessment of {units} {period} {from} to {to} · sorted by {}",
                sort.en
            )
        };
        f.render_widget(
            Paragraph::new(Span::styled(
                fit(&head, usize::from(area.width)),
                Style::default().add_modifier(Modifier::BOLD),
            )),
            Rect { height: 1, ..area },
        );
        let Some(data) = &self.data else {
            f.render_widget(
                Paragraph::new(cx.lang.t().loading),
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
        let table_area = table_area(area);
        // Every column shown at 80 columns, then the others in order while they fit.
        let mut room = usize::from(area.width).saturating_sub(
            COLUMNS
                .iter()
                .filter(|c| c.narrow)
                .map(|c| usize::from(c.width) + 1)
                .sum(),
        );
        // The units of the data shown (the key may have moved on while it loads).
        let units = self.data.as_ref().map_or(self.units, |d| {
            [Units::Departments, Units::Streets, Units::Communities]
                .into_iter()
                .find(|u| u.wire() == d.group)
                .unwrap_or(self.units)
        });
        let cols: Vec<(usize, &Column)> = COLUMNS
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                if !c.fits(units) {
                    return false;
                }
                if c.narrow {
                    return true;
                }
                let w = usize::from(c.width) + 1;
                let fits = w <= room;
                if fits {
                    room -= w;
                }
                fits
            })
            .collect();
        let header = Row::new(cols.iter().map(|(i, c)| {
            let name = if zh { c.zh } else { c.en };
            let (text, style) = if *i == self.sort {
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
        let units = self.sorted();
        let own_unit = cx.me.and_then(|m| match m.scope {
            shaozi_shared::Scope::Department(d) => Some(d.to_string()),
            shaozi_shared::Scope::Street(s) => Some(s.to_string()),
            shaozi_shared::Scope::Community(c) => Some(c.to_string()),
            shaozi_shared::Scope::City => None,
        });
        let widths: Vec<Constraint> = cols
            .iter()
            .map(|(_, c)| Constraint::Length(c.width))
            .collect();
        self.list.table(
            f,
            table_area,
            header,
            widths,
            1,
            units.len(),
            |i, selected| {
                let u = units.get(i)?;
                // The token's own unit is marked ▸, so it is found among the others.
                let own = own_unit.as_deref() == Some(u.id.as_str());
                let cells: Vec<Span> = cols
                    .iter()
                    .map(|(i, c)| {
                        let text = (c.text)(u);
                        let text = if own && *i == 1 {
                            format!("▸{text}")
                        } else {
                            text
                        };
                        Span::raw(fit(&text, usize::from(c.width)))
                    })
                    .collect();
                let mut style = Style::default();
                if own {
                    style = style.add_modifier(Modifier::BOLD);
                }
                if u.score.is_none() {
                    style = style.add_modifier(Modifier::DIM);
                }
                if selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                if u.overdue_now > 0 && !selected {
                    style = style.patch(theme.alert()).remove_modifier(Modifier::BOLD);
                }
                Some(Row::new(cells).style(style))
            },
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
}
