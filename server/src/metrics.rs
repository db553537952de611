//! What `/metrics` counts, kept in memory as requests and batches go by, and written in the
//! Prometheus text format (version 0.0.4). Figures read from the store (whistles by status,
//! the store's size, webhook lag) are gathered when scraped, in `routes/ops.rs`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds: from a cached read to a slow commit.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the writer's batch-size buckets, commands (a batch holds up to 512).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// A histogram with fixed buckets; each observation is a few atomic adds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative), and one more for +Inf.
    counts: Vec<AtomicU64>,
    /// The sum, in millionths (microseconds for seconds).
    sum_micros: AtomicU64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Counts one observation of `v`.
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros
            .fetch_add((v.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// Counts a duration, in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of `name` with `labels` (already
    /// formatted, without braces; may be empty).
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => format_float(*b),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), format_float(sum));
        let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
    }
}

/// A float as Prometheus reads it (no exponent for the values we write).
pub fn format_float(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v}");
        if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        }
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// A label value escaped as the text format asks (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a metric's `# HELP` and `# TYPE` lines.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One route pattern's requests: latency, and counts by method and status.
#[derive(Debug)]
struct RouteStats {
    latency: Histogram,
    /// (method, status, count): a handful per route, so a short list.
    counts: Mutex<Vec<(&'static str, u16, u64)>>,
}

/// The HTTP side: requests by route, method and status, and their latency by route.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// Read on every request, written once per route pattern.
    routes: RwLock<HashMap<Arc<str>, Arc<RouteStats>>>,
}

impl HttpMetrics {
    /// Counts one answered request. `route` is the route's pattern (never the raw path, so
    /// the number of series stays bounded).
    pub fn observe(&self, route: &str, method: &'static str, status: u16, took: Duration) {
        let known = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
            .cloned();
        let stats = match known {
            Some(s) => s,
            None => self
                .routes
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(Arc::from(route))
                .or_insert_with(|| {
                    Arc::new(RouteStats {
                        latency: Histogram::new(LATENCY_BUCKETS),
                        counts: Mutex::new(Vec::new()),
                    })
                })
                .clone(),
        };
        stats.latency.observe_duration(took);
        let mut counts = stats.counts.lock().unwrap_or_else(|p| p.into_inner());
        match counts
            .iter_mut()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some(c) => c.2 += 1,
            None => counts.push((method, status, 1)),
        }
    }

    /// Writes the request counts and latency histograms.
    pub fn render(&self, out: &mut String) {
        let mut routes: Vec<(Arc<str>, Arc<RouteStats>)> = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        header(
            out,
            "shaozi_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status.",
        );
        for (route, stats) in &routes {
            let mut counts = stats
                .counts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            counts.sort();
            for (method, status, n) in counts {
                let _ = writeln!(
                    out,
                    "shaozi_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    label(route)
                );
            }
        }
        header(
            out,
            "shaozi_http_request_duration_seconds",
            "histogram",
            "Time to answer a request (to its headers, for an event stream), by route pattern.",
        );
        for (route, stats) in &routes {
            stats.latency.render(
                out,
                "shaozi_http_request_duration_seconds",
                &format!("route=\"{}\"", label(route)),
            );
        }
    }
}

/// The writer's side: batch sizes, commit times and outcomes.
#[derive(Debug)]
pub struct WriterMetrics {
    /// Commands per batch.
    pub batch_commands: Histogram,
    /// Time for the engine to make a batch durable.
    pub commit_seconds: Histogram,
    /// Batches committed.
    pub committed: AtomicU64,
    /// Batches not committed because the store was unreachable or read-only.
    pub unavailable: AtomicU64,
    /// Batches that failed for another reason (writes stop after one).
    pub failed: AtomicU64,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        WriterMetrics {
            batch_commands: Histogram::new(BATCH_BUCKETS),
            commit_seconds: Histogram::new(LATENCY_BUCKETS),
            committed: AtomicU64::new(0),
            unavailable: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

impl WriterMetrics {
    /// Writes the writer's metrics.
    pub fn render(&self, out: &mut String) {
        header(
            out,
            "shaozi_writer_batch_commands",
            "histogram",
            "Commands the writer committed together in one batch.",
        );
        self.batch_commands
            .render(out, "shaozi_writer_batch_commands", "");
        header(
            out,
            "shaozi_writer_commit_duration_seconds",
            "histogram",
            "Time for the store to make one batch durable.",
        );
        self.commit_seconds
            .render(out, "shaozi_writer_commit_duration_seconds", "");
        header(
            out,
            "shaozi_writer_batches_total",
            "counter",
            "Batches by outcome: committed, unavailable (store away or read-only, retried with the next batch) or failed (writes stop).",
        );
        for (outcome, n) in [
            ("committed", &self.committed),
            ("unavailable", &self.unavailable),
            ("failed", &self.failed),
        ] {
            let _ = writeln!(
                out,
                "shaozi_writer_batches_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_sums() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(1.5);
        h.observe(7.0);
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert_eq!(
            out,
            "x_bucket{a=\"b\",le=\"1.0\"} 1\nx_bucket{a=\"b\",le=\"2.0\"} 3\n\
             x_bucket{a=\"b\",le=\"+Inf\"} 4\nx_sum{a=\"b\"} 10.5\nx_count{a=\"b\"} 4\n"
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("梅林社区"), "梅林社区");
    }
}
