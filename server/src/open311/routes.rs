//! The GeoReport resources' routes: which resource a path names, in which format, who may
//! read or file, and the handler that answers.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::render::Fmt;
use super::{ext, key_holder, requests, services, Form, Open311Error, Result};
use crate::error::ApiError;
use crate::guard::Client;
use crate::AppState;

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
