//! `shaozi-bench`: loads a real server on a temporary store over loopback HTTP and prints
//! figures, each with how it was measured. Not a test: numbers depend on the machine.
//!
//! cargo run --release -p shaozi-tests --bin shaozi-bench -- --whistles 100000

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

use shaozi_server::{start, Config};

/// Load figures for the shaozi server.
#[derive(Parser, Debug)]
struct Args {
    /// Whistles to create (through the API, each durable before its 201).
    #[arg(long, default_value_t = 100_000)]
    whistles: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Requests per read figure.
    #[arg(long, default_value_t = 1000)]
    reads: usize,
    /// Keep the store here instead of a temporary directory.
    #[arg(long)]
    data: Option<std::path::PathBuf>,
}

const TOKEN: &str = "bench-token";

struct Lat(Vec<Duration>);

impl Lat {
    fn pct(&mut self, p: f64) -> Duration {
        self.0.sort();
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(i).copied().unwrap_or_default()
    }
    fn line(&mut self, what: &str, wall: Duration) -> String {
        let n = self.0.len();
        format!(
            "{what:<44} {n:>7} req  {:>9.0} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms",
            n as f64 / wall.as_secs_f64(),
            self.pct(0.5).as_secs_f64() * 1e3,
            self.pct(0.99).as_secs_f64() * 1e3
        )
    }
}

/// Runs `total` requests over `conc` tasks; `make(i)` builds request i.
async fn drive<F>(conc: usize, total: usize, make: F) -> anyhow::Result<(Lat, Duration)>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conc {
        let make = make.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                let res = make(i).send().await?;
                let status = res.status();
                let _ = res.bytes().await?;
                if !status.is_success() {
                    bail!("request {i} answered {status}");
                }
                lat.push(t.elapsed());
            }
        });
    }
    let mut all = Vec::with_capacity(total);
    while let Some(r) = tasks.join_next().await {
        all.extend(r??);
    }
    Ok((Lat(all), started.elapsed()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| tmp.path().join("store"));
    let mut cfg = Config::new(data.clone());
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.admin_token = Some(TOKEN.into());
    // A load tool is one token at thousands of requests a second.
    cfg.limits = shaozi_server::auth::Limits {
        rate_per_sec: 0.0,
        burst: 0.0,
        streams: 1024,
    };
    let server = start(cfg).await?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()?;
    println!("shaozi-bench: server on {base}, store {}", data.display());
    println!(
        "machine: {} cores; {} connections; debug build: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        args.concurrency,
        cfg!(debug_assertions)
    );

    // A small city to file into.
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
        let d: Value = post("/api/v1/departments", json!({"name": format!("市直单位{i}"), "categories": ["sanitation", "roads", "lighting"]})).send().await?.json().await?;
        departments.push(d["id"].as_str().context("department id")?.to_string());
    }

    let (c2, b2) = (client.clone(), base.clone());
    let (mut noop, noop_wall) = drive(args.concurrency, args.whistles.min(50_000), move |_| {
        c2.get(format!("{b2}/healthz"))
    })
    .await?;
    println!("{}", noop.line("no-op route (GET /healthz)", noop_wall));
    let noop_rate = noop.0.len() as f64 / noop_wall.as_secs_f64();

    let (c2, b2, comms) = (client.clone(), base.clone(), Arc::new(communities));
    const CATS: [&str; 3] = ["sanitation", "roads", "lighting"];
    let (mut creates, wall) = drive(args.concurrency, args.whistles, move |i| {
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
    println!(
        "  durable creates reach {:.2} of the no-op route's throughput",
        (creates.0.len() as f64 / wall.as_secs_f64()) / noop_rate
    );

    // Dispatch a third, so departments have open cases to read.
    let dispatch_n = args.whistles / 3;
    let (c2, b2, depts) = (client.clone(), base.clone(), Arc::new(departments.clone()));
    let (mut dispatches, wall) = drive(args.concurrency, dispatch_n, move |i| {
        c2.post(format!("{b2}/api/v1/whistles/W{}/dispatch", 1001 + i * 3))
            .bearer_auth(TOKEN)
            .json(&json!({"department_id": depts[i % depts.len()]}))
    })
    .await?;
    println!(
        "{}",
        dispatches.line("durable dispatch (POST .../dispatch)", wall)
    );

    let reads: [(&str, String); 4] = [
        (
            "queue first page (50, unanswered)",
            "/api/v1/whistles?status=new,dispatched&limit=50".into(),
        ),
        ("stats", "/api/v1/stats".into()),
        (
            "a department's open cases (50)",
            format!(
                "/api/v1/whistles?department_id={}&status=dispatched,acknowledged&limit=50",
                departments[7]
            ),
        ),
        (
            "whistle detail with timeline",
            format!("/api/v1/whistles/W{}", 1001 + args.whistles / 2),
        ),
    ];
    for (what, path) in reads {
        let (c2, url) = (client.clone(), format!("{base}{path}"));
        let (mut lat, wall) = drive(args.concurrency.min(8), args.reads, move |_| {
            c2.get(url.clone()).bearer_auth(TOKEN)
        })
        .await?;
        println!("{}", lat.line(what, wall));
    }
    server.shutdown().await;
    Ok(())
}
