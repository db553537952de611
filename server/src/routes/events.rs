//! `GET /api/v1/events`: the durable log replayed from `Last-Event-ID` (or `?after=`), then
//! live. Replay stops at the last flushed event, so a client never sees a change that could
//! still be lost. A client that falls behind the live broadcast is cut off and resumes from
//! its last id; it never slows the writer.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::error::ApiError;
use crate::extract::Params;
use crate::AppState;

/// Events read from the log per step of a replay.
const REPLAY_CHUNK: usize = 512;

fn sse(seq: u64, json: &str) -> SseEvent {
    SseEvent::default().id(seq.to_string()).data(json)
}

/// `GET /api/v1/events`.
pub async fn stream(
    State(st): State<AppState>,
    headers: HeaderMap,
    p: Params,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
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
    let after = match from_header {
        Some(a) => Some(a),
        None => p.parse::<u64>("after")?,
    };
    // Subscribe before reading the log so nothing falls between the two.
    let mut live = st.writer.subscribe();
    let durable = st.writer.durable_seq();
    let mut last = after.unwrap_or(durable);
    let (tx, rx) = mpsc::channel::<SseEvent>(256);
    let store = st.store.clone();
    let mut shutdown = st.shutdown.clone();
    tokio::spawn(async move {
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
                if tx.send(sse(seq, &json)).await.is_err() {
                    return;
                }
                last = seq;
            }
        }
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
                r = live.recv() => match r {
                    Ok(p) => {
                        if p.seq <= last {
                            continue;
                        }
                        if tx.send(sse(p.seq, &p.json)).await.is_err() {
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
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
