//! Three servers, one PostgreSQL database: writers and an event stream on each, one server
//! SIGKILLed under load. Every acknowledged write is there, the log runs 1..N with no gap,
//! and the killed server's stream resumes on another with `Last-Event-ID` and receives
//! exactly the events it had not seen.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{json, Value};

mod common;
use common::{start, Running, TestDatabase, TOKEN};

/// Sequence numbers a stream received, in order.
type Seen = Arc<Mutex<Vec<u64>>>;

/// Follows `base`'s event stream from `after` until it ends or is aborted.
fn follow(base: &str, after: Option<u64>) -> (Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let (s, url) = (seen.clone(), format!("{base}/api/v1/events"));
    let task = tokio::spawn(async move {
        let mut rb = reqwest::Client::new().get(url).bearer_auth(TOKEN);
        if let Some(a) = after {
            rb = rb.header("Last-Event-ID", a.to_string());
        }
        let Ok(res) = rb.send().await else { return };
        let mut events = res.bytes_stream().eventsource();
        while let Some(Ok(ev)) = events.next().await {
            if let Ok(seq) = ev.id.parse::<u64>() {
                s.lock().unwrap().push(seq);
            }
        }
    });
    (seen, task)
}

/// Files whistles with Idempotency-Keys through `bases[0]` until `stop`; a request the
/// server did not answer 2xx is retried with the same key on the next server.
async fn writer(
    bases: Vec<String>,
    community: String,
    n: usize,
    acked: Arc<Mutex<BTreeMap<String, String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let key = format!("w{n}-{i}");
        let body = json!({"community_id": community, "category": "roads", "urgency": "normal",
                          "title": key, "description": "三台服务器"});
        let mut attempt = 0;
        loop {
            let base = &bases[attempt % bases.len()];
            let r = c
                .post(format!("{base}/api/v1/whistles"))
                .bearer_auth(TOKEN)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            if let Ok(r) = r {
                if r.status().is_success() {
                    let w: Value = r.json().await.unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .insert(key.clone(), w["id"].as_str().unwrap().to_string());
                    break;
                }
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        i += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_three_servers_killed_under_load_loses_nothing_and_its_stream_resumes_elsewhere() {
    let Some(db) = TestDatabase::create("three") else {
        return;
    };
    let data = std::path::Path::new(&db.url);
    // Killed when the test ends, however it ends.
    let (a, base_a) = start(data);
    let (b, base_b) = start(data);
    let (c, base_c) = start(data);
    let (_a, _b, mut c) = (Running(a), Running(b), Running(c));
    let http = reqwest::Client::new();
    let post = |base: &str, path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let street: Value = post(&base_a, "/api/v1/streets", json!({"name": "桃花仑街道"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let community: Value = post(
        &base_b,
        "/api/v1/communities",
        json!({"name": "朝阳路社区", "street_id": street["id"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let community = community["id"].as_str().unwrap().to_string();

    // A stream on each server from the start of the log.
    let streams: Vec<(Seen, tokio::task::JoinHandle<()>)> = [&base_a, &base_b, &base_c]
        .iter()
        .map(|b| follow(b, Some(0)))
        .collect();
    // Writers on each server; those on C fall back to A, then B.
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for n in 0..9 {
        let order = match n % 3 {
            0 => vec![base_a.clone(), base_b.clone()],
            1 => vec![base_b.clone(), base_a.clone()],
            _ => vec![base_c.clone(), base_a.clone(), base_b.clone()],
        };
        writers.push(tokio::spawn(writer(
            order,
            community.clone(),
            n,
            acked.clone(),
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    c.0.kill().expect("SIGKILL C");
    let _ = c.0.wait();
    // C's stream ends with the server; the client resumes on A from the last event it saw.
    let (seen_c, task_c) = &streams[2];
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !task_c.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let before_kill: Vec<u64> = seen_c.lock().unwrap().clone();
    let resumed_from = before_kill.last().copied().unwrap_or(0);
    let (seen_resumed, task_resumed) = follow(&base_a, Some(resumed_from));
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }

    // The log: 1..N, no gap, on every surviving server.
    let head = |base: String| {
        let http = http.clone();
        async move {
            let s: Value = http
                .get(format!("{base}/api/v1/stats"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            s["last_seq"].as_u64().unwrap()
        }
    };
    let n = head(base_a.clone()).await;
    // Every stream still open catches up to the head.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let caught_up = |s: &Seen| s.lock().unwrap().last().copied().unwrap_or(0) >= n;
    while tokio::time::Instant::now() < deadline
        && !(caught_up(&streams[0].0) && caught_up(&streams[1].0) && caught_up(&seen_resumed))
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let whole: Vec<u64> = (1..=n).collect();
    assert_eq!(*streams[0].0.lock().unwrap(), whole, "A's stream");
    assert_eq!(*streams[1].0.lock().unwrap(), whole, "B's stream");
    let mut c_then_a = before_kill.clone();
    c_then_a.extend(seen_resumed.lock().unwrap().iter());
    assert_eq!(
        c_then_a, whole,
        "C's stream, resumed on A after {resumed_from}: nothing missing, nothing twice"
    );

    // Every acknowledged whistle is there, once, with the id it was acknowledged with.
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{base_b}/api/v1/whistles?limit=200{cursor}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for w in page["items"].as_array().unwrap() {
            let title = w["title"].as_str().unwrap().to_string();
            let id = w["id"].as_str().unwrap().to_string();
            assert!(listed.insert(title, id).is_none(), "a whistle filed twice");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let acked = acked.lock().unwrap().clone();
    for (key, id) in &acked {
        assert_eq!(listed.get(key), Some(id), "{key} was acknowledged as {id}");
    }
    eprintln!(
        "{} whistles acknowledged through three servers, one killed; log 1..{n} on every stream; C's stream resumed on A after {resumed_from}",
        acked.len()
    );
    task_resumed.abort();
    for (_, t) in &streams {
        t.abort();
    }
}
