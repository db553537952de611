//! Backups: a whole city at one sequence number in one file (`shaozi-server backup`), and a
//! new store rebuilt from it (`shaozi-server restore`). The same file for every engine.
//!
//! What is in it: the event log up to the backup's sequence number, and what the log does not
//! hold (each token's secret hash, the kept answers of idempotent creates, webhook
//! subscriptions with their cursors). Every record is in the log: each event carries the
//! record after its change, exactly as the writer stored it, so the records at sequence N
//! are the records of each subject's last event up to N. The log up to N never changes, so a
//! backup of a running server reads it while writes go on and is still consistent at N; the
//! tables beside the log are read after N is chosen and taken back to N (a token revoked
//! after N is as it was at N; one issued after N, and a kept answer for a record made after
//! N, are left out).
//!
//! The file (format 1; docs/OPERATIONS.md says the same):
//!
//! ```text
//! SHAOZI BACKUP 1\n                         the magic line
//! {"format":1,"seq":N,...}\n                 the header, one line of JSON
//! <zstd stream>                             the body: one JSON object per line
//! SHAOZI-BACKUP-END sha256:<64 hex> bytes:<20 digits>\n
//! ```
//!
//! The body's lines, in this order: `{"event":{…}}` for every event from 1 to N, each as the
//! log keeps it; `{"token":{"hash":"<hex>","info":{…}}}`; `{"kept":{"key":"<hex>",
//! "body":"…","answer":"…"}}`; `{"hook":{…},"state":{…}}`; and last `{"end":{…}}` with
//! the counts of each. The trailer's SHA-256 covers every byte before it, and `bytes` says how
//! many there are: a file cut short or with a byte changed is refused before anything is
//! written.

mod file;
pub mod restore;
pub mod take;

pub use file::{check, Checked, Header, FORMAT, MAGIC};

/// Why a backup or a restore stopped.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    /// The file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The file is not a whole, intact backup.
    #[error("{0}")]
    Damaged(String),
    /// The file was written by a newer version.
    #[error("this backup is in format {0}, and this server reads format {FORMAT}; use a newer shaozi-server to restore it")]
    Newer(u64),
    /// The destination already holds a city.
    #[error("the destination is not empty (its log has {0} events); restore into a new store")]
    NotEmpty(u64),
    /// The restored store does not check out.
    #[error("the restored store differs from the backup: {0}")]
    Differs(String),
}

impl BackupError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
        let what = what.into();
        move |source| BackupError::Io { what, source }
    }
}

/// What a backup holds, or what a restore wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Events, 1 to the backup's sequence number.
    pub events: u64,
    /// Tokens.
    pub tokens: u64,
    /// Kept answers of idempotent creates.
    pub kept: u64,
    /// Webhook subscriptions.
    pub hooks: u64,
}
