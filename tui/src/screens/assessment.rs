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

/// One column: Chinese and English headers, width, and how to read it.
pub struct Column {
    /// Header in Chinese.
    pub zh: &'static str,
    /// Header in English.
    pub en: &'static str,
    /// Display columns.
    pub width: u16,
    /// Shown at 80 columns too.
    pub narrow: bool,
    /// A street's measure only (dispatch accuracy): not shown for other units.
    pub street_only: bool,
    /// The value to sort by (None sorts last).
    pub key: fn(&UnitScore) -> Option<f64>,
    /// Lower is better (ranks, medians, overdue counts).
    pub ascending: bool,
    /// The cell's text.
    pub text: fn(&UnitScore) -> String,
    /// Its header in an exported file, in Chinese: whole words, with the unit.
    pub csv_zh: &'static str,
    /// The same in English.
    pub csv_en: &'static str,
    /// Its value in an exported file: rates as percentages, times in minutes, money in yuan.
    pub csv: fn(&UnitScore) -> String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn pct1(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_default()
}

/// A median time in minutes as a person reads it: `45m`, `3h05`, `2d`.
fn minutes(v: Option<f64>) -> String {
    v.map(|m| crate::view::short_span(Duration::minutes(m.round() as i64)))
        .unwrap_or_else(|| "-".into())
}

fn csv_num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.map(|x| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        }
    })
    .unwrap_or_else(|| "-".into())
}

/// The table's columns, in order. Counts of what went wrong (overdue, reopened, escalated)
/// sort worst first: that is what a leader sorts them for.
pub const COLUMNS: &[Column] = &[
    Column {
        zh: "名次",
        en: "Rank",
        width: 5,
        narrow: true,
        street_only: false,
        key: |u| u.rank.map(f64::from),
        ascending: true,
        text: |u| u.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
        csv_zh: "名次",
        csv_en: "Rank",
        csv: |u| u.rank.map(|r| r.to_string()).unwrap_or_default(),
    },
    Column {
        zh: "单位",
        en: "Unit",
        width: 18,
        narrow: true,
        street_only: false,
        key: |_| None,
        ascending: true,
        text: |u| u.name.clone(),
        csv_zh: "单位",
        csv_en: "Unit",
        csv: |u| u.name.clone(),
    },
    Column {
        zh: "得分",
        en: "Score",
        width: 6,
        narrow: true,
        street_only: false,
        key: |u| u.score,
        ascending: false,
        text: |u| num(u.score),
        csv_zh: "得分",
        csv_en: "Score",
        csv: |u| csv_num(u.score),
    },
    Column {
        zh: "派单",
        en: "Disp.",
        width: 5,
        narrow: true,
        street_only: false,
        key: |u| Some(u.dispatched as f64),
        ascending: false,
        text: |u| u.dispatched.to_string(),
        csv_zh: "派单数",
        csv_en: "Dispatched",
        csv: |u| u.dispatched.to_string(),
    },
    Column {
        zh: "按时",
        en: "OnTime",
        width: 6,
        narrow: true,
        street_only: false,
        key: |u| u.on_time_rate,
        ascending: false,
        text: |u| pct(u.on_time_rate),
        csv_zh: "按时报到率",
        csv_en: "On-time rate",
        csv: |u| pct1(u.on_time_rate),
    },
    Column {
        zh: "办结",
        en: "Resolv",
        width: 6,
        narrow: true,
        street_only: false,
        key: |u| u.resolution_rate,
        ascending: false,
        text: |u| pct(u.resolution_rate),
        csv_zh: "办结率",
        csv_en: "Resolution rate",
        csv: |u| pct1(u.resolution_rate),
    },
    Column {
        zh: "派单准确",
        en: "Routing",
        width: 9,
        narrow: false,
        street_only: true,
        key: |u| u.dispatch_accuracy,
        ascending: false,
        text: |u| pct(u.dispatch_accuracy),
        csv_zh: "派单准确率",
        csv_en: "Dispatch accuracy",
        csv: |u| pct1(u.dispatch_accuracy),
    },
    Column {
        zh: "满意",
        en: "Satisf",
        width: 6,
        narrow: true,
        street_only: false,
        key: |u| u.satisfaction_mean,
        ascending: false,
        text: |u| num(u.satisfaction_mean),
        csv_zh: "平均满意度（1-5）",
        csv_en: "Mean rating (1-5)",
        csv: |u| csv_num(u.satisfaction_mean),
    },
    Column {
        zh: "4-5分",
        en: "4-5",
        width: 6,
        narrow: false,
        street_only: false,
        key: |u| u.satisfied_share,
        ascending: false,
        text: |u| pct(u.satisfied_share),
        csv_zh: "评4-5分占比",
        csv_en: "Share rated 4-5",
        csv: |u| pct1(u.satisfied_share),
    },
    Column {
        zh: "报到用时",
        en: "ToReport",
        width: 8,
        narrow: false,
        street_only: false,
        key: |u| u.median_respond_minutes,
        ascending: true,
        text: |u| minutes(u.median_respond_minutes),
        csv_zh: "报到用时中位数（分钟）",
        csv_en: "Median minutes to report",
        csv: |u| csv_num(u.median_respond_minutes),
    },
    Column {
        zh: "办结用时",
        en: "ToResolve",
        width: 9,
        narrow: false,
        street_only: false,
        key: |u| u.median_resolve_minutes,
        ascending: true,
        text: |u| minutes(u.median_resolve_minutes),
        csv_zh: "办结用时中位数（分钟）",
        csv_en: "Median minutes to resolve",
        csv: |u| csv_num(u.median_resolve_minutes),
    },
    Column {
        zh: "超时",
        en: "Late",
        width: 5,
        narrow: true,
        street_only: false,
        key: |u| Some(u.overdue_now as f64),
        ascending: false,
        text: |u| u.overdue_now.to_string(),
        csv_zh: "当前超时",
        csv_en: "Overdue now",
        csv: |u| u.overdue_now.to_string(),
    },
    Column {
        zh: "重办",
        en: "Reop",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.reopened as f64),
        ascending: false,
        text: |u| u.reopened.to_string(),
        csv_zh: "重办",
        csv_en: "Reopened",
        csv: |u| u.reopened.to_string(),
    },
    Column {
        zh: "升级",
        en: "Esc",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.escalations as f64),
        ascending: false,
        text: |u| u.escalations.to_string(),
        csv_zh: "升级",
        csv_en: "Escalations",
        csv: |u| u.escalations.to_string(),
    },
    Column {
        zh: "按期办结",
        en: "OnTimeFix",
        width: 9,
        narrow: false,
        street_only: false,
        key: |u| u.on_time_resolution_rate,
        ascending: false,
        text: |u| pct(u.on_time_resolution_rate),
        csv_zh: "按期办结率",
        csv_en: "On-time resolution rate",
        csv: |u| pct1(u.on_time_resolution_rate),
    },
    Column {
        zh: "退单准/驳",
        en: "Ret ok/no",
        width: 9,
        narrow: false,
        street_only: false,
        key: |u| Some(u.returns_overruled as f64),
        ascending: true,
        text: |u| format!("{}/{}", u.returns_upheld, u.returns_overruled),
        csv_zh: "退单核准/驳回",
        csv_en: "Returns upheld/overruled",
        csv: |u| format!("{}/{}", u.returns_upheld, u.returns_overruled),
    },
    Column {
        zh: "延期",
        en: "Ext",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.extensions_granted as f64),
        ascending: true,
        text: |u| u.extensions_granted.to_string(),
        csv_zh: "批准延期",
        csv_en: "Extensions granted",
        csv: |u| u.extensions_granted.to_string(),
    },
    Column {
        zh: "催办",
        en: "Urged",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.urges as f64),
        ascending: true,
        text: |u| u.urges.to_string(),
        csv_zh: "被催办",
        csv_en: "Urges received",
        csv: |u| u.urges.to_string(),
    },
    Column {
        zh: "回访",
        en: "Resident",
        width: 8,
        narrow: false,
        street_only: false,
        key: |u| u.resident_satisfaction_mean,
        ascending: false,
        text: |u| num(u.resident_satisfaction_mean),
        csv_zh: "回访满意度（1–5）",
        csv_en: "Residents' call-back rating (1-5)",
        csv: |u| csv_num(u.resident_satisfaction_mean),
    },
    Column {
        zh: "未评",
        en: "Unrated",
        width: 7,
        narrow: false,
        street_only: false,
        key: |u| Some(u.closed_unrated as f64),
        ascending: true,
        text: |u| u.closed_unrated.to_string(),
        csv_zh: "超期未确认办结",
        csv_en: "Closed without a rating",
        csv: |u| u.closed_unrated.to_string(),
    },
    Column {
        zh: "心愿",
        en: "Wish",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.wishes_completed as f64),
        ascending: false,
        text: |u| u.wishes_completed.to_string(),
        csv_zh: "完成心愿",
        csv_en: "Wishes completed",
        csv: |u| u.wishes_completed.to_string(),
    },
    Column {
        zh: "心愿值",
        en: "Value",
        width: 8,
        narrow: false,
        street_only: false,
        key: |u| Some(u.wishes_value_fen as f64),
        ascending: false,
        text: |u| super::wishes::yuan(u.wishes_value_fen),
        csv_zh: "心愿价值（元）",
        csv_en: "Wish value (yuan)",
        csv: |u| format!("{:.2}", u.wishes_value_fen as f64 / 100.0),
    },
    Column {
        zh: "活动",
        en: "Act",
        width: 5,
        narrow: false,
        street_only: false,
        key: |u| Some(u.activities as f64),
        ascending: false,
        text: |u| u.activities.to_string(),
        csv_zh: "活动",
        csv_en: "Activities",
        csv: |u| u.activities.to_string(),
    },
];

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

/// The assessment as a CSV file for Excel and WPS: a UTF-8 byte-order mark (without it both
/// read the Chinese as mojibake), headers in the UI's language, the rows in the order on
/// screen, every cell neutralised against formulas.
pub fn csv(app: &App) -> String {
    let zh = app.lang == Lang::Zh;
    let streets = app.assess.units == Units::Streets;
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| streets || !c.street_only)
        .collect();
    let mut out = String::from("\u{feff}");
    out.push_str(&shaozi_shared::csv::row(columns.iter().map(|c| {
        if zh {
            c.csv_zh
        } else {
            c.csv_en
        }
    })));
    out.push_str("\r\n");
    for u in app.assess.sorted() {
        out.push_str(&shaozi_shared::csv::row(columns.iter().map(|c| (c.csv)(u))));
        out.push_str("\r\n");
    }
    out
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
