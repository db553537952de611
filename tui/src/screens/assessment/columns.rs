//! The assessment's table: its columns (headers, widths, how each reads and sorts) and the
//! CSV export of the table as shown.

use chrono::Duration;
use shaozi_shared::assessment::UnitScore;

use super::{AssessmentScreen, Units};
use crate::i18n::Lang;

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
    /// A measure only one kind of unit has (a street's dispatch accuracy, a department's
    /// assisting calls): not shown for the others.
    pub only: Option<Units>,
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
    /// A second cell in an exported file, for a column that shows two numbers on screen
    /// (`2/2` would be read as a date by Excel and WPS): its headers and value.
    pub csv_more: Option<CsvCell>,
}

impl Column {
    /// Whether these units have the measure.
    pub fn fits(&self, units: Units) -> bool {
        self.only.is_none_or(|u| u == units)
    }
}

/// One more cell of an exported file: its Chinese and English headers and its value.
pub struct CsvCell {
    /// Header in Chinese.
    pub zh: &'static str,
    /// Header in English.
    pub en: &'static str,
    /// The value.
    pub value: fn(&UnitScore) -> String,
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

/// With one decimal always (a column of scores lines up).
fn num1(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into())
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
        only: None,
        key: |u| u.rank.map(f64::from),
        ascending: true,
        text: |u| u.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
        csv_zh: "名次",
        csv_en: "Rank",
        csv: |u| u.rank.map(|r| r.to_string()).unwrap_or_default(),
        csv_more: None,
    },
    Column {
        zh: "单位",
        en: "Unit",
        width: 18,
        narrow: true,
        only: None,
        key: |_| None,
        ascending: true,
        text: |u| u.name.clone(),
        csv_zh: "单位",
        csv_en: "Unit",
        csv: |u| u.name.clone(),
        csv_more: None,
    },
    Column {
        zh: "得分",
        en: "Score",
        width: 6,
        narrow: true,
        only: None,
        key: |u| u.score,
        ascending: false,
        // One decimal always, so a column reads 100.0 above 89.4, not 100 above 89.4.
        text: |u| num1(u.score),
        csv_zh: "得分",
        csv_en: "Score",
        csv: |u| csv_num(u.score),
        csv_more: None,
    },
    Column {
        zh: "派单",
        en: "Disp.",
        width: 5,
        narrow: true,
        only: None,
        key: |u| Some(u.dispatched as f64),
        ascending: false,
        text: |u| u.dispatched.to_string(),
        csv_zh: "派单数",
        csv_en: "Dispatched",
        csv: |u| u.dispatched.to_string(),
        csv_more: None,
    },
    Column {
        zh: "按时",
        en: "OnTime",
        width: 6,
        narrow: true,
        only: None,
        // Every call the unit answered, assisting ones included: what the score weighs.
        key: |u| u.calls_on_time_rate,
        ascending: false,
        text: |u| pct(u.calls_on_time_rate),
        csv_zh: "按时报到率（含协办）",
        csv_en: "On-time report rate (every call)",
        csv: |u| pct1(u.calls_on_time_rate),
        csv_more: Some(CsvCell {
            zh: "牵头按时报到率",
            en: "On-time report rate (led)",
            value: |u| pct1(u.on_time_rate),
        }),
    },
    Column {
        zh: "办结",
        en: "Resolv",
        width: 6,
        narrow: true,
        only: None,
        key: |u| u.resolution_rate,
        ascending: false,
        text: |u| pct(u.resolution_rate),
        csv_zh: "办结率",
        csv_en: "Resolution rate",
        csv: |u| pct1(u.resolution_rate),
        csv_more: None,
    },
    Column {
        zh: "派单准确",
        en: "Routing",
        width: 9,
        narrow: false,
        only: Some(Units::Streets),
        key: |u| u.dispatch_accuracy,
        ascending: false,
        text: |u| pct(u.dispatch_accuracy),
        csv_zh: "派单准确率",
        csv_en: "Dispatch accuracy",
        csv: |u| pct1(u.dispatch_accuracy),
        csv_more: None,
    },
    Column {
        zh: "满意",
        en: "Satisf",
        width: 6,
        narrow: true,
        only: None,
        key: |u| u.satisfaction_mean,
        ascending: false,
        text: |u| num(u.satisfaction_mean),
        csv_zh: "平均满意度（1-5）",
        csv_en: "Mean rating (1-5)",
        csv: |u| csv_num(u.satisfaction_mean),
        csv_more: None,
    },
    Column {
        zh: "4-5分",
        en: "4-5",
        width: 6,
        narrow: false,
        only: None,
        key: |u| u.satisfied_share,
        ascending: false,
        text: |u| pct(u.satisfied_share),
        csv_zh: "评4-5分占比",
        csv_en: "Share rated 4-5",
        csv: |u| pct1(u.satisfied_share),
        csv_more: None,
    },
    Column {
        zh: "报到用时",
        en: "ToReport",
        width: 8,
        narrow: false,
        only: None,
        key: |u| u.median_respond_minutes,
        ascending: true,
        text: |u| minutes(u.median_respond_minutes),
        csv_zh: "报到用时中位数（分钟）",
        csv_en: "Median minutes to report",
        csv: |u| csv_num(u.median_respond_minutes),
        csv_more: None,
    },
    Column {
        zh: "协办按时",
        en: "AssistOT",
        width: 8,
        narrow: false,
        only: Some(Units::Departments),
        key: |u| u.assisted_on_time_rate,
        ascending: false,
        text: |u| pct(u.assisted_on_time_rate),
        csv_zh: "协办按时报到率",
        csv_en: "On-time report rate (assisting)",
        csv: |u| pct1(u.assisted_on_time_rate),
        csv_more: Some(CsvCell {
            zh: "协办次数",
            en: "Assisting calls",
            value: |u| u.assisted.to_string(),
        }),
    },
    Column {
        zh: "办结用时",
        en: "ToResolve",
        width: 9,
        narrow: false,
        only: None,
        key: |u| u.median_resolve_minutes,
        ascending: true,
        text: |u| minutes(u.median_resolve_minutes),
        csv_zh: "办结用时中位数（分钟）",
        csv_en: "Median minutes to resolve",
        csv: |u| csv_num(u.median_resolve_minutes),
        csv_more: None,
    },
    Column {
        zh: "超时",
        en: "Late",
        width: 5,
        narrow: true,
        only: None,
        key: |u| Some(u.overdue_now as f64),
        ascending: false,
        text: |u| u.overdue_now.to_string(),
        csv_zh: "当前超时",
        csv_en: "Overdue now",
        csv: |u| u.overdue_now.to_string(),
        csv_more: None,
    },
    Column {
        zh: "重办",
        en: "Reop",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.reopened as f64),
        ascending: false,
        text: |u| u.reopened.to_string(),
        csv_zh: "重办",
        csv_en: "Reopened",
        csv: |u| u.reopened.to_string(),
        csv_more: None,
    },
    Column {
        zh: "升级",
        en: "Esc",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.escalations as f64),
        ascending: false,
        text: |u| u.escalations.to_string(),
        csv_zh: "升级",
        csv_en: "Escalations",
        csv: |u| u.escalations.to_string(),
        csv_more: None,
    },
    Column {
        zh: "按期办结",
        en: "OnTimeFix",
        width: 9,
        narrow: false,
        only: None,
        key: |u| u.on_time_resolution_rate,
        ascending: false,
        text: |u| pct(u.on_time_resolution_rate),
        csv_zh: "按期办结率",
        csv_en: "On-time resolution rate",
        csv: |u| pct1(u.on_time_resolution_rate),
        csv_more: None,
    },
    Column {
        zh: "退单准/驳",
        en: "Ret ok/no",
        width: 9,
        narrow: false,
        only: None,
        key: |u| Some(u.returns_overruled as f64),
        ascending: true,
        text: |u| format!("{}/{}", u.returns_upheld, u.returns_overruled),
        csv_zh: "退单核准",
        csv_en: "Returns upheld",
        csv: |u| u.returns_upheld.to_string(),
        csv_more: Some(CsvCell {
            zh: "退单驳回",
            en: "Returns overruled",
            value: |u| u.returns_overruled.to_string(),
        }),
    },
    Column {
        zh: "延期",
        en: "Ext",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.extensions_granted as f64),
        ascending: true,
        text: |u| u.extensions_granted.to_string(),
        csv_zh: "批准延期",
        csv_en: "Extensions granted",
        csv: |u| u.extensions_granted.to_string(),
        csv_more: None,
    },
    Column {
        zh: "催办",
        en: "Urged",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.urges as f64),
        ascending: true,
        text: |u| u.urges.to_string(),
        csv_zh: "被催办",
        csv_en: "Urges received",
        csv: |u| u.urges.to_string(),
        csv_more: None,
    },
    Column {
        zh: "回访",
        en: "Resident",
        width: 8,
        narrow: false,
        only: None,
        key: |u| u.resident_satisfaction_mean,
        ascending: false,
        text: |u| num(u.resident_satisfaction_mean),
        csv_zh: "回访满意度（1-5）",
        csv_en: "Residents' call-back rating (1-5)",
        csv: |u| csv_num(u.resident_satisfaction_mean),
        csv_more: None,
    },
    Column {
        zh: "未评",
        en: "Unrated",
        width: 7,
        narrow: false,
        only: None,
        key: |u| Some(u.closed_unrated as f64),
        ascending: true,
        text: |u| u.closed_unrated.to_string(),
        csv_zh: "超期未确认办结",
        csv_en: "Closed without a rating",
        csv: |u| u.closed_unrated.to_string(),
        csv_more: None,
    },
    Column {
        zh: "心愿",
        en: "Wish",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.wishes_completed as f64),
        ascending: false,
        text: |u| u.wishes_completed.to_string(),
        csv_zh: "完成心愿",
        csv_en: "Wishes completed",
        csv: |u| u.wishes_completed.to_string(),
        csv_more: None,
    },
    Column {
        zh: "心愿值",
        en: "Value",
        width: 8,
        narrow: false,
        only: None,
        key: |u| Some(u.wishes_value_fen as f64),
        ascending: false,
        text: |u| crate::text::yuan(u.wishes_value_fen),
        csv_zh: "心愿价值（元）",
        csv_en: "Wish value (yuan)",
        csv: |u| format!("{:.2}", u.wishes_value_fen as f64 / 100.0),
        csv_more: None,
    },
    Column {
        zh: "活动",
        en: "Act",
        width: 5,
        narrow: false,
        only: None,
        key: |u| Some(u.activities as f64),
        ascending: false,
        text: |u| u.activities.to_string(),
        csv_zh: "活动",
        csv_en: "Activities",
        csv: |u| u.activities.to_string(),
        csv_more: None,
    },
];

/// The assessment as a CSV file for Excel and WPS: a UTF-8 byte-order mark (without it both
/// read the Chinese as mojibake), headers in the UI's language, the rows in the order on
/// screen, every cell neutralised against formulas.
pub fn csv(screen: &AssessmentScreen, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let columns: Vec<&Column> = COLUMNS.iter().filter(|c| c.fits(screen.units)).collect();
    let mut out = String::from("\u{feff}");
    out.push_str(&shaozi_shared::csv::row(columns.iter().flat_map(|c| {
        let more = c.csv_more.as_ref().map(|m| if zh { m.zh } else { m.en });
        std::iter::once(if zh { c.csv_zh } else { c.csv_en }).chain(more)
    })));
    out.push_str("\r\n");
    for u in screen.sorted() {
        out.push_str(&shaozi_shared::csv::row(columns.iter().flat_map(|c| {
            std::iter::once((c.csv)(u)).chain(c.csv_more.as_ref().map(|m| (m.value)(u)))
        })));
        out.push_str("\r\n");
    }
    out
}
