//! The operator's calls on a running server: a backup streamed while writes go on, and the
//! consistency check.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use shaozi_shared::{Op, Principal};

use crate::backup::take::{take, Source};
use crate::error::ApiError;
use crate::AppState;

/// Bytes handed to the connection at a time.
const CHUNK: usize = 256 * 1024;

/// Hands what a blocking writer writes to an async body, a chunk at a time; fails once the
/// client has gone, which stops the backup.
struct ToBody {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ToBody {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl std::io::Write for ToBody {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// `GET /api/v1/admin/backup`: the whole city at the last durable sequence number, streamed
/// as a backup file while the server keeps taking writes.
#[utoipa::path(get, path = "/admin/backup", tag = "admin", summary = "A backup of the whole city (admin only)",
    description = "The backup file (docs/OPERATIONS.md describes its format), consistent at the sequence number in its header and in the `Shaozi-Backup-Seq` header: every event up to it, none after. Writes go on while it is read. A cut connection leaves a file without its end marker, which `restore` refuses.",
    responses((status = 200, description = "The backup file", content_type = "application/octet-stream",
        headers(("Shaozi-Backup-Seq" = u64, description = "The sequence number the backup is consistent at")))))]
pub async fn backup(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    who.may(Op::Administer).map_err(ApiError::forbidden)?;
    // Acknowledged and durable: every event up to here was answered 2xx or is on disk.
    let seq = st.writer.durable_seq();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let (reads, keeper, export, hooks, engine) = (
        st.store.clone(),
        st.keeper.clone(),
        st.export.clone(),
        st.hooks.clone(),
        st.engine_name,
    );
    let name = who.name.clone();
    let vault = st.vault.clone();
    let errors = tx.clone();
    // Below the requests' priority: the server answers first, the backup takes longer.
    std::thread::Builder::new()
        .name("shaozi-backup".into())
        .spawn(move || {
            crate::priority::lower_this_thread(crate::priority::MAINTENANCE_NICENESS);
            let started = std::time::Instant::now();
            let mut out = ToBody {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            let src = Source {
                reads: reads.as_ref(),
                keeper: keeper.as_ref(),
                export: export.as_ref(),
                hooks: hooks.as_ref(),
                engine,
            };
            match take(&src, seq, &mut out, &vault).and_then(|r| {
                std::io::Write::flush(&mut out)
                    .map_err(crate::backup::BackupError::io("sending the backup"))?;
                Ok(r)
            }) {
                Ok((_, counts)) => tracing::info!(
                    by = %name,
                    seq,
                    events = counts.events,
                    seconds = started.elapsed().as_secs_f64(),
                    "backup sent"
                ),
                Err(e) => {
                    tracing::warn!(by = %name, seq, error = %e, "backup stopped");
                    // The body ends with an error, so the client sees a cut transfer, never a
                    // file that looks whole.
                    let _ = errors.blocking_send(Err(std::io::Error::other(e.to_string())));
                }
            }
        })
        .map_err(|e| ApiError::unavailable(format!("cannot start the backup: {e}")))?;
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"shaozi-{seq}.backup\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    if let Ok(v) = HeaderValue::from_str(&seq.to_string()) {
        h.insert("shaozi-backup-seq", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `POST /api/v1/admin/check`: the consistency check on the running server, which keeps
/// taking writes (see `crate::check`). One at a time.
#[utoipa::path(post, path = "/admin/check", tag = "admin", summary = "Check the derived indexes and counters (admin only)",
    description = "Works out every index entry, counter, timeline and name again from the records and the log, at one sequence number, and lists what differs. Writes go on meanwhile; what changed after that number is not a difference. It reads the whole store: on a large city it takes minutes. To repair, stop the server and run `shaozi-server check --repair`.",
    responses((status = 200, description = "What was found (clean or not)", body = shaozi_shared::api::ConsistencyReport),
        (status = 409, description = "A check is already running")))]
pub async fn check(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<shaozi_shared::api::ConsistencyReport>, ApiError> {
    use std::sync::atomic::Ordering;
    who.may(Op::Administer).map_err(ApiError::forbidden)?;
    if st.checking.swap(true, Ordering::SeqCst) {
        return Err(ApiError::conflict(
            "a consistency check is already running on this server; wait for it",
        ));
    }
    // Cleared however this ends, a client gone midway included.
    struct Running<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let _running = Running(&st.checking);
    let result = run_check(&st).await;
    let report = result.map_err(|e| match e {
        crate::check::CheckError::Store(s) => ApiError::from(s),
        // The operator's own call: what stopped it (no room for the scratch copy, a disk
        // error) is theirs to read.
        other => {
            tracing::warn!(error = %other, "consistency check stopped");
            ApiError::unavailable(format!("the check could not run: {other}"))
        }
    })?;
    tracing::info!(by = %who.name, seq = report.seq, differences = report.differences, "consistency check");
    Ok(Json(report))
}

async fn run_check(
    st: &AppState,
) -> Result<shaozi_shared::api::ConsistencyReport, crate::check::CheckError> {
    let offset = st.rules.calendar.offset;
    let Some(live) = st.sled.clone() else {
        let url = st.data.to_string_lossy().into_owned();
        return crate::priority::in_background("shaozi-check", move || {
            crate::pg::check::check(&url, offset, false)
        })
        .await
        .map_err(|e| crate::storage::StoreError::Unavailable {
            why: format!("the check stopped: {e}"),
        })?;
    };
    // The counters exactly as of one sequence number, read between two batches.
    let counters = live.counters.clone();
    let (seq, at_seq) = st
        .writer
        .between_batches(move |seq| {
            let all: Result<std::collections::BTreeMap<String, i64>, sled::Error> = counters
                .iter()
                .map(|r| {
                    r.map(|(k, v)| {
                        let n = v.as_ref().try_into().map(i64::from_be_bytes).unwrap_or(0);
                        (String::from_utf8_lossy(&k).into_owned(), n)
                    })
                })
                .collect();
            (seq, all)
        })
        .await
        .map_err(|e| crate::storage::StoreError::Unavailable { why: e.to_string() })?;
    let at_seq = at_seq?;
    let (reads, keeper, export, hooks, engine) = (
        st.store.clone(),
        st.keeper.clone(),
        st.export.clone(),
        st.hooks.clone(),
        st.engine_name,
    );
    let scratch = crate::check::scratch_beside(&st.data);
    crate::priority::in_background("shaozi-check", move || {
        crate::check::sled::check(crate::check::sled::SledCheck {
            live: &live,
            source: Source {
                reads: reads.as_ref(),
                keeper: keeper.as_ref(),
                export: export.as_ref(),
                hooks: hooks.as_ref(),
                engine,
            },
            seq,
            counters_at_seq: Some(at_seq),
            offset,
            scratch_in: &scratch,
            repair: false,
        })
    })
    .await
    .map_err(|e| crate::storage::StoreError::Unavailable {
        why: format!("the check stopped: {e}"),
    })?
}
