//! A webhook receiver for tests and the load tool: a plain HTTP/1.1 server on 127.0.0.1 that
//! records every request and answers as it is told (2xx, an error, a redirect, a robot's
//! refusal, or nothing at all), changeable while it runs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a receiver answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status with this JSON body.
    Status(u16, String),
    /// A 302 to this place.
    Redirect(String),
    /// Nothing, ever (the connection is held open).
    Hang,
    /// `200 {}` after this long.
    Slow(Duration),
}

impl Reply {
    /// `200 {}`.
    pub fn ok() -> Reply {
        Reply::Status(200, "{}".into())
    }
}

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request target (path and query).
    pub target: String,
    /// Its headers, as sent.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
    /// When it arrived, on the wall clock.
    pub wall: chrono::DateTime<chrono::Utc>,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (Null if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

struct Plan {
    reply: Reply,
    /// Requests still to fail (503) before `reply` applies.
    fail_first: usize,
}

/// A running receiver; it stops when dropped.
pub struct Receiver {
    /// Its URL, with a robot-like `?key=k1`.
    pub url: String,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    plan: Arc<Mutex<Plan>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts one that answers `reply`.
    pub async fn start(reply: Reply) -> std::io::Result<Receiver> {
        Self::start_failing(reply, 0).await
    }

    /// Starts one that answers 503 to its first `n` requests, then `reply`.
    pub async fn start_failing(reply: Reply, n: usize) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}/hook?key=k1");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(Mutex::new(Plan {
            reply,
            fail_first: n,
        }));
        let (log, plans) = (seen.clone(), plan.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(sock, log.clone(), plans.clone()));
            }
        });
        Ok(Receiver {
            url,
            port: addr.port(),
            seen,
            plan,
            task,
        })
    }

    /// Answers `reply` from now on.
    pub fn set(&self, reply: Reply) {
        if let Ok(mut p) = self.plan.lock() {
            p.reply = reply;
            p.fail_first = 0;
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many requests so far.
    pub fn count(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Waits until `done` says the requests so far are enough, up to `limit`.
    pub async fn wait_for(&self, limit: Duration, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let until = Instant::now() + limit;
        loop {
            let seen = self.seen();
            if done(&seen) || Instant::now() > until {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One connection: requests one after another (keep-alive), each recorded and answered.
async fn serve(
    mut sock: tokio::net::TcpStream,
    log: Arc<Mutex<Vec<Seen>>>,
    plan: Arc<Mutex<Plan>>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
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
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut rest = buf.split_off(head_end + 4);
        while rest.len() < len {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
            }
        }
        buf = rest.split_off(len);
        let body = rest;
        if let Ok(mut l) = log.lock() {
            l.push(Seen {
                target,
                headers,
                body,
                at: Instant::now(),
                wall: chrono::Utc::now(),
            });
        }
        let reply = match plan.lock() {
            Ok(mut p) if p.fail_first > 0 => {
                p.fail_first -= 1;
                Reply::Status(503, r#"{"error":"busy"}"#.into())
            }
            Ok(p) => p.reply.clone(),
            Err(_) => return,
        };
        let answer = match reply {
            Reply::Status(code, text) => format!(
                "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
                text.len()
            ),
            Reply::Redirect(to) => format!(
                "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            ),
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Slow(wait) => {
                tokio::time::sleep(wait).await;
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                    .to_string()
            }
        };
        if sock.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
