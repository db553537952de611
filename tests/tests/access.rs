//! Every role against every route, checked against the README's permission matrix, so the
//! README cannot drift from the server.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::{json, Value};
use shaozi_tests::{City, TestServer};

const ROLES: [&str; 5] = ["admin", "dispatcher", "department", "community", "viewer"];

/// (route, one cell per role) from the README table.
fn matrix() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README");
    let start = readme
        .find("<!-- permission-matrix")
        .expect("the README has the permission matrix");
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            (cells[0].trim_matches('`').to_string(), cells[1..].to_vec())
        })
        .collect()
}

/// A token of each role: the dispatcher scoped to street 1, the department to D1, the
/// community to C1.
struct Tokens {
    by_role: Vec<(String, String)>,
}

/// Where a token's scope ends: (community, department) inside it, and outside it.
fn bounds(role: &str, c: &City) -> ((String, String), Option<(String, String)>) {
    let inside = (c.communities[0].clone(), c.departments[0].clone());
    let outside = match role {
        "dispatcher" => Some((c.communities[2].clone(), c.departments[0].clone())),
        "department" => Some((c.communities[0].clone(), c.departments[1].clone())),
        "community" => Some((c.communities[1].clone(), c.departments[0].clone())),
        _ => None,
    };
    (inside, outside)
}

/// A whistle in `community`, taken to `stage` with `dept` as its department.
async fn whistle_at(s: &TestServer, stage: &str, community: &str, dept: &str) -> String {
    let id = s.whistle(community, "lighting", "normal", "路灯不亮").await;
    let p = |a: &str| format!("/api/v1/whistles/{id}/{a}");
    // A department that is not the token's (D1's), so a case `dept` assists outside the
    // token's scope involves no department of it.
    let other = if dept == "D1" { "D2" } else { "D3" };
    let steps: &[(&str, Value)] = match stage {
        "new" => &[],
        // `dept` assists another department and has reported (the city office records it).
        "assisted" => &[
            (
                "dispatch",
                json!({"department_id": other, "assisting": [dept]}),
            ),
            (
                "acknowledge",
                json!({"staff": ["甲", "乙"], "department_id": dept}),
            ),
        ],
        "dispatched" => &[("dispatch", json!({"department_id": dept}))],
        "acknowledged" => &[
            ("dispatch", json!({"department_id": dept})),
            ("acknowledge", json!({"staff": ["甲", "乙"]})),
        ],
        "returned" => &[
            ("dispatch", json!({"department_id": dept})),
            ("return", json!({"reason": "不归我们"})),
        ],
        "asked" => &[
            ("dispatch", json!({"department_id": dept})),
            ("acknowledge", json!({"staff": ["甲", "乙"]})),
            (
                "extension",
                json!({"until": shaozi_tests::t0() + chrono::Duration::days(8), "reason": "工期"}),
            ),
        ],
        _ => &[
            ("dispatch", json!({"department_id": dept})),
            ("acknowledge", json!({"staff": ["甲", "乙"]})),
            ("resolve", json!({"reply": "好了"})),
        ],
    };
    for (a, b) in steps {
        s.ok(&p(a), b.clone(), 200).await;
    }
    id
}

async fn wish_at(s: &TestServer, claimed_by: Option<&str>, community: &str) -> String {
    let w = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": community, "title": "书包", "value_fen": 100}),
            201,
        )
        .await;
    let id = w["id"].as_str().unwrap().to_string();
    if let Some(d) = claimed_by {
        s.ok(
            &format!("/api/v1/wishes/{id}/claim"),
            json!({"department_id": d}),
            200,
        )
        .await;
    }
    id
}

/// The scope of a webhook subscription at `(community, department)` for a token of this
/// kind: its street, its department or its community; the city for the others.
async fn hook_scope(s: &TestServer, token: &str, comm: &str, dept: &str) -> Value {
    let me = TestServer::send(s.req_as(token, Method::GET, "/api/v1/me")).await;
    match me.body["role"].as_str().unwrap() {
        "dispatcher" => {
            let all = s.get("/api/v1/communities").await;
            let c = all
                .body
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == json!(comm))
                .unwrap();
            json!({"kind": "street", "id": c["street_id"]})
        }
        "department" => json!({"kind": "department", "id": dept}),
        "community" => json!({"kind": "community", "id": comm}),
        _ => json!({"kind": "city"}),
    }
}

/// A reply template kept by the unit a token of this kind at `(community, department)` would
/// be: its street's, its department's; the city's for the others. Its id.
async fn template_at(s: &TestServer, token: &str, comm: &str, dept: &str, unique: &str) -> String {
    let keeper = match hook_scope(s, token, comm, dept).await {
        v if v["kind"] == "street" => Some(
            s.token(
                "dispatcher",
                json!({"street_id": v["id"]}),
                &format!("tk{unique}"),
            )
            .await,
        ),
        v if v["kind"] == "department" => Some(
            s.token(
                "department",
                json!({"department_id": v["id"]}),
                &format!("tk{unique}"),
            )
            .await,
        ),
        _ => None,
    };
    let body = json!({"name": format!("模板{unique}"), "text": "已处理。"});
    let a = match keeper {
        Some(t) => s.post_as(&t, "/api/v1/templates", body).await,
        None => s.post("/api/v1/templates", body).await,
    };
    assert_eq!(a.status, 201, "{}", a.body);
    a.str("id")
}

/// Performs `route` as `token` against fixtures in `(community, department)`; returns the status.
async fn call(s: &TestServer, token: &str, route: &str, at: &(String, String), n: usize) -> u16 {
    let (comm, dept) = at;
    let (method, path) = route.split_once(' ').unwrap();
    let unique = format!("{n}-{}", token.len());
    let (m, url, body): (Method, String, Option<Value>) = match (method, path) {
        ("GET", p) if p.starts_with("/api/v1/whistles/{id}") => (
            Method::GET,
            p.replace("{id}", &whistle_at(s, "dispatched", comm, dept).await),
            None,
        ),
        ("POST", p) if p.starts_with("/api/v1/whistles/{id}/") => {
            let action = p.trim_start_matches("/api/v1/whistles/{id}/");
            let (stage, body) = match action {
                "return" => ("dispatched", json!({"reason": "不归我们"})),
                "overrule" => ("returned", json!({"reason": "归你们"})),
                "extension" => (
                    "acknowledged",
                    json!({"until": shaozi_tests::t0() + chrono::Duration::days(8), "reason": "工期"}),
                ),
                "extension/approve" => ("asked", json!({})),
                "extension/deny" => ("asked", json!({"reason": "不行"})),
                "urge" => ("dispatched", json!({"note": "快"})),
                "callback" => ("resolved", json!({"reached": true, "note": "满意"})),
                "dispatch" => ("new", json!({"department_id": dept})),
                "reject" => ("new", json!({"reason": "重复"})),
                "escalate" => ("new", json!({"reason": "紧急"})),
                "acknowledge" => ("dispatched", json!({"staff": ["张伟", "李娜"]})),
                "resolve" => ("acknowledged", json!({"reply": "已修复"})),
                "close" => ("resolved", json!({"satisfaction": 5})),
                "reclassify" => ("new", json!({"urgency": "urgent", "reason": "现场紧急"})),
                "assisting" => {
                    let other = if dept == "D1" { "D2" } else { "D1" };
                    ("dispatched", json!({"add": [other], "reason": "需要配合"}))
                }
                "part-done" => (
                    "assisted",
                    json!({"note": "已完成断电配合", "department_id": dept}),
                ),
                "notes" => (
                    "dispatched",
                    json!({"text": "已联系物业", "visibility": "internal"}),
                ),
                _ => ("resolved", json!({"reason": "没修好"})),
            };
            let id = whistle_at(s, stage, comm, dept).await;
            (
                Method::POST,
                format!("/api/v1/whistles/{id}/{action}"),
                Some(body),
            )
        }
        ("GET", "/api/v1/wishes/{id}") => (
            Method::GET,
            format!("/api/v1/wishes/{}", wish_at(s, None, comm).await),
            None,
        ),
        ("POST", "/api/v1/wishes/{id}/claim") => (
            Method::POST,
            format!("/api/v1/wishes/{}/claim", wish_at(s, None, comm).await),
            Some(json!({"claimer": "党员"})),
        ),
        ("POST", "/api/v1/wishes/{id}/complete") => (
            Method::POST,
            format!(
                "/api/v1/wishes/{}/complete",
                wish_at(s, Some(dept), comm).await
            ),
            Some(json!({})),
        ),
        ("POST", "/api/v1/wishes/{id}/cancel") => (
            Method::POST,
            format!("/api/v1/wishes/{}/cancel", wish_at(s, None, comm).await),
            Some(json!({"reason": "搬走了"})),
        ),
        ("POST", "/api/v1/streets") => (
            Method::POST,
            path.into(),
            Some(json!({"name": format!("街道{unique}")})),
        ),
        ("POST", "/api/v1/communities") => {
            let street = s.get("/api/v1/streets").await.body[0]["id"].clone();
            (
                Method::POST,
                path.into(),
                Some(json!({"name": format!("社区{unique}"), "street_id": street})),
            )
        }
        ("POST", "/api/v1/departments") => (
            Method::POST,
            path.into(),
            Some(json!({"name": format!("单位{unique}"), "categories": ["roads"]})),
        ),
        ("POST", "/api/v1/whistles") => (
            Method::POST,
            path.into(),
            Some(
                json!({"community_id": comm, "category": "roads", "urgency": "normal", "title": "坑", "description": "路面坑洼"}),
            ),
        ),
        ("POST", "/api/v1/wishes") => (
            Method::POST,
            path.into(),
            Some(json!({"community_id": comm, "title": "棉被", "value_fen": 260})),
        ),
        ("POST", "/api/v1/admin/check") => (Method::POST, path.into(), None),
        ("POST", "/api/v1/tokens") => (
            Method::POST,
            path.into(),
            Some(json!({"role": "viewer", "name": format!("v{unique}")})),
        ),
        ("DELETE", "/api/v1/tokens/{name}") => {
            let name = format!("gone{unique}");
            s.token("viewer", json!({}), &name).await;
            (Method::DELETE, format!("/api/v1/tokens/{name}"), None)
        }
        ("POST", "/api/v1/activities") => (
            Method::POST,
            path.into(),
            Some(
                json!({"department_id": dept, "community_id": comm, "kind": "cleanup", "date": "2026-11-26", "participants": 5}),
            ),
        ),
        ("POST", "/api/v1/webhooks") => (
            Method::POST,
            path.into(),
            Some(
                json!({"name": format!("群{unique}"), "url": "http://127.0.0.1:9/hook", "events": ["*"],
                        "scope": hook_scope(s, token, comm, dept).await}),
            ),
        ),
        (m, p) if p.starts_with("/api/v1/webhooks/{id}") => {
            let scope = hook_scope(s, token, comm, dept).await;
            let hook = s
                .ok(
                    "/api/v1/webhooks",
                    json!({"name": format!("群{unique}"), "url": "http://127.0.0.1:9/hook", "events": ["*"], "scope": scope}),
                    201,
                )
                .await;
            let url = p.replace("{id}", hook["id"].as_str().unwrap());
            match m {
                "GET" => (Method::GET, url, None),
                "DELETE" => (Method::DELETE, url, None),
                _ => (Method::POST, url, Some(json!({}))),
            }
        }
        ("POST", "/api/v1/templates") => (
            Method::POST,
            path.into(),
            Some(json!({"name": format!("模板{unique}"), "text": "{community}已处理。"})),
        ),
        ("GET", "/api/v1/templates/{id}") => (Method::GET, "/api/v1/templates/R1".into(), None),
        ("DELETE", "/api/v1/templates/{id}") => {
            let id = template_at(s, token, comm, dept, &unique).await;
            (Method::DELETE, format!("/api/v1/templates/{id}"), None)
        }
        ("GET", "/api/v1/events") => {
            // The stream does not end; its headers are the answer.
            let res = s.req_as(token, Method::GET, path).send().await.unwrap();
            return res.status().as_u16();
        }
        ("GET", p) => (Method::GET, p.into(), None),
        other => panic!("the test does not know how to call {other:?}"),
    };
    let mut rb = s.req_as(token, m, &url);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let a = TestServer::send(rb).await;
    assert!(
        a.status < 500,
        "{route} as a {token}: {} {}",
        a.status,
        a.body
    );
    if a.status == 403 {
        assert_eq!(a.content_type(), "application/problem+json");
        assert!(!a.str("detail").is_empty());
    }
    a.status
}

#[tokio::test]
async fn every_role_on_every_route_is_as_the_readme_says() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let t = Tokens {
        by_role: vec![
            ("admin".into(), shaozi_tests::TOKEN.into()),
            (
                "dispatcher".into(),
                s.token(
                    "dispatcher",
                    json!({"street_id": city.streets[0]}),
                    "桃花仑调度",
                )
                .await,
            ),
            (
                "department".into(),
                s.token(
                    "department",
                    json!({"department_id": city.departments[0]}),
                    "城管专干",
                )
                .await,
            ),
            (
                "community".into(),
                s.token(
                    "community",
                    json!({"community_id": city.communities[0]}),
                    "朝阳路社区",
                )
                .await,
            ),
            (
                "viewer".into(),
                s.token("viewer", json!({}), "市领导").await,
            ),
        ],
    };
    let rows = matrix();
    // Every operation the server describes has its row, and every row is an operation.
    let spec: Value = serde_json::from_str(&shaozi_server::openapi::document_json()).unwrap();
    let mut described: Vec<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .filter(|op| op.contains(" /api/v1/"))
        .collect();
    described.sort();
    let mut listed: Vec<String> = rows.iter().map(|(r, _)| r.clone()).collect();
    listed.sort();
    assert_eq!(listed, described, "the README's matrix lists every route");
    let mut checked = 0;
    for (n, (route, cells)) in rows.iter().enumerate() {
        for (i, role) in ROLES.iter().enumerate() {
            let token = &t.by_role[i].1;
            let (inside, outside) = bounds(role, &city);
            let status = call(&s, token, route, &inside, n * 10 + i).await;
            match cells[i].as_str() {
                "✓" | "own" => assert!(
                    (200..300).contains(&status),
                    "{route} as {role}: the README allows it, got {status}"
                ),
                "✗" => assert_eq!(status, 403, "{route} as {role}: the README forbids it"),
                other => panic!("unknown cell {other:?} for {route}"),
            }
            if cells[i] == "own" {
                let out = outside.unwrap_or_else(|| {
                    panic!("{role} has no scope, so cannot be 'own' on {route}")
                });
                let status = call(&s, token, route, &out, n * 10 + i + 5).await;
                // A record the token may not see is as missing as one that does not exist;
                // departments see every wish (they claim them), so another's claim is a 403.
                // Filing in a community outside the scope is a 404 too (issue 28).
                let unseen = route.contains("/whistles/{id}")
                    || route.contains("/webhooks/{id}")
                    || route.contains("/templates/{id}")
                    || route == "POST /api/v1/whistles"
                    || route == "POST /api/v1/wishes"
                    || (route.contains("/wishes/{id}") && *role != "department");
                let outside = if unseen { 404 } else { 403 };
                assert_eq!(status, outside, "{route} as {role} outside its scope");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len() * 5);
}

#[tokio::test]
async fn scoped_tokens_see_only_their_part() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let dept = s
        .token(
            "department",
            json!({"department_id": city.departments[0]}),
            "城管",
        )
        .await;
    let street = s
        .token(
            "dispatcher",
            json!({"street_id": city.streets[1]}),
            "赫山调度",
        )
        .await;
    let mine = whistle_at(&s, "dispatched", &city.communities[0], &city.departments[0]).await;
    let theirs = whistle_at(&s, "dispatched", &city.communities[2], &city.departments[1]).await;
    let waiting = s
        .whistle(&city.communities[2], "roads", "urgent", "井盖缺失")
        .await;

    let list = |tok: String, q: &'static str| {
        let s = &s;
        async move {
            let a = TestServer::send(s.req_as(&tok, Method::GET, &format!("/api/v1/whistles?{q}")))
                .await;
            a.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(dept.clone(), "limit=100").await,
        std::slice::from_ref(&mine)
    );
    assert_eq!(
        list(dept.clone(), "status=new,dispatched").await,
        std::slice::from_ref(&mine)
    );
    assert!(
        list(dept.clone(), "department_id=D2").await.is_empty(),
        "asking for another unit shows nothing"
    );
    let mut streets = list(street.clone(), "status=new,dispatched").await;
    streets.sort();
    assert_eq!(
        streets,
        [theirs.clone(), waiting.clone()],
        "the street's queue, in its own queue order"
    );
    let other =
        TestServer::send(s.req_as(&dept, Method::GET, &format!("/api/v1/whistles/{theirs}"))).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.str("detail"), format!("there is no whistle {theirs}"));

    let stats = TestServer::send(s.req_as(&street, Method::GET, "/api/v1/stats"))
        .await
        .body;
    assert_eq!(
        stats["queue"],
        json!({"unanswered": 2, "overdue": 0, "urgent": 1})
    );
    let dstats = TestServer::send(s.req_as(&dept, Method::GET, "/api/v1/stats"))
        .await
        .body;
    assert_eq!(dstats["queue"]["unanswered"], 1);
    assert_eq!(
        dstats["departments"].as_array().unwrap().len(),
        1,
        "a department sees its own load"
    );

    // The event stream from the start: the department sees its own whistle's events, the
    // directory, and nothing of the others.
    let res = s
        .req_as(&dept, Method::GET, "/api/v1/events")
        .header("Last-Event-ID", "0")
        .send()
        .await
        .unwrap();
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let mut stream = res.bytes_stream().eventsource();
    let mut subjects = Vec::new();
    while let Ok(Some(Ok(ev))) =
        tokio::time::timeout(std::time::Duration::from_millis(500), stream.next()).await
    {
        let v: Value = serde_json::from_str(&ev.data).unwrap();
        subjects.push(v["subject"].as_str().unwrap().to_string());
    }
    assert!(subjects.contains(&mine));
    assert!(
        !subjects.contains(&theirs) && !subjects.contains(&waiting),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.starts_with('S')),
        "the directory is public"
    );
    assert!(
        !subjects.iter().any(|s| s == "城管" || s == "赫山调度"),
        "token events are for admins only"
    );
}

/// A department's load as `token`'s stats show it: (dispatched, acknowledged, open, overdue).
async fn load_as(s: &TestServer, token: &str, dept: &str) -> (i64, i64, i64, i64) {
    let a = TestServer::send(s.req_as(token, Method::GET, "/api/v1/stats")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let d = a.body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(dept))
        .unwrap_or_else(|| panic!("{dept} listed: {}", a.body))
        .clone();
    let n = |k: &str| d[k].as_i64().unwrap();
    (n("dispatched"), n("acknowledged"), n("open"), n("overdue"))
}

/// The same load worked out from the department's cases as `token` may list them.
async fn load_listed(s: &TestServer, token: &str, dept: &str) -> (i64, i64, i64, i64) {
    let a = TestServer::send(s.req_as(
        token,
        Method::GET,
        &format!("/api/v1/whistles?department_id={dept}&status=dispatched,acknowledged,resolved&limit=200"),
    ))
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let items = a.body["items"].as_array().unwrap();
    let count = |st: &str| items.iter().filter(|w| w["status"] == json!(st)).count() as i64;
    let overdue = items.iter().filter(|w| w["overdue"] == json!(true)).count() as i64;
    (
        count("dispatched"),
        count("acknowledged"),
        items.len() as i64,
        overdue,
    )
}

#[tokio::test]
async fn a_street_dispatcher_sees_each_departments_load_from_its_own_streets_cases() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let (a, b) = (&city.streets[0], &city.streets[1]);
    let at_a = s
        .token("dispatcher", json!({"street_id": a}), "桃花仑调度")
        .await;
    let at_b = s
        .token("dispatcher", json!({"street_id": b}), "赫山调度")
        .await;
    let d0 = &city.departments[0];
    // Street A (communities 0 and 1): one dispatched, one acknowledged, one resolved.
    for stage in ["dispatched", "acknowledged", "resolved"] {
        whistle_at(&s, stage, &city.communities[1], d0).await;
    }
    // Street B (community 2): three dispatched, one of them left to go overdue.
    for _ in 0..3 {
        whistle_at(&s, "dispatched", &city.communities[2], d0).await;
    }
    s.clock.advance(chrono::Duration::days(2));
    s.sweep().await;
    let mine = load_as(&s, &at_a, d0).await;
    let theirs = load_as(&s, &at_b, d0).await;
    let city_wide = load_as(&s, shaozi_tests::TOKEN, d0).await;
    assert_eq!((mine.0, mine.1, mine.2), (1, 1, 3), "street A: {mine:?}");
    assert_eq!(
        (theirs.0, theirs.1, theirs.2),
        (3, 0, 3),
        "street B: {theirs:?}"
    );
    assert_eq!(
        (city_wide.0, city_wide.1, city_wide.2),
        (4, 1, 6),
        "{city_wide:?}"
    );
    assert_eq!(city_wide.3, mine.3 + theirs.3, "overdue adds up");
    // What the stats say is what opening the department lists, for each of them.
    assert_eq!(mine, load_listed(&s, &at_a, d0).await);
    assert_eq!(theirs, load_listed(&s, &at_b, d0).await);
    assert_eq!(city_wide, load_listed(&s, shaozi_tests::TOKEN, d0).await);
    // Every department is still listed for a street (it dispatches to any), idle ones at 0.
    let d2 = load_as(&s, &at_a, &city.departments[2]).await;
    assert_eq!(d2, (0, 0, 0, 0));
    // And the same after a restart (counters, not memory).
    let s = s.restart().await;
    assert_eq!(load_as(&s, &at_a, d0).await, mine);
    assert_eq!(load_as(&s, &at_b, d0).await, theirs);
}
