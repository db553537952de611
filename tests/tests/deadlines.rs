//! Deadlines from the rules file, counted in working time on the server's calendar.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, FixedOffset, TimeZone, Utc};
use serde_json::json;
use shaozi_tests::TestServer;

fn rules() -> shaozi_shared::Rules {
    shaozi_server::config::parse(
        r#"
        [calendar]
        utc_offset = "+08:00"
        hours = ["08:30-12:00", "14:30-17:30"]
        holidays = ["2026-12-01"]
        [deadlines.category.lighting]
        normal = { respond = "1wd", resolve = "3wd" }
        "#,
    )
    .expect("rules")
}

/// Local (UTC+8) time as it appears on the wire.
fn local(month: u32, d: u32, h: u32, m: u32) -> String {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, month, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn a_working_day_deadline_skips_the_weekend_and_fires_once() {
    let s = TestServer::start_with_rules(rules()).await;
    let cats = s.get("/api/v1/categories").await.body;
    let lighting = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "lighting")
        .unwrap()
        .clone();
    assert_eq!(
        lighting["deadlines"]["normal"],
        json!({"respond": "1wd", "resolve": "3wd"})
    );
    assert_eq!(
        lighting["deadlines"]["urgent"],
        json!({"respond": "30m", "resolve": "24h"})
    );

    let city = s.small_city().await;
    // The test clock starts Thursday 26 November 08:00 UTC = 16:00 in Yiyang; move to Friday 16:00.
    s.clock.advance(Duration::days(1));
    let w = s
        .ok(
            "/api/v1/whistles",
            json!({"community_id": city.communities[0], "category": "lighting", "urgency": "normal", "title": "路灯不亮", "description": "三盏路灯不亮"}),
            201,
        )
        .await;
    assert_eq!(
        w["respond_by"],
        local(11, 30, 16, 0),
        "one working day: Monday 16:00"
    );
    // 3 working days from Friday 16:00: Mon, Tue (1 December is a holiday), Wed → Thursday 16:00.
    assert_eq!(
        w["resolve_by"],
        local(12, 3, 16, 0),
        "a holiday does not count"
    );
    let urgent = s
        .whistle(&city.communities[0], "lighting", "urgent", "电线裸露")
        .await;

    // Sunday evening: the urgent one is long overdue, the working-day one is not.
    s.clock.advance(Duration::days(2) + Duration::hours(3));
    assert_eq!(s.sweep().await, 1);
    assert_eq!(
        s.get(&format!("/api/v1/whistles/{urgent}")).await.body["overdue"],
        true
    );
    // Monday 15:59 local: still in time, and long past the due-soon point (the last fifth
    // of its 72 hours): warned once; 16:01: overdue, once.
    let id = w["id"].as_str().unwrap().to_string();
    s.clock.advance(Duration::hours(20) + Duration::minutes(59));
    assert_eq!(s.sweep().await, 1, "the due-soon warning");
    assert_eq!(s.sweep().await, 0);
    s.clock.advance(Duration::minutes(2));
    assert_eq!(s.sweep().await, 1);
    assert_eq!(s.sweep().await, 0);
    let kinds: Vec<String> = s.get(&format!("/api/v1/whistles/{id}")).await.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "whistle.created",
            "whistle.due_soon",
            "whistle.overdue",
            "whistle.escalated"
        ]
    );
}

#[tokio::test]
async fn escalation_stops_at_the_city_leaders_by_hand_and_by_the_clock() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "roads", "urgent", "井盖缺失")
        .await;
    let path = format!("/api/v1/whistles/{w}/escalate");
    for level in [1, 2] {
        let b = s.ok(&path, json!({"reason": "催"}), 200).await;
        assert_eq!(b["escalation_level"], level);
    }
    let top = s.post(&path, json!({"reason": "再催"})).await;
    assert_eq!(top.status, 409, "{}", top.body);
    assert_eq!(top.str("current_status"), "new");
    assert!(
        top.str("detail").contains("top escalation level (2"),
        "{}",
        top.body
    );
    // Its deadline passes: overdue is recorded, and nobody is above the leaders.
    s.clock.advance(Duration::hours(1));
    assert_eq!(s.sweep().await, 1);
    let d = s.get(&format!("/api/v1/whistles/{w}")).await.body;
    assert_eq!(
        (d["overdue"].as_bool(), d["escalation_level"].as_u64()),
        (Some(true), Some(2))
    );
    let kinds: Vec<&str> = d["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "whistle.escalated").count(),
        2
    );
    assert_eq!(kinds.last(), Some(&"whistle.overdue"));
}
