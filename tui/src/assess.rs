//! The Assessment view's state: the period, the data, the sort column, and its columns.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc};

use shaozi_shared::api::Assessment;
use shaozi_shared::assessment::UnitScore;

use crate::app::Cursor;

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
    /// The value to sort by (None sorts last).
    pub key: fn(&UnitScore) -> Option<f64>,
    /// Lower is better (ranks, medians, overdue counts).
    pub ascending: bool,
    /// The cell's text.
    pub text: fn(&UnitScore) -> String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "-".into())
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

/// The table's columns, in order.
pub const COLUMNS: &[Column] = &[
    Column {
        zh: "名次",
        en: "Rank",
        width: 5,
        narrow: true,
        key: |u| u.rank.map(f64::from),
        ascending: true,
        text: |u| u.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
    },
    Column {
        zh: "单位",
        en: "Unit",
        width: 18,
        narrow: true,
        key: |_| None,
        ascending: true,
        text: |u| u.name.clone(),
    },
    Column {
        zh: "得分",
        en: "Score",
        width: 6,
        narrow: true,
        key: |u| u.score,
        ascending: false,
        text: |u| num(u.score),
    },
    Column {
        zh: "派单",
        en: "Disp.",
        width: 5,
        narrow: true,
        key: |u| Some(u.dispatched as f64),
        ascending: false,
        text: |u| u.dispatched.to_string(),
    },
    Column {
        zh: "按时",
        en: "OnTime",
        width: 6,
        narrow: true,
        key: |u| u.on_time_rate,
        ascending: false,
        text: |u| pct(u.on_time_rate),
    },
    Column {
        zh: "办结",
        en: "Resolv",
        width: 6,
        narrow: true,
        key: |u| u.resolution_rate,
        ascending: false,
        text: |u| pct(u.resolution_rate),
    },
    Column {
        zh: "满意",
        en: "Satisf",
        width: 6,
        narrow: true,
        key: |u| u.satisfaction_mean,
        ascending: false,
        text: |u| num(u.satisfaction_mean),
    },
    Column {
        zh: "4-5分",
        en: "4-5",
        width: 6,
        narrow: false,
        key: |u| u.satisfied_share,
        ascending: false,
        text: |u| pct(u.satisfied_share),
    },
    Column {
        zh: "报到分",
        en: "RespM",
        width: 6,
        narrow: false,
        key: |u| u.median_respond_minutes,
        ascending: true,
        text: |u| num(u.median_respond_minutes),
    },
    Column {
        zh: "办结分",
        en: "ResM",
        width: 6,
        narrow: false,
        key: |u| u.median_resolve_minutes,
        ascending: true,
        text: |u| num(u.median_resolve_minutes),
    },
    Column {
        zh: "超时",
        en: "Late",
        width: 5,
        narrow: true,
        key: |u| Some(u.overdue_now as f64),
        ascending: true,
        text: |u| u.overdue_now.to_string(),
    },
    Column {
        zh: "重办",
        en: "Reop",
        width: 5,
        narrow: false,
        key: |u| Some(u.reopened as f64),
        ascending: true,
        text: |u| u.reopened.to_string(),
    },
    Column {
        zh: "升级",
        en: "Esc",
        width: 5,
        narrow: false,
        key: |u| Some(u.escalations as f64),
        ascending: true,
        text: |u| u.escalations.to_string(),
    },
    Column {
        zh: "心愿",
        en: "Wish",
        width: 5,
        narrow: false,
        key: |u| Some(u.wishes_completed as f64),
        ascending: false,
        text: |u| u.wishes_completed.to_string(),
    },
    Column {
        zh: "活动",
        en: "Act",
        width: 5,
        narrow: false,
        key: |u| Some(u.activities as f64),
        ascending: false,
        text: |u| u.activities.to_string(),
    },
];

/// The Assessment view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessView {
    /// The period shown.
    pub period: Period,
    /// Its data, once loaded.
    pub data: Option<Box<Assessment>>,
    /// Sort column (index into [`COLUMNS`]).
    pub sort: usize,
    /// Selection.
    pub cursor: Cursor,
}

impl Default for AssessView {
    fn default() -> Self {
        AssessView {
            period: Period::Month,
            data: None,
            sort: 0,
            cursor: Cursor::default(),
        }
    }
}

impl AssessView {
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
