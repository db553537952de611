//! A community files, a dispatcher assigns, the department reports for duty, fixes and
//! replies, the community rates: every step over real HTTP, with every refusal checked.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use serde_json::json;
use shaozi_tests::{TestServer, TOKEN};

#[tokio::test]
async fn a_whistle_lives_its_whole_life() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let filed = s
        .post(
            "/api/v1/whistles",
            json!({"community_id": city.communities[0], "category": "lighting", "urgency": "urgent",
                   "title": "朝阳路路灯不亮", "description": "三盏路灯连续一周不亮",
                   "address": "朝阳路12号", "lat": 28.57, "long": 112.35}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let id = filed.str("id");
    assert!(id.starts_with('W'), "short typable id: {id}");
    assert_eq!(
        filed.headers["location"],
        format!("/api/v1/whistles/{id}").as_str()
    );
    assert_eq!(filed.headers["etag"], "\"1\"");
    let w = &filed.body;
    assert_eq!(w["status"], "new");
    assert_eq!(w["street_id"], city.streets[0].as_str());
    assert_eq!(w["created_at"], "2026-11-26T08:00:00Z");
    assert_eq!(
        w["respond_by"], "2026-11-26T08:30:00Z",
        "urgent: report within 30 minutes"
    );
    assert_eq!(
        w["resolve_by"], "2026-11-27T08:00:00Z",
        "urgent: resolve within 24 hours"
    );
    assert_eq!(w["overdue"], false);
    assert_eq!(w["escalation_level"], 0);
    assert_eq!(w["version"], 1);
    assert_eq!(w["filed_by"], "admin");

    let path = |a: &str| format!("/api/v1/whistles/{id}/{a}");
    s.clock.advance(Duration::minutes(5));
    let d = s.ok(&path("dispatch"), json!({"department_id": city.departments[1], "assisting": [city.departments[2]], "note": "请路灯处牵头"}), 200).await;
    assert_eq!(
        (d["status"].as_str(), d["department_id"].as_str()),
        (Some("dispatched"), Some(city.departments[1].as_str()))
    );
    assert_eq!(d["assisting"], json!([city.departments[2]]));
    assert_eq!(d["version"], 2);

    s.clock.advance(Duration::minutes(10));
    let a = s
        .ok(
            &path("acknowledge"),
            json!({"staff": ["张伟", "李娜"], "note": "已到现场"}),
            200,
        )
        .await;
    assert_eq!(a["status"], "acknowledged");
    assert_eq!(
        a["respond_late"], false,
        "reported 15 minutes in, before the deadline"
    );

    // The assisting department reports and does its part (joint 报到), so the lead resolves
    // without having to say why it did not wait.
    s.ok(
        &path("acknowledge"),
        json!({"staff": ["王强", "赵敏"], "department_id": city.departments[2]}),
        200,
    )
    .await;
    s.ok(
        &path("part-done"),
        json!({"note": "已检修线路", "department_id": city.departments[2]}),
        200,
    )
    .await;
    s.clock.advance(Duration::hours(2));
    let r = s
        .ok(&path("resolve"), json!({"reply": "已更换灯泡三个"}), 200)
        .await;
    assert_eq!(
        (r["status"].as_str(), r["reply"].as_str()),
        (Some("resolved"), Some("已更换灯泡三个"))
    );

    let o = s
        .ok(&path("reopen"), json!({"reason": "还有一盏不亮"}), 200)
        .await;
    assert_eq!(o["status"], "acknowledged");
    assert_eq!(o["reopened"], 1);
    assert_eq!(
        o["resolve_by"], "2026-11-27T10:15:00Z",
        "reopening restarts the resolve clock"
    );
    s.ok(&path("resolve"), json!({"reply": "第四盏也已修好"}), 200)
        .await;
    let c = s
        .ok(
            &path("close"),
            json!({"satisfaction": 5, "note": "满意"}),
            200,
        )
        .await;
    assert_eq!(
        (c["status"].as_str(), c["satisfaction"].as_i64()),
        (Some("closed"), Some(5))
    );
    assert_eq!(c["version"], 9);

    let detail = s.get(&format!("/api/v1/whistles/{id}")).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.headers["etag"], "\"9\"");
    let kinds: Vec<&str> = detail.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "whistle.created",
            "whistle.dispatched",
            "whistle.acknowledged",
            "whistle.assist_reported",
            "whistle.assist_done",
            "whistle.resolved",
            "whistle.reopened",
            "whistle.resolved",
            "whistle.closed"
        ]
    );
    let reopen = &detail.body["timeline"][6];
    assert_eq!(reopen["note"], "还有一盏不亮");
    assert_eq!(reopen["actor"], json!({"name": "admin", "role": "admin"}));
    assert_eq!(reopen["at"], "2026-11-26T10:15:00Z");
    assert_eq!(
        detail.body["timeline"][1]["department_id"],
        city.departments[1].as_str()
    );

    // Nothing more can happen to a closed whistle; the refusal names the status.
    let again = s.post(&path("reopen"), json!({"reason": "x"})).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.content_type(), "application/problem+json");
    assert_eq!(again.body["current_status"], "closed");
    assert!(
        again.str("detail").contains("it is closed"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn refusals_are_clear_problems() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let id = s
        .whistle(&city.communities[0], "sanitation", "normal", "垃圾堆积")
        .await;
    let path = |a: &str| format!("/api/v1/whistles/{id}/{a}");

    struct Case {
        path: String,
        body: serde_json::Value,
        status: u16,
        field: Option<&'static str>,
        says: &'static str,
    }
    let cases = vec![
        Case {
            path: path("acknowledge"),
            body: json!({"staff": ["张伟", "李娜"]}),
            status: 409,
            field: None,
            says: "dispatch it to a department first",
        },
        Case {
            path: path("close"),
            body: json!({"satisfaction": 5}),
            status: 409,
            field: None,
            says: "it is new",
        },
        Case {
            path: path("dispatch"),
            body: json!({"department_id": "D99"}),
            status: 422,
            field: Some("department_id"),
            says: "no department D99",
        },
        Case {
            path: path("dispatch"),
            body: json!({"department_id": "城管"}),
            status: 422,
            field: Some("department_id"),
            says: "not a department id",
        },
        Case {
            path: path("dispatch"),
            body: json!({}),
            status: 422,
            field: Some("department_id"),
            says: "missing field `department_id`",
        },
        Case {
            path: path("dispatch"),
            body: json!({"department_id": city.departments[0], "urgent": true}),
            status: 422,
            field: Some("urgent"),
            says: "unknown field `urgent`",
        },
        Case {
            path: path("reject"),
            body: json!({"reason": "  "}),
            status: 422,
            field: Some("reason"),
            says: "must not be empty",
        },
        Case {
            path: path("reject"),
            body: json!({"reason": "重复", "duplicate_of": "W9999"}),
            status: 422,
            field: Some("duplicate_of"),
            says: "no whistle W9999",
        },
        Case {
            path: path("reject"),
            body: json!({"reason": "重复", "duplicate_of": id}),
            status: 422,
            field: Some("duplicate_of"),
            says: "itself",
        },
        Case {
            path: path("escalate"),
            body: json!({"reason": 5}),
            status: 422,
            field: Some("reason"),
            says: "invalid type",
        },
        Case {
            path: path("fly"),
            body: json!({}),
            status: 404,
            field: None,
            says: "no action \"fly\"",
        },
        Case {
            path: "/api/v1/whistles/W424242/dispatch".into(),
            body: json!({"department_id": city.departments[0]}),
            status: 404,
            field: None,
            says: "no whistle W424242",
        },
        Case {
            path: "/api/v1/whistles/abc/dispatch".into(),
            body: json!({"department_id": "D1"}),
            status: 404,
            field: None,
            says: "not a whistle id",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": city.communities[0], "category": "dragons", "urgency": "normal", "title": "t", "description": "d"}),
            status: 422,
            field: Some("category"),
            says: "unknown category",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": city.communities[0], "category": "roads", "urgency": "soon", "title": "t", "description": "d"}),
            status: 422,
            field: Some("urgency"),
            says: "unknown variant",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": "C77", "category": "roads", "urgency": "normal", "title": "t", "description": "d"}),
            status: 422,
            field: Some("community_id"),
            says: "no community C77",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal", "title": "坑".repeat(101), "description": "d"}),
            status: 422,
            field: Some("title"),
            says: "at most 100",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal", "title": "t", "description": "d", "lat": 91.0, "long": 112.0}),
            status: 422,
            field: Some("lat"),
            says: "from -90 to 90",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal", "title": "t", "description": "d", "lat": 28.0}),
            status: 422,
            field: Some("long"),
            says: "together",
        },
        Case {
            path: "/api/v1/whistles".into(),
            body: json!([1, 2]),
            status: 422,
            field: None,
            says: "must be a JSON object",
        },
    ];
    for c in cases {
        let a = s.post(&c.path, c.body.clone()).await;
        assert_eq!(a.status, c.status, "{} {}: {}", c.path, c.body, a.body);
        assert_eq!(a.content_type(), "application/problem+json", "{}", c.path);
        assert_eq!(a.body["status"], c.status);
        assert_eq!(
            a.body["field"].as_str(),
            c.field,
            "{} {}: {}",
            c.path,
            c.body,
            a.body
        );
        assert!(
            a.str("detail").contains(c.says),
            "{} {}: {:?} lacks {:?}",
            c.path,
            c.body,
            a.str("detail"),
            c.says
        );
    }

    // Bodies that are not JSON at all.
    let raw = |body: &'static str, ct: Option<&str>| {
        let mut rb = s.req(reqwest::Method::POST, &path("escalate")).body(body);
        if let Some(ct) = ct {
            rb = rb.header("content-type", ct);
        }
        TestServer::send(rb)
    };
    let a = raw("{\"reason\": ", Some("application/json")).await;
    assert_eq!(
        (a.status, a.content_type().as_str()),
        (400, "application/problem+json"),
        "{}",
        a.body
    );
    let a = raw("{\"reason\": \"x\"} trailing", Some("application/json")).await;
    assert_eq!(a.status, 400, "{}", a.body);
    let a = raw("{\"reason\": \"x\"}", None).await;
    assert_eq!(a.status, 415, "{}", a.body);
    let a = raw("{\"reason\": \"x\"}", Some("text/plain")).await;
    assert_eq!(a.status, 415, "{}", a.body);

    // Over 64 KiB: 413, and nothing was written.
    let big = json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal", "title": "t", "description": "长".repeat(30_000)});
    let a = s.post("/api/v1/whistles", big).await;
    assert_eq!(
        (a.status, a.content_type().as_str()),
        (413, "application/problem+json"),
        "{}",
        a.body
    );

    // None of the refusals changed the whistle or filed anything.
    let w = s.get(&format!("/api/v1/whistles/{id}")).await;
    assert_eq!(w.body["version"], 1);
    assert_eq!(w.body["timeline"].as_array().unwrap().len(), 1);
    let all = s.get("/api/v1/whistles?limit=500").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn steps_check_their_inputs() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let id = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯不亮")
        .await;
    let path = |a: &str| format!("/api/v1/whistles/{id}/{a}");
    s.ok(
        &path("dispatch"),
        json!({"department_id": city.departments[1]}),
        200,
    )
    .await;

    let same = s
        .post(
            &path("dispatch"),
            json!({"department_id": city.departments[1], "note": "再派"}),
        )
        .await;
    assert_eq!(same.status, 409, "{}", same.body);
    let no_reason = s
        .post(
            &path("dispatch"),
            json!({"department_id": city.departments[2]}),
        )
        .await;
    assert_eq!(
        (no_reason.status, no_reason.str("field")),
        (422, "note".to_string()),
        "{}",
        no_reason.body
    );
    let moved = s
        .ok(
            &path("dispatch"),
            json!({"department_id": city.departments[2], "note": "住建局负责小区内路灯"}),
            200,
        )
        .await;
    assert_eq!(moved["department_id"], city.departments[2].as_str());

    for staff in [json!([]), json!(["张伟"]), json!(["张伟", "张伟"])] {
        let a = s.post(&path("acknowledge"), json!({"staff": staff})).await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, "staff".to_string()),
            "{staff}: {}",
            a.body
        );
        assert!(a.str("detail").contains("two or more"), "{}", a.body);
    }
    s.ok(
        &path("acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    let empty = s.post(&path("resolve"), json!({"reply": ""})).await;
    assert_eq!(
        (empty.status, empty.str("field")),
        (422, "reply".to_string())
    );
    s.ok(&path("resolve"), json!({"reply": "已修复"}), 200)
        .await;
    for bad in [json!(0), json!(6), json!(-3)] {
        let a = s.post(&path("close"), json!({"satisfaction": bad})).await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, "satisfaction".to_string()),
            "{}",
            a.body
        );
    }
    let frac = s.post(&path("close"), json!({"satisfaction": 4.5})).await;
    assert_eq!(
        (frac.status, frac.str("field")),
        (422, "satisfaction".to_string()),
        "{}",
        frac.body
    );

    let timeline = s.get(&format!("/api/v1/whistles/{id}")).await.body["timeline"].clone();
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "whistle.created",
            "whistle.dispatched",
            "whistle.reassigned",
            "whistle.acknowledged",
            "whistle.resolved"
        ]
    );
    assert_eq!(timeline[2]["note"], "住建局负责小区内路灯");
}

#[tokio::test]
async fn a_duplicate_points_to_the_original_and_the_original_shows_it() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let orig = s
        .whistle(&city.communities[0], "sanitation", "normal", "垃圾山")
        .await;
    let dup = s
        .whistle(&city.communities[1], "sanitation", "normal", "垃圾山又来了")
        .await;
    let r = s
        .ok(
            &format!("/api/v1/whistles/{dup}/reject"),
            json!({"reason": "与原件重复", "duplicate_of": orig}),
            200,
        )
        .await;
    assert_eq!(
        (r["status"].as_str(), r["duplicate_of"].as_str()),
        (Some("rejected"), Some(orig.as_str()))
    );
    let o = s.get(&format!("/api/v1/whistles/{orig}")).await.body;
    assert_eq!(o["duplicates"], json!([dup]));
    assert_eq!(
        o["status"], "new",
        "linking a duplicate does not move the original"
    );
    let last = o["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "whistle.duplicate_linked");
    assert!(last["note"].as_str().unwrap().contains(&dup));
}

#[tokio::test]
async fn the_queue_is_overdue_first_then_urgent_then_earliest_deadline() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let c = &city.communities[0];
    // 08:00 normal (due tomorrow 08:00), 08:00 urgent (due 08:30).
    let normal_early = s.whistle(c, "roads", "normal", "路面坑洼").await;
    let urgent_late = s.whistle(c, "safety", "urgent", "墙体开裂").await;
    s.clock.advance(Duration::minutes(40));
    // 08:40: the first urgent is now overdue; two more arrive.
    let urgent_new = s.whistle(c, "drainage", "urgent", "下水道堵塞").await;
    let normal_new = s.whistle(c, "noise", "normal", "夜间施工").await;
    assert_eq!(s.sweep().await, 1);
    let closed = s.whistle(c, "roads", "normal", "已处理").await;
    s.ok(
        &format!("/api/v1/whistles/{closed}/reject"),
        json!({"reason": "不是问题"}),
        200,
    )
    .await;

    let q = s.get("/api/v1/whistles?status=new,dispatched").await;
    let ids: Vec<&str> = q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            urgent_late.as_str(),
            urgent_new.as_str(),
            normal_early.as_str(),
            normal_new.as_str()
        ]
    );
    assert_eq!(q.body["items"][0]["overdue"], true);
    assert_eq!(q.body["items"][0]["escalation_level"], 1);
    assert_eq!(q.body["next_cursor"], serde_json::Value::Null);

    let overdue = s
        .get("/api/v1/whistles?status=new,dispatched&overdue=true")
        .await;
    assert_eq!(overdue.body["items"].as_array().unwrap().len(), 1);
    let stats = s.get("/api/v1/stats").await.body;
    assert_eq!(
        stats["queue"],
        json!({"unanswered": 4, "overdue": 1, "urgent": 2})
    );

    // Escalating by hand puts a whistle right after the overdue ones.
    s.ok(
        &format!("/api/v1/whistles/{normal_new}/escalate"),
        json!({"reason": "居民多次反映"}),
        200,
    )
    .await;
    let q = s.get("/api/v1/whistles?status=new,dispatched").await;
    let ids: Vec<&str> = q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            urgent_late.as_str(),
            normal_new.as_str(),
            urgent_new.as_str(),
            normal_early.as_str()
        ]
    );

    // The overdue event and the escalation are on the timeline, exactly once.
    assert_eq!(s.sweep().await, 0);
    let t = s.get(&format!("/api/v1/whistles/{urgent_late}")).await.body["timeline"].clone();
    let kinds: Vec<&str> = t
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["whistle.created", "whistle.overdue", "whistle.escalated"]
    );
    assert_eq!(t[1]["actor"]["name"], "system");
}

#[tokio::test]
async fn lists_filter_and_page_without_gaps_or_repeats() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let mut filed = Vec::new();
    for i in 0..23 {
        let c = &city.communities[i % 3];
        let urgency = if i % 4 == 0 { "urgent" } else { "normal" };
        s.clock.advance(Duration::seconds(7));
        filed.push(
            s.whistle(c, "sanitation", urgency, &format!("第{i}件"))
                .await,
        );
    }
    for id in filed.iter().take(6) {
        s.dispatch(id, &city.departments[0]).await;
    }
    for id in filed.iter().take(2) {
        s.ok(
            &format!("/api/v1/whistles/{id}/acknowledge"),
            json!({"staff": ["甲", "乙"]}),
            200,
        )
        .await;
    }

    async fn walk(s: &TestServer, q: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("/api/v1/whistles?{q}&limit=4&cursor={c}"),
                None => format!("/api/v1/whistles?{q}&limit=4"),
            };
            let page = s.get(&url).await;
            assert_eq!(page.status, 200, "{url}: {}", page.body);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= 4);
            out.extend(items.iter().map(|w| w["id"].as_str().unwrap().to_string()));
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
    let queue = walk(&s, "status=new,dispatched").await;
    assert_eq!(queue.len(), 21);
    let mut unique = queue.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 21, "no whistle twice");

    let all = walk(&s, "x=1").await;
    assert_eq!(all.len(), 23);
    let mut newest_first = filed.clone();
    newest_first.reverse();
    assert_eq!(all, newest_first);

    let dept = walk(&s, &format!("department_id={}", city.departments[0])).await;
    assert_eq!(dept.len(), 6);
    let dept_waiting = walk(
        &s,
        &format!("department_id={}&status=dispatched", city.departments[0]),
    )
    .await;
    // A unit's unanswered whistles come in queue order too: the urgent one (i = 4) first,
    // then earliest deadline.
    assert_eq!(
        dept_waiting,
        [
            filed[4].clone(),
            filed[2].clone(),
            filed[3].clone(),
            filed[5].clone()
        ]
    );
    let comm = walk(&s, &format!("community_id={}", city.communities[2])).await;
    assert_eq!(comm.len(), 7);
    let street = walk(&s, &format!("street_id={}", city.streets[0])).await;
    assert_eq!(street.len(), 16);
    let urgent_new = walk(&s, "status=new&urgency=urgent").await;
    assert_eq!(
        urgent_new.len(),
        4,
        "urgent ones are 0,4,..,20; 0 and 4 were dispatched"
    );

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "status=open",
        "overdue=maybe",
        "department_id=城管",
        "cursor=zz",
        "cursor=i12x",
        "urgency=soon",
    ] {
        let a = s.get(&format!("/api/v1/whistles?{bad}")).await;
        assert_eq!(
            (a.status, a.content_type().as_str()),
            (400, "application/problem+json"),
            "{bad}: {}",
            a.body
        );
        assert!(a.body["field"].is_string(), "{bad}: {}", a.body);
    }
}

#[tokio::test]
async fn the_api_needs_a_token_but_health_does_not() {
    let s = TestServer::start().await;
    let plain = reqwest::Client::new();
    let h = plain
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    for (auth, why) in [
        (None, "no header"),
        (Some("Bearer wrong"), "unknown token"),
        (Some(TOKEN), "no Bearer prefix"),
    ] {
        let mut rb = plain.get(format!("{}/api/v1/stats", s.base));
        if let Some(a) = auth {
            rb = rb.header("authorization", a);
        }
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, 401, "{why}");
        assert_eq!(a.content_type(), "application/problem+json");
        assert_eq!(a.headers["www-authenticate"], "Bearer");
    }
    let nowhere = s.get("/api/v2/stats").await;
    assert_eq!(
        (nowhere.status, nowhere.content_type().as_str()),
        (404, "application/problem+json")
    );
    let wrong_method = TestServer::send(s.req(reqwest::Method::DELETE, "/api/v1/stats")).await;
    assert_eq!(wrong_method.status, 405);
}

/// Every refusal a dashboard words for its user carries a stable machine code and the field,
/// so the words need not be parsed out of the English detail.
#[tokio::test]
async fn refusals_carry_a_machine_code_and_the_field() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let id = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯不亮")
        .await;
    let path = |a: &str| format!("/api/v1/whistles/{id}/{a}");
    let code = |a: &shaozi_tests::Answer| {
        (
            a.status,
            a.body["code"].as_str().unwrap_or("").to_string(),
            a.body["field"].as_str().map(str::to_string),
        )
    };
    let early = s
        .post(&path("acknowledge"), json!({"staff": ["张伟", "李娜"]}))
        .await;
    assert_eq!(code(&early), (409, "not_allowed".into(), None));
    assert_eq!(early.body["current_status"], "new");
    let nowhere = s
        .post(&path("dispatch"), json!({"department_id": "D999"}))
        .await;
    assert_eq!(
        code(&nowhere),
        (
            422,
            "unknown_reference".into(),
            Some("department_id".into())
        )
    );
    s.ok(
        &path("dispatch"),
        json!({"department_id": city.departments[1]}),
        200,
    )
    .await;
    let again = s
        .post(
            &path("dispatch"),
            json!({"department_id": city.departments[1], "note": "再派"}),
        )
        .await;
    assert_eq!(code(&again), (409, "already_assigned".into(), None));
    let silent = s
        .post(
            &path("dispatch"),
            json!({"department_id": city.departments[2]}),
        )
        .await;
    assert_eq!(
        code(&silent),
        (422, "reason_required".into(), Some("note".into()))
    );
    let one = s
        .post(&path("acknowledge"), json!({"staff": ["张伟", "张伟"]}))
        .await;
    assert_eq!(
        code(&one),
        (422, "too_few_staff".into(), Some("staff".into()))
    );
    let blank = s.post(&path("escalate"), json!({"reason": "  "})).await;
    assert_eq!(code(&blank), (422, "empty".into(), Some("reason".into())));
    let long = s
        .post(&path("escalate"), json!({"reason": "长".repeat(1001)}))
        .await;
    assert_eq!(code(&long), (422, "too_long".into(), Some("reason".into())));
    for _ in 0..2 {
        s.ok(&path("escalate"), json!({"reason": "久拖不办"}), 200)
            .await;
    }
    let top = s.post(&path("escalate"), json!({"reason": "再升"})).await;
    assert_eq!(code(&top), (409, "top_escalation".into(), None));
    let stale = TestServer::send(
        s.req(reqwest::Method::POST, &path("reject"))
            .header("If-Match", "\"1\"")
            .json(&json!({"reason": "重复"})),
    )
    .await;
    assert_eq!(code(&stale), (412, "stale".into(), None));
    let missing = s.get("/api/v1/whistles/W9999").await;
    assert_eq!(code(&missing), (404, "not_found".into(), None));
}

/// Issue 28: a street blows the whistle itself and files for residents who phone or walk in,
/// within its own street only; outside it (or a community that does not exist) is a 404, so
/// nothing is learnt about other streets.
#[tokio::test]
async fn a_street_files_its_own_whistles_and_residents_within_its_street() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let street = s
        .token(
            "dispatcher",
            json!({"street_id": city.streets[0]}),
            "桃花仑街道调度",
        )
        .await;
    let filing = |community: &str, extra: serde_json::Value| {
        let mut body = json!({"community_id": community, "category": "roads", "urgency": "normal",
                              "title": "人行道塌陷", "description": "约一平方米"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let own = s
        .post_as(
            &street,
            "/api/v1/whistles",
            filing(&city.communities[0], json!({})),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.body["source"], "street", "the street's own whistle");
    assert_eq!(own.body["filed_by"], "桃花仑街道调度");
    let phoned = s
        .post_as(
            &street,
            "/api/v1/whistles",
            filing(
                &city.communities[1],
                json!({"source": "hotline", "reporter": {"name": "王阿姨", "phone": "13800138000"}}),
            ),
        )
        .await;
    assert_eq!(phoned.status, 201, "{}", phoned.body);
    assert_eq!(phoned.body["source"], "hotline");
    assert_eq!(phoned.body["street_id"], city.streets[0].as_str());

    // Who phoned is for those who handle the case: the street sees it; a viewer, the
    // community's own token, the public and the event stream of a viewer do not.
    let phoned_id = phoned.str("id");
    let viewer = s.token("viewer", json!({}), "市领导").await;
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[1]}),
            "梓山社区",
        )
        .await;
    let read =
        |token: &str, path: String| TestServer::send(s.req_as(token, reqwest::Method::GET, &path));
    let mine = read(&street, format!("/api/v1/whistles/{phoned_id}")).await;
    assert_eq!(
        mine.body["reporter"]["phone"], "13800138000",
        "{}",
        mine.body
    );
    for t in [&viewer, &community] {
        let one = read(t, format!("/api/v1/whistles/{phoned_id}")).await;
        assert_eq!(one.status, 200, "{}", one.body);
        assert_eq!(
            one.body["reporter"],
            serde_json::Value::Null,
            "{}",
            one.body
        );
        assert!(one.body["id"].is_string());
        let list = read(t, "/api/v1/whistles?status=new".into()).await;
        assert!(
            !list.body.to_string().contains("13800138000"),
            "{}",
            list.body
        );
        let events = TestServer::send(
            s.req_as(t, reqwest::Method::GET, "/api/v1/events?after=0")
                .header("Accept", "application/json"),
        )
        .await;
        assert!(events.body["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty()));
        assert!(
            !events.body.to_string().contains("13800138000"),
            "{}",
            events.body
        );
    }
    let public = s
        .client
        .get(format!("{}/open311/v2/requests/{phoned_id}.json", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !public.contains("13800138000") && !public.contains("王阿姨"),
        "{public}"
    );

    // Another street's community, and one that does not exist: the same 404.
    for community in [city.communities[2].as_str(), "C99"] {
        let out = s
            .post_as(&street, "/api/v1/whistles", filing(community, json!({})))
            .await;
        assert_eq!(out.status, 404, "{community}: {}", out.body);
        assert_eq!(
            out.body["detail"],
            format!("there is no community {community}")
        );
    }
    // A community files only for itself, with the same answer elsewhere.
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路社区",
        )
        .await;
    let other = s
        .post_as(
            &community,
            "/api/v1/whistles",
            filing(&city.communities[1], json!({})),
        )
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
    // The city office is told the reference is wrong.
    let missing = s.post("/api/v1/whistles", filing("C99", json!({}))).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    // Both filed cases are in the street's queue, counted by source.
    let stats = TestServer::send(s.req_as(&street, reqwest::Method::GET, "/api/v1/stats")).await;
    let count = |src: &str| {
        stats.body["sources"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["source"] == src))
            .map(|x| x["whistles"].clone())
    };
    assert_eq!(count("street"), Some(json!(1)), "{}", stats.body);
    assert_eq!(count("hotline"), Some(json!(1)), "{}", stats.body);
}
