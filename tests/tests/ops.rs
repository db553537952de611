//! What an operator's tools read: `/metrics` parsed by an independent parser of the
//! Prometheus text format, its figures moving as requests run; `/readyz` and `/healthz`.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::Method;
use serde_json::json;

use shaozi_tests::receiver::{Receiver, Reply};
use shaozi_tests::TestServer;

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

/// `/metrics`, checked and parsed.
async fn scrape(s: &TestServer) -> Exposition {
    let res = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("not the Prometheus text format: {e:?}\n{text}"))
}

/// The sample of `family` with exactly these labels (among others it may have), as a number;
/// a histogram's count. 0 when there is no such sample.
fn value(m: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    let f = m
        .families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family}"));
    for s in f.iter_samples() {
        let set = s.get_labelset().unwrap();
        if labels
            .iter()
            .all(|(k, v)| set.get_label_value(k) == Some(*v))
        {
            return match &s.value {
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(s) => s.count.unwrap_or(0) as f64,
            };
        }
    }
    0.0
}

fn kind(m: &Exposition, family: &str) -> PrometheusType {
    m.families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family}"))
        .family_type
        .clone()
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move_as_requests_run() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let before = scrape(&s).await;
    for (family, want) in [
        ("shaozi_http_requests_total", PrometheusType::Counter),
        (
            "shaozi_http_request_duration_seconds",
            PrometheusType::Histogram,
        ),
        ("shaozi_writer_batch_commands", PrometheusType::Histogram),
        (
            "shaozi_writer_commit_duration_seconds",
            PrometheusType::Histogram,
        ),
        ("shaozi_writer_batches_total", PrometheusType::Counter),
        ("shaozi_whistles", PrometheusType::Gauge),
        ("shaozi_whistles_overdue", PrometheusType::Gauge),
        ("shaozi_event_stream_subscribers", PrometheusType::Gauge),
        ("shaozi_store_size_bytes", PrometheusType::Gauge),
        ("shaozi_log_head_sequence", PrometheusType::Gauge),
        ("shaozi_ready", PrometheusType::Gauge),
    ] {
        assert_eq!(kind(&before, family), want, "{family}");
    }
    assert!(value(&before, "shaozi_store_size_bytes", &[]) > 0.0);
    assert_eq!(value(&before, "shaozi_ready", &[]), 1.0);
    // The city was built through the API: its creates are counted by route pattern.
    assert_eq!(
        value(
            &before,
            "shaozi_http_requests_total",
            &[
                ("route", "/api/v1/communities"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        city.communities.len() as f64
    );

    // Traffic: three whistles, one dispatched, one step refused, a wrong path, a stream.
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            s.whistle(
                &city.communities[0],
                "sanitation",
                "normal",
                &format!("垃圾{i}"),
            )
            .await,
        );
    }
    let d = s
        .post(
            &format!("/api/v1/whistles/{}/dispatch", ids[0]),
            json!({"department_id": city.departments[0]}),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    let refused = s
        .post(
            &format!("/api/v1/whistles/{}/resolve", ids[1]),
            json!({"reply": "好了"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(s.get("/no/such/thing").await.status, 404);
    let stream = s.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let hook = Receiver::start(Reply::Status(503, "busy".into()))
        .await
        .unwrap();
    let sub = s
        .ok(
            "/api/v1/webhooks",
            json!({"name": "值班室 \"夜班\"", "url": hook.url, "events": ["whistle.created"]}),
            201,
        )
        .await;
    s.whistle(&city.communities[1], "sanitation", "urgent", "又一件")
        .await;

    let after = scrape(&s).await;
    let diff = |family: &str, labels: &[(&str, &str)]| {
        value(&after, family, labels) - value(&before, family, labels)
    };
    assert_eq!(diff("shaozi_whistles", &[("status", "new")]), 3.0);
    assert_eq!(diff("shaozi_whistles", &[("status", "dispatched")]), 1.0);
    assert_eq!(
        value(&after, "shaozi_whistles", &[("status", "closed")]),
        0.0
    );
    assert_eq!(
        diff(
            "shaozi_http_requests_total",
            &[
                ("route", "/api/v1/whistles"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        4.0
    );
    let step = "/api/v1/whistles/{id}/dispatch";
    assert_eq!(
        diff(
            "shaozi_http_requests_total",
            &[("route", step), ("method", "POST"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        diff(
            "shaozi_http_requests_total",
            &[
                ("route", "/api/v1/whistles/{id}/resolve"),
                ("status", "409")
            ]
        ),
        1.0
    );
    assert_eq!(
        diff(
            "shaozi_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        diff("shaozi_http_request_duration_seconds", &[("route", step)]),
        1.0,
        "one dispatch timed"
    );
    assert_eq!(diff("shaozi_event_stream_subscribers", &[]), 1.0);
    assert!(diff("shaozi_writer_batches_total", &[("outcome", "committed")]) >= 5.0);
    assert!(diff("shaozi_writer_batch_commands", &[]) >= 5.0);
    assert!(diff("shaozi_writer_commit_duration_seconds", &[]) >= 5.0);
    assert!(diff("shaozi_log_head_sequence", &[]) >= 5.0);
    assert_eq!(
        value(
            &after,
            "shaozi_writer_batches_total",
            &[("outcome", "failed")]
        ),
        0.0
    );

    // The subscription's lag: its receiver answers 503, so the new whistle waits.
    let id = sub["id"].as_str().unwrap();
    let labels = [("subscription", id)];
    // The name's quotes are escaped as the format says (this parser keeps escapes as written).
    let set = after.families["shaozi_webhook_lag_events"]
        .iter_samples()
        .next()
        .unwrap()
        .get_labelset()
        .unwrap()
        .get_label_value("name")
        .map(str::to_string);
    assert_eq!(set.as_deref(), Some(r#"值班室 \"夜班\""#));
    assert_eq!(
        kind(&after, "shaozi_webhook_lag_events"),
        PrometheusType::Gauge
    );
    assert!(value(&after, "shaozi_webhook_lag_events", &labels) >= 1.0);
    hook.wait_for(Duration::from_secs(10), |seen| !seen.is_empty())
        .await;
    // The receiver has seen the request before the server has read its 503 and noted the
    // failure, so the failure shows a moment later: wait for it rather than race it.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while value(&scrape(&s).await, "shaozi_webhook_failures", &labels) < 1.0 {
        assert!(
            std::time::Instant::now() < until,
            "the receiver's 503 never counted as a failure"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Once the receiver answers, the lag goes back to 0.
    hook.set(Reply::ok());
    let until = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let m = scrape(&s).await;
        if value(&m, "shaozi_webhook_lag_events", &labels) == 0.0 {
            assert_eq!(value(&m, "shaozi_webhook_failures", &labels), 0.0);
            assert!(
                value(
                    &m,
                    "shaozi_webhook_last_delivery_timestamp_seconds",
                    &labels
                ) > 0.0
            );
            break;
        }
        assert!(std::time::Instant::now() < until, "the lag never went down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stream);
}

#[tokio::test]
async fn metrics_behind_a_token_ask_for_it() {
    let s = TestServer::start_custom(|c| c.metrics_token = Some("m3tr1cs".into())).await;
    let url = format!("{}/metrics", s.base);
    let none = s.client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("metrics token"),
        "{body}"
    );
    let wrong = s.client.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // The admin token is not the metrics token.
    let admin = s.req(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(admin.status(), 401);
    let right = s
        .client
        .get(&url)
        .bearer_auth("m3tr1cs")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    parse_prometheus(&right.text().await.unwrap()).unwrap();
}

#[tokio::test]
async fn readyz_says_the_store_takes_writes_and_healthz_stays_liveness() {
    let s = TestServer::start().await;
    let r = s
        .client
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let h = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    assert_eq!(h.text().await.unwrap(), "ok");
    // A probe writes nothing: the log does not move.
    let head = s.get("/api/v1/stats").await.body["last_seq"].clone();
    for _ in 0..5 {
        let r = s
            .client
            .get(format!("{}/readyz", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(s.get("/api/v1/stats").await.body["last_seq"], head);
}

#[tokio::test]
async fn many_readiness_probes_share_one_proof_and_anonymous_callers_are_limited() {
    let s = TestServer::start().await;
    let committed = |m: &Exposition| {
        value(
            m,
            "shaozi_writer_batches_total",
            &[("outcome", "committed")],
        )
    };
    let before = committed(&scrape(&s).await);
    // Six clients probing as fast as they can for a moment: each answered 200, while the
    // writer commits an empty batch about once a second for all of them.
    let started = std::time::Instant::now();
    let mut probes = Vec::new();
    for _ in 0..6 {
        let (client, url) = (s.client.clone(), format!("{}/readyz", s.base));
        probes.push(tokio::spawn(async move {
            let mut n = 0;
            while started.elapsed() < Duration::from_millis(1500) {
                let r = client.get(&url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                n += 1;
            }
            n
        }));
    }
    let mut answered = 0;
    for p in probes {
        answered += p.await.unwrap();
    }
    let commits = committed(&scrape(&s).await) - before;
    println!("{answered} probes in 1.5 s took {commits} writer commits");
    assert!(answered > 50, "{answered}");
    assert!(commits <= 3.0, "{commits} commits for {answered} probes");

    // Limited per address like every anonymous request.
    let limited = TestServer::start_public(shaozi_tests::PublicLimits {
        anon_rate_per_sec: 2.0,
        failures_per_min: 5.0,
        ..shaozi_tests::PublicLimits::off()
    })
    .await;
    for path in ["/readyz", "/metrics"] {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let r = limited
                .client
                .get(format!("{}{path}", limited.base))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        // One allowance per address for both (the first path spent it).
        assert!(statuses.contains(&429), "{path}: {statuses:?}");
        if path == "/readyz" {
            assert_eq!(statuses[0], 200, "{path}");
        }
    }
}

#[tokio::test]
async fn wrong_metrics_tokens_count_as_failed_keys_and_the_scheme_is_case_blind() {
    let s = TestServer::start_custom(|c| {
        c.metrics_token = Some("m3tr1cs".into());
        c.public.failures_per_min = 5.0;
    })
    .await;
    let url = format!("{}/metrics", s.base);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let r = s
            .client
            .get(&url)
            .bearer_auth(format!("guess-{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[0], 401);
    assert!(statuses.contains(&429), "{statuses:?}");
    // `bearer` in lower case is the same scheme, here as on /api/v1.
    let other = TestServer::start_custom(|c| c.metrics_token = Some("m3tr1cs".into())).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = other
            .client
            .get(format!("{}/metrics", other.base))
            .header("authorization", format!("{scheme} m3tr1cs"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
        let api = other
            .client
            .get(format!("{}/api/v1/me", other.base))
            .header("authorization", format!("{scheme} {}", shaozi_tests::TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 200, "{scheme}");
    }
}
