//! `shaozi`: the dispatcher's terminal dashboard.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use shaozi_tui::app::App;
use shaozi_tui::config::{self, Paths};
use shaozi_tui::driver::Driver;
use shaozi_tui::i18n::Lang;
use shaozi_tui::keys::Keymap;
use shaozi_tui::net::Api;

/// shaozi (哨子): the live queue of whistles, department load and wishes, with keyboard triage.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Server URL.
    #[arg(long, env = "SHAOZI_SERVER", global = true)]
    server: Option<String>,
    /// API token.
    #[arg(long, env = "SHAOZI_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Label language: zh or en (default from LANG).
    #[arg(long, global = true)]
    lang: Option<String>,
    /// Config file (default: config.toml in the XDG config dir).
    #[arg(long, env = "SHAOZI_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// A CA certificate (PEM) to trust besides the system's: a city's private CA.
    #[arg(long, env = "SHAOZI_CA_CERT", global = true)]
    ca_cert: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print every path the dashboard uses.
    Info,
    /// Start an embedded server on a local demo store with a living demo city, and open the
    /// dashboard on it.
    Demo {
        /// Demo store directory (default: in the XDG data dir).
        #[arg(long)]
        data: Option<PathBuf>,
        /// New whistles per minute.
        #[arg(long, default_value_t = 6.0)]
        rate: f64,
    },
}

fn init_logging(path: &std::path::Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the log {}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHAOZI_LOG")
                .unwrap_or_else(|_| "info,sled=warn".into()),
        )
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .init();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let paths = Paths::discover();
    let config_path = cli.config.clone().unwrap_or_else(|| paths.config.clone());
    if let Some(Cmd::Info) = cli.command {
        println!("config file   {}", config_path.display());
        println!("log file      {}", paths.log.display());
        println!("demo store    {}", paths.demo_data.display());
        return Ok(());
    }
    let file = config::load(&config_path)?;
    init_logging(&paths.log)?;
    let env_lang = std::env::var("LANG").ok();
    let lang = Lang::detect(
        cli.lang.as_deref().or(file.lang.as_deref()),
        env_lang.as_deref(),
    );
    let mut keymap = Keymap::default();
    let key_problems = keymap.apply(&file.keys);
    for problem in &key_problems {
        eprintln!("{}: {problem}", config_path.display());
        tracing::warn!(%problem, "config [keys]");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let mut embedded = None;
        let (server, token) = match cli.command {
            Some(Cmd::Demo { data, rate }) => {
                let data = data.unwrap_or_else(|| paths.demo_data.clone());
                let (s, url, token) = demo::start(data, rate).await?;
                embedded = Some(s);
                (url, token)
            }
            _ => {
                let server = cli.server.or(file.server).unwrap_or_else(|| "http://127.0.0.1:7311".into());
                let token = cli.token.or(file.token).context("no token: pass --token, set SHAOZI_TOKEN, or put token = \"…\" in the config file")?;
                (server, token)
            }
        };
        tracing::info!(%server, "dashboard starting");
        let mut app = App::new(lang, keymap, chrono::Utc::now());
        app.bell = file.bell.unwrap_or(false);
        // Said where it is seen: the terminal is taken over as soon as the dashboard starts.
        if !key_problems.is_empty() {
            app.warn_config(&config_path.display().to_string(), &key_problems);
        }
        app.tz = *chrono::Local::now().offset();
        app.color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let trusted = match cli.ca_cert.or(file.ca_cert) {
            Some(path) => shaozi_tui::net::read_ca_file(&path).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        app.unencrypted = shaozi_tui::net::unencrypted_to_elsewhere(&server);
        if app.unencrypted {
            tracing::warn!(%server, "plain http to another machine: the token travels unencrypted");
        }
        let api = Api::trusting(&server, &token, &trusted)?;
        let result = shaozi_tui::run::run(Driver::new(app, api)).await;
        if let Some(s) = embedded {
            demo::stop(s).await;
        }
        result
    })
}

/// The embedded demo server, when this build has one.
#[cfg(feature = "demo")]
mod demo {
    use anyhow::Context;

    /// The running demo server.
    pub type Embedded = shaozi_server::RunningServer;

    /// Starts a server with the demo city on `data`; returns it, its URL and its token.
    pub async fn start(
        data: std::path::PathBuf,
        rate: f64,
    ) -> anyhow::Result<(Embedded, String, String)> {
        let token = shaozi_server::auth::generate();
        let mut cfg = shaozi_server::Config::new(data.clone());
        cfg.listen = "127.0.0.1:0".parse()?;
        cfg.admin_token = Some(token.clone());
        cfg.demo = Some(shaozi_server::demo::DemoConfig {
            whistles_per_minute: rate,
            ..Default::default()
        });
        let s = shaozi_server::start(cfg)
            .await
            .with_context(|| format!("starting the demo server on {}", data.display()))?;
        let url = format!("http://{}", s.addr);
        Ok((s, url, token))
    }

    /// Stops it, finishing its writes.
    pub async fn stop(s: Embedded) {
        s.shutdown().await;
    }
}

/// A thin build (without the `demo` feature) has no server inside.
#[cfg(not(feature = "demo"))]
mod demo {
    /// Nothing runs.
    pub enum Embedded {}

    /// Says how to get a demo instead.
    pub async fn start(
        _data: std::path::PathBuf,
        _rate: f64,
    ) -> anyhow::Result<(Embedded, String, String)> {
        anyhow::bail!(
            "this shaozi was built without the embedded demo server (the `demo` feature); \
             run `shaozi-server --demo --admin-token demo` and `shaozi --token demo`, or build \
             the dashboard with its default features"
        )
    }

    /// Nothing to stop.
    pub async fn stop(s: Embedded) {
        match s {}
    }
}
