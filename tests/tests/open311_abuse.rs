//! Open311 needs no token to read, so it is where an attacker starts (issue 12): stalled
//! bodies, floods from one address, guessing keys. Each as it was tried.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use shaozi_tests::{PublicLimits, TestServer};

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Sends a request's headers and the start of a body that promises far more, then waits for
/// whatever the server says, and whether it closed the connection.
fn stall(addr: &str, path: &str, headers: &str, start: &str) -> (String, Duration) {
    let began = Instant::now();
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        c,
        "POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 100000\r\n\r\n{start}"
    )
    .expect("write");
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    // Read until the server closes: a server that answered and kept waiting would time out.
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => {
                answer.push_str("\n<no close>");
                break;
            }
        }
    }
    (answer, began.elapsed())
}

#[tokio::test]
async fn stalled_bodies_get_408_and_a_closed_connection_on_every_route() {
    let s = TestServer::start().await;
    let a = addr(&s);
    let mut waits = Vec::new();
    for i in 0..60 {
        let a = a.clone();
        waits.push(tokio::task::spawn_blocking(move || {
            if i % 3 == 0 {
                stall(
                    &a,
                    "/api/v1/streets",
                    &format!(
                        "Content-Type: application/json\r\nAuthorization: Bearer {}\r\n",
                        shaozi_tests::TOKEN
                    ),
                    "{\"name\":\"",
                )
            } else {
                stall(
                    &a,
                    "/open311/v2/requests.json",
                    "Content-Type: application/x-www-form-urlencoded\r\n",
                    "api_key=",
                )
            }
        }));
    }
    for w in waits {
        let (answer, took) = w.await.expect("join");
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "a stalled body is told so: {answer}"
        );
        assert!(
            !answer.contains("<no close>"),
            "and the connection closed: {answer}"
        );
        assert!(
            took < Duration::from_secs(20),
            "within the body deadline (10 s), not {took:?}"
        );
    }
    // The server is fine afterwards.
    assert_eq!(s.get("/api/v1/stats").await.status, 200);
}

fn limited() -> PublicLimits {
    PublicLimits {
        anon_rate_per_sec: 5.0,
        failures_per_min: 10.0,
        ..PublicLimits::off()
    }
}

async fn get(s: &TestServer, path: &str, xff: Option<&str>) -> (u16, Option<String>) {
    let mut rb = s.client.get(format!("{}{path}", s.base));
    if let Some(x) = xff {
        rb = rb.header("X-Forwarded-For", x);
    }
    let res = rb.send().await.expect("request");
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (res.status().as_u16(), retry)
}

#[tokio::test]
async fn anonymous_reads_are_limited_per_address_and_a_spoofed_header_does_not_help() {
    let s = TestServer::start_public(limited()).await;
    let mut refused = 0;
    for i in 0..40 {
        // A client naming itself differently each time, with no proxy trusted.
        let (status, retry) = get(
            &s,
            "/open311/v2/services.json",
            Some(&format!("198.51.100.{i}")),
        )
        .await;
        if status == 429 {
            refused += 1;
            assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|n| n >= 1)));
        } else {
            assert_eq!(status, 200);
        }
    }
    assert!(
        refused >= 20,
        "bursts of 15 at 5 a second: {refused} of 40 refused"
    );
    // A token's requests are its own allowance, not the address's.
    assert_eq!(s.get("/api/v1/stats").await.status, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let s = TestServer::start_public(PublicLimits {
        trusted_proxies: vec!["127.0.0.1".parse().expect("net")],
        ..limited()
    })
    .await;
    for i in 0..40 {
        let (status, _) = get(
            &s,
            "/open311/v2/services.json",
            Some(&format!("6.6.6.6, 198.51.100.{i}")),
        )
        .await;
        assert_eq!(status, 200, "client {i} is over nobody's allowance");
    }
    // One client through the proxy is limited like any other; what it wrote itself (left of
    // the proxy's entry) does not change who it is.
    let mut refused = 0;
    for i in 0..40 {
        let (status, _) = get(
            &s,
            "/open311/v2/services.json",
            Some(&format!("10.9.9.{i}, 203.0.113.7")),
        )
        .await;
        refused += usize::from(status == 429);
    }
    assert!(refused >= 20, "{refused}");
}

#[tokio::test]
async fn wrong_keys_are_limited_and_no_answer_says_whose_a_key_is() {
    let s = TestServer::start_public(limited()).await;
    let city = s.small_city().await;
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "c1-app",
        )
        .await;
    let staff = s.token("dispatcher", json!({}), "调度值班张三").await;
    let form = |key: &str| {
        format!(
            "api_key={key}&service_code=roads&lat=28.55&long=112.35&description=%E4%BA%95%E7%9B%96&attribute%5Bhazard%5D=cover"
        )
    };
    let post = |body: String| {
        s.client
            .post(format!("{}/open311/v2/requests.json", s.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
    };
    // A staff token as api_key: refused without its name or role.
    let res = post(form(&staff)).send().await.expect("post");
    assert_eq!(res.status().as_u16(), 403);
    let text = res.text().await.expect("body");
    assert!(
        !text.contains("调度值班张三") && !text.contains("dispatcher"),
        "{text}"
    );
    assert!(text.contains("cannot report"), "{text}");
    // Wrong keys, one after another: refused, then refused faster.
    let mut statuses = Vec::new();
    for i in 0..600 {
        let res = post(form(&format!("{i:064x}"))).send().await.expect("post");
        statuses.push(res.status().as_u16());
    }
    let forbidden = statuses.iter().filter(|s| **s == 403).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        forbidden <= 10 && limited >= 590,
        "403 ×{forbidden}, 429 ×{limited}"
    );
    // A right key from the same address is not refused for the wrong ones (an office behind
    // one address): it reports as ever.
    let res = post(form(&community)).send().await.expect("post");
    assert_eq!(res.status().as_u16(), 201);
    // /api/v1's bearer tokens count the same way (the same address has failed enough), and a
    // right token is served.
    let a = TestServer::send(s.req_as("not-a-token", Method::GET, "/api/v1/me")).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(a.headers.contains_key("retry-after"));
    let ok = TestServer::send(s.req_as(&community, Method::GET, "/api/v1/me")).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn bearer_token_guesses_on_the_api_are_limited_too() {
    let s = TestServer::start_public(limited()).await;
    let mut statuses = Vec::new();
    for i in 0..50 {
        let a =
            TestServer::send(s.req_as(&format!("guess{i}"), Method::GET, "/api/v1/stats")).await;
        statuses.push(a.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40);
}

#[tokio::test]
async fn open311_pages_are_capped_and_searches_page_through_the_index() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let cat = ["roads", "lighting", "sanitation"][i % 3];
        ids.push(
            s.whistle(&city.communities[i % 3], cat, "normal", &format!("问题{i}"))
                .await,
        );
        s.clock.advance(chrono::Duration::seconds(20));
    }
    // Close every roads whistle but the last; a sparse filter still finds them in order.
    let d = &city.departments[0];
    for id in ids.iter().step_by(3).take(9) {
        s.ok(
            &format!("/api/v1/whistles/{id}/reject"),
            json!({"reason": "已处理"}),
            200,
        )
        .await;
    }
    let _ = d;
    let (status, _) = get(&s, "/open311/v2/requests.json?page_size=201", None).await;
    assert_eq!(status, 400, "page sizes are capped");
    let page = |q: &str| {
        let url = format!("{}/open311/v2/requests.json?{q}", s.base);
        let c = s.client.clone();
        async move {
            let v: serde_json::Value = c
                .get(url)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            v.as_array()
                .expect("list")
                .iter()
                .map(|r| {
                    r["service_request_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect::<Vec<_>>()
        }
    };
    let closed_roads: Vec<String> = ids.iter().step_by(3).take(9).rev().cloned().collect();
    let mut walked = Vec::new();
    for p in 1..=5 {
        walked.extend(
            page(&format!(
                "service_code=roads&status=closed&page_size=2&page={p}"
            ))
            .await,
        );
    }
    assert_eq!(
        walked, closed_roads,
        "newest first, each once, across pages"
    );
    let open_roads = page("service_code=roads&status=open").await;
    assert_eq!(open_roads, vec![ids[27].clone()]);
    // A window that starts and ends inside a minute takes exactly the whistles in it.
    let from = shaozi_tests::t0() + chrono::Duration::seconds(20 * 4 + 10);
    let to = shaozi_tests::t0() + chrono::Duration::seconds(20 * 10);
    let q = format!(
        "start_date={}&end_date={}&page_size=3",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let mut got = Vec::new();
    for p in 1..=3 {
        got.extend(page(&format!("{q}&page={p}")).await);
    }
    let want: Vec<String> = ids[5..10].iter().rev().cloned().collect();
    assert_eq!(got, want);
}
