//! What an attacker tried (issue 12), each as a scenario against a real server: revoked tokens
//! that kept streaming, scope leaks through the event log and the steps, and text that lies.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use shaozi_tests::TestServer;

/// Reads a token's event stream in the background: every event it delivers, until the server
/// ends it (or `limit` passes).
fn follow(s: &TestServer, token: &str, limit: Duration) -> tokio::task::JoinHandle<Vec<Value>> {
    let rb = s
        .req_as(token, Method::GET, "/api/v1/events")
        .header("Last-Event-ID", "0");
    tokio::spawn(async move {
        let mut got = Vec::new();
        let Ok(res) = rb.send().await else {
            return got;
        };
        assert_eq!(res.status().as_u16(), 200);
        let mut events = res.bytes_stream().eventsource();
        let deadline = tokio::time::Instant::now() + limit;
        while let Ok(Some(Ok(ev))) = tokio::time::timeout_at(deadline, events.next()).await {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                got.push(v);
            }
        }
        got
    })
}

fn has_street(events: &[Value], name: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "street.created" && e["record"]["name"] == name)
}

#[tokio::test]
async fn revoking_tokens_ends_their_streams_however_many_notices_are_in_flight() {
    let s = TestServer::start().await;
    // A token revoked before, to be revoked again and again while the real revocations run.
    s.token("viewer", json!({}), "old").await;
    let first = TestServer::send(s.req(Method::DELETE, "/api/v1/tokens/old")).await;
    assert_eq!(first.status, 200, "{}", first.body);

    let mut streams = Vec::new();
    for i in 0..12 {
        let name = format!("viewer{i}");
        let token = s.token("viewer", json!({}), &name).await;
        streams.push((
            name,
            token.clone(),
            follow(&s, &token, Duration::from_secs(20)),
        ));
    }
    // The streams are open once each has seen the log so far (its own token's creation).
    s.ok("/api/v1/streets", json!({"name": "前街道"}), 201)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The real revocations go first, so that hundreds of notices follow each of them.
    let mut calls = Vec::new();
    for (name, _, _) in &streams {
        let rb = s.req(Method::DELETE, &format!("/api/v1/tokens/{name}"));
        calls.push(tokio::spawn(async move {
            (usize::MAX, TestServer::send(rb).await)
        }));
    }
    for i in 0..500 {
        let rb = s.req(Method::DELETE, "/api/v1/tokens/old");
        calls.push(tokio::spawn(async move { (i, TestServer::send(rb).await) }));
    }
    let mut repeats = 0;
    for c in calls {
        let (i, a) = c.await.expect("call");
        if i == usize::MAX {
            assert_eq!(a.status, 200, "a first revocation: {}", a.body);
        } else {
            // Revoking a revoked token changes nothing, and says so.
            assert_eq!(a.status, 409, "a repeat revocation: {}", a.body);
            assert!(a.str("detail").contains("nothing changed"), "{}", a.body);
            repeats += 1;
        }
    }
    assert_eq!(repeats, 500);

    s.ok("/api/v1/streets", json!({"name": "后街道"}), 201)
        .await;
    for (name, token, reader) in streams {
        let got = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .unwrap_or_else(|_| panic!("{name}'s stream still open after its revocation"))
            .expect("reader");
        assert!(has_street(&got, "前街道"), "{name} was live before");
        assert!(
            !has_street(&got, "后街道"),
            "{name} received an event after its revocation"
        );
        let me = TestServer::send(s.req_as(&token, Method::GET, "/api/v1/me")).await;
        assert_eq!(me.status, 401);
    }
    // The log has one revocation per token, never a repeat.
    let audit = s.get("/api/v1/audit?limit=1000").await;
    let revoked = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["type"] == "token.revoked")
        .count();
    assert_eq!(revoked, 13);
}

#[tokio::test]
async fn an_expired_token_stream_ends_and_receives_nothing_more() {
    let s = TestServer::start().await;
    let token = s
        .post(
            "/api/v1/tokens",
            json!({"role": "viewer", "name": "一天", "expires_days": 1}),
        )
        .await
        .str("token");
    let reader = follow(&s, &token, Duration::from_secs(20));
    s.ok("/api/v1/streets", json!({"name": "当天街道"}), 201)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.clock.advance(chrono::Duration::days(2));
    s.ok("/api/v1/streets", json!({"name": "过期后街道"}), 201)
        .await;
    let got = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the expired token's stream ended")
        .expect("reader");
    assert!(has_street(&got, "当天街道"));
    assert!(!has_street(&got, "过期后街道"));
}
