//! Streets, communities, departments and categories.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use shaozi_shared::api::{Community, Department, NewCommunity, NewDepartment, NewStreet, Street};
use shaozi_shared::{Category, Principal};

use super::IdempotencyKey;
use super::{created, idempotency, unexpected};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::writer::{Command, Reply};
use crate::AppState;

/// `GET /api/v1/streets`.
#[utoipa::path(get, path = "/streets", tag = "directory", summary = "Every street office",
    responses((status = 200, description = "Every street office, in id order", body = Vec<Street>)))]
pub async fn list_streets(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.streets()?).into_response())
}

/// `GET /api/v1/communities`.
#[utoipa::path(get, path = "/communities", tag = "directory", summary = "Every community",
    responses((status = 200, description = "Every community, in id order", body = Vec<Community>)))]
pub async fn list_communities(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.communities()?).into_response())
}

/// `GET /api/v1/departments`.
#[utoipa::path(get, path = "/departments", tag = "directory", summary = "Every department",
    responses((status = 200, description = "Every department, in id order", body = Vec<Department>)))]
pub async fn list_departments(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.departments()?).into_response())
}

/// `GET /api/v1/categories`.
#[utoipa::path(get, path = "/categories", tag = "directory", summary = "The problem categories and their deadlines",
    responses((status = 200, description = "Every category", body = Vec<Category>)))]
pub async fn list_categories(State(st): State<AppState>) -> Json<Vec<Category>> {
    Json(st.rules.categories.clone())
}

/// Commits a directory create, honouring its Idempotency-Key.
async fn create<B: Serialize>(
    st: &AppState,
    who: Principal,
    headers: &HeaderMap,
    body: &B,
    cmd: Command,
) -> Result<Response, ApiError> {
    let idem = idempotency(headers, &who, body)?;
    match st.writer.submit_once(cmd, who, idem).await? {
        Reply::Street(x) => Ok(created(
            Some((&x, 0, format!("/api/v1/streets/{}", x.id))),
            None,
        )),
        Reply::Community(x) => Ok(created(
            Some((&x, 0, format!("/api/v1/communities/{}", x.id))),
            None,
        )),
        Reply::Department(x) => Ok(created(
            Some((&x, 0, format!("/api/v1/departments/{}", x.id))),
            None,
        )),
        Reply::Replayed(json) => Ok(created::<()>(None, Some(json))),
        r => Err(unexpected(&r)),
    }
}

/// `POST /api/v1/streets`.
#[utoipa::path(post, path = "/streets", tag = "directory", summary = "Add a street office",
    params(IdempotencyKey), request_body = NewStreet,
    responses((status = 201, description = "The new street office", body = Street,
        headers(("Location" = String, description = "Where it lives"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to a retried Idempotency-Key")))))]
pub async fn create_street(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewStreet>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateStreet(b.clone())).await
}

/// `POST /api/v1/communities`.
#[utoipa::path(post, path = "/communities", tag = "directory", summary = "Add a community",
    params(IdempotencyKey), request_body = NewCommunity,
    responses((status = 201, description = "The new community", body = Community,
        headers(("Location" = String, description = "Where it lives"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to a retried Idempotency-Key")))))]
pub async fn create_community(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewCommunity>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateCommunity(b.clone())).await
}

/// `POST /api/v1/departments`.
#[utoipa::path(post, path = "/departments", tag = "directory", summary = "Add a department",
    params(IdempotencyKey), request_body = NewDepartment,
    responses((status = 201, description = "The new department", body = Department,
        headers(("Location" = String, description = "Where it lives"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to a retried Idempotency-Key")))))]
pub async fn create_department(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewDepartment>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateDepartment(b.clone())).await
}
