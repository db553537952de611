//! One module per resource; handlers stay thin: parse, call the store or the writer, answer.

/// A documented handler for one step of a record's life: reads the id, `If-Match` and the
/// step's own body, and hands the action to the module's `step` function.
macro_rules! step_route {
    ($(#[$doc:meta])* $name:ident, $path:tt, $tag:tt, $summary:tt, $id:ident, $id_doc:tt,
     $record:ident, $body:ty, |$b:ident| $action:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag, summary = $summary,
            params(("id" = $id, Path, description = $id_doc), IfMatch),
            request_body = $body,
            responses((status = 200, description = "The record after the step; its ETag is the new version",
                body = $record, headers(("ETag" = String, description = "The new version, quoted")))))]
        pub async fn $name(
            State(st): State<AppState>,
            Extension(who): Extension<Principal>,
            Path(id): Path<String>,
            headers: HeaderMap,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            step(&st, who, &id, &headers, $action).await
        }
    };
}

pub mod admin;
mod api;
pub mod assessment;
pub mod directory;
pub mod events;
pub mod gate;
pub mod ledger;
pub mod maintenance;
pub mod ops;
pub mod patterns;
pub mod stats;
pub mod templates;
pub mod webhooks;
pub mod whistles;
pub mod wishes;

pub use api::api_routes;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use sha2::{Digest, Sha256};
use shaozi_shared::{Principal, Scope};

use crate::error::ApiError;
use crate::storage::WhistleQuery;
use crate::writer::{Idem, Reply};

/// 200 with the record and its version as a strong ETag.
pub fn with_etag<T: Serialize>(
    status: StatusCode,
    body: &T,
    version: u64,
    location: Option<String>,
) -> Response {
    let mut res = (status, Json(body)).into_response();
    // Version 0: a record without versions (the directory).
    if let Some(v) = (version > 0)
        .then(|| HeaderValue::from_str(&format!("\"{version}\"")).ok())
        .flatten()
    {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// A reply of a kind the handler did not expect: a bug, reported as 500.
pub fn unexpected(r: &Reply) -> ApiError {
    ApiError::internal(&format!("unexpected writer reply {r:?}"))
}

/// The version an action insists on, from `If-Match: "3"` (`*` or none: any).
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_param("If-Match", "If-Match must be the ETag you read, e.g. \"3\"");
    let v = v.to_str().map_err(|_| bad())?.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.parse::<u64>().map(Some).map_err(|_| bad())
}

/// The create's Idempotency-Key, namespaced by token, with the hash of its canonical body.
pub fn idempotency<T: Serialize>(
    headers: &HeaderMap,
    who: &Principal,
    body: &T,
) -> Result<Option<Idem>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_param(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let canonical = serde_json::to_vec(body).map_err(|e| ApiError::internal(&e))?;
    let mut k = who.name.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    Ok(Some(Idem {
        key: k,
        body: Sha256::digest(&canonical).into(),
    }))
}

/// 201 for a create: the new record, or the first answer to a retried Idempotency-Key.
pub fn created<T: Serialize>(
    record: Option<(&T, u64, String)>,
    replayed: Option<String>,
) -> Response {
    match (record, replayed) {
        (_, Some(json)) => {
            let version = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .and_then(|v| v["version"].as_u64());
            let mut res = (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response();
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Some(v) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
                res.headers_mut().insert(header::ETAG, v);
            }
            res
        }
        (Some((rec, version, location)), None) => {
            with_etag(StatusCode::CREATED, rec, version, Some(location))
        }
        (None, None) => ApiError::internal(&"a create answered nothing").into_response(),
    }
}

/// Narrows a whistle query to the token's scope; false when it asks for another unit.
pub fn scope_whistles(who: &Principal, q: &mut WhistleQuery) -> bool {
    fn pin<T: PartialEq + Copy>(slot: &mut Option<T>, own: T) -> bool {
        match slot {
            Some(x) if *x != own => false,
            _ => {
                *slot = Some(own);
                true
            }
        }
    }
    match who.scope {
        Scope::City => true,
        Scope::Street(s) => pin(&mut q.street_id, s),
        Scope::Community(c) => pin(&mut q.community_id, c),
        // Its own list holds the cases it leads and those it assists; asking for the cases a
        // department leads is asking for its own.
        Scope::Department(d) => match q.department_id {
            Some(x) => x == d,
            None => {
                q.involving = Some(d);
                true
            }
        },
    }
}

/// `Idempotency-Key`: makes a create safe to retry.
#[derive(utoipa::IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters. A retry with the same key and body gets the first
    /// answer (with `Idempotent-Replayed: true`) and creates nothing; another body is 422.
    #[serde(rename = "Idempotency-Key")]
    #[param(pattern = "^[!-~]{1,255}$")]
    pub key: Option<String>,
}

/// `If-Match`: only step a record still at the version you read.
#[derive(utoipa::IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The ETag you read, e.g. `"3"` (or `*`). 412 with the current record if it changed.
    #[serde(rename = "If-Match")]
    #[param(pattern = r#"^(\*|(W/)?"?[0-9]+"?)$"#)]
    pub version: Option<String>,
}
