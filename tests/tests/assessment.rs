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

/// The body of a CSV answer, as text.
async fn csv_text(s: &TestServer, path: &str) -> String {
    let bytes = s
        .req(reqwest::Method::GET, path)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
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
    let text = csv_text(
        &s,
        "/api/v1/assessment?from=2026-11-26&to=2026-11-26&format=csv",
    )
    .await;
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

/// Joint 报到 over a fortnight (issue 28): every department is measured on each call it
/// answered, led and assisting apart and together; worked out by hand below.
#[tokio::test]
async fn a_fortnight_of_joint_calls_measures_each_department_by_hand() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let (d1, d2, d3) = (&c.departments[0], &c.departments[1], &c.departments[2]);
    let mut tokens = std::collections::HashMap::new();
    for (d, name) in [(d1, "一部门专干"), (d2, "二部门专干"), (d3, "三部门专干")] {
        tokens.insert(
            d.clone(),
            s.token("department", json!({"department_id": d}), name)
                .await,
        );
    }
    let at = |m: i64| s.clock.advance(Duration::minutes(m));
    let day = |d: i64| s.clock.advance(Duration::days(d));
    // Files a case and calls `lead` with `assisting` to report within `within` minutes.
    let call = |lead: &String, assisting: Vec<&String>, within: i64, title: &str| {
        let (lead, title) = (lead.clone(), title.to_string());
        let assisting: Vec<String> = assisting.into_iter().cloned().collect();
        let by = (s.clock.now_utc() + Duration::minutes(within)).to_rfc3339();
        let s = &s;
        let c = &c;
        async move {
            let id = s
                .whistle(&c.communities[0], "lighting", "urgent", &title)
                .await;
            s.ok(
                &format!("/api/v1/whistles/{id}/dispatch"),
                json!({"department_id": lead, "assisting": assisting,
                       "report": {"place": "梓山社区居委会", "at": by}}),
                200,
            )
            .await;
            id
        }
    };
    let by = |d: &String, id: &str, step: &str, body: Value| {
        let t = tokens[d].clone();
        let path = format!("/api/v1/whistles/{id}/{step}");
        let s = &s;
        async move {
            let r = s.post_as(&t, &path, body).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
    };
    let staff = || json!({"staff": ["张伟", "李娜"]});

    // 11-26, A: D1 leads, D2 and D3 assist, all to report within 60 minutes.
    let a = call(d1, vec![d2, d3], 60, "A").await;
    at(20);
    by(d1, &a, "acknowledge", staff()).await; // D1 led, 20 min, on time
    at(25);
    by(d2, &a, "acknowledge", staff()).await; // D2 assisted, 45 min, on time
    at(45);
    by(d3, &a, "acknowledge", staff()).await; // D3 assisted, 90 min, late

    // 11-28, B: D2 leads, D1 assists, within 30 minutes; D1 marks its part done, D2 resolves.
    day(2);
    let b = call(d2, vec![d1], 30, "B").await;
    at(10);
    by(d2, &b, "acknowledge", staff()).await; // D2 led, 10 min, on time
    at(15);
    by(d1, &b, "acknowledge", staff()).await; // D1 assisted, 25 min, on time
    by(d1, &b, "part-done", json!({"note": "已断电检修"})).await;
    by(d2, &b, "resolve", json!({"reply": "已修复"})).await;

    // 12-03, C: D3 leads, D2 assists within 60 minutes and never comes.
    day(5);
    let cc = call(d3, vec![d2], 60, "C").await;
    at(5);
    by(d3, &cc, "acknowledge", staff()).await; // D3 led, 5 min, on time
    at(70);
    assert!(s.sweep().await >= 1, "D2's missed call is found");

    // 12-05, D: D1 alone, within 30 minutes; it comes after 40.
    day(2);
    let d = call(d1, vec![], 30, "D").await;
    at(40);
    by(d1, &d, "acknowledge", staff()).await; // D1 led, 40 min, late

    // 12-07, E: D2 alone within 60 minutes; after 10 the street calls D1 to assist, which
    // comes 25 minutes after it was called (35 after the dispatch).
    day(2);
    let e = call(d2, vec![], 60, "E").await;
    at(5);
    by(d2, &e, "acknowledge", staff()).await; // D2 led, 5 min, on time
    at(5);
    s.ok(
        &format!("/api/v1/whistles/{e}/assisting"),
        json!({"add": [d1], "reason": "需要断电配合"}),
        200,
    )
    .await;
    at(25);
    by(d1, &e, "acknowledge", staff()).await; // D1 assisted, 25 min from its call, on time

    // 12-10, F: outside the fortnight; D3 assists and comes late. Not counted.
    day(3);
    let f = call(d1, vec![d3], 30, "F").await;
    at(50);
    by(d3, &f, "acknowledge", staff()).await;

    let r = s
        .get("/api/v1/assessment?from=2026-11-26&to=2026-12-09")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.body;
    let figures = |u: &Value| -> Vec<Value> {
        [
            "dispatched",
            "reported",
            "on_time",
            "median_respond_minutes",
            "assisted",
            "assisted_reported",
            "assisted_on_time",
            "median_assisted_respond_minutes",
            "assisted_parts_done",
            "calls",
            "calls_reported",
            "calls_on_time",
            "calls_on_time_rate",
            "calls_report_rate",
            "median_calls_respond_minutes",
        ]
        .iter()
        .map(|k| u[*k].clone())
        .collect()
    };
    // D1 led A (20, on time) and D (40, late); assisted B (25, on time, part done) and E
    // (25 from its call, on time). Every call: 4, all reported, 3 on time; minutes 20, 25,
    // 25, 40: median 25.
    assert_eq!(
        figures(unit(&r, d1)),
        [
            json!(2),
            json!(2),
            json!(1),
            json!(30.0),
            json!(2),
            json!(2),
            json!(2),
            json!(25.0),
            json!(1),
            json!(4),
            json!(4),
            json!(3),
            json!(0.75),
            json!(1.0),
            json!(25.0)
        ]
    );
    // D2 led B (10) and E (5), both on time; assisted A (45, on time) and C (never). Every
    // call: 4, 3 reported, 3 on time; minutes 5, 10, 45: median 10.
    assert_eq!(
        figures(unit(&r, d2)),
        [
            json!(2),
            json!(2),
            json!(2),
            json!(7.5),
            json!(2),
            json!(1),
            json!(1),
            json!(45.0),
            json!(0),
            json!(4),
            json!(3),
            json!(3),
            json!(0.75),
            json!(0.75),
            json!(10.0)
        ]
    );
    // D3 led C (5, on time); assisted A (90, late). F's late call is outside the period.
    assert_eq!(
        figures(unit(&r, d3)),
        [
            json!(1),
            json!(1),
            json!(1),
            json!(5.0),
            json!(1),
            json!(1),
            json!(0),
            json!(90.0),
            json!(0),
            json!(2),
            json!(2),
            json!(1),
            json!(0.5),
            json!(1.0),
            json!(47.5)
        ]
    );
    // The score's on-time response counts every call; resolution only the cases led, and
    // nothing is rated: 100 × (0.3·on-time + 0.3·resolution) / 0.6.
    // D1: (0.75 + 0) / 2 = 37.5; D2: (0.75 + 1/2) / 2 = 62.5; D3: (0.5 + 0) / 2 = 25.
    let scores: Vec<(&str, f64)> = r["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap(), u["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        scores,
        [
            (d2.as_str(), 62.5),
            (d1.as_str(), 37.5),
            (d3.as_str(), 25.0)
        ]
    );
    // The street measures its cases, not the calls: five dispatched, two reported late (D1's
    // A is on time; D is late), all led reports counted once.
    let streets = s
        .get("/api/v1/assessment?from=2026-11-26&to=2026-12-09&group=street")
        .await
        .body;
    let s1 = unit(&streets, &c.streets[0]);
    assert_eq!(
        (s1["dispatched"].clone(), s1["assisted"].clone()),
        (json!(5), json!(0))
    );
    assert_eq!(s1["calls"], 5);

    // The CSV carries the same, led and assisting apart, after the columns of before.
    let text = csv_text(
        &s,
        "/api/v1/assessment?from=2026-11-26&to=2026-12-09&format=csv",
    )
    .await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with(
            ",moved_twice,reported,report_rate,assisted,assisted_reported,assisted_report_rate,\
             assisted_on_time,assisted_on_time_rate,median_assisted_respond_minutes,assisted_parts_done,\
             calls,calls_reported,calls_report_rate,calls_on_time,calls_on_time_rate,median_calls_respond_minutes"
        ),
        "{}",
        lines[0]
    );
    let d1_row = lines
        .iter()
        .find(|l| l.contains(&format!(",{d1},")))
        .unwrap();
    assert!(
        d1_row.ends_with(",2,1,2,2,1,2,1,25,1,4,4,1,3,0.75,25"),
        "{d1_row}"
    );
}
