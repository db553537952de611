//! What stands before the routes: who is calling (the client address, through the trusted
//! proxies) and with which token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::{bearer_value, hash, Credential};
use crate::error::ApiError;
use crate::guard::Client;
use crate::AppState;

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Client::resolve(
            peer,
            &parts.headers,
            &st.guard.limits.trusted_proxies,
        ))
    }
}

/// Middleware: a valid `Authorization: Bearer` token (401 otherwise), within its rate (429
/// with `Retry-After` otherwise); puts the [`Principal`] and its [`Credential`] in the request.
/// A wrong or missing token from an address that keeps failing is 429 rather than 401.
pub async fn require_token(
    State(st): State<AppState>,
    client: Client,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let failed = |e: ApiError| match st.guard.key_failed(client) {
        Ok(()) => e,
        Err(r) => ApiError::refused(r),
    };
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| failed(ApiError::unauthorized("send Authorization: Bearer <token>")))?;
    let token = value.to_str().ok().and_then(bearer_value).ok_or_else(|| {
        failed(ApiError::unauthorized(
            "the Authorization header must be: Bearer <token>",
        ))
    })?;
    let h = hash(token);
    let book = &st.tokens;
    let p = book.principal_by_hash(&h).map_err(|e| failed(e.into()))?;
    book.take(&p.name).map_err(ApiError::too_many)?;
    req.extensions_mut().insert(p);
    req.extensions_mut().insert(Credential(h));
    Ok(next.run(req).await)
}
