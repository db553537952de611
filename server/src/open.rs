//! Opening a store, sled or PostgreSQL, as the parts a server runs on.

use std::sync::Arc;

use crate::store::{self, Store};
use crate::{notify, pg, storage};

/// A store opened: its reads, its writer's engine and its tokens.
pub struct OpenedEngine {
    /// What the server reads.
    pub reads: Arc<dyn storage::Reads>,
    /// The writer's side.
    pub engine: Box<dyn storage::Engine>,
    /// Tokens at start-up.
    pub keeper: Arc<dyn storage::TokenKeeper>,
    /// What a copy reads besides.
    pub export: Arc<dyn storage::Export>,
    /// Its counters, for a recount.
    pub counted: Arc<dyn crate::storage::Counted + Send + Sync>,
    /// The sled store itself, when it is one.
    pub sled: Option<Store>,
    /// Whether other servers may write to it too (then a server follows the log).
    pub shared: bool,
    /// Webhook subscriptions.
    pub hooks: Arc<dyn storage::HookStore>,
    /// Which subscriptions this server delivers.
    pub leases: Arc<dyn notify::deliver::Leases>,
}

impl OpenedEngine {
    /// A sled store already open, as an engine.
    pub fn of_sled(store: Store) -> Result<OpenedEngine, crate::storage::StoreError> {
        Ok(OpenedEngine {
            reads: Arc::new(store.clone()),
            engine: Box::new(store::SledEngine::new(store.clone())?),
            keeper: Arc::new(store.clone()),
            export: Arc::new(store.clone()),
            counted: Arc::new(store.clone()),
            hooks: Arc::new(store.clone()),
            leases: Arc::new(notify::deliver::AllMine),
            sled: Some(store),
            shared: false,
        })
    }

    /// A PostgreSQL database already open, as an engine.
    fn of_pg(url: &str, engine: pg::PgEngine, reads: pg::PgReads) -> OpenedEngine {
        let reads = Arc::new(reads);
        OpenedEngine {
            reads: reads.clone(),
            engine: Box::new(engine),
            keeper: reads.clone(),
            export: reads.clone(),
            counted: reads.clone(),
            sled: None,
            shared: true,
            hooks: reads,
            leases: Arc::new(pg::PgLeases::new(url)),
        }
    }

    /// The engine's name, as backups record it.
    pub fn engine_name(&self) -> &'static str {
        if self.sled.is_some() {
            "sled"
        } else {
            "postgres"
        }
    }
}

/// Opens the sled store in a directory, or the PostgreSQL database `data` names (migrating
/// its schema). Blocking: call it off the async runtime.
pub fn open_engine_blocking(
    data: &std::path::Path,
) -> Result<OpenedEngine, crate::storage::StoreError> {
    if let Some(url) = data.to_str().filter(|d| pg::is_url(d)) {
        let (engine, reads) = pg::open(url)?;
        return Ok(OpenedEngine::of_pg(url, engine, reads));
    }
    OpenedEngine::of_sled(Store::open(data)?)
}

/// Opens the store at `data` only if it is one in this build's format, changing nothing:
/// what a backup or a check opens (a mistyped path is refused, not made a new empty store;
/// an older format is refused, not upgraded under the build that wrote it).
pub fn open_existing_blocking(
    data: &std::path::Path,
) -> Result<OpenedEngine, crate::storage::StoreError> {
    if let Some(url) = data.to_str().filter(|d| pg::is_url(d)) {
        let (engine, reads) = pg::open_existing(url)?;
        return Ok(OpenedEngine::of_pg(url, engine, reads));
    }
    OpenedEngine::of_sled(Store::open_existing(data)?)
}

/// [`open_engine_blocking`] from async code: the PostgreSQL client blocks, and must not run
/// on the runtime's threads.
pub(crate) async fn open_engine(
    data: &std::path::Path,
) -> Result<OpenedEngine, crate::storage::StoreError> {
    let data = data.to_path_buf();
    tokio::task::spawn_blocking(move || open_engine_blocking(&data))
        .await
        .map_err(|e| crate::storage::StoreError::Unavailable {
            why: format!("opening the store stopped: {e}"),
        })?
}
