//! A fortnight of the middle of cases, on the test clock, across three departments and two
//! streets: a misrouted case returned and sent on (upheld), one returned and sent back
//! (overruled), an extension granted and one denied, urges, due-soon warnings (once each,
//! across a restart and after downtime), call-backs and a fix nobody confirmed closing by
//! itself. Then every new measure and the ranking, against values worked out by hand below.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use shaozi_tests::{t0, Answer, TestServer};

fn rules() -> shaozi_shared::Rules {
    shaozi_server::config::parse(
        r#"
        [assessment.weights]
        on_time = 0.2
        resolution = 0.2
        satisfaction = 0.1
        satisfied_share = 0.1
        on_time_resolution = 0.1
        resident_satisfaction = 0.1
        returns_kept = 0.1
        unurged = 0.05
        confirmed = 0.05
        dispatch_accuracy = 0.2
        "#,
    )
    .expect("rules")
}

struct Cast {
    dispatcher: String,
    /// 城管局 D1, 路灯管理处 D2, 住建局 D3.
    d: Vec<String>,
    /// 朝阳路社区 C1 (street S1), 龙洲村 C3 (street S2).
    c1: String,
    c3: String,
}

async fn step(s: &TestServer, token: &str, w: &str, step: &str, body: Value) -> Value {
    let a: Answer = TestServer::send(
        s.req_as(
            token,
            reqwest::Method::POST,
            &format!("/api/v1/whistles/{w}/{step}"),
        )
        .json(&body),
    )
    .await;
    assert_eq!(a.status, 200, "{w} {step}: {}", a.body);
    a.body
}

async fn file(s: &TestServer, token: &str, body: Value) -> String {
    let a = TestServer::send(
        s.req_as(token, reqwest::Method::POST, "/api/v1/whistles")
            .json(&body),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.str("id")
}

/// Sets the clock to `t0 + hours`.
fn at(s: &TestServer, hours: f64) {
    let target = t0() + Duration::seconds((hours * 3600.0) as i64);
    let now = s.clock.now_utc();
    assert!(target >= now, "the clock only goes forward");
    s.clock.advance(target - now);
}

fn kinds(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn due_soon_count(s: &TestServer, w: &str) -> usize {
    let d = s.get(&format!("/api/v1/whistles/{w}")).await.body;
    kinds(&d)
        .iter()
        .filter(|k| *k == "whistle.due_soon")
        .count()
}

fn unit<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {a}"))
}

fn close_to(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

#[tokio::test]
async fn a_fortnight_of_returns_extensions_urges_and_call_backs_is_measured_as_worked_out_by_hand()
{
    let s = TestServer::start_with_rules(rules()).await;
    let city = s.small_city().await;
    let mut d = Vec::new();
    for (i, dep) in city.departments.iter().enumerate() {
        d.push(
            s.token(
                "department",
                json!({"department_id": dep}),
                &format!("部门{i}"),
            )
            .await,
        );
    }
    let cast = Cast {
        dispatcher: s.token("dispatcher", json!({}), "市调度").await,
        d,
        c1: s
            .token(
                "community",
                json!({"community_id": city.communities[0]}),
                "朝阳路",
            )
            .await,
        c3: s
            .token(
                "community",
                json!({"community_id": city.communities[2]}),
                "龙洲村",
            )
            .await,
    };
    let (c1, c2, c3) = (
        &city.communities[0],
        &city.communities[1],
        &city.communities[2],
    );
    let dep = |i: usize| json!(city.departments[i]);
    let staff = json!({"staff": ["张伟", "李娜"]});

    // t0 (Thursday 16:00 in Yiyang): five normal cases, all filed now: report for duty within
    // 24 h (a warning at 19.2 h), resolve within 7 days (a warning at 5.6 days).
    let a = file(&s, &cast.c1, json!({"community_id": c1, "category": "lighting", "urgency": "normal", "title": "路灯不亮", "description": "朝阳路三盏路灯不亮"})).await;
    let b = file(&s, &cast.c1, json!({"community_id": c1, "category": "sanitation", "urgency": "normal", "title": "垃圾堆积", "description": "小区门口垃圾三天未清"})).await;
    let c = file(&s, &cast.c3, json!({"community_id": c3, "category": "property", "urgency": "normal", "title": "危房墙体开裂", "description": "村口老屋墙体开裂"})).await;
    // Taken by the 12345 hotline, entered by the city.
    let dd = file(&s, shaozi_tests::TOKEN, json!({"community_id": c3, "category": "lighting", "urgency": "normal", "title": "灯杆倾斜", "description": "12345 转来", "source": "hotline"})).await;
    let e = file(&s, shaozi_tests::TOKEN, json!({"community_id": c2, "category": "market", "urgency": "normal", "title": "占道经营", "description": "菜市场外占道", "source": "grid"})).await;
    let disp = &cast.dispatcher;
    // A is misrouted to 城管 (lighting is 路灯's); B goes to 城管; C to 住建; D to 住建 first.
    step(&s, disp, &a, "dispatch", json!({"department_id": dep(0)})).await;
    step(&s, disp, &b, "dispatch", json!({"department_id": dep(0)})).await;
    step(&s, disp, &c, "dispatch", json!({"department_id": dep(2)})).await;
    step(&s, disp, &dd, "dispatch", json!({"department_id": dep(2)})).await;
    step(&s, disp, &e, "dispatch", json!({"department_id": dep(0)})).await;

    // +1 h: 城管 returns A and B; both head the dispatcher's queue.
    at(&s, 1.0);
    step(
        &s,
        &cast.d[0],
        &a,
        "return",
        json!({"reason": "路灯归路灯管理处"}),
    )
    .await;
    step(
        &s,
        &cast.d[0],
        &b,
        "return",
        json!({"reason": "垃圾清运归环卫"}),
    )
    .await;
    let queue = s
        .get("/api/v1/whistles?status=new,dispatched,returned")
        .await
        .body;
    let first_two: Vec<&str> = queue["items"].as_array().unwrap()[..2]
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(first_two, [a.as_str(), b.as_str()], "{queue}");
    // A's return is upheld (to 路灯: a misroute for street S1; 路灯's clocks start now);
    // B's is overruled (城管's clock still runs from t0).
    let upheld = step(
        &s,
        disp,
        &a,
        "dispatch",
        json!({"department_id": dep(1), "note": "路灯归你处"}),
    )
    .await;
    assert_eq!(
        upheld["respond_by"],
        json!("2026-11-27T09:00:00Z"),
        "24 h from the re-dispatch"
    );
    step(
        &s,
        disp,
        &b,
        "overrule",
        json!({"reason": "该小区由城管负责清运"}),
    )
    .await;
    step(&s, &cast.d[2], &c, "acknowledge", staff.clone()).await;
    // D moves twice: 住建 → 城管 → 路灯.
    step(
        &s,
        disp,
        &dd,
        "dispatch",
        json!({"department_id": dep(0), "note": "改派"}),
    )
    .await;
    step(
        &s,
        disp,
        &dd,
        "dispatch",
        json!({"department_id": dep(1), "note": "再改派"}),
    )
    .await;

    // +2 h: everyone but E reports for duty; 城管 asks two more days for B (granted, to
    // t0 + 9 d), 住建 three for C (denied); C is urged twice.
    at(&s, 2.0);
    step(&s, &cast.d[0], &b, "acknowledge", staff.clone()).await;
    step(&s, &cast.d[1], &a, "acknowledge", staff.clone()).await;
    step(&s, &cast.d[1], &dd, "acknowledge", staff.clone()).await;
    let b_until = t0() + Duration::days(9);
    step(
        &s,
        &cast.d[0],
        &b,
        "extension",
        json!({"until": b_until, "reason": "需协调环卫车辆"}),
    )
    .await;
    let granted = step(&s, disp, &b, "extension/approve", json!({})).await;
    assert_eq!(granted["resolve_by"], json!("2026-12-05T08:00:00Z"));
    step(
        &s,
        &cast.d[2],
        &c,
        "extension",
        json!({"until": t0() + Duration::days(10), "reason": "需鉴定"}),
    )
    .await;
    step(
        &s,
        disp,
        &c,
        "extension/deny",
        json!({"reason": "危房须尽快处置"}),
    )
    .await;
    step(&s, disp, &c, "urge", json!({"note": "请尽快排危"})).await;
    step(&s, disp, &c, "urge", json!({"note": "村民担心安全"})).await;

    // +20 h: E (still waiting for 城管) is due soon, once; it is the only one due within 5 h.
    at(&s, 20.0);
    let due = s.get("/api/v1/whistles?due_within=5h").await.body;
    let due_ids: Vec<&str> = due["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(due_ids, [e.as_str()], "{due}");
    assert_eq!(s.sweep().await, 1);
    let s = s.restart().await;
    assert_eq!(s.sweep().await, 0, "not again after a restart");
    assert_eq!(due_soon_count(&s, &e).await, 1);
    // +25 h: E misses its deadline.
    at(&s, 25.0);
    assert_eq!(s.sweep().await, 1);

    // +72 h: 路灯 fixes A; +100 h 朝阳路 closes it with 5, the resident says 5 on the phone.
    at(&s, 72.0);
    step(
        &s,
        &cast.d[1],
        &a,
        "resolve",
        json!({"reply": "已更换灯泡"}),
    )
    .await;
    at(&s, 100.0);
    step(&s, &cast.c1, &a, "close", json!({"satisfaction": 5})).await;
    step(
        &s,
        disp,
        &a,
        "callback",
        json!({"reached": true, "satisfaction": 5, "note": "居民说晚上亮了"}),
    )
    .await;

    // Down over C's and D's warnings (134.4 h): both caught up once when it is back.
    at(&s, 140.0);
    let s = s.restart().await;
    s.sweep().await;
    s.sweep().await;
    for w in [&c, &dd] {
        assert_eq!(due_soon_count(&s, w).await, 1, "{w}");
    }
    // +170 h: C and D miss the resolve deadline (168 h); B's was extended.
    at(&s, 170.0);
    assert_eq!(s.sweep().await, 2);
    // +175 h: B is due soon against its extended deadline (172.8 h).
    at(&s, 175.0);
    assert_eq!(s.sweep().await, 1);
    // +180 h: B is fixed in the extended time; C late.
    at(&s, 180.0);
    let b_fixed = step(&s, &cast.d[0], &b, "resolve", json!({"reply": "已清运"})).await;
    // Three working days from Friday 04:00: Fri, Mon, Tue → Tuesday 17:30 in Yiyang.
    assert_eq!(b_fixed["confirm_by"], json!("2026-12-08T09:30:00Z"));
    step(&s, &cast.d[2], &c, "resolve", json!({"reply": "已加固"})).await;
    at(&s, 181.0);
    step(&s, &cast.c3, &c, "close", json!({"satisfaction": 2})).await;
    at(&s, 182.0);
    step(
        &s,
        disp,
        &c,
        "callback",
        json!({"reached": true, "satisfaction": 3, "note": "修得慢"}),
    )
    .await;
    step(
        &s,
        disp,
        &b,
        "callback",
        json!({"reached": false, "note": "无人接听"}),
    )
    .await;
    // Nobody confirms B: it closes by itself once, without a rating.
    let deadline: DateTime<Utc> = "2026-12-08T09:30:00Z".parse().unwrap();
    s.clock
        .advance(deadline - s.clock.now_utc() - Duration::minutes(1));
    assert_eq!(s.sweep().await, 0);
    s.clock.advance(Duration::minutes(2));
    assert_eq!(s.sweep().await, 1);
    assert_eq!(s.sweep().await, 0);
    let b_done = s.get(&format!("/api/v1/whistles/{b}")).await.body;
    assert_eq!(
        (
            &b_done["status"],
            &b_done["satisfaction"],
            &b_done["auto_closed"]
        ),
        (&json!("closed"), &Value::Null, &json!(true))
    );
    assert_eq!(
        kinds(&b_done).last().map(String::as_str),
        Some("whistle.auto_closed")
    );

    // Each deadline warned once: E (to report for duty), B, C and D (to resolve); not A.
    for (w, n) in [(&a, 0), (&b, 1), (&c, 1), (&dd, 1), (&e, 1)] {
        assert_eq!(due_soon_count(&s, w).await, n, "{w}");
    }
    let a_kinds = kinds(&s.get(&format!("/api/v1/whistles/{a}")).await.body);
    assert_eq!(
        &a_kinds[..4],
        [
            "whistle.created",
            "whistle.dispatched",
            "whistle.returned",
            "whistle.return_upheld"
        ]
    );
    // Sources: three from communities, one from the hotline, one from a grid worker.
    let stats = s.get("/api/v1/stats").await.body;
    let by_source: Vec<i64> = stats["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["whistles"].as_i64().unwrap())
        .collect();
    assert_eq!(by_source, [3, 1, 0, 1, 0, 0, 0], "{stats}");
    // The public feed tells a resident about the return and the extension, in words.
    let feed = s
        .get("/open311/v2/servicerequestupdates.json?start_date=2026-11-26T00:00:00Z")
        .await
        .body;
    let about = |id: &str| -> Vec<(String, String)> {
        feed.as_array()
            .unwrap()
            .iter()
            .filter(|u| u["service_request_id"] == id)
            .map(|u| {
                (
                    u["status"].as_str().unwrap().to_string(),
                    u["description"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(
        about(&a)
            .iter()
            .any(|(st, d)| st == "open" && d.contains("退回")),
        "{:?}",
        about(&a)
    );
    assert!(
        about(&b)
            .iter()
            .any(|(st, d)| st == "open" && d.contains("延期")),
        "{:?}",
        about(&b)
    );

    // The assessment of the fortnight.
    let period = "from=2026-11-25T00:00:00Z&to=2026-12-25T00:00:00Z";
    let deps = s
        .get(&format!("/api/v1/assessment?group=department&{period}"))
        .await
        .body;
    // 城管 D1 leads B and E, and had A's return upheld. B: on time, resolved in its extended
    // time, overruled once, one extension, closed unrated. E: never reported, overdue.
    let d1 = unit(&deps, &city.departments[0]);
    for (k, v) in [
        ("dispatched", 2),
        ("on_time", 1),
        ("resolved", 1),
        ("resolved_on_time", 1),
        ("returns_upheld", 1),
        ("returns_overruled", 1),
        ("extensions_granted", 1),
        ("urges", 0),
        ("rated", 0),
        ("resident_rated", 0),
        ("closed", 1),
        ("closed_unrated", 1),
        ("escalations", 1),
        ("overdue_now", 1),
    ] {
        assert_eq!(d1[k], json!(v), "D1 {k}: {d1}");
    }
    assert!(close_to(&d1["on_time_resolution_rate"], 1.0), "{d1}");
    assert_eq!(d1["dispatch_accuracy"], Value::Null, "a street's measure");
    // 路灯 D2 leads A (closed 5, resident 5) and D (on time, not resolved, overdue once).
    let d2 = unit(&deps, &city.departments[1]);
    for (k, v) in [
        ("dispatched", 2),
        ("on_time", 2),
        ("resolved", 1),
        ("resolved_on_time", 1),
        ("returns_upheld", 0),
        ("returns_overruled", 0),
        ("extensions_granted", 0),
        ("rated", 1),
        ("resident_rated", 1),
        ("closed", 1),
        ("closed_unrated", 0),
        ("escalations", 1),
    ] {
        assert_eq!(d2[k], json!(v), "D2 {k}: {d2}");
    }
    assert!(close_to(&d2["resident_satisfaction_mean"], 5.0), "{d2}");
    // 住建 D3 leads C: on time, resolved late, urged twice, rated 2, resident 3.
    let d3 = unit(&deps, &city.departments[2]);
    for (k, v) in [
        ("dispatched", 1),
        ("resolved", 1),
        ("resolved_on_time", 0),
        ("urges", 2),
        ("extensions_granted", 0),
        ("resident_rated", 1),
    ] {
        assert_eq!(d3[k], json!(v), "D3 {k}: {d3}");
    }
    assert!(close_to(&d3["on_time_resolution_rate"], 0.0), "{d3}");
    assert!(close_to(&d3["resident_satisfaction_mean"], 3.0), "{d3}");
    // Scores, the weighted mean of the rates each has (weights above):
    // D1: on-time .5×.2 + resolution .5×.2 + on-time resolution 1×.1 + returns kept
    //     (1 − 1/2)×.1 + unurged 1×.05 + confirmed (1 − 1/1)×.05 = .4 over weights .7 → 57.1
    // D2: .2 + .5×.2 + .1 + .1 + .1 + .1 + .1 + .05 + .05 = .9 over 1.0 → 90.0
    // D3: .2 + .2 + (2/5)×.1 + 0 + 0 + (3/5)×.1 + .1 + (1 − 2/1 → 0)×.05 + .05 = .65 → 65.0
    assert_eq!(d1["score"], json!(57.1));
    assert_eq!(d2["score"], json!(90.0));
    assert_eq!(d3["score"], json!(65.0));
    let ranked: Vec<&str> = deps["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ranked,
        [
            &city.departments[1],
            &city.departments[2],
            &city.departments[0]
        ]
    );

    let streets = s
        .get(&format!("/api/v1/assessment?group=street&{period}"))
        .await
        .body;
    // S1: A (2 dispatches, 1 upheld return), B (1; an overrule is no dispatch), E (1).
    let s1 = unit(&streets, &city.streets[0]);
    for (k, v) in [
        ("dispatched", 3),
        ("dispatches", 4),
        ("returns_upheld", 1),
        ("returns_overruled", 1),
        ("moved_twice", 0),
        ("closed", 2),
        ("closed_unrated", 1),
    ] {
        assert_eq!(s1[k], json!(v), "S1 {k}: {s1}");
    }
    assert!(close_to(&s1["dispatch_accuracy"], 0.75), "{s1}");
    // S2: C (1 dispatch), D (3: moved twice); no return, so every dispatch stood.
    let s2 = unit(&streets, &city.streets[1]);
    for (k, v) in [
        ("dispatched", 2),
        ("dispatches", 4),
        ("returns_upheld", 0),
        ("moved_twice", 1),
        ("urges", 2),
    ] {
        assert_eq!(s2[k], json!(v), "S2 {k}: {s2}");
    }
    assert!(close_to(&s2["dispatch_accuracy"], 1.0), "{s2}");
    // S1: on-time 2/3×.2 + resolution 2/3×.2 + 1×.1 + 1×.1 + on-time resolution 1×.1 +
    //     resident 1×.1 + returns kept (1 − 1/3)×.1 + unurged 1×.05 + confirmed .5×.05 +
    //     accuracy .75×.2 = .958333 over 1.2 → 79.9
    // S2: .2 + .5×.2 + .4×.1 + 0 + 0 + .6×.1 + .1 + (1 − 2/2)×.05 + .05 + 1×.2 = .75 → 62.5
    assert_eq!(s1["score"], json!(79.9));
    assert_eq!(s2["score"], json!(62.5));
    assert_eq!(
        (s1["rank"].as_u64(), s2["rank"].as_u64()),
        (Some(1), Some(2))
    );
    // The CSV carries the new columns.
    let csv = s
        .client
        .get(format!(
            "{}/api/v1/assessment?group=street&format=csv&{period}",
            s.base
        ))
        .bearer_auth(shaozi_tests::TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let cell = |name: &str| {
        let i = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name}"));
        row[i]
    };
    assert_eq!(
        (
            cell("dispatches"),
            cell("dispatch_accuracy"),
            cell("moved_twice")
        ),
        ("4", "0.75", "0"),
        "{csv}"
    );
}
