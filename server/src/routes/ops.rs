//! What an operator's tools read: `/readyz` for a load balancer, `/metrics` for Prometheus,
//! and the layer that counts every request for it. (`/healthz`, liveness, is a plain "ok".)

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use shaozi_shared::Principal;

use crate::error::ApiError;
use crate::metrics::{format_float, header as help, label};
use crate::storage::blocking;
use crate::AppState;

/// `GET /readyz`: 200 once the store has just taken a write (an empty batch through the one
/// writer, committed and durable, at most once a second whoever asks); 503 while starting or
/// shutting down, after a storage failure, or when the database is unreachable or read-only.
/// Limited per address like every request without a token.
pub async fn readyz(State(st): State<AppState>, client: crate::guard::Client) -> Response {
    if let Err(r) = st.guard.anonymous(client) {
        return ApiError::refused(r).into_response();
    }
    if let Some(why) = st.readiness.not_serving() {
        return ApiError::unavailable(why).into_response();
    }
    if *st.shutdown.borrow() || st.writer.is_stopping() {
        return ApiError::unavailable("the server is shutting down").into_response();
    }
    match st.readiness.proof(&st.writer).await {
        Ok(seq) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({
                "status": "ready",
                "last_seq": seq.max(st.writer.durable_seq()),
            })),
        )
            .into_response(),
        Err(why) => ApiError::unavailable(why).into_response(),
    }
}

/// The route pattern a request matched, filled in by [`note_route`] for [`count_request`],
/// which wraps the router and so runs before the route is known.
#[derive(Debug, Clone, Default)]
pub struct RouteSlot(Arc<Mutex<Option<MatchedPath>>>);

/// Outermost layer: times every request and counts it by route pattern, method and status.
pub async fn count_request(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = method_label(req.method());
    let res = next.run(req).await;
    let route = slot.0.lock().ok().and_then(|mut r| r.take());
    st.http_metrics.observe(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        method,
        res.status().as_u16(),
        started.elapsed(),
    );
    res
}

/// On every matched route: says which pattern matched (nested routers are flattened into
/// the outer one, so its pattern is the whole path).
pub async fn note_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        if let Ok(mut r) = slot.0.lock() {
            *r = Some(path.clone());
        }
    }
    next.run(req).await
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: the Prometheus text format. With `--metrics-token`, only with
/// `Authorization: Bearer <token>`.
pub async fn metrics(
    State(st): State<AppState>,
    client: crate::guard::Client,
    headers: HeaderMap,
) -> Response {
    match &st.metrics_token {
        Some(want) => {
            let given = crate::auth::bearer(&headers).unwrap_or_default();
            if !crate::auth::same_secret(given, want) {
                // A wrong token counts against the address, as on the API.
                return match st.guard.key_failed(client) {
                    Ok(()) => ApiError::unauthorized(
                        "/metrics needs the metrics token: Authorization: Bearer <token>",
                    ),
                    Err(r) => ApiError::refused(r),
                }
                .into_response();
            }
        }
        // Open to whoever reaches it: limited per address like every anonymous request.
        None => {
            if let Err(r) = st.guard.anonymous(client) {
                return ApiError::refused(r).into_response();
            }
        }
    }
    match render(&st).await {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Everything `/metrics` says, read now.
async fn render(st: &AppState) -> Result<String, ApiError> {
    let mut out = String::with_capacity(16 * 1024);
    st.http_metrics.render(&mut out);
    st.writer.metrics().render(&mut out);

    help(
        &mut out,
        "shaozi_log_head_sequence",
        "gauge",
        "Sequence number of the last event this server knows to be durable.",
    );
    let _ = writeln!(out, "shaozi_log_head_sequence {}", st.writer.durable_seq());

    let store = st.store.clone();
    let (totals, stats, size) = blocking(move || {
        Ok((
            store.status_totals()?,
            store.stats_for(&Principal::system())?,
            store.size_bytes()?,
        ))
    })
    .await?;
    help(
        &mut out,
        "shaozi_whistles",
        "gauge",
        "Whistles city-wide by status.",
    );
    for s in shaozi_shared::WhistleStatus::ALL {
        let n = totals
            .iter()
            .find(|(name, _)| name == s.as_str())
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "shaozi_whistles{{status=\"{}\"}} {n}", s.as_str());
    }
    for (name, what, n) in [
        (
            "shaozi_whistles_overdue",
            "Unanswered whistles past the deadline to report for duty.",
            stats.queue.overdue,
        ),
        (
            "shaozi_whistles_unanswered",
            "Whistles nobody has reported for duty on (new or dispatched).",
            stats.queue.unanswered,
        ),
        (
            "shaozi_whistles_unanswered_urgent",
            "Unanswered urgent whistles.",
            stats.queue.urgent,
        ),
        (
            "shaozi_whistles_overdue_in_departments",
            "Whistles past a deadline now, summed over the departments leading them.",
            stats.departments.iter().map(|d| d.overdue).sum(),
        ),
    ] {
        help(&mut out, name, "gauge", what);
        let _ = writeln!(out, "{name} {n}");
    }
    help(
        &mut out,
        "shaozi_event_stream_subscribers",
        "gauge",
        "Event streams open on this server.",
    );
    let _ = writeln!(
        out,
        "shaozi_event_stream_subscribers {}",
        st.tokens.open_streams()
    );
    help(
        &mut out,
        "shaozi_store_size_bytes",
        "gauge",
        "Size of the store on disk (the sled directory, or the PostgreSQL database).",
    );
    let _ = writeln!(out, "shaozi_store_size_bytes {size}");

    webhooks(st, &mut out).await?;

    help(
        &mut out,
        "shaozi_ready",
        "gauge",
        "1 while the server takes requests, 0 while starting or shutting down.",
    );
    let ready = st.readiness.not_serving().is_none() && !*st.shutdown.borrow();
    let _ = writeln!(out, "shaozi_ready {}", u8::from(ready));
    help(
        &mut out,
        "shaozi_build_info",
        "gauge",
        "The running version, as a label.",
    );
    let _ = writeln!(
        out,
        "shaozi_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    Ok(out)
}

/// Each webhook subscription's lag and state.
async fn webhooks(st: &AppState, out: &mut String) -> Result<(), ApiError> {
    let hooks = st.hooks.clone();
    let all = blocking(move || hooks.hooks()).await?;
    let mut described = Vec::with_capacity(all.len());
    // Read as the city office would: the figures are the same for every reader.
    let office = shaozi_shared::Principal::new(
        "metrics",
        shaozi_shared::Role::Admin,
        shaozi_shared::Scope::City,
    );
    for h in all {
        described.push(crate::routes::webhooks::described(st, &office, h).await?);
    }
    if let Some(d) = &st.deliveries {
        help(
            out,
            "shaozi_webhook_events_handed_total",
            "counter",
            "Events handed to a subscription on this server, over all of them: each is handed only the events it wants.",
        );
        let _ = writeln!(out, "shaozi_webhook_events_handed_total {}", d.handed());
    }
    let labels = |w: &shaozi_shared::api::WebhookInfo| {
        format!(
            "subscription=\"{}\",name=\"{}\"",
            label(&w.id),
            label(&w.name)
        )
    };
    help(
        out,
        "shaozi_webhook_lag_events",
        "gauge",
        "Events a subscription has not yet delivered.",
    );
    for w in &described {
        let _ = writeln!(
            out,
            "shaozi_webhook_lag_events{{{}}} {}",
            labels(w),
            w.health.lag
        );
    }
    help(
        out,
        "shaozi_webhook_failures",
        "gauge",
        "Failed attempts in a row (0 when the last one was answered 2xx).",
    );
    for w in &described {
        let _ = writeln!(
            out,
            "shaozi_webhook_failures{{{}}} {}",
            labels(w),
            w.health.failures
        );
    }
    help(
        out,
        "shaozi_webhook_paused",
        "gauge",
        "1 when a subscription paused after a day of failures (it waits for resume).",
    );
    for w in &described {
        let _ = writeln!(
            out,
            "shaozi_webhook_paused{{{}}} {}",
            labels(w),
            u8::from(w.health.paused)
        );
    }
    help(
        out,
        "shaozi_webhook_last_delivery_timestamp_seconds",
        "gauge",
        "When a subscription last had a delivery answered 2xx (Unix time; absent if never).",
    );
    for w in &described {
        if let Some(at) = w.health.last_delivered_at {
            let secs = at.timestamp_millis() as f64 / 1000.0;
            let _ = writeln!(
                out,
                "shaozi_webhook_last_delivery_timestamp_seconds{{{}}} {}",
                labels(w),
                format_float(secs)
            );
        }
    }
    Ok(())
}
