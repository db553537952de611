//! Whistles: file, list, read, and every step of their life.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use shaozi_shared::api::{
    AcknowledgeBody, CloseBody, DispatchBody, NewWhistle, Page, ReasonBody, RejectBody,
    ResolveBody, WhistleDetail,
};
use shaozi_shared::{Actor, Urgency, Whistle, WhistleAction, WhistleId, WhistleStatus};

use super::{unexpected, with_etag};
use crate::error::ApiError;
use crate::extract::{parse_json, ApiJson, Params};
use crate::store::keys::family;
use crate::store::WhistleQuery;
use crate::writer::{Command, Reply};
use crate::AppState;

fn whistle_id(s: &str) -> Result<WhistleId, ApiError> {
    s.parse()
        .map_err(|e: shaozi_shared::IdParseError| ApiError::not_found(e.to_string()))
}

fn answer(status: StatusCode, r: Reply) -> Result<Response, ApiError> {
    match r {
        Reply::Whistle(w) => {
            let loc = (status == StatusCode::CREATED).then(|| format!("/api/v1/whistles/{}", w.id));
            Ok(with_etag(status, &*w, w.version, loc))
        }
        r => Err(unexpected(&r)),
    }
}

/// `POST /api/v1/whistles`: 201 with the new whistle.
pub async fn create(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewWhistle>,
) -> Result<Response, ApiError> {
    answer(
        StatusCode::CREATED,
        st.writer.submit(Command::FileWhistle(b), actor).await?,
    )
}

/// `GET /api/v1/whistles`.
pub async fn list(
    State(st): State<AppState>,
    p: Params,
) -> Result<axum::Json<Page<Whistle>>, ApiError> {
    let q = WhistleQuery {
        statuses: p.list(
            "status",
            WhistleStatus::parse,
            "new, dispatched, acknowledged, resolved, closed, rejected",
        )?,
        department_id: p.parse("department_id")?,
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
        limit: p.limit(50, 500)?,
        cursor: p.get("cursor").map(str::to_string),
    };
    let store = st.store.clone();
    let (items, next_cursor) = tokio::task::spawn_blocking(move || store.list_whistles(&q))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(axum::Json(Page { items, next_cursor }))
}

/// `GET /api/v1/whistles/{id}`: the whistle with its timeline.
pub async fn get(State(st): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = whistle_id(&id)?;
    let whistle = st
        .store
        .whistle(id)?
        .ok_or_else(|| ApiError::not_found(format!("there is no whistle {id}")))?;
    let timeline = st.store.timeline(family::TIMELINE, id.0)?;
    let version = whistle.version;
    Ok(with_etag(
        StatusCode::OK,
        &WhistleDetail { whistle, timeline },
        version,
        None,
    ))
}

/// `POST /api/v1/whistles/{id}/{action}`: one step; 200 with the updated whistle.
pub async fn act(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((id, action)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let id = whistle_id(&id)?;
    let bytes = body.to_string();
    let action = match action.as_str() {
        "dispatch" => {
            let b: DispatchBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Dispatch { department_id: b.department_id, assisting: b.assisting, note: b.note }
        }
        "acknowledge" => {
            let b: AcknowledgeBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Acknowledge { staff: b.staff, note: b.note }
        }
        "resolve" => {
            let b: ResolveBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Resolve { reply: b.reply }
        }
        "close" => {
            let b: CloseBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Close { satisfaction: b.satisfaction, note: b.note }
        }
        "reopen" => {
            let b: ReasonBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Reopen { reason: b.reason }
        }
        "reject" => {
            let b: RejectBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Reject { reason: b.reason, duplicate_of: b.duplicate_of }
        }
        "escalate" => {
            let b: ReasonBody = parse_json(bytes.as_bytes())?;
            WhistleAction::Escalate { reason: b.reason }
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no action {other:?}; whistles take dispatch, acknowledge, resolve, close, reopen, reject, escalate"
            )))
        }
    };
    answer(
        StatusCode::OK,
        st.writer
            .submit(Command::Whistle(id, action), actor)
            .await?,
    )
}
