//! Finding any case (issue 29 §1): "what happened to the leak I reported last month?" Words
//! in Chinese without spaces, replies and notes, dates, closed cases, a phone however it was
//! written; never outside the token's scope; the same answers on sled and on PostgreSQL.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Duration;
use serde_json::{json, Value};
use shaozi_server::clock::ManualClock;
use shaozi_tests::{City, TestServer};

/// Files a whistle with its own words; returns its id.
async fn file(s: &TestServer, community: &str, title: &str, description: &str) -> String {
    file_with(s, community, title, description, json!({})).await
}

async fn file_with(
    s: &TestServer,
    community: &str,
    title: &str,
    description: &str,
    more: Value,
) -> String {
    let mut b = json!({"community_id": community, "category": "property", "urgency": "normal",
                       "title": title, "description": description});
    if let (Some(b), Some(m)) = (b.as_object_mut(), more.as_object()) {
        b.extend(m.clone());
    }
    let w = s.ok("/api/v1/whistles", b, 201).await;
    w["id"].as_str().unwrap().to_string()
}

/// The ids a search answers, in order, as `token` (the admin's when None).
async fn found(s: &TestServer, token: Option<&str>, query: &str) -> Vec<String> {
    let path = format!("/api/v1/whistles?{query}");
    let a = match token {
        Some(t) => TestServer::send(s.req_as(t, reqwest::Method::GET, &path)).await,
        None => s.get(&path).await,
    };
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until the search index holds what the store holds (a search waits for that).
async fn settle(s: &TestServer) {
    assert_eq!(s.get("/api/v1/whistles?q=settle").await.status, 200);
}

fn ids(of: &[&String]) -> Vec<String> {
    of.iter().map(|s| s.to_string()).collect()
}

fn q(words: &str) -> String {
    format!("q={}", urlencode(words))
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The city's morning, the same on every engine: what each search below is about.
struct Morning {
    roof: String,
    pipe: String,
    lamp: String,
    old_leak: String,
    hotline: String,
    other_street: String,
}

async fn morning(s: &TestServer, c: &City) -> Morning {
    let at = |m| s.clock.advance(Duration::minutes(m));
    // Last month's leak, closed since.
    let old_leak = file(s, &c.communities[0], "楼道漏水", "3号楼楼道天花板漏水").await;
    s.dispatch(&old_leak, &c.departments[2]).await;
    let step = |id: &str, a: &str, b: Value| {
        let path = format!("/api/v1/whistles/{id}/{a}");
        async move { s.ok(&path, b, 200).await }
    };
    step(&old_leak, "acknowledge", json!({"staff": ["张伟", "李娜"]})).await;
    step(&old_leak, "resolve", json!({"reply": "已更换破损水管"})).await;
    step(&old_leak, "close", json!({"satisfaction": 5})).await;
    s.clock.advance(Duration::days(30));
    let roof = file(
        s,
        &c.communities[0],
        "屋顶漏水了",
        "梓山小区5栋顶楼下雨就渗水",
    )
    .await;
    at(5);
    let pipe = file(
        s,
        &c.communities[1],
        "水管破裂",
        "路口水管破裂，大量漏水，路面结冰",
    )
    .await;
    at(5);
    let lamp = file(s, &c.communities[0], "路灯不亮", "朝阳路LED路灯不亮").await;
    at(5);
    let hotline = file_with(
        s,
        &c.communities[1],
        "噪音扰民",
        "夜间施工噪音",
        json!({"source": "hotline", "reporter": {"name": "王阿姨", "phone": "138-0013-8000"}}),
    )
    .await;
    at(5);
    let other_street = file(s, &c.communities[2], "漏水", "龙洲村水塔漏水").await;
    // The lamp's department notes to staff, and to the public.
    s.dispatch(&lamp, &c.departments[1]).await;
    step(
        &lamp,
        "notes",
        json!({"text": "已联系供电公司抢修", "visibility": "internal"}),
    )
    .await;
    step(
        &lamp,
        "notes",
        json!({"text": "材料已订购，明日施工", "visibility": "public"}),
    )
    .await;
    Morning {
        roof,
        pipe,
        lamp,
        old_leak,
        hotline,
        other_street,
    }
}

#[tokio::test]
async fn a_dispatcher_finds_any_case_by_its_words_dates_and_phone_within_the_scope() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let m = morning(&s, &c).await;

    // 漏水 in Chinese without spaces: titles holding it first (newest first), then the rest.
    assert_eq!(
        found(&s, None, &q("漏水")).await,
        ids(&[&m.other_street, &m.roof, &m.old_leak, &m.pipe]),
        "closed cases too"
    );
    // Every word must be there.
    assert_eq!(found(&s, None, &q("漏水 梓山")).await, ids(&[&m.roof]));
    assert_eq!(
        found(&s, None, &q("梓山 漏水 三楼")).await,
        Vec::<String>::new()
    );
    // Latin words and numbers whole, in any case.
    assert_eq!(found(&s, None, &q("led")).await, ids(&[&m.lamp]));
    // A reply and a note are found.
    assert_eq!(found(&s, None, &q("破损水管")).await, ids(&[&m.old_leak]));
    assert_eq!(found(&s, None, &q("明日施工")).await, ids(&[&m.lamp]));
    assert_eq!(found(&s, None, &q("供电公司")).await, ids(&[&m.lamp]));
    // Filed between two dates (local days), and with the list's filters.
    let today = (shaozi_tests::t0() + Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        found(&s, None, &format!("{}&from={today}", q("漏水"))).await,
        ids(&[&m.other_street, &m.roof, &m.pipe])
    );
    assert_eq!(
        found(&s, None, &format!("{}&to=2026-11-26", q("漏水"))).await,
        ids(&[&m.old_leak])
    );
    assert_eq!(
        found(&s, None, &format!("{}&status=closed", q("漏水"))).await,
        ids(&[&m.old_leak])
    );
    assert_eq!(
        found(
            &s,
            None,
            &format!("{}&community_id={}", q("漏水"), c.communities[1])
        )
        .await,
        ids(&[&m.pipe])
    );
    // Dates alone list what was filed then, newest first.
    assert_eq!(
        found(&s, None, "from=2026-11-26&to=2026-11-26").await,
        ids(&[&m.old_leak])
    );
    // A phone however it was written, for those who may read who reported.
    for written in ["13800138000", "138-0013-8000", "+86 138 0013 8000"] {
        assert_eq!(
            found(&s, None, &q(written)).await,
            ids(&[&m.hotline]),
            "{written}"
        );
    }

    // Scope: a street's dispatcher, a department, a community, a viewer.
    let street = s
        .token(
            "dispatcher",
            json!({"street_id": c.streets[0]}),
            "桃花仑调度",
        )
        .await;
    assert_eq!(
        found(&s, Some(&street), &q("漏水")).await,
        ids(&[&m.roof, &m.old_leak, &m.pipe]),
        "never another street's"
    );
    assert_eq!(
        found(&s, Some(&street), &q("13800138000")).await,
        ids(&[&m.hotline])
    );
    let lamps = s
        .token(
            "department",
            json!({"department_id": c.departments[1]}),
            "路灯专干",
        )
        .await;
    assert_eq!(
        found(&s, Some(&lamps), &q("漏水")).await,
        Vec::<String>::new()
    );
    assert_eq!(found(&s, Some(&lamps), &q("路灯")).await, ids(&[&m.lamp]));
    let housing = s
        .token(
            "department",
            json!({"department_id": c.departments[2]}),
            "住建专干",
        )
        .await;
    assert_eq!(
        found(&s, Some(&housing), &q("漏水")).await,
        ids(&[&m.old_leak]),
        "a department finds the cases it was called to"
    );
    let community = s
        .token(
            "community",
            json!({"community_id": c.communities[0]}),
            "朝阳路社区",
        )
        .await;
    assert_eq!(
        found(&s, Some(&community), &q("漏水")).await,
        ids(&[&m.roof, &m.old_leak])
    );
    assert_eq!(
        found(&s, Some(&community), &q("供电公司")).await,
        Vec::<String>::new(),
        "an internal note is not found by a community"
    );
    assert_eq!(
        found(&s, Some(&community), &q("明日施工")).await,
        ids(&[&m.lamp])
    );
    let viewer = s.token("viewer", json!({}), "市领导").await;
    assert_eq!(
        found(&s, Some(&viewer), &q("138-0013-8000")).await,
        Vec::<String>::new(),
        "a viewer does not find a case by its reporter's phone"
    );
    let seen = TestServer::send(s.req_as(
        &viewer,
        reqwest::Method::GET,
        &format!("/api/v1/whistles?{}", q("噪音")),
    ))
    .await;
    assert_eq!(seen.body["items"][0]["id"], json!(m.hotline));
    assert!(seen.body["items"][0]["reporter"].is_null(), "{}", seen.body);

    // Pages: the cursor goes on where the last page stopped.
    let first = s
        .get(&format!("/api/v1/whistles?{}&limit=3", q("漏水")))
        .await
        .body;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = found(&s, None, &format!("{}&limit=3&cursor={cursor}", q("漏水"))).await;
    assert_eq!(rest, ids(&[&m.pipe]));
    // Refusals name the parameter.
    for (bad, field) in [
        (format!("{}&cursor=q00", q("漏水")), "cursor"),
        (q(&"漏".repeat(201)), "q"),
        (format!("{}&from=yesterday", q("漏水")), "from"),
    ] {
        let a = s.get(&format!("/api/v1/whistles?{bad}")).await;
        assert_eq!(
            (a.status, a.str("field")),
            (400, field.to_string()),
            "{}",
            a.body
        );
    }
    // Only marks find nothing, not everything.
    assert_eq!(found(&s, None, &q("，。")).await, Vec::<String>::new());
}

/// The index is derived from the log: a server started again on the same store finds the same,
/// and the same city on sled and on PostgreSQL answers every search alike.
#[tokio::test]
async fn the_same_city_is_found_alike_on_sled_and_on_postgresql_and_after_a_restart() {
    let Some(db) = shaozi_tests::pgdb::TestDatabase::create() else {
        eprintln!("no PostgreSQL here: the comparison needs both engines");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = || Arc::new(ManualClock::new(shaozi_tests::t0()));
    let sled = TestServer::start_on(&dir.path().join("store"), clock()).await;
    let pg = TestServer::start_on(std::path::Path::new(&db.url), clock()).await;
    let mut answers = Vec::new();
    for s in [&sled, &pg] {
        let c = s.small_city().await;
        morning(s, &c).await;
        let mut mine = Vec::new();
        for query in [
            q("漏水"),
            q("漏水 梓山"),
            q("led"),
            q("破损水管"),
            q("138 0013 8000"),
            "from=2026-11-26&to=2026-11-26".to_string(),
            format!("{}&status=closed,new", q("水")),
        ] {
            mine.push((query.clone(), found(s, None, &query).await));
        }
        answers.push(mine);
    }
    assert_eq!(answers[0], answers[1]);
    // Started again, the sled server's kept index still answers the same.
    let mut sled = sled;
    sled.stop().await;
    sled.start_again().await;
    for (query, ids) in &answers[0] {
        assert_eq!(&found(&sled, None, query).await, ids, "{query}");
    }
}

/// Several servers on one database: a case filed on one is found on another (each search
/// waits up to a second for the index to hold what the database holds; the feed looks every
/// 100 ms; the bound here is loose so a loaded machine does not fail it).
#[tokio::test]
async fn a_case_filed_on_one_server_is_found_on_another() {
    let Some(db) = shaozi_tests::pgdb::TestDatabase::create() else {
        eprintln!("no PostgreSQL here: several servers need one database");
        return;
    };
    let clock = Arc::new(ManualClock::new(shaozi_tests::t0()));
    let at = std::path::Path::new(&db.url);
    let a = TestServer::start_on(at, clock.clone()).await;
    let b = TestServer::start_on(at, clock).await;
    let c = a.small_city().await;
    let id = file(&a, &c.communities[0], "屋顶漏水了", "顶楼渗水").await;
    let started = std::time::Instant::now();
    loop {
        if found(&b, None, &q("漏水")).await == [id.clone()] {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "not found on the other server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Issue 29 §2: whoever files sees at once that the problem is known; the similar cases are of
/// the same category, in the same community or within 300 m, alike in their words; a duplicate
/// rejected onto the original carries its reporter over.
#[tokio::test]
async fn a_known_problem_is_shown_at_filing_and_a_duplicate_carries_its_reporter_over() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let lamp = |community: &str, title: &str, description: &str, lat: f64, more: Value| {
        let mut b = json!({"community_id": community, "category": "lighting", "urgency": "normal",
                           "title": title, "description": description, "lat": lat, "long": 112.34});
        if let (Some(b), Some(m)) = (b.as_object_mut(), more.as_object()) {
            b.extend(m.clone());
        }
        let s = &s;
        async move { s.ok("/api/v1/whistles", b, 201).await }
    };
    let first = lamp(
        &c.communities[0],
        "小区门口路灯不亮",
        "小区门口三盏路灯不亮，晚上很黑",
        28.56,
        json!({}),
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_string();
    assert!(first["similar"].is_null(), "nothing known yet: {first}");
    s.clock.advance(Duration::minutes(10));
    // The index follows the log a moment behind (a search waits for it; a filing does not).
    settle(&s).await;
    // The same lamps, reported by a resident on the hotline: the first is known at once.
    let second = lamp(
        &c.communities[0],
        "门口路灯不亮",
        "小区门口路灯不亮，晚上很黑，老人走路不安全",
        28.5601,
        json!({"source": "hotline", "reporter": {"name": "王阿姨", "phone": "13800138000"}}),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_string();
    let hit = &second["similar"][0];
    assert_eq!(hit["whistle"]["id"], json!(first_id), "{second}");
    assert_eq!(hit["same_community"], true);
    assert!(hit["score"].as_f64().unwrap() >= 0.5, "{hit}");
    assert!(hit["distance_m"].as_f64().unwrap() < 20.0, "{hit}");
    assert!(
        hit["shared"].as_array().unwrap().contains(&json!("路灯")),
        "{hit}"
    );
    // Across the street's border but 200 m away: similar by distance; 2 km away: not.
    let near = lamp(
        &c.communities[2],
        "路灯不亮",
        "小区门口路灯不亮，晚上很黑",
        28.5618,
        json!({}),
    )
    .await;
    let far = lamp(
        &c.communities[2],
        "路灯不亮",
        "小区门口路灯不亮，晚上很黑",
        28.58,
        json!({}),
    )
    .await;
    // Alike words of another category, and another lamp problem in other words: not similar.
    let other_category = s
        .ok(
            "/api/v1/whistles",
            json!({"community_id": c.communities[0], "category": "sanitation", "urgency": "normal",
                   "title": "门口路灯不亮", "description": "小区门口路灯不亮，晚上很黑", "lat": 28.56, "long": 112.34}),
            201,
        )
        .await;
    let pole = lamp(
        &c.communities[0],
        "灯杆被车撞歪",
        "灯杆倾斜有倒塌危险",
        28.56,
        json!({}),
    )
    .await;
    settle(&s).await;
    let similar = s
        .get(&format!("/api/v1/whistles/{second_id}/similar"))
        .await;
    assert_eq!(similar.status, 200, "{}", similar.body);
    let ids: Vec<&str> = similar
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["whistle"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&first_id.as_str()), "{ids:?}");
    assert!(ids.contains(&near["id"].as_str().unwrap()), "{ids:?}");
    for not in [&far, &other_category, &pole] {
        assert!(
            !ids.contains(&not["id"].as_str().unwrap()),
            "{ids:?} holds {not}"
        );
    }
    let by_near = similar
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["whistle"]["id"] == near["id"])
        .unwrap();
    assert_eq!(by_near["same_community"], false);
    assert!(by_near["distance_m"].as_f64().unwrap() < 300.0);
    // A community sees only its own: the near case is another street's.
    let community = s
        .token(
            "community",
            json!({"community_id": c.communities[0]}),
            "朝阳路社区",
        )
        .await;
    let theirs = TestServer::send(s.req_as(
        &community,
        reqwest::Method::GET,
        &format!("/api/v1/whistles/{second_id}/similar"),
    ))
    .await;
    let theirs: Vec<&str> = theirs
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["whistle"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(theirs, [first_id.as_str()]);
    let outside = TestServer::send(s.req_as(
        &community,
        reqwest::Method::GET,
        &format!("/api/v1/whistles/{}/similar", near["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(outside.status, 404);
    let bad = s
        .get(&format!("/api/v1/whistles/{second_id}/similar?days=0"))
        .await;
    assert_eq!((bad.status, bad.str("field")), (400, "days".to_string()));

    // The dispatcher merges: the second is rejected as a duplicate of the first, whose record
    // now holds the hotline caller, to be called back with the fix.
    s.ok(
        &format!("/api/v1/whistles/{second_id}/reject"),
        json!({"reason": "与首报重复", "duplicate_of": first_id}),
        200,
    )
    .await;
    let original = s.get(&format!("/api/v1/whistles/{first_id}")).await.body;
    assert_eq!(original["reporter"]["phone"], "13800138000", "{original}");
    assert_eq!(original["duplicates"], json!([second_id]));
    let last = original["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "whistle.duplicate_linked");
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("reporter's contact is kept here")
            && !last["note"].as_str().unwrap().contains("王阿姨"),
        "{last}"
    );
    // A third report from another caller is kept beside the first caller.
    let third = lamp(
        &c.communities[0],
        "门口路灯不亮",
        "小区门口路灯不亮",
        28.56,
        json!({"source": "hotline", "reporter": {"name": "李师傅", "phone": "13900139000"}}),
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{}/reject", third["id"].as_str().unwrap()),
        json!({"reason": "重复", "duplicate_of": first_id}),
        200,
    )
    .await;
    let original = s.get(&format!("/api/v1/whistles/{first_id}")).await.body;
    assert_eq!(original["also_reported"][0]["name"], "李师傅", "{original}");
    // Neither is read by a viewer.
    let viewer = s.token("viewer", json!({}), "市领导").await;
    let seen = TestServer::send(s.req_as(
        &viewer,
        reqwest::Method::GET,
        &format!("/api/v1/whistles/{first_id}"),
    ))
    .await
    .body;
    let text = seen.to_string();
    assert!(
        !text.contains("王阿姨") && !text.contains("李师傅"),
        "{text}"
    );
}
