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

pub mod sled;

use shaozi_shared::api::{ConsistencyReport, Difference};

use crate::backup::BackupError;
use crate::storage::Series;
use crate::storage::StoreError;

/// Differences listed at most (a badly broken store would otherwise print forever); the
/// count says how many there were.
pub const LISTED: usize = 1000;

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scratch copy could not be made.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// Not enough free disk for the scratch copy.
    #[error("the check needs about {need_mib} MiB free beside the store for its scratch copy, and {dir} has {have_mib} MiB; free some space (the live store must keep room to write)")]
    NoRoom {
        /// Where the scratch copy would go.
        dir: String,
        /// About how much it needs.
        need_mib: u64,
        /// How much there is.
        have_mib: u64,
    },
    /// The scratch space could not be made.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

impl From<::sled::Error> for CheckError {
    fn from(e: ::sled::Error) -> Self {
        CheckError::Store(e.into())
    }
}

/// What a check found, as it is being found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Differences, up to [`LISTED`].
    pub listed: Vec<Difference>,
    /// How many in all.
    pub total: u64,
}

impl Findings {
    /// Notes a difference in `part` (`index`, `counter`, `record`, `name`, `series`).
    pub fn add(&mut self, part: &str, what: String) {
        self.total += 1;
        if self.listed.len() < LISTED {
            self.listed.push(Difference {
                part: part.to_string(),
                what,
            });
        }
    }

    /// Notes a series whose next id is not past its records': the next record would take an
    /// id one already has (sled would overwrite it, PostgreSQL refuse the batch and stop
    /// writes). Returns whether it differs. A series ahead of its records leaves a gap in the
    /// numbers and harms nothing, so it is not a difference.
    pub fn series(&mut self, series: Series, next: u64, highest: Option<u64>) -> bool {
        let Some(highest) = highest.filter(|h| next <= *h) else {
            return false;
        };
        let name = series.name();
        self.add(
            "series",
            format!(
                "the next {name} id is {next}, and {name} {highest} exists: the next one \
                 would take an id already taken (it should go on from {})",
                highest + 1
            ),
        );
        true
    }

    /// The report, at sequence number `seq`, with what was compared.
    pub fn report(self, seq: u64, compared: u64, repaired: bool) -> ConsistencyReport {
        ConsistencyReport {
            seq,
            compared,
            clean: self.total == 0,
            differences: self.total,
            listed: self.listed,
            repaired,
        }
    }
}

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

/// Free bytes for an unprivileged writer on the file system of `dir`, if it can be told.
pub fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid C string and `st` a valid out-pointer for the call.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Refuses to start a scratch copy of `store_bytes` in `dir` unless it leaves the disk at
/// least as much again free (and 64 MiB at the least): the live store shares the disk, and
/// running it out of space stops its writes.
pub fn ensure_room(dir: &std::path::Path, store_bytes: u64) -> Result<(), CheckError> {
    let Some(have) = free_bytes(dir) else {
        return Ok(());
    };
    let reserve = store_bytes.max(64 << 20);
    let need = store_bytes.saturating_add(reserve);
    if have < need {
        return Err(CheckError::NoRoom {
            dir: dir.display().to_string(),
            need_mib: need >> 20,
            have_mib: have >> 20,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_copy_that_would_crowd_the_disk_is_refused_before_it_starts() {
        let dir = std::env::temp_dir();
        let free = free_bytes(&dir).expect("statvfs answers on a unix temp dir");
        assert!(ensure_room(&dir, 1 << 20).is_ok() || free < (65 << 20));
        match ensure_room(&dir, free) {
            Err(CheckError::NoRoom {
                need_mib, have_mib, ..
            }) => {
                assert!(need_mib > have_mib, "{need_mib} {have_mib}")
            }
            other => panic!("a copy as large as the free space must be refused: {other:?}"),
        }
    }
}
