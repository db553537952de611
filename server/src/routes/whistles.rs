//! Whistles: file, list, read, and every step of their life, each within the token's scope.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use shaozi_shared::api::{Filed, NewWhistle, Page, Similar, StepBody, WhistleDetail};
use shaozi_shared::{
    CommunityId, DepartmentId, Principal, StreetId, Urgency, Whistle, WhistleId, WhistleStatus,
};

use super::{created, idempotency, if_match, scope_whistles, unexpected, with_etag};
use super::{IdempotencyKey, IfMatch};
use crate::error::ApiError;
use crate::extract::{ApiJson, Params};
use crate::search::similar::Probe;
use crate::storage::StoreError;
use crate::storage::{Pending, WhistleQuery};
use crate::writer::{Command, Reply, WriteError};
use crate::AppState;
use shaozi_shared::case::Source;
use shaozi_shared::TimelineEntry;

fn whistle_id(s: &str) -> Result<WhistleId, ApiError> {
    s.parse()
        .map_err(|e: shaozi_shared::IdParseError| ApiError::not_found(e.to_string()))
}

/// Adds who made the last change to a stale-version refusal.
pub fn explain(
    e: WriteError,
    timeline: impl FnOnce() -> Result<Vec<TimelineEntry>, StoreError>,
) -> ApiError {
    if let WriteError::Stale { detail, current } = e {
        let last = timeline().ok().and_then(|t| t.last().cloned());
        let detail = match last {
            Some(l) => format!(
                "{detail}; the last change was {} by {} ({})",
                l.kind, l.actor.name, l.actor.role
            ),
            None => detail,
        };
        return WriteError::Stale { detail, current }.into();
    }
    e.into()
}

/// `POST /api/v1/whistles`: 201 with the new whistle.
#[utoipa::path(post, path = "/whistles", tag = "whistles", summary = "Blow the whistle",
    params(IdempotencyKey), request_body = NewWhistle,
    responses((status = 201, description = "The new whistle, on disk, with the known cases most like it (similar)", body = Filed,
        headers(("Location" = String, description = "Where it lives"),
            ("ETag" = String, description = "Its version, quoted"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to a retried Idempotency-Key")))))]
pub async fn create(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewWhistle>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, &who, &b)?;
    // Whoever files sees at once whether the problem is known. The known cases are looked for
    // while the filing is made durable, not after: the lookup needs only what was typed, and
    // the answer waits for the disk either way.
    let probe = Probe {
        id: None,
        category: b.category.trim().to_string(),
        community_id: b.community_id,
        lat: b.lat,
        long: b.long,
    };
    let terms = crate::search::terms_of(&b.title, &b.description);
    let since = st.clock.now() - chrono::Duration::days(SIMILAR_DAYS);
    let (filed, similar) = tokio::join!(
        st.writer
            .submit_once(Command::FileWhistle(b), who.clone(), idem),
        similar_to(&st, &who, probe, terms, since, SIMILAR_ON_FILING)
    );
    match filed? {
        Reply::Whistle(w) => {
            // A search that fails does not fail the filing (it is on disk already).
            let similar = similar.unwrap_or_else(|e| {
                tracing::warn!(error = %e.detail, "similar cases could not be looked for");
                Vec::new()
            });
            let (version, at) = (w.version, format!("/api/v1/whistles/{}", w.id));
            let filed = Filed {
                whistle: *w,
                similar,
            };
            Ok(created(Some((&filed, version, at)), None))
        }
        Reply::Replayed(json) => Ok(created::<()>(None, Some(json))),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/whistles`: only what the token may see.
#[utoipa::path(get, path = "/whistles", tag = "whistles", summary = "Whistles in queue order, within the token's scope",
    params(
        ("status" = Option<String>, Query, description = "Comma list of new, dispatched, returned, acknowledged, resolved, closed, rejected"),
        ("department_id" = Option<DepartmentId>, Query, description = "Led by this department"),
        ("community_id" = Option<CommunityId>, Query, description = "Filed by this community"),
        ("street_id" = Option<StreetId>, Query, description = "In this street"),
        ("overdue" = Option<bool>, Query, description = "Only overdue (true) or only on time (false)"),
        ("urgency" = Option<Urgency>, Query, description = "urgent or normal"),
        ("category" = Option<String>, Query, description = "A category code"),
        ("due_within" = Option<String>, Query, description = "Only whistles whose pending deadline (to report for duty, or to resolve) falls within this span from now: 30m, 2h, 1d"),
        ("source" = Option<Source>, Query, description = "Only whistles from this source"),
        ("pending" = Option<String>, Query, description = "Only whistles with this request waiting for the dispatcher's decision: extension (延期) or return (退单)"),
        ("q" = Option<String>, Query, description = "Words to find in the title, description, address, replies and notes (Chinese needs no spaces: 漏水 finds 屋顶漏水了; every word must be there), or a reporter's phone however written, for those who may read it. With q, from or to: every status unless asked, the cases whose title holds every word first, newest first among equals"),
        ("from" = Option<String>, Query, description = "Filed at or after: a local date (2026-11-01) or an RFC 3339 time"),
        ("to" = Option<String>, Query, description = "Filed before the end of this local date, or before this RFC 3339 time"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Page size, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of whistles", body = Page<Whistle>)))]
pub async fn list(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<axum::Json<Page<Whistle>>, ApiError> {
    let (mut q, search) = list_query(&st, &p, 50)?;
    if !scope_whistles(&who, &mut q) {
        return Ok(axum::Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    if let Some(search) = search {
        return search_page(&st, who, q, search).await.map(axum::Json);
    }
    let store = st.store.clone();
    let (items, next_cursor) = tokio::task::spawn_blocking(move || store.list_whistles(&q))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let items = items
        .into_iter()
        .filter(|w| who.sees_whistle(w))
        .map(|w| crate::reporter::strip(w, &who))
        .collect();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// The list's filters from a request, and the search's (words, dates) when it asks for one.
pub(super) fn list_query(
    st: &AppState,
    p: &Params,
    default_limit: usize,
) -> Result<(WhistleQuery, Option<crate::search::SearchQuery>), ApiError> {
    let q = WhistleQuery {
        statuses: p.list(
            "status",
            WhistleStatus::parse,
            "new, dispatched, returned, acknowledged, resolved, closed, rejected",
        )?,
        department_id: p.parse("department_id")?,
        involving: None,
        community_id: p.parse("community_id")?,
        street_id: p.parse("street_id")?,
        overdue: p.flag("overdue")?,
        urgency: match p.get("urgency") {
            None => None,
            Some("urgent") => Some(Urgency::Urgent),
            Some("normal") => Some(Urgency::Normal),
            Some(v) => {
                return Err(ApiError::bad_param(
                    "urgency",
                    format!("urgency must be urgent or normal; got {v:?}"),
                ))
            }
        },
        category: p.get("category").map(str::to_string),
        due_between: match p.get("due_within") {
            None => None,
            Some(v) => {
                let now = st.clock.now();
                Some((now, now + due_within(v)?))
            }
        },
        source: match p.get("source") {
            None => None,
            Some(v) => Some(Source::parse(v).ok_or_else(|| {
                ApiError::bad_param(
                    "source",
                    format!(
                        "source must be one of community, hotline, open311, grid, walk_in, other; got {v:?}"
                    ),
                )
            })?),
        },
        pending: match p.get("pending") {
            None => None,
            Some(v) => Some(Pending::parse(v).ok_or_else(|| {
                ApiError::bad_param(
                    "pending",
                    format!("pending must be extension or return; got {v:?}"),
                )
            })?),
        },
        limit: p.limit(default_limit, 500)?,
        cursor: p.get("cursor").map(str::to_string),
    };
    let words = p.get("q").map(str::trim).unwrap_or_default().to_string();
    let from = super::assessment::instant(st, p, "from", false)?;
    let to = super::assessment::instant(st, p, "to", true)?;
    if p.get("q").is_none() && from.is_none() && to.is_none() {
        return Ok((q, None));
    }
    if words.chars().count() > 200 {
        return Err(ApiError::bad_param("q", "q is at most 200 characters"));
    }
    Ok((
        q,
        Some(crate::search::SearchQuery {
            q: words,
            from,
            to,
            offset: 0,
        }),
    ))
}

/// How far back similar cases are looked for by default (closed ones count).
const SIMILAR_DAYS: i64 = 30;
/// Similar cases a create's answer carries.
const SIMILAR_ON_FILING: usize = 3;
/// Below this share of shared words a case is not called similar.
const SIMILAR_AT_LEAST: f64 = 0.3;

/// The cases like `w` that `who` may see, filed since `since`, best first, at most `limit`:
/// the index proposes, the records are scored here (shared words, same community, distance).
async fn similar_to(
    st: &AppState,
    who: &Principal,
    w: Probe,
    mine: Vec<String>,
    since: chrono::DateTime<chrono::Utc>,
    limit: usize,
) -> Result<Vec<Similar>, ApiError> {
    let (index, store, who) = (st.search.clone(), st.store.clone(), who.clone());
    tokio::task::spawn_blocking(move || {
        // One more candidate than asked for: the index's estimate is close, not exact, and
        // one may fall below the bar or out of reach (300 m is a circle, not a box). Each
        // candidate is a record loaded and scored.
        let ids = index
            .similar(&who, &w, &mine, since, limit + 1)
            .map_err(|e| ApiError::internal(&e))?;
        let mut out = Vec::new();
        for other in store.whistles(&ids)? {
            // (The index looks by day; the record says to the second.)
            if !who.sees_whistle(&other)
                || other.status == WhistleStatus::Rejected
                || other.created_at < since
            {
                continue;
            }
            let (score, shared) = crate::search::likeness(&mine, &other);
            if score < SIMILAR_AT_LEAST {
                continue;
            }
            let distance_m = match (w.lat.zip(w.long), other.lat.zip(other.long)) {
                (Some(a), Some(b)) => Some(crate::search::distance_m(a, b).round()),
                _ => None,
            };
            let same_community = other.community_id == w.community_id;
            if !same_community && distance_m.is_none_or(|d| d > crate::search::NEAR_M) {
                continue;
            }
            out.push(Similar {
                whistle: crate::reporter::strip(other, &who),
                score: (score * 1000.0).round() / 1000.0,
                same_community,
                distance_m,
                shared: shared.into_iter().take(8).collect(),
            });
        }
        out.sort_by(|a, b| {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.whistle.id.cmp(&a.whistle.id))
        });
        out.truncate(limit);
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// `GET /api/v1/whistles/{id}/similar`: cases that may be the same problem.
#[utoipa::path(get, path = "/whistles/{id}/similar", tag = "whistles",
    summary = "Open and recent cases of the same category in the same community (or within 300 m) whose words are alike, best first",
    params(
        ("id" = WhistleId, Path, description = "The whistle, e.g. W1042"),
        ("days" = Option<u32>, Query, minimum = 1, maximum = 366, description = "How far back, from the case's filing; default 30 (closed cases count)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "At most this many, default 10"),
    ),
    responses((status = 200, description = "The similar cases, each with its score and why it matched", body = Vec<Similar>)))]
pub async fn similar(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    p: Params,
) -> Result<axum::Json<Vec<Similar>>, ApiError> {
    let id = whistle_id(&id)?;
    let days: i64 = match p.get("days") {
        None => SIMILAR_DAYS,
        Some(v) => v
            .parse()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| {
                ApiError::bad_param("days", format!("days must be 1 to 366; got {v:?}"))
            })?,
    };
    let limit = p.limit(10, 50)?;
    let w = st
        .store
        .whistle(id)?
        .filter(|x| who.sees_whistle(x))
        .ok_or_else(|| ApiError::not_found(format!("there is no whistle {id}")))?;
    let since = w.created_at - chrono::Duration::days(days);
    let terms = crate::search::terms(&w);
    similar_to(&st, &who, Probe::of(&w), terms, since, limit)
        .await
        .map(axum::Json)
}

/// A page of a search: the index finds the ids, the store gives the records as they are now
/// (checked again against the token's scope and every filter).
async fn search_page(
    st: &AppState,
    who: Principal,
    q: WhistleQuery,
    mut search: crate::search::SearchQuery,
) -> Result<Page<Whistle>, ApiError> {
    search.offset = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .strip_prefix('s')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::bad_param(
                    "cursor",
                    format!("cursor {c:?} is not one this server issued; start again without it"),
                )
            })?,
    };
    index_ready(st).await?;
    let (index, store, limit) = (st.search.clone(), st.store.clone(), q.limit);
    tokio::task::spawn_blocking(move || {
        let (ids, more) = index
            .find(&who, &q, &search, limit)
            .map_err(|e| ApiError::internal(&e))?;
        let items = store
            .whistles(&ids)?
            .into_iter()
            .filter(|w| who.sees_whistle(w) && q.matches(w))
            .map(|w| crate::reporter::strip(w, &who))
            .collect();
        Ok(Page {
            items,
            next_cursor: more.then(|| format!("s{}", search.offset + limit)),
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// Waits a moment for the index to hold what was written before this request; 503 when it
/// is far behind (being built from the log), so an answer never silently misses cases.
pub(super) async fn index_ready(st: &AppState) -> Result<(), ApiError> {
    let head = st.store.last_seq()?;
    if !st
        .search
        .caught_up(head, std::time::Duration::from_secs(1))
        .await
        && head.saturating_sub(st.search.indexed_seq()) > 10_000
    {
        return Err(ApiError::unavailable(format!(
            "the search index is still being built from the log ({} of {} events); try again in a moment",
            st.search.indexed_seq(),
            head
        )));
    }
    Ok(())
}

/// A `due_within` span on the clock: `30m`, `2h`, `1d` (a working-time span would mean
/// different things at different hours of the day).
fn due_within(v: &str) -> Result<chrono::Duration, ApiError> {
    match shaozi_shared::calendar::Span::parse(v) {
        Ok(shaozi_shared::calendar::Span::Minutes(m)) if m <= 366 * 24 * 60 => {
            Ok(chrono::Duration::minutes(m))
        }
        Ok(_) => Err(ApiError::bad_param(
            "due_within",
            format!("due_within is clock time (m, h or d) up to a year, e.g. 2h; got {v:?}"),
        )),
        Err(e) => Err(ApiError::bad_param("due_within", e)),
    }
}

/// `GET /api/v1/whistles/{id}`: the whistle with its timeline.
#[utoipa::path(get, path = "/whistles/{id}", tag = "whistles", summary = "A whistle with its timeline",
    params(("id" = WhistleId, Path, description = "The whistle, e.g. W1042")),
    responses((status = 200, description = "The whistle and every step so far", body = WhistleDetail,
        headers(("ETag" = String, description = "Its version, quoted; send it back as If-Match")))))]
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = whistle_id(&id)?;
    // Outside the token's scope is the same answer as missing: nothing is told about it.
    let whistle = st
        .store
        .whistle(id)?
        .filter(|x| who.sees_whistle(x))
        .map(|x| crate::reporter::strip(x, &who))
        .ok_or_else(|| ApiError::not_found(format!("there is no whistle {id}")))?;
    let mut timeline = st.store.whistle_timeline(id)?;
    // Internal notes are for staff: a community's token reads the case without them.
    if matches!(who.scope, shaozi_shared::Scope::Community(_)) {
        timeline.retain(|e| e.kind != shaozi_shared::EventKind::WhistleNotedInternal);
    }
    let version = whistle.version;
    Ok(with_etag(
        StatusCode::OK,
        &WhistleDetail { whistle, timeline },
        version,
        None,
    ))
}

/// One step on a whistle: 200 with the updated whistle. With `If-Match`, only if the whistle
/// is still at that version (412 otherwise).
async fn step(
    st: &AppState,
    who: Principal,
    id: &str,
    headers: &HeaderMap,
    body: StepBody,
) -> Result<Response, ApiError> {
    let id = whistle_id(id)?;
    let expected = if_match(headers)?;
    let action = body
        .whistle_action()
        .ok_or_else(|| ApiError::internal(&"a wish step on a whistle route"))?;
    let reader = who.clone();
    match st
        .writer
        .submit(Command::Whistle(id, action, expected), who)
        .await
    {
        Ok(Reply::Whistle(w)) => {
            let w = crate::reporter::strip(*w, &reader);
            Ok(with_etag(StatusCode::OK, &w, w.version, None))
        }
        Ok(r) => Err(unexpected(&r)),
        Err(e) => Err(explain(e, || st.store.whistle_timeline(id))),
    }
}

/// A handler and an OpenAPI operation for every whistle step of the shared table.
macro_rules! whistle_step_routes {
    (
        whistles { $($v:ident $name:ident $path:literal $body:ty, $summary:literal;)* }
        wishes { $($rest:tt)* }
    ) => {
        $(
            step_route!(
                #[doc = $summary]
                $name, $path, "whistles", $summary, WhistleId, "The whistle, e.g. W1042", Whistle,
                $body, |b| StepBody::$v(b)
            );
        )*

        /// Every whistle step's route, with its operation in the OpenAPI document.
        pub fn step_routes(
            r: utoipa_axum::router::OpenApiRouter<AppState>,
        ) -> utoipa_axum::router::OpenApiRouter<AppState> {
            r$(.routes(utoipa_axum::routes!($name)))*
        }
    };
}

shaozi_shared::step_table!(whistle_step_routes);
