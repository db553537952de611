//! The consistency check (`shaozi-server check`, `POST /api/v1/admin/check`): everything an
//! engine derives (indexes, counters, timelines, names) worked out again from the records
//! and the log, and compared with what it holds; `--repair` writes the derived parts again
//! from the records and the log, which are the truth.
//!
//! sled (`sled.rs`): the city at sequence N is restored from a backup at N into a scratch
//! store, which derives everything the way the writer does, and the two are compared entry by
//! entry. On a running server N is where the writer stood between two batches (its counters
//! are read there), and what changed after N is told apart by the log after N, so writes go
//! on. PostgreSQL (`crate::pg::check`): the derived columns, names and counters are worked out
//! from the rows' JSON and compared inside one snapshot.

mod findings;
mod room;
pub mod sled;

pub use findings::{CheckError, Findings, LISTED};
pub use room::{ensure_room, free_bytes};

use shaozi_shared::api::ConsistencyReport;

/// Checks a store opened directly, with nothing else writing to it (for sled: a stopped
/// store; a database may have servers running). With `repair`, rewrites what differs.
/// Blocking.
pub fn check_store(
    data: &std::path::Path,
    opened: &crate::OpenedEngine,
    offset: chrono::FixedOffset,
    repair: bool,
) -> Result<ConsistencyReport, CheckError> {
    let Some(live) = &opened.sled else {
        let url = data.to_string_lossy();
        return crate::pg::check::check(&url, offset, repair);
    };
    let scratch_in = scratch_beside(data);
    sled::check(sled::SledCheck {
        live,
        source: source_of(opened),
        seq: live.last_seq()?,
        counters_at_seq: None,
        offset,
        scratch_in: &scratch_in,
        repair,
    })
}

/// A backup's view of an opened store.
pub fn source_of(opened: &crate::OpenedEngine) -> crate::backup::take::Source<'_> {
    crate::backup::take::Source {
        reads: opened.reads.as_ref(),
        keeper: opened.keeper.as_ref(),
        export: opened.export.as_ref(),
        hooks: opened.hooks.as_ref(),
        engine: opened.engine_name(),
    }
}

/// Where a sled store's scratch copy goes: beside it, on the same disk (the system's temp
/// directory when the store has no parent).
pub fn scratch_beside(data: &std::path::Path) -> std::path::PathBuf {
    match data.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None if data.is_relative() => std::path::PathBuf::from("."),
        None => std::env::temp_dir(),
    }
}
