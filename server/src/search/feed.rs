//! Keeps the search index current: it reads the log after the last event the index holds (as
//! the event stream's follower does, so cases written by another server on the same database
//! come in too), puts each case the events name in the index as it is now, and commits with
//! the last event's number and fingerprint. An index that holds nothing is built this way from
//! the log's start.
//!
//! It runs on a thread of its own at a lower priority (and so do the index's own threads):
//! a burst of writes is indexed a moment later rather than slowing the requests; it commits
//! when it has caught up (at most ten times a second), or every second while it has not.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use shaozi_shared::WhistleId;

use super::{Search, SearchError};
use crate::storage::Reads;

/// Events read per round.
const PAGE: usize = 2000;
/// How often the log is looked at when nothing wakes the feed.
const POLL: Duration = Duration::from_millis(100);
/// Longest a staged change waits for its commit while the feed is behind.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Shortest time between commits: under a stream of writes, each commit is a segment every
/// search then opens and a merge later, so a burst is committed in a few, not one per write.
/// (A search waits for the index to hold what was written before it: at most this longer.)
const COMMIT_GAP: Duration = Duration::from_millis(100);
/// How much lower the feed runs than requests.
const NICENESS: i32 = 10;

/// The subject of an event, when it is a whistle.
#[derive(serde::Deserialize)]
struct Subject {
    subject: String,
}

/// Where the feed is: what it staged, and when it last committed.
struct Feed {
    staged: u64,
    mark: String,
    dirty: bool,
    committed: Instant,
}

impl Feed {
    fn new(search: &Search) -> Feed {
        Feed {
            staged: search.indexed_seq(),
            mark: search.mark(),
            dirty: false,
            committed: Instant::now(),
        }
    }

    /// One round: stages up to a page of the log after what was staged; commits when caught
    /// up or when the last commit is a second old. Returns how many events it read.
    fn round(&mut self, search: &Search, reads: &dyn Reads) -> Result<usize, String> {
        if self.staged > 0 && !self.dirty && !same_log(search, reads, self.staged)? {
            tracing::info!(
                held = self.staged,
                "the search index was made from another log (a store restored or copied over); building it again"
            );
            search.clear().map_err(|e| e.to_string())?;
            *self = Feed::new(search);
            return Ok(PAGE);
        }
        let page = reads
            .events_after(self.staged, PAGE)
            .map_err(|e| e.to_string())?;
        if let Some((last, last_json)) = page.last() {
            let ids: BTreeSet<WhistleId> = page
                .iter()
                .filter_map(|(_, json)| serde_json::from_str::<Subject>(json).ok())
                .filter_map(|s| s.subject.parse::<WhistleId>().ok())
                .collect();
            let ids: Vec<WhistleId> = ids.into_iter().collect();
            // One read for the page's cases (one round trip on PostgreSQL, not two a case).
            let mut found: std::collections::HashMap<WhistleId, super::Case> = reads
                .whistles_with_timelines(&ids)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(w, t)| (w.id, (w, t)))
                .collect();
            let cases: Vec<(WhistleId, Option<super::Case>)> =
                ids.into_iter().map(|id| (id, found.remove(&id))).collect();
            search.stage(cases).map_err(|e| e.to_string())?;
            self.staged = *last;
            self.mark = super::fingerprint(last_json);
            self.dirty = true;
        }
        let caught_up = page.len() < PAGE;
        let since = self.committed.elapsed();
        if self.dirty && ((caught_up && since >= COMMIT_GAP) || since >= COMMIT_EVERY) {
            search
                .commit(self.staged, &self.mark)
                .map_err(|e| e.to_string())?;
            self.dirty = false;
            self.committed = Instant::now();
        }
        Ok(page.len())
    }
}

/// Whether the event the index holds up to is the store's event of that number.
fn same_log(search: &Search, reads: &dyn Reads, seq: u64) -> Result<bool, String> {
    let at = reads.events_after(seq - 1, 1).map_err(|e| e.to_string())?;
    Ok(match at.first() {
        Some((s, json)) if *s == seq => super::fingerprint(json) == search.mark(),
        _ => false,
    })
}

/// Reads the whole log into `search` as it stands (for tests and tools; a server's feed does
/// this as it starts).
pub fn catch_up(search: &Search, reads: &dyn Reads) -> Result<(), String> {
    let mut feed = Feed::new(search);
    while feed.round(search, reads)? >= PAGE {}
    if feed.dirty {
        search
            .commit(feed.staged, &feed.mark)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Opens the index (in `dir`, or in memory when it cannot be kept there or none is given) on
/// the feed's own thread, and follows the log on it until `stop`. Woken by what is published
/// (this server's commits, and on a shared database what the log follower brings) or every
/// [`POLL`].
pub async fn start<T: Clone + Send + 'static>(
    dir: Option<PathBuf>,
    reads: Arc<dyn Reads>,
    mut published: broadcast::Receiver<T>,
    mut stop: watch::Receiver<bool>,
) -> Result<(Arc<Search>, tokio::task::JoinHandle<()>), SearchError> {
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let (nudge, nudged) = sync_channel::<()>(1);
    let stopping = Arc::new(AtomicBool::new(false));
    let thread_stopping = stopping.clone();
    let thread = std::thread::Builder::new()
        .name("shaozi-search".into())
        .spawn(move || {
            crate::priority::lower_this_thread(NICENESS);
            let opened = Search::open(dir.as_deref()).or_else(|e| {
                tracing::warn!(error = %e, "the search index cannot be kept on disk; keeping it in memory");
                Search::open(None)
            });
            let search = match opened {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                    return;
                }
            };
            let _ = opened_tx.send(Ok(search.clone()));
            follow(&search, reads.as_ref(), &nudged, &thread_stopping);
        })
        .map_err(|e| SearchError::Directory(format!("cannot start the search thread: {e}")))?;
    let search = opened_rx
        .await
        .map_err(|_| SearchError::Directory("the search thread stopped".into()))??;
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                r = published.recv() => {
                    if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                        break;
                    }
                    let _ = nudge.try_send(());
                }
                _ = stop.changed() => break,
            }
        }
        stopping.store(true, Ordering::Relaxed);
        let _ = nudge.try_send(());
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    });
    Ok((search, task))
}

fn follow(search: &Search, reads: &dyn Reads, nudged: &Receiver<()>, stopping: &AtomicBool) {
    let mut feed = Feed::new(search);
    let mut failing = false;
    while !stopping.load(Ordering::Relaxed) {
        match feed.round(search, reads) {
            Ok(n) => {
                failing = false;
                if n >= PAGE {
                    continue;
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "the search index could not follow the log; retrying");
                }
                failing = true;
                // Start again from what the index holds.
                feed = Feed::new(search);
            }
        }
        match nudged.recv_timeout(POLL) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
