//! Tokens, `me`, and the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use shaozi_shared::api::{AuditPage, CreatedToken, Me, NewToken, TokenInfo};
use shaozi_shared::{Op, Principal};

use super::unexpected;
use crate::auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, Params};
use crate::writer::{Command, Reply};
use crate::AppState;

/// `GET /api/v1/me`.
#[utoipa::path(get, path = "/me", tag = "admin", summary = "Who this token is and what it may do",
    responses((status = 200, description = "The token's name, role, scope and allowed steps", body = Me)))]
pub async fn me(State(st): State<AppState>, Extension(who): Extension<Principal>) -> Json<Me> {
    let may = Op::ALL
        .into_iter()
        .filter(|op| who.may(*op).is_ok())
        .collect();
    Json(Me {
        name: who.name,
        role: who.role,
        scope: who.scope,
        may,
        utc_offset_minutes: Some(st.rules.calendar.offset.local_minus_utc() / 60),
    })
}

fn admin_only(who: &Principal) -> Result<(), ApiError> {
    who.may(Op::Administer).map_err(ApiError::forbidden)
}

/// `GET /api/v1/tokens`: every token, never a secret.
#[utoipa::path(get, path = "/tokens", tag = "admin", summary = "Every token (admin only)",
    responses((status = 200, description = "Tokens, without their secrets", body = Vec<TokenInfo>)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    admin_only(&who)?;
    Ok(Json(st.store.token_list()?))
}

/// `POST /api/v1/tokens`: 201 with the secret, shown this once.
#[utoipa::path(post, path = "/tokens", tag = "admin", summary = "Issue a token (admin only)",
    request_body = NewToken,
    responses((status = 201, description = "The token; its secret is shown this once", body = CreatedToken)))]
pub async fn create_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(b): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    admin_only(&who)?;
    let secret = auth::generate();
    match st
        .writer
        .submit(Command::CreateToken(b, auth::hash(&secret)), who)
        .await?
    {
        Reply::Token(info, _) => {
            let body = CreatedToken {
                name: info.name,
                role: info.role,
                token: secret,
                scope: info.scope,
                expires_at: info.expires_at,
            };
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        r => Err(unexpected(&r)),
    }
}

/// `DELETE /api/v1/tokens/{name}`: revoked at once, open event streams included.
#[utoipa::path(delete, path = "/tokens/{name}", tag = "admin", summary = "Revoke a token (admin only); its open streams close at once",
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 200, description = "The revoked token", body = TokenInfo)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    admin_only(&who)?;
    if name == who.name {
        return Err(ApiError::conflict(format!(
            "{name} is the token making this request; revoke it with another admin token (or shaozi-server token revoke on the store)"
        )));
    }
    match st.writer.submit(Command::RevokeToken(name), who).await? {
        Reply::Revoked(info) => Ok(Json(*info)),
        r => Err(unexpected(&r)),
    }
}

/// `GET /api/v1/audit?actor=&from=&to=&limit=&cursor=`: the log, by actor and time.
#[utoipa::path(get, path = "/audit", tag = "admin", summary = "The log by actor and time (admin only)",
    params(
        ("actor" = Option<String>, Query, description = "Only this actor's changes"),
        ("from" = Option<String>, Query, format = DateTime, description = "From this time (RFC 3339)"),
        ("to" = Option<String>, Query, format = DateTime, description = "Before this time (RFC 3339)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, default 100"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of events", body = AuditPage)))]
pub async fn audit(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Json<AuditPage>, ApiError> {
    admin_only(&who)?;
    let time = |k: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        p.get(k)
            .map(|v| {
                chrono::DateTime::parse_from_rfc3339(v.trim())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|e| {
                        ApiError::bad_param(
                            k,
                            format!(
                                "{k} must be an RFC 3339 time such as 2026-11-26T08:00:00Z: {e}"
                            ),
                        )
                    })
            })
            .transpose()
    };
    let (from, to) = (time("from")?, time("to")?);
    let after = p.parse::<u64>("cursor")?.unwrap_or(0);
    let limit = p.limit(100, 1000)?;
    let store = st.store.clone();
    let actor = p.get("actor").map(str::to_string);
    let (items, next) =
        tokio::task::spawn_blocking(move || store.audit(actor.as_deref(), from, to, after, limit))
            .await
            .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(AuditPage {
        items,
        next_cursor: next.map(|n| n.to_string()),
    }))
}
