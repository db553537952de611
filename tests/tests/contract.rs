//! The served contract, and the event log as a JSON page for clients that poll.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use shaozi_tests::TestServer;

#[tokio::test]
async fn the_contract_is_served_without_a_token() {
    let s = TestServer::start().await;
    let res = s
        .client
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body = res.text().await.expect("body");
    assert_eq!(body, shaozi_server::openapi::document_json());
    // Everything else still needs a token.
    let other = s
        .client
        .get(format!("{}/api/v1/stats", s.base))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status().as_u16(), 401);
}

#[tokio::test]
async fn every_documented_operation_is_served_and_guarded() {
    let s = TestServer::start().await;
    let doc: serde_json::Value =
        serde_json::from_str(&shaozi_server::openapi::document_json()).expect("JSON");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        // Any id will do: the token check comes before the lookup.
        let concrete = path.replace("{id}", "W1").replace("{name}", "someone");
        for method in item.as_object().expect("item").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res = s
                .client
                .request(m, format!("{}{concrete}", s.base))
                .send()
                .await
                .expect("request");
            let want = if path.ends_with("openapi.json") {
                200
            } else {
                401
            };
            assert_eq!(
                res.status().as_u16(),
                want,
                "{method} {path} without a token"
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked} operations");
}

#[tokio::test]
async fn the_event_log_pages_as_json_within_the_token_scope() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let w1 = s
        .whistle(&city.communities[0], "roads", "normal", "井盖缺失")
        .await;
    let w2 = s
        .whistle(&city.communities[2], "roads", "normal", "路面塌陷")
        .await;
    let ask = |token: Option<&str>, q: &str| {
        let rb = match token {
            Some(t) => s.req_as(t, reqwest::Method::GET, &format!("/api/v1/events{q}")),
            None => s.req(reqwest::Method::GET, &format!("/api/v1/events{q}")),
        };
        TestServer::send(rb.header("Accept", "application/json"))
    };

    // The admin sees the whole log; a page stops at its limit and says where to resume.
    let all = ask(None, "").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.content_type().starts_with("application/json"));
    let n = all.body["items"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(
        n,
        2 + 3 + 3 + 2,
        "streets, communities, departments, whistles"
    );
    assert_eq!(all.body["more"], false);
    let first = ask(None, "?limit=3").await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(first.body["after"], 3);
    assert_eq!(first.body["more"], true);
    let rest = ask(None, "?after=3&limit=100").await;
    assert_eq!(rest.body["items"][0]["seq"], 4);
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(n - 3));

    // A community's token sees its own whistle and the public directory, not the other's.
    let mine = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路",
        )
        .await;
    let page = ask(Some(&mine), "").await;
    let subjects: Vec<&str> = page.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["subject"].as_str()).collect())
        .unwrap_or_default();
    assert!(subjects.contains(&w1.as_str()), "{subjects:?}");
    assert!(!subjects.contains(&w2.as_str()), "{subjects:?}");

    // Bad input is a clear 400.
    let bad = ask(None, "?limit=0").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["field"], "limit");
}

#[tokio::test]
async fn every_step_of_the_table_has_its_route_its_operation_and_its_permission() {
    use shaozi_shared::api::{Step, Subject};
    let s = TestServer::start().await;
    let doc: serde_json::Value =
        serde_json::from_str(&shaozi_server::openapi::document_json()).expect("JSON");
    let viewer = s.token("viewer", json!({}), "看板").await;
    let steps: Vec<Step> = Step::WHISTLE.iter().chain(Step::WISH).copied().collect();
    assert!(steps.len() >= 10, "the table has every step of today");
    for step in steps {
        let (kind, id) = match step.subject() {
            Subject::Whistle => ("whistles", "W1001"),
            Subject::Wish => ("wishes", "M1"),
        };
        let path = format!("/api/v1{}", step.path());
        let op = &doc["paths"][&path]["post"];
        assert_eq!(op["summary"], step.summary(), "{path} is documented");
        // The route is served: a token that may not take the step is told so by the step's
        // permission, not by the fallback for unknown steps.
        use shaozi_shared::api::{Given, Input, StepBody};
        let given = match step.input() {
            Input::Department => Given::Department(shaozi_shared::DepartmentId(1), None),
            Input::Staff => Given::Staff(vec!["张伟".into(), "李娜".into()]),
            Input::Text => Given::Text("原因".into()),
            Input::Rating => Given::Rating(5),
            Input::Extension => Given::Extension(chrono::Utc::now(), "工期较长".into()),
            Input::CallBack => Given::CallBack(true, Some(5), "满意".into()),
            Input::Nothing => Given::Nothing,
        };
        let body = StepBody::build(step, given).expect("a body from the step's own input");
        let a = TestServer::send(
            s.req_as(
                &viewer,
                reqwest::Method::POST,
                &format!("/api/v1/{kind}/{id}/{}", step.tail()),
            )
            .json(&body.json()),
        )
        .await;
        assert!(
            !a.str("detail").starts_with("no action"),
            "{path}: {}",
            a.body
        );
        assert_eq!(
            a.status,
            403,
            "{path}: a viewer may not {}: {}",
            step.name(),
            a.body
        );
    }
    // An unknown step lists the real ones, from the same table.
    let a = s.post("/api/v1/whistles/W1001/fly", json!({})).await;
    assert_eq!(a.status, 404);
    for step in Step::WHISTLE {
        assert!(a.str("detail").contains(step.tail()), "{}", a.body);
    }
}

#[tokio::test]
async fn the_stream_with_follow_false_sends_what_is_on_disk_and_ends() {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let s = TestServer::start().await;
    s.small_city().await;
    let head = s.get("/api/v1/stats").await.body["last_seq"]
        .as_u64()
        .expect("last_seq");
    let res = s
        .req(reqwest::Method::GET, "/api/v1/events?follow=false")
        .header("Last-Event-ID", "2")
        .send()
        .await
        .expect("stream");
    assert_eq!(res.status().as_u16(), 200);
    let events: Vec<_> = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        res.bytes_stream().eventsource().collect::<Vec<_>>(),
    )
    .await
    .expect("the stream ends by itself");
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| e.as_ref().ok())
        .map(|e| e.id.parse().expect("numeric id"))
        .collect();
    assert_eq!(ids, (3..=head).collect::<Vec<_>>());
}
