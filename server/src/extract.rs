//! Extractors whose refusals are problem+json naming the field, never axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body: 64 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Longest a client may take to send its body, from the moment its headers arrived.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A body that did not arrive within [`BODY_TIMEOUT`].
#[derive(Debug, thiserror::Error)]
#[error("the body did not arrive within {} s", BODY_TIMEOUT.as_secs())]
pub struct BodyDeadline;

/// A request body with a deadline for the whole of it: a client that stalls or trickles
/// cannot hold a connection and a task for longer than [`BODY_TIMEOUT`], on any route.
struct DeadlineBody {
    inner: axum::body::Body,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if std::future::Future::poll(this.deadline.as_mut(), cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(axum::Error::new(BodyDeadline))));
        }
        std::pin::Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: puts the deadline on the request's body (nothing to do for one without).
pub async fn deadline_body(req: Request) -> Request {
    use http_body::Body as _;
    if req.body().is_end_stream() {
        return req;
    }
    req.map(|inner| {
        axum::body::Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(BODY_TIMEOUT)),
        })
    })
}

/// Whether a body failed because its deadline passed.
pub fn missed_deadline(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyDeadline>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// A JSON body, refused with 400 (not JSON), 413 (too big), 415 (wrong type) or 422 (wrong
/// shape, naming the field).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::unsupported_media(format!(
                "send the body as JSON with Content-Type: application/json (got {:?})",
                if ct.is_empty() { "nothing" } else { ct }
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(BODY_LIMIT)
            } else if missed_deadline(&e) {
                ApiError::timeout(BodyDeadline.to_string())
            } else {
                ApiError::bad_request(format!("could not read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Whether percent-encoded text (a path or a query) holds a NUL character once decoded. No
/// field, name or id may hold one (PostgreSQL's text cannot), so it is refused at the door
/// rather than deep in a query.
pub fn encodes_nul(raw: &str) -> bool {
    raw.contains("%00")
}

/// Whether a JSON text holds a string with a NUL character (`\u0000`; a raw NUL byte is not
/// JSON at all).
pub fn json_has_nul(bytes: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"u0000";
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            // An escape: `\\` is a backslash, `\u0000` a NUL.
            if bytes[i + 1..].starts_with(ESCAPE) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Middleware for the API: a path segment or query parameter holding a NUL character is
/// refused before any route or store sees it. A path names nothing that exists (404, as for
/// any unknown id); a query parameter is a bad request naming the parameter.
pub async fn refuse_nul(
    req: Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    if encodes_nul(req.uri().path()) {
        return Err(ApiError::not_found(
            "nothing is named with a NUL character (%00)",
        ));
    }
    if let Some(q) = req.uri().query().filter(|q| encodes_nul(q)) {
        let name = q
            .split('&')
            .find(|pair| encodes_nul(pair))
            .and_then(|pair| pair.split('=').next())
            .unwrap_or("query");
        return Err(ApiError::bad_param(
            name,
            format!("{name} holds a NUL character (%00), which no parameter may"),
        ));
    }
    Ok(next.run(req).await)
}

/// Parses JSON, naming the path of the field that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if json_has_nul(bytes) {
        return Err(ApiError::invalid(
            None,
            "a string holds a NUL character (\\u0000), which no field may",
        ));
    }
    // serde would read a struct from an array too, with baffling messages; every body is an object.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(ApiError::bad_request(
                "the body is empty; send a JSON object",
            ))
        }
        Some(_) if serde_json::from_slice::<serde_json::Value>(bytes).is_err() => {
            return Err(ApiError::bad_request("the body is not valid JSON"))
        }
        Some(_) => return Err(ApiError::invalid(None, "the body must be a JSON object")),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                // The position is noise for a JSON object; the field path says where.
                let msg = inner.to_string();
                let msg = msg
                    .rsplit_once(" at line ")
                    .map_or(msg.as_str(), |(m, _)| m)
                    .to_string();
                let missing = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                    .map(str::to_string);
                let field = match (path.as_str(), missing) {
                    (".", m) => m,
                    (p, Some(m)) => Some(format!("{p}.{m}")),
                    (p, None) => Some(p.to_string()),
                };
                let what = match (&field, msg.starts_with("missing field")) {
                    (Some(f), false) => format!("{f}: {msg}"),
                    _ => msg,
                };
                ApiError::invalid(field, what)
            }
            _ => ApiError::bad_request(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Query parameters as plain strings, so each can be checked with a clear message.
pub struct Params(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let mut map = std::collections::HashMap::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                percent_decode(&s).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter {k:?} is not valid percent-encoded UTF-8"
                    ))
                })
            };
            map.insert(dec(k)?, dec(v)?);
        }
        Ok(Params(map))
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Params {
    /// A parameter, blank treated as absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A parameter parsed with `FromStr`, or 400 naming it.
    pub fn parse<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(k)
            .map(|v| {
                v.trim()
                    .parse::<T>()
                    .map_err(|e| ApiError::bad_param(k, format!("{k}: {e}")))
            })
            .transpose()
    }

    /// A comma list, each parsed by `f`, or 400 naming the bad item.
    pub fn list<T>(
        &self,
        k: &str,
        f: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Vec<T>, ApiError> {
        let Some(v) = self.get(k) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                f(s).ok_or_else(|| {
                    ApiError::bad_param(k, format!("{k}: {s:?} is not one of {expected}"))
                })
            })
            .collect()
    }

    /// The page size: 1 to `max`, default `default`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        let n = self.parse::<usize>("limit")?.unwrap_or(default);
        if n == 0 || n > max {
            return Err(ApiError::bad_param(
                "limit",
                format!("limit must be from 1 to {max}; got {n}"),
            ));
        }
        Ok(n)
    }

    /// A boolean `true`/`false`.
    pub fn flag(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.get(k).map(str::trim) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_param(
                k,
                format!("{k} must be true or false; got {v:?}"),
            )),
        }
    }
}
