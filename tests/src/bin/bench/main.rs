//! `shaozi-bench`: loads a real server on a temporary store over loopback HTTP and prints
//! figures, each with how it was measured. Not a test: numbers depend on the machine.
//!
//! cargo run --release -p shaozi-tests --bin shaozi-bench            # the issue 6 run, 1M store
//! cargo run --release -p shaozi-tests --bin shaozi-bench -- --big 100000   # a quicker one
//! cargo run --release -p shaozi-tests --bin shaozi-bench -- --disk 2000     # bytes per whistle
//! cargo run --release -p shaozi-tests --bin shaozi-bench -- --flood 6300    # Open311 flood
//! cargo run --release -p shaozi-tests --bin shaozi-bench -- --webhooks 50 --creates 20000

mod disk;
mod fanout;
mod flood;
mod hooks;
mod load;
mod restart;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::{json, Value};

use shaozi_server::writer::Command;
use shaozi_server::{start, Config, RunningServer};
use shaozi_shared::api::NewWhistle;

/// sled copies tree nodes on every write; glibc's allocator spent a large share of the writer
/// thread on that churn.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use shaozi_shared::{CommunityId, DepartmentId, Urgency, WhistleAction, WhistleId};

use load::{bulk, drive, ms, peak_rss_mib, rss_mib, Cpu};

/// Load figures for the shaozi server.
#[derive(Parser, Debug)]
struct Args {
    /// Store size for the first read figures.
    #[arg(long, default_value_t = 10_000)]
    small: usize,
    /// Store size for the second read figures and the start-up time.
    #[arg(long, default_value_t = 1_000_000)]
    big: usize,
    /// Whistles created through the API for the throughput figure.
    #[arg(long, default_value_t = 50_000)]
    creates: usize,
    /// Concurrent connections for the HTTP figures.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Requests per read figure.
    #[arg(long, default_value_t = 1000)]
    reads: usize,
    /// Open event streams for the fan-out figure.
    #[arg(long, default_value_t = 200)]
    streams: usize,
    /// Whistles filed while the streams listen.
    #[arg(long, default_value_t = 200)]
    fanout_creates: usize,
    /// Commands in flight during bulk loads (the writer commits up to 512 per batch).
    #[arg(long, default_value_t = 2048)]
    in_flight: usize,
    /// Keep the store here instead of a temporary directory.
    #[arg(long)]
    data: Option<std::path::PathBuf>,
    /// Only measure the bytes on disk per whistle: this many typical and this many of the
    /// largest size allowed, filed and after their whole life.
    #[arg(long)]
    disk: Option<usize>,
    /// Only measure an Open311 flood: this many large whistles, then 64 connections asking
    /// for the largest pages while the dashboard's queue page is timed.
    #[arg(long)]
    flood: Option<usize>,
    /// The page size the flood asks for.
    #[arg(long, default_value_t = 200)]
    flood_page: usize,
    /// Flood a running server instead (started with --admin-token bench-token, no limits).
    #[arg(long, requires = "flood_pid")]
    flood_server: Option<String>,
    /// The process id of the running server, for its memory.
    #[arg(long)]
    flood_pid: Option<u32>,
    /// Only measure webhooks: creates at full speed without and with this many
    /// subscriptions (one of them hanging), and the healthy ones' lag.
    #[arg(long)]
    webhooks: Option<usize>,
    /// Rounds of the webhooks figure (each a run without and a run with).
    #[arg(long, default_value_t = 3)]
    webhook_rounds: usize,
    /// The event type the healthy subscriptions ask for (another than whistle.created
    /// measures what subscriptions cost that are not sent anything).
    #[arg(long, default_value = "whistle.created")]
    webhook_event: String,
    /// Only run the server on this store until stdin closes (how the bench restarts it).
    #[arg(long, hide = true)]
    serve: Option<std::path::PathBuf>,
}

const TOKEN: &str = "bench-token";
/// Dispatches go to this many departments, so the one whose list is read has more than a
/// page of open cases even in the small store.
const BUSY_DEPTS: usize = 16;
const CATS: [&str; 3] = ["sanitation", "roads", "lighting"];

fn config(data: &std::path::Path) -> anyhow::Result<Config> {
    let mut cfg = Config::new(data.to_path_buf());
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.admin_token = Some(TOKEN.into());
    // The load tool's receivers live on loopback, and it subscribes thousands.
    cfg.webhook_allow = shaozi_tests::loopback();
    cfg.webhook_caps = shaozi_server::notify::Caps {
        per_unit: usize::MAX,
        per_city: usize::MAX,
    };
    // A load tool is one token at thousands of requests a second.
    cfg.limits = shaozi_server::auth::Limits {
        rate_per_sec: 0.0,
        burst: 0.0,
        streams: 1024,
    };
    cfg.public = shaozi_server::guard::PublicLimits::off();
    Ok(cfg)
}

/// Where the store goes: `--data`, or a directory in `tmp`.
fn store_path(args: &Args, tmp: &tempfile::TempDir) -> std::path::PathBuf {
    args.data
        .clone()
        .unwrap_or_else(|| tmp.path().join("store"))
}

/// The ids of the city the bench files into.
struct City {
    communities: Vec<String>,
    departments: Vec<String>,
}

async fn make_city(client: &reqwest::Client, base: &str) -> anyhow::Result<City> {
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .json(&body)
    };
    let street: Value = post("/api/v1/streets", json!({"name": "桃花仑街道"}))
        .send()
        .await?
        .json()
        .await?;
    let mut communities = Vec::new();
    for i in 0..64 {
        let c: Value = post(
            "/api/v1/communities",
            json!({"name": format!("社区{i}"), "street_id": street["id"]}),
        )
        .send()
        .await?
        .json()
        .await?;
        communities.push(c["id"].as_str().context("community id")?.to_string());
    }
    let mut departments = Vec::new();
    for i in 0..93 {
        let d: Value = post(
            "/api/v1/departments",
            json!({"name": format!("市直单位{i}"), "categories": CATS}),
        )
        .send()
        .await?
        .json()
        .await?;
        departments.push(d["id"].as_str().context("department id")?.to_string());
    }
    Ok(City {
        communities,
        departments,
    })
}

/// Files `n` whistles and dispatches every third, straight through the writer.
async fn grow(
    server: &RunningServer,
    city: &City,
    n: usize,
    in_flight: usize,
) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let first = last_whistle(server)? + 1;
    let comms: Vec<CommunityId> = city
        .communities
        .iter()
        .map(|c| c.parse())
        .collect::<Result<_, _>>()?;
    let depts: Vec<DepartmentId> = city
        .departments
        .iter()
        .map(|d| d.parse())
        .collect::<Result<_, _>>()?;
    let took = bulk(&server.writer, n, in_flight, |i| {
        Command::FileWhistle(NewWhistle {
            community_id: comms[i % comms.len()],
            category: CATS[i % 3].into(),
            title: format!("第{i}号问题：路灯不亮"),
            description: "朝阳路口三盏路灯连续一周不亮，居民夜间出行不便".into(),
            urgency: if i % 4 == 0 {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            address: Some("朝阳路12号".into()),
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
            source: None,
        })
    })
    .await?;
    println!(
        "  filed {n} through the writer in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    let d = n / 3;
    let took = bulk(&server.writer, d, in_flight, |i| {
        Command::Whistle(
            WhistleId(first + (i * 3) as u64),
            WhistleAction::Dispatch {
                department_id: depts[i % BUSY_DEPTS],
                assisting: vec![],
                note: None,
                report: None,
            },
            None,
        )
    })
    .await?;
    println!(
        "  dispatched {d} in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        d as f64 / took.as_secs_f64()
    );
    Ok(())
}

fn last_whistle(server: &RunningServer) -> anyhow::Result<u64> {
    // The newest first page of all whistles holds the last one, on any engine.
    let q = shaozi_server::storage::WhistleQuery {
        limit: 1,
        ..Default::default()
    };
    let (page, _) = server
        .store
        .list_whistles(&q)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(page.first().map_or(1000, |w| w.id.0))
}

/// On PostgreSQL, gathers the statistics a bulk load leaves stale, as an operator would after
/// one (autovacuum does by itself where it is on; this machine's runs with it off, and the
/// catch-up's reads were then planned for empty tables).
async fn analyze(data: &std::path::Path) -> anyhow::Result<()> {
    let url = data.to_string_lossy().to_string();
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Ok(());
    }
    let started = Instant::now();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        client.batch_execute("ANALYZE")?;
        Ok(())
    })
    .await??;
    println!(
        "  ANALYZE after the bulk load took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits for the search index to hold the whole log, and says how long that took (reads
/// measured while it catches up would share the machine with it).
async fn caught_up(server: &shaozi_server::RunningServer) -> anyhow::Result<()> {
    let started = Instant::now();
    let head = server
        .store
        .last_seq()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    while server.search.indexed_seq() < head {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "search index caught up with {head} events {:.2} s after the load",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits for a restarted server's search to answer (503 while its index catches up with the
/// log, as on PostgreSQL, where each server builds its own), and says how long that took.
async fn search_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let res = client
            .get(format!(
                "{base}/api/v1/whistles?q=%E8%B7%AF%E7%81%AF&limit=1"
            ))
            .bearer_auth(TOKEN)
            .send()
            .await?;
        match res.status().as_u16() {
            503 if started.elapsed() < Duration::from_secs(3600) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            200 => break,
            other => anyhow::bail!("search after the restart answered {other}"),
        }
    }
    println!(
        "  search answered {:.2} s after the restart (its index caught up with the log)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Streams the whole ledger (every case as CSV) once, and says how long it took and how much
/// the process's resident memory grew meanwhile (sampled every 50 ms).
async fn ledger(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    use futures_util::StreamExt as _;
    let before = load::rss_mib();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before as u64));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(load::rss_mib() as u64, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let t = Instant::now();
    let res = client
        .get(format!("{base}/api/v1/whistles.csv"))
        .bearer_auth(TOKEN)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "ledger: {}", res.status());
    let mut body = res.bytes_stream();
    let (mut bytes, mut rows) = (0usize, 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        bytes += chunk.len();
        rows += chunk.iter().filter(|b| **b == b'\n').count();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "ledger: {} rows, {} MiB streamed in {secs:.1} s ({:.0} rows/s); resident memory {before:.0} MiB before, at most {} MiB while streaming",
        rows.saturating_sub(1),
        bytes >> 20,
        rows as f64 / secs,
        peak.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}

/// The read figures; returns each one's p50.
async fn reads(
    client: &reqwest::Client,
    base: &str,
    city: &City,
    n: usize,
    label: &str,
) -> anyhow::Result<Vec<Duration>> {
    let paths = [
        (
            "queue first page (50, unanswered)",
            "/api/v1/whistles?status=new,dispatched&limit=50".to_string(),
        ),
        ("stats", "/api/v1/stats".into()),
        // A word every case holds (the worst: every case matches), and one case's number.
        (
            "search, a word every case holds (50)",
            "/api/v1/whistles?q=%E8%B7%AF%E7%81%AF&limit=50".into(),
        ),
        (
            "search, one case by its number",
            "/api/v1/whistles?q=1234&limit=50".into(),
        ),
        (
            "a department's open cases (50)",
            format!(
                "/api/v1/whistles?department_id={}&status=dispatched,acknowledged&limit=50",
                city.departments[7]
            ),
        ),
        // Every case of the bench's city reads alike (the worst for similar cases).
        (
            "similar cases of one case",
            "/api/v1/whistles/W1200/similar".into(),
        ),
        ("hotspots, 30 days", "/api/v1/hotspots?days=30&min=3".into()),
        (
            "trends, a year by week",
            format!(
                "/api/v1/trends?interval=week&from={}",
                (chrono::Utc::now() - chrono::Duration::days(364)).format("%Y-%m-%d")
            ),
        ),
    ];
    let mut p50s = Vec::new();
    for (what, path) in paths {
        let (c2, url) = (client.clone(), format!("{base}{path}"));
        let (mut lat, wall) = drive(8, n, move |_| c2.get(url.clone()).bearer_auth(TOKEN)).await?;
        println!("{}", lat.line(&format!("{what}, {label}"), wall));
        p50s.push(lat.pct(0.5));
    }
    Ok(p50s)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(data) = &args.serve {
        return restart::serve(data).await;
    }
    if let Some(n) = args.disk {
        return disk::run(n, args.in_flight).await;
    }
    if let Some(n) = args.flood {
        if let (Some(base), Some(pid)) = (&args.flood_server, args.flood_pid) {
            let target = flood::Target {
                base: base.trim_end_matches('/').to_string(),
                pid: pid.to_string(),
            };
            return flood::run(target, n, args.flood_page).await;
        }
        let tmp = tempfile::tempdir()?;
        let server = start(config(&tmp.path().join("store"))?).await?;
        let target = flood::Target {
            base: format!("http://{}", server.addr),
            pid: "self".into(),
        };
        flood::run(target, n, args.flood_page).await?;
        server.shutdown().await;
        return Ok(());
    }
    if let Some(n) = args.webhooks {
        let tmp = tempfile::tempdir()?;
        let data = store_path(&args, &tmp);
        let server = start(config(&data)?).await?;
        let base = format!("http://{}", server.addr);
        let client = reqwest::Client::new();
        println!(
            "shaozi-bench: server on {base}, store {}; {} cores; debug build: {}",
            data.display(),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            cfg!(debug_assertions)
        );
        let city = make_city(&client, &base).await?;
        hooks::run(
            &base,
            &city,
            n,
            args.creates,
            args.concurrency,
            args.webhook_rounds,
            &args.webhook_event,
        )
        .await?;
        server.shutdown().await;
        return Ok(());
    }
    anyhow::ensure!(
        args.big >= args.small + args.creates,
        "--big must be at least --small + --creates"
    );
    let tmp = tempfile::tempdir()?;
    let data = store_path(&args, &tmp);
    let server = start(config(&data)?).await?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .pool_idle_timeout(Duration::from_secs(5))
        .build()?;
    println!("shaozi-bench: server on {base}, store {}", data.display());
    println!(
        "machine: {} cores; {} connections; debug build: {}; sled cache {} MiB",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        args.concurrency,
        cfg!(debug_assertions),
        shaozi_server::store::CACHE_BYTES >> 20
    );
    let city = make_city(&client, &base).await?;

    println!("\n== flat reads, first at {} whistles", args.small);
    grow(&server, &city, args.small, args.in_flight).await?;
    caught_up(&server).await?;
    let small = reads(
        &client,
        &base,
        &city,
        args.reads,
        &format!("{}", args.small),
    )
    .await?;

    println!("\n== durable creates against the no-op route, same server, same run");
    let (c2, b2) = (client.clone(), base.clone());
    let cpu = Cpu::now();
    let (mut noop, noop_wall) = drive(args.concurrency, 50_000, move |_| {
        c2.get(format!("{b2}/healthz"))
    })
    .await?;
    println!("{}", noop.line("no-op route (GET /healthz)", noop_wall));
    println!("{}", Cpu::now().per_request(cpu, noop.0.len()));
    let noop_rate = noop.0.len() as f64 / noop_wall.as_secs_f64();
    let (c2, b2) = (client.clone(), base.clone());
    let comms = Arc::new(city.communities.clone());
    let cpu = Cpu::now();
    let (mut creates, wall) = drive(args.concurrency, args.creates, move |i| {
        let urgency = if i % 4 == 0 { "urgent" } else { "normal" };
        c2.post(format!("{b2}/api/v1/whistles")).bearer_auth(TOKEN).json(&json!({
            "community_id": comms[i % comms.len()], "category": CATS[i % 3],
            "urgency": urgency, "title": format!("第{i}号问题：路灯不亮"),
            "description": "朝阳路口三盏路灯连续一周不亮，居民夜间出行不便", "address": "朝阳路12号"}))
    })
    .await?;
    println!(
        "{}",
        creates.line("durable create (POST /api/v1/whistles)", wall)
    );
    println!("{}", Cpu::now().per_request(cpu, creates.0.len()));
    println!(
        "  durable creates reach {:.2} of the no-op route's throughput",
        (creates.0.len() as f64 / wall.as_secs_f64()) / noop_rate
    );
    let first = last_whistle(&server)? + 1 - args.creates as u64;
    let (c2, b2) = (client.clone(), base.clone());
    let depts = Arc::new(city.departments.clone());
    let cpu = Cpu::now();
    let (mut dispatches, wall) = drive(args.concurrency, args.creates / 3, move |i| {
        c2.post(format!(
            "{b2}/api/v1/whistles/W{}/dispatch",
            first + i as u64 * 3
        ))
        .bearer_auth(TOKEN)
        .json(&json!({"department_id": depts[i % BUSY_DEPTS]}))
    })
    .await?;
    println!(
        "{}",
        dispatches.line("durable dispatch (POST .../dispatch)", wall)
    );
    println!("{}", Cpu::now().per_request(cpu, dispatches.0.len()));
    let url = format!("{base}/api/v1/whistles/W{first}");
    let c2 = client.clone();
    let (mut detail, wall) = drive(8, args.reads, move |_| {
        c2.get(url.clone()).bearer_auth(TOKEN)
    })
    .await?;
    println!("{}", detail.line("whistle detail with timeline", wall));

    let rest = args.big - args.small - args.creates;
    println!(
        "\n== bulk load to {} whistles (batched, through the writer)",
        args.big
    );
    let t = Instant::now();
    grow(&server, &city, rest, args.in_flight).await?;
    println!(
        "  store of {} whistles built in {:.0} s; on disk {} MiB",
        args.big,
        t.elapsed().as_secs_f64(),
        server
            .sled
            .as_ref()
            .and_then(|s| s.db.size_on_disk().ok())
            .unwrap_or(0)
            >> 20
    );
    analyze(&data).await?;
    caught_up(&server).await?;
    let big = reads(&client, &base, &city, args.reads, &format!("{}", args.big)).await?;
    let names = [
        "queue first page",
        "stats",
        "search, a word every case holds",
        "search, one case by its number",
        "a department's open cases",
        "similar cases of one case",
        "hotspots, 30 days",
        "trends, a year by week",
    ];
    ledger(&client, &base).await?;
    for ((what, s), b) in names.iter().zip(&small).zip(&big) {
        println!(
            "  {what}: p50 {:.2} ms at {} vs {:.2} ms at {}: {:.2}× (target ≤ 1.5×)",
            ms(*b),
            args.big,
            ms(*s),
            args.small,
            b.as_secs_f64() / s.as_secs_f64().max(1e-9)
        );
    }

    println!(
        "\n== live fan-out: {} streams, {} creates",
        args.streams, args.fanout_creates
    );
    let fan = fanout::run(
        &base,
        &base,
        TOKEN,
        args.streams,
        args.fanout_creates,
        Duration::from_millis(20),
        &city.communities[0],
    )
    .await?;
    print_fanout("2xx → event on each stream", fan, 50);

    if data.to_str().is_some_and(shaozi_server::pg::is_url) {
        // A second server on the same database: its streams learn of A's events by
        // following the log.
        let other = start(config(&data)?).await?;
        let other_base = format!("http://{}", other.addr);
        println!(
            "\n== across servers: {} streams on a second server, {} creates on the first",
            args.streams, args.fanout_creates
        );
        let fan = fanout::run(
            &base,
            &other_base,
            TOKEN,
            args.streams,
            args.fanout_creates,
            Duration::from_millis(20),
            &city.communities[0],
        )
        .await?;
        print_fanout(
            "2xx on one server → event on each stream of the other",
            fan,
            100,
        );
        other.shutdown().await;
    }

    println!("\n== memory and start-up");
    println!(
        "  process peak RSS so far {:.0} MiB, now {:.0} MiB (server and load client share the process; target ≤ 512 MiB)",
        peak_rss_mib(),
        rss_mib()
    );
    server.shutdown().await;
    // Twice: the first start after writing replays sled's log since the previous start (sled
    // 0.34 writes its page-table snapshot only when it opens); the second finds it fresh.
    for (n, what) in [
        (1, "first start after the writes above"),
        (2, "second start"),
    ] {
        let r = restart::Restarted::start(&data, &client).await?;
        println!(
            "  restart {n} on {} whistles ({what}) → first queue page served in {:.0} ms (target ≤ 2000 ms); server process peak RSS {:.0} MiB (target ≤ 512 MiB)",
            args.big,
            ms(r.first_page),
            r.peak_rss_mib()
        );
        if n == 2 {
            search_ready(&client, &r.base).await?;
            reads(&client, &r.base, &city, args.reads, "after restart").await?;
            println!(
                "  server process peak RSS after those reads {:.0} MiB",
                r.peak_rss_mib()
            );
        }
        r.stop().await?;
    }
    println!(
        "  bench process peak RSS over the whole run {:.0} MiB (server and load client)",
        peak_rss_mib()
    );
    Ok(())
}

/// One fan-out run's line: latency percentiles against the target's p99, and what was early.
fn print_fanout(what: &str, fan: fanout::FanOut, target_ms: u64) {
    let mut lat = fan.lat;
    println!(
        "  {what}: {} samples, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; missing {} (target p99 ≤ {target_ms} ms)",
        lat.0.len(),
        ms(lat.pct(0.5)),
        ms(lat.pct(0.99)),
        ms(lat.pct(1.0)),
        fan.missing
    );
    if fan.early > 0 {
        println!(
            "  {} of them arrived before the 2xx reached the client (counted as 0 ms)",
            fan.early
        );
    }
}
