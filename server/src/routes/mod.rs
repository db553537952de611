//! One module per resource; handlers stay thin: parse, call the store or the writer, answer.

pub mod directory;
pub mod events;
pub mod stats;
pub mod whistles;
pub mod wishes;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::ApiError;
use crate::writer::Reply;

/// 200 with the record and its version as a strong ETag.
pub fn with_etag<T: Serialize>(
    status: StatusCode,
    body: &T,
    version: u64,
    location: Option<String>,
) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
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
