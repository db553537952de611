//! Following the log, for an engine several servers write to (PostgreSQL): every event
//! committed through any server reaches this server's streams in sequence order, and tokens
//! issued or revoked elsewhere take effect here.
//!
//! Reading the log by sequence number is the whole mechanism: the local writer wakes the
//! follower after each batch; otherwise it looks every [`POLL`]. Nothing depends on NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use shaozi_shared::api::TokenInfo;
use shaozi_shared::EventKind;
use tokio::sync::{watch, Notify};

use crate::auth::TokenBook;
use crate::storage::{Reads, TokenKeeper};
use crate::writer::{EventHead as Head, Published, WriterHandle};

/// How often the follower looks for other servers' events.
pub const POLL: Duration = Duration::from_millis(20);
/// Events read per query.
const PAGE: usize = 1000;

/// Follows the log until `stop`.
pub async fn follow_log(
    reads: Arc<dyn Reads>,
    keeper: Arc<dyn TokenKeeper>,
    writer: WriterHandle,
    tokens: Arc<TokenBook>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = false;
    // What this server has published; the writer may have counted its own batches as durable
    // before this follower read them.
    let mut published = writer.durable_seq();
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => return,
        }
        loop {
            let after = published;
            let r = reads.clone();
            let page = match tokio::task::spawn_blocking(move || r.events_after(after, PAGE)).await
            {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    if !failing {
                        tracing::warn!(error = %e, "following the log failed; retrying");
                    }
                    failing = true;
                    break;
                }
                Err(_) => break,
            };
            failing = false;
            let n = page.len();
            for (seq, json) in page {
                let head: Option<Head> = serde_json::from_str(&json).ok();
                if let Some(h) = &head {
                    follow_tokens(h, keeper.as_ref(), &tokens);
                }
                let kind = head.as_ref().map(|h| h.kind);
                let scope = head.map(|h| h.scope).unwrap_or_default();
                published = seq;
                writer.publish_followed(Published {
                    seq,
                    json,
                    kind,
                    scope,
                });
            }
            if n < PAGE {
                break;
            }
        }
    }
}

/// Applies another server's token changes to this server's book.
fn follow_tokens(h: &Head, keeper: &dyn TokenKeeper, tokens: &TokenBook) {
    match h.kind {
        EventKind::TokenRevoked => {
            let info = h
                .record
                .clone()
                .and_then(|r| serde_json::from_value::<TokenInfo>(r).ok());
            if let Some(info) = info {
                if let Some(at) = info.revoked_at {
                    tokens.revoke(&info.name, at);
                }
            }
        }
        // The event does not carry the secret's hash; the table does.
        EventKind::TokenCreated => match keeper.tokens_by_hash() {
            Ok(all) => {
                for (h, info) in all {
                    if info.revoked_at.is_none() {
                        tokens.insert(h, info);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading a new token failed"),
        },
        _ => {}
    }
}
