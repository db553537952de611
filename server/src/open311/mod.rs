//! Open311 GeoReport v2 under `/open311/v2/`: the way cities' reporting apps, hotlines and 311
//! front ends file and follow problems. Each resource answers as XML or JSON by its suffix.
//! Reports go through the same writer, rules, limits, idempotency and event log as `/api/v1`;
//! the read side is public, as the spec has it, and never shows who reported.

mod render;
mod requests;
mod services;

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use render::Fmt;
use render::{render, V};

use crate::error::ApiError;
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

/// The format to answer a path in when it names none properly: JSON if it ends in `.json`,
/// else the spec's mandatory XML.
fn fmt_of(path: &str) -> Fmt {
    if path.ends_with(".json") {
        Fmt::Json
    } else {
        Fmt::Xml
    }
}

/// Splits `services.json` into the resource and its format; anything else is not a resource.
fn resource(file: &str) -> Result<(&str, Fmt)> {
    let fmt_of_name = fmt_of(file);
    let (name, ext) = file.rsplit_once('.').ok_or_else(|| {
        Open311Error::not_found(
            fmt_of_name,
            format!("{file:?} is not a resource: add .xml or .json"),
        )
    })?;
    let fmt = match ext {
        "xml" => Fmt::Xml,
        "json" => Fmt::Json,
        other => {
            return Err(Open311Error::not_found(
                Fmt::Xml,
                format!("no format {other:?}: use .xml or .json"),
            ))
        }
    };
    if name.is_empty() {
        return Err(Open311Error::not_found(fmt, "no resource named"));
    }
    if name.contains('\0') {
        return Err(Open311Error::not_found(
            fmt,
            "nothing is named with a NUL character",
        ));
    }
    Ok((name, fmt))
}

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

/// Checks `jurisdiction_id` when given: this server answers for one jurisdiction. Every
/// handler calls it first, so it also refuses a parameter holding a NUL character (no field
/// may hold one, and PostgreSQL's text cannot).
fn jurisdiction(st: &AppState, form: &Form, fmt: Fmt) -> Result<()> {
    if let Some((k, _)) = form
        .0
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(Open311Error::bad(
            fmt,
            format!("{k} holds a NUL character (%00), which no parameter may"),
        ));
    }
    match form.get("jurisdiction_id") {
        Some(j) if j != st.jurisdiction.as_ref() => Err(Open311Error::not_found(
            fmt,
            format!(
                "unknown jurisdiction_id {j:?}; this endpoint serves {:?}",
                st.jurisdiction
            ),
        )),
        _ => Ok(()),
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

/// Lets a read in: with an `api_key` (optional on reads) on that key's allowance, else on
/// the client address's allowance for anonymous traffic.
fn admit_read(st: &AppState, form: &Form, client: Client, fmt: Fmt) -> Result<()> {
    match form.get("api_key") {
        Some(key) => {
            let who = key_holder(st, key, client, fmt)?;
            st.tokens
                .take(&who.name)
                .map_err(|wait| Open311Error::from_api(fmt, ApiError::too_many(wait)))
        }
        None => st
            .guard
            .anonymous(client)
            .map_err(|r| Open311Error::refused(fmt, r)),
    }
}

/// `GET /open311/v2/{resource}.{fmt}`.
async fn top_get(
    State(st): State<AppState>,
    client: Client,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (name, fmt) = resource(&file)?;
    let form = Form::parse(q.unwrap_or_default().as_bytes());
    admit_read(&st, &form, client, fmt)?;
    jurisdiction(&st, &form, fmt)?;
    match name {
        "discovery" => {
            // The endpoint's address as this client reached it.
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1:7311");
            // https when this server serves it, or a TLS proxy in front says the client came
            // that way: a client following the address must never send its api_key in clear.
            let proxied_tls = headers
                .get("x-forwarded-proto")
                .and_then(|h| h.to_str().ok())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
            let scheme = if st.tls || proxied_tls {
                "https"
            } else {
                "http"
            };
            Ok(services::discovery(&st, fmt, scheme, host))
        }
        "services" => Ok(services::list(&st, fmt)),
        "requests" => requests::search(&st, &form, fmt).await,
        "servicerequestupdates" => requests::updates(&st, &form, fmt).await,
        other => Err(Open311Error::not_found(
            fmt,
            format!("no resource {other:?}; see discovery.{}", ext(fmt)),
        )),
    }
}

/// `POST /open311/v2/requests.{fmt}`.
async fn top_post(
    State(st): State<AppState>,
    client: Client,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: std::result::Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response> {
    let (name, fmt) = resource(&file)?;
    if name != "requests" {
        return Err(Open311Error::bad(
            fmt,
            format!("{name} takes GET; only requests takes POST"),
        ));
    }
    let body = body.map_err(|e| {
        if crate::extract::missed_deadline(&e) {
            Open311Error::from_api(
                fmt,
                ApiError::timeout(crate::extract::BodyDeadline.to_string()),
            )
        } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Open311Error::bad(fmt, ApiError::too_large(crate::extract::BODY_LIMIT).detail)
        } else {
            Open311Error::bad(fmt, format!("the body could not be read: {e}"))
        }
    })?;
    let form_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form_type && !body.is_empty() {
        return Err(Open311Error::bad(
            fmt,
            "send the report as application/x-www-form-urlencoded, as GeoReport v2 says",
        ));
    }
    let mut form = Form::parse(q.unwrap_or_default().as_bytes());
    form.extend(Form::parse(&body));
    jurisdiction(&st, &form, fmt)?;
    requests::create(&st, &form, &headers, client, fmt).await
}

/// `GET /open311/v2/{kind}/{id}.{fmt}`: a service definition, a request, or a token.
async fn one(
    State(st): State<AppState>,
    client: Client,
    Path((kind, file)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let (id, fmt) = resource(&file)?;
    let form = Form::parse(q.unwrap_or_default().as_bytes());
    admit_read(&st, &form, client, fmt)?;
    jurisdiction(&st, &form, fmt)?;
    match kind.as_str() {
        "services" => services::definition(&st, id, fmt),
        "requests" => requests::one(&st, id, fmt).await,
        "tokens" => requests::token(&st, id, fmt),
        other => Err(Open311Error::not_found(
            fmt,
            format!("no resource {other:?}"),
        )),
    }
}

fn ext(fmt: Fmt) -> &'static str {
    match fmt {
        Fmt::Xml => "xml",
        Fmt::Json => "json",
    }
}

/// The GeoReport routes, to nest under `/open311/v2`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{file}", get(top_get).post(top_post))
        .route("/{kind}/{file}", get(one))
        .fallback(|uri: axum::http::Uri| async move {
            Open311Error::not_found(fmt_of(uri.path()), format!("no resource at {}", uri.path()))
        })
        .method_not_allowed_fallback(|uri: axum::http::Uri| async move {
            Open311Error::bad(
                fmt_of(uri.path()),
                "GeoReport v2 resources take GET (and requests takes POST)",
            )
        })
}

/// Department names by id, for `agency_responsible`.
fn agencies(st: &AppState) -> HashMap<shaozi_shared::DepartmentId, String> {
    st.store
        .departments()
        .map(|ds| ds.into_iter().map(|d| (d.id, d.name)).collect())
        .unwrap_or_default()
}
