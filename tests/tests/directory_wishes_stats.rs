//! The directory, micro-wishes, and the counters behind `stats`.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use shaozi_tests::TestServer;

#[tokio::test]
async fn the_directory_refuses_duplicates_and_dangling_references() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let streets = s.get("/api/v1/streets").await.body;
    assert_eq!(streets.as_array().unwrap().len(), 2);
    assert_eq!(streets[0]["name"], "桃花仑街道");
    let comms = s.get("/api/v1/communities").await.body;
    assert_eq!(
        comms[2],
        json!({"id": city.communities[2], "name": "龙洲村", "street_id": city.streets[1], "created_at": "2026-11-26T08:00:00Z"})
    );
    let depts = s.get("/api/v1/departments").await.body;
    assert_eq!(depts[0]["categories"], json!(["sanitation", "market"]));

    let dup = s
        .post("/api/v1/streets", json!({"name": " 桃花仑街道 "}))
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert!(dup.str("detail").contains(&city.streets[0]), "{}", dup.body);
    let dangling = s
        .post(
            "/api/v1/communities",
            json!({"name": "新社区", "street_id": "S9"}),
        )
        .await;
    assert_eq!(
        (dangling.status, dangling.str("field")),
        (422, "street_id".to_string())
    );
    let no_cats = s
        .post(
            "/api/v1/departments",
            json!({"name": "市某局", "categories": []}),
        )
        .await;
    assert_eq!(
        (no_cats.status, no_cats.str("field")),
        (422, "categories".to_string())
    );
    let bad_cat = s
        .post(
            "/api/v1/departments",
            json!({"name": "市某局", "categories": ["roads", "ufo"]}),
        )
        .await;
    assert!(
        bad_cat.status == 422 && bad_cat.str("detail").contains("ufo"),
        "{}",
        bad_cat.body
    );
    let blank = s.post("/api/v1/streets", json!({"name": "\t"})).await;
    assert_eq!(
        (blank.status, blank.str("field")),
        (422, "name".to_string())
    );

    let cats = s.get("/api/v1/categories").await.body;
    let lighting = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "lighting")
        .unwrap()
        .clone();
    assert_eq!(lighting["name_zh"], "路灯照明");
    assert_eq!(
        lighting["deadlines"]["urgent"],
        json!({"respond": "30m", "resolve": "24h"})
    );
    assert_eq!(
        lighting["deadlines"]["normal"],
        json!({"respond": "24h", "resolve": "7d"})
    );
}

#[tokio::test]
async fn wishes_are_claimed_and_completed_and_counted() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let mut ids = Vec::new();
    for (c, title, yuan) in [
        (0, "书包", 120),
        (0, "修电灯", 80),
        (1, "轮椅", 600),
        (2, "棉被", 260),
    ] {
        let w = s.ok("/api/v1/wishes", json!({"community_id": city.communities[c], "title": title, "value_fen": yuan * 100}), 201).await;
        assert_eq!(w["status"], "open");
        ids.push(w["id"].as_str().unwrap().to_string());
    }
    let p = |id: &str, a: &str| format!("/api/v1/wishes/{id}/{a}");
    let c = s
        .ok(
            &p(&ids[0], "claim"),
            json!({"department_id": city.departments[0], "claimer": "党员 张伟"}),
            200,
        )
        .await;
    assert_eq!(
        (c["status"].as_str(), c["claimer"].as_str()),
        (Some("claimed"), Some("党员 张伟"))
    );
    s.ok(&p(&ids[0], "complete"), json!({"note": "已送到"}), 200)
        .await;
    s.ok(&p(&ids[1], "claim"), json!({"claimer": "志愿者 李倩"}), 200)
        .await;
    s.ok(&p(&ids[3], "cancel"), json!({"reason": "居民已搬走"}), 200)
        .await;

    let twice = s.post(&p(&ids[0], "claim"), json!({"claimer": "x"})).await;
    assert_eq!(
        (twice.status, twice.body["current_status"].as_str()),
        (409, Some("completed"))
    );
    let early = s.post(&p(&ids[2], "complete"), json!({})).await;
    assert!(
        early.status == 409 && early.str("detail").contains("claim it first"),
        "{}",
        early.body
    );
    let nobody = s.post(&p(&ids[2], "claim"), json!({})).await;
    assert_eq!(nobody.status, 422);
    let ghost = s
        .post(&p(&ids[2], "claim"), json!({"department_id": "D404"}))
        .await;
    assert_eq!(
        (ghost.status, ghost.str("field")),
        (422, "department_id".to_string())
    );
    let neg = s
        .post(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "x", "value_fen": -5}),
        )
        .await;
    assert_eq!(
        (neg.status, neg.str("field")),
        (422, "value_fen".to_string())
    );
    assert_eq!(
        s.post("/api/v1/wishes/M999/claim", json!({"claimer": "x"}))
            .await
            .status,
        404
    );

    let detail = s.get(&format!("/api/v1/wishes/{}", ids[0])).await.body;
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["wish.created", "wish.claimed", "wish.completed"]);

    let open = s.get("/api/v1/wishes?status=open").await.body;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let in_c0 = s
        .get(&format!(
            "/api/v1/wishes?community_id={}",
            city.communities[0]
        ))
        .await
        .body;
    assert_eq!(in_c0["items"].as_array().unwrap().len(), 2);

    let stats = s.get("/api/v1/stats").await.body;
    // Cancelled wishes drop out; claimed counts those since completed.
    assert_eq!(stats["wishes"]["total"], 3);
    assert_eq!(stats["wishes"]["claimed"], 2);
    assert_eq!(stats["wishes"]["completed"], 1);
    assert_eq!(stats["wishes"]["value_total_fen"], 80_000);
    assert_eq!(stats["wishes"]["value_completed_fen"], 12_000);
    let c0 = stats["wishes"]["by_community"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["community_id"] == city.communities[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            c0["total"].as_i64(),
            c0["claimed"].as_i64(),
            c0["completed"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
}

/// Department load as the counters say, and as a recount of the records says.
fn loads(stats: &Value) -> Vec<(String, i64, i64, i64, i64)> {
    let mut v: Vec<_> = stats["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_i64().unwrap();
            (
                d["id"].as_str().unwrap().to_string(),
                n("dispatched"),
                n("acknowledged"),
                n("open"),
                n("overdue"),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn stats_counters_equal_a_recount_of_the_records() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let urgency = if i % 3 == 0 { "urgent" } else { "normal" };
        ids.push(
            s.whistle(
                &city.communities[i % 3],
                "lighting",
                urgency,
                &format!("灯{i}"),
            )
            .await,
        );
    }
    let p = |id: &str, a: &str| format!("/api/v1/whistles/{id}/{a}");
    for (i, id) in ids.iter().enumerate().take(10) {
        let d = &city.departments[1 + i % 2];
        s.ok(&p(id, "dispatch"), json!({"department_id": d}), 200)
            .await;
    }
    for id in &ids[..6] {
        s.ok(&p(id, "acknowledge"), json!({"staff": ["甲", "乙"]}), 200)
            .await;
    }
    for id in &ids[..4] {
        s.ok(&p(id, "resolve"), json!({"reply": "好了"}), 200).await;
    }
    s.ok(&p(&ids[0], "close"), json!({"satisfaction": 4}), 200)
        .await;
    s.ok(&p(&ids[1], "reopen"), json!({"reason": "没好"}), 200)
        .await;
    s.ok(&p(&ids[11], "reject"), json!({"reason": "重复"}), 200)
        .await;
    s.ok(
        &p(&ids[7], "dispatch"),
        json!({"department_id": city.departments[0], "note": "改派城管"}),
        200,
    )
    .await;
    s.clock.advance(chrono::Duration::minutes(31));
    s.sweep().await;

    let stats = s.get("/api/v1/stats").await.body;
    let all = s.get("/api/v1/whistles?limit=500").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let unanswered: Vec<&Value> = all
        .iter()
        .filter(|w| w["status"] == "new" || w["status"] == "dispatched")
        .collect();
    assert_eq!(stats["queue"]["unanswered"], unanswered.len());
    assert_eq!(
        stats["queue"]["urgent"],
        unanswered
            .iter()
            .filter(|w| w["urgency"] == "urgent")
            .count()
    );
    assert_eq!(
        stats["queue"]["overdue"],
        unanswered.iter().filter(|w| w["overdue"] == true).count()
    );
    assert!(stats["queue"]["overdue"].as_i64().unwrap() > 0);

    let mut recount = Vec::new();
    for d in &city.departments {
        let mine: Vec<&Value> = all
            .iter()
            .filter(|w| w["department_id"] == d.as_str())
            .collect();
        let st = |s: &str| mine.iter().filter(|w| w["status"] == s).count() as i64;
        let open = st("dispatched") + st("acknowledged") + st("resolved");
        let overdue = mine
            .iter()
            .filter(|w| {
                w["overdue"] == true
                    && (w["status"] == "dispatched" || w["status"] == "acknowledged")
            })
            .count() as i64;
        recount.push((
            d.clone(),
            st("dispatched"),
            st("acknowledged"),
            open,
            overdue,
        ));
    }
    recount.sort();
    assert_eq!(loads(&stats), recount);
    // Busiest first.
    let order: Vec<i64> = stats["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["overdue"].as_i64().unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    // last_seq is the end of the event log: replaying it from the start ends there.
    let last = stats["last_seq"].as_u64().unwrap();
    let log = s
        .events(Some(0), last as usize, std::time::Duration::from_secs(5))
        .await;
    assert_eq!(log.len() as u64, last);
    assert_eq!(log.last().unwrap()["seq"].as_u64(), Some(last));
}
