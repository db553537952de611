//! `GET /api/v1/whistles.csv`: the case ledger (台账), one row per case the list or search
//! keeps, oldest first, streamed a page at a time so that a year of a big city neither times
//! out nor fills memory.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use shaozi_shared::ledger::{header_line, row, Names, BOM};
use shaozi_shared::Principal;

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
        let mut first = BOM.to_vec();
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
            let cases = match store.whistles(&ids) {
                Ok(cases) => cases,
                Err(e) => {
                    tracing::warn!(error = %e, "the ledger stopped");
                    return;
                }
            };
            for w in cases {
                if who.sees_whistle(&w) && q.matches(&w) {
                    row(&names, &crate::reporter::strip(w, &who), &mut chunk);
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
