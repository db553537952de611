//! Nothing acknowledged is lost: stop, restart, everything is there; the event stream
//! resumes across a restart with no gap and no duplicate; deadlines that pass while the
//! server is down are caught up once.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use shaozi_tests::TestServer;

fn seqs(events: &[serde_json::Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let a = s
        .whistle(&city.communities[0], "sanitation", "urgent", "垃圾堆积")
        .await;
    let b = s
        .whistle(&city.communities[1], "lighting", "normal", "路灯不亮")
        .await;
    s.dispatch(&a, &city.departments[0]).await;
    s.ok(
        &format!("/api/v1/whistles/{a}/acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "书包", "value_fen": 12000}),
            201,
        )
        .await;
    let before_a = s.get(&format!("/api/v1/whistles/{a}")).await.body;
    let before_stats = s.get("/api/v1/stats").await.body;
    let before_queue = s.get("/api/v1/whistles?status=new,dispatched").await.body;

    let s = s.restart().await;
    assert_eq!(s.get(&format!("/api/v1/whistles/{a}")).await.body, before_a);
    assert_eq!(s.get("/api/v1/stats").await.body, before_stats);
    assert_eq!(
        s.get("/api/v1/whistles?status=new,dispatched").await.body,
        before_queue
    );
    assert_eq!(
        s.get(&format!("/api/v1/wishes/{}", wish["id"].as_str().unwrap()))
            .await
            .body["title"],
        "书包"
    );
    assert_eq!(
        s.get("/api/v1/communities")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Ids and sequence numbers carry on where they stopped.
    let c = s
        .whistle(&city.communities[2], "roads", "normal", "坑洼")
        .await;
    let num = |id: &str| id[1..].parse::<u64>().unwrap();
    assert_eq!(num(&c), num(&b) + 1);
    let detail = s.get(&format!("/api/v1/whistles/{c}")).await.body;
    assert_eq!(
        detail["timeline"][0]["seq"].as_u64().unwrap(),
        before_stats["last_seq"].as_u64().unwrap() + 1
    );
    // Names stay unique across the restart.
    assert_eq!(
        s.post("/api/v1/streets", json!({"name": "赫山街道"}))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn the_event_stream_resumes_across_a_restart_without_gaps() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    // A live subscriber sees what happens next, in order.
    let live = {
        let base_seq = s.get("/api/v1/stats").await.body["last_seq"]
            .as_u64()
            .unwrap();
        let listener = s.events(None, 3, Duration::from_secs(5));
        let writer = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let id = s
                .whistle(&city.communities[0], "noise", "normal", "夜间施工")
                .await;
            s.dispatch(&id, &city.departments[0]).await;
            s.ok(
                &format!("/api/v1/whistles/{id}/escalate"),
                json!({"reason": "居民多次反映"}),
                200,
            )
            .await;
        };
        let (events, ()) = tokio::join!(listener, writer);
        assert_eq!(seqs(&events), [base_seq + 1, base_seq + 2, base_seq + 3]);
        events
    };
    assert_eq!(live[0]["type"], "whistle.created");
    assert_eq!(live[0]["record"]["title"], "夜间施工");
    assert_eq!(live[1]["type"], "whistle.dispatched");
    assert_eq!(live[2]["type"], "whistle.escalated");
    assert_eq!(live[2]["note"], "居民多次反映");
    assert_eq!(live[2]["record"]["escalation_level"], 1);
    assert_eq!(live[2]["actor"]["name"], "admin");
    let resume_from = live[1]["seq"].as_u64().unwrap();

    // The server restarts; more happens; a client resumes from its last id.
    let s = s.restart().await;
    let id = s
        .whistle(&city.communities[1], "roads", "urgent", "井盖缺失")
        .await;
    s.dispatch(&id, &city.departments[0]).await;
    let last = s.get("/api/v1/stats").await.body["last_seq"]
        .as_u64()
        .unwrap();
    let resumed = s
        .events(
            Some(resume_from),
            (last - resume_from) as usize,
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        seqs(&resumed),
        (resume_from + 1..=last).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(
        resumed[0], live[2],
        "replayed events are the very events sent live"
    );

    // The whole log from the start is gapless and begins with the directory.
    let all = s
        .events(Some(0), last as usize, Duration::from_secs(5))
        .await;
    assert_eq!(seqs(&all), (1..=last).collect::<Vec<_>>());
    assert_eq!(all[0]["type"], "street.created");
    assert_eq!(all[0]["subject"], city.streets[0].as_str());

    let bad = TestServer::send(
        s.req(reqwest::Method::GET, "/api/v1/events")
            .header("Last-Event-ID", "soon"),
    )
    .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn deadlines_that_pass_while_down_are_caught_up_once() {
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    let urgent = s
        .whistle(&city.communities[0], "safety", "urgent", "燃气泄漏")
        .await;
    let normal = s
        .whistle(&city.communities[0], "roads", "normal", "坑洼")
        .await;
    s.dispatch(&normal, &city.departments[0]).await;
    s.ok(
        &format!("/api/v1/whistles/{normal}/acknowledge"),
        json!({"staff": ["甲", "乙"]}),
        200,
    )
    .await;

    // Down for eight days: the urgent whistle's report deadline and the normal one's
    // resolve deadline both pass.
    s.stop().await;
    s.clock.advance(chrono::Duration::days(8));
    let s = s.restart().await;
    // The server's own first sweep runs at start; wait for it rather than sweeping by hand.
    let mut tries = 0;
    while s.get("/api/v1/stats").await.body["queue"]["overdue"] != 1 {
        tries += 1;
        assert!(tries < 100, "the start-up sweep did not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let u = s.get(&format!("/api/v1/whistles/{urgent}")).await.body;
    assert_eq!(
        (
            u["overdue"].as_bool(),
            u["escalation_level"].as_u64(),
            u["respond_late"].as_bool()
        ),
        (Some(true), Some(1), Some(true))
    );
    let n = s.get(&format!("/api/v1/whistles/{normal}")).await.body;
    assert_eq!(
        (n["overdue"].as_bool(), n["resolve_late"].as_bool()),
        (Some(true), Some(true))
    );

    // Restarting again does not escalate again.
    let s = s.restart().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.sweep().await, 0);
    let u = s.get(&format!("/api/v1/whistles/{urgent}")).await.body;
    let overdue_events = u["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "whistle.overdue")
        .count();
    assert_eq!(
        (overdue_events, u["escalation_level"].as_u64()),
        (1, Some(1))
    );
}
