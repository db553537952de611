//! Shutdown finishes in-flight writes and closes event streams; a subscriber that stops
//! reading is cut off and never slows the writers.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use shaozi_tests::{TestServer, TOKEN};

#[tokio::test]
async fn shutdown_finishes_in_flight_writes_and_closes_streams() {
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    // An open stream that would otherwise never end.
    let stream = s
        .req(reqwest::Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(async move { stream.bytes().await.map(|b| b.len()) });

    let mut writers = Vec::new();
    for i in 0..40 {
        let client = s.client.clone();
        let url = format!("{}/api/v1/whistles", s.base);
        let body = json!({"community_id": city.communities[i % 3], "category": "roads", "urgency": "normal", "title": format!("坑{i}"), "description": "路面坑洼"});
        writers.push(tokio::spawn(async move {
            let r = client.post(url).bearer_auth(TOKEN).json(&body).send().await;
            match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    (status, v["id"].as_str().map(str::to_string))
                }
                Err(_) => (0, None),
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let started = Instant::now();
    s.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited on the open stream"
    );
    // The stream ended rather than hanging.
    tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("stream closed")
        .unwrap()
        .ok();

    let mut acknowledged = Vec::new();
    for w in writers {
        let (status, id) = w.await.unwrap();
        // Either on disk (201), or refused in words (503), or never reached the server.
        assert!(matches!(status, 0 | 201 | 503), "status {status}");
        if status == 201 {
            acknowledged.push(id.unwrap());
        }
    }
    let s = s.restart().await;
    for id in &acknowledged {
        assert_eq!(
            s.get(&format!("/api/v1/whistles/{id}")).await.status,
            200,
            "{id} was acknowledged but lost"
        );
    }
    let all = s.get("/api/v1/whistles?limit=500").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        all,
        acknowledged.len(),
        "nothing half-written or unacknowledged appears"
    );
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_cut_off_and_writers_never_wait() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    // A raw connection that asks for the stream and then reads nothing.
    let addr = s.server.as_ref().unwrap().addr;
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    write!(sock, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();

    // Far more events than the live buffer holds, as fast as the writer takes them.
    let writer = s.server.as_ref().unwrap().writer.clone();
    let community: shaozi_shared::CommunityId = city.communities[0].parse().unwrap();
    let started = Instant::now();
    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..6000 {
        let w = writer.clone();
        let nw = shaozi_shared::api::NewWhistle {
            community_id: community,
            category: "sanitation".into(),
            title: format!("垃圾{i}"),
            // Large events, so the stalled client falls behind the live buffer rather than
            // being carried by the kernel's (large, on loopback) socket buffers.
            description: "垃圾堆积".repeat(500),
            urgency: shaozi_shared::Urgency::Normal,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
            source: None,
        };
        jobs.spawn(async move {
            w.submit(
                shaozi_server::writer::Command::FileWhistle(nw),
                shaozi_shared::Principal::system(),
            )
            .await
            .is_ok()
        });
    }
    while let Some(ok) = jobs.join_next().await {
        assert!(ok.unwrap());
    }
    let took = started.elapsed();
    eprintln!("6000 creates with a stalled subscriber took {took:?}");

    // Now drain the socket (off the runtime, which also runs the server): it must end, cut
    // off, having delivered a gapless prefix.
    let buf = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        sock.read_to_end(&mut buf).map(|_| buf)
    })
    .await
    .unwrap()
    .expect("the server ends the cut-off stream");
    let text = String::from_utf8_lossy(&buf);
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    assert!(!ids.is_empty());
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "what was delivered is gapless"
    );
    assert!(
        (*ids.last().unwrap() as usize) < 6000 + 8,
        "the stalled stream was cut off before the end"
    );
    assert_eq!(
        s.get("/api/v1/stats").await.body["queue"]["unanswered"],
        6000
    );
}
