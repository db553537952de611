//! Whistles: file, list, read, and every step of their life, each within the token's scope.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use shaozi_shared::api::{
    AcknowledgeBody, CloseBody, DispatchBody, NewWhistle, Page, ReasonBody, RejectBody,
    ResolveBody, WhistleDetail,
};
use shaozi_shared::{Principal, Urgency, Whistle, WhistleAction, WhistleId, WhistleStatus};

use super::{created, idempotency, if_match, scope_whistles, unexpected, with_etag};
use crate::error::ApiError;
use crate::extract::{parse_json, ApiJson, Params};
use crate::store::keys::family;
use crate::store::WhistleQuery;
use crate::writer::{Command, Reply, WriteError};
use crate::AppState;

fn whistle_id(s: &str) -> Result<WhistleId, ApiError> {
    s.parse()
        .map_err(|e: shaozi_shared::IdParseError| ApiError::not_found(e.to_string()))
}

/// Adds who made the last change to a stale-version refusal.
pub fn explain(st: &AppState, fam: u8, id: u64, e: WriteError) -> ApiError {
    if let WriteError::Stale { detail, current } = e {
        let last = st
            .store
            .timeline(fam, id)
            .ok()
            .and_then(|t| t.last().cloned());
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
pub async fn create(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewWhistle>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, &who, &b)?;
    match st
        .writer
        .submit_once(Command::FileWhistle(b), who, idem)
        .await?
    {
        Reply::Whistle(w) => Ok(created(
            Some((&*w, w.version, format!("/api/v1/whistles/{}", w.id))),
            None,
        )),
        Reply::Replayed(json) => Ok(created::<()>(None, Some(json))),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/whistles`: only what the token may see.
pub async fn list(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<axum::Json<Page<Whistle>>, ApiError> {
    let mut q = WhistleQuery {
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
    if !scope_whistles(&who, &mut q) {
        return Ok(axum::Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let store = st.store.clone();
    let (items, next_cursor) = tokio::task::spawn_blocking(move || store.list_whistles(&q))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let items = items.into_iter().filter(|w| who.sees_whistle(w)).collect();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// `GET /api/v1/whistles/{id}`: the whistle with its timeline.
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = whistle_id(&id)?;
    let whistle = st
        .store
        .whistle(id)?
        .ok_or_else(|| ApiError::not_found(format!("there is no whistle {id}")))?;
    if !who.sees_whistle(&whistle) {
        return Err(ApiError::forbidden(format!(
            "{} ({}) may not see {id}: it is outside this token's scope",
            who.name,
            who.role.as_str()
        )));
    }
    let timeline = st.store.timeline(family::TIMELINE, id.0)?;
    let version = whistle.version;
    Ok(with_etag(
        StatusCode::OK,
        &WhistleDetail { whistle, timeline },
        version,
        None,
    ))
}

/// `POST /api/v1/whistles/{id}/{action}`: one step; 200 with the updated whistle. With
/// `If-Match`, only if the whistle is still at that version (412 otherwise).
pub async fn act(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let id = whistle_id(&id)?;
    let expected = if_match(&headers)?;
    let bytes = body.to_string();
    let bytes = bytes.as_bytes();
    let action = match action.as_str() {
        "dispatch" => {
            let b: DispatchBody = parse_json(bytes)?;
            WhistleAction::Dispatch { department_id: b.department_id, assisting: b.assisting, note: b.note }
        }
        "acknowledge" => {
            let b: AcknowledgeBody = parse_json(bytes)?;
            WhistleAction::Acknowledge { staff: b.staff, note: b.note }
        }
        "resolve" => WhistleAction::Resolve { reply: parse_json::<ResolveBody>(bytes)?.reply },
        "close" => {
            let b: CloseBody = parse_json(bytes)?;
            WhistleAction::Close { satisfaction: b.satisfaction, note: b.note }
        }
        "reopen" => WhistleAction::Reopen { reason: parse_json::<ReasonBody>(bytes)?.reason },
        "reject" => {
            let b: RejectBody = parse_json(bytes)?;
            WhistleAction::Reject { reason: b.reason, duplicate_of: b.duplicate_of }
        }
        "escalate" => WhistleAction::Escalate { reason: parse_json::<ReasonBody>(bytes)?.reason },
        other => {
            return Err(ApiError::not_found(format!(
                "no action {other:?}; whistles take dispatch, acknowledge, resolve, close, reopen, reject, escalate"
            )))
        }
    };
    match st
        .writer
        .submit(Command::Whistle(id, action, expected), who)
        .await
    {
        Ok(Reply::Whistle(w)) => Ok(with_etag(StatusCode::OK, &*w, w.version, None)),
        Ok(r) => Err(unexpected(&r)),
        Err(e) => Err(explain(&st, family::TIMELINE, id.0, e)),
    }
}
