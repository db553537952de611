//! What every handler can reach: one shared allocation, cloned per request.

use std::path::PathBuf;
use std::sync::Arc;

use shaozi_shared::Rules;
use tokio::sync::watch;

use crate::auth::TokenBook;
use crate::clock::Clock;
use crate::store::Store;
use crate::writer::WriterHandle;
use crate::{guard, metrics, notify, storage};

/// What every handler can reach; cloned for every request, so one shared allocation.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wraps the parts for sharing.
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    /// The store, for reads: through the seam, whatever the engine.
    pub store: Arc<dyn storage::Reads>,
    /// The writer, for changes.
    pub writer: WriterHandle,
    /// Categories with their deadlines, and the calendar.
    pub rules: Arc<Rules>,
    /// Accepted tokens and their limits.
    pub tokens: Arc<TokenBook>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// The Open311 jurisdiction_id this server answers for.
    pub jurisdiction: Arc<str>,
    /// Where time comes from (a test clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Limits on traffic without a token.
    pub guard: Arc<guard::Guard>,
    /// Webhook subscriptions, in the store.
    pub hooks: Arc<dyn storage::HookStore>,
    /// The deliveries this server runs (None when it runs none).
    pub deliveries: Option<notify::deliver::Deliveries>,
    /// Seals and opens webhook secrets.
    pub vault: notify::vault::Vault,
    /// Where the server is in its life (`/readyz`).
    pub readiness: Arc<crate::readiness::Readiness>,
    /// Requests counted for `/metrics`.
    pub http_metrics: Arc<metrics::HttpMetrics>,
    /// The token `/metrics` asks for (none: open).
    pub metrics_token: Option<Arc<str>>,
    /// Tokens with their secrets' hashes (a backup takes them).
    pub keeper: Arc<dyn storage::TokenKeeper>,
    /// What a backup reads besides the log.
    pub export: Arc<dyn storage::Export>,
    /// Whether this server serves HTTPS itself (addresses it gives out say https).
    pub tls: bool,
    /// How many webhook subscriptions one unit and the city may have; creates are counted
    /// and made one at a time on this server.
    pub webhook_caps: notify::Caps,
    /// Held while a subscription is counted and made.
    pub hook_creating: tokio::sync::Mutex<()>,
    /// The engine's name: `sled` or `postgres`.
    pub engine_name: &'static str,
    /// The sled store, when it is one (the consistency check compares its trees).
    pub sled: Option<Store>,
    /// The data directory or database URL.
    pub data: PathBuf,
    /// The search index over every case.
    pub search: Arc<crate::search::Search>,
    /// A consistency check is running (one at a time).
    pub checking: std::sync::atomic::AtomicBool,
}
