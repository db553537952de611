//! Keeps the search index current: it reads the log after the last event the index holds (as
//! the event stream's follower does, so cases written by another server on the same database
//! come in too), puts each case the events name in the index as it is now, and commits with
//! the last event's number. An index that holds nothing is built this way from the log's start.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use shaozi_shared::WhistleId;

use super::Search;
use crate::storage::Reads;

/// Events read per round.
const PAGE: usize = 2000;
/// How often the log is looked at when nothing wakes the feed.
const POLL: Duration = Duration::from_millis(100);

/// The subject of an event, when it is a whistle.
#[derive(serde::Deserialize)]
struct Subject {
    subject: String,
}

/// One round: reads up to a page of the log after what the index holds and puts the cases it
/// names in the index. Returns how many events it read.
pub fn catch_up(search: &Search, reads: &dyn Reads) -> Result<usize, String> {
    let after = search.indexed_seq();
    if after > 0 && !same_log(search, reads, after)? {
        tracing::info!(
            held = after,
            "the search index was made from another log (a store restored or copied over); building it again"
        );
        search.clear().map_err(|e| e.to_string())?;
        return Ok(PAGE);
    }
    let page = reads.events_after(after, PAGE).map_err(|e| e.to_string())?;
    let Some((last, last_json)) = page.last() else {
        return Ok(0);
    };
    let (last, mark) = (*last, super::fingerprint(last_json));
    let ids: BTreeSet<WhistleId> = page
        .iter()
        .filter_map(|(_, json)| serde_json::from_str::<Subject>(json).ok())
        .filter_map(|s| s.subject.parse::<WhistleId>().ok())
        .collect();
    let mut cases = Vec::with_capacity(ids.len());
    for id in ids {
        let case = match reads.whistle(id).map_err(|e| e.to_string())? {
            Some(w) => Some((w, reads.whistle_timeline(id).map_err(|e| e.to_string())?)),
            None => None,
        };
        cases.push((id, case));
    }
    search
        .apply(cases, last, &mark)
        .map_err(|e| e.to_string())?;
    Ok(page.len())
}

/// Whether the event the index holds up to is the store's event of that number.
fn same_log(search: &Search, reads: &dyn Reads, seq: u64) -> Result<bool, String> {
    let at = reads.events_after(seq - 1, 1).map_err(|e| e.to_string())?;
    Ok(match at.first() {
        Some((s, json)) if *s == seq => super::fingerprint(json) == search.mark(),
        _ => false,
    })
}

/// Follows the log until `stop`, woken by what is published (this server's commits, and on a
/// shared database what the log follower brings) or every [`POLL`].
pub async fn follow<T: Clone>(
    search: Arc<Search>,
    reads: Arc<dyn Reads>,
    mut published: broadcast::Receiver<T>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        loop {
            let (s, r) = (search.clone(), reads.clone());
            match tokio::task::spawn_blocking(move || catch_up(&s, r.as_ref())).await {
                Ok(Ok(n)) => {
                    failing = false;
                    if n < PAGE {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    if !failing {
                        tracing::warn!(error = %e, "the search index could not follow the log; retrying");
                    }
                    failing = true;
                    break;
                }
                Err(_) => break,
            }
        }
        tokio::select! {
            _ = published.recv() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => return,
        }
    }
}
