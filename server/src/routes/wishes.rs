//! Micro-wishes: file, list, read, claim, complete, cancel, within the token's scope.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};

use shaozi_shared::api::{NewWish, Page, StepBody, WishDetail};
use shaozi_shared::{CommunityId, Principal, Scope, Wish, WishId, WishStatus};

use super::whistles::explain;
use super::{created, idempotency, if_match, unexpected, with_etag};
use super::{IdempotencyKey, IfMatch};
use crate::error::ApiError;
use crate::extract::{ApiJson, Params};
use crate::storage::WishQuery;
use crate::writer::{Command, Reply};
use crate::AppState;

fn wish_id(s: &str) -> Result<WishId, ApiError> {
    s.parse()
        .map_err(|e: shaozi_shared::IdParseError| ApiError::not_found(e.to_string()))
}

/// `POST /api/v1/wishes`.
#[utoipa::path(post, path = "/wishes", tag = "wishes", summary = "File a micro-wish",
    params(IdempotencyKey), request_body = NewWish,
    responses((status = 201, description = "The new wish, on disk", body = Wish,
        headers(("Location" = String, description = "Where it lives"),
            ("ETag" = String, description = "Its version, quoted"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to a retried Idempotency-Key")))))]
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
#[utoipa::path(get, path = "/wishes", tag = "wishes", summary = "Micro-wishes, newest first, within the token's scope",
    params(
        ("status" = Option<String>, Query, description = "Comma list of open, claimed, completed, cancelled"),
        ("community_id" = Option<CommunityId>, Query, description = "Filed by this community"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Page size, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of wishes", body = Page<Wish>)))]
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

/// `GET /api/v1/wishes/{id}`.
#[utoipa::path(get, path = "/wishes/{id}", tag = "wishes", summary = "A wish with its timeline",
    params(("id" = WishId, Path, description = "The wish, e.g. M17")),
    responses((status = 200, description = "The wish and every step so far", body = WishDetail,
        headers(("ETag" = String, description = "Its version, quoted; send it back as If-Match")))))]
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = wish_id(&id)?;
    // Outside the token's scope is the same answer as missing: nothing is told about it.
    let wish = st
        .store
        .wish(id)?
        .filter(|x| who.sees_wish(x))
        .ok_or_else(|| ApiError::not_found(format!("there is no wish {id}")))?;
    let timeline = st.store.wish_timeline(id)?;
    let version = wish.version;
    Ok(with_etag(
        StatusCode::OK,
        &WishDetail { wish, timeline },
        version,
        None,
    ))
}

/// One step on a wish, with `If-Match` as for whistles.
async fn step(
    st: &AppState,
    who: Principal,
    id: &str,
    headers: &HeaderMap,
    body: StepBody,
) -> Result<Response, ApiError> {
    let id = wish_id(id)?;
    let expected = if_match(headers)?;
    let action = body
        .wish_action()
        .ok_or_else(|| ApiError::internal(&"a whistle step on a wish route"))?;
    match st
        .writer
        .submit(Command::Wish(id, action, expected), who)
        .await
    {
        Ok(Reply::Wish(w)) => Ok(with_etag(StatusCode::OK, &*w, w.version, None)),
        Ok(r) => Err(unexpected(&r)),
        Err(e) => Err(explain(e, || st.store.wish_timeline(id))),
    }
}

/// A handler and an OpenAPI operation for every wish step of the shared table.
macro_rules! wish_step_routes {
    (
        whistles { $($rest:tt)* }
        wishes { $($v:ident $name:ident $path:literal $body:ty, $summary:literal;)* }
    ) => {
        $(
            step_route!(
                #[doc = $summary]
                $name, $path, "wishes", $summary, WishId, "The wish, e.g. M17", Wish,
                $body, |b| StepBody::$v(b)
            );
        )*

        /// Every wish step's route, with its operation in the OpenAPI document.
        pub fn step_routes(
            r: utoipa_axum::router::OpenApiRouter<AppState>,
        ) -> utoipa_axum::router::OpenApiRouter<AppState> {
            r$(.routes(utoipa_axum::routes!($name)))*
        }
    };
}

shaozi_shared::step_table!(wish_step_routes);
