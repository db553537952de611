//! The API's one error type, rendered as `application/problem+json` (RFC 9457).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use shaozi_shared::api::Problem;
use shaozi_shared::{RefusalCode, RuleError};

use crate::storage::QueryError;
use crate::storage::StoreError;
use crate::writer::WriteError;

/// A refusal or failure, with words a person can act on.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The last part of the problem type URI.
    pub slug: &'static str,
    /// A short summary of the kind.
    pub title: &'static str,
    /// Its stable machine name (clients word it themselves).
    pub code: RefusalCode,
    /// What exactly went wrong and what to do.
    pub detail: String,
    /// Members only some problems have, kept out of line so the error stays small.
    pub ext: Option<Box<Extensions>>,
}

/// The optional members of a problem (see [`Problem`]), and the `Retry-After` to send.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// The request field at fault, for input errors.
    pub field: Option<String>,
    /// The record's current status, for steps it does not allow.
    pub current_status: Option<String>,
    /// The record as it is now, for a stale `If-Match` (412).
    pub current: Option<serde_json::Value>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status: status.as_u16(),
            slug,
            title,
            code: code_of(status),
            detail: detail.into(),
            ext: None,
        }
    }

    /// The same, with a narrower machine name.
    pub fn with_code(mut self, code: RefusalCode) -> Self {
        self.code = code;
        self
    }

    /// The optional members, created on first use.
    pub fn ext(&mut self) -> &mut Extensions {
        self.ext.get_or_insert_with(Default::default)
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        self.ext.as_ref().and_then(|e| e.field.as_deref())
    }

    /// 400: the request cannot be parsed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 400 about one query parameter or field.
    pub fn bad_param(field: &str, detail: impl Into<String>) -> Self {
        let mut e = Self::bad_request(detail);
        e.ext().field = Some(field.to_string());
        e
    }

    /// 422: well-formed but unacceptable input, naming the field.
    pub fn invalid(field: Option<String>, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        );
        e.ext().field = field;
        e
    }

    /// 401: no valid token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    /// 409: conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 403: the token may not do this; the detail says why.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 429: over the token's request rate.
    pub fn too_many(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("this token is over its request rate; retry in {retry_after_secs} s"),
        );
        e.ext().retry_after = Some(retry_after_secs);
        e
    }

    /// What the public side's guard refused: 429 over a rate or after too many failed keys,
    /// 503 while the heavy reads are all busy; each with `Retry-After`.
    pub fn refused(r: crate::guard::Refused) -> Self {
        use crate::guard::Refused;
        let (mut e, wait) = match r {
            Refused::Rate(w) => (
                Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    format!("this address is over its request rate; retry in {w} s"),
                ),
                w,
            ),
            Refused::Failures(w) => (
                Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    format!("too many wrong keys or tokens from this address; retry in {w} s"),
                ),
                w,
            ),
            Refused::Busy(w) => (
                Self::unavailable(format!(
                    "the server is busy with other searches; retry in {w} s"
                )),
                w,
            ),
        };
        e.ext().retry_after = Some(wait);
        e
    }

    /// 408: the client was too slow sending its request.
    pub fn timeout(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "Request timeout",
            detail,
        )
    }

    /// 404: no such record or route.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this route does not accept that method",
        )
    }

    /// 413: body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            format!("the body is over the limit of {} KiB", limit / 1024),
        )
    }

    /// 415: not JSON.
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 503: writes are not being taken.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        );
        e.ext().retry_after = Some(1);
        e
    }

    /// 500: our fault; the detail is logged, the client gets a reference to it.
    pub fn internal(err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to handle this request; the details are in its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let ext = self.ext.as_deref();
        let problem = Problem {
            kind: format!("https://shaozi.invalid/problems/{}", self.slug),
            title: self.title.to_string(),
            status: self.status,
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            field: ext.and_then(|e| e.field.clone()),
            current_status: ext.and_then(|e| e.current_status.clone()),
            current: ext.and_then(|e| e.current.clone()),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry = ext
            .and_then(|e| e.retry_after)
            .or((status == StatusCode::SERVICE_UNAVAILABLE).then_some(5));
        if let Some(v) = retry.and_then(|r| HeaderValue::from_str(&r.to_string()).ok()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(v) = ext
            .and_then(|e| e.current.as_ref())
            .and_then(|c| c.get("version"))
            .and_then(|v| v.as_u64())
            .and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok())
        {
            res.headers_mut().insert(header::ETAG, v);
        }
        // The rest of a body that came too slowly is not waited for: the connection ends.
        if status == StatusCode::REQUEST_TIMEOUT {
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The machine name a status stands for when nothing narrower is known.
fn code_of(status: StatusCode) -> RefusalCode {
    match status.as_u16() {
        400 | 405 | 408 | 413 | 415 => RefusalCode::BadRequest,
        401 => RefusalCode::Unauthorized,
        403 => RefusalCode::Forbidden,
        404 => RefusalCode::NotFound,
        409 => RefusalCode::NotAllowed,
        412 => RefusalCode::Stale,
        422 => RefusalCode::Invalid,
        429 => RefusalCode::RateLimited,
        503 => RefusalCode::Unavailable,
        _ => RefusalCode::Internal,
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        match &e {
            RuleError::Invalid { field, code, .. } => {
                ApiError::invalid(Some(field.to_string()), e.to_string()).with_code(*code)
            }
            RuleError::NotAllowed { status, .. } => {
                let mut a = ApiError::new(
                    StatusCode::CONFLICT,
                    "not-allowed-now",
                    "Not allowed in the current status",
                    e.to_string(),
                );
                a.ext().current_status = Some(status.to_string());
                a.with_code(e.code())
            }
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Rule(r) => r.into(),
            WriteError::NotFound(d) => ApiError::not_found(d),
            WriteError::Duplicate(d) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", "Already exists", d)
                    .with_code(RefusalCode::Duplicate)
            }
            WriteError::Unavailable(d) => ApiError::unavailable(d),
            WriteError::Forbidden(d) => ApiError::forbidden(d),
            WriteError::Stale { detail, current } => {
                let mut e = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "stale-version",
                    "Changed since you read it",
                    detail,
                );
                e.ext().current = Some(*current);
                e
            }
            WriteError::KeyReused(d) => {
                let mut e = ApiError::invalid(Some("Idempotency-Key".into()), d);
                e.slug = "idempotency-key-reused";
                e
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // A database that is away or read-only: the client retries, nothing is broken.
            StoreError::Unavailable { why } => ApiError::unavailable(why),
            e => ApiError::internal(&e),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Cursor(c) => ApiError::bad_param("cursor", c.to_string()),
            QueryError::Store(s) => s.into(),
        }
    }
}

impl From<crate::auth::Unauthorized> for ApiError {
    fn from(e: crate::auth::Unauthorized) -> Self {
        ApiError::unauthorized(e.0)
    }
}
