//! A store written in format 1 (one index entry per id of every list, per event of every
//! timeline and of the log by actor and by time) is brought up to date when the server opens
//! it, answers exactly as before, and carries on; a store from a newer version is refused.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use shaozi_server::store::keys::{self, be, family, key};
use shaozi_server::store::{stored, Store};
use shaozi_shared::{Event, Whistle, Wish};
use shaozi_tests::TestServer;

/// A window of the test's history that starts and ends inside a minute.
const W0: &str = "2026-11-26T08:03:30Z";
const W1: &str = "2026-11-26T08:15:10Z";

/// Every entry of the families the upgrade rebuilds, and every stored whistle and wish.
fn derived(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    for fam in family::DERIVED_FROM_RECORDS {
        for r in store.idx.scan_prefix([fam]) {
            let (k, v) = r.unwrap();
            out.insert(k.to_vec(), v.to_vec());
        }
    }
    for (name, tree) in [("W", &store.whistles), ("H", &store.wishes)] {
        for r in tree.iter() {
            let (k, v) = r.unwrap();
            out.insert(key(&[name.as_bytes(), &k]), v.to_vec());
        }
    }
    out
}

/// Opens a store, waiting out the file lock that sled's background threads hold for a moment
/// after the previous owner closed it.
fn retry<T, E: std::fmt::Debug>(open: impl Fn() -> Result<T, E>) -> T {
    for _ in 0..100 {
        if let Ok(t) = open() {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    open().unwrap()
}

/// Every counter that is not zero, by name (one that went back to zero stays as 0).
fn all_counters(store: &Store) -> BTreeMap<String, i64> {
    store
        .counters
        .iter()
        .map(|r| {
            let (k, v) = r.unwrap();
            let n = i64::from_be_bytes(v.as_ref().try_into().unwrap());
            (String::from_utf8(k.to_vec()).unwrap(), n)
        })
        .filter(|(_, n)| *n != 0)
        .collect()
}

/// Every entry of the index tree.
fn whole_index(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store
        .idx
        .iter()
        .map(|r| {
            let (k, v) = r.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

/// Rewrites the store the way format 1 kept it (indexes in the tree `idx`, one entry per id
/// and per event), and forgets the format.
fn downgrade(data: &Path) {
    let store = retry(|| Store::open(data));
    let idx = store.db.open_tree("idx").unwrap();
    // What format 2 keeps as it was.
    for r in store.idx.iter() {
        let (k, v) = r.unwrap();
        if !family::DERIVED_FROM_RECORDS.contains(&k[0]) {
            idx.insert(k, v).unwrap();
        }
    }
    let none: &[u8] = &[];
    // Records as bare JSON, their timelines one entry per event.
    for (tree, fam) in [
        (&store.whistles, family::TIMELINE),
        (&store.wishes, family::WISH_TIMELINE),
    ] {
        for r in tree.iter() {
            let (k, v) = r.unwrap();
            for seq in stored::timeline(&v).unwrap() {
                idx.insert(key(&[&[fam], &k, &be(seq)]), none).unwrap();
            }
            tree.insert(&k, stored::json(&v).unwrap()).unwrap();
        }
    }
    for r in store.whistles.iter() {
        let w: Whistle = serde_json::from_slice(&r.unwrap().1).unwrap();
        for p in keys::whistle_lists(&w) {
            idx.insert(key(&[&p, &be(w.id.0)]), none).unwrap();
        }
        let t = be(keys::time_key(w.created_at));
        idx.insert(key(&[&[family::FILED], &t, &be(w.id.0)]), none)
            .unwrap();
    }
    for r in store.wishes.iter() {
        let w: Wish = serde_json::from_slice(&r.unwrap().1).unwrap();
        for p in keys::wish_lists(&w) {
            idx.insert(key(&[&p, &be(w.id.0)]), none).unwrap();
        }
    }
    for r in store.events.iter() {
        let (k, v) = r.unwrap();
        let e: Event = serde_json::from_slice(&v).unwrap();
        let n = e.actor.name.as_bytes();
        idx.insert(key(&[&[family::AUDIT_ACTOR], n, &[0], &k]), none)
            .unwrap();
        let t = be(keys::time_key(e.at));
        idx.insert(key(&[&[family::AUDIT_TIME], &t, &k]), none)
            .unwrap();
    }
    store.meta.remove("format").unwrap();
    let db = store.db.clone();
    drop(store);
    db.drop_tree("index").unwrap();
    db.flush().unwrap();
}

#[tokio::test]
async fn a_format_1_store_is_upgraded_when_opened_and_answers_as_before() {
    if shaozi_tests::pgdb::suite_on_postgres() {
        eprintln!("sled's store format only; the PostgreSQL schema's migrations are tested in tests/tests/postgres.rs");
        return;
    }
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    let dispatcher = s.token("dispatcher", json!({}), "市调度").await;
    let mut ids = Vec::new();
    for i in 0..24 {
        let c = &city.communities[i % 3];
        let cat = ["sanitation", "lighting", "roads"][i % 3];
        ids.push(s.whistle(c, cat, "normal", &format!("问题{i}")).await);
        // Spread the history over several minutes.
        s.clock.advance(chrono::Duration::seconds(50));
    }
    for (i, id) in ids.iter().enumerate().take(16) {
        let step = |a: &str| format!("/api/v1/whistles/{id}/{a}");
        let d = &city.departments[i % 2];
        // Two joint calls, with the third department assisting (format 8's lists).
        let assisting: Vec<&String> = if i < 2 {
            vec![&city.departments[2]]
        } else {
            vec![]
        };
        let rb = s
            .req_as(&dispatcher, reqwest::Method::POST, &step("dispatch"))
            .json(&json!({"department_id": d, "assisting": assisting}));
        assert_eq!(TestServer::send(rb).await.status, 200);
        if i % 2 == 0 {
            s.ok(
                &step("acknowledge"),
                json!({"staff": ["张伟", "李娜"]}),
                200,
            )
            .await;
            s.ok(
                &step("resolve"),
                json!({"reply": "已处理", "note": "协办部门无需到场"}),
                200,
            )
            .await;
        }
        s.clock.advance(chrono::Duration::seconds(40));
    }
    // Something waiting for the dispatcher (format 7's lists): a return, and more time asked.
    {
        let dept = s
            .token(
                "department",
                json!({"department_id": city.departments[1]}),
                "二部门",
            )
            .await;
        let act = |id: &str, step: &str, body: serde_json::Value| {
            s.req_as(
                &dept,
                reqwest::Method::POST,
                &format!("/api/v1/whistles/{id}/{step}"),
            )
            .json(&body)
        };
        assert_eq!(
            TestServer::send(act(&ids[1], "return", json!({"reason": "不归我们"})))
                .await
                .status,
            200
        );
        let a = TestServer::send(act(
            &ids[3],
            "acknowledge",
            json!({"staff": ["王强", "赵敏"]}),
        ))
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let due: chrono::DateTime<chrono::Utc> =
            a.body["resolve_by"].as_str().unwrap().parse().unwrap();
        let asked = TestServer::send(act(
            &ids[3],
            "extension",
            json!({"until": due + chrono::Duration::days(2), "reason": "等材料"}),
        ))
        .await;
        assert_eq!(asked.status, 200, "{}", asked.body);
    }
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "书包", "value_fen": 12000}),
            201,
        )
        .await;
    let wish = wish["id"].as_str().unwrap().to_string();
    let c0 = &city.communities[0];
    let d0 = &city.departments[0];
    let paths = vec![
        "/api/v1/whistles?limit=10".to_string(),
        "/api/v1/whistles?status=dispatched&limit=5".to_string(),
        format!("/api/v1/whistles?community_id={c0}"),
        format!("/api/v1/whistles?department_id={d0}&status=resolved,dispatched"),
        format!("/api/v1/whistles?street_id={}", city.streets[0]),
        format!("/api/v1/whistles/{}", ids[0]),
        format!("/api/v1/whistles/{}", ids[23]),
        "/api/v1/wishes".to_string(),
        format!("/api/v1/wishes/{wish}"),
        format!("/api/v1/wishes?community_id={c0}&status=open"),
        "/api/v1/audit?actor=市调度".to_string(),
        "/api/v1/audit?from=2026-11-26T08:05:00Z&to=2026-11-26T08:20:00Z".to_string(),
        "/api/v1/audit?limit=1000".to_string(),
        "/api/v1/stats".to_string(),
        // Windows that start and end inside a minute, to count the edge minutes exactly.
        format!("/api/v1/assessment?from={W0}&to={W1}"),
        format!("/open311/v2/requests.json?start_date={W0}&end_date={W1}&page_size=100"),
        format!("/open311/v2/servicerequestupdates.json?start_date={W0}&end_date={W1}"),
        // Last, so the positions above stay what the checks below read.
        "/api/v1/whistles?pending=extension".to_string(),
        "/api/v1/whistles?pending=return".to_string(),
    ];
    let mut before = Vec::new();
    for p in &paths {
        let a = s.get(p).await;
        assert_eq!(a.status, 200, "{p}: {}", a.body);
        before.push(a.body);
    }
    // The per-day count of the window is exact: a recount of the whistles filed in it.
    let all = s.get("/api/v1/whistles?limit=100").await.body;
    let (w0, w1) = (
        W0.parse::<DateTime<Utc>>().unwrap(),
        W1.parse::<DateTime<Utc>>().unwrap(),
    );
    let recount = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            w["created_at"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
        })
        .filter(|t| *t >= w0 && *t < w1)
        .count();
    assert!(recount > 5, "{recount}");
    assert_eq!(
        before[14]["daily"][0]["filed"],
        json!(recount),
        "{}",
        before[14]
    );
    assert_eq!(before[15].as_array().unwrap().len(), recount);
    // The answers are not trivially empty.
    assert_eq!(before[10]["items"].as_array().unwrap().len(), 16);
    let in_window = before[11]["items"].as_array().unwrap().len();
    assert!(in_window > 5 && in_window < 60, "{in_window}");
    let entries = derived(sled_of(&s));
    let index = whole_index(sled_of(&s));

    s.stop().await;
    downgrade(s.data());
    {
        // A format 1 store: its index is in `idx`, and there is no `index`.
        let db = retry(|| sled::open(s.data()));
        let names = db.tree_names();
        assert!(names.iter().any(|n| &n[..] == b"idx"));
        assert!(!names.iter().any(|n| &n[..] == b"index"));
    }
    {
        // Opening it upgraded it; look at what the upgrade left, then reopen through the server.
        let up = retry(|| Store::open(s.data()));
        assert_eq!(derived(&up), entries, "the upgrade rebuilds every entry");
        assert_eq!(whole_index(&up), index, "and keeps the rest of the index");
        assert!(
            !up.db.tree_names().iter().any(|n| &n[..] == b"idx"),
            "idx is dropped"
        );
    }
    // An upgrade cut short before it set the format runs again from the start.
    downgrade(s.data());
    {
        let db = retry(|| sled::open(s.data()));
        db.open_tree("index")
            .unwrap()
            .insert(b"q-partial", &b"x"[..])
            .unwrap();
        db.flush().unwrap();
    }
    // sled's background threads let go of the store's lock a moment after it is closed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    for (p, b) in paths.iter().zip(&before) {
        assert_eq!(&s.get(p).await.body, b, "{p} answers as before the upgrade");
    }
    assert_eq!(derived(sled_of(&s)), entries);
    assert_eq!(whole_index(sled_of(&s)), index);

    // A format 2 store (before the category lists and the list of events not about whistles) gets the
    // two lists when it is opened, exactly as a store written in format 3 has them.
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        let mut gone = 0;
        for fam in [family::CATEGORY, family::OTHER_LOG] {
            for r in store.idx.scan_prefix([fam]) {
                store.idx.remove(r.unwrap().0).unwrap();
                gone += 1;
            }
        }
        assert!(gone >= 4, "{gone}");
        store.meta.insert("format", &be(2)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    for (p, b) in paths.iter().zip(&before) {
        assert_eq!(
            &s.get(p).await.body,
            b,
            "{p} answers as before the format 3 upgrade"
        );
    }
    assert_eq!(whole_index(sled_of(&s)), index);
    assert_eq!(
        sled_of(&s).meta.get("format").unwrap().as_deref(),
        Some(&be(shaozi_server::store::FORMAT)[..])
    );

    // A format 3 store (queues ordered overdue-first, no source totals) gets format 4's
    // queue order and totals when it is opened, exactly as a store written in format 4.
    let stats_before = s.get("/api/v1/stats").await.body;
    s.stop().await;
    let counters_before = all_counters(&retry(|| Store::open(s.data())));
    assert!(
        counters_before.contains_key("status/resolved")
            && counters_before.contains_key("status/new"),
        "{counters_before:?}"
    );
    {
        let store = retry(|| Store::open(s.data()));
        let mut moved = 0;
        for (fam, at) in [(family::QUEUE, 1), (family::UNIT_QUEUE, 10)] {
            for r in store.idx.scan_prefix([fam]) {
                let (k, v) = r.unwrap();
                let mut old = k.to_vec();
                // (A returned case has no older class: format 3 had no returns; it stays.)
                old[at] = old[at].saturating_sub(1);
                store.idx.remove(&k).unwrap();
                store.idx.insert(old, v).unwrap();
                moved += 1;
            }
        }
        assert!(moved >= 4, "{moved}");
        for prefix in ["src", "status/"] {
            for r in store.counters.scan_prefix(prefix) {
                store.counters.remove(r.unwrap().0).unwrap();
            }
        }
        store.meta.insert("format", &be(3)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    for (p, b) in paths.iter().zip(&before) {
        assert_eq!(
            &s.get(p).await.body,
            b,
            "{p} answers as before the format 4 upgrade"
        );
    }
    assert_eq!(whole_index(sled_of(&s)), index);
    assert_eq!(s.get("/api/v1/stats").await.body, stats_before);
    assert_eq!(all_counters(sled_of(&s)), counters_before);

    // A format 4 store (no totals per status) gets them when it is opened.
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        for r in store.counters.scan_prefix("status/") {
            store.counters.remove(r.unwrap().0).unwrap();
        }
        store.meta.insert("format", &be(4)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    assert_eq!(all_counters(sled_of(&s)), counters_before);
    assert_eq!(
        sled_of(&s).meta.get("format").unwrap().as_deref(),
        Some(&be(shaozi_server::store::FORMAT)[..])
    );

    // A format 6 store (no lists of what waits for the dispatcher) gets them when it is opened,
    // exactly as a store written in format 7 has them.
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        let mut gone = 0;
        for r in store.idx.scan_prefix([family::PENDING]) {
            store.idx.remove(r.unwrap().0).unwrap();
            gone += 1;
        }
        assert!(gone >= 2, "{gone}");
        store.meta.insert("format", &be(6)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    for (p, b) in paths.iter().zip(&before) {
        assert_eq!(
            &s.get(p).await.body,
            b,
            "{p} answers as before the format 7 upgrade"
        );
    }
    assert_eq!(whole_index(sled_of(&s)), index);

    // A format 7 store (no lists of the cases each department assists on) gets them when it
    // is opened, and the assisting department's own list holds its calls again.
    let helper = s
        .token(
            "department",
            json!({"department_id": city.departments[2]}),
            "协办部门",
        )
        .await;
    let own = |s: &TestServer| {
        TestServer::send(s.req_as(
            &helper,
            reqwest::Method::GET,
            "/api/v1/whistles?status=dispatched,returned,resolved",
        ))
    };
    let assisted = own(&s).await.body;
    let mut listed: Vec<&str> = assisted["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    listed.sort_unstable();
    let mut want = vec![ids[0].as_str(), ids[1].as_str()];
    want.sort_unstable();
    assert_eq!(
        listed, want,
        "an assisting department's own list: {assisted}"
    );
    // (The token just made wrote to the index.)
    let index = whole_index(sled_of(&s));
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        let mut gone = 0;
        for r in store.idx.scan_prefix([family::ASSIST]) {
            store.idx.remove(r.unwrap().0).unwrap();
            gone += 1;
        }
        assert!(gone >= 1, "{gone}");
        store.meta.insert("format", &be(7)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    assert_eq!(
        own(&s).await.body,
        assisted,
        "as before the format 8 upgrade"
    );
    assert_eq!(whole_index(sled_of(&s)), index);

    // A format 8 store (an assisting call not measured apart) measures each assisting call
    // when it is opened: the assisting department's figures come back.
    let assessment = "/api/v1/assessment?from=2026-11-01&to=2026-12-31";
    let measured = s.get(assessment).await.body;
    let helper_unit = measured["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(city.departments[2]))
        .unwrap()
        .clone();
    assert_eq!(helper_unit["assisted"], 2, "{helper_unit}");
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        let mut gone = 0;
        for r in store.idx.scan_prefix([family::MEASURE]) {
            let (k, v) = r.unwrap();
            if String::from_utf8_lossy(&v).contains("\"assisting\":true") {
                store.idx.remove(k).unwrap();
                gone += 1;
            }
        }
        assert_eq!(gone, 2, "the two joint calls");
        store.meta.insert("format", &be(8)).unwrap();
        store.db.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.start_again().await;
    assert_eq!(
        s.get(assessment).await.body,
        measured,
        "as before the format 9 upgrade"
    );
    assert_eq!(whole_index(sled_of(&s)), index);

    // And it carries on: a new whistle lands on its lists and its timeline.
    let new = s.whistle(c0, "roads", "urgent", "新问题").await;
    let list = s.get(&format!("/api/v1/whistles?community_id={c0}")).await;
    assert_eq!(list.body["items"][0]["id"], json!(new));
    let detail = s.get(&format!("/api/v1/whistles/{new}")).await.body;
    assert_eq!(detail["timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_from_a_newer_version_is_refused_untouched() {
    if shaozi_tests::pgdb::suite_on_postgres() {
        eprintln!("sled's store format only; the PostgreSQL schema's migrations are tested in tests/tests/postgres.rs");
        return;
    }
    let mut s = TestServer::start().await;
    s.small_city().await;
    s.stop().await;
    {
        let store = retry(|| Store::open(s.data()));
        store.meta.insert("format", &be(99)).unwrap();
        store.db.flush().unwrap();
    }
    // The first attempts may still meet the lock of the store just closed.
    let mut err = String::new();
    for _ in 0..100 {
        let mut cfg = shaozi_server::Config::new(s.data().to_path_buf());
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        err = match tokio::time::timeout(Duration::from_secs(30), shaozi_server::start(cfg)).await {
            Ok(Err(e)) => e.to_string(),
            Ok(Ok(_)) => panic!("a format 99 store was opened"),
            Err(_) => panic!("start hung"),
        };
        if err.contains("format 99") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(err.contains("format 99"), "{err}");
    // Refusing it changed nothing: still format 99.
    let store = retry(|| sled::open(s.data()));
    let format = store.open_tree("meta").unwrap().get("format").unwrap();
    assert_eq!(format.as_deref(), Some(&be(99)[..]));
}

/// The running server's sled store.
fn sled_of(s: &TestServer) -> &Store {
    s.server
        .as_ref()
        .expect("running")
        .sled
        .as_ref()
        .expect("a sled store")
}

#[tokio::test]
async fn a_format_5_store_counts_each_streets_department_loads_when_opened() {
    if shaozi_tests::pgdb::suite_on_postgres() {
        eprintln!("sled's store format only; the PostgreSQL schema's migrations are tested in tests/tests/postgres.rs");
        return;
    }
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    for (i, c) in [0, 1, 2, 2].iter().enumerate() {
        let id = s
            .whistle(
                &city.communities[*c],
                "sanitation",
                "normal",
                &format!("问题{i}"),
            )
            .await;
        s.dispatch(&id, &city.departments[0]).await;
    }
    let before = all_counters(sled_of(&s));
    let street_loads: BTreeMap<&String, &i64> = before
        .iter()
        .filter(|(k, _)| k.starts_with("sdept/"))
        .collect();
    assert_eq!(
        street_loads.len(),
        4,
        "dispatched and open, for each of two streets: {street_loads:?}"
    );
    s.stop().await;
    {
        // As format 5 left it: no street's view of the departments.
        let store = retry(|| Store::open(s.data()));
        for name in before.keys().filter(|k| k.starts_with("sdept/")) {
            store.counters.remove(name.as_bytes()).unwrap();
        }
        store.meta.insert("format", &be(5)).unwrap();
        store.db.flush().unwrap();
    }
    s.start_again().await;
    assert_eq!(all_counters(sled_of(&s)), before);
    let format = sled_of(&s).meta.get("format").unwrap();
    assert_eq!(
        format.as_deref(),
        Some(&be(shaozi_server::store::FORMAT)[..])
    );
}
