//! `GET /api/v1/events`: the durable log replayed from `Last-Event-ID` (or `?after=`), then
//! live. Replay stops at the last flushed event, so a client never sees a change that could
//! still be lost. A client that falls behind the live broadcast is cut off and resumes from
//! its last id; it never slows the writer.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc};

use shaozi_shared::api::EventPage;
use shaozi_shared::Principal;

use crate::auth::Credential;
use crate::error::ApiError;
use crate::extract::Params;
use crate::storage::Reads;
use crate::AppState;

/// Events read from the log per step of a replay.
const REPLAY_CHUNK: usize = 512;

fn sse(seq: u64, json: &str) -> SseEvent {
    SseEvent::default().id(seq.to_string()).data(json)
}

/// `GET /api/v1/events`.
#[utoipa::path(get, path = "/events", tag = "events", summary = "The event log: replay, then live (SSE), or one page (JSON)",
    description = "With `Accept: text/event-stream` (or anything but JSON) an endless stream: each event's id is its \
        sequence number and its data an Event as JSON. With `Accept: application/json`, one page of the durable log \
        after `after`, for clients that poll.",
    params(
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this sequence number"),
        ("after" = Option<u64>, Query, description = "Resume after this sequence number (for clients that cannot set headers)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "JSON pages only: events per page, default 100"),
        ("follow" = Option<bool>, Query, description = "The stream only: `false` sends what is on disk after the given id and ends (for scripts and bounded reads); by default it then goes on live"),
    ),
    responses((status = 200, description = "The events this token may see",
        content((String = "text/event-stream"), (EventPage = "application/json")))))]
pub async fn stream(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(cred): Extension<Credential>,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, ApiError> {
    let from_header = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_param(
                        "Last-Event-ID",
                        "Last-Event-ID must be an event sequence number",
                    )
                })
        })
        .transpose()?;
    let (after, field) = match from_header {
        Some(a) => (Some(a), "Last-Event-ID"),
        None => (p.parse::<u64>("after")?, "after"),
    };
    // An id past the head is not one this log gave out (another server's, or a store restored
    // from an older backup): waiting for it would be silence for good, so say so.
    let mut head = st.writer.durable_seq();
    if after.is_some_and(|a| a > head) {
        // With several servers on one database, another server's event may be newer than
        // what this one has followed yet: the log itself says.
        head = head.max(st.store.last_seq()?);
    }
    if let Some(a) = after.filter(|a| *a > head) {
        return Err(ApiError::bad_param(
            field,
            format!(
                "{field} {a} is past the last event ({head}): this log never gave it out; reload and resume from {head}"
            ),
        ));
    }
    let follow = p.flag("follow")?.unwrap_or(true);
    if wants_json(&headers) {
        let limit = p.limit(100, 1000)?;
        return Ok(Json(page(&st, &who, after.unwrap_or(0), limit).await?).into_response());
    }
    let slot = st.tokens.open_stream(&who.name).ok_or_else(|| {
        let mut e = ApiError::too_many(5);
        e.detail = format!(
            "this token already has {} event streams open; close one first",
            st.tokens.stream_cap()
        );
        e
    })?;
    let mut revoked = st.tokens.revocations();
    let book = st.tokens.clone();
    // Subscribe before reading the log so nothing falls between the two.
    let mut live = st.writer.subscribe();
    let durable = st.writer.durable_seq();
    let mut last = after.unwrap_or(durable);
    let (tx, rx) = mpsc::channel::<SseEvent>(256);
    let store = st.store.clone();
    let mut shutdown = st.shutdown.clone();
    tokio::spawn(async move {
        // Held for the stream's life: frees the token's stream allowance when it ends.
        let _slot = slot;
        // The book is the authority on the token: asked before every event sent, whenever a
        // revocation happens anywhere, and once a second for expiry.
        let still_valid = || book.is_valid(&cred.0);
        // Replay what the client missed, up to what was durable when it connected.
        while last < durable {
            let chunk = match store.events_after(last, REPLAY_CHUNK) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "replaying events failed");
                    return;
                }
            };
            if chunk.is_empty() {
                break;
            }
            for (seq, json) in chunk {
                if seq > durable {
                    break;
                }
                last = seq;
                if !replay_visible(&json, &who, store.as_ref()) {
                    continue;
                }
                let json = crate::reporter::event_for(&json, &who);
                if !still_valid() || tx.send(sse(seq, &json)).await.is_err() {
                    return;
                }
            }
        }
        if !follow {
            return;
        }
        let mut recheck = tokio::time::interval(Duration::from_secs(1));
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
                r = revoked.changed() => {
                    if r.is_err() || !still_valid() {
                        return;
                    }
                }
                _ = recheck.tick() => {
                    if !still_valid() {
                        return;
                    }
                }
                r = live.recv() => match r {
                    Ok(p) => {
                        if p.seq <= last {
                            continue;
                        }
                        if !p.scope.visible_to(&who) {
                            last = p.seq;
                            continue;
                        }
                        let json = crate::reporter::event_for(&p.json, &who);
                        if !still_valid() || tx.send(sse(p.seq, &json)).await.is_err() {
                            return;
                        }
                        last = p.seq;
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::info!(behind = n, last, "event stream fell behind; cutting it off");
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// True when the client asks for JSON and not for an event stream.
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/event-stream")
}

/// Events scanned per page at most, so a narrow token's page over a busy log stays cheap.
const PAGE_SCAN: usize = 8 * REPLAY_CHUNK;

async fn page(
    st: &AppState,
    who: &Principal,
    after: u64,
    limit: usize,
) -> Result<EventPage, ApiError> {
    let store = st.store.clone();
    let durable = st.writer.durable_seq();
    let who = who.clone();
    tokio::task::spawn_blocking(move || {
        let mut items = Vec::new();
        let mut last = after;
        let mut scanned = 0;
        while last < durable && items.len() < limit && scanned < PAGE_SCAN {
            let chunk = store.events_after(last, REPLAY_CHUNK)?;
            if chunk.is_empty() {
                break;
            }
            for (seq, json) in chunk {
                if seq > durable || items.len() >= limit {
                    break;
                }
                last = seq;
                scanned += 1;
                if replay_visible(&json, &who, store.as_ref()) {
                    let json = crate::reporter::event_for(&json, &who).into_owned();
                    items.push(RawValue::from_string(json).map_err(|e| ApiError::internal(&e))?);
                }
            }
        }
        Ok::<_, ApiError>(EventPage {
            items,
            after: last,
            more: last < durable,
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// Whether a stored event is one `who` may see (only its kind, scope and, for an activity,
/// its units are read).
fn replay_visible(json: &str, who: &Principal, store: &dyn Reads) -> bool {
    crate::writer::stored_head(json, store).is_some_and(|(_, scope)| scope.visible_to(who))
}
