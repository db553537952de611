//! What a check found, and why one could not run: the same for every engine.

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
