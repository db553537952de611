//! Backups that restore: one taken through the API while writers run holds every
//! acknowledged write up to its sequence number and nothing after; a quiet city restored
//! answers every read byte for byte as the original; a file cut short or with one byte
//! changed is refused before anything is written. On the suite's engine (sled, or
//! PostgreSQL with `SHAOZI_TEST_ENGINE=postgres`).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use shaozi_server::backup::restore::{restore, verify};
use shaozi_server::backup::BackupError;
use shaozi_tests::receiver::{Receiver, Reply};
use shaozi_tests::{City, TestServer};

/// The body of a GET with the admin token, as bytes.
async fn raw(s: &TestServer, path: &str) -> (u16, Vec<u8>) {
    let res = s.req(Method::GET, path).send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// The whole log as the API pages it, (seq, event).
async fn log(s: &TestServer) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = TestServer::send(
            s.req(
                Method::GET,
                &format!("/api/v1/events?after={after}&limit=1000"),
            )
            .header("accept", "application/json"),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        for e in page.body["items"].as_array().unwrap() {
            out.push((e["seq"].as_u64().unwrap(), e.clone()));
        }
        after = page.body["after"].as_u64().unwrap();
        if !page.body["more"].as_bool().unwrap() {
            return out;
        }
    }
}

/// A backup through the running server's API, saved to `to`; its sequence number.
async fn backup_through_api(s: &TestServer, to: &Path) -> u64 {
    let res = s
        .req(Method::GET, "/api/v1/admin/backup")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    let seq: u64 = res.headers()["shaozi-backup-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    std::fs::write(to, res.bytes().await.unwrap()).unwrap();
    seq
}

/// Restores `file` into a fresh store and starts a server on it, on `clock`.
async fn restored(file: &Path, clock: Arc<shaozi_server::clock::ManualClock>) -> TestServer {
    let (dir, data, db) = TestServer::fresh();
    let mut s = restored_into(file, clock, &data).await;
    s.keep(dir, db);
    s
}

/// Restores `file` into the empty store `data` and starts a server on it, on `clock`.
async fn restored_into(
    file: &Path,
    clock: Arc<shaozi_server::clock::ManualClock>,
    data: &Path,
) -> TestServer {
    let data = data.to_path_buf();
    let verified = verify(file).expect("the backup checks out");
    let (f, d) = (file.to_path_buf(), data.clone());
    tokio::task::spawn_blocking(move || {
        let mut to = shaozi_server::open_engine_blocking(&d).unwrap();
        let offset = shaozi_shared::Rules::builtin().calendar.offset;
        let r = restore(&f, verified, &mut to, offset).expect("restores");
        to.engine.close().unwrap();
        r
    })
    .await
    .unwrap();
    TestServer::start_on(&data, clock).await
}

/// Files whistles and dispatches them until told to stop; returns every 2xx answer as
/// (whistle, version it reported).
async fn writer(
    s: Arc<TestServer>,
    city: City,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Vec<(String, u64)> {
    let mut acked = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let c = &city.communities[(n + i) % city.communities.len()];
        let a = s
            .post(
                "/api/v1/whistles",
                json!({"community_id": c, "category": "sanitation", "urgency": "normal",
                       "title": format!("写入{n}-{i}"), "description": "并发写入"}),
            )
            .await;
        if a.status == 201 {
            let id = a.str("id");
            acked.push((id.clone(), a.body["version"].as_u64().unwrap()));
            let d = s
                .post(
                    &format!("/api/v1/whistles/{id}/dispatch"),
                    json!({"department_id": city.departments[i % 2]}),
                )
                .await;
            if d.status == 200 {
                acked.push((id, d.body["version"].as_u64().unwrap()));
            }
        }
        i += 1;
    }
    acked
}

#[tokio::test]
async fn a_backup_taken_while_writers_run_holds_every_acknowledged_write_up_to_its_number() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    s.token("dispatcher", json!({}), "市调度").await;
    let s = Arc::new(s);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|n| tokio::spawn(writer(s.clone(), city.clone(), n, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.backup");
    let n = backup_through_api(&s, &file).await;
    // Writes go on after the backup's number.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let source_log = log(&s).await;
    let head = source_log.last().unwrap().0;
    assert!(
        n > 20 && head > n,
        "writes before and after the backup: {n} of {head}"
    );

    let r = restored(&file, s.clock.clone()).await;
    assert_clean(&r).await;
    // The log up to N, event for event; nothing after.
    let restored_log = log(&r).await;
    assert_eq!(restored_log.len() as u64, n);
    for ((a, ea), (b, eb)) in source_log.iter().zip(&restored_log) {
        assert_eq!((a, ea), (b, eb));
    }
    // Every acknowledged write whose event is at or before N is there.
    let seq_of: HashMap<(String, u64), u64> = source_log
        .iter()
        .filter(|(_, e)| e["type"].as_str().unwrap().starts_with("whistle."))
        .map(|(seq, e)| {
            (
                (
                    e["subject"].as_str().unwrap().to_string(),
                    e["record"]["version"].as_u64().unwrap(),
                ),
                *seq,
            )
        })
        .collect();
    let (mut before, mut after) = (0, 0);
    for (id, version) in &acked {
        let seq = seq_of[&(id.clone(), *version)];
        let got = r.get(&format!("/api/v1/whistles/{id}")).await;
        if seq <= n {
            before += 1;
            assert_eq!(got.status, 200, "{id} (event {seq} ≤ {n}) is missing");
            assert!(got.body["version"].as_u64().unwrap() >= *version);
            let timeline: Vec<u64> = got.body["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["seq"].as_u64().unwrap())
                .collect();
            assert!(timeline.contains(&seq), "{id} lacks event {seq}");
            assert!(timeline.iter().all(|t| *t <= n));
        } else {
            after += 1;
            let is_new = got.status == 404;
            assert!(
                is_new || got.body["version"].as_u64().unwrap() < *version,
                "{id} v{version} (event {seq} > {n}) is in the backup"
            );
        }
    }
    assert!(before > 10 && after > 0, "{before} before, {after} after");
    // Each record is as it was at N: the one of its last event up to N, and the source's
    // own answer when nothing happened to it after N.
    let mut last: HashMap<String, (u64, Value)> = HashMap::new();
    for (seq, e) in source_log.iter().filter(|(seq, _)| *seq <= n) {
        if e["type"].as_str().unwrap().starts_with("whistle.") {
            last.insert(
                e["subject"].as_str().unwrap().to_string(),
                (*seq, e["record"].clone()),
            );
        }
    }
    let touched_after: std::collections::HashSet<String> = source_log
        .iter()
        .filter(|(seq, _)| *seq > n)
        .map(|(_, e)| e["subject"].as_str().unwrap().to_string())
        .collect();
    let mut same = 0;
    for (id, (_, record)) in &last {
        let got = r.get(&format!("/api/v1/whistles/{id}")).await.body;
        assert_eq!(got["version"], record["version"], "{id}");
        assert_eq!(got["status"], record["status"], "{id}");
        if !touched_after.contains(id) {
            let (_, a) = raw(&s, &format!("/api/v1/whistles/{id}")).await;
            let (_, b) = raw(&r, &format!("/api/v1/whistles/{id}")).await;
            assert_eq!(a, b, "{id} answers byte for byte as the source");
            same += 1;
        }
    }
    assert!(same > 10, "{same}");
    // It carries on from N: the next whistle is numbered after the last one at N.
    let next = r
        .whistle(&city.communities[0], "roads", "normal", "恢复后第一件")
        .await;
    assert_eq!(
        log(&r).await.last().unwrap().0,
        n + 1,
        "{next} is event {}",
        n + 1
    );
}

/// The restored store's own consistency check finds nothing: it is as the writer would have
/// written it.
async fn assert_clean(r: &TestServer) {
    let res = r
        .req(Method::POST, "/api/v1/admin/check")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["clean"], true, "{report}");
}

/// A city with a bit of everything: the middle of a case, wishes, an activity, tokens (one
/// revoked), an idempotent create, a webhook subscription.
async fn busy_city(s: &TestServer) -> (City, Vec<String>, String) {
    let city = s.small_city().await;
    let dispatcher = s.token("dispatcher", json!({}), "市调度").await;
    let dept = s
        .token(
            "department",
            json!({"department_id": city.departments[0]}),
            "城管专干",
        )
        .await;
    s.token("viewer", json!({}), "临时查看").await;
    let revoked = s
        .req(Method::DELETE, "/api/v1/tokens/临时查看")
        .send()
        .await;
    assert_eq!(revoked.unwrap().status(), 200);
    let mut ids = Vec::new();
    for i in 0..12 {
        let c = &city.communities[i % 3];
        ids.push(
            s.whistle(
                c,
                ["sanitation", "lighting", "roads"][i % 3],
                "normal",
                &format!("问题{i}"),
            )
            .await,
        );
        s.clock.advance(chrono::Duration::seconds(50));
    }
    for (i, id) in ids.iter().enumerate().take(8) {
        let step = |a: &str| format!("/api/v1/whistles/{id}/{a}");
        let rb = s
            .req_as(&dispatcher, Method::POST, &step("dispatch"))
            .json(&json!({"department_id": city.departments[0]}));
        assert_eq!(TestServer::send(rb).await.status, 200);
        if i % 2 == 0 {
            let rb = s
                .req_as(&dept, Method::POST, &step("acknowledge"))
                .json(&json!({"staff": ["张伟", "李娜"]}));
            assert_eq!(TestServer::send(rb).await.status, 200);
            let rb = s
                .req_as(&dept, Method::POST, &step("resolve"))
                .json(&json!({"reply": "已处理"}));
            assert_eq!(TestServer::send(rb).await.status, 200);
        }
        s.clock.advance(chrono::Duration::seconds(40));
    }
    s.ok(
        &format!("/api/v1/whistles/{}/close", ids[0]),
        json!({"satisfaction": 5, "note": "满意"}),
        200,
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{}/reject", ids[11]),
        json!({"reason": "重复", "duplicate_of": ids[10]}),
        200,
    )
    .await;
    let wish = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "书包", "value_fen": 12000}),
            201,
        )
        .await;
    let wish = wish["id"].as_str().unwrap().to_string();
    s.ok(
        &format!("/api/v1/wishes/{wish}/claim"),
        json!({"department_id": city.departments[0], "claimer": "市城管局党支部"}),
        200,
    )
    .await;
    let act = s
        .post(
            "/api/v1/activities",
            json!({"department_id": city.departments[0], "community_id": city.communities[0],
                   "kind": "cleanup", "date": "2026-11-26", "participants": 6, "note": "报到服务"}),
        )
        .await;
    assert_eq!(act.status, 201, "{}", act.body);
    let once = s
        .req(Method::POST, "/api/v1/whistles")
        .header("idempotency-key", "k-123")
        .json(
            &json!({"community_id": city.communities[1], "category": "roads", "urgency": "urgent",
                      "title": "只报一次", "description": "井盖"}),
        );
    assert_eq!(TestServer::send(once).await.status, 201);
    // Reply templates: the city's, a department's own, and one deleted.
    for (token, name) in [(None, "已修复"), (Some(&dept), "城管回复"), (None, "作废")] {
        let body = json!({"category": "sanitation", "step": "resolve", "name": name,
                          "text": "{community}的问题已由{department}{staff}处理。"});
        let rb = match token {
            Some(t) => s.req_as(t, Method::POST, "/api/v1/templates"),
            None => s.req(Method::POST, "/api/v1/templates"),
        };
        assert_eq!(TestServer::send(rb.json(&body)).await.status, 201);
    }
    let gone = s.req(Method::DELETE, "/api/v1/templates/T3").send().await;
    assert_eq!(gone.unwrap().status(), 204);
    let hook = Receiver::start(Reply::ok()).await.unwrap();
    s.ok(
        "/api/v1/webhooks",
        json!({"name": "值班室", "url": hook.url, "events": ["whistle.closed"]}),
        201,
    )
    .await;
    ids.push(wish);
    (city, ids, dispatcher)
}

#[tokio::test]
async fn a_quiet_city_restored_answers_every_read_byte_for_byte() {
    let s = TestServer::start().await;
    let (city, ids, dispatcher) = busy_city(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.backup");
    let n = backup_through_api(&s, &file).await;
    assert_eq!(n, log(&s).await.last().unwrap().0);
    let r = restored(&file, s.clock.clone()).await;
    assert_clean(&r).await;
    // The same file restores into the other engine too.
    let other_dir = tempfile::tempdir().unwrap();
    let other_db = if shaozi_tests::pgdb::suite_on_postgres() {
        None
    } else {
        shaozi_tests::TestDatabase::create()
    };
    let other_data = match &other_db {
        Some(db) => std::path::PathBuf::from(&db.url),
        None if shaozi_tests::pgdb::suite_on_postgres() => other_dir.path().join("store"),
        None => {
            eprintln!("no PostgreSQL here: the restore into the other engine is not tried");
            other_dir.path().join("unused")
        }
    };
    let other = if other_db.is_some() || shaozi_tests::pgdb::suite_on_postgres() {
        let o = restored_into(&file, s.clock.clone(), &other_data).await;
        assert_clean(&o).await;
        Some(o)
    } else {
        None
    };

    let (c0, d0) = (&city.communities[0], &city.departments[0]);
    let mut paths = vec![
        "/api/v1/streets".to_string(),
        "/api/v1/communities".to_string(),
        "/api/v1/departments".to_string(),
        "/api/v1/whistles?limit=100".to_string(),
        "/api/v1/whistles?status=dispatched,acknowledged&limit=5".to_string(),
        format!("/api/v1/whistles?community_id={c0}"),
        format!("/api/v1/whistles?department_id={d0}&status=resolved"),
        format!("/api/v1/whistles?street_id={}", city.streets[0]),
        "/api/v1/whistles?due_within=30d".to_string(),
        "/api/v1/wishes".to_string(),
        "/api/v1/stats".to_string(),
        "/api/v1/tokens".to_string(),
        "/api/v1/audit?limit=1000".to_string(),
        "/api/v1/audit?actor=市调度".to_string(),
        "/api/v1/assessment?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z".to_string(),
        "/api/v1/assessment?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group=street".to_string(),
        "/api/v1/webhooks".to_string(),
        "/api/v1/templates".to_string(),
        format!("/api/v1/templates?whistle={}", ids[0]),
        "/open311/v2/requests.json?start_date=2026-11-26T00:00:00Z&end_date=2026-11-27T00:00:00Z&page_size=100".to_string(),
        "/open311/v2/servicerequestupdates.json?start_date=2026-11-26T00:00:00Z&end_date=2026-11-27T00:00:00Z".to_string(),
    ];
    for id in &ids {
        let kind = if id.starts_with('W') {
            "whistles"
        } else {
            "wishes"
        };
        paths.push(format!("/api/v1/{kind}/{id}"));
    }
    for p in &paths {
        let (sa, a) = raw(&s, p).await;
        let (sb, b) = raw(&r, p).await;
        assert_eq!(sa, 200, "{p}: {}", String::from_utf8_lossy(&a));
        assert_eq!(
            (sb, String::from_utf8_lossy(&b)),
            (sa, String::from_utf8_lossy(&a)),
            "{p} answers byte for byte as the source"
        );
        if let Some(o) = &other {
            let (sc, c) = raw(o, p).await;
            assert_eq!(
                (sc, String::from_utf8_lossy(&c)),
                (sa, String::from_utf8_lossy(&a)),
                "{p} answers byte for byte as the source on the other engine"
            );
        }
    }
    // Tokens work as they did: the dispatcher's, and not the revoked one.
    let me = TestServer::send(r.req_as(&dispatcher, Method::GET, "/api/v1/me")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["name"], "市调度");
    // A retried idempotent create gets its first answer, and creates nothing.
    let again = r
        .req(Method::POST, "/api/v1/whistles")
        .header("idempotency-key", "k-123")
        .json(
            &json!({"community_id": city.communities[1], "category": "roads", "urgency": "urgent",
                      "title": "只报一次", "description": "井盖"}),
        );
    let again = TestServer::send(again).await;
    assert_eq!(again.status, 201);
    assert_eq!(
        log(&r).await.last().unwrap().0,
        n,
        "nothing new was written"
    );
    // A template kept after the restore takes the next number, never a deleted one's.
    let next = r
        .ok(
            "/api/v1/templates",
            json!({"name": "新", "text": "已处理。"}),
            201,
        )
        .await;
    assert_eq!(next["id"], "T4");
}

#[tokio::test]
async fn a_file_cut_short_or_with_a_byte_changed_is_refused_and_nothing_is_written() {
    let s = TestServer::start().await;
    busy_city(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.backup");
    backup_through_api(&s, &file).await;
    let whole = std::fs::read(&file).unwrap();
    verify(&file).expect("the whole file checks out");

    let refused = |bytes: &[u8], name: &str| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        match verify(&p) {
            Ok(_) => panic!("{name} was accepted"),
            Err(e) => e.to_string(),
        }
    };
    // Cut anywhere: in the body, in the trailer, just before the end.
    for cut in [whole.len() / 2, whole.len() - 40, whole.len() - 1, 30] {
        let e = refused(&whole[..cut], "cut.backup");
        assert!(e.contains("cut short"), "cut at {cut}: {e}");
    }
    // One byte changed, in the header, in the body and in the trailer's checksum.
    let header_end = whole.iter().skip(16).position(|b| *b == b'\n').unwrap() + 16;
    for at in [header_end - 5, whole.len() / 2, whole.len() - 60] {
        let mut flipped = whole.clone();
        flipped[at] ^= 0x01;
        let e = refused(&flipped, "flipped.backup");
        assert!(
            e.contains("checksum") || e.contains("damaged") || e.contains("cut short"),
            "byte {at}: {e}"
        );
    }
    let mut flipped = whole.clone();
    flipped[whole.len() / 2] ^= 0x40;
    let e = refused(&flipped, "flipped.backup");
    assert!(e.contains("checksum does not match"), "{e}");
    // Not a backup at all; a newer format.
    let e = refused(b"hello", "hello.backup");
    assert!(e.contains("not a shaozi backup"), "{e}");
    let mut newer = whole.clone();
    newer[14] = b'9';
    match verify(&{
        let p = dir.path().join("newer.backup");
        std::fs::write(&p, &newer).unwrap();
        p
    }) {
        Err(BackupError::Newer(9)) => {}
        other => panic!("a newer format: {other:?}"),
    }
    // Into a store that is not empty: refused, and that store is untouched.
    let (_, data, _db) = TestServer::fresh();
    let d = data.clone();
    let f = file.clone();
    let err = tokio::task::spawn_blocking(move || {
        let mut to = shaozi_server::open_engine_blocking(&d).unwrap();
        let offset = shaozi_shared::Rules::builtin().calendar.offset;
        let v = verify(&f).unwrap();
        restore(&f, v, &mut to, offset).unwrap();
        let v = verify(&f).unwrap();
        let again = restore(&f, v, &mut to, offset);
        to.engine.close().unwrap();
        again
    })
    .await
    .unwrap();
    assert!(
        matches!(err, Err(BackupError::NotEmpty(n)) if n > 0),
        "{err:?}"
    );
}
