//! The middle of a case at the API: every refusal of a return, an overrule, an extension, an
//! urge and a call-back says why (409 with the current status, 403 by role, 422 over a limit
//! or out of its window), and the steps that succeed change what they should.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use shaozi_tests::{Answer, City, TestServer};

/// Everyone who takes part, each with their own token.
struct People {
    dispatcher: String,
    /// The departments D1, D2, D3.
    departments: Vec<String>,
    community: String,
    viewer: String,
}

async fn people(s: &TestServer, city: &City) -> People {
    let mut departments = Vec::new();
    for (i, d) in city.departments.iter().enumerate() {
        departments.push(
            s.token(
                "department",
                json!({"department_id": d}),
                &format!("部门{i}"),
            )
            .await,
        );
    }
    People {
        dispatcher: s.token("dispatcher", json!({}), "市调度").await,
        departments,
        community: s
            .token(
                "community",
                json!({"community_id": city.communities[0]}),
                "朝阳路社区",
            )
            .await,
        viewer: s.token("viewer", json!({}), "看板").await,
    }
}

async fn act(s: &TestServer, token: &str, w: &str, step: &str, body: Value) -> Answer {
    TestServer::send(
        s.req_as(
            token,
            reqwest::Method::POST,
            &format!("/api/v1/whistles/{w}/{step}"),
        )
        .json(&body),
    )
    .await
}

fn refused(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.str("code"), code, "{}", a.body);
    assert_eq!(a.content_type(), "application/problem+json", "{}", a.body);
}

/// A whistle filed in the first community and dispatched to department `d` (0-based).
async fn dispatched(s: &TestServer, city: &City, d: usize, title: &str) -> String {
    let w = s
        .whistle(&city.communities[0], "lighting", "normal", title)
        .await;
    s.dispatch(&w, &city.departments[d]).await;
    w
}

#[tokio::test]
async fn a_return_is_the_lead_departments_to_make_within_its_window() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let p = people(&s, &city).await;
    let w = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯不亮")
        .await;
    // A new whistle is nobody's to return.
    refused(
        &s.post(
            &format!("/api/v1/whistles/{w}/return"),
            json!({"reason": "不归我管"}),
        )
        .await,
        409,
        "not_allowed",
    );
    let new = s
        .post(
            &format!("/api/v1/whistles/{w}/return"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(new.str("current_status"), "new");
    s.ok(
        &format!("/api/v1/whistles/{w}/dispatch"),
        json!({"department_id": city.departments[0], "assisting": [city.departments[2]]}),
        200,
    )
    .await;
    let reason = json!({"reason": "路灯归路灯管理处"});
    for (who, why) in [
        (&p.dispatcher, "a dispatcher"),
        (&p.community, "a community"),
        (&p.viewer, "a viewer"),
        (&p.departments[2], "an assisting department"),
    ] {
        let a = act(&s, who, &w, "return", reason.clone()).await;
        refused(&a, 403, "forbidden");
        assert!(!a.str("detail").is_empty(), "{why}");
    }
    // Another department does not even see it.
    assert_eq!(
        act(&s, &p.departments[1], &w, "return", reason.clone())
            .await
            .status,
        404
    );
    refused(
        &act(&s, &p.departments[0], &w, "return", json!({"reason": "  "})).await,
        422,
        "empty",
    );
    // One working day after the dispatch (Thursday 16:00 → Friday 16:00 in Yiyang), too late.
    s.clock.advance(Duration::hours(24) + Duration::minutes(1));
    let late = act(&s, &p.departments[0], &w, "return", reason.clone()).await;
    refused(&late, 422, "out_of_window");
    assert_eq!(late.str("field"), "reason");
    assert!(late.str("detail").contains("1wd"), "{}", late.body);

    // In time, the return puts it first in the dispatcher's queue.
    let w2 = dispatched(&s, &city, 0, "井盖缺失").await;
    let _w3 = dispatched(&s, &city, 1, "灯杆倾斜").await;
    let r = act(&s, &p.departments[0], &w2, "return", reason.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "returned");
    assert_eq!(
        r.body["pending_return"]["department_id"],
        city.departments[0]
    );
    let queue = s
        .get("/api/v1/whistles?status=new,dispatched,returned")
        .await;
    assert_eq!(queue.body["items"][0]["id"], json!(w2), "{}", queue.body);
    // Returned, it is the dispatcher's: not returned again, not overruled by the department.
    let again = act(&s, &p.departments[0], &w2, "return", reason.clone()).await;
    refused(&again, 409, "not_allowed");
    assert_eq!(again.str("current_status"), "returned");
    refused(
        &act(
            &s,
            &p.departments[0],
            &w2,
            "overrule",
            json!({"reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    );
    // Upholding means another department, with a note for it.
    let same = act(
        &s,
        &p.dispatcher,
        &w2,
        "dispatch",
        json!({"department_id": city.departments[0], "note": "还是你们"}),
    )
    .await;
    refused(&same, 409, "already_assigned");
    assert!(same.str("detail").contains("overrule"), "{}", same.body);
    let bare = act(
        &s,
        &p.dispatcher,
        &w2,
        "dispatch",
        json!({"department_id": city.departments[1]}),
    )
    .await;
    refused(&bare, 422, "reason_required");
    refused(
        &act(&s, &p.dispatcher, &w2, "overrule", json!({"reason": ""})).await,
        422,
        "empty",
    );
    // An overrule on a whistle that is not returned is a conflict.
    let w4 = dispatched(&s, &city, 1, "路灯闪烁").await;
    let o = act(&s, &p.dispatcher, &w4, "overrule", json!({"reason": "x"})).await;
    refused(&o, 409, "not_allowed");
    assert_eq!(o.str("current_status"), "dispatched");
}

#[tokio::test]
async fn extensions_are_asked_before_the_deadline_and_within_the_rules_limits() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let p = people(&s, &city).await;
    let d = &p.departments[1];
    let w = dispatched(&s, &city, 1, "路灯整条线路老化").await;
    let ext = |until: DateTime<Utc>| json!({"until": until, "reason": "需要更换整条线路"});
    // Not before reporting for duty.
    let early = act(
        &s,
        d,
        &w,
        "extension",
        ext(s.clock.now_utc() + Duration::days(9)),
    )
    .await;
    refused(&early, 409, "not_allowed");
    assert_eq!(early.str("current_status"), "dispatched");
    let acked = act(&s, d, &w, "acknowledge", json!({"staff": ["张伟", "李娜"]})).await;
    assert_eq!(acked.status, 200, "{}", acked.body);
    let due: DateTime<Utc> = acked.body["resolve_by"].as_str().unwrap().parse().unwrap();
    // The department asks; a dispatcher does not.
    refused(
        &act(
            &s,
            &p.dispatcher,
            &w,
            "extension",
            ext(due + Duration::days(2)),
        )
        .await,
        403,
        "forbidden",
    );
    let before = act(&s, d, &w, "extension", ext(due - Duration::hours(1))).await;
    refused(&before, 422, "invalid");
    assert_eq!(before.str("field"), "until");
    // Ten working days after the deadline at most (two calendar weeks covers them).
    let long = act(&s, d, &w, "extension", ext(due + Duration::days(20))).await;
    refused(&long, 422, "over_limit");
    assert!(long.str("detail").contains("10wd"), "{}", long.body);
    let asked = act(&s, d, &w, "extension", ext(due + Duration::days(3))).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(
        asked.body["pending_extension"]["until"],
        json!((due + Duration::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    // One request at a time.
    refused(
        &act(&s, d, &w, "extension", ext(due + Duration::days(2))).await,
        409,
        "extension_pending",
    );
    // The dispatcher answers; the department does not.
    refused(
        &act(&s, d, &w, "extension/approve", json!({})).await,
        403,
        "forbidden",
    );
    let longer = act(
        &s,
        &p.dispatcher,
        &w,
        "extension/approve",
        json!({"until": due + Duration::days(4)}),
    )
    .await;
    refused(&longer, 422, "invalid");
    assert!(longer.str("detail").contains("shorten"), "{}", longer.body);
    refused(
        &act(
            &s,
            &p.dispatcher,
            &w,
            "extension/deny",
            json!({"reason": ""}),
        )
        .await,
        422,
        "empty",
    );
    // Granted shorter than asked: the deadline moves there.
    let granted = act(
        &s,
        &p.dispatcher,
        &w,
        "extension/approve",
        json!({"until": due + Duration::days(2), "note": "两天足够"}),
    )
    .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!(granted.body["extensions_granted"], 1);
    let due2: DateTime<Utc> = granted.body["resolve_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due2, due + Duration::days(2));
    assert!(granted.body.get("pending_extension").is_none());
    for (step, body) in [
        ("extension/approve", json!({})),
        ("extension/deny", json!({"reason": "x"})),
    ] {
        let none = act(&s, &p.dispatcher, &w, step, body).await;
        refused(&none, 409, "no_extension_pending");
        assert_eq!(none.str("current_status"), "acknowledged");
    }
    // A second one is granted; a third is over the rules' two.
    act(&s, d, &w, "extension", ext(due2 + Duration::days(1))).await;
    let second = act(&s, &p.dispatcher, &w, "extension/approve", json!({})).await;
    assert_eq!(second.body["extensions_granted"], 2, "{}", second.body);
    let due3 = due2 + Duration::days(1);
    let third = act(&s, d, &w, "extension", ext(due3 + Duration::days(1))).await;
    refused(&third, 422, "over_limit");
    assert!(third.str("detail").contains("at most 2"), "{}", third.body);

    // After the deadline, no request: too late.
    let w2 = dispatched(&s, &city, 1, "灯杆锈蚀").await;
    act(
        &s,
        d,
        &w2,
        "acknowledge",
        json!({"staff": ["张伟", "李娜"]}),
    )
    .await;
    let w2due: DateTime<Utc> = s.get(&format!("/api/v1/whistles/{w2}")).await.body["resolve_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    s.clock
        .advance(w2due - s.clock.now_utc() + Duration::minutes(1));
    let late = act(&s, d, &w2, "extension", ext(w2due + Duration::days(3))).await;
    refused(&late, 422, "out_of_window");
    // Denied, the request is gone and counted.
    let w3 = dispatched(&s, &city, 1, "路灯不亮").await;
    act(
        &s,
        d,
        &w3,
        "acknowledge",
        json!({"staff": ["张伟", "李娜"]}),
    )
    .await;
    let w3due: DateTime<Utc> = s.get(&format!("/api/v1/whistles/{w3}")).await.body["resolve_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    act(&s, d, &w3, "extension", ext(w3due + Duration::days(1))).await;
    let denied = act(
        &s,
        &p.dispatcher,
        &w3,
        "extension/deny",
        json!({"reason": "先临时处置"}),
    )
    .await;
    assert_eq!(denied.status, 200, "{}", denied.body);
    assert_eq!(denied.body["extensions_denied"], 1);
    assert_eq!(
        denied.body["resolve_by"],
        json!(w3due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
}

#[tokio::test]
async fn urges_and_call_backs_are_the_dispatchers_at_the_right_time() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let p = people(&s, &city).await;
    let d = &p.departments[1];
    let w = s
        .whistle(&city.communities[0], "lighting", "urgent", "电线裸露")
        .await;
    let urge = json!({"note": "群众反映强烈，请加快"});
    let new = act(&s, &p.dispatcher, &w, "urge", urge.clone()).await;
    refused(&new, 409, "not_allowed");
    assert_eq!(new.str("current_status"), "new");
    s.dispatch(&w, &city.departments[1]).await;
    refused(
        &act(&s, d, &w, "urge", urge.clone()).await,
        403,
        "forbidden",
    );
    refused(
        &act(&s, &p.community, &w, "urge", urge.clone()).await,
        403,
        "forbidden",
    );
    refused(
        &act(&s, &p.dispatcher, &w, "urge", json!({"note": " "})).await,
        422,
        "empty",
    );
    let head = s.get("/api/v1/stats").await.body["last_seq"]
        .as_u64()
        .unwrap();
    let u = act(&s, &p.dispatcher, &w, "urge", urge.clone()).await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(
        (
            u.body["urges"].as_u64(),
            u.body["escalation_level"].as_u64()
        ),
        (Some(1), Some(0)),
        "urging does not escalate"
    );
    // The department's own log carries it at once.
    let page = TestServer::send(
        s.req_as(
            d,
            reqwest::Method::GET,
            &format!("/api/v1/events?after={head}"),
        )
        .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body["items"][0]["type"], "whistle.urged",
        "{}",
        page.body
    );
    assert_eq!(page.body["items"][0]["note"], "群众反映强烈，请加快");

    // A call-back follows the fix.
    let cb = json!({"reached": true, "satisfaction": 4, "note": "居民说已修好"});
    act(&s, d, &w, "acknowledge", json!({"staff": ["张伟", "李娜"]})).await;
    let early = act(&s, &p.dispatcher, &w, "callback", cb.clone()).await;
    refused(&early, 409, "not_allowed");
    assert_eq!(early.str("current_status"), "acknowledged");
    act(&s, d, &w, "resolve", json!({"reply": "已包扎裸露电线"})).await;
    refused(
        &act(&s, d, &w, "callback", cb.clone()).await,
        403,
        "forbidden",
    );
    let unreached = act(
        &s,
        &p.dispatcher,
        &w,
        "callback",
        json!({"reached": false, "satisfaction": 5, "note": "无人接听"}),
    )
    .await;
    refused(&unreached, 422, "invalid");
    assert_eq!(unreached.str("field"), "satisfaction");
    refused(
        &act(
            &s,
            &p.dispatcher,
            &w,
            "callback",
            json!({"reached": true, "satisfaction": 6, "note": "很好"}),
        )
        .await,
        422,
        "out_of_range",
    );
    let ok = act(&s, &p.dispatcher, &w, "callback", cb.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["callbacks"][0]["satisfaction"], 4);
    assert_eq!(
        ok.body["satisfaction"],
        Value::Null,
        "kept apart from the community's rating"
    );
    // After closing too.
    s.ok(
        &format!("/api/v1/whistles/{w}/close"),
        json!({"satisfaction": 5}),
        200,
    )
    .await;
    let after = act(
        &s,
        &p.dispatcher,
        &w,
        "callback",
        json!({"reached": false, "note": "第二次回访未接通"}),
    )
    .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["callbacks"].as_array().unwrap().len(), 2);
    assert_eq!(after.body["satisfaction"], 5);
}

#[tokio::test]
async fn the_list_filters_by_source_and_by_what_is_due_soon_and_says_what_it_cannot_read() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let p = people(&s, &city).await;
    // Filed by a community: "community"; by the admin, as the hotline took it: "hotline".
    let from_community = TestServer::send(
        s.req_as(&p.community, reqwest::Method::POST, "/api/v1/whistles")
            .json(&json!({"community_id": city.communities[0], "category": "roads", "urgency": "urgent",
                "title": "井盖缺失", "description": "朝阳路口井盖缺失"})),
    )
    .await;
    assert_eq!(from_community.status, 201, "{}", from_community.body);
    assert_eq!(from_community.body["source"], "community");
    let hotline = s
        .ok(
            "/api/v1/whistles",
            json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal",
                "title": "路面塌陷", "description": "12345 转来", "source": "hotline"}),
            201,
        )
        .await;
    let by_admin = s
        .whistle(&city.communities[2], "roads", "normal", "路面积水")
        .await;
    let ids = |a: &Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&s.get("/api/v1/whistles?source=hotline").await),
        [hotline["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&s.get("/api/v1/whistles?source=other").await),
        [by_admin]
    );
    // The urgent one must report for duty within 30 minutes; the others within a day.
    let soon = s.get("/api/v1/whistles?due_within=1h").await;
    assert_eq!(ids(&soon), [from_community.str("id")]);
    assert_eq!(
        ids(&s.get("/api/v1/whistles?due_within=1d&status=new").await).len(),
        3
    );
    let stats = s.get("/api/v1/stats").await.body;
    let totals: Vec<(String, i64)> = stats["sources"]
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
    assert_eq!(
        totals,
        [
            ("community".to_string(), 1),
            ("hotline".to_string(), 1),
            ("open311".to_string(), 0),
            ("grid".to_string(), 0),
            ("walk_in".to_string(), 0),
            ("street".to_string(), 0),
            ("other".to_string(), 1),
        ]
    );
    // A community's stats count its own.
    let mine =
        TestServer::send(s.req_as(&p.community, reqwest::Method::GET, "/api/v1/stats")).await;
    assert_eq!(mine.body["sources"][1]["whistles"], 1, "{}", mine.body);
    assert_eq!(mine.body["sources"][5]["whistles"], 0, "{}", mine.body);
    for bad in [
        "due_within=2wd",
        "due_within=soon",
        "source=fax",
        "status=bounced",
    ] {
        let a = s.get(&format!("/api/v1/whistles?{bad}")).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
        assert_eq!(a.str("field"), bad.split('=').next().unwrap(), "{}", a.body);
    }
    let _ = p.viewer;
}

/// What waits for the dispatcher's decision can be listed (issue 27, bug 3: a case in 待批延期
/// was never in the dispatcher's queue and could not be found): `pending=extension` lists the
/// cases whose department asked for more time, `pending=return` those sent back, each within
/// the token's scope; any other value is refused (400), naming the field.
#[tokio::test]
async fn what_waits_for_the_dispatchers_decision_is_listed() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let p = people(&s, &city).await;
    let d = &p.departments[1];
    let asking = dispatched(&s, &city, 1, "路灯整条线路老化").await;
    let working = dispatched(&s, &city, 1, "路灯灯罩破损").await;
    let returning = dispatched(&s, &city, 1, "不归我们管的井盖").await;
    for w in [&asking, &working] {
        let a = act(&s, d, w, "acknowledge", json!({"staff": ["张伟", "李娜"]})).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let w = s.get(&format!("/api/v1/whistles/{asking}")).await.body;
    let due: DateTime<Utc> = w["resolve_by"].as_str().unwrap().parse().unwrap();
    let asked = act(
        &s,
        d,
        &asking,
        "extension",
        json!({"until": due + Duration::days(2), "reason": "需要更换整条线路"}),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let back = act(
        &s,
        d,
        &returning,
        "return",
        json!({"reason": "井盖属燃气公司"}),
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.body);

    let ids = |a: &Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    };
    let ext = s.get("/api/v1/whistles?pending=extension").await;
    assert_eq!(ext.status, 200, "{}", ext.body);
    assert_eq!(ids(&ext), vec![asking.clone()]);
    let ret = s.get("/api/v1/whistles?pending=return").await;
    assert_eq!(ids(&ret), vec![returning.clone()]);
    // Within a status, and within the token's scope: another department sees none of them.
    let acked = s
        .get("/api/v1/whistles?status=acknowledged&pending=extension")
        .await;
    assert_eq!(ids(&acked), vec![asking.clone()]);
    let other = TestServer::send(s.req_as(
        &p.departments[0],
        reqwest::Method::GET,
        "/api/v1/whistles?pending=extension",
    ))
    .await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert!(ids(&other).is_empty(), "{}", other.body);
    let bad = s.get("/api/v1/whistles?pending=soon").await;
    refused(&bad, 400, "bad_request");
    assert_eq!(bad.str("field"), "pending");
    let _ = working;
}
