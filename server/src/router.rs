//! The HTTP routes: the API with its OpenAPI descriptions, Open311, the probes, and the
//! layers every request passes (authentication, the NUL refusal, body limits, counting).

use axum::extract::{DefaultBodyLimit, Path};
use axum::routing::get;
use axum::Router;

use shaozi_shared::api::Step;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{extract, open311, openapi, routes};

/// The HTTP routes.
pub fn app(state: AppState) -> Router {
    let (api, _) = routes::api_routes().split_for_parts();
    // A mistyped step gets the list of real ones rather than a bare "no such route".
    let names = |steps: &[Step]| {
        steps
            .iter()
            .map(|s| s.tail())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (whistle_steps, wish_steps) = (names(Step::WHISTLE), names(Step::WISH));
    let api = api
        .route(
            "/whistles/{id}/{action}",
            axum::routing::any(|Path((_, a)): Path<(String, String)>| async move {
                ApiError::not_found(format!("no action {a:?}; whistles take {whistle_steps}"))
            }),
        )
        .route(
            "/wishes/{id}/{action}",
            axum::routing::any(|Path((_, a)): Path<(String, String)>| async move {
                ApiError::not_found(format!("no action {a:?}; wishes take {wish_steps}"))
            }),
        );
    let api = api.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        routes::gate::require_token,
    ));
    let api = api.route_layer(axum::middleware::from_fn(routes::ops::note_route));
    let api = api.layer(axum::middleware::from_fn(extract::refuse_nul));
    let open311 = open311::routes().route_layer(axum::middleware::from_fn(routes::ops::note_route));
    Router::new()
        // Liveness: the process answers. Readiness (the store takes writes) is /readyz.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        // The contract is public, so a client generator needs no token to read it.
        .route("/api/v1/openapi.json", get(openapi::serve))
        .nest("/api/v1", api)
        .nest("/open311/v2", open311)
        .route_layer(axum::middleware::from_fn(routes::ops::note_route))
        .fallback(|| async { ApiError::not_found("no such route; the API lives under /api/v1") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(axum::middleware::map_request(extract::deadline_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::ops::count_request,
        ))
        .with_state(state)
}
