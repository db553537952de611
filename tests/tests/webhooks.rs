//! Webhooks end to end: a real server on a real store, subscriptions made over HTTP, and real
//! receivers on 127.0.0.1 (healthy, failing then healthy, hanging, a robot). What each got is
//! compared with the log as the event stream serves it.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use shaozi_tests::receiver::{Receiver, Reply, Seen};
use shaozi_tests::{City, TestServer};

const WAIT: Duration = Duration::from_secs(20);

/// The log after `after` as `token` may read it, as (seq, event JSON).
async fn log_as(s: &TestServer, token: Option<&str>, after: u64) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        let path = format!("/api/v1/events?after={after}&limit=1000");
        let rb = match token {
            Some(t) => s.req_as(t, Method::GET, &path),
            None => s.req(Method::GET, &path),
        };
        let page = TestServer::send(rb.header("accept", "application/json")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for e in page.body["items"].as_array().unwrap() {
            out.push((e["seq"].as_u64().unwrap(), e.clone()));
        }
        after = page.body["after"].as_u64().unwrap();
        if !page.body["more"].as_bool().unwrap() {
            return out;
        }
    }
}

fn head(s: &Value) -> u64 {
    s["health"]["head_seq"].as_u64().unwrap()
}

async fn subscribe(s: &TestServer, body: Value) -> Value {
    s.ok("/api/v1/webhooks", body, 201).await
}

/// A subscription as `path` answers it, once its health satisfies `done` (or after `WAIT`).
async fn health_until(
    s: &TestServer,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> shaozi_tests::Answer {
    let until = std::time::Instant::now() + WAIT;
    loop {
        let h = s.get(path).await;
        if done(&h.body["health"]) || std::time::Instant::now() > until {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Files and moves some whistles: about 3 events each.
async fn traffic(s: &TestServer, city: &City, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let c = &city.communities[i % city.communities.len()];
        let id = s
            .whistle(c, "sanitation", "normal", &format!("垃圾堆放 {i}"))
            .await;
        s.dispatch(&id, &city.departments[i % 2]).await;
        ids.push(id);
    }
    ids
}

/// The webhook-ids a receiver got, as numbers, in arrival order.
fn ids(seen: &[Seen]) -> Vec<u64> {
    seen.iter()
        .map(|r| r.header("webhook-id").unwrap().parse().unwrap())
        .collect()
}

/// Checks deliveries against the log: in order, none missing, and any repeat is the same
/// event under the same id.
fn in_order_none_missing(seen: &[Seen], want: &[(u64, Value)]) {
    let mut firsts = Vec::new();
    let mut by_id = std::collections::HashMap::new();
    for r in seen {
        let id: u64 = r.header("webhook-id").unwrap().parse().unwrap();
        match by_id.get(&id) {
            Some(body) => assert_eq!(body, &r.body, "a repeat of {id} carries the same event"),
            None => {
                assert!(
                    firsts.last().is_none_or(|l| *l < id),
                    "event {id} arrived after a later one: {:?}",
                    ids(seen)
                );
                firsts.push(id);
                by_id.insert(id, r.body.clone());
            }
        }
    }
    let want_ids: Vec<u64> = want.iter().map(|(s, _)| *s).collect();
    assert_eq!(firsts, want_ids, "every event the scope may see, once each");
    for (seq, e) in want {
        let got: Value = serde_json::from_slice(&by_id[seq]).unwrap();
        assert_eq!(&got, e, "event {seq} as the event stream carries it");
    }
}

#[tokio::test]
async fn a_healthy_receiver_gets_every_event_in_order_signed_as_standard_webhooks_say() {
    let s = TestServer::start().await;
    // The receiver checks timestamps against its own clock.
    s.clock.advance(chrono::Utc::now() - s.clock.now_utc());
    let city = s.small_city().await;
    let r = Receiver::start(Reply::Status(204, String::new()))
        .await
        .unwrap();
    let hook = subscribe(
        &s,
        json!({"name": "城市运行中心", "url": r.url, "events": ["*"]}),
    )
    .await;
    let key = hook["secret"].as_str().unwrap().to_string();
    assert!(key.starts_with("whsec_"), "{hook}");
    let from = head(&hook);
    traffic(&s, &city, 15).await;
    let want = log_as(&s, None, from).await;
    assert_eq!(want.len(), 30, "a create and a dispatch each");
    let last = want.last().unwrap().0;
    let seen = r.wait_for(WAIT, |seen| ids(seen).contains(&last)).await;
    in_order_none_missing(&seen, &want);
    let verifier = standardwebhooks::Webhook::new(&key).unwrap();
    for got in &seen {
        let mut headers = reqwest::header::HeaderMap::new();
        for k in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            headers.insert(k, got.header(k).unwrap().parse().unwrap());
        }
        verifier
            .verify(&got.body, &headers)
            .expect("the Standard Webhooks library verifies every delivery");
        assert_eq!(got.target, "/hook?key=k1");
    }
    // Health: caught up (once the last answer is back), no failures; the key is not shown
    // again, nor the URL's key.
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let h = health_until(&s, &path, |h| h["delivered_seq"] == json!(last)).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body["health"]["delivered_seq"], json!(last), "{}", h.body);
    assert_eq!(h.body["health"]["lag"], json!(0));
    assert_eq!(h.body["health"]["failures"], json!(0));
    assert!(h.body["health"]["last_delivered_at"].is_string());
    assert!(h.body.get("secret").is_none());
    assert!(
        h.body["url"].as_str().unwrap().ends_with("/hook?key=…"),
        "{}",
        h.body
    );
    assert!(!h.body.to_string().contains(&key));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_answers_and_nothing_is_skipped() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    // Fails its first five requests with 503: the first event is tried six times.
    let r = Receiver::start_failing(Reply::ok(), 5).await.unwrap();
    let hook = subscribe(
        &s,
        json!({"name": "值班", "url": r.url, "events": ["whistle.created", "whistle.dispatched"]}),
    )
    .await;
    let from = head(&hook);
    traffic(&s, &city, 6).await;
    let want: Vec<(u64, Value)> = log_as(&s, None, from)
        .await
        .into_iter()
        .filter(|(_, e)| {
            matches!(
                e["type"].as_str(),
                Some("whistle.created" | "whistle.dispatched")
            )
        })
        .collect();
    assert_eq!(want.len(), 12);
    let last = want.last().unwrap().0;
    let seen = r.wait_for(WAIT, |seen| ids(seen).contains(&last)).await;
    let got = ids(&seen);
    assert_eq!(
        &got[..6],
        &[want[0].0; 6],
        "the first event six times: {got:?}"
    );
    in_order_none_missing(&seen, &want);
    let h = s
        .get(&format!(
            "/api/v1/webhooks/{}",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(h.body["health"]["failures"], json!(0), "{}", h.body);
    assert!(h.body["health"]["last_error"].is_null());
}

#[tokio::test]
async fn a_hanging_receiver_holds_up_only_its_own_subscription() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let hang = Receiver::start(Reply::Hang).await.unwrap();
    let fine = Receiver::start(Reply::ok()).await.unwrap();
    let stuck = subscribe(
        &s,
        json!({"name": "挂起", "url": hang.url, "events": ["*"]}),
    )
    .await;
    let healthy = subscribe(
        &s,
        json!({"name": "正常", "url": fine.url, "events": ["*"]}),
    )
    .await;
    let from = head(&healthy);
    traffic(&s, &city, 10).await;
    let want = log_as(&s, None, from).await;
    let last = want.last().unwrap().0;
    let seen = fine.wait_for(WAIT, |seen| ids(seen).contains(&last)).await;
    in_order_none_missing(&seen, &want);
    // The hanging one was given up on after its time (2 s here, 10 s by default), counted
    // as a failure, and is still on its first event.
    let path = format!("/api/v1/webhooks/{}", stuck["id"].as_str().unwrap());
    let h = health_until(&s, &path, |h| h["failures"].as_u64().unwrap_or(0) >= 1).await;
    assert!(
        h.body["health"]["failures"].as_u64().unwrap() >= 1,
        "{}",
        h.body
    );
    assert_eq!(h.body["health"]["last_error"], json!("no answer in time"));
    assert_eq!(h.body["health"]["last_failure"], json!({"kind": "timeout"}));
    assert!(h.body["health"]["next_retry_at"].is_string());
    assert_eq!(h.body["health"]["delivered_seq"], json!(head(&stuck)));
    assert_eq!(
        h.body["health"]["lag"].as_u64().unwrap(),
        last - head(&stuck)
    );
    assert!(ids(&hang.seen()).iter().all(|id| *id == want[0].0));
    // Writes went on meanwhile: the whistles are all there.
    assert_eq!(
        s.get("/api/v1/whistles?limit=100").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn a_day_of_failures_pauses_it_visibly_until_resumed_then_it_carries_on() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let r = Receiver::start(Reply::Status(500, r#"{"oops":1}"#.into()))
        .await
        .unwrap();
    let hook = subscribe(
        &s,
        json!({"name": "群", "url": r.url, "events": ["whistle.created"]}),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let w = s
        .whistle(&city.communities[0], "sanitation", "normal", "井盖缺失")
        .await;
    r.wait_for(WAIT, |seen| seen.len() >= 2).await;
    let h = s.get(&path).await;
    assert!(
        h.body["health"]["last_error"]
            .as_str()
            .unwrap()
            .contains("answered 500"),
        "{}",
        h.body
    );
    assert_eq!(
        h.body["health"]["last_failure"],
        json!({"kind": "status", "status": 500})
    );
    assert_eq!(h.body["health"]["paused"], json!(false));
    // A day later (the server's clock), the next failure pauses it.
    s.clock.advance(chrono::Duration::hours(25));
    let h = health_until(&s, &path, |h| h["paused"] == json!(true)).await;
    assert_eq!(h.body["health"]["paused"], json!(true), "{}", h.body);
    assert!(h.body["health"]["paused_at"].is_string());
    let listed = s.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["items"][0]["health"]["paused"], json!(true));
    // Paused: nothing more is tried.
    let n = r.count();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(r.count(), n, "a paused subscription sends nothing");
    // The receiver is fixed; resume: the held event goes out at once, then the rest.
    r.set(Reply::ok());
    let w2 = s
        .whistle(&city.communities[1], "sanitation", "normal", "路灯不亮")
        .await;
    let resumed = s.ok(&format!("{path}/resume"), json!({}), 200).await;
    assert_eq!(resumed["health"]["paused"], json!(false), "{resumed}");
    let seen = r
        .wait_for(WAIT, |seen| {
            seen.iter().any(|x| x.json()["subject"] == json!(w2))
        })
        .await;
    let subjects: Vec<Value> = seen
        .iter()
        .skip(n)
        .map(|x| x.json()["subject"].clone())
        .collect();
    assert_eq!(subjects, vec![json!(w), json!(w2)]);
    let h = s.get(&path).await;
    assert_eq!(h.body["health"]["failures"], json!(0));
    assert_eq!(h.body["health"]["paused"], json!(false));
    assert_eq!(h.body["health"]["last_failure"], Value::Null);
}

#[tokio::test]
async fn a_department_subscribes_within_its_scope_and_never_sees_another_units_events() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let dept = s
        .token(
            "department",
            json!({"department_id": city.departments[0]}),
            "城管联络员",
        )
        .await;
    let viewer = s.token("viewer", json!({}), "大屏").await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let body = json!({"name": "城管值班", "url": r.url, "events": ["*"]});
    // A department may not subscribe for the city, nor a viewer at all.
    let a =
        TestServer::send(s.req_as(&dept, Method::POST, "/api/v1/webhooks").json(
            &json!({"name": "全市", "url": r.url, "events": ["*"], "scope": {"kind": "city"}}),
        ))
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = TestServer::send(
        s.req_as(&viewer, Method::POST, "/api/v1/webhooks")
            .json(&body),
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = TestServer::send(
        s.req_as(&dept, Method::POST, "/api/v1/webhooks")
            .json(&body),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        a.body["scope"],
        json!({"kind": "department", "id": city.departments[0]})
    );
    let from = head(&a.body);
    // The admin's own subscription is not the department's to see.
    let admins = subscribe(
        &s,
        json!({"name": "总台", "url": r.url, "events": ["token.created"]}),
    )
    .await;
    let listed = TestServer::send(s.req_as(&dept, Method::GET, "/api/v1/webhooks")).await;
    let listed: Vec<&Value> = listed.body["items"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], a.body["id"]);
    let other = TestServer::send(s.req_as(
        &dept,
        Method::GET,
        &format!("/api/v1/webhooks/{}", admins["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(other.status, 404);
    traffic(&s, &city, 8).await;
    s.token("viewer", json!({}), "另一块大屏").await;
    let want = log_as(&s, Some(&dept), from).await;
    assert!(!want.is_empty());
    let last = want.last().unwrap().0;
    let seen = r
        .wait_for(WAIT, |seen| {
            ids(seen).contains(&last)
                && seen
                    .iter()
                    .any(|x| x.json()["type"] == json!("token.created"))
        })
        .await;
    let mine: Vec<Seen> = seen
        .iter()
        .filter(|x| x.json()["type"] != json!("token.created"))
        .cloned()
        .collect();
    in_order_none_missing(&mine, &want);
    for x in &mine {
        let e = x.json();
        assert!(
            e["scope"]["departments"]
                .as_array()
                .unwrap()
                .contains(&json!(city.departments[0])),
            "only its own department's cases: {e}"
        );
    }
    // The admin's city-wide subscription got the token's issue; the department's did not.
    let tokens: Vec<&Seen> = seen
        .iter()
        .filter(|x| x.json()["type"] == json!("token.created"))
        .collect();
    assert_eq!(tokens.len(), 1);
}

#[tokio::test]
async fn robots_get_their_own_messages_and_dingtalk_urls_are_signed() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let wecom = Receiver::start(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into()))
        .await
        .unwrap();
    let ding = Receiver::start(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into()))
        .await
        .unwrap();
    let w = subscribe(
        &s,
        json!({"name": "街道群", "url": wecom.url, "events": ["whistle.dispatched"], "format": "wecom"}),
    )
    .await;
    assert!(w["secret"].is_null());
    let d = subscribe(
        &s,
        json!({"name": "钉钉群", "url": ding.url, "events": ["whistle.dispatched"], "format": "dingtalk", "secret": "SEC0123456789abcdef"}),
    )
    .await;
    assert_eq!(d["signed"], json!(true));
    assert!(d["secret"].is_null(), "a robot's secret is not shown back");
    // Directory events are not for robots; the dispatch is.
    s.ok("/api/v1/streets", json!({"name": "新街道"}), 201)
        .await;
    let id = s
        .whistle(&city.communities[0], "sanitation", "normal", "垃圾满溢")
        .await;
    s.dispatch(&id, &city.departments[0]).await;
    let got = wecom.wait_for(WAIT, |seen| !seen.is_empty()).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["msgtype"], json!("markdown"));
    let text = body["markdown"]["content"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("**【派单】{id} 垃圾满溢**")),
        "{text}"
    );
    assert!(text.contains("朝阳路社区 · 市城管局"), "{text}");
    assert!(got[0].header("webhook-signature").is_none());
    let got = ding.wait_for(WAIT, |seen| !seen.is_empty()).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["msgtype"], json!("markdown"));
    assert!(body["markdown"]["title"].as_str().unwrap().contains(&id));
    let target = &got[0].target;
    assert!(target.starts_with("/hook?key=k1&timestamp="), "{target}");
    assert!(target.contains("&sign="), "{target}");
}

#[tokio::test]
async fn bad_subscriptions_are_refused_naming_the_field_and_test_and_delete_work() {
    let s = TestServer::start().await;
    let refused = [
        (
            json!({"name": "x", "url": "ftp://example.org/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "not a url", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": []}),
            "events",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["whistle.exploded"]}),
            "events",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["*"], "format": "wecom", "secret": "abc"}),
            "secret",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["*"], "format": "dingtalk", "secret": "abc"}),
            "secret",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "whsec_!!"}),
            "secret",
        ),
        (
            json!({"name": "", "url": "http://127.0.0.1:9/x", "events": ["*"]}),
            "name",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["*"], "scope": {"kind": "department", "id": "D99"}}),
            "scope",
        ),
    ];
    for (body, field) in refused {
        let a = s.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(a.status, 422, "{body} → {}", a.body);
        assert_eq!(a.body["field"], json!(field), "{body} → {}", a.body);
    }
    assert!(
        s.get("/api/v1/webhooks").await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing half-made"
    );
    let up = Receiver::start(Reply::ok()).await.unwrap();
    let down = Receiver::start(Reply::Status(410, "{}".into()))
        .await
        .unwrap();
    let a = subscribe(&s, json!({"name": "通", "url": up.url, "events": ["*"]})).await;
    let b = subscribe(
        &s,
        json!({"name": "不通", "url": down.url, "events": ["*"]}),
    )
    .await;
    let t = s
        .ok(
            &format!("/api/v1/webhooks/{}/test", a["id"].as_str().unwrap()),
            json!({}),
            200,
        )
        .await;
    assert_eq!(t["delivered"], json!(true), "{t}");
    assert_eq!(t["failure"], Value::Null);
    let seen = up.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json()["type"], json!("webhook.test"));
    assert_eq!(seen[0].header("webhook-id"), Some("0"));
    let t = s
        .ok(
            &format!("/api/v1/webhooks/{}/test", b["id"].as_str().unwrap()),
            json!({}),
            200,
        )
        .await;
    assert_eq!(t["delivered"], json!(false));
    assert_eq!(t["status"], json!(410));
    assert_eq!(t["failure"], json!({"kind": "status", "status": 410}));
    // Deleted: gone from the list, nothing more sent.
    let path = format!("/api/v1/webhooks/{}", a["id"].as_str().unwrap());
    let d = TestServer::send(s.req(Method::DELETE, &path)).await;
    assert_eq!(d.status, 204);
    assert_eq!(s.get(&path).await.status, 404);
    let d = TestServer::send(s.req(Method::DELETE, &path)).await;
    assert_eq!(d.status, 404);
    s.ok("/api/v1/streets", json!({"name": "又一街道"}), 201)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(up.count(), 1, "a deleted subscription gets nothing more");
    let listed: BTreeSet<String> = s.get("/api/v1/webhooks").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([b["id"].as_str().unwrap().to_string()])
    );
}

#[tokio::test]
async fn a_restart_delivers_from_the_cursor_what_the_receiver_missed_in_order() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let hook = subscribe(&s, json!({"name": "归档", "url": r.url, "events": ["*"]})).await;
    let from = head(&hook);
    traffic(&s, &city, 4).await;
    let before = log_as(&s, None, from).await;
    let last = before.last().unwrap().0;
    r.wait_for(WAIT, |seen| ids(seen).contains(&last)).await;
    // The receiver goes down; events go on; the server restarts meanwhile.
    r.set(Reply::Status(502, "{}".into()));
    traffic(&s, &city, 4).await;
    let s = s.restart().await;
    traffic(&s, &city, 2).await;
    r.set(Reply::ok());
    let want = log_as(&s, None, from).await;
    let last = want.last().unwrap().0;
    let seen: Vec<Seen> = r
        .wait_for(WAIT, |seen| ids(seen).contains(&last))
        .await
        .into_iter()
        .filter(|x| x.json()["type"].is_string() && x.header("webhook-id").is_some())
        .collect();
    // Attempts it answered 502 are repeats under the same id; the first of each is in order.
    in_order_none_missing(&seen, &want);
}

#[tokio::test]
async fn a_stopping_server_waits_for_the_answer_to_what_it_sent_so_nothing_goes_twice() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    // A robot's group chat cannot drop a repeat: a restart must not send a message twice.
    let r = Receiver::start(Reply::Slow(Duration::from_millis(600)))
        .await
        .unwrap();
    let hook = subscribe(
        &s,
        json!({"name": "值班群", "url": r.url, "events": ["whistle.created"]}),
    )
    .await;
    let first = s
        .whistle(&city.communities[0], "sanitation", "normal", "垃圾满溢")
        .await;
    // The request is out and its answer on the way when the server is told to stop.
    r.wait_for(WAIT, |seen| !seen.is_empty()).await;
    let s = s.restart().await;
    r.set(Reply::ok());
    let second = s
        .whistle(&city.communities[1], "sanitation", "normal", "路灯不亮")
        .await;
    let seen = r
        .wait_for(WAIT, |seen| {
            seen.iter().any(|x| x.json()["subject"] == json!(second))
        })
        .await;
    // Delivered in order, so a repeat of the first would come before the second.
    let subjects: Vec<Value> = seen.iter().map(|x| x.json()["subject"].clone()).collect();
    assert_eq!(subjects, vec![json!(first), json!(second)]);
    let h = s
        .get(&format!(
            "/api/v1/webhooks/{}",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(h.body["health"]["failures"], json!(0), "{}", h.body);
}

/// Every byte the store keeps about webhooks: sled's trees, or PostgreSQL's table.
fn stored_hooks(data: &std::path::Path) -> String {
    let url = data.to_string_lossy().to_string();
    if shaozi_server::pg::is_url(&url) {
        return std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.query("SELECT json FROM webhooks", &[])
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .join()
        .unwrap();
    }
    let db = sled::open(data).unwrap();
    let tree = db.open_tree("hooks").unwrap();
    tree.iter()
        .map(|r| String::from_utf8_lossy(&r.unwrap().1).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_secret_is_sealed_at_rest_with_the_servers_key_and_a_server_without_it_holds_the_event() {
    const KEY: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";
    let (dir, data, db) = TestServer::fresh();
    let clock = std::sync::Arc::new(shaozi_server::clock::ManualClock::new(chrono::Utc::now()));
    let mut s = TestServer::start_keyed(&data, clock.clone(), Some(KEY)).await;
    let city = s.small_city().await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let hook = subscribe(
        &s,
        json!({"name": "加密", "url": r.url, "events": ["whistle.created"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    s.stop().await;
    let stored = stored_hooks(&data);
    assert!(stored.contains("sealed:v1:"), "{stored}");
    assert!(
        !stored.contains(secret.trim_start_matches("whsec_")),
        "the key is not at rest"
    );

    // A server without the key cannot sign: the event waits, and the health says why.
    let mut s = TestServer::start_keyed(&data, clock.clone(), None).await;
    let w = s
        .whistle(&city.communities[0], "sanitation", "normal", "密钥")
        .await;
    let h = health_until(&s, &path, |h| h["failures"].as_u64().unwrap_or(0) > 0).await;
    assert!(
        h.body["health"]["last_error"]
            .as_str()
            .unwrap()
            .contains("SHAOZI_WEBHOOK_KEY"),
        "{}",
        h.body
    );
    assert_eq!(h.body["health"]["last_failure"], json!({"kind": "secret"}));
    assert_eq!(r.count(), 0);
    s.stop().await;

    // With the key again, the held event goes out, signed with the key made at the start.
    let mut s = TestServer::start_keyed(&data, clock, Some(KEY)).await;
    s.keep(dir, db);
    let seen = r.wait_for(WAIT, |seen| !seen.is_empty()).await;
    assert_eq!(seen[0].json()["subject"], json!(w));
    let mut headers = reqwest::header::HeaderMap::new();
    for k in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(k, seen[0].header(k).unwrap().parse().unwrap());
    }
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&seen[0].body, &headers)
        .expect("signed with the key shown at creation");
    s.stop().await;
}
