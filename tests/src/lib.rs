//! Helpers for end-to-end tests: a real server on 127.0.0.1:0 over a real sled store in a
//! temporary directory (or, with `SHAOZI_TEST_ENGINE=postgres`, a fresh PostgreSQL database),
//! spoken to over real HTTP.

// A test harness: when setting up a test fails, the test must stop there, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::StreamExt;
use serde_json::{json, Value};

use shaozi_server::auth::Limits;
use shaozi_server::clock::ManualClock;
pub use shaozi_server::guard::PublicLimits;
use shaozi_server::{start, Config, RunningServer};

pub mod pgdb;
pub mod receiver;
pub mod test_ca;
pub use pgdb::TestDatabase;

/// The admin token every test server uses.
pub const TOKEN: &str = "test-admin-token-0123456789";

/// A morning to start the test clock at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A running server with its store directory, clock and an HTTP client.
pub struct TestServer {
    /// The server (None only while restarting).
    pub server: Option<RunningServer>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client.
    pub client: reqwest::Client,
    /// The test clock.
    pub clock: Arc<ManualClock>,
    data: PathBuf,
    /// The rules it was started with, for a restart (the built-in ones when None).
    rules: Option<shaozi_shared::Rules>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<Arc<TestDatabase>>,
}

/// Where a fresh test server keeps its store: a directory for sled or, when the suite runs on
/// PostgreSQL (`SHAOZI_TEST_ENGINE=postgres`), a fresh database.
fn fresh_store() -> (tempfile::TempDir, PathBuf, Option<Arc<TestDatabase>>) {
    let dir = tempfile::tempdir().expect("temp dir");
    if pgdb::suite_on_postgres() {
        let db = TestDatabase::create().expect("SHAOZI_TEST_ENGINE=postgres needs a database");
        let data = PathBuf::from(&db.url);
        return (dir, data, Some(Arc::new(db)));
    }
    let data = dir.path().join("store");
    (dir, data, None)
}

/// An answer: status and JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The body's field as a string.
    pub fn str(&self, k: &str) -> String {
        self.body[k].as_str().unwrap_or_default().to_string()
    }

    /// The Content-Type header.
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

impl TestServer {
    /// A fresh server on a fresh store, clock at [`t0`], no rate limit.
    pub async fn start() -> TestServer {
        Self::start_with(Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        })
        .await
    }

    /// A fresh server with the given per-token limits.
    pub async fn start_with(limits: Limits) -> TestServer {
        let (dir, data, db) = fresh_store();
        let clock = Arc::new(ManualClock::new(t0()));
        let mut s =
            Self::start_full(&data, clock, "127.0.0.1:0".parse().expect("addr"), limits).await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    /// A server on an existing store directory.
    pub async fn start_on(data: &Path, clock: Arc<ManualClock>) -> TestServer {
        Self::start_at(data, clock, "127.0.0.1:0".parse().expect("addr")).await
    }

    /// A server on an existing store whose webhook secrets are sealed with `key` (base64),
    /// or kept as given with none.
    pub async fn start_keyed(
        data: &Path,
        clock: Arc<ManualClock>,
        key: Option<&str>,
    ) -> TestServer {
        let mut cfg = Config::new(data.to_path_buf());
        cfg.public = PublicLimits::off();
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        cfg.limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        cfg.vault = shaozi_server::notify::vault::Vault::new(key).expect("a good key");
        Self::from_config(cfg, clock).await
    }

    /// A fresh store: its directory (kept while it lives), its path or URL, and its database.
    pub fn fresh() -> (tempfile::TempDir, PathBuf, Option<Arc<TestDatabase>>) {
        fresh_store()
    }

    /// Keeps a store's directory and database for as long as this server lives.
    pub fn keep(&mut self, dir: tempfile::TempDir, db: Option<Arc<TestDatabase>>) {
        self._dir = Some(dir);
        self._db = db;
    }

    /// A server on an existing store directory at a given address.
    pub async fn start_at(
        data: &Path,
        clock: Arc<ManualClock>,
        listen: std::net::SocketAddr,
    ) -> TestServer {
        Self::start_full(
            data,
            clock,
            listen,
            Limits {
                rate_per_sec: 0.0,
                burst: 0.0,
                streams: 16,
            },
        )
        .await
    }

    async fn start_full(
        data: &Path,
        clock: Arc<ManualClock>,
        listen: std::net::SocketAddr,
        limits: Limits,
    ) -> TestServer {
        Self::start_cfg(data, clock, listen, limits, Duration::from_secs(10)).await
    }

    /// A fresh server counting deadlines by `rules`.
    pub async fn start_with_rules(rules: shaozi_shared::Rules) -> TestServer {
        let (dir, data, db) = fresh_store();
        let clock = Arc::new(ManualClock::new(t0()));
        let mut s = Self::start_ruled(data, clock, rules).await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    /// A server on `data` counting deadlines by `rules` (kept for a restart).
    async fn start_ruled(
        data: PathBuf,
        clock: Arc<ManualClock>,
        rules: shaozi_shared::Rules,
    ) -> TestServer {
        let mut cfg = Config::new(data);
        cfg.public = PublicLimits::off();
        cfg.rules = rules.clone();
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        cfg.limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        let mut s = Self::from_config(cfg, clock).await;
        s.rules = Some(rules);
        s
    }

    /// A fresh server on a fresh store, its configuration changed by `change` first (no rate
    /// limits, no limits on traffic without a token, as every other test server).
    pub async fn start_custom(change: impl FnOnce(&mut Config)) -> TestServer {
        let (dir, data, db) = fresh_store();
        let mut cfg = Config::new(data);
        cfg.public = PublicLimits::off();
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        cfg.limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        change(&mut cfg);
        let mut s = Self::from_config(cfg, Arc::new(ManualClock::new(t0()))).await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    /// A fresh server serving HTTPS with `ca`'s server certificate; its client trusts `ca`
    /// (and only through it: the base is `https://localhost:PORT`).
    pub async fn start_tls(ca: &test_ca::TestCa) -> TestServer {
        let mut files =
            shaozi_server::tls::TlsFiles::new(ca.server_cert.clone(), ca.server_key.clone());
        files.reload_every = Duration::from_millis(200);
        let mut s = Self::start_custom(|cfg| cfg.tls = Some(files)).await;
        let port = s.server.as_ref().map(|r| r.addr.port()).unwrap_or_default();
        s.base = format!("https://localhost:{port}");
        s.client = tls_client(ca);
        s
    }

    /// A fresh server whose clients must send their headers within `header_timeout`.
    pub async fn start_impatient(header_timeout: Duration) -> TestServer {
        let (dir, data, db) = fresh_store();
        let limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        let clock = Arc::new(ManualClock::new(t0()));
        let mut s = Self::start_cfg(
            &data,
            clock,
            "127.0.0.1:0".parse().expect("addr"),
            limits,
            header_timeout,
        )
        .await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    async fn start_cfg(
        data: &Path,
        clock: Arc<ManualClock>,
        listen: std::net::SocketAddr,
        limits: Limits,
        header_timeout: Duration,
    ) -> TestServer {
        let mut cfg = Config::new(data.to_path_buf());
        cfg.public = PublicLimits::off();
        cfg.header_timeout = header_timeout;
        cfg.limits = limits;
        cfg.listen = listen;
        Self::from_config(cfg, clock).await
    }

    /// A fresh server running the demo city (its morning of history loaded before it
    /// answers, then the live simulation).
    pub async fn start_demo(demo: shaozi_server::demo::DemoConfig) -> TestServer {
        let (dir, data, db) = fresh_store();
        let mut cfg = Config::new(data);
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        cfg.public = PublicLimits::off();
        cfg.limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        cfg.demo = Some(demo);
        let mut s = Self::from_config(cfg, Arc::new(ManualClock::new(t0()))).await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    /// A fresh server with the given limits on traffic without a token (every other server
    /// here has them off: tests send thousands of requests from one address).
    pub async fn start_public(public: PublicLimits) -> TestServer {
        let (dir, data, db) = fresh_store();
        let mut cfg = Config::new(data);
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        cfg.limits = Limits {
            rate_per_sec: 0.0,
            burst: 0.0,
            streams: 16,
        };
        cfg.public = public;
        let mut s = Self::from_config(cfg, Arc::new(ManualClock::new(t0()))).await;
        s._dir = Some(dir);
        s._db = db;
        s
    }

    /// Starts a server from `cfg` with the test token and clock.
    async fn from_config(mut cfg: Config, clock: Arc<ManualClock>) -> TestServer {
        let data = cfg.data.clone();
        cfg.admin_token = Some(TOKEN.into());
        cfg.clock = clock.clone();
        // Tests sweep deadlines by hand, after moving the clock.
        cfg.sweep_every = Duration::from_secs(3600);
        // Webhook retries in tenths of a second rather than seconds, and a hanging receiver
        // given up on after 2 s rather than 10.
        cfg.webhooks = Some(shaozi_server::notify::deliver::DeliveryConfig {
            first_retry: Duration::from_millis(100),
            limits: shaozi_server::notify::send::Limits {
                connect: Duration::from_secs(1),
                total: Duration::from_secs(2),
                answer_bytes: 4096,
            },
        });
        // The tests' receivers live on loopback, which a server refuses unless allowed.
        if cfg.webhook_allow.is_empty() {
            cfg.webhook_allow = loopback();
        }
        // A sled store closed a moment ago (a server stopped, a test's direct look inside)
        // may still hold its lock while sled's background thread ends: wait for the lock to
        // be free, a few seconds at most, rather than fail on the timing of that thread.
        wait_for_store_lock(&data).await;
        let server = start(cfg).await.expect("server starts");
        TestServer {
            base: format!("http://{}", server.addr),
            server: Some(server),
            client: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
            clock,
            data: data.to_path_buf(),
            rules: None,
            _dir: None,
            _db: None,
        }
    }

    /// Stops the server cleanly and starts it again on the same store (new port).
    pub async fn restart(mut self) -> TestServer {
        self.stop().await;
        let mut s = match self.rules.take() {
            None => Self::start_on(&self.data.clone(), self.clock.clone()).await,
            Some(rules) => Self::start_ruled(self.data.clone(), self.clock.clone(), rules).await,
        };
        s._dir = self._dir.take();
        s._db = self._db.take();
        s
    }

    /// Starts a stopped server again on the same store and the same port, as a restarted
    /// server would come back for its clients.
    pub async fn start_again(&mut self) {
        let addr: std::net::SocketAddr = self
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("addr");
        let s = Self::start_at(&self.data.clone(), self.clock.clone(), addr).await;
        self.server = s.server;
    }

    /// The store's directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Stops the server cleanly.
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    /// A request with the admin token.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    /// Sends a request and reads the answer.
    pub async fn send(rb: reqwest::RequestBuilder) -> Answer {
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }

    /// GET with the admin token.
    pub async fn get(&self, path: &str) -> Answer {
        Self::send(self.req(reqwest::Method::GET, path)).await
    }

    /// POST JSON with the admin token.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        Self::send(self.req(reqwest::Method::POST, path).json(&body)).await
    }

    /// POST JSON and insist on `status`; returns the body.
    pub async fn ok(&self, path: &str, body: Value, status: u16) -> Value {
        let a = self.post(path, body).await;
        assert_eq!(a.status, status, "POST {path}: {}", a.body);
        a.body
    }

    /// Marks overdue whatever has passed its deadline on the test clock, as the sweeper does.
    pub async fn sweep(&self) -> usize {
        let w = &self.server.as_ref().expect("running").writer;
        match w
            .submit(
                shaozi_server::writer::Command::SweepDeadlines,
                shaozi_shared::Principal::system(),
            )
            .await
        {
            Ok(shaozi_server::writer::Reply::Swept(n)) => n,
            other => panic!("sweep failed: {other:?}"),
        }
    }

    /// A small city: 2 streets, 3 communities, 3 departments.
    pub async fn small_city(&self) -> City {
        let s1 = self
            .ok("/api/v1/streets", json!({"name": "桃花仑街道"}), 201)
            .await;
        let s2 = self
            .ok("/api/v1/streets", json!({"name": "赫山街道"}), 201)
            .await;
        let mut communities = Vec::new();
        for (name, s) in [("朝阳路社区", &s1), ("梓山社区", &s1), ("龙洲村", &s2)] {
            let c = self
                .ok(
                    "/api/v1/communities",
                    json!({"name": name, "street_id": s["id"]}),
                    201,
                )
                .await;
            communities.push(c["id"].as_str().unwrap_or_default().to_string());
        }
        let mut departments = Vec::new();
        for (name, cats) in [
            ("市城管局", json!(["sanitation", "market"])),
            ("市路灯管理处", json!(["lighting"])),
            ("市住建局", json!(["property", "lighting"])),
        ] {
            let d = self
                .ok(
                    "/api/v1/departments",
                    json!({"name": name, "categories": cats}),
                    201,
                )
                .await;
            departments.push(d["id"].as_str().unwrap_or_default().to_string());
        }
        City {
            streets: vec![
                s1["id"].as_str().unwrap_or_default().into(),
                s2["id"].as_str().unwrap_or_default().into(),
            ],
            communities,
            departments,
        }
    }

    /// Creates a token as admin; returns the secret.
    pub async fn token(&self, role: &str, scope: Value, name: &str) -> String {
        let mut body = json!({"role": role, "name": name});
        if let (Some(b), Some(sc)) = (body.as_object_mut(), scope.as_object()) {
            for (k, v) in sc {
                b.insert(k.clone(), v.clone());
            }
        }
        let a = self.post("/api/v1/tokens", body).await;
        assert_eq!(a.status, 201, "token {name}: {}", a.body);
        a.str("token")
    }

    /// A request with another token.
    pub fn req_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// A POST with another token.
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Answer {
        Self::send(self.req_as(token, reqwest::Method::POST, path).json(&body)).await
    }

    /// Dispatches a whistle to a department as the admin, which must succeed.
    pub async fn dispatch(&self, whistle: &str, department: &str) -> Value {
        self.ok(
            &format!("/api/v1/whistles/{whistle}/dispatch"),
            serde_json::json!({ "department_id": department }),
            200,
        )
        .await
    }

    /// Files a whistle; returns its id.
    pub async fn whistle(
        &self,
        community: &str,
        category: &str,
        urgency: &str,
        title: &str,
    ) -> String {
        let b = self
            .ok(
                "/api/v1/whistles",
                json!({"community_id": community, "category": category, "urgency": urgency,
                       "title": title, "description": format!("{title}，请尽快处理")}),
                201,
            )
            .await;
        b["id"].as_str().unwrap_or_default().to_string()
    }

    /// Opens the event stream after `after` and collects events until `n` arrive or
    /// `timeout` passes.
    pub async fn events(&self, after: Option<u64>, n: usize, timeout: Duration) -> Vec<Value> {
        use eventsource_stream::Eventsource;
        let mut rb = self.req(reqwest::Method::GET, "/api/v1/events");
        if let Some(a) = after {
            rb = rb.header("Last-Event-ID", a.to_string());
        }
        let res = rb.send().await.expect("events request");
        assert_eq!(res.status().as_u16(), 200);
        let mut stream = res.bytes_stream().eventsource();
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while out.len() < n {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(ev))) => {
                    let v: Value = serde_json::from_str(&ev.data).expect("event is JSON");
                    assert_eq!(ev.id, v["seq"].to_string(), "SSE id is the sequence number");
                    out.push(v);
                }
                Ok(Some(Err(e))) => panic!("event stream error: {e}"),
                Ok(None) | Err(_) => break,
            }
        }
        out
    }
}

/// The loopback blocks, for a server whose webhooks reach the tests' receivers.
pub fn loopback() -> Vec<shaozi_server::guard::IpNet> {
    ["127.0.0.0/8", "::1"]
        .iter()
        .map(|n| n.parse().expect("a block"))
        .collect()
}

/// A client trusting `ca`'s certificates.
pub fn tls_client(ca: &test_ca::TestCa) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(&ca.ca_pem()).expect("CA certificate");
    reqwest::Client::builder()
        .add_root_certificate(root)
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// Opens a stopped server's store directly, waiting out the file lock that sled's background
/// threads hold for a moment after the server closed it.
pub fn open_stopped_store(data: &Path) -> shaozi_server::store::Store {
    for _ in 0..100 {
        if let Ok(store) = shaozi_server::store::Store::open(data) {
            return store;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    shaozi_server::store::Store::open(data).expect("the stopped store opens")
}

/// Ids of a small test city.
#[derive(Debug, Clone)]
pub struct City {
    /// Street ids.
    pub streets: Vec<String>,
    /// Community ids (two in the first street, one in the second).
    pub communities: Vec<String>,
    /// Department ids: 城管 (sanitation, market), 路灯 (lighting), 住建 (property, lighting).
    pub departments: Vec<String>,
}

/// Waits until no one holds the lock of the sled store in `data` (none when it is not one).
async fn wait_for_store_lock(data: &Path) {
    use fs2::FileExt;
    let lock_file = data.join("db");
    for _ in 0..100 {
        let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lock_file)
        else {
            return;
        };
        // Taken and let go at once (the lock goes with the file).
        if file.try_lock_exclusive().is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
