//! The case ledger (台账): one CSV row per case with every column a monthly report needs. The
//! server streams it (`GET /api/v1/whistles.csv`); the dashboard writes the list it shows with
//! the same columns.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};

use crate::csv::{cell, text};
use crate::whistle::Whistle;

/// What a ledger file starts with, so that Excel and WPS read it as UTF-8 (Chinese).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The names the rows show beside the ids.
pub struct Names {
    /// Street names by number.
    pub streets: HashMap<u64, String>,
    /// Community names by number.
    pub communities: HashMap<u64, String>,
    /// Department names by number.
    pub departments: HashMap<u64, String>,
    /// Category names by code.
    pub categories: HashMap<String, String>,
    /// The city's offset: times are written in its time.
    pub offset: FixedOffset,
    /// Chinese headers and 是/否.
    pub zh: bool,
}

impl Names {
    fn time(&self, t: Option<DateTime<Utc>>) -> String {
        t.map(|t| {
            t.with_timezone(&self.offset)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
    }

    fn yes(&self, v: Option<bool>) -> String {
        match (v, self.zh) {
            (None, _) => String::new(),
            (Some(true), true) => "是".into(),
            (Some(false), true) => "否".into(),
            (Some(true), false) => "yes".into(),
            (Some(false), false) => "no".into(),
        }
    }
}

/// A column: its English and Chinese headers, whether people typed it (kept as text, see
/// [`text`]), and its value.
type Column = (
    &'static str,
    &'static str,
    bool,
    fn(&Names, &Whistle) -> String,
);

/// Every column a monthly report needs, in order. New ones go last: a sheet built on the
/// columns before keeps its places.
const COLUMNS: &[Column] = &[
    ("id", "编号", false, |_, w| w.id.to_string()),
    ("title", "标题", true, |_, w| w.title.clone()),
    ("street_id", "街道编号", false, |_, w| {
        w.street_id.to_string()
    }),
    ("street", "街道", true, |n, w| {
        n.streets.get(&w.street_id.0).cloned().unwrap_or_default()
    }),
    ("community_id", "社区编号", false, |_, w| {
        w.community_id.to_string()
    }),
    ("community", "社区", true, |n, w| {
        n.communities
            .get(&w.community_id.0)
            .cloned()
            .unwrap_or_default()
    }),
    ("category", "类别编码", false, |_, w| w.category.clone()),
    ("category_name", "类别", true, |n, w| {
        n.categories.get(&w.category).cloned().unwrap_or_default()
    }),
    ("source", "来源", false, |_, w| {
        w.source.as_str().to_string()
    }),
    ("urgency", "紧急程度", false, |_, w| {
        match w.urgency {
            crate::category::Urgency::Urgent => "urgent",
            crate::category::Urgency::Normal => "normal",
        }
        .to_string()
    }),
    ("status", "状态", false, |_, w| {
        w.status.as_str().to_string()
    }),
    ("department_id", "牵头部门编号", false, |_, w| {
        w.department_id.map(|d| d.to_string()).unwrap_or_default()
    }),
    ("department", "牵头部门", true, |n, w| {
        w.department_id
            .and_then(|d| n.departments.get(&d.0).cloned())
            .unwrap_or_default()
    }),
    ("assisting", "协办部门", true, |n, w| {
        w.assisting
            .iter()
            .map(|d| n.departments.get(&d.0).cloned().unwrap_or(d.to_string()))
            .collect::<Vec<_>>()
            .join("、")
    }),
    ("filed_at", "受理时间", false, |n, w| {
        n.time(Some(w.created_at))
    }),
    ("dispatched_at", "派单时间", false, |n, w| {
        n.time(w.dispatched_at)
    }),
    ("respond_by", "报到时限", false, |n, w| {
        n.time(Some(w.respond_by))
    }),
    ("reported_at", "报到时间", false, |n, w| {
        n.time(w.acknowledged_at)
    }),
    ("reported_on_time", "按时报到", false, |n, w| {
        n.yes((w.acknowledged_at.is_some() || w.respond_late).then_some(!w.respond_late))
    }),
    ("resolve_by", "办结时限", false, |n, w| {
        n.time(Some(w.resolve_by))
    }),
    ("resolved_at", "办结时间", false, |n, w| {
        n.time(w.resolved_at)
    }),
    ("resolved_on_time", "按时办结", false, |n, w| {
        n.yes((w.resolved_at.is_some() || w.resolve_late).then_some(!w.resolve_late))
    }),
    ("closed_at", "关闭时间", false, |n, w| {
        n.time(w.closed_at)
    }),
    ("overdue_now", "当前逾期", false, |n, w| {
        n.yes(Some(w.overdue))
    }),
    ("escalation_level", "督办级别", false, |_, w| {
        w.escalation_level.to_string()
    }),
    ("dispatches", "派单次数", false, |_, w| {
        w.dispatches.to_string()
    }),
    ("reopened", "重办次数", false, |_, w| {
        w.reopened.to_string()
    }),
    ("satisfaction", "满意度", false, |_, w| {
        w.satisfaction.map(|s| s.to_string()).unwrap_or_default()
    }),
    ("staff", "报到人员", true, |_, w| w.staff.join("、")),
    ("reply", "答复", true, |_, w| {
        w.reply.clone().unwrap_or_default()
    }),
    ("reject_reason", "驳回理由", true, |_, w| {
        w.reject_reason.clone().unwrap_or_default()
    }),
    ("duplicate_of", "重复于", false, |_, w| {
        w.duplicate_of.map(|d| d.to_string()).unwrap_or_default()
    }),
    ("address", "地址", true, |_, w| {
        w.address.clone().unwrap_or_default()
    }),
    ("reporter", "反映人", true, |_, w| {
        w.reporter
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_default()
    }),
    ("reporter_phone", "反映人电话", true, |_, w| {
        w.reporter
            .as_ref()
            .and_then(|r| r.phone.clone())
            .unwrap_or_default()
    }),
];

/// The header line (with its line break).
pub fn header_line(zh: bool) -> String {
    let mut line = crate::csv::row(COLUMNS.iter().map(|c| if zh { c.1 } else { c.0 }));
    line.push('\n');
    line
}

/// Appends `w`'s line (with its line break) to `out`.
pub fn row(n: &Names, w: &Whistle, out: &mut String) {
    for (i, (_, _, typed, value)) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let v = value(n, w);
        out.push_str(&if *typed { text(&v) } else { cell(&v) });
    }
    out.push('\n');
}
