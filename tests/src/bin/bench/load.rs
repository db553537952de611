//! Driving load: HTTP requests over many connections, and bulk loads through the writer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;

use shaozi_server::writer::{Command, WriterHandle};
use shaozi_shared::Principal;

/// Latencies of one figure.
pub struct Lat(pub Vec<Duration>);

impl Lat {
    /// The `p` quantile (0..1).
    pub fn pct(&mut self, p: f64) -> Duration {
        self.0.sort();
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(i).copied().unwrap_or_default()
    }

    /// One printed line: count, rate over `wall`, p50 and p99.
    pub fn line(&mut self, what: &str, wall: Duration) -> String {
        let n = self.0.len();
        format!(
            "{what:<46} {n:>7} req  {:>9.0} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms",
            n as f64 / wall.as_secs_f64(),
            ms(self.pct(0.5)),
            ms(self.pct(0.99))
        )
    }
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `total` requests over `conc` connections; `make(i)` builds request i. Any non-2xx
/// answer stops the run: a figure over failed requests would be meaningless.
pub async fn drive<F>(conc: usize, total: usize, make: F) -> anyhow::Result<(Lat, Duration)>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conc {
        let make = make.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
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

/// Submits `total` commands straight to the writer, `in_flight` at a time, so its group
/// commit fills whole batches: the same write path and flushes as the API, without HTTP.
pub async fn bulk<F>(
    writer: &WriterHandle,
    total: usize,
    in_flight: usize,
    make: F,
) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Command,
{
    let started = Instant::now();
    let who = Principal::system();
    let mut results = futures_util::stream::iter(0..total)
        .map(|i| {
            let cmd = make(i);
            let who = who.clone();
            async move { writer.submit(cmd, who).await }
        })
        .buffer_unordered(in_flight);
    let mut done = 0usize;
    while let Some(r) = results.next().await {
        r?;
        done += 1;
        if done.is_multiple_of(100_000) {
            eprintln!(
                "  … {done} of {total} in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(started.elapsed())
}

/// The process's peak resident set so far (VmHWM), in MiB; 0 where /proc is missing.
pub fn peak_rss_mib() -> f64 {
    proc_status_kib("self", "VmHWM:") as f64 / 1024.0
}

/// The process's resident set now (VmRSS), in MiB.
pub fn rss_mib() -> f64 {
    proc_status_kib("self", "VmRSS:") as f64 / 1024.0
}

/// Another process's peak resident set (VmHWM), in MiB.
pub fn peak_rss_mib_of(pid: &str) -> f64 {
    proc_status_kib(pid, "VmHWM:") as f64 / 1024.0
}

/// Starts a process's peak resident set afresh (Linux's clear_refs); false where it cannot.
pub fn reset_peak_rss(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

fn proc_status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time used so far by this process's threads, in clock ticks, grouped as the writer
/// thread, sled's own threads, and the rest (the HTTP server and the load client).
#[derive(Debug, Default, Clone, Copy)]
pub struct Cpu {
    writer: u64,
    sled: u64,
    rest: u64,
}

/// CPU time used so far by each of this process's threads, in clock ticks, with its name
/// (empty where /proc is missing).
pub fn thread_ticks() -> Vec<(String, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ..." : comm may hold spaces, so split at the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
        let ticks: u64 = tail
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|n| n.parse::<u64>().ok())
            .sum();
        out.push((comm.to_string(), ticks));
    }
    out
}

impl Cpu {
    /// Reads `/proc/self/task/*/stat` (all zero where /proc is missing).
    pub fn now() -> Cpu {
        let mut cpu = Cpu::default();
        for (comm, ticks) in thread_ticks() {
            if comm == "shaozi-writer" {
                cpu.writer += ticks;
            } else if comm.starts_with("sled") {
                cpu.sled += ticks;
            } else {
                cpu.rest += ticks;
            }
        }
        cpu
    }

    /// What was used since `before`, per request, as a line for the report.
    pub fn per_request(self, before: Cpu, requests: usize) -> String {
        // Linux reports 100 ticks per second.
        let us = |a: u64, b: u64| (a.saturating_sub(b)) as f64 * 10_000.0 / requests.max(1) as f64;
        format!(
            "  CPU per request: writer {:.0} µs, sled threads {:.0} µs, HTTP server and load client {:.0} µs",
            us(self.writer, before.writer),
            us(self.sled, before.sled),
            us(self.rest, before.rest)
        )
    }
}
