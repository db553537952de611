//! One delivery over HTTP: the request a subscription's format makes, sent within the limits
//! a receiver must not be able to stretch (connect 5 s, the whole request 10 s, no redirects,
//! the answer read up to 4 KiB), and what came of it; and when to try again after a failure.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use shaozi_shared::api::DeliveryFailure;

use super::addr::{refusal, AddressPolicy, PolicyResolver};
use super::sign::{dingtalk_url, WebhookSecret};

/// Limits of one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To connect.
    pub connect: Duration,
    /// For the whole request, the answer included.
    pub total: Duration,
    /// Bytes of the answer kept (for the subscription's health).
    pub answer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
            answer_bytes: 4096,
        }
    }
}

/// How a delivery is addressed and signed.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Standard Webhooks headers, signed with the subscription's key.
    Json(&'a WebhookSecret),
    /// A 企业微信 group robot.
    Wecom,
    /// A 钉钉 custom robot, its URL signed when it has a secret (SEC…).
    Dingtalk(Option<&'a str>),
}

/// What came of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The receiver answered 2xx (and a robot said `errcode` 0).
    Delivered,
    /// Anything else: the status if there was one, and why, in words for the health view.
    Failed {
        /// Why, for a client to word.
        reason: DeliveryFailure,
        /// Why it counts as failed, in English with the cause.
        why: String,
    },
}

/// A URL a subscription may name: http or https, with a host.
pub fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    match u.scheme() {
        "http" | "https" if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(u),
        "http" | "https" => Err(format!("{url:?} has no host")),
        s => Err(format!(
            "only http and https URLs are delivered to; this one is {s}"
        )),
    }
}

/// A URL as it may be shown again (in lists and in the log): where it goes, without what
/// receivers carry their secrets in. The query's values (a robot's key or access token), the
/// user name and password, the fragment, and any path segment that looks like a key (longer
/// than 12 characters with a digit in it: Feishu's hook id, Slack's and Discord's tokens) are
/// shown as `…`; `/cgi-bin/webhook/send` stays readable.
pub fn shown_url(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return "…".into();
    };
    let _ = u.set_password(None);
    let _ = u.set_username("");
    if u.fragment().is_some() {
        u.set_fragment(Some("…"));
    }
    let secretive = |seg: &str| seg.chars().count() > 12 && seg.chars().any(|c| c.is_ascii_digit());
    let path: Vec<String> = u
        .path_segments()
        .map(|segs| {
            segs.map(|seg| {
                if secretive(seg) {
                    "…".to_string()
                } else {
                    seg.to_string()
                }
            })
            .collect()
        })
        .unwrap_or_default();
    if !path.is_empty() {
        u.set_path(&path.join("/"));
    }
    if u.query().is_some() {
        let hidden: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "…".to_string()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(hidden);
    }
    // The percent-encoding of the ellipsis is harder to read than the ellipsis.
    u.to_string().replace("%E2%80%A6", "…")
}

/// Requests in flight to one receiver host (scheme, host and port) at once, over every
/// subscription: a city's subscriptions cannot be turned on one host as a flood, nor hold more
/// than this many connections to it (a hanging host held one per subscription before). Robots
/// of many groups share a host (qyapi.weixin.qq.com): each message takes a fraction of a
/// second, so this is well above what they need.
pub const PER_HOST: usize = 8;

/// Sends deliveries; one for all subscriptions (its connections are pooled per host).
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    limits: Limits,
    policy: Arc<AddressPolicy>,
    hosts: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

impl Sender {
    /// A sender that follows no redirect, keeps to `limits` and connects only where `policy`
    /// permits (through no proxy: a proxy would connect for it, unchecked).
    pub fn new(limits: Limits, policy: AddressPolicy) -> Result<Sender, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect)
            .timeout(limits.total)
            .user_agent(concat!("shaozi/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            http,
            limits,
            policy,
            hosts: Arc::default(),
        })
    }

    /// The turnstile of one receiver host.
    fn host_turns(&self, url: &str) -> Option<Arc<tokio::sync::Semaphore>> {
        let u = reqwest::Url::parse(url).ok()?;
        let key = format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().ok()?;
        Some(
            hosts
                .entry(key)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(PER_HOST)))
                .clone(),
        )
    }

    /// Which addresses it may reach.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// Delivers `body` (the event, or a robot's message) to `url`; `id` is the event's
    /// sequence number, the same on every attempt so a receiver can drop repeats.
    pub async fn send(
        &self,
        url: &str,
        id: u64,
        body: Vec<u8>,
        target: Target<'_>,
        now: DateTime<Utc>,
    ) -> Sent {
        let failed = |reason: DeliveryFailure, why: String| Sent::Failed { reason, why };
        let url = match target {
            Target::Dingtalk(Some(secret)) => {
                match dingtalk_url(url, secret, now.timestamp_millis()) {
                    Ok(u) => u,
                    Err(e) => return failed(DeliveryFailure::Other, e.to_string()),
                }
            }
            _ => url.to_string(),
        };
        // An address written in the URL reaches no resolver: it is checked here.
        if let Ok(u) = reqwest::Url::parse(&url) {
            if let Err(r) = self.policy.check_url(&u) {
                return failed(DeliveryFailure::AddressRefused, r.to_string());
            }
        }
        // Waits its turn at the host (the wait is not counted against the request's limits).
        let turns = self.host_turns(&url);
        let _turn = match &turns {
            Some(t) => t.acquire().await.ok(),
            None => None,
        };
        let mut req = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Target::Json(secret) = target {
            let ts = now.timestamp();
            let signature = match secret.sign(&id.to_string(), ts, &body) {
                Ok(s) => s,
                Err(e) => return failed(DeliveryFailure::Other, e.to_string()),
            };
            req = req
                .header("webhook-id", id.to_string())
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", signature);
        }
        let mut res = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) if refusal(&e).is_some() => {
                let why = refusal(&e).map(ToString::to_string).unwrap_or_default();
                return failed(DeliveryFailure::AddressRefused, why);
            }
            Err(e) if e.is_timeout() => {
                return failed(DeliveryFailure::Timeout, "no answer in time".into())
            }
            Err(e) if e.is_connect() => {
                return failed(
                    DeliveryFailure::Connect,
                    format!("could not connect: {}", said(e)),
                )
            }
            Err(e) => return failed(DeliveryFailure::Other, said(e)),
        };
        let status = res.status().as_u16();
        // Read at most the cap: a receiver's answer is for the health view, not to be stored whole.
        let mut answer = Vec::new();
        while answer.len() < self.limits.answer_bytes {
            match res.chunk().await {
                Ok(Some(c)) => answer.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => {
                    if (200..300).contains(&status) {
                        // The 2xx came; a cut-off answer does not undo it.
                        break;
                    }
                    return failed(DeliveryFailure::Status { status }, said(e));
                }
            }
        }
        answer.truncate(self.limits.answer_bytes);
        if !(200..300).contains(&status) {
            let said = String::from_utf8_lossy(&answer)
                .chars()
                .take(200)
                .collect::<String>();
            return failed(
                DeliveryFailure::Status { status },
                format!("answered {status}: {said}"),
            );
        }
        // The robots answer 200 with {"errcode": n, "errmsg": …}; anything but 0 failed.
        if matches!(target, Target::Wecom | Target::Dingtalk(_)) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer) {
                let code = v.get("errcode").and_then(serde_json::Value::as_i64);
                if let Some(code) = code.filter(|c| *c != 0) {
                    let msg = v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
                    return failed(
                        DeliveryFailure::RobotRefused { errcode: code },
                        format!("the robot refused it: {code} {msg}"),
                    );
                }
            }
        }
        Sent::Delivered
    }
}

/// A transport error in words for the health view and the log: without its URL (a robot's
/// key is in the URL's query) and with its causes (the TLS or DNS reason is in them).
fn said(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The longest wait between attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(600);

/// How long failures may go on before the subscription pauses until resumed.
pub const PAUSE_AFTER: chrono::Duration = chrono::Duration::days(1);

/// The wait before attempt `failures + 1`: 5 s doubling up to 10 minutes, with up to a fifth
/// taken off at random (`jitter` in 0..1) so that many subscriptions failing together do not
/// retry in step.
pub fn retry_after(failures: u32, jitter: f64) -> Duration {
    let base = 5u64.saturating_mul(1u64 << failures.saturating_sub(1).min(20));
    let capped = Duration::from_secs(base).min(MAX_RETRY);
    capped.mul_f64(1.0 - 0.2 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_to_ten_minutes_with_jitter_below() {
        assert_eq!(retry_after(1, 0.0), Duration::from_secs(5));
        assert_eq!(retry_after(2, 0.0), Duration::from_secs(10));
        assert_eq!(retry_after(7, 0.0), Duration::from_secs(320));
        assert_eq!(retry_after(8, 0.0), MAX_RETRY);
        assert_eq!(retry_after(400, 0.0), MAX_RETRY);
        assert_eq!(retry_after(1, 1.0), Duration::from_secs(4));
        assert!(retry_after(9, 0.5) < MAX_RETRY);
    }

    #[test]
    fn a_shown_url_hides_the_robots_key() {
        assert_eq!(
            shown_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
        );
        assert_eq!(
            shown_url("https://u:pw@example.org/h?access_token=abc&x=1"),
            "https://example.org/h?access_token=…&x=…"
        );
        assert_eq!(
            shown_url(
                "https://open.feishu.cn/open-apis/bot/v2/hook/2f1c7a9e-53b1-4c33-9a0e-7d5e2a61b3c4"
            ),
            "https://open.feishu.cn/open-apis/bot/v2/hook/…"
        );
        assert_eq!(
            shown_url("https://hooks.example.org/services/T024BE7LD/B0123/XyZ0123456789abcdefGHIJ"),
            "https://hooks.example.org/services/T024BE7LD/B0123/…"
        );
        assert_eq!(
            shown_url("https://token-user@receiver.example.org/in#sig=abc123"),
            "https://receiver.example.org/in#…"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:9000/hook"),
            "http://127.0.0.1:9000/hook"
        );
    }

    #[test]
    fn only_http_and_https_with_a_host() {
        assert!(check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        for bad in [
            "ftp://x/y",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
