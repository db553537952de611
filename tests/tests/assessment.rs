//! The assessment (考核) against values worked out by hand.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use serde_json::{json, Value};
use shaozi_tests::TestServer;

/// Files an urgent whistle in `community` and dispatches it at once to `dept` (now).
async fn case(s: &TestServer, community: &str, dept: &str, title: &str) -> String {
    let id = s.whistle(community, "lighting", "urgent", title).await;
    s.dispatch(&id, dept).await;
    id
}

async fn step(s: &TestServer, id: &str, action: &str, body: Value) {
    s.ok(&format!("/api/v1/whistles/{id}/{action}"), body, 200)
        .await;
}

fn unit<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {a}"))
}

#[tokio::test]
async fn three_departments_measured_scored_and_ranked_by_hand() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let (d1, d2, d3) = (&c.departments[0], &c.departments[1], &c.departments[2]);
    let staff = json!({"staff": ["张伟", "李娜"]});
    // All filed and dispatched at 08:00 UTC (16:00 in Yiyang), urgent: report within 30 min.
    let a = case(&s, &c.communities[0], d1, "A").await;
    let b = case(&s, &c.communities[0], d1, "B").await;
    let _c = case(&s, &c.communities[0], d1, "C (never answered)").await;
    let d = case(&s, &c.communities[1], d2, "D").await;
    let e = case(&s, &c.communities[1], d2, "E").await;
    let f = case(&s, &c.communities[2], d3, "F").await;
    let at = |m: i64| s.clock.advance(Duration::minutes(m));

    at(5); // +5
    step(&s, &d, "acknowledge", staff.clone()).await;
    at(5); // +10
    step(&s, &a, "acknowledge", staff.clone()).await;
    at(10); // +20
    step(&s, &e, "acknowledge", staff.clone()).await;
    at(5); // +25
    step(&s, &f, "acknowledge", staff.clone()).await;
    at(15); // +40: B reports for duty late
    step(&s, &b, "acknowledge", staff.clone()).await;
    at(5); // +45
    step(&s, &f, "resolve", json!({"reply": "好了"})).await;
    step(&s, &f, "close", json!({"satisfaction": 2})).await;
    at(20); // +65
    step(&s, &d, "resolve", json!({"reply": "修好了"})).await;
    at(5); // +70
    step(&s, &a, "resolve", json!({"reply": "修好了"})).await;
    step(&s, &a, "close", json!({"satisfaction": 5})).await;
    at(10); // +80
    step(&s, &d, "reopen", json!({"reason": "还有一盏"})).await;
    at(20); // +100
    step(&s, &d, "resolve", json!({"reply": "全部修好"})).await;
    step(&s, &d, "close", json!({"satisfaction": 4})).await;
    at(30); // +130
    step(&s, &b, "resolve", json!({"reply": "修好了"})).await;
    step(&s, &b, "close", json!({"satisfaction": 3})).await;
    // A wish D1 claims and completes; an activity of D3.
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": c.communities[0], "title": "书包", "value_fen": 12000}),
            201,
        )
        .await;
    let wid = wish["id"].as_str().unwrap();
    s.ok(
        &format!("/api/v1/wishes/{wid}/claim"),
        json!({"department_id": d1}),
        200,
    )
    .await;
    s.ok(&format!("/api/v1/wishes/{wid}/complete"), json!({}), 200)
        .await;
    let act = s
        .post("/api/v1/activities", json!({"department_id": d3, "community_id": c.communities[2], "kind": "cleanup", "date": "2026-11-26", "participants": 12, "note": "清运垃圾"}))
        .await;
    assert_eq!(act.status, 201, "{}", act.body);
    at(50); // +3 h: C has been waiting since 08:00.
    assert_eq!(s.sweep().await, 1);

    let r = s
        .get("/api/v1/assessment?from=2026-11-26&to=2026-11-26")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.body;
    // D1: A on time, B late, C unanswered. Resolved A, B. Ratings 5, 3.
    let u1 = unit(&r, d1);
    assert_eq!(
        (
            u1["dispatched"].as_i64(),
            u1["on_time"].as_i64(),
            u1["resolved"].as_i64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(u1["satisfaction_mean"], 4.0);
    assert_eq!(u1["satisfied_share"], 0.5);
    assert_eq!(u1["median_respond_minutes"], 25.0, "median of 10 and 40");
    assert_eq!(u1["median_resolve_minutes"], 100.0, "median of 70 and 130");
    assert_eq!(
        (
            u1["overdue_now"].as_i64(),
            u1["escalations"].as_i64(),
            u1["reopened"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        (
            u1["wishes_claimed"].as_i64(),
            u1["wishes_completed"].as_i64(),
            u1["wishes_value_fen"].as_i64()
        ),
        (Some(1), Some(1), Some(12000))
    );
    // 100 × (0.3·1/3 + 0.3·2/3 + 0.2·4/5 + 0.2·1/2) = 56
    assert_eq!(u1["score"], 56.0);
    // D2: D and E on time; D resolved (after a reopening), rated 4.
    let u2 = unit(&r, d2);
    assert_eq!(
        (
            u2["dispatched"].as_i64(),
            u2["on_time"].as_i64(),
            u2["resolved"].as_i64(),
            u2["reopened"].as_i64()
        ),
        (Some(2), Some(2), Some(1), Some(1))
    );
    assert_eq!(u2["median_respond_minutes"], 12.5);
    assert_eq!(
        u2["median_resolve_minutes"], 100.0,
        "from dispatch to the last resolution"
    );
    // 100 × (0.3·1 + 0.3·1/2 + 0.2·4/5 + 0.2·1) = 81
    assert_eq!(u2["score"], 81.0);
    // D3: F on time, resolved, rated 2; one clean-up.
    let u3 = unit(&r, d3);
    assert_eq!(
        (
            u3["satisfaction_mean"].as_f64(),
            u3["satisfied_share"].as_f64(),
            u3["activities"].as_i64()
        ),
        (Some(2.0), Some(0.0), Some(1))
    );
    // 100 × (0.3 + 0.3 + 0.2·2/5 + 0) = 68
    assert_eq!(u3["score"], 68.0);
    let order: Vec<(&str, i64)> = r["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap(), u["rank"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [(d2.as_str(), 1), (d3.as_str(), 2), (d1.as_str(), 3)]
    );

    // Per local day: six filed and four closed on the 26th.
    assert_eq!(
        r["daily"],
        json!([{"date": "2026-11-26", "filed": 6, "closed": 4}])
    );
    let week = s
        .get("/api/v1/assessment?from=2026-11-24&to=2026-11-27")
        .await
        .body;
    let days: Vec<(String, i64)> = week["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["filed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-24".into(), 0),
            ("2026-11-25".into(), 0),
            ("2026-11-26".into(), 6),
            ("2026-11-27".into(), 0)
        ]
    );

    // By street: S1 has A–E, S2 has F.
    let streets = s
        .get("/api/v1/assessment?from=2026-11-26&to=2026-11-26&group=street")
        .await
        .body;
    assert_eq!(unit(&streets, &c.streets[0])["dispatched"], 5);
    assert_eq!(unit(&streets, &c.streets[1])["dispatched"], 1);
    assert_eq!(
        unit(&streets, &c.streets[1])["activities"],
        1,
        "the clean-up was in S2's community"
    );
    // Another period has none of it.
    let empty = s
        .get("/api/v1/assessment?from=2026-11-27&to=2026-11-28")
        .await
        .body;
    assert!(empty["units"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["dispatched"] == 0 && u["score"].is_null() && u["rank"].is_null()));

    // The same as CSV for a spreadsheet.
    let csv = TestServer::send(
        s.req(
            reqwest::Method::GET,
            "/api/v1/assessment?from=2026-11-26&to=2026-11-26",
        )
        .header("accept", "text/csv"),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = String::from_utf8(
        s.req(
            reqwest::Method::GET,
            "/api/v1/assessment?from=2026-11-26&to=2026-11-26&format=csv",
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec(),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("rank,id,name,score,dispatched,on_time,on_time_rate"));
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].starts_with(&format!("1,{d2},市路灯管理处,81,2,2,1,1,0.5,")),
        "{}",
        lines[1]
    );

    for bad in [
        "group=planet",
        "from=yesterday",
        "from=2026-11-27&to=2026-11-26",
    ] {
        let a = s.get(&format!("/api/v1/assessment?{bad}")).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
    }
}

#[tokio::test]
async fn activities_are_checked_and_scoped() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let dept = s
        .token(
            "department",
            json!({"department_id": c.departments[0]}),
            "城管",
        )
        .await;
    let body = |d: &str, kind: &str, n: i64, date: &str| json!({"department_id": d, "community_id": c.communities[0], "kind": kind, "date": date, "participants": n});
    let as_dept = |b: Value| {
        TestServer::send(
            s.req_as(&dept, reqwest::Method::POST, "/api/v1/activities")
                .json(&b),
        )
    };
    assert_eq!(
        as_dept(body(&c.departments[0], "persuasion", 8, "2026-11-25"))
            .await
            .status,
        201
    );
    assert_eq!(
        as_dept(body(&c.departments[1], "persuasion", 8, "2026-11-25"))
            .await
            .status,
        403,
        "another department's"
    );
    for (b, field) in [
        (body(&c.departments[0], "dancing", 8, "2026-11-25"), "kind"),
        (
            body(&c.departments[0], "cleanup", 0, "2026-11-25"),
            "participants",
        ),
        (body(&c.departments[0], "cleanup", 5, "2030-01-01"), "date"),
        (body("D99", "cleanup", 5, "2026-11-25"), "department_id"),
    ] {
        let a = s.post("/api/v1/activities", b.clone()).await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, field.to_string()),
            "{b}: {}",
            a.body
        );
    }
}
