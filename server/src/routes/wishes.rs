//! Micro-wishes: file, list, read, claim, complete, cancel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Serialize;

use shaozi_shared::api::{ClaimBody, CompleteBody, NewWish, Page, ReasonBody};
use shaozi_shared::{Actor, TimelineEntry, Wish, WishAction, WishId, WishStatus};

use super::{unexpected, with_etag};
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

fn answer(status: StatusCode, r: Reply) -> Result<Response, ApiError> {
    match r {
        Reply::Wish(w) => {
            let loc = (status == StatusCode::CREATED).then(|| format!("/api/v1/wishes/{}", w.id));
            Ok(with_etag(status, &*w, w.version, loc))
        }
        r => Err(unexpected(&r)),
    }
}

/// `POST /api/v1/wishes`.
pub async fn create(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewWish>,
) -> Result<Response, ApiError> {
    answer(
        StatusCode::CREATED,
        st.writer.submit(Command::FileWish(b), actor).await?,
    )
}

/// `GET /api/v1/wishes`, newest first.
pub async fn list(State(st): State<AppState>, p: Params) -> Result<Json<Page<Wish>>, ApiError> {
    let q = WishQuery {
        statuses: p.list(
            "status",
            WishStatus::parse,
            "open, claimed, completed, cancelled",
        )?,
        community_id: p.parse("community_id")?,
        limit: p.limit(50, 500)?,
        cursor: p.get("cursor").map(str::to_string),
    };
    let (items, next_cursor) = st.store.list_wishes(&q)?;
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
pub async fn get(State(st): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = wish_id(&id)?;
    let wish = st
        .store
        .wish(id)?
        .ok_or_else(|| ApiError::not_found(format!("there is no wish {id}")))?;
    let timeline = st.store.timeline(family::WISH_TIMELINE, id.0)?;
    let version = wish.version;
    Ok(with_etag(
        StatusCode::OK,
        &WishDetail { wish, timeline },
        version,
        None,
    ))
}

/// `POST /api/v1/wishes/{id}/{claim|complete|cancel}`.
pub async fn act(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((id, action)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let id = wish_id(&id)?;
    let bytes = body.to_string();
    let action = match action.as_str() {
        "claim" => {
            let b: ClaimBody = parse_json(bytes.as_bytes())?;
            WishAction::Claim {
                department_id: b.department_id,
                claimer: b.claimer,
            }
        }
        "complete" => {
            let b: CompleteBody = parse_json(bytes.as_bytes())?;
            WishAction::Complete { note: b.note }
        }
        "cancel" => {
            let b: ReasonBody = parse_json(bytes.as_bytes())?;
            WishAction::Cancel { reason: b.reason }
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no action {other:?}; wishes take claim, complete, cancel"
            )))
        }
    };
    answer(
        StatusCode::OK,
        st.writer.submit(Command::Wish(id, action), actor).await?,
    )
}
