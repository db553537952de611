//! Micro-wishes: file, list, read, claim, complete, cancel, within the token's scope.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use serde::Serialize;

use shaozi_shared::api::{ClaimBody, CompleteBody, NewWish, Page, ReasonBody};
use shaozi_shared::{Principal, Scope, TimelineEntry, Wish, WishAction, WishId, WishStatus};

use super::whistles::explain;
use super::{created, idempotency, if_match, unexpected, with_etag};
use crate::error::ApiError;
use crate::extract::{parse_json, ApiJson, Params};
use crate::store::keys::family;
use crate::store::WishQuery;
use crate::writer::{Command, Reply};
use crate::AppState;

fn wish_id(s: &str) -> Result<WishId, ApiError> {
    s.parse()
        .map_err(|e: shaozi_shared::IdParseError| ApiError::not_found(e.to_string()))
}

/// `POST /api/v1/wishes`.
pub async fn create(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewWish>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, &who, &b)?;
    match st
        .writer
        .submit_once(Command::FileWish(b), who, idem)
        .await?
    {
        Reply::Wish(w) => Ok(created(
            Some((&*w, w.version, format!("/api/v1/wishes/{}", w.id))),
            None,
        )),
        Reply::Replayed(json) => Ok(created::<()>(None, Some(json))),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/wishes`, newest first, only what the token may see.
pub async fn list(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Json<Page<Wish>>, ApiError> {
    let mut q = WishQuery {
        statuses: p.list(
            "status",
            WishStatus::parse,
            "open, claimed, completed, cancelled",
        )?,
        community_id: p.parse("community_id")?,
        limit: p.limit(50, 500)?,
        cursor: p.get("cursor").map(str::to_string),
    };
    if let Scope::Community(c) = who.scope {
        if q.community_id.is_some_and(|x| x != c) {
            return Ok(Json(Page {
                items: Vec::new(),
                next_cursor: None,
            }));
        }
        q.community_id = Some(c);
    }
    let (items, next_cursor) = st.store.list_wishes(&q)?;
    let items = items.into_iter().filter(|w| who.sees_wish(w)).collect();
    Ok(Json(Page { items, next_cursor }))
}

/// A wish with its history.
#[derive(Serialize)]
struct WishDetail {
    #[serde(flatten)]
    wish: Wish,
    timeline: Vec<TimelineEntry>,
}

/// `GET /api/v1/wishes/{id}`.
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = wish_id(&id)?;
    let wish = st
        .store
        .wish(id)?
        .ok_or_else(|| ApiError::not_found(format!("there is no wish {id}")))?;
    if !who.sees_wish(&wish) {
        return Err(ApiError::forbidden(format!(
            "{} ({}) may not see {id}: it is outside this token's scope",
            who.name,
            who.role.as_str()
        )));
    }
    let timeline = st.store.timeline(family::WISH_TIMELINE, id.0)?;
    let version = wish.version;
    Ok(with_etag(
        StatusCode::OK,
        &WishDetail { wish, timeline },
        version,
        None,
    ))
}

/// `POST /api/v1/wishes/{id}/{claim|complete|cancel}`, with `If-Match` as for whistles.
pub async fn act(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let id = wish_id(&id)?;
    let expected = if_match(&headers)?;
    let bytes = body.to_string();
    let bytes = bytes.as_bytes();
    let action = match action.as_str() {
        "claim" => {
            let b: ClaimBody = parse_json(bytes)?;
            WishAction::Claim {
                department_id: b.department_id,
                claimer: b.claimer,
            }
        }
        "complete" => WishAction::Complete {
            note: parse_json::<CompleteBody>(bytes)?.note,
        },
        "cancel" => WishAction::Cancel {
            reason: parse_json::<ReasonBody>(bytes)?.reason,
        },
        other => {
            return Err(ApiError::not_found(format!(
                "no action {other:?}; wishes take claim, complete, cancel"
            )))
        }
    };
    match st
        .writer
        .submit(Command::Wish(id, action, expected), who)
        .await
    {
        Ok(Reply::Wish(w)) => Ok(with_etag(StatusCode::OK, &*w, w.version, None)),
        Ok(r) => Err(unexpected(&r)),
        Err(e) => Err(explain(&st, family::WISH_TIMELINE, id.0, e)),
    }
}
