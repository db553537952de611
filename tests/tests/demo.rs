//! The demo city shows a newcomer the practice at once (issue 28): its morning of history has
//! joint calls with an assisting department late, whistles from the hotline, the window, grid
//! workers and the street itself (the reporter kept from those who may not read it),
//! corrected cases, and notes for staff and for the public.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use shaozi_server::demo::DemoConfig;
use shaozi_tests::TestServer;

#[tokio::test]
async fn the_demo_citys_morning_shows_the_practice() {
    let s = TestServer::start_demo(DemoConfig::default()).await;
    let stats = s.get("/api/v1/stats").await.body;
    let sources: BTreeMap<String, i64> = stats["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["source"].as_str().unwrap().to_string(),
                t["whistles"].as_i64().unwrap(),
            )
        })
        .collect();
    for source in ["community", "hotline", "walk_in", "grid", "street"] {
        assert!(
            sources.get(source).copied().unwrap_or(0) > 0,
            "{source}: {sources:?}"
        );
    }
    // Every event of the morning, in order.
    let last = stats["last_seq"].as_u64().unwrap();
    let events = s
        .events(Some(0), last as usize, Duration::from_secs(20))
        .await;
    assert_eq!(events.len() as u64, last, "the whole morning replays");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *kinds.entry(e["type"].as_str().unwrap()).or_default() += 1;
    }
    for kind in [
        "whistle.assist_reported",
        "whistle.assist_done",
        "whistle.reclassified",
        "whistle.noted",
        "whistle.noted_internal",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "{kind}: {kinds:?}"
        );
    }
    // A joint call is on the lists with its calls, one of them from a street's own whistle.
    let page = s
        .get("/api/v1/whistles?status=acknowledged,resolved,closed&limit=200")
        .await
        .body;
    let items = page["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|w| w["calls"].as_array().is_some_and(|c| c.len() >= 2)),
        "a joint call"
    );
    // A hotline whistle keeps who called for those who handle it, and no one else reads it.
    let hotline = s.get("/api/v1/whistles?source=hotline&limit=1").await.body["items"][0].clone();
    assert!(hotline["reporter"]["phone"].is_string(), "{hotline}");
    let viewer = s.token("viewer", json!({}), "市领导").await;
    let id = hotline["id"].as_str().unwrap();
    let seen: Value = TestServer::send(s.req_as(
        &viewer,
        reqwest::Method::GET,
        &format!("/api/v1/whistles/{id}"),
    ))
    .await
    .body;
    assert!(!seen.to_string().contains("reporter"), "{seen}");
}
