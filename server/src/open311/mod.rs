//! Open311 GeoReport v2 under `/open311/v2/`: the way cities' reporting apps, hotlines and 311
//! front ends file and follow problems. Each resource answers as XML or JSON by its suffix.
//! Reports go through the same writer, rules, limits, idempotency and event log as `/api/v1`;
//! the read side is public, as the spec has it, and never shows who reported.

mod render;
mod requests;
mod routes;
mod services;

pub use routes::routes;

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use render::Fmt;
use render::{render, V};

use crate::guard::Client;
use crate::AppState;
use shaozi_shared::Principal;

/// An error in the spec's format: a list of `{code, description}` (`<errors>` in XML).
#[derive(Debug)]
pub struct Open311Error {
    status: StatusCode,
    description: String,
    fmt: Fmt,
    retry_after: Option<u64>,
}

impl Open311Error {
    fn new(status: StatusCode, fmt: Fmt, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
            fmt,
            retry_after: None,
        }
    }

    /// 400: anything wrong with the request itself.
    pub fn bad(fmt: Fmt, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, fmt, description)
    }

    /// 404: no such resource, service, request or jurisdiction.
    pub fn not_found(fmt: Fmt, description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, fmt, description)
    }

    /// 403: `api_key` missing, unknown, revoked or not allowed to report.
    pub fn forbidden(fmt: Fmt, description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, fmt, description)
    }

    /// What the public side's guard refused: 429 or 503, with `Retry-After`.
    fn refused(fmt: Fmt, r: crate::guard::Refused) -> Self {
        Self::from_api(fmt, crate::error::ApiError::refused(r))
    }

    /// Maps an `/api/v1` refusal onto the three statuses GeoReport knows (and 408, 429 and
    /// 503, which a client must see to give up or back off).
    fn from_api(fmt: Fmt, e: crate::error::ApiError) -> Self {
        let status = match e.status {
            403 => StatusCode::FORBIDDEN,
            408 => StatusCode::REQUEST_TIMEOUT,
            429 => StatusCode::TOO_MANY_REQUESTS,
            503 => StatusCode::SERVICE_UNAVAILABLE,
            500 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let retry_after = e.ext.as_ref().and_then(|x| x.retry_after);
        Open311Error {
            retry_after: retry_after.or((e.status == 503).then_some(5)),
            ..Self::new(status, fmt, e.detail)
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let v = V::List(
            "error",
            vec![V::Obj(vec![
                ("code", V::I(i64::from(self.status.as_u16()))),
                ("description", V::S(self.description)),
            ])],
        );
        let mut res = render(self.fmt, self.status, "errors", &v);
        // The rest of a body that came too slowly is not waited for: the connection ends.
        if self.status == StatusCode::REQUEST_TIMEOUT {
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
        }
        if let Some(v) = self
            .retry_after
            .and_then(|r| HeaderValue::from_str(&r.to_string()).ok())
        {
            res.headers_mut().insert("retry-after", v);
        }
        res
    }
}

type Result<T> = std::result::Result<T, Open311Error>;

/// Query and form parameters, in order; a key may repeat (`attribute[x][]`).
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    fn extend(&mut self, other: Form) {
        self.0.extend(other.0);
    }

    /// The first non-blank value of `k`.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, v)| key == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Every pair.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Checks an `api_key` for `client`: a wrong key counts against the address, and past its
/// limit is 429 rather than 403. The answer never says whose a key is.
fn key_holder(st: &AppState, key: &str, client: Client, fmt: Fmt) -> Result<Principal> {
    st.tokens
        .principal(key)
        .map_err(|_| key_refused(st, client, fmt))
}

/// The answer to a wrong or missing key, counted against the client address.
fn key_refused(st: &AppState, client: Client, fmt: Fmt) -> Open311Error {
    match st.guard.key_failed(client) {
        Ok(()) => Open311Error::forbidden(fmt, "api_key is not valid: unknown, revoked or expired"),
        Err(r) => Open311Error::refused(fmt, r),
    }
}

fn ext(fmt: Fmt) -> &'static str {
    match fmt {
        Fmt::Xml => "xml",
        Fmt::Json => "json",
    }
}

/// Department names by id, for `agency_responsible`.
fn agencies(st: &AppState) -> HashMap<shaozi_shared::DepartmentId, String> {
    st.store
        .departments()
        .map(|ds| ds.into_iter().map(|d| (d.id, d.name)).collect())
        .unwrap_or_default()
}
