//! Talking to the server: the HTTP client, the initial load, and the event-stream follower
//! that reconnects with capped backoff and resumes from the last event id.

use std::time::Duration;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use shaozi_shared::api::{
    Community, Department, Page, Problem, Stats, StepBody, Street, WhistleDetail,
};
use shaozi_shared::{Category, DepartmentId, Event, Whistle, WhistleId, Wish, WishId};

use crate::app::{Conn, Me, Msg, Refusal};
use crate::model::Directory;

/// Whether talking to `url` sends the token in the clear to another machine: plain `http://`
/// to a host that is not this one (loopback is fine: the bytes never leave it).
pub fn unencrypted_to_elsewhere(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if u.scheme() != "http" {
        return false;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback(),
        Err(_) => !host.eq_ignore_ascii_case("localhost"),
    }
}

/// What went wrong with a request, with its causes: reqwest's own words ("error sending
/// request") leave out the one that matters (refused, timed out, an untrusted certificate).
fn said(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let c_said = c.to_string();
        if !out.contains(&c_said) {
            out.push_str(": ");
            out.push_str(&c_said);
        }
        cause = c.source();
    }
    out
}

/// A request that got no answer; an untrusted certificate is coded so it can be worded.
fn unreachable(e: &reqwest::Error) -> Refusal {
    let mut r = Refusal::plain(0, said(e));
    if r.detail.to_lowercase().contains("certificate") {
        r.code = Some(UNTRUSTED_CERTIFICATE.into());
    }
    r
}

pub use crate::refusal::UNTRUSTED_CERTIFICATE;

/// Reads a PEM file of CA certificates (one or several) for [`Api::trusting`].
pub fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no CERTIFICATE block", path.display()));
    }
    Ok(certs)
}

/// An HTTP client for one server and token.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
    stream: reqwest::Client,
}

impl Api {
    /// A client for `base` (e.g. `http://127.0.0.1:7311`) with `token`, trusting the
    /// system's certificate authorities.
    pub fn new(base: &str, token: &str) -> Result<Api, reqwest::Error> {
        Api::trusting(base, token, &[])
    }

    /// A client that also trusts `extra` authorities (a city's private CA, `--ca-cert`).
    pub fn trusting(
        base: &str,
        token: &str,
        extra: &[reqwest::Certificate],
    ) -> Result<Api, reqwest::Error> {
        let trust = |mut b: reqwest::ClientBuilder| {
            for c in extra {
                b = b.add_root_certificate(c.clone());
            }
            b
        };
        Ok(Api {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            // The server closes connections idle for 10 s; never reuse one it may be closing.
            http: trust(reqwest::Client::builder())
                .pool_idle_timeout(Duration::from_secs(5))
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(20))
                .build()?,
            stream: trust(reqwest::Client::builder())
                .connect_timeout(Duration::from_secs(5))
                .build()?,
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn answer<T: DeserializeOwned>(
        res: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, Refusal> {
        let res = res.map_err(|e| unreachable(&e))?;
        let status = res.status().as_u16();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| Refusal::plain(status, said(&e)))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map_err(|e| Refusal::plain(status, format!("unexpected answer: {e}")));
        }
        // The server's refusals are problem documents; a proxy's may be anything.
        Err(match serde_json::from_slice::<Problem>(&bytes) {
            Ok(p) => Refusal {
                status,
                detail: p.detail,
                current: p.current,
                code: Some(p.code).filter(|c| !c.is_empty()),
                field: p.field,
                current_status: p.current_status,
            },
            Err(_) => Refusal::plain(
                status,
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>(),
            ),
        })
    }

    /// GET a JSON resource.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Refusal> {
        Self::answer(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }

    /// POST JSON.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Refusal> {
        Self::answer(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await,
        )
        .await
    }

    /// POST JSON that makes a record, with an Idempotency-Key when given (a retry after a lost
    /// answer makes nothing twice).
    pub async fn create(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Result<Value, Refusal> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        Self::answer(req.send().await).await
    }

    /// DELETE a resource (204 expected).
    pub async fn delete(&self, path: &str) -> Result<(), Refusal> {
        let res = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Ok(()),
            other => Self::answer::<Value>(other).await.map(|_| ()),
        }
    }

    /// Names: streets, communities, departments, categories.
    pub async fn directory(&self) -> Result<Directory, Refusal> {
        let streets: Vec<Street> = self.get("/api/v1/streets").await?;
        let communities: Vec<Community> = self.get("/api/v1/communities").await?;
        let departments: Vec<Department> = self.get("/api/v1/departments").await?;
        let categories: Vec<Category> = self.get("/api/v1/categories").await?;
        Ok(Directory {
            streets: streets.into_iter().map(|s| (s.id, s)).collect(),
            communities: communities.into_iter().map(|c| (c.id, c)).collect(),
            departments: departments.into_iter().map(|d| (d.id, d)).collect(),
            categories,
            templates: self.templates().await.unwrap_or_default(),
        })
    }

    /// The reply templates the token sees (none from a server that keeps none).
    pub async fn templates(&self) -> Result<Vec<shaozi_shared::api::ReplyTemplate>, Refusal> {
        let t: shaozi_shared::api::Templates = self.get("/api/v1/templates").await?;
        Ok(t.items)
    }

    /// Every page of a whistle list.
    pub async fn all_whistles(&self, query: &str) -> Result<Vec<Whistle>, Refusal> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/whistles?{query}&limit=500&cursor={c}"),
                None => format!("/api/v1/whistles?{query}&limit=500"),
            };
            let page: Page<Whistle> = self.get(&path).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The stats.
    pub async fn stats(&self) -> Result<Stats, Refusal> {
        self.get("/api/v1/stats").await
    }

    /// A whistle with its timeline.
    pub async fn detail(&self, id: WhistleId) -> Result<WhistleDetail, Refusal> {
        self.get(&format!("/api/v1/whistles/{id}")).await
    }

    /// A search: the words as typed, with `from=` / `to=` (从= / 到=) taken out as dates;
    /// the first [`MOST`](crate::screens::search::MOST) hits and whether more were found.
    pub async fn search(&self, typed: &str) -> Result<(Vec<Whistle>, bool), Refusal> {
        let mut words = Vec::new();
        let mut query = String::new();
        for w in typed.split_whitespace() {
            // Dates, and the list's own filters as the server names them (the trends drill
            // into their cases with these).
            let date = ["from=", "从="]
                .iter()
                .find_map(|k| w.strip_prefix(k).map(|v| ("from", v)))
                .or_else(|| {
                    ["to=", "到="]
                        .iter()
                        .find_map(|k| w.strip_prefix(k).map(|v| ("to", v)))
                })
                .or_else(|| {
                    ["category", "community_id", "street_id", "source", "status"]
                        .iter()
                        .find_map(|k| {
                            w.strip_prefix(k)
                                .and_then(|r| r.strip_prefix('='))
                                .map(|v| (*k, v))
                        })
                });
            match date {
                Some((k, v)) => query.push_str(&format!("&{k}={}", enc(v))),
                None => words.push(w),
            }
        }
        let path = format!(
            "/api/v1/whistles?q={}{query}&limit={}",
            enc(&words.join(" ")),
            crate::screens::search::MOST
        );
        let page: Page<Whistle> = self.get(&path).await?;
        Ok((page.items, page.next_cursor.is_some()))
    }

    /// The cases like a whistle (the server's `similar`).
    pub async fn similar(
        &self,
        id: WhistleId,
    ) -> Result<Vec<shaozi_shared::api::Similar>, Refusal> {
        self.get(&format!("/api/v1/whistles/{id}/similar?limit=5"))
            .await
    }

    /// A department's open cases.
    pub async fn dept_cases(&self, d: DepartmentId) -> Result<Vec<Whistle>, Refusal> {
        self.all_whistles(&format!(
            "department_id={d}&status=dispatched,acknowledged,resolved"
        ))
        .await
    }

    /// Every open or claimed wish the token sees.
    pub async fn wishes(&self, statuses: &str) -> Result<Vec<Wish>, Refusal> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/wishes?status={statuses}&limit=500&cursor={c}"),
                None => format!("/api/v1/wishes?status={statuses}&limit=500"),
            };
            let page: Page<Wish> = self.get(&path).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// A step on a wish, at the version it was seen at.
    pub async fn act_wish(
        &self,
        id: WishId,
        body: &StepBody,
        version: Option<u64>,
    ) -> Result<Wish, Refusal> {
        self.step(&format!("wishes/{id}"), body, version).await
    }

    /// A step on a whistle, at the version it was seen at.
    pub async fn act(
        &self,
        id: WhistleId,
        body: &StepBody,
        version: Option<u64>,
    ) -> Result<Whistle, Refusal> {
        self.step(&format!("whistles/{id}"), body, version).await
    }

    /// `POST /api/v1/{record}/{step}` with `If-Match` when the version seen is known.
    async fn step<T: DeserializeOwned>(
        &self,
        record: &str,
        body: &StepBody,
        version: Option<u64>,
    ) -> Result<T, Refusal> {
        let step = body.step().tail();
        let mut rb = self
            .http
            .post(format!("{}/api/v1/{record}/{step}", self.base))
            .bearer_auth(&self.token)
            .json(&body.json());
        if let Some(v) = version {
            rb = rb.header("If-Match", format!("\"{v}\""));
        }
        Self::answer(rb.send().await).await
    }

    /// The assessment of local days [from, to].
    pub async fn assessment(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        group: &str,
    ) -> Result<shaozi_shared::api::Assessment, Refusal> {
        self.get(&format!(
            "/api/v1/assessment?from={from}&to={to}&group={group}"
        ))
        .await
    }

    /// The last twelve weeks (or months) of cases by `by`, and the last 30 days' hotspots.
    pub async fn patterns(
        &self,
        by: &str,
        interval: &str,
    ) -> Result<(shaozi_shared::api::Trends, shaozi_shared::api::Hotspots), Refusal> {
        let path = format!("/api/v1/trends?by={by}&interval={interval}");
        let (t, h) = tokio::join!(self.get(&path), self.get("/api/v1/hotspots?days=30&min=3"));
        Ok((t?, h?))
    }

    /// The webhook subscriptions this token may see, with their health.
    pub async fn webhooks(&self) -> Result<Vec<shaozi_shared::api::WebhookInfo>, Refusal> {
        let list: shaozi_shared::api::WebhookList = self.get("/api/v1/webhooks").await?;
        Ok(list.items)
    }

    /// Resumes a paused subscription.
    pub async fn resume_webhook(
        &self,
        id: &str,
    ) -> Result<shaozi_shared::api::WebhookInfo, Refusal> {
        self.post(&format!("/api/v1/webhooks/{id}/resume"), &Value::Null)
            .await
    }

    /// Sends a subscription a test message.
    pub async fn test_webhook(
        &self,
        id: &str,
    ) -> Result<shaozi_shared::api::WebhookTestResult, Refusal> {
        self.post(&format!("/api/v1/webhooks/{id}/test"), &Value::Null)
            .await
    }

    /// Who this token is and what it may do.
    pub async fn me(&self) -> Result<Me, Refusal> {
        self.get("/api/v1/me").await
    }
}

/// Loads everything once; returns the sequence number the live stream should resume from.
pub async fn load_all(api: &Api, tx: &UnboundedSender<Msg>) -> Result<u64, Refusal> {
    let me = api.me().await?;
    let _ = tx.send(Msg::Me(Box::new(me)));
    let dir = api.directory().await?;
    // Stats first: events after its last_seq are replayed on top of the queue we load next,
    // and version checks make any overlap harmless.
    let stats = api.stats().await?;
    let seq = stats.last_seq;
    let queue = api.all_whistles("status=new,dispatched,returned").await?;
    let _ = tx.send(Msg::Directory(Box::new(dir)));
    let _ = tx.send(Msg::Stats(Box::new(stats)));
    let _ = tx.send(Msg::Queue(queue));
    Ok(seq)
}

/// Backoff before reconnect attempt `n` (1-based): 0.5 s doubling, capped at 15 s.
pub fn backoff(n: u32) -> Duration {
    let ms = 500u64.saturating_mul(1 << n.saturating_sub(1).min(10));
    Duration::from_millis(ms.min(15_000))
}

/// A stream with no bytes (keep-alives come every 15 s) for this long is taken as dead.
const IDLE: Duration = Duration::from_secs(40);

/// Follows the event stream forever from `after`, reconnecting on any failure.
pub async fn follow(api: Api, mut after: u64, tx: UnboundedSender<Msg>) {
    use eventsource_stream::Eventsource;
    let mut attempt = 0u32;
    loop {
        let req = api
            .stream
            .get(format!("{}/api/v1/events", api.base))
            .bearer_auth(&api.token)
            .header("Last-Event-ID", after.to_string());
        match req.send().await {
            Ok(res) if res.status().is_success() => {
                attempt = 0;
                if tx.send(Msg::Conn(Conn::Live)).is_err() {
                    return;
                }
                let mut events = res.bytes_stream().eventsource();
                loop {
                    match tokio::time::timeout(IDLE, events.next()).await {
                        Ok(Some(Ok(ev))) => {
                            if ev.data.is_empty() {
                                continue;
                            }
                            match serde_json::from_str::<Event>(&ev.data) {
                                Ok(e) => {
                                    after = after.max(e.seq);
                                    if tx.send(Msg::Event(Box::new(e))).is_err() {
                                        return;
                                    }
                                }
                                Err(e) => tracing::warn!(error = %e, "unreadable event"),
                            }
                        }
                        Ok(Some(Err(e))) => {
                            tracing::info!(error = %e, "event stream broke");
                            break;
                        }
                        Ok(None) => {
                            tracing::info!("event stream ended");
                            break;
                        }
                        Err(_) => {
                            tracing::info!("event stream silent too long");
                            break;
                        }
                    }
                }
            }
            // Our last id is past the server's head: its history is not the one we saw (a
            // restored store, another server). Everything is loaded afresh from its head.
            Ok(res) if res.status() == reqwest::StatusCode::BAD_REQUEST => {
                tracing::warn!(
                    after,
                    "the server never gave out our last event id; reloading"
                );
                if let Ok(seq) = load_all(&api, &tx).await {
                    after = seq;
                    continue;
                }
            }
            // A revoked or expired token is not an outage: said once, and not tried again.
            Ok(res) if res.status() == reqwest::StatusCode::UNAUTHORIZED => {
                tracing::warn!("the server refused the token");
                let refusal = Api::answer::<serde_json::Value>(Ok(res))
                    .await
                    .err()
                    .unwrap_or_else(|| Refusal::plain(401, String::new()));
                let _ = tx.send(Msg::LoadFailed(refusal));
                let _ = tx.send(Msg::Conn(Conn::Refused));
                return;
            }
            Ok(res) => tracing::warn!(status = %res.status(), "event stream refused"),
            Err(e) => tracing::info!(error = %e, "cannot reach the server"),
        }
        attempt += 1;
        let state = if attempt > 3 {
            Conn::Offline
        } else {
            Conn::Reconnecting { attempt }
        };
        if tx.send(Msg::Conn(state)).is_err() {
            return;
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// A query value percent-encoded (RFC 3986: letters, digits and `-._~` as they are; every
/// other byte of its UTF-8 as %XX), so Chinese words and `+86` arrive as typed.
fn enc(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 3);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(6), Duration::from_secs(15));
        assert_eq!(backoff(60), Duration::from_secs(15));
    }

    #[test]
    fn plain_http_is_flagged_only_when_it_leaves_the_machine() {
        for url in [
            "http://10.2.3.4:7311",
            "http://shaozi.city.example",
            "http://192.168.1.9",
            "HTTP://Dispatch.Example:80/",
            "http://[2001:db8::1]:7311",
        ] {
            assert!(unencrypted_to_elsewhere(url), "{url}");
        }
        for url in [
            "http://127.0.0.1:7311",
            "http://127.8.9.10",
            "http://localhost:7311",
            "http://LOCALHOST",
            "http://[::1]:7311",
            "https://10.2.3.4:7311",
            "https://shaozi.city.example",
            "not a url",
        ] {
            assert!(!unencrypted_to_elsewhere(url), "{url}");
        }
    }

    #[test]
    fn a_ca_file_that_is_missing_or_not_pem_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("ca.pem");
        let e = read_ca_file(&missing).unwrap_err();
        assert!(e.contains("cannot read") && e.contains("ca.pem"), "{e}");
        std::fs::write(&missing, "hello").unwrap();
        let e = read_ca_file(&missing).unwrap_err();
        assert!(e.contains("ca.pem"), "{e}");
    }

    #[test]
    fn query_values_arrive_as_typed() {
        assert_eq!(super::enc("漏水 +86"), "%E6%BC%8F%E6%B0%B4%20%2B86");
        assert_eq!(super::enc("a-b_c.d~"), "a-b_c.d~");
    }
}
