//! Open311's public searches flooded from 64 connections on a store of large whistles: what
//! it does to the dashboard's own reads and to the server's memory (issue 12). Runs against
//! an in-process server, or against a running one (`--flood-server URL --flood-pid PID`), so
//! that an older build can be measured the same way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use shaozi_shared::text;

use crate::load::{drive, ms, peak_rss_mib_of, reset_peak_rss, Lat};
use crate::TOKEN;

/// How to reach the server under test.
pub struct Target {
    /// Its base URL.
    pub base: String,
    /// Its process id, for its memory ("self" when in-process).
    pub pid: String,
}

/// Files `n` large whistles, then measures the dashboard's first queue page alone and while
/// 64 connections ask Open311 for pages of `page_size`.
pub async fn run(target: Target, n: usize, page_size: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    let base = target.base.clone();
    println!(
        "== Open311 flood: {n} whistles with {}-character descriptions, 64 connections asking for page_size={page_size}",
        text::DESCRIPTION.max
    );
    let city = crate::make_city(&client, &base).await?;
    let comms = Arc::new(city.communities);
    let (c2, b2) = (client.clone(), base.clone());
    let (_, wall) = drive(64, n, move |i| {
        let category = ["roads", "lighting"][i % 2];
        c2.post(format!("{b2}/api/v1/whistles"))
            .bearer_auth(TOKEN)
            .json(
                &json!({"community_id": comms[i % comms.len()], "category": category,
                "urgency": "normal", "title": format!("第{i}号"),
                "description": "井".repeat(text::DESCRIPTION.max), "address": "朝阳路".repeat(20)}),
            )
    })
    .await?;
    println!("  filed {n} in {:.1} s", wall.as_secs_f64());
    let queue = format!("{base}/api/v1/whistles?status=new,dispatched&limit=50");
    let reads = |c: reqwest::Client, url: String| async move {
        drive(4, 400, move |_| c.get(url.clone()).bearer_auth(TOKEN)).await
    };
    let (mut alone, wall) = reads(client.clone(), queue.clone()).await?;
    println!("{}", alone.line("  dashboard queue page, alone", wall));

    let measured = reset_peak_rss(&target.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let started = Instant::now();
    let mut flood = Vec::new();
    for c in 0..64 {
        let (client, base, stop, statuses) =
            (client.clone(), base.clone(), stop.clone(), statuses.clone());
        flood.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let url = format!(
                    "{base}/open311/v2/requests.json?page_size={page_size}&page={}",
                    1 + c % 3
                );
                let status = match client.get(url).send().await {
                    Ok(res) => {
                        let s = res.status().as_u16();
                        let _ = res.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                *statuses
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(status)
                    .or_default() += 1;
            }
        }));
    }
    // Let the flood reach full strength first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut during, wall) = reads(client.clone(), queue).await?;
    println!(
        "{}",
        during.line("  dashboard queue page, during the flood", wall)
    );
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = f.await;
    }
    let took = started.elapsed().as_secs_f64();
    let statuses = statuses.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let total: usize = statuses.values().sum();
    println!(
        "  flood: {total} searches in {took:.1} s ({:.0}/s); answers {statuses:?}",
        total as f64 / took
    );
    summary(&mut alone, &mut during);
    if measured {
        println!(
            "  server peak RSS during the flood {:.0} MiB{}",
            peak_rss_mib_of(&target.pid),
            if target.pid == "self" {
                " (server and load client share the process)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn summary(alone: &mut Lat, during: &mut Lat) {
    println!(
        "  the flood took the dashboard's p50 from {:.2} to {:.2} ms and its p99 from {:.2} to {:.2} ms",
        ms(alone.pct(0.5)),
        ms(during.pct(0.5)),
        ms(alone.pct(0.99)),
        ms(during.pct(0.99))
    );
}
