//! `GET /api/v1/stats`: the store's counts, within the token's scope.

use axum::extract::State;
use axum::{Extension, Json};

use shaozi_shared::api::Stats;
use shaozi_shared::Principal;

use crate::error::ApiError;
use crate::AppState;

/// `GET /api/v1/stats`.
#[utoipa::path(get, path = "/stats", tag = "stats", summary = "Queue, department load and wish totals, within the token's scope",
    responses((status = 200, description = "Counts, read from counters", body = Stats)))]
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Stats>, ApiError> {
    Ok(Json(st.store.stats_for(&who)?))
}
