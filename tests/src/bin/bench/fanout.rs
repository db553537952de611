//! Live fan-out: how long after a create's 2xx its event reaches each open event stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::load::Lat;

/// What the fan-out run saw.
pub struct FanOut {
    /// Latency from 2xx to arrival, one sample per (stream, whistle).
    pub lat: Lat,
    /// Events that never arrived on some stream.
    pub missing: usize,
    /// Events that reached the stream before the 2xx reached the client.
    pub early: usize,
}

/// Opens `streams` event streams on the server at `stream_base`, then files `creates` whistles
/// through `base` one after another, `gap` apart, and times each event's arrival on every
/// stream against the create's 2xx (two servers on one database, or the same one twice).
pub async fn run(
    base: &str,
    stream_base: &str,
    token: &str,
    streams: usize,
    creates: usize,
    gap: Duration,
    community: &str,
) -> anyhow::Result<FanOut> {
    // Every stream is its own connection, as 200 dispatchers' dashboards would be.
    let mut opened = Vec::with_capacity(streams);
    for _ in 0..streams {
        let client = reqwest::Client::builder().build()?;
        let res = client
            .get(format!("{stream_base}/api/v1/events"))
            .bearer_auth(token)
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "event stream answered {}",
            res.status()
        );
        opened.push((client, res));
    }
    // Readers report (stream, whistle, arrival) as they go, so ending them loses nothing.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String, Instant)>();
    let mut readers = tokio::task::JoinSet::new();
    for (n, (client, res)) in opened.into_iter().enumerate() {
        let tx = tx.clone();
        readers.spawn(async move {
            let _keep = client;
            let mut events = res.bytes_stream().eventsource();
            while let Some(Ok(ev)) = events.next().await {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                    if v["type"] == "whistle.created" {
                        if let Some(s) = v["subject"].as_str() {
                            let _ = tx.send((n, s.to_string(), at));
                        }
                    }
                }
            }
        });
    }
    drop(tx);

    let acked: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let client = reqwest::Client::new();
    for i in 0..creates {
        let res = client
            .post(format!("{base}/api/v1/whistles"))
            .bearer_auth(token)
            .json(
                &json!({"community_id": community, "category": "roads", "urgency": "normal",
                "title": format!("扇出测试{i}"), "description": "井盖缺失"}),
            )
            .send()
            .await?;
        let at = Instant::now();
        let body: Value = res.json().await?;
        let id = body["id"].as_str().context("created whistle has an id")?;
        if let Ok(mut a) = acked.lock() {
            a.insert(id.to_string(), at);
        }
        tokio::time::sleep(gap).await;
    }
    // Let the last events arrive, then end the streams.
    tokio::time::sleep(Duration::from_millis(500)).await;
    readers.abort_all();
    while readers.join_next().await.is_some() {}
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let mut arrived: HashMap<(usize, String), Instant> = HashMap::new();
    while let Some((n, id, at)) = rx.recv().await {
        arrived.entry((n, id)).or_insert(at);
    }
    let mut lat = Vec::with_capacity(streams * creates);
    let mut missing = 0;
    let mut early = 0;
    for (id, acked_at) in &acked {
        for n in 0..streams {
            match arrived.get(&(n, id.clone())) {
                // An event can beat the 2xx to the client; that counts as no delay.
                Some(at) => {
                    early += usize::from(at < acked_at);
                    lat.push(at.saturating_duration_since(*acked_at))
                }
                None => missing += 1,
            }
        }
    }
    Ok(FanOut {
        lat: Lat(lat),
        missing,
        early,
    })
}
