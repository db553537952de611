//! The PostgreSQL engine: several shaozi servers on one database.
//!
//! Writes: each server's one writer runs a batch as one transaction that first locks the
//! one-row log head ([`unit`]), so batches of all servers are ordered, sequence numbers are
//! gapless and in commit order, and every check (versions, names, idempotency keys,
//! deadlines) sees the batches before it. Reads: a few threads, each with its own
//! connection ([`reads`]). The schema is created and migrated on start ([`schema`]).
//!
//! Plain SQL only (KingbaseES and openGauss speak this dialect): no `ON CONFLICT`, nothing
//! that needs LISTEN/NOTIFY.

pub mod check;
mod conn;
mod engine;
mod hooks;
mod reads;
mod schema;
mod statements;
mod unit;

use conn::without_password;
pub(crate) use conn::{col, db_error};
pub use conn::{connect, is_url, wipe};
pub use engine::PgEngine;
pub use hooks::PgLeases;
pub use reads::PgReads;
pub use schema::{migrate, SCHEMA_VERSION};

use crate::storage::StoreError;

/// Opens the database at `url` only if it holds shaozi's tables at this build's schema: for
/// a backup or a check, which must neither create the tables in a mistyped database nor
/// upgrade the schema under servers that still run the older build.
pub fn open_existing(url: &str) -> Result<(PgEngine, PgReads), StoreError> {
    let mut c = connect(url)?;
    let shown = without_password(url);
    match schema::version_of(&mut c)? {
        Some(SCHEMA_VERSION) => {}
        None | Some(0) => {
            return Err(StoreError::NotAStore {
                why: format!(
                    "the database {shown} holds no shaozi tables (give --data the servers' \
                     database)"
                ),
            })
        }
        Some(v) if v < SCHEMA_VERSION => {
            return Err(StoreError::NotAStore {
                why: format!(
                    "the database {shown} is at schema {v}, and this build would upgrade it to \
                     {SCHEMA_VERSION} under servers that may still run the older build; nothing \
                     was changed. Take the backup with the build the servers run (or pg_dump), \
                     or upgrade the servers first"
                ),
            })
        }
        Some(v) => {
            return Err(StoreError::NotAStore {
                why: format!(
                    "the database {shown} is at schema {v}, newer than this build's \
                     {SCHEMA_VERSION}; run a newer shaozi-server (nothing was changed)"
                ),
            })
        }
    }
    drop(c);
    Ok((PgEngine::new(url)?, PgReads::new(url)?))
}

/// Opens the database at `url` for a server: migrates the schema, then connects the writer's
/// connection and the readers'. Blocking; call it off the async runtime.
pub fn open(url: &str) -> Result<(PgEngine, PgReads), StoreError> {
    let mut c = connect(url)?;
    let before = migrate(&mut c)?;
    if before < SCHEMA_VERSION {
        tracing::info!(
            from = before,
            to = SCHEMA_VERSION,
            "database schema migrated"
        );
    }
    drop(c);
    Ok((PgEngine::new(url)?, PgReads::new(url)?))
}
