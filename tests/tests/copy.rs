//! Moving a city between engines: `shaozi-server copy` from sled to PostgreSQL and back. The
//! API answers byte for byte the same before and after (lists, details, stats, audit,
//! assessment, events, Open311), and the copy carries on numbering where the source stopped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use shaozi_server::clock::ManualClock;
use shaozi_tests::{TestDatabase, TestServer};

/// Everything a client reads, as raw bytes per path.
async fn snapshot(s: &TestServer, whistles: &[String], wishes: &[String]) -> Vec<(String, String)> {
    let mut paths: Vec<String> = [
        "/api/v1/whistles?limit=3",
        "/api/v1/whistles?status=new,dispatched,acknowledged&limit=2",
        "/api/v1/whistles?status=closed",
        "/api/v1/whistles?overdue=true",
        "/api/v1/whistles?category=roads&limit=2",
        "/api/v1/wishes",
        "/api/v1/stats",
        "/api/v1/streets",
        "/api/v1/communities",
        "/api/v1/departments",
        "/api/v1/tokens",
        "/api/v1/templates",
        "/api/v1/audit?limit=7",
        "/api/v1/audit?actor=admin",
        "/api/v1/assessment?from=2026-11-26&to=2026-11-28",
        "/api/v1/assessment?from=2026-11-26&to=2026-11-28&group=community",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    paths.extend(whistles.iter().map(|w| format!("/api/v1/whistles/{w}")));
    paths.extend(wishes.iter().map(|w| format!("/api/v1/wishes/{w}")));
    let mut out = Vec::new();
    for p in paths {
        let res = s.req(reqwest::Method::GET, &p).send().await.expect("get");
        assert_eq!(res.status().as_u16(), 200, "{p}");
        out.push((p, res.text().await.expect("body")));
    }
    // The log, as JSON pages and (a page) as the stream sends it.
    for q in ["", "?after=3&limit=5"] {
        let res = s
            .req(reqwest::Method::GET, &format!("/api/v1/events{q}"))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("events");
        out.push((format!("events{q}"), res.text().await.expect("body")));
    }
    let streamed = s
        .events(Some(0), 1000, std::time::Duration::from_millis(800))
        .await;
    out.push((
        "stream".into(),
        serde_json::to_string(&streamed).expect("json"),
    ));
    out
}

/// The subscriptions as listed, without their health (it moves with time).
async fn hook_list(s: &TestServer) -> Vec<Value> {
    let mut items = s.get("/api/v1/webhooks").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for h in &mut items {
        if let Some(o) = h.as_object_mut() {
            o.remove("health");
        }
    }
    assert!(!items.is_empty());
    items
}

/// Copies `from` into `to` as `shaozi-server copy` does (the command is this call and a
/// line of output), off the async runtime: the PostgreSQL client blocks.
fn copy(from: &Path, to: &Path) -> Result<String, String> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    std::thread::spawn(move || {
        let source = shaozi_server::open_engine_blocking(&from).map_err(|e| e.to_string())?;
        let mut dest = shaozi_server::open_engine_blocking(&to).map_err(|e| e.to_string())?;
        let offset = shaozi_shared::Rules::builtin().calendar.offset;
        let r = shaozi_server::copy::copy(&source, &mut dest, offset).map_err(|e| e.to_string())?;
        dest.engine.close().map_err(|e| e.to_string())?;
        Ok(format!("{r:?}"))
    })
    .join()
    .expect("copy thread")
}

#[tokio::test]
async fn a_city_copied_to_postgresql_and_back_answers_byte_for_byte_the_same() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let sled_a = dir.path().join("a");
    let clock = Arc::new(ManualClock::new(shaozi_tests::t0()));
    let mut s = TestServer::start_on(&sled_a, clock.clone()).await;
    let city = s.small_city().await;
    let (d1, d2) = (&city.departments[0], &city.departments[2]);
    let mut whistles = Vec::new();
    for (n, cat) in [
        "roads",
        "sanitation",
        "roads",
        "lighting",
        "roads",
        "property",
    ]
    .iter()
    .enumerate()
    {
        let urgency = if n % 2 == 0 { "urgent" } else { "normal" };
        whistles.push(
            s.whistle(&city.communities[n % 3], cat, urgency, &format!("井盖 {n}"))
                .await,
        );
    }
    let go = |w: &str, step: &str| format!("/api/v1/whistles/{w}/{step}");
    s.ok(
        &go(&whistles[0], "dispatch"),
        json!({"department_id": d1}),
        200,
    )
    .await;
    s.ok(
        &go(&whistles[0], "acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    s.ok(
        &go(&whistles[0], "resolve"),
        json!({"reply": "已修复"}),
        200,
    )
    .await;
    s.ok(&go(&whistles[0], "close"), json!({"satisfaction": 5}), 200)
        .await;
    s.ok(
        &go(&whistles[1], "dispatch"),
        json!({"department_id": d2}),
        200,
    )
    .await;
    s.ok(
        &go(&whistles[2], "reject"),
        json!({"reason": "重复", "duplicate_of": whistles[4]}),
        200,
    )
    .await;
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "轮椅", "value_fen": 50000}),
            201,
        )
        .await["id"]
        .as_str()
        .expect("wish id")
        .to_string();
    s.ok(
        &format!("/api/v1/wishes/{wish}/claim"),
        json!({"claimer": "党员", "department_id": d1}),
        200,
    )
    .await;
    s.ok(&format!("/api/v1/wishes/{wish}/complete"), json!({}), 200)
        .await;
    s.ok(
        "/api/v1/activities",
        json!({"department_id": d1, "community_id": city.communities[1], "kind": "cleanup",
               "date": "2026-11-26", "participants": 8}),
        201,
    )
    .await;
    // Reply templates: one kept, one deleted (its number is never given again).
    for name in ["已修复", "作废"] {
        s.ok(
            "/api/v1/templates",
            json!({"category": "roads", "step": "resolve", "name": name,
                   "text": "{community}{address}的井盖已由{department}修复。"}),
            201,
        )
        .await;
    }
    let gone = TestServer::send(s.req(reqwest::Method::DELETE, "/api/v1/templates/T2")).await;
    assert_eq!(gone.status, 204);
    s.token("viewer", json!({}), "wall").await;
    s.token("viewer", json!({}), "old-wall").await;
    let gone = TestServer::send(s.req(reqwest::Method::DELETE, "/api/v1/tokens/old-wall")).await;
    assert_eq!(gone.status, 200);
    let keyed = TestServer::send(
        s.req(reqwest::Method::POST, "/api/v1/whistles")
            .header("Idempotency-Key", "copy-1")
            .json(
                &json!({"community_id": city.communities[0], "category": "roads",
                          "urgency": "normal", "title": "带键", "description": "朝阳路口"}),
            ),
    )
    .await;
    assert_eq!(keyed.status, 201);
    whistles.push(keyed.str("id"));
    // Subscriptions move with the city, under their ids (never sent anything here: nothing
    // listens, and no wish is cancelled after them).
    for name in ["街道群", "归档"] {
        s.ok(
            "/api/v1/webhooks",
            json!({"name": name, "url": "http://127.0.0.1:9/hook", "events": ["wish.cancelled"]}),
            201,
        )
        .await;
    }
    let hooks_before = hook_list(&s).await;
    clock.advance(chrono::Duration::days(2));
    assert!(s.sweep().await > 0);
    let wishes = vec![wish];
    let before = snapshot(&s, &whistles, &wishes).await;
    s.stop().await;
    drop(s);

    // sled → PostgreSQL, and the same answers there.
    let pg = PathBuf::from(&db.url);
    println!("{}", copy(&sled_a, &pg).expect("sled → PostgreSQL"));
    let on_pg = TestServer::start_on(&pg, clock.clone()).await;
    let after = snapshot(&on_pg, &whistles, &wishes).await;
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{path} on PostgreSQL");
    }
    assert_eq!(hook_list(&on_pg).await, hooks_before);
    let h3 = on_pg
        .ok(
            "/api/v1/webhooks",
            json!({"name": "搬家后", "url": "http://127.0.0.1:9/hook", "events": ["wish.cancelled"]}),
            201,
        )
        .await;
    assert_eq!(h3["id"], json!("H3"), "numbering carries on");
    // The copy carries on: ids and sequence numbers continue, the retried key files nothing.
    let again = TestServer::send(
        on_pg
            .req(reqwest::Method::POST, "/api/v1/whistles")
            .header("Idempotency-Key", "copy-1")
            .json(
                &json!({"community_id": city.communities[0], "category": "roads",
                          "urgency": "normal", "title": "带键", "description": "朝阳路口"}),
            ),
    )
    .await;
    assert_eq!(again.str("id"), keyed.str("id"));
    let next = on_pg
        .whistle(&city.communities[0], "roads", "normal", "搬家后")
        .await;
    let last: u64 = keyed.str("id")[1..].parse().expect("number");
    assert_eq!(next, format!("W{}", last + 1));
    whistles.push(next);
    let moved_on = snapshot(&on_pg, &whistles, &wishes).await;
    drop(on_pg);

    // PostgreSQL → a new sled store: still the same city.
    let sled_b = dir.path().join("b");
    println!("{}", copy(&pg, &sled_b).expect("PostgreSQL → sled"));
    let back = TestServer::start_on(&sled_b, clock).await;
    let round = snapshot(&back, &whistles, &wishes).await;
    for ((path, a), (_, b)) in moved_on.iter().zip(&round) {
        assert_eq!(a, b, "{path} back on sled");
    }
    assert_eq!(hook_list(&back).await.len(), 3);
    // And a copy into a store that is not empty is refused.
    drop(back);
    let refused = copy(&pg, &sled_a).expect_err("the destination is not empty");
    assert!(refused.contains("not empty"), "{refused}");
}
