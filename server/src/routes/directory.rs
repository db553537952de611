//! Streets, communities, departments and categories.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use shaozi_shared::api::{NewCommunity, NewDepartment, NewStreet};
use shaozi_shared::{Category, Principal};

use super::{created, idempotency, unexpected};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::writer::{Command, Reply};
use crate::AppState;

/// `GET /api/v1/streets`.
pub async fn list_streets(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.streets()?).into_response())
}

/// `GET /api/v1/communities`.
pub async fn list_communities(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.communities()?).into_response())
}

/// `GET /api/v1/departments`.
pub async fn list_departments(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.departments()?).into_response())
}

/// `GET /api/v1/categories`.
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
pub async fn create_street(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewStreet>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateStreet(b.clone())).await
}

/// `POST /api/v1/communities`.
pub async fn create_community(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewCommunity>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateCommunity(b.clone())).await
}

/// `POST /api/v1/departments`.
pub async fn create_department(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewDepartment>,
) -> Result<Response, ApiError> {
    create(&st, who, &headers, &b, Command::CreateDepartment(b.clone())).await
}
