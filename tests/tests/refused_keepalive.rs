//! A refused request (429, 401) still gets its answer, and its kept-alive connection stays
//! usable or is closed in a way the client sees: a client must always be able to tell whether
//! its POST was taken.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;

use shaozi_server::auth::Limits;
use shaozi_tests::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_over_the_limit_is_answered_never_dropped() {
    let s = TestServer::start_with(Limits {
        rate_per_sec: 200.0,
        burst: 50.0,
        streams: 16,
    })
    .await;
    let city = s.small_city().await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("{}/api/v1/whistles", s.base);
    let body = json!({"community_id": city.communities[0], "category": "sanitation",
                      "urgency": "normal", "title": "限流中", "description": "x".repeat(3000)});
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (mut answered, mut lost, mut limited) = (0, Vec::new(), 0);
            for _ in 0..600 {
                match client
                    .post(&url)
                    .bearer_auth(shaozi_tests::TOKEN)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => {
                        answered += 1;
                        if r.status() == 429 {
                            limited += 1;
                        }
                        let _ = r.bytes().await;
                    }
                    Err(e) => lost.push(format!("{e:?}")),
                }
            }
            (answered, lost, limited)
        }));
    }
    let (mut answered, mut lost, mut limited) = (0, Vec::new(), 0);
    for t in tasks {
        let (a, l, n) = t.await.unwrap();
        answered += a;
        lost.extend(l);
        limited += n;
    }
    println!(
        "{answered} answered ({limited} of them 429), {} lost",
        lost.len()
    );
    assert!(limited > 500, "the limit was not reached: {limited}");
    assert!(
        lost.is_empty(),
        "{} requests had no answer: {:?}",
        lost.len(),
        lost.first()
    );
}

/// Clients keep idle connections longer than a server's header timeout (reqwest 90 s, the
/// server's 10 s): one that waits out a 429's Retry-After and sends again on its kept-alive
/// connection just as the server gives up on it lost that request, unanswered. The head's
/// timeout now runs from its first byte, and idle connections are kept for two minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_never_closed_under_a_request_arriving_on_it() {
    // A short header timeout stands for the 10 s one, so the test waits about as long.
    let s = TestServer::start_impatient(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder().build().unwrap();
    let url = format!("{}/api/v1/streets", s.base);
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lost = Vec::new();
            for i in 0..60u64 {
                let sent = client
                    .post(&url)
                    .bearer_auth(shaozi_tests::TOKEN)
                    .json(&json!({"name": format!("街道 {t}-{i}")}))
                    .send()
                    .await;
                match sent {
                    Ok(r) => assert_eq!(r.status(), 201),
                    Err(e) => lost.push(format!("{e:?}")),
                }
                // Idle for about the server's header timeout, either side of it.
                let wait = 190_000 + (t * 977 + i * 631) % 25_000;
                tokio::time::sleep(Duration::from_micros(wait)).await;
            }
            lost
        }));
    }
    let mut lost = Vec::new();
    for t in tasks {
        lost.extend(t.await.unwrap());
    }
    assert!(
        lost.is_empty(),
        "{} of 960 requests had no answer: {:?}",
        lost.len(),
        lost.first()
    );
    let streets = s.get("/api/v1/streets").await;
    assert_eq!(streets.body.as_array().map(Vec::len), Some(960));
}
