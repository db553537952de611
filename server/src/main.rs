//! `shaozi-server`: serves the whistle API over a sled store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use shaozi_server::{demo::DemoConfig, start, Config};

/// sled copies tree nodes on every write; glibc's allocator spent a large share of the writer
/// thread on that churn.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backup_cli;
mod token;

/// The shaozi (哨子) whistle server: communities blow the whistle, departments report for duty.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    serve: ServeArgs,
    /// How log lines are written to stderr: text for people, json (one object per line)
    /// for log shippers.
    #[arg(long, env = "SHAOZI_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Create, list and revoke tokens: on a stopped store directly, or through a running
    /// server's API (when the store is in use).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Print the OpenAPI 3.1 document of /api/v1 (as served at /api/v1/openapi.json).
    Openapi,
    /// Copy a whole city into a new, empty store (a directory or a postgres:// URL, either
    /// way round), then check that the copy reads back as the source. Stop the servers first.
    Copy {
        /// The store to copy: a data directory or a postgres:// URL.
        #[arg(long)]
        from: PathBuf,
        /// The new store: an empty or missing directory, or an empty database's URL.
        #[arg(long)]
        to: PathBuf,
        /// The rules file the city runs with (its calendar dates activities).
        #[arg(long, env = "SHAOZI_RULES")]
        rules: Option<PathBuf>,
    },
    /// Write a backup of the whole city, consistent at one sequence number, to a new file:
    /// from the store directly (a stopped sled store, or a database), or through the running
    /// server that holds it (with its admin token), which keeps taking writes meanwhile.
    Backup {
        /// The new backup file.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        at: StoreOrServer,
        #[command(flatten)]
        key: CityKey,
    },
    /// Check that every index entry, counter, timeline and name agrees with the records and
    /// the log. Exits 0 when clean, 1 listing what differs. On a store a running server
    /// holds, the server checks it (with its admin token) and keeps taking writes.
    Check {
        #[command(flatten)]
        at: StoreOrServer,
        /// Write the derived parts again from the records and the log where they differ
        /// (a stopped sled store, or a database), then check again.
        #[arg(long)]
        repair: bool,
        /// The rules file the city runs with (its calendar dates activities).
        #[arg(long, env = "SHAOZI_RULES")]
        rules: Option<PathBuf>,
    },
    /// Rebuild a store from a backup into an empty place (a missing or empty directory, or an
    /// empty database). The whole file is checked first: a damaged one restores nothing.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The new store: a missing or empty directory, or an empty database's URL.
        #[arg(long)]
        data: PathBuf,
        /// The rules file the city runs with (its calendar dates activities).
        #[arg(long, env = "SHAOZI_RULES")]
        rules: Option<PathBuf>,
        #[command(flatten)]
        key: CityKey,
        /// Restore a backup this city's key did not sign (taken without a key, by another
        /// city, or by hand): it says what the file brings in (tokens by role, webhook
        /// subscriptions) and restores it. Without this, such a file is refused.
        #[arg(long)]
        accept_unsigned: bool,
    },
}

/// The city's key, which signs its backups (and seals webhook secrets).
#[derive(clap::Args, Debug, Clone)]
struct CityKey {
    /// The city's key (as the servers' SHAOZI_WEBHOOK_KEY): a backup is signed with it, and a
    /// restore checks the signature.
    #[arg(
        long = "webhook-key",
        env = "SHAOZI_WEBHOOK_KEY",
        hide_env_values = true
    )]
    webhook_key: Option<String>,
}

impl CityKey {
    fn vault(&self) -> anyhow::Result<shaozi_server::notify::vault::Vault> {
        Ok(shaozi_server::notify::vault::Vault::new(
            self.webhook_key.as_deref(),
        )?)
    }
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Create a token and print it alone on stdout (only its hash is kept).
    Create {
        /// admin, dispatcher, department, community or viewer.
        #[arg(long)]
        role: String,
        /// Scope a dispatcher to one street, e.g. S2.
        #[arg(long)]
        street: Option<String>,
        /// The department of a department token, e.g. D40.
        #[arg(long)]
        department: Option<String>,
        /// The community of a community token, e.g. C12.
        #[arg(long)]
        community: Option<String>,
        /// A unique name; it is the actor in the log.
        #[arg(long)]
        name: String,
        /// Days until it expires.
        #[arg(long)]
        expires: Option<i64>,
        #[command(flatten)]
        at: StoreOrServer,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        at: StoreOrServer,
    },
    /// Revoke a token by name; it stops working at once.
    Revoke {
        /// The token's name.
        name: String,
        #[command(flatten)]
        at: StoreOrServer,
    },
}

/// The sled store at `data` opened, when no server holds it; None when one does (sled locks
/// a store its server has open), and then a command goes through that server's API.
/// The sled store in `data`, or None when a running server holds it. `existing`: only a
/// store already there in this build's format (a backup or a check must not make one, nor
/// upgrade one).
fn unless_held(data: &Path, existing: bool) -> anyhow::Result<Option<shaozi_server::store::Store>> {
    use shaozi_server::storage::StoreError;
    use shaozi_server::store::Store;
    let opened = if existing {
        Store::open_existing(data)
    } else {
        Store::open(data)
    };
    match opened {
        Ok(store) => Ok(Some(store)),
        // The store's lock file is held: a server has it open.
        Err(e @ StoreError::Engine(_)) if e.to_string().contains("lock") => Ok(None),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", data.display())),
    }
}

#[derive(clap::Args, Debug, Clone)]
struct StoreOrServer {
    /// Data directory of the store (used directly when no server holds it).
    #[arg(long, env = "SHAOZI_DATA", default_value = "./shaozi-data")]
    data: PathBuf,
    /// The running server to ask when the store is in use.
    #[arg(long, env = "SHAOZI_SERVER", default_value = "http://127.0.0.1:7311")]
    server: String,
    /// An admin token, for asking a running server.
    #[arg(long, env = "SHAOZI_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// A CA certificate (PEM) to trust besides the system's, for a server that serves HTTPS
    /// with a certificate from the city's own CA.
    #[arg(long, env = "SHAOZI_CA_CERT")]
    ca_cert: Option<PathBuf>,
}

impl StoreOrServer {
    /// An HTTP client for the running server, trusting `--ca-cert` too.
    fn client(&self) -> anyhow::Result<reqwest::Client> {
        let mut b = reqwest::Client::builder();
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            for c in reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("{} is not a PEM certificate file", path.display()))?
            {
                b = b.add_root_certificate(c);
            }
        }
        b.build().context("making an HTTP client")
    }
}

#[derive(clap::Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SHAOZI_LISTEN", default_value = "127.0.0.1:7311")]
    listen: SocketAddr,
    /// Data directory of the store.
    #[arg(long, env = "SHAOZI_DATA", default_value = "./shaozi-data")]
    data: PathBuf,
    /// The admin token. Without it, the stored one is kept, or a new one is made and printed once.
    #[arg(long, env = "SHAOZI_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Where this server keeps its search index, derived from the log (default: `search/` in a
    /// sled store's directory; in memory with PostgreSQL, built from the log at each start).
    /// Each server keeps its own.
    #[arg(long, env = "SHAOZI_SEARCH_DIR")]
    search_dir: Option<PathBuf>,
    /// Load a demo city into an empty store and keep it alive.
    #[arg(long, env = "SHAOZI_DEMO")]
    demo: bool,
    /// Demo: new whistles per minute.
    #[arg(long, env = "SHAOZI_DEMO_RATE", default_value_t = 6.0)]
    demo_rate: f64,
    /// Rules file: deadlines per category (calendar or working time), the working calendar and
    /// the assessment's weights. (SHAOZI_CONFIG is the dashboard's own config file.)
    #[arg(long, env = "SHAOZI_RULES")]
    rules: Option<PathBuf>,
    /// Requests per second allowed per token (0: no limit); bursts of three seconds' worth.
    #[arg(long, env = "SHAOZI_RATE_LIMIT", default_value_t = 100.0)]
    rate_limit: f64,
    /// Event streams one token may hold open.
    #[arg(long, env = "SHAOZI_MAX_STREAMS", default_value_t = 16)]
    max_streams: usize,
    /// Requests per second allowed per client address without a token (Open311's public
    /// reads; 0: no limit); bursts of three seconds' worth.
    #[arg(long, env = "SHAOZI_ANON_RATE_LIMIT", default_value_t = 20.0)]
    anon_rate_limit: f64,
    /// Wrong keys or tokens allowed per minute per client address before it is refused with
    /// 429 (0: no limit).
    #[arg(long, env = "SHAOZI_FAILED_KEY_LIMIT", default_value_t = 10.0)]
    failed_key_limit: f64,
    /// Reverse proxies whose X-Forwarded-For names the client (addresses or blocks, comma
    /// separated, e.g. 127.0.0.1,10.0.0.0/8). Without it the header is ignored.
    #[arg(long, env = "SHAOZI_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxy: Vec<shaozi_server::guard::IpNet>,
    /// The Open311 jurisdiction_id this server answers for (checked when a client sends one).
    #[arg(long, env = "SHAOZI_JURISDICTION", default_value = "shaozi")]
    jurisdiction: String,
    /// Seals webhook secrets at rest with this key: 32 random bytes in base64
    /// (`openssl rand -base64 32`), the same on every server of a database. Without it they
    /// are kept as given.
    #[arg(long, env = "SHAOZI_WEBHOOK_KEY", hide_env_values = true)]
    webhook_key: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, the server's first); needs --tls-key.
    /// A renewed file is picked up within a minute.
    #[arg(long, env = "SHAOZI_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, env = "SHAOZI_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Internal addresses webhooks may reach nonetheless: a city's own systems on its
    /// intranet (blocks or addresses, comma separated, e.g. 10.20.0.0/16,192.168.5.7). Every
    /// other loopback, private, link-local, unique-local, multicast or unspecified address is
    /// refused, also when a name resolves to one.
    #[arg(long, env = "SHAOZI_WEBHOOK_ALLOW", value_delimiter = ',')]
    webhook_allow: Vec<shaozi_server::guard::IpNet>,
    /// Most webhook subscriptions one unit (a street, department, community, or the city
    /// office's city-wide scope) may have.
    #[arg(long, env = "SHAOZI_WEBHOOK_MAX_PER_UNIT", default_value_t = 20)]
    webhook_max_per_unit: usize,
    /// Most webhook subscriptions the whole city may have.
    #[arg(long, env = "SHAOZI_WEBHOOK_MAX", default_value_t = 1000)]
    webhook_max: usize,
    /// Ask for this token on /metrics (Authorization: Bearer …). Without it /metrics is open
    /// to whoever reaches the server.
    #[arg(long, env = "SHAOZI_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHAOZI_LOG")
                .unwrap_or_else(|_| "info,sled=warn".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // One JSON object per line, the event's fields at the top level.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    let args = match cli.command {
        Some(Cmd::Serve(a)) => a,
        Some(Cmd::Openapi) => {
            // `| head` closing the pipe early is not an error worth a panic.
            use std::io::Write;
            let _ = std::io::stdout().write_all(shaozi_server::openapi::document_json().as_bytes());
            return Ok(());
        }
        Some(Cmd::Copy { from, to, rules }) => return copy(&from, &to, rules.as_deref()),
        Some(Cmd::Restore {
            from,
            data,
            rules,
            key,
            accept_unsigned,
        }) => {
            return backup_cli::restore(
                &from,
                &data,
                rules.as_deref(),
                &key.vault()?,
                accept_unsigned,
            )
        }
        Some(Cmd::Check { at, repair, rules }) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            // 0 clean, 1 differences found, 2 the check could not run: a cron job or an
            // alert tells "the store is damaged" from "the check is misconfigured".
            match rt.block_on(backup_cli::check(&at, repair, rules.as_deref())) {
                Ok(clean) => std::process::exit(if clean { 0 } else { 1 }),
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    std::process::exit(2);
                }
            }
        }
        Some(Cmd::Backup { to, at, key }) => {
            let vault = key.vault()?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            return rt.block_on(backup_cli::backup(&to, &at, &vault));
        }
        Some(Cmd::Token(t)) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            return rt.block_on(token::run(t));
        }
        None => cli.serve,
    };
    if !(args.demo_rate > 0.0 && args.demo_rate <= 6000.0) {
        anyhow::bail!("--demo-rate must be above 0 and at most 6000 whistles per minute");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

/// `shaozi-server copy`: every event, record, token and activity, then the check.
fn copy(from: &Path, to: &Path, rules: Option<&Path>) -> anyhow::Result<()> {
    use shaozi_server::open_engine_blocking;
    let rules = match rules {
        Some(p) => shaozi_server::config::load(p)?,
        None => shaozi_shared::Rules::builtin(),
    };
    let source = open_engine_blocking(from).with_context(|| {
        format!(
            "opening {} (a server still using it must be stopped first)",
            from.display()
        )
    })?;
    let mut dest = open_engine_blocking(to).with_context(|| format!("opening {}", to.display()))?;
    let started = std::time::Instant::now();
    let r = shaozi_server::copy::copy(&source, &mut dest, rules.calendar.offset)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    dest.engine.close()?;
    println!(
        "copied {} events, {} whistles, {} wishes, {} directory records, {} tokens, {} activities, \
         {} kept answers, {} reply templates and {} webhook subscriptions in {:.1} s; the copy reads back as the \
         source ({} reads compared) and its counters match a recount",
        r.events,
        r.whistles,
        r.wishes,
        r.directory,
        r.tokens,
        r.activities,
        r.kept,
        r.templates,
        r.webhooks,
        started.elapsed().as_secs_f64(),
        r.compared
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::new(args.data.clone());
    config.listen = args.listen;
    config.admin_token = args.admin_token;
    config.jurisdiction = args.jurisdiction.clone();
    config.vault = shaozi_server::notify::vault::Vault::new(args.webhook_key.as_deref())?;
    if !config.vault.keyed() {
        tracing::info!("webhook secrets are kept unsealed; set SHAOZI_WEBHOOK_KEY to seal them");
    }
    if let Some(path) = &args.rules {
        config.rules = shaozi_server::config::load(path)?;
    }
    config.metrics_token = args.metrics_token.clone().filter(|t| !t.is_empty());
    config.search_dir = args.search_dir.clone();
    config.webhook_allow = args.webhook_allow.clone();
    config.webhook_caps = shaozi_server::notify::Caps {
        per_unit: args.webhook_max_per_unit,
        per_city: args.webhook_max,
    };
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(shaozi_server::tls::TlsFiles::new(cert.clone(), key.clone()));
    }
    config.limits = shaozi_server::auth::Limits {
        rate_per_sec: args.rate_limit.max(0.0),
        burst: (args.rate_limit * 3.0).max(10.0),
        streams: args.max_streams.max(1),
    };
    config.public = shaozi_server::guard::PublicLimits {
        anon_rate_per_sec: args.anon_rate_limit.max(0.0),
        failures_per_min: args.failed_key_limit.max(0.0),
        trusted_proxies: args.trusted_proxy.clone(),
        ..Default::default()
    };
    if args.demo {
        config.demo = Some(DemoConfig {
            whistles_per_minute: args.demo_rate,
            ..DemoConfig::default()
        });
    }
    let stop = shutdown_signal()?;
    let server = start(config).await?;
    if let Some(token) = &server.created_admin_token {
        println!("A new admin token was created. It is shown only this once; keep it safe:");
        println!("{token}");
        println!("(only its hash is stored; start with --admin-token to set another)");
    }
    // Whoever started us may close our stdout after reading the address (scripts and tests
    // do); a server must not die of that, so write errors are ignored rather than panicking.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let scheme = if server.tls { "https" } else { "http" };
        let addr = server.addr;
        let _ = writeln!(out, "shaozi-server listening on {scheme}://{addr}");
        let _ = writeln!(out, "  API contract  {scheme}://{addr}/api/v1/openapi.json");
        let _ = writeln!(
            out,
            "  Open311       {scheme}://{addr}/open311/v2/discovery.json"
        );
        let _ = out.flush();
    }
    stop.await;
    tracing::info!("shutting down: finishing in-flight writes");
    server.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Listens for Ctrl-C and SIGTERM. Made before the server starts, so a signal that arrives
/// the moment the address is printed already finds its handler (tokio installs one only when
/// the listener is created).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        let term = term.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            r = ctrl_c => {
                if let Err(e) = r {
                    tracing::error!(error = %e, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
            _ = term => {}
        }
    })
}
