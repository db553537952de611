//! The PostgreSQL engine's writer connection: the statements it prepares, reconnecting, and
//! one batch as one transaction that locks the log head first. A 2xx is sent only after
//! COMMIT returned.

use chrono::{DateTime, Utc};
use postgres::Client;

use shaozi_shared::WhistleId;

use super::statements::Prepared;
use super::unit::PgUnit;
use super::{col, connect, db_error};
use crate::storage::StoreError;
use crate::storage::{Batch, Engine};
/// The PostgreSQL engine's write side, owned by the writer thread. It reconnects after a
/// lost connection; until then, batches are refused as unavailable.
pub struct PgEngine {
    url: String,
    client: Option<Client>,
    prepared: Option<Prepared>,
}

impl PgEngine {
    /// Connects to the database at `url` (already migrated).
    pub fn new(url: &str) -> Result<PgEngine, StoreError> {
        let mut client = connect(url)?;
        let prepared = Prepared::on(&mut client)?;
        Ok(PgEngine {
            url: url.to_string(),
            client: Some(client),
            prepared: Some(prepared),
        })
    }

    fn client(&mut self) -> Result<&mut Client, StoreError> {
        Ok(self.connection()?.0)
    }

    /// The writer's connection and its prepared statements, connecting again if it was lost.
    fn connection(&mut self) -> Result<(&mut Client, &Prepared), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) || self.prepared.is_none() {
            self.client = None;
            self.prepared = None;
            let mut c = connect(&self.url)?;
            self.prepared = Some(Prepared::on(&mut c)?);
            self.client = Some(c);
        }
        match (self.client.as_mut(), self.prepared.as_ref()) {
            (Some(c), Some(p)) => Ok((c, p)),
            _ => Err(StoreError::Unavailable {
                why: "no database connection".into(),
            }),
        }
    }

    /// Forgets a connection that failed, so the next batch reconnects.
    fn forget_if_lost<T>(&mut self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if matches!(r, Err(StoreError::Unavailable { .. })) {
            self.client = None;
            self.prepared = None;
        }
        r
    }
}

/// The client's drop closes the connection by blocking on its own runtime, which must not
/// happen on an async runtime's thread; wherever the engine is dropped, it happens aside.
impl Drop for PgEngine {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("shaozi-pg-close".into())
                .spawn(move || drop(c));
        }
    }
}

impl Engine for PgEngine {
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        let r = self
            .client()?
            .query_one("SELECT seq FROM log_head WHERE one = 1", &[])
            .map_err(db_error)
            .and_then(|row| col::<i64>(&row, 0))
            .map(|s| s.max(0) as u64);
        self.forget_if_lost(r)
    }

    fn due_whistles(
        &mut self,
        at: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let r = self
            .client()?
            .query(
                "SELECT id FROM whistles WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2",
                &[&at, &limit],
            )
            .map_err(db_error)
            .and_then(|rows| {
                rows.iter()
                    .map(|r| col::<i64>(r, 0).map(|id| WhistleId(id.max(0) as u64)))
                    .collect()
            });
        self.forget_if_lost(r)
    }

    fn commit(&mut self, batch: &mut Batch<'_>) -> Result<(), StoreError> {
        for attempt in 0..2 {
            let (client, prepared) = self.connection()?;
            match run_batch(client, prepared, batch) {
                // The connection was found broken before the batch sent anything: nothing
                // can have been saved, so it runs again on a new connection.
                Err(BatchError::NotStarted(StoreError::Unavailable { .. })) if attempt == 0 => {
                    self.client = None;
                    self.prepared = None;
                }
                Err(BatchError::NotStarted(e) | BatchError::Failed(e)) => {
                    return self.forget_if_lost(Err(e))
                }
                Ok(()) => return Ok(()),
            }
        }
        Err(StoreError::Unavailable {
            why: "the database cannot be reached".into(),
        })
    }

    fn close(&mut self) -> Result<(), StoreError> {
        // Every batch was committed before it was answered; nothing waits in memory.
        Ok(())
    }

    fn settle(&mut self) -> Result<(), StoreError> {
        let r = self.client()?.batch_execute("ANALYZE").map_err(db_error);
        self.forget_if_lost(r)
    }
}

/// Why a batch failed: before it sent anything of its own (safe to run again), or after.
enum BatchError {
    NotStarted(StoreError),
    Failed(StoreError),
}

fn run_batch(
    client: &mut Client,
    prepared: &Prepared,
    batch: &mut Batch<'_>,
) -> Result<(), BatchError> {
    let mut tx = client
        .transaction()
        .map_err(|e| BatchError::NotStarted(db_error(e)))?;
    // Locked first: this orders the batches of every server.
    let head: i64 = tx
        .query_typed_one("SELECT seq FROM log_head WHERE one = 1 FOR UPDATE", &[])
        .map_err(db_error)
        .and_then(|row| col(&row, 0))
        .map_err(BatchError::NotStarted)?;
    let mut unit = PgUnit::new(&mut tx, prepared, head.max(0) as u64);
    batch(&mut unit).map_err(BatchError::Failed)?;
    unit.write_all().map_err(BatchError::Failed)?;
    tx.commit().map_err(|e| {
        BatchError::Failed(match db_error(e) {
            StoreError::Unavailable { why } => StoreError::Unavailable {
                why: format!(
                    "the database connection failed during COMMIT, so whether the change was \
                 saved is unknown; retry with the same Idempotency-Key ({why})"
                ),
            },
            other => other,
        })
    })
}
