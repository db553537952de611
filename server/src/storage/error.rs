//! What can go wrong below the API, whatever the engine.

use serde::de::DeserializeOwned;

/// Something went wrong below the API: the disk, or a record we cannot read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine itself failed (sled: the disk); in its words.
    #[error("storage error: {0}")]
    Engine(String),
    /// The database cannot be reached or cannot take writes now (PostgreSQL: a lost
    /// connection, a standby); a retry later may succeed.
    #[error("{why}")]
    Unavailable {
        /// What happened, in words.
        why: String,
    },
    /// The database refused a statement (PostgreSQL).
    #[error("database error: {0}")]
    Database(String),
    /// A sled transaction met another one; sled runs it again (never seen by a caller).
    #[error("a transaction conflicted")]
    Conflict,
    /// Not a store this build reads as it is (missing, empty, or in an older format that
    /// opening would upgrade); said to the operator, nothing was changed.
    #[error("{why}")]
    NotAStore {
        /// What was found, and what to do.
        why: String,
    },
    /// A stored record does not decode; the store is damaged or from another version.
    #[error("damaged record {what}: {why}")]
    Corrupt {
        /// Which record.
        what: String,
        /// The decoder's complaint.
        why: String,
    },
}

/// Decodes a stored JSON record.
pub fn decode<T: DeserializeOwned>(
    v: &[u8],
    what: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        what: what(),
        why: e.to_string(),
    })
}
