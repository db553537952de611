//! Starting a server (the store, the writer, the background tasks, the listener) and
//! stopping it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use shaozi_shared::Rules;

use crate::auth::{Limits, TokenBook};
use crate::clock::{Clock, SystemClock};
use crate::open::open_engine;
use crate::router::app;
use crate::serve::serve_http;
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::sweep::{sweep_deadlines, sweep_once};
use crate::writer::{self, Writer, WriterHandle};
use crate::{demo, follow, guard, metrics, notify, storage, tls};

/// How to run a server.
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Data directory of the sled store.
    pub data: PathBuf,
    /// The admin token; without one the stored one is kept, or a new one made.
    pub admin_token: Option<String>,
    /// Run the living demo city.
    pub demo: Option<demo::DemoConfig>,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// How often the server checks deadlines.
    pub sweep_every: Duration,
    /// Deadlines per category and the working calendar.
    pub rules: Rules,
    /// Request rate and event streams allowed per token.
    pub limits: Limits,
    /// Longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// The Open311 jurisdiction_id this server answers for.
    pub jurisdiction: String,
    /// Limits on traffic without a token, and the proxies trusted to name the client.
    pub public: guard::PublicLimits,
    /// Webhook deliveries: how they retry (None: this server delivers none, for a server
    /// kept for reads).
    pub webhooks: Option<notify::deliver::DeliveryConfig>,
    /// The key webhook secrets are sealed with at rest (none: kept as given).
    pub vault: notify::vault::Vault,
    /// Serve HTTPS with this certificate (none: plain HTTP, as behind a TLS proxy).
    pub tls: Option<tls::TlsFiles>,
    /// The token `/metrics` asks for (none: open to whoever reaches it).
    pub metrics_token: Option<String>,
    /// Internal address blocks webhooks may reach nonetheless (a city's intranet); every
    /// other internal address is refused.
    pub webhook_allow: Vec<guard::IpNet>,
    /// How many webhook subscriptions one unit, and the whole city, may have.
    pub webhook_caps: notify::Caps,
    /// Where this server keeps its search index (None: beside a sled store, `search/` in its
    /// directory; in memory on PostgreSQL, built from the log at start).
    pub search_dir: Option<PathBuf>,
}

impl Config {
    /// Defaults for a data directory: loopback port 7311, system clock, no demo.
    pub fn new(data: PathBuf) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7311)),
            data,
            admin_token: None,
            demo: None,
            clock: Arc::new(SystemClock),
            sweep_every: Duration::from_secs(1),
            rules: Rules::builtin(),
            search_dir: None,
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            jurisdiction: "shaozi".into(),
            public: guard::PublicLimits::default(),
            webhooks: Some(notify::deliver::DeliveryConfig::default()),
            vault: notify::vault::Vault::default(),
            tls: None,
            metrics_token: None,
            webhook_allow: Vec::new(),
            webhook_caps: notify::Caps::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("cannot open the store in {path}: {source}")]
    Store {
        /// The data directory.
        path: PathBuf,
        /// Why.
        source: crate::storage::StoreError,
    },
    /// The TLS certificate or key cannot be used.
    #[error("cannot serve HTTPS: {0}")]
    Tls(#[from] tls::TlsError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The search index could not be made, even in memory.
    #[error("cannot make the search index: {0}")]
    Search(String),
}

/// A server that is serving.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Whether it serves HTTPS.
    pub tls: bool,
    /// The admin token, if this start created it (print it once; only its hash is kept).
    pub created_admin_token: Option<String>,
    /// Handle for submitting commands directly (the demo and bulk loads use it).
    pub writer: WriterHandle,
    /// The sled store, for looking inside it (tests, the load tool); None on PostgreSQL.
    pub sled: Option<Store>,
    /// The store, for reads, whatever the engine.
    pub store: Arc<dyn storage::Reads>,
    /// The search index (the load tool waits for it to catch up).
    pub search: Arc<crate::search::Search>,
    shutdown_tx: watch::Sender<bool>,
    readiness: Arc<crate::readiness::Readiness>,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    writer_owner: Writer,
}

/// Opens the store and starts serving.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let store_err = |source| StartError::Store {
        path: config.data.clone(),
        source,
    };
    // A certificate that cannot be used stops the start before the store is touched.
    let tls = match &config.tls {
        Some(files) => {
            let resolver = tls::CertResolver::load(files.clone())?;
            let acceptor = tokio_rustls::TlsAcceptor::from(resolver.server_config()?);
            Some((resolver, acceptor))
        }
        None => None,
    };
    let opened = open_engine(&config.data).await.map_err(store_err)?;
    let engine_name = opened.engine_name();
    let store = opened.reads.clone();
    let (tokens, created) = TokenBook::load(
        opened.keeper.as_ref(),
        config.admin_token.as_deref(),
        config.clock.clone(),
        config.limits,
    )
    .map_err(store_err)?;
    let rules = Arc::new(config.rules);
    let wake = Arc::new(tokio::sync::Notify::new());
    let publishing = if opened.shared {
        writer::Publishing::Follower(wake.clone())
    } else {
        writer::Publishing::Direct
    };
    let writer_owner = Writer::start(
        opened.engine,
        config.clock.clone(),
        rules.clone(),
        tokens.clone(),
        publishing,
    )
    .map_err(store_err)?;
    let writer = writer_owner.handle();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;

    // What the clock owes after downtime is applied before the first answer, so the first
    // read after a restart already shows cases overdue (and the first sweep does not race
    // whatever comes next).
    sweep_once(&writer).await;
    let mut background = vec![tokio::spawn(sweep_deadlines(
        writer.clone(),
        config.sweep_every,
        shutdown_rx.clone(),
    ))];
    if let Some((resolver, _)) = &tls {
        background.push(tokio::spawn(tls::watch(
            resolver.clone(),
            shutdown_rx.clone(),
        )));
    }
    if opened.shared {
        background.push(tokio::spawn(follow::follow_log(
            store.clone(),
            opened.keeper.clone(),
            writer.clone(),
            tokens.clone(),
            wake,
            shutdown_rx.clone(),
        )));
    }
    // The search index: kept beside a sled store (or where asked), in memory otherwise; it
    // follows the log from what it holds, so a first start builds it in the background.
    let search_dir = config
        .search_dir
        .clone()
        .or_else(|| opened.sled.is_some().then(|| config.data.join("search")));
    let (search, feeding) = crate::search::feed::start(
        search_dir,
        store.clone(),
        writer.subscribe(),
        shutdown_rx.clone(),
    )
    .await
    .map_err(|e| StartError::Search(e.to_string()))?;
    background.push(feeding);
    if let Some(demo) = config.demo {
        // The history goes in before anyone connects, so it does not arrive as "new".
        if let Err(e) = demo::prepare(&demo, store.as_ref(), &writer, config.clock.as_ref()).await {
            tracing::warn!(error = %e, "demo city could not be loaded");
        }
        background.push(tokio::spawn(demo::run(
            demo,
            store.clone(),
            writer.clone(),
            config.clock.clone(),
            shutdown_rx.clone(),
        )));
    }
    let deliveries = match config.webhooks {
        Some(c) => match notify::deliver::Deliveries::new(
            opened.hooks.clone(),
            store.clone(),
            writer.clone(),
            config.clock.clone(),
            rules.calendar.offset,
            config.vault.clone(),
            tokens.clone(),
            c,
            notify::addr::AddressPolicy::allowing(config.webhook_allow.clone()),
        ) {
            Ok(d) => match d.clone().spawn(opened.leases.clone(), shutdown_rx.clone()) {
                Ok(task) => {
                    background.push(task);
                    Some(d)
                }
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery cannot start; none will be sent");
                    None
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery cannot start; none will be sent");
                None
            }
        },
        None => None,
    };
    let readiness = Arc::new(crate::readiness::Readiness::default());
    let state = AppState::new(Shared {
        store: store.clone(),
        writer: writer.clone(),
        rules,
        tokens,
        shutdown: shutdown_rx.clone(),
        jurisdiction: config.jurisdiction.as_str().into(),
        clock: config.clock.clone(),
        guard: Arc::new(guard::Guard::new(config.public)),
        hooks: opened.hooks.clone(),
        deliveries,
        vault: config.vault.clone(),
        readiness: readiness.clone(),
        http_metrics: Arc::new(metrics::HttpMetrics::default()),
        metrics_token: config.metrics_token.as_deref().map(Arc::from),
        keeper: opened.keeper.clone(),
        export: opened.export.clone(),
        tls: tls.is_some(),
        webhook_caps: config.webhook_caps,
        hook_creating: tokio::sync::Mutex::new(()),
        engine_name,
        sled: opened.sled.clone(),
        data: config.data.clone(),
        checking: std::sync::atomic::AtomicBool::new(false),
        search: search.clone(),
    });
    let serving_tls = tls.is_some();
    let serve = tokio::spawn(serve_http(
        listener,
        app(state),
        config.header_timeout,
        tls.map(|t| t.1),
        shutdown_rx,
    ));
    readiness.serving();
    tracing::info!(%addr, tls = serving_tls, data = %config.data.display(), "serving");
    Ok(RunningServer {
        addr,
        tls: serving_tls,
        created_admin_token: created,
        writer,
        sled: opened.sled,
        store,
        search,
        shutdown_tx,
        readiness,
        serve,
        background,
        writer_owner,
    })
}

impl RunningServer {
    /// Stops taking requests, lets in-flight ones finish, closes event streams, lets the
    /// writer commit what it has queued, flushes and returns.
    pub async fn shutdown(self) {
        self.readiness.stopping();
        let _ = self.shutdown_tx.send(true);
        match self.serve.await {
            Ok(Err(e)) => tracing::error!(error = %e, "server error during shutdown"),
            Err(e) => tracing::error!(error = %e, "server task failed"),
            Ok(Ok(())) => {}
        }
        for b in self.background {
            let _ = b.await;
        }
        self.writer_owner.stop().await;
    }
}
