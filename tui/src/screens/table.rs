//! The table every list of whistles uses (the queue, a department's cases, a role's work):
//! its columns, their widths and one row. Every row says its status; widths follow the names
//! in the directory, so a wide terminal gives the department its full name before the title
//! takes the rest.

use ratatui::layout::Constraint;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::Row;

use std::collections::{BTreeSet, HashSet};

use shaozi_shared::{Urgency, Whistle, WhistleId};

use crate::context::Context;
use crate::i18n::Lang;
use crate::text::{fit, width};
use crate::view::{short_span, Theme};

/// The queue's marks, which every table of whistles shows: `*` marked for a bulk step, `+`
/// arrived and not yet looked at.
#[derive(Debug, Clone, Copy)]
pub struct Marks<'a> {
    /// Marked for a bulk step.
    pub marked: &'a BTreeSet<WhistleId>,
    /// Arrived, not yet looked at.
    pub new_ids: &'a HashSet<WhistleId>,
}

impl<'a> Marks<'a> {
    /// The queue's marks as another list of cases sees them.
    pub fn of(cx: &Context<'a>) -> Option<Marks<'a>> {
        cx.cases.map(|c| Marks {
            marked: c.marked,
            new_ids: c.new_ids,
        })
    }

    fn mark(marks: Option<Marks>, id: WhistleId) -> &'static str {
        match marks {
            Some(m) if m.marked.contains(&id) => "*",
            Some(m) if m.new_ids.contains(&id) => "+",
            _ => " ",
        }
    }
}

/// Column widths of a whistle table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// The age column, left out below 100 columns for the names' sake.
    age: bool,
    status: u16,
    community: u16,
    category: u16,
    title: u16,
    department: u16,
}

/// Mark, urgency, id, age and time left: fixed.
const FIXED: [u16; 5] = [1, 2, 6, 5, 6];

impl Columns {
    /// Widths for a table `total` columns wide: names as wide as the directory's longest (up
    /// to a cap), shrunk, widest slack first, only as far as the title needs.
    pub fn new(cx: &Context, total: u16) -> Columns {
        let dir = &cx.model.dir;
        let widest = |widths: &mut dyn Iterator<Item = usize>, lo: u16, hi: u16| {
            widths
                .max()
                .unwrap_or(0)
                .clamp(usize::from(lo), usize::from(hi)) as u16
        };
        // Wide enough for the longest status with its marks (待批延期↑3!◷) from 100 columns;
        // below, the status word itself.
        let status = match (cx.lang, total >= 100) {
            (Lang::Zh, true) => 12,
            (Lang::En, true) => 13,
            (Lang::Zh, false) => 8,
            (Lang::En, false) => 10,
        };
        let mut cols = [
            widest(&mut dir.communities.values().map(|c| width(&c.name)), 8, 16),
            widest(
                &mut dir.categories.iter().map(|c| match cx.lang {
                    Lang::Zh => width(&c.name_zh),
                    Lang::En => width(&c.name_en),
                }),
                6,
                12,
            ),
            widest(
                &mut dir.departments.values().map(|d| width(&d.name)),
                10,
                26,
            ),
        ];
        let least = [8u16, 6, 10];
        let age = total >= 100;
        // One space between columns: nine, or eight without the age.
        let fixed = if age {
            FIXED.iter().sum::<u16>() + status + 9
        } else {
            FIXED.iter().sum::<u16>() - FIXED[3] + status + 8
        };
        let title_wants = if total >= 100 { 30u16 } else { 20 };
        let room = |cols: &[u16; 3]| {
            total
                .saturating_sub(fixed)
                .saturating_sub(cols.iter().sum::<u16>())
        };
        while room(&cols) < title_wants {
            let slack: Vec<u16> = cols.iter().zip(least).map(|(c, l)| c - l).collect();
            let Some((i, _)) = slack
                .iter()
                .enumerate()
                .filter(|(_, s)| **s > 0)
                .max_by_key(|(_, s)| **s)
            else {
                break;
            };
            cols[i] -= 1;
        }
        Columns {
            age,
            status,
            community: cols[0],
            category: cols[1],
            title: room(&cols).max(8),
            department: cols[2],
        }
    }

    /// As ratatui constraints, in column order.
    pub fn constraints(&self) -> Vec<Constraint> {
        self.keep(vec![
            FIXED[0],
            FIXED[1],
            FIXED[2],
            self.status,
            FIXED[3],
            FIXED[4],
            self.community,
            self.category,
            self.title,
            self.department,
        ])
        .into_iter()
        .map(Constraint::Length)
        .collect()
    }

    /// A row's ten cells less those of columns left out.
    fn keep<T>(&self, mut cells: Vec<T>) -> Vec<T> {
        if !self.age {
            cells.remove(4);
        }
        cells
    }
}

/// The header of a whistle table.
pub fn header<'a>(cx: &Context, cols: &Columns) -> Row<'a> {
    let t = cx.lang.t();
    let status = if cx.lang == Lang::Zh {
        "状态"
    } else {
        "Status"
    };
    let names = [
        "", t.cols[0], t.cols[1], status, t.cols[2], t.cols[3], t.cols[4], t.cols[5], t.cols[6],
        t.cols[7],
    ];
    Row::new(
        cols.keep(
            names
                .map(|h| Span::styled(h, Style::default().add_modifier(Modifier::BOLD)))
                .to_vec(),
        ),
    )
}

/// One whistle as a row.
pub fn row<'a>(
    cx: &Context,
    marks: Option<Marks>,
    w: &Whistle,
    cols: &Columns,
    theme: Theme,
    selected: bool,
) -> Row<'a> {
    let dir = &cx.model.dir;
    let mark = Marks::mark(marks, w.id);
    let urg = match (w.urgency, cx.lang) {
        (Urgency::Urgent, Lang::Zh) => "急",
        (Urgency::Urgent, Lang::En) => "!!",
        _ => "",
    };
    let age = short_span(cx.now - w.created_at);
    let left_d = w.stage_deadline().map(|d| d - cx.now);
    let (left, left_style) = match left_d {
        Some(d) if w.overdue || d < chrono::Duration::zero() => {
            (format!("✗{}", short_span(d)), theme.alert())
        }
        Some(d) if d < chrono::Duration::minutes(10) => (short_span(d), theme.warn()),
        Some(d) => (short_span(d), Style::default()),
        None => (String::new(), Style::default()),
    };
    let status_style = match w.status {
        shaozi_shared::WhistleStatus::New => theme.warn(),
        _ if w.escalation_level > 0 || w.reopened > 0 => theme.alert(),
        shaozi_shared::WhistleStatus::Resolved => theme.good(),
        _ => Style::default(),
    };
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
        Span::styled(
            fit(
                &crate::words::list_status(cx.lang, w),
                usize::from(cols.status),
            ),
            status_style,
        ),
        Span::raw(age),
        Span::styled(left, left_style),
        Span::raw(fit(
            &dir.community(w.community_id),
            usize::from(cols.community),
        )),
        Span::raw(fit(
            &dir.category_in(&w.category, cx.lang, usize::from(cols.category)),
            usize::from(cols.category),
        )),
        Span::raw(fit(&w.title, usize::from(cols.title))),
        Span::raw(fit(&departments_cell(cx, w), usize::from(cols.department))),
    ];
    let mut style = Style::default();
    if cx.stale() {
        style = style.add_modifier(Modifier::DIM);
    }
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Row::new(cols.keep(cells)).style(style)
}

/// The department column: the lead; on a case still at work, a department that missed its
/// deadline to report and has not come (✗, named: the queue says who), else how many assist.
fn departments_cell(cx: &Context, w: &Whistle) -> String {
    let dir = &cx.model.dir;
    let lead = dir.department(w.department_id);
    // A case that bounced between departments says so before who has it now.
    let lead = if shaozi_shared::patterns::bounced(w) {
        format!("⇄{lead}")
    } else {
        lead
    };
    let missing: Vec<String> = w
        .calls
        .iter()
        .filter(|c| c.missed_at.is_some() && c.reported_at.is_none())
        .map(|c| dir.department(Some(c.department_id)))
        .collect();
    // Only while someone still has to come: once fixed, who was late is history (the detail
    // keeps it).
    let waiting = matches!(
        w.status,
        shaozi_shared::WhistleStatus::Dispatched
            | shaozi_shared::WhistleStatus::Acknowledged
            | shaozi_shared::WhistleStatus::Returned
    );
    if !missing.is_empty() && waiting {
        return format!("✗{}", missing.join("、"));
    }
    match w.assisting.len() {
        0 => lead,
        n => format!("{lead} +{n}"),
    }
}
