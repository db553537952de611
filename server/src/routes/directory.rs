//! Streets, communities, departments and categories.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use shaozi_shared::api::{NewCommunity, NewDepartment, NewStreet};
use shaozi_shared::{Actor, Category};

use super::unexpected;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::writer::{Command, Reply};
use crate::AppState;

/// `GET /api/v1/streets`.
pub async fn list_streets(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.streets()?).into_response())
}

/// `POST /api/v1/streets`.
pub async fn create_street(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewStreet>,
) -> Result<Response, ApiError> {
    match st.writer.submit(Command::CreateStreet(b), actor).await? {
        Reply::Street(s) => Ok((StatusCode::CREATED, Json(s)).into_response()),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/communities`.
pub async fn list_communities(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.communities()?).into_response())
}

/// `POST /api/v1/communities`.
pub async fn create_community(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewCommunity>,
) -> Result<Response, ApiError> {
    match st.writer.submit(Command::CreateCommunity(b), actor).await? {
        Reply::Community(c) => Ok((StatusCode::CREATED, Json(c)).into_response()),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/departments`.
pub async fn list_departments(State(st): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(st.store.departments()?).into_response())
}

/// `POST /api/v1/departments`.
pub async fn create_department(
    State(st): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewDepartment>,
) -> Result<Response, ApiError> {
    match st
        .writer
        .submit(Command::CreateDepartment(b), actor)
        .await?
    {
        Reply::Department(d) => Ok((StatusCode::CREATED, Json(d)).into_response()),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/categories`.
pub async fn list_categories(State(st): State<AppState>) -> Json<Vec<Category>> {
    Json(st.categories.as_ref().clone())
}
