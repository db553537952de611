//! The `/api/v1` routes, each with its OpenAPI description: what the router serves and what
//! the contract is generated from.

use super::{
    admin, assessment, directory, events, ledger, maintenance, patterns, stats, templates,
    webhooks, whistles, wishes,
};

/// The `/api/v1` routes with their OpenAPI descriptions, before authentication.
pub fn api_routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    let api = utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(directory::list_streets, directory::create_street))
        .routes(routes!(
            directory::list_communities,
            directory::create_community
        ))
        .routes(routes!(
            directory::list_departments,
            directory::create_department
        ))
        .routes(routes!(directory::list_categories))
        .routes(routes!(whistles::list, whistles::create))
        .routes(routes!(whistles::get))
        .routes(routes!(ledger::ledger))
        .routes(routes!(whistles::similar))
        .routes(routes!(wishes::list, wishes::create))
        .routes(routes!(wishes::get))
        .routes(routes!(stats::get))
        .routes(routes!(events::stream))
        .routes(routes!(admin::me))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::audit))
        .routes(routes!(maintenance::backup))
        .routes(routes!(maintenance::check))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get_one, webhooks::delete))
        .routes(routes!(webhooks::resume))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::adopt))
        .routes(routes!(assessment::get))
        .routes(routes!(assessment::record))
        .routes(routes!(patterns::hotspots))
        .routes(routes!(patterns::trends))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(templates::get_one, templates::delete));
    // Every step of the shared table, whistles' and wishes'.
    wishes::step_routes(whistles::step_routes(api))
}
