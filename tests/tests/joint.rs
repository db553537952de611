//! Joint 报到 over real HTTP (issue 28): a dispatch calls three departments to a place and a
//! time; each reports with its own token; one misses its deadline and is named alone; an
//! assisting part is marked done; the lead resolves before the last part only with a note.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use serde_json::json;
use shaozi_tests::TestServer;

#[tokio::test]
async fn three_departments_are_called_and_each_reports_for_itself() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let (lead, power, police) = (
        city.departments[0].clone(),
        city.departments[1].clone(),
        city.departments[2].clone(),
    );
    let mut tokens = Vec::new();
    for (d, name) in [
        (&lead, "城管专干"),
        (&power, "路灯处专干"),
        (&police, "住建局专干"),
    ] {
        tokens.push(
            s.token("department", json!({"department_id": d}), name)
                .await,
        );
    }
    let w = s
        .whistle(
            &city.communities[1],
            "sanitation",
            "normal",
            "梓山路口垃圾堆积",
        )
        .await;
    let path = |a: &str| format!("/api/v1/whistles/{w}/{a}");

    // The street calls all three to its community office by 10:00 (the clock is 08:00).
    let d = s
        .ok(
            &path("dispatch"),
            json!({"department_id": lead, "assisting": [power, police],
                   "report": {"place": "梓山社区居委会", "at": "2026-11-26T10:00:00Z"}}),
            200,
        )
        .await;
    assert_eq!(
        d["muster"],
        json!({"place": "梓山社区居委会", "at": "2026-11-26T10:00:00Z"})
    );
    assert_eq!(d["respond_by"], "2026-11-26T10:00:00Z");
    let calls = d["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3);
    for (c, (dept, role)) in calls.iter().zip([
        (&lead, "lead"),
        (&power, "assisting"),
        (&police, "assisting"),
    ]) {
        assert_eq!(
            (c["department_id"].as_str(), c["role"].as_str()),
            (Some(dept.as_str()), Some(role))
        );
        assert_eq!(c["report_by"], "2026-11-26T10:00:00Z");
    }
    // A time already past is refused with its field.
    let past = s
        .post(
            &path("dispatch"),
            json!({"department_id": lead, "note": "改时间",
                   "report": {"place": "居委会", "at": "2026-11-26T07:00:00Z"}}),
        )
        .await;
    assert_eq!(past.status, 422, "{}", past.body);
    assert_eq!(past.body["field"], "report.at");

    // Each department's own list holds the case, led or assisted; asking for the cases a
    // department leads is asking for those it leads.
    for t in &tokens {
        let own = TestServer::send(s.req_as(
            t,
            reqwest::Method::GET,
            "/api/v1/whistles?status=dispatched",
        ))
        .await;
        assert_eq!(own.body["items"][0]["id"], w.as_str(), "{}", own.body);
    }
    let led = TestServer::send(s.req_as(
        &tokens[1],
        reqwest::Method::GET,
        &format!("/api/v1/whistles?status=dispatched&department_id={power}"),
    ))
    .await;
    assert_eq!(led.body["items"], json!([]), "{}", led.body);
    let listed = TestServer::send(s.req_as(
        &tokens[2],
        reqwest::Method::GET,
        "/api/v1/whistles?status=dispatched,acknowledged,resolved",
    ))
    .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    // The power department reports with its own token: recorded on its call, the case still
    // waits for the lead.
    s.clock.advance(Duration::minutes(40));
    let r = s
        .post_as(
            &tokens[1],
            &path("acknowledge"),
            json!({"staff": ["王强", "赵敏"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "dispatched");
    assert_eq!(r.body["calls"][1]["staff"], json!(["王强", "赵敏"]));
    assert_eq!(r.body["calls"][1]["reported_at"], "2026-11-26T08:40:00Z");
    let again = s
        .post_as(
            &tokens[1],
            &path("acknowledge"),
            json!({"staff": ["王强", "赵敏"]}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    // A department reports only for itself.
    let for_other = s
        .post_as(
            &tokens[1],
            &path("acknowledge"),
            json!({"staff": ["王强", "赵敏"], "department_id": police}),
        )
        .await;
    assert_eq!(for_other.status, 403, "{}", for_other.body);
    // The lead's report moves the case on, as always.
    let l = s
        .post_as(
            &tokens[0],
            &path("acknowledge"),
            json!({"staff": ["张伟", "李娜"]}),
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.body);
    assert_eq!(l.body["status"], "acknowledged");

    // The public is told how many came, never who.
    let public: serde_json::Value = s
        .client
        .get(format!("{}/open311/v2/requests/{w}.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        public[0]["status_notes"],
        "2/3 个部门已到场 / 2 of 3 departments on site"
    );
    let text = public.to_string();
    assert!(
        !text.contains("王强") && !text.contains("张伟"),
        "no staff names: {text}"
    );

    // 10:01: the police (住建局 here) never came. The overdue event names it alone.
    let head = s.get("/api/v1/stats").await.body["last_seq"]
        .as_u64()
        .unwrap();
    s.clock.advance(Duration::minutes(81));
    assert!(s.sweep().await >= 1);
    let events = s
        .events(Some(head), 2, std::time::Duration::from_secs(5))
        .await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["whistle.overdue", "whistle.escalated"]);
    let note = events[0]["note"].as_str().unwrap_or_default();
    assert!(note.starts_with(&format!("{police} missed")), "{note}");
    assert!(!note.contains(&lead) && !note.contains(&power), "{note}");
    let now = s.get(&format!("/api/v1/whistles/{w}")).await.body;
    let rec = if now["whistle"].is_object() {
        &now["whistle"]
    } else {
        &now
    };
    assert_eq!(rec["calls"][2]["late"], true);
    assert_eq!(rec["calls"][2]["missed_at"], "2026-11-26T10:01:00Z");
    assert!(
        rec["calls"][0]["late"].is_null(),
        "the lead came on time (false is left out)"
    );
    assert_eq!(rec["overdue"], false);
    assert_eq!(rec["escalation_level"], 1);
    // A second sweep finds nothing more about it.
    assert_eq!(s.sweep().await, 0);

    // The street calls one more department to assist, with a reason; a department that
    // does not exist is named as such.
    let more = s
        .ok(
            &path("assisting"),
            json!({"add": ["D1"], "reason": "x"}),
            422,
        )
        .await;
    assert_eq!(more["field"], "add", "the lead is not an assistant: {more}");
    let ghost = s
        .post(
            &path("assisting"),
            json!({"add": ["D99"], "reason": "需要"}),
        )
        .await;
    assert_eq!(
        (ghost.status, ghost.body["field"].as_str()),
        (422, Some("add"))
    );
    let dept4 = s
        .ok(
            "/api/v1/departments",
            json!({"name": "市燃气公司", "categories": ["sanitation"]}),
            201,
        )
        .await;
    let changed = s
        .ok(
            &path("assisting"),
            json!({"add": [dept4["id"]], "reason": "现场有燃气管线，需燃气公司到场"}),
            200,
        )
        .await;
    assert_eq!(changed["calls"].as_array().map(Vec::len), Some(4));
    assert_eq!(changed["calls"][3]["role"], "assisting");
    let forbidden = s
        .post_as(
            &tokens[0],
            &path("assisting"),
            json!({"remove": [dept4["id"]], "reason": "不需要"}),
        )
        .await;
    assert_eq!(forbidden.status, 403, "a department does not call others");
    s.ok(
        &path("assisting"),
        json!({"remove": [dept4["id"]], "reason": "管线已确认不受影响"}),
        200,
    )
    .await;

    // It comes late; the power department marks its part done.
    let late = s
        .post_as(
            &tokens[2],
            &path("acknowledge"),
            json!({"staff": ["陈刚", "周洁"]}),
        )
        .await;
    assert_eq!(late.status, 200, "{}", late.body);
    assert_eq!(late.body["calls"][2]["late"], true);
    let part = s
        .post_as(
            &tokens[1],
            &path("part-done"),
            json!({"note": "已恢复路灯供电"}),
        )
        .await;
    assert_eq!(part.status, 200, "{}", part.body);
    assert_eq!(part.body["calls"][1]["done_note"], "已恢复路灯供电");
    // The lead has no part to mark: it resolves, and before the last part only with a note.
    let own = s
        .post_as(&tokens[0], &path("part-done"), json!({"note": "x"}))
        .await;
    assert_eq!(own.status, 409, "{}", own.body);
    assert!(own.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("not assisting"));
    let early = s
        .post_as(&tokens[0], &path("resolve"), json!({"reply": "垃圾已清运"}))
        .await;
    assert_eq!(early.status, 422, "{}", early.body);
    assert_eq!(
        (early.body["field"].as_str(), early.body["code"].as_str()),
        (Some("note"), Some("reason_required"))
    );
    assert!(early.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains(police.as_str()));
    let done = s
        .post_as(
            &tokens[0],
            &path("resolve"),
            json!({"reply": "垃圾已清运", "note": "住建局现场核查后无需施工"}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "resolved");
    assert_eq!(
        done.body["calls"][0]["done_note"],
        "住建局现场核查后无需施工"
    );
}

/// Issue 28 §3: a wrong category is corrected without refiling; both deadlines are worked out
/// again from the filing under the new category and urgency, and the timeline says old → new.
#[tokio::test]
async fn a_wrong_category_is_corrected_and_the_deadlines_follow() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯杆倾斜")
        .await;
    let path = format!("/api/v1/whistles/{w}/reclassify");
    s.clock.advance(Duration::minutes(10));
    let bad = s
        .post(&path, json!({"category": "dragons", "reason": "x"}))
        .await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (422, Some("category"))
    );
    let dept = s
        .token(
            "department",
            json!({"department_id": city.departments[0]}),
            "城管",
        )
        .await;
    let by_dept = s
        .post_as(&dept, &path, json!({"category": "roads", "reason": "x"}))
        .await;
    assert_eq!(by_dept.status, 403, "a department does not reclassify");
    let r = s
        .ok(
            &path,
            json!({"category": "roads", "urgency": "urgent", "reason": "是路面塌陷，且影响通行"}),
            200,
        )
        .await;
    assert_eq!(
        (r["category"].as_str(), r["urgency"].as_str()),
        (Some("roads"), Some("urgent"))
    );
    // Urgent: report within 30 minutes and resolve within 24 hours of the filing (08:00),
    // not of the correction (08:10).
    assert_eq!(r["respond_by"], "2026-11-26T08:30:00Z");
    assert_eq!(r["resolve_by"], "2026-11-27T08:00:00Z");
    let detail = s.get(&format!("/api/v1/whistles/{w}")).await.body;
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "whistle.reclassified");
    assert_eq!(
        last["note"],
        "category lighting → roads; urgency normal → urgent: 是路面塌陷，且影响通行"
    );
    // The queue orders it as urgent now.
    let q = s
        .get("/api/v1/whistles?status=new&urgency=urgent")
        .await
        .body;
    assert_eq!(q["items"][0]["id"], w.as_str());
}

/// Issue 28 §4: notes between steps. Internal ones are for staff (absent from a community's
/// view, its event stream and Open311); public ones reach the community and the public.
#[tokio::test]
async fn internal_notes_stay_with_staff_and_public_ones_reach_the_public() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯不亮")
        .await;
    s.dispatch(&w, &city.departments[1]).await;
    let dept = s
        .token(
            "department",
            json!({"department_id": city.departments[1]}),
            "路灯处",
        )
        .await;
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路社区",
        )
        .await;
    let path = format!("/api/v1/whistles/{w}/notes");
    let internal = s
        .post_as(&dept, &path, json!({"text": "需等供电公司停电后施工"}))
        .await;
    assert_eq!(internal.status, 200, "{}", internal.body);
    let public = s
        .post_as(
            &dept,
            &path,
            json!({"text": "材料已到，明天上午维修", "visibility": "public"}),
        )
        .await;
    assert_eq!(public.status, 200, "{}", public.body);
    let from_community = s
        .post_as(
            &community,
            &path,
            json!({"text": "居民反映夜里很黑", "visibility": "public"}),
        )
        .await;
    assert_eq!(from_community.status, 200, "{}", from_community.body);
    let blank = s.post_as(&dept, &path, json!({"text": "  "})).await;
    assert_eq!(
        (blank.status, blank.body["field"].as_str()),
        (422, Some("text"))
    );

    let read = |token: &str, p: String| TestServer::send(s.req_as(token, reqwest::Method::GET, &p));
    let notes = |v: &serde_json::Value| -> Vec<String> {
        v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("whistle.noted"))
            })
            .map(|e| e["note"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let staff = read(&dept, format!("/api/v1/whistles/{w}")).await.body;
    assert_eq!(notes(&staff).len(), 3, "staff read all: {staff}");
    let theirs = read(&community, format!("/api/v1/whistles/{w}")).await.body;
    assert_eq!(
        notes(&theirs),
        ["材料已到，明天上午维修", "居民反映夜里很黑"],
        "the community reads the public ones"
    );
    let stream = TestServer::send(
        s.req_as(&community, reqwest::Method::GET, "/api/v1/events?after=0")
            .header("Accept", "application/json"),
    )
    .await;
    let text = stream.body.to_string();
    assert!(
        text.contains("材料已到") && !text.contains("停电后施工"),
        "{text}"
    );
    let feed = s
        .client
        .get(format!(
            "{}/open311/v2/servicerequestupdates.json?start_date=2026-11-26T00:00:00Z",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains("材料已到，明天上午维修"), "{feed}");
    assert!(!feed.contains("停电后施工"), "{feed}");
}

/// Issue 28 §3: a correction moves the case in the assessment. Two cases alike, dispatched to
/// the same department and reported at the same minute; one was corrected to urgent after
/// the dispatch, so its report counts late under the new deadline, the other on time.
#[tokio::test]
async fn a_corrected_case_is_measured_by_its_new_deadlines() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let lamps = &city.departments[1];
    let kept = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯不亮")
        .await;
    let moved = s
        .whistle(&city.communities[0], "lighting", "normal", "路灯杆倾斜")
        .await;
    for w in [&kept, &moved] {
        s.dispatch(w, lamps).await;
    }
    s.clock.advance(Duration::minutes(10));
    let r = s
        .ok(
            &format!("/api/v1/whistles/{moved}/reclassify"),
            json!({"category": "roads", "urgency": "urgent", "reason": "是路面塌陷，且影响通行"}),
            200,
        )
        .await;
    // Urgent roads: report within 30 minutes of the filing at 08:00.
    assert_eq!(r["respond_by"], "2026-11-26T08:30:00Z");
    assert_eq!(r["status"], "dispatched", "still with the same department");
    s.clock.advance(Duration::minutes(30));
    for w in [&kept, &moved] {
        s.ok(
            &format!("/api/v1/whistles/{w}/acknowledge"),
            json!({"staff": ["张伟", "李娜"]}),
            200,
        )
        .await;
    }
    let a = s
        .get("/api/v1/assessment?from=2026-11-26&to=2026-11-26")
        .await
        .body;
    let unit = a["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(lamps))
        .unwrap();
    assert_eq!(
        (
            unit["dispatched"].as_i64(),
            unit["reported"].as_i64(),
            unit["on_time"].as_i64()
        ),
        (Some(2), Some(2), Some(1)),
        "the corrected case reported at 08:40, past its new 08:30: {unit}"
    );
    let late = s.get(&format!("/api/v1/whistles/{moved}")).await.body;
    let rec = if late["whistle"].is_object() {
        &late["whistle"]
    } else {
        &late
    };
    assert_eq!(rec["respond_late"], true, "{rec}");
}
