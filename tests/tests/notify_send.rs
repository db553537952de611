//! One delivery to real receivers on 127.0.0.1 (plain TCP servers inside the test, so each
//! can answer as a real receiver might: 2xx, 500, a redirect, a robot's refusal, or nothing).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use shaozi_server::notify::send::{Limits, Sender, Sent, Target};
use shaozi_server::notify::sign::{dingtalk_url, WebhookSecret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a receiver answers.
#[derive(Clone)]
enum Reply {
    Status(u16, String),
    Redirect(String),
    Hang,
}

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn receiver(reply: Reply) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook?key=k1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let target = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or("")
                    .to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(": "))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end + 4..].to_vec();
                while body.len() < len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push(Seen {
                    target,
                    headers,
                    body,
                });
                let answer = match &reply {
                    Reply::Status(code, text) => format!(
                        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    ),
                    Reply::Redirect(to) => format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    ),
                    Reply::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                };
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    Receiver { url, seen }
}

fn sender(total: Duration) -> Sender {
    Sender::new(Limits {
        connect: Duration::from_secs(5),
        total,
        answer_bytes: 64,
    })
    .unwrap()
}

#[tokio::test]
async fn a_json_delivery_arrives_signed_and_verifies() {
    let r = receiver(Reply::Status(204, String::new())).await;
    let secret = WebhookSecret::generate();
    let body = br#"{"seq":42,"type":"whistle.dispatched"}"#.to_vec();
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 42, body.clone(), Target::Json(&secret), Utc::now())
        .await;
    assert_eq!(sent, Sent::Delivered);
    let seen = r.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.body, body);
    assert_eq!(seen.header("webhook-id"), Some("42"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    // Verified as a receiver would, with the Standard Webhooks project's library.
    let mut headers = reqwest::header::HeaderMap::new();
    for k in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(k, seen.header(k).unwrap().parse().unwrap());
    }
    standardwebhooks::Webhook::new(&secret.encoded())
        .unwrap()
        .verify(&seen.body, &headers)
        .expect("verifies");
}

#[tokio::test]
async fn a_failure_says_why_and_keeps_only_the_start_of_the_answer() {
    let long = "服务暂时不可用，请稍后再试。".repeat(40);
    let r = receiver(Reply::Status(503, long)).await;
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 7, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    let Sent::Failed { status, why } = sent else {
        panic!("{sent:?}")
    };
    assert_eq!(status, Some(503));
    assert!(why.starts_with("answered 503: 服务暂时"), "{why}");
    assert!(why.chars().count() < 120, "the answer is cut: {why}");
}

#[tokio::test]
async fn a_hanging_receiver_costs_no_more_than_the_limit() {
    let r = receiver(Reply::Hang).await;
    let started = Instant::now();
    let sent = sender(Duration::from_millis(400))
        .send(&r.url, 1, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    assert_eq!(
        sent,
        Sent::Failed {
            status: None,
            why: "no answer in time".into()
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = receiver(Reply::Status(200, "{}".into())).await;
    let r = receiver(Reply::Redirect(elsewhere.url.clone())).await;
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 1, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    assert!(
        matches!(
            sent,
            Sent::Failed {
                status: Some(302),
                ..
            }
        ),
        "{sent:?}"
    );
    assert!(
        elsewhere.seen.lock().unwrap().is_empty(),
        "nothing went to the redirect's target"
    );
}

#[tokio::test]
async fn a_robot_that_answers_200_with_an_error_code_failed() {
    let r = receiver(Reply::Status(
        200,
        r#"{"errcode":310000,"errmsg":"sign not match"}"#.into(),
    ))
    .await;
    let sent = sender(Duration::from_secs(10))
        .send(
            &r.url,
            9,
            b"{}".to_vec(),
            Target::Dingtalk(Some("SECabc")),
            Utc::now(),
        )
        .await;
    assert_eq!(
        sent,
        Sent::Failed {
            status: Some(200),
            why: "the robot refused it: 310000 sign not match".into()
        }
    );
    // The signed URL kept the robot's own key and added DingTalk's timestamp and sign.
    let seen = r.seen.lock().unwrap()[0].clone();
    let ts: i64 = seen
        .target
        .split("timestamp=")
        .nth(1)
        .and_then(|t| t.split('&').next())
        .and_then(|t| t.parse().ok())
        .expect("a timestamp");
    let want = dingtalk_url("/hook?key=k1", "SECabc", ts).unwrap();
    assert_eq!(seen.target, want);
    let ok = receiver(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into())).await;
    let sent = sender(Duration::from_secs(10))
        .send(
            &ok.url,
            9,
            b"{}".to_vec(),
            Target::Dingtalk(None),
            Utc::now(),
        )
        .await;
    assert_eq!(sent, Sent::Delivered);
}
