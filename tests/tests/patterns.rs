//! The patterns (issue 29 §4): a street leader asks where one kind of problem keeps coming
//! back and how the weeks compare. Two weeks of a small city, counted by hand below, on
//! whichever engine the suite runs on; never outside the token's scope.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use serde_json::{json, Value};
use shaozi_tests::{City, TestServer};

async fn file(s: &TestServer, community: &str, category: &str, title: &str) -> String {
    let b = json!({"community_id": community, "category": category, "urgency": "normal",
                   "title": title, "description": format!("{title}，请尽快处理")});
    s.ok("/api/v1/whistles", b, 201).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn step(s: &TestServer, id: &str, what: &str, body: Value) -> Value {
    s.ok(&format!("/api/v1/whistles/{id}/{what}"), body, 200)
        .await
}

/// Reported for duty and resolved within minutes.
async fn fixed(s: &TestServer, id: &str) {
    step(s, id, "acknowledge", json!({"staff": ["张伟", "李娜"]})).await;
    step(s, id, "resolve", json!({"reply": "已处理"})).await;
}

/// Two weeks: the first (from Monday 23 November, local) and the second (from the 30th).
struct Fortnight {
    week_b_c1_property: Vec<String>,
}

async fn fortnight(s: &TestServer, c: &City) -> Fortnight {
    let (c1, c2, c3) = (&c.communities[0], &c.communities[1], &c.communities[2]);
    let (d1, d2, d3) = (&c.departments[0], &c.departments[1], &c.departments[2]);
    // Thursday 26 November, 16:00 in the city.
    let a1 = file(s, c1, "property", "楼道漏水").await;
    s.dispatch(&a1, d3).await;
    fixed(s, &a1).await;
    let a2 = file(s, c1, "property", "楼顶漏水").await;
    s.dispatch(&a2, d3).await;
    fixed(s, &a2).await;
    // Reopened: not resolved any more, and late once its week has passed.
    step(s, &a2, "reopen", json!({"reason": "还在漏"})).await;
    let a3 = file(s, c1, "property", "地下室漏水").await;
    // Dispatched and never reported for duty: late.
    s.dispatch(&a3, d3).await;
    let a4 = file(s, c1, "lighting", "路灯不亮").await;
    s.dispatch(&a4, d2).await;
    fixed(s, &a4).await;
    let a5 = file(s, c2, "property", "电梯故障").await;
    s.dispatch(&a5, d3).await;
    fixed(s, &a5).await;
    let a6 = file(s, c3, "property", "水塔漏水").await;
    s.dispatch(&a6, d3).await;
    fixed(s, &a6).await;
    // Moved twice before anyone took it: it bounced.
    let a7 = file(s, c3, "property", "围墙倒塌").await;
    s.dispatch(&a7, d3).await;
    step(
        s,
        &a7,
        "dispatch",
        json!({"department_id": d1, "note": "属城管"}),
    )
    .await;
    let moved = step(
        s,
        &a7,
        "dispatch",
        json!({"department_id": d2, "note": "再转"}),
    )
    .await;
    assert_eq!(moved["dispatches"], 3, "{moved}");
    fixed(s, &a7).await;

    // A week and an hour later: Thursday 3 December, 17:00 in the city.
    s.clock.advance(Duration::days(7) + Duration::hours(1));
    s.sweep().await;
    let mut week_b_c1_property = Vec::new();
    for t in ["楼道又漏水", "楼顶渗水", "墙面漏水"] {
        week_b_c1_property.push(file(s, c1, "property", t).await);
    }
    // A duplicate counts (the problem was raised again); one rejected as no problem does not.
    let dup = file(s, c1, "property", "楼道漏水了").await;
    step(
        s,
        &dup,
        "reject",
        json!({"reason": "重复", "duplicate_of": week_b_c1_property[0]}),
    )
    .await;
    week_b_c1_property.push(dup);
    let nothing = file(s, c1, "property", "测试").await;
    step(s, &nothing, "reject", json!({"reason": "测试数据"})).await;
    // A resident phoned this one in.
    let b = json!({"community_id": c3, "category": "property", "urgency": "normal",
                   "title": "水塔又漏水", "description": "水塔又漏水了", "source": "hotline"});
    s.ok("/api/v1/whistles", b, 201).await;
    file(s, c1, "lighting", "路灯闪烁").await;
    Fortnight { week_b_c1_property }
}

fn series<'a>(t: &'a Value, key: &str) -> &'a Value {
    t["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == key)
        .unwrap_or_else(|| panic!("no series {key} in {t}"))
}

fn figures(s: &Value) -> Value {
    json!({
        "filed": s["filed"], "resolved_on_time": s["resolved_on_time"], "overdue": s["overdue"],
        "reopened": s["reopened"], "bounced": s["bounced"],
    })
}

fn ids(a: &[String]) -> Vec<Value> {
    a.iter().rev().map(|x| json!(x)).collect()
}

#[tokio::test]
async fn a_fortnight_of_cases_counted_by_hand_in_hotspots_and_trends() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let f = fortnight(&s, &c).await;
    let two_weeks = "/api/v1/trends?interval=week&from=2026-11-23&to=2026-12-06";

    let t = s.get(two_weeks).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.body;
    let starts: Vec<&str> = t["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["start"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2026-11-23", "2026-11-30"]);
    assert_eq!(t["periods"][0]["from"], "2026-11-22T16:00:00Z");
    // Property: a1 a2 a3 a5 a6 a7, then three, the duplicate and C3's (the rejected test
    // does not count); a1 a5 a6 a7 on time; a2 (reopened, then past its week) and a3 late.
    assert_eq!(
        figures(series(&t, "property")),
        json!({"filed": [6, 5], "resolved_on_time": [4, 0], "overdue": [2, 0],
               "reopened": [1, 0], "bounced": [1, 0]})
    );
    assert_eq!(series(&t, "property")["name"], "物业管理");
    assert_eq!(
        figures(series(&t, "lighting")),
        json!({"filed": [1, 1], "resolved_on_time": [1, 0], "overdue": [0, 0],
               "reopened": [0, 0], "bounced": [0, 0]})
    );
    assert_eq!(
        figures(&t["total"]),
        json!({"filed": [7, 6], "resolved_on_time": [5, 0], "overdue": [2, 0],
               "reopened": [1, 0], "bounced": [1, 0]})
    );
    // Most cases first.
    assert_eq!(t["series"][0]["key"], "property");

    // By street: the bounce is counted where it happened.
    let t = s.get(&format!("{two_weeks}&by=street")).await.body;
    assert_eq!(series(&t, &c.streets[0])["filed"], json!([5, 5]));
    assert_eq!(series(&t, &c.streets[0])["name"], "桃花仑街道");
    assert_eq!(series(&t, &c.streets[1])["filed"], json!([2, 1]));
    assert_eq!(series(&t, &c.streets[1])["bounced"], json!([1, 0]));
    assert_eq!(series(&t, &c.streets[0])["bounced"], json!([0, 0]));
    let t = s.get(&format!("{two_weeks}&by=community")).await.body;
    assert_eq!(series(&t, &c.communities[1])["filed"], json!([1, 0]));
    assert_eq!(series(&t, &c.communities[1])["name"], "梓山社区");
    let t = s.get(&format!("{two_weeks}&by=source")).await.body;
    assert_eq!(series(&t, "other")["filed"], json!([7, 5]));
    assert_eq!(series(&t, "hotline")["filed"], json!([0, 1]));

    // By month: both weeks fall in November and December.
    let t = s
        .get("/api/v1/trends?interval=month&from=2026-11-01&to=2026-12-31")
        .await
        .body;
    assert_eq!(t["total"]["filed"], json!([7, 6]));
    // Twelve weeks up to now by default, the last one this week.
    let t = s.get("/api/v1/trends").await.body;
    assert_eq!(t["periods"].as_array().unwrap().len(), 12);
    assert_eq!(t["periods"][11]["start"], "2026-11-30");
    assert_eq!(t["total"]["filed"][10], 7);
    assert_eq!(t["total"]["filed"][11], 6);

    // Hotspots: this week's C1 property cases (the duplicate among them), three the week before.
    let h = s.get("/api/v1/hotspots?days=7&min=3").await;
    assert_eq!(h.status, 200, "{}", h.body);
    let items = h.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", h.body);
    assert_eq!(items[0]["community_id"], c.communities[0].as_str());
    assert_eq!(items[0]["community"], "朝阳路社区");
    assert_eq!(items[0]["street_id"], c.streets[0].as_str());
    assert_eq!(items[0]["category"], "property");
    assert_eq!(items[0]["category_name"], "物业管理");
    assert_eq!(items[0]["count"], 4);
    assert_eq!(items[0]["previous"], 3);
    assert_eq!(items[0]["whistles"], json!(ids(&f.week_b_c1_property)));
    // Every place with one case: the most first, then the fastest growing.
    let h = s.get("/api/v1/hotspots?days=7&min=1").await.body;
    let seen: Vec<(String, String, i64, i64)> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["community_id"].as_str().unwrap().to_string(),
                x["category"].as_str().unwrap().to_string(),
                x["count"].as_i64().unwrap(),
                x["previous"].as_i64().unwrap(),
            )
        })
        .collect();
    let (c1, c3) = (c.communities[0].clone(), c.communities[2].clone());
    assert_eq!(
        seen,
        [
            (c1.clone(), "property".into(), 4, 3),
            (c1, "lighting".into(), 1, 1),
            (c3, "property".into(), 1, 2),
        ]
    );
    // A fortnight's window holds both weeks.
    let h = s.get("/api/v1/hotspots?days=14&min=7").await.body;
    assert_eq!(h["items"][0]["count"], 7, "{h}");
    assert_eq!(h["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn patterns_stay_inside_the_token_scope() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    fortnight(&s, &c).await;
    let two_weeks = "/api/v1/trends?interval=week&from=2026-11-23&to=2026-12-06";
    let get = |token: String, path: String| {
        let s = &s;
        async move {
            let a = TestServer::send(s.req_as(&token, reqwest::Method::GET, &path)).await;
            assert_eq!(a.status, 200, "{path}: {}", a.body);
            a.body
        }
    };
    // The second street's dispatcher: its own community's cases only.
    let street = s
        .token("dispatcher", json!({"street_id": c.streets[1]}), "s2")
        .await;
    let t = get(street.clone(), two_weeks.into()).await;
    assert_eq!(t["total"]["filed"], json!([2, 1]));
    assert_eq!(t["series"].as_array().unwrap().len(), 1, "{t}");
    let h = get(street, "/api/v1/hotspots?days=7&min=1".into()).await;
    let items = h["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{h}");
    assert_eq!(items[0]["community_id"], c.communities[2].as_str());
    assert_eq!(items[0]["previous"], 2);
    // The lighting department: what it leads (a4, and a7 where it was moved last).
    let dept = s
        .token(
            "department",
            json!({"department_id": c.departments[1]}),
            "d2",
        )
        .await;
    let t = get(dept.clone(), two_weeks.into()).await;
    assert_eq!(t["total"]["filed"], json!([2, 0]));
    assert_eq!(series(&t, "property")["bounced"], json!([1, 0]));
    let h = get(dept, "/api/v1/hotspots?days=14&min=1".into()).await;
    let total: i64 = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2, "{h}");
    // A community: its own.
    let community = s
        .token("community", json!({"community_id": c.communities[1]}), "c2")
        .await;
    let t = get(community, two_weeks.into()).await;
    assert_eq!(t["total"]["filed"], json!([1, 0]));
}

#[tokio::test]
async fn patterns_refuse_what_they_cannot_count() {
    let s = TestServer::start().await;
    for (path, param) in [
        ("/api/v1/trends?interval=day", "interval"),
        ("/api/v1/trends?by=department", "by"),
        ("/api/v1/trends?from=2026-12-01&to=2026-11-01", "from"),
        ("/api/v1/trends?from=2000-01-01&to=2026-11-01", "to"),
        ("/api/v1/trends?from=yesterday", "from"),
        ("/api/v1/hotspots?days=0", "days"),
        ("/api/v1/hotspots?days=367", "days"),
        ("/api/v1/hotspots?min=-1", "min"),
    ] {
        let a = s.get(path).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(
            a.body.to_string().contains(param),
            "{path} names {param}: {}",
            a.body
        );
    }
    // Nothing filed: empty, not an error.
    let t = s.get("/api/v1/trends?interval=month").await.body;
    assert_eq!(t["periods"].as_array().unwrap().len(), 12);
    assert_eq!(t["series"], json!([]));
    assert_eq!(t["total"]["filed"], json!(vec![0; 12]));
}
