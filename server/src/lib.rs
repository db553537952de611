//! The shaozi whistle server: an axum API over a sled store, with a live event stream.
//!
//! [`start`] opens the store, starts the writer, the deadline sweeper and (optionally) the
//! demo city, and serves [`app`] until [`RunningServer::shutdown`].

pub mod auth;
pub mod backup;
pub mod check;
pub mod clock;
pub mod config;
mod conn_deadlines;
pub mod copy;
pub mod demo;
pub mod error;
pub mod extract;
pub mod follow;
pub mod guard;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod openapi;
pub mod pg;
pub mod priority;
pub mod routes;
pub mod storage;
pub mod store;
pub mod tls;
pub mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path};
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use shaozi_shared::api::Step;
use shaozi_shared::{Principal, Rules};

use crate::auth::{Limits, TokenBook};
use crate::clock::{Clock, SystemClock};
use crate::error::ApiError;
use crate::store::Store;
use crate::writer::{Command, Writer, WriterHandle};

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
    pub readiness: Arc<routes::ops::Readiness>,
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
    pub webhook_caps: routes::webhooks::Caps,
    /// Held while a subscription is counted and made.
    pub hook_creating: tokio::sync::Mutex<()>,
    /// The engine's name: `sled` or `postgres`.
    pub engine_name: &'static str,
    /// The sled store, when it is one (the consistency check compares its trees).
    pub sled: Option<Store>,
    /// The data directory or database URL.
    pub data: PathBuf,
    /// A consistency check is running (one at a time).
    pub checking: std::sync::atomic::AtomicBool,
}

/// The `/api/v1` routes with their OpenAPI descriptions, before authentication.
pub fn api_routes() -> OpenApiRouter<AppState> {
    use routes::{admin, assessment, directory, events, stats, webhooks, whistles, wishes};
    let api = OpenApiRouter::new()
        .routes(routes!(directory::list_streets, directory::create_street))
        .routes(routes!(
            directory::list_communities,
            directory::create_community
        ))
        .routes(routes!(
            directory::list_departments,
            directory::create_department
        ))
        .routes(routes!(directory::list_categories))
        .routes(routes!(whistles::list, whistles::create))
        .routes(routes!(whistles::get))
        .routes(routes!(wishes::list, wishes::create))
        .routes(routes!(wishes::get))
        .routes(routes!(stats::get))
        .routes(routes!(events::stream))
        .routes(routes!(admin::me))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::audit))
        .routes(routes!(routes::maintenance::backup))
        .routes(routes!(routes::maintenance::check))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get_one, webhooks::delete))
        .routes(routes!(webhooks::resume))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::adopt))
        .routes(routes!(assessment::get))
        .routes(routes!(assessment::record));
    // Every step of the shared table, whistles' and wishes'.
    wishes::step_routes(whistles::step_routes(api))
}

/// The HTTP routes.
pub fn app(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    // A mistyped step gets the list of real ones rather than a bare "no such route".
    let names = |steps: &[Step]| {
        steps
            .iter()
            .map(|s| s.tail())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (whistle_steps, wish_steps) = (names(Step::WHISTLE), names(Step::WISH));
    let api = api
        .route(
            "/whistles/{id}/{action}",
            axum::routing::any(|Path((_, a)): Path<(String, String)>| async move {
                ApiError::not_found(format!("no action {a:?}; whistles take {whistle_steps}"))
            }),
        )
        .route(
            "/wishes/{id}/{action}",
            axum::routing::any(|Path((_, a)): Path<(String, String)>| async move {
                ApiError::not_found(format!("no action {a:?}; wishes take {wish_steps}"))
            }),
        );
    let api = api.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_token,
    ));
    let api = api.route_layer(axum::middleware::from_fn(routes::ops::note_route));
    let api = api.layer(axum::middleware::from_fn(extract::refuse_nul));
    let open311 = open311::routes().route_layer(axum::middleware::from_fn(routes::ops::note_route));
    Router::new()
        // Liveness: the process answers. Readiness (the store takes writes) is /readyz.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        // The contract is public, so a client generator needs no token to read it.
        .route("/api/v1/openapi.json", get(openapi::serve))
        .nest("/api/v1", api)
        .nest("/open311/v2", open311)
        .route_layer(axum::middleware::from_fn(routes::ops::note_route))
        .fallback(|| async { ApiError::not_found("no such route; the API lives under /api/v1") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(axum::middleware::map_request(extract::deadline_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::ops::count_request,
        ))
        .with_state(state)
}

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
    pub webhook_caps: routes::webhooks::Caps,
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
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            jurisdiction: "shaozi".into(),
            public: guard::PublicLimits::default(),
            webhooks: Some(notify::deliver::DeliveryConfig::default()),
            vault: notify::vault::Vault::default(),
            tls: None,
            metrics_token: None,
            webhook_allow: Vec::new(),
            webhook_caps: routes::webhooks::Caps::default(),
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
        source: store::StoreError,
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
    shutdown_tx: watch::Sender<bool>,
    readiness: Arc<routes::ops::Readiness>,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    writer_owner: Writer,
}

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
    pub counted: Arc<dyn store::Counted + Send + Sync>,
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
    pub fn of_sled(store: Store) -> Result<OpenedEngine, store::StoreError> {
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
pub fn open_engine_blocking(data: &std::path::Path) -> Result<OpenedEngine, store::StoreError> {
    if let Some(url) = data.to_str().filter(|d| pg::is_url(d)) {
        let (engine, reads) = pg::open(url)?;
        return Ok(OpenedEngine::of_pg(url, engine, reads));
    }
    OpenedEngine::of_sled(Store::open(data)?)
}

/// Opens the store at `data` only if it is one in this build's format, changing nothing:
/// what a backup or a check opens (a mistyped path is refused, not made a new empty store;
/// an older format is refused, not upgraded under the build that wrote it).
pub fn open_existing_blocking(data: &std::path::Path) -> Result<OpenedEngine, store::StoreError> {
    if let Some(url) = data.to_str().filter(|d| pg::is_url(d)) {
        let (engine, reads) = pg::open_existing(url)?;
        return Ok(OpenedEngine::of_pg(url, engine, reads));
    }
    OpenedEngine::of_sled(Store::open_existing(data)?)
}

/// [`open_engine_blocking`] from async code: the PostgreSQL client blocks, and must not run
/// on the runtime's threads.
async fn open_engine(data: &std::path::Path) -> Result<OpenedEngine, store::StoreError> {
    let data = data.to_path_buf();
    tokio::task::spawn_blocking(move || open_engine_blocking(&data))
        .await
        .map_err(|e| store::StoreError::Unavailable {
            why: format!("opening the store stopped: {e}"),
        })?
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
    let readiness = Arc::new(routes::ops::Readiness::default());
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

/// Accepts connections until `stop`, then lets open ones finish. Unlike `axum::serve` it gives
/// hyper a timer, so a client that trickles its headers is cut off after `header_timeout`
/// (and one that trickles its TLS handshake, after the same time).
async fn serve_http(
    listener: tokio::net::TcpListener,
    router: Router,
    header_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;
    let stopped = stopped(stop.clone());
    tokio::pin!(stopped);
    use tower::ServiceExt;
    let graceful = Arc::new(hyper_util::server::graceful::GracefulShutdown::new());
    let mut http = hyper::server::conn::http1::Builder::new();
    // Heads are timed from their first byte, and idle connections kept, by
    // `conn_deadlines` (hyper's own timer also ran while a connection was idle).
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    let mut handshakes = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Finished handshakes are reaped so the set does not grow.
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => continue,
            _ = &mut stopped => break,
        };
        let _ = stream.set_nodelay(true);
        let svc =
            router
                .clone()
                .map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    // The client's address, for the limits on traffic without a token.
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        match &tls {
            None => serve_connection(
                &http,
                &graceful,
                conn_deadlines::Deadlines::new(stream, header_timeout),
                svc,
            ),
            Some(acceptor) => {
                let (acceptor, http, graceful) = (acceptor.clone(), http.clone(), graceful.clone());
                let stop = stop.clone();
                // The handshake runs beside the accept loop, so a slow client holds up no one.
                handshakes.spawn(async move {
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) if !*stop.borrow() => serve_connection(
                            &http,
                            &graceful,
                            conn_deadlines::Deadlines::new(tls, header_timeout),
                            svc,
                        ),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake took too long"),
                    }
                });
            }
        }
    }
    drop(listener);
    // A handshake under way when the server stops is not served.
    handshakes.shutdown().await;
    match Arc::try_unwrap(graceful) {
        Ok(g) => g.shutdown().await,
        Err(_) => tracing::warn!("connections still being set up at shutdown were dropped"),
    }
    Ok(())
}

/// Serves one connection (plain or TLS) on its own task, watched for a graceful shutdown.
fn serve_connection<I, S>(
    http: &hyper::server::conn::http1::Builder,
    graceful: &hyper_util::server::graceful::GracefulShutdown,
    io: I,
    svc: S,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send + 'static,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as http_body::Body>::Data: Send,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended");
        }
    });
}

/// Resolves once the shutdown flag is set (or its sender is gone).
async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Every `every`, asks the writer to mark overdue what has passed its deadline. The first
/// sweep runs at once, catching up on deadlines that passed while the server was down; it
/// reads only the due part of the deadline index, never the whole store.
/// Applies what the clock owes now: due-soon warnings, deadlines passed, fixes closed
/// unconfirmed.
async fn sweep_once(writer: &WriterHandle) {
    match writer
        .submit(Command::SweepDeadlines, Principal::system())
        .await
    {
        Ok(writer::Reply::Swept(n)) if n > 0 => {
            tracing::info!(
                n,
                "the clock acted: due-soon warnings, deadlines passed, fixes closed unconfirmed"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
    }
}

/// Sweeps every `every` until `stop` (the first sweep is done at start).
async fn sweep_deadlines(writer: WriterHandle, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        sweep_once(&writer).await;
    }
}
