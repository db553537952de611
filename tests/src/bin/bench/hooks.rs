//! Webhooks under load: durable creates at full speed with and without subscriptions, and how
//! long after its event each delivery reached its receiver.
//!
//! Subscriptions: one per community of the bench city that asks for `whistle.created` in its
//! community (as a community's work-chat group would), up to `n - 1`, each to its own
//! receiver on 127.0.0.1; and one city-wide `*` to a receiver that never answers. Rounds
//! alternate without and with them (the subscriptions are deleted between), and the medians
//! are compared.
//!
//! The receivers stand in for other machines (a chat vendor's servers, a city's systems).
//! Here they share the two cores with the server and the load, so they run on a thread of
//! their own at the lowest priority: the figure is the server's, not the receivers'.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use shaozi_tests::receiver::{Receiver, Reply, Seen};

use crate::load::{drive, ms, Lat};
use crate::{City, CATS, TOKEN};

/// Runs `rounds` pairs of create runs (`creates` each, `conc` connections).
pub async fn run(
    base: &str,
    city: &City,
    n: usize,
    creates: usize,
    conc: usize,
    rounds: usize,
    event: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(n >= 2, "--webhooks needs at least 2 (one of them hangs)");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()?;
    // One per community, as a community's group would; for an event the creates never make
    // (what subscriptions cost that are sent nothing), as many as asked, the communities taken
    // round and round, sharing a receiver per community.
    let healthy_n = if event == "whistle.created" {
        (n - 1).min(city.communities.len())
    } else {
        n - 1
    };
    println!(
        "\n== webhooks: {n} subscriptions ({healthy_n} healthy, each {event} of one community; 1 city-wide * that hangs), {creates} creates per run, {rounds} rounds"
    );
    let receivers_rt = receiver_runtime()?;
    let start_receiver = |reply: Reply| {
        let h = receivers_rt.spawn(Receiver::start(reply));
        async move { anyhow::Ok(h.await??) }
    };
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut lags = Lat(Vec::new());
    let mut missing = 0usize;
    let mut delivered = 0usize;
    for round in 0..rounds {
        let cpu = cpu_by_thread();
        let rate = creates_run(&client, base, city, creates, conc).await?;
        println!("  round {round}: without subscriptions {rate:.0} creates/s");
        println!("    CPU: {}", cpu_line(&cpu));
        without.push(rate);

        let hang = start_receiver(Reply::Hang).await?;
        let mut receivers: Vec<(String, Receiver)> = Vec::new();
        let mut hooks = Vec::new();
        hooks.push(
            subscribe(
                &client,
                base,
                json!({"name": "hang", "url": hang.url, "events": ["*"]}),
            )
            .await?,
        );
        for c in city.communities.iter().cycle().take(healthy_n) {
            if let Some((_, r)) = receivers.iter().find(|(rc, _)| rc == c) {
                let url = r.url.clone();
                hooks.push(
                    subscribe(
                        &client,
                        base,
                        json!({"name": format!("{c} 群"), "url": url, "events": [event],
                               "scope": {"kind": "community", "id": c}}),
                    )
                    .await?,
                );
                continue;
            }
            let r = start_receiver(Reply::ok()).await?;
            hooks.push(
                subscribe(
                    &client,
                    base,
                    json!({"name": format!("{c} 群"), "url": r.url, "events": [event],
                           "scope": {"kind": "community", "id": c}}),
                )
                .await?,
            );
            receivers.push((c.clone(), r));
        }
        let from = hooks[0]["health"]["head_seq"].as_u64().unwrap_or(0);
        let started = Instant::now();
        let cpu = cpu_by_thread();
        let rate = creates_run(&client, base, city, creates, conc).await?;
        let load_took = started.elapsed();
        println!("  round {round}: with subscriptions    {rate:.0} creates/s");
        println!("    CPU: {}", cpu_line(&cpu));
        with.push(rate);
        // Every healthy receiver gets its community's creates; wait for the last of them.
        let want = if event == "whistle.created" {
            expected(&client, base, from, healthy_n, city).await?
        } else {
            0
        };
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            let got: usize = receivers.iter().map(|(_, r)| r.count()).sum();
            if got >= want || Instant::now() > until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let drained = started.elapsed();
        let mut got = 0;
        for (_, r) in &receivers {
            let seen = r.seen();
            got += seen.len();
            lags.0.extend(seen.iter().filter_map(lag));
        }
        delivered += got;
        missing += want.saturating_sub(got);
        println!(
            "  round {round}: {got} of {want} deliveries; the last {:.1} s after the creates began (the creates took {:.1} s); the hanging receiver got {} attempts",
            drained.as_secs_f64(),
            load_took.as_secs_f64(),
            hang.count()
        );
        for h in &hooks {
            let id = h["id"].as_str().context("webhook id")?;
            client
                .delete(format!("{base}/api/v1/webhooks/{id}"))
                .bearer_auth(TOKEN)
                .send()
                .await?
                .error_for_status()?;
        }
    }
    let (a, b) = (median(&mut without), median(&mut with));
    println!(
        "  creates: median {a:.0}/s without subscriptions, {b:.0}/s with: {:.2} (target ≥ 0.90)",
        b / a
    );
    println!(
        "  healthy subscriptions' lag (event committed → receiver has it): {} deliveries, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; missing {missing}",
        delivered,
        ms(lags.pct(0.5)),
        ms(lags.pct(0.99)),
        ms(lags.pct(1.0))
    );
    Ok(())
}

/// CPU ticks so far by thread name (tokio's workers, the writer, the deliverers, the
/// receivers; numbered threads together).
fn cpu_by_thread() -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for (comm, ticks) in crate::load::thread_ticks() {
        *out.entry(comm.trim_end_matches(char::is_numeric).to_string())
            .or_default() += ticks;
    }
    out
}

/// Where the CPU went between two readings, busiest first.
fn cpu_line(before: &std::collections::BTreeMap<String, u64>) -> String {
    let now = cpu_by_thread();
    let mut d: Vec<(String, u64)> = now
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.saturating_sub(before.get(k).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect();
    d.sort_by_key(|x| std::cmp::Reverse(x.1));
    d.iter()
        .take(8)
        .map(|(k, v)| format!("{k} {:.2}s", *v as f64 / 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A runtime on one thread at niceness 19 for the receivers.
fn receiver_runtime() -> anyhow::Result<tokio::runtime::Handle> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-receivers".into())
        .spawn(move || {
            // SAFETY: setpriority and gettid only read their arguments.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
            }
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let _ = tx.send(Ok(rt.handle().clone()));
            // Runs the receivers' tasks until the process ends.
            rt.block_on(std::future::pending::<()>());
        })?;
    Ok(rx.recv()??)
}

async fn subscribe(client: &reqwest::Client, base: &str, body: Value) -> anyhow::Result<Value> {
    let res = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        res.status().as_u16() == 201,
        "subscribing answered {}",
        res.status()
    );
    Ok(res.json().await?)
}

/// One run of durable creates over `conc` connections; creates per second.
async fn creates_run(
    client: &reqwest::Client,
    base: &str,
    city: &City,
    creates: usize,
    conc: usize,
) -> anyhow::Result<f64> {
    let (c2, b2) = (client.clone(), base.to_string());
    let comms = Arc::new(city.communities.clone());
    let (lat, wall) = drive(conc, creates, move |i| {
        c2.post(format!("{b2}/api/v1/whistles"))
            .bearer_auth(TOKEN)
            .json(&json!({
            "community_id": comms[i % comms.len()], "category": CATS[i % 3],
            "urgency": "normal", "title": format!("第{i}号问题：井盖缺失"),
            "description": "朝阳路口井盖缺失，夜间行人易跌落", "address": "朝阳路12号"}))
    })
    .await?;
    Ok(lat.0.len() as f64 / wall.as_secs_f64())
}

/// How many deliveries the healthy receivers should get: the creates after `from` in the
/// first `healthy` communities.
async fn expected(
    client: &reqwest::Client,
    base: &str,
    from: u64,
    healthy: usize,
    city: &City,
) -> anyhow::Result<usize> {
    let mine: std::collections::HashSet<&str> = city
        .communities
        .iter()
        .take(healthy)
        .map(String::as_str)
        .collect();
    let mut after = from;
    let mut n = 0;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/events?after={after}&limit=1000"))
            .bearer_auth(TOKEN)
            .header("accept", "application/json")
            .send()
            .await?
            .json()
            .await?;
        for e in page["items"].as_array().context("event page")? {
            if e["type"] == "whistle.created"
                && e["record"]["community_id"]
                    .as_str()
                    .is_some_and(|c| mine.contains(c))
            {
                n += 1;
            }
        }
        after = page["after"].as_u64().context("after")?;
        if page["more"] != json!(true) {
            return Ok(n);
        }
    }
}

/// How long after its event a delivery arrived.
fn lag(seen: &Seen) -> Option<Duration> {
    let at = seen.json()["at"]
        .as_str()?
        .parse::<chrono::DateTime<chrono::Utc>>()
        .ok()?;
    (seen.wall - at).to_std().ok().or(Some(Duration::ZERO))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
