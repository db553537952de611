//! `GET /api/v1/whistles.csv`: the case ledger (台账), one row per case the list or search
//! keeps, oldest first, streamed a page at a time so that a year of a big city neither times
//! out nor fills memory.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, FixedOffset, Utc};

use shaozi_shared::csv::{cell, text};
use shaozi_shared::{Principal, Whistle};

use super::scope_whistles;
use crate::error::ApiError;
use crate::extract::Params;
use crate::search::SearchQuery;
use crate::AppState;

/// Cases read and written per page: the memory a ledger holds at a time.
const PAGE: usize = 500;

/// What the walk sends the body.
enum Chunk {
    /// Rows (or the header).
    Rows(Vec<u8>),
    /// Every row was sent.
    End,
}

/// The names the rows show beside the ids.
struct Names {
    streets: HashMap<u64, String>,
    communities: HashMap<u64, String>,
    departments: HashMap<u64, String>,
    categories: HashMap<String, String>,
    offset: FixedOffset,
    zh: bool,
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
            shaozi_shared::Urgency::Urgent => "urgent",
            shaozi_shared::Urgency::Normal => "normal",
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

fn header_line(zh: bool) -> String {
    let mut line = shaozi_shared::csv::row(COLUMNS.iter().map(|c| if zh { c.1 } else { c.0 }));
    line.push('\n');
    line
}

fn row(n: &Names, w: &Whistle, out: &mut String) {
    for (i, (_, _, typed, value)) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let v = value(n, w);
        out.push_str(&if *typed { text(&v) } else { cell(&v) });
    }
    out.push('\n');
}

/// `GET /api/v1/whistles.csv`.
#[utoipa::path(get, path = "/whistles.csv", tag = "whistles",
    summary = "The case ledger (台账): one CSV row per case the list or search keeps, oldest first, streamed",
    description = "Takes every parameter of `GET /whistles` (with `q`, `from` or `to`, every status unless asked), but no `limit` or `cursor`: every case, whatever the size. UTF-8 with a byte-order mark; times in the city's time (YYYY-MM-DD HH:MM:SS); a cell a spreadsheet would run as a formula or turn into a date or number starts with `'`. The reporter's name and phone only for those who may read them.",
    params(
        ("status" = Option<String>, Query, description = "Comma list of statuses"),
        ("department_id" = Option<shaozi_shared::DepartmentId>, Query, description = "Led by this department"),
        ("community_id" = Option<shaozi_shared::CommunityId>, Query, description = "Filed by this community"),
        ("street_id" = Option<shaozi_shared::StreetId>, Query, description = "In this street"),
        ("overdue" = Option<bool>, Query, description = "Only overdue (true) or only on time (false)"),
        ("urgency" = Option<shaozi_shared::Urgency>, Query, description = "urgent or normal"),
        ("category" = Option<String>, Query, description = "A category code"),
        ("source" = Option<shaozi_shared::case::Source>, Query, description = "Only whistles from this source"),
        ("q" = Option<String>, Query, description = "Words, as for the list"),
        ("from" = Option<String>, Query, description = "Filed at or after: a local date or an RFC 3339 time"),
        ("to" = Option<String>, Query, description = "Filed before the end of this local date, or before this RFC 3339 time"),
        ("lang" = Option<String>, Query, description = "zh for Chinese headers and 是/否 (default: English)"),
    ),
    responses((status = 200, description = "The ledger", content((String = "text/csv")))))]
pub async fn ledger(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Response, ApiError> {
    for k in ["limit", "cursor", "due_within", "pending"] {
        if p.get(k).is_some() {
            return Err(ApiError::bad_param(
                k,
                format!("the ledger has every case the filters keep: {k} does not apply"),
            ));
        }
    }
    let zh = match p.get("lang") {
        None | Some("en") => false,
        Some("zh") => true,
        Some(v) => {
            return Err(ApiError::bad_param(
                "lang",
                format!("lang must be zh or en; got {v:?}"),
            ))
        }
    };
    let (mut q, search) = super::whistles::list_query(&st, &p, PAGE)?;
    let search = search.unwrap_or(SearchQuery {
        q: String::new(),
        from: None,
        to: None,
        offset: 0,
    });
    let visible = scope_whistles(&who, &mut q);
    super::whistles::index_ready(&st).await?;
    let names = Names {
        streets: st
            .store
            .streets()?
            .into_iter()
            .map(|x| (x.id.0, x.name))
            .collect(),
        communities: st
            .store
            .communities()?
            .into_iter()
            .map(|x| (x.id.0, x.name))
            .collect(),
        departments: st
            .store
            .departments()?
            .into_iter()
            .map(|x| (x.id.0, x.name))
            .collect(),
        categories: st
            .rules
            .categories
            .iter()
            .map(|c| {
                let name = if zh { &c.name_zh } else { &c.name_en };
                (c.code.clone(), name.clone())
            })
            .collect(),
        offset: st.rules.calendar.offset,
        zh,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let (index, store) = (st.search.clone(), st.store.clone());
    let stamp = st
        .clock
        .now()
        .with_timezone(&names.offset)
        .format("%Y%m%d-%H%M");
    let filename = format!("attachment; filename=\"ledger-{stamp}.csv\"");
    // One page in memory at a time: the bounded channel holds the walk while the client reads.
    tokio::task::spawn_blocking(move || {
        let mut first = b"\xEF\xBB\xBF".to_vec();
        first.extend_from_slice(header_line(names.zh).as_bytes());
        if tx.blocking_send(Chunk::Rows(first)).is_err() {
            return;
        }
        if !visible {
            let _ = tx.blocking_send(Chunk::End);
            return;
        }
        let mut after = None;
        loop {
            let ids = match index.ids_after(&who, &q, &search, after, PAGE) {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "the ledger stopped");
                    return;
                }
            };
            let Some(last) = ids.last().copied() else {
                let _ = tx.blocking_send(Chunk::End);
                return;
            };
            after = Some(last);
            let mut chunk = String::with_capacity(ids.len() * 300);
            for id in ids {
                match store.whistle(id) {
                    Ok(Some(w)) if who.sees_whistle(&w) && q.matches(&w) => {
                        row(&names, &crate::reporter::strip(w, &who), &mut chunk);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the ledger stopped");
                        return;
                    }
                }
            }
            if tx.blocking_send(Chunk::Rows(chunk.into_bytes())).is_err() {
                return;
            }
        }
    });
    // Only an explicit end ends the body well: a walk that stopped (an error, a panic) cuts
    // the transfer, so the client never holds a ledger that looks whole and is not.
    let mut ended = false;
    let stream = futures_util::stream::poll_fn(move |cx| {
        if ended {
            return std::task::Poll::Ready(None);
        }
        rx.poll_recv(cx).map(|c| match c {
            Some(Chunk::Rows(b)) => Some(Ok(b)),
            Some(Chunk::End) => {
                ended = true;
                None
            }
            None => {
                ended = true;
                Some(Err(std::io::Error::other(
                    "the ledger stopped before its end",
                )))
            }
        })
    });
    let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&filename).unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}
