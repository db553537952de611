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
use crate::app::{App, Effect, View};
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::text::fit;
use crate::view::Theme;

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

/// Which units the assessment ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Departments (the default).
    Departments,
    /// Street offices, which dispatch: with dispatch accuracy.
    Streets,
    /// Communities.
    Communities,
}

impl Units {
    /// The next, round.
    pub fn next(self) -> Units {
        match self {
            Units::Departments => Units::Streets,
            Units::Streets => Units::Communities,
            Units::Communities => Units::Departments,
        }
    }

    /// The API's `group`.
    pub fn wire(self) -> &'static str {
        match self {
            Units::Departments => "department",
            Units::Streets => "street",
            Units::Communities => "community",
        }
    }

    /// Its name in the title.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Units::Departments, Lang::Zh) => "部门",
            (Units::Streets, Lang::Zh) => "街道",
            (Units::Communities, Lang::Zh) => "社区",
            (Units::Departments, Lang::En) => "departments",
            (Units::Streets, Lang::En) => "streets",
            (Units::Communities, Lang::En) => "communities",
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
            units.sort_by(|a, b| a.name.cmp(&b.name));
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

impl App {
    /// The effect that loads the assessment of the chosen period.
    pub fn fetch_assessment(&self) -> Effect {
        let (from, to) = self.assess.period.range(self.now, self.tz);
        Effect::FetchAssessment(from, to, self.assess.units)
    }
}

impl AssessmentScreen {
    /// The assessment arrived.
    pub fn loaded(app: &mut App, d: Box<Assessment>) {
        let n = d.units.len();
        app.assess.data = Some(d);
        let sel = app.assess.list.sel;
        app.assess.list.place(sel, n);
    }

    fn len(app: &App) -> usize {
        app.assess.data.as_ref().map_or(0, |d| d.units.len())
    }
}

impl Screen for AssessmentScreen {
    const TAB: usize = 4;

    fn fit(app: &mut App) {
        let rows = table_rows(table_area(body(app.size)));
        let n = Self::len(app);
        app.assess.list.set_rows(rows, n);
    }

    fn moved(app: &mut App, delta: isize, _action: Action) {
        let n = Self::len(app);
        app.assess.list.moved(delta, n);
    }

    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::Period => {
                app.assess.period = app.assess.period.next();
                app.assess.data = None;
                Some(vec![app.fetch_assessment()])
            }
            Action::Units => {
                app.assess.units = app.assess.units.next();
                if app.assess.units != Units::Streets && COLUMNS[app.assess.sort].street_only {
                    app.assess.sort = 0;
                }
                app.assess.data = None;
                Some(vec![app.fetch_assessment()])
            }
            Action::SortNext | Action::SortPrev => {
                // Through the columns these units have (a street's own only for streets).
                let n = COLUMNS.len();
                let streets = app.assess.units == Units::Streets;
                for _ in 0..n {
                    app.assess.sort = if action == Action::SortNext {
                        (app.assess.sort + 1) % n
                    } else {
                        (app.assess.sort + n - 1) % n
                    };
                    if streets || !COLUMNS[app.assess.sort].street_only {
                        break;
                    }
                }
                Some(Vec::new())
            }
            Action::Export => {
                if app.assess.data.is_none() {
                    app.warn_in(
                        "考核数据尚未加载，稍后再导出",
                        "the assessment has not loaded yet",
                    );
                    return Some(Vec::new());
                }
                let (from, to) = app.assess.period.range(app.now, app.tz);
                Some(vec![Effect::WriteCsv {
                    file: match app.assess.units {
                        // The file name of before, for departments.
                        Units::Departments => format!("shaozi-assessment-{from}-{to}.csv"),
                        u => format!("shaozi-assessment-{}-{from}-{to}.csv", u.wire()),
                    },
                    text: csv(app),
                }])
            }
            _ => None,
        }
    }

    fn entered(app: &mut App) -> Vec<Effect> {
        vec![app.fetch_assessment()]
    }

    fn hints(_app: &App) -> Hints {
        use Action::*;
        Hints::Keys(vec![Period, Units, SortNext, Export, Help, Quit])
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
        let zh = app.lang == Lang::Zh;
        let (from, to) = app.assess.period.range(app.now, app.tz);
        let period = match (app.assess.period, zh) {
            (Period::Today, true) => "今日".to_string(),
            (Period::Week, true) => "本周".to_string(),
            (Period::Month, true) => "本月".to_string(),
            (Period::Today, false) => "today".to_string(),
            (Period::Week, false) => "this week".to_string(),
            (Period::Month, false) => "this month".to_string(),
            (Period::Custom(..), true) => "自定期间".to_string(),
            (Period::Custom(..), false) => "period".to_string(),
        };
        let sort = &COLUMNS[app.assess.sort.min(COLUMNS.len() - 1)];
        let units = app.assess.units.name(app.lang);
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
        let table_area = table_area(area);
        // Every column shown at 80 columns, then the others in order while they fit.
        let mut room = usize::from(area.width).saturating_sub(
            COLUMNS
                .iter()
                .filter(|c| c.narrow)
                .map(|c| usize::from(c.width) + 1)
                .sum(),
        );
        let streets = app
            .assess
            .data
            .as_ref()
            .is_some_and(|d| d.group == "street");
        let cols: Vec<(usize, &Column)> = COLUMNS
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                if c.street_only && !streets {
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
        let widths: Vec<Constraint> = cols
            .iter()
            .map(|(_, c)| Constraint::Length(c.width))
            .collect();
        app.assess.list.table(
            f,
            table_area,
            header,
            widths,
            1,
            units.len(),
            |i, selected| {
                let u = units.get(i)?;
                let cells: Vec<Span> = cols
                    .iter()
                    .map(|(_, c)| Span::raw(fit(&(c.text)(u), usize::from(c.width))))
                    .collect();
                let mut style = Style::default();
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

/// Whether the assessment is shown (it follows the minute then).
pub(crate) fn shown(app: &App) -> bool {
    app.view == View::Assessment
}
