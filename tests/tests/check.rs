//! The consistency check: clean on a healthy city, on a stopped store and on a running server
//! while writers run; it finds a counter and an index entry corrupted on purpose, and a
//! series put behind its records, `--repair` fixes them, and a second check is clean. On the
//! suite's engine.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use shaozi_server::store::keys;
use shaozi_shared::api::ConsistencyReport;
use shaozi_tests::{City, TestServer};

/// A city with cases at every stage.
async fn city_with_cases(s: &TestServer) -> (City, Vec<String>) {
    let city = s.small_city().await;
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
        s.clock.advance(chrono::Duration::seconds(70));
    }
    for (i, id) in ids.iter().enumerate().take(8) {
        let step = |a: &str| format!("/api/v1/whistles/{id}/{a}");
        s.ok(
            &step("dispatch"),
            json!({"department_id": city.departments[i % 2]}),
            200,
        )
        .await;
        if i % 2 == 0 {
            s.ok(
                &step("acknowledge"),
                json!({"staff": ["张伟", "李娜"]}),
                200,
            )
            .await;
        }
    }
    let w = s
        .ok(
            "/api/v1/wishes",
            json!({"community_id": city.communities[0], "title": "书包", "value_fen": 12000}),
            201,
        )
        .await;
    assert!(w["id"].is_string());
    (city, ids)
}

/// The check on a stopped store (or a database), as `shaozi-server check` runs it.
async fn check_stopped(data: &Path, repair: bool) -> ConsistencyReport {
    let data = data.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let opened = if shaozi_tests::pgdb::suite_on_postgres() {
            shaozi_server::open_engine_blocking(&data).unwrap()
        } else {
            // sled's threads let go of the directory a moment after the server stopped.
            let mut tries = 0;
            loop {
                match shaozi_server::open_engine_blocking(&data) {
                    Ok(o) => break o,
                    Err(_) if tries < 100 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let offset = shaozi_shared::Rules::builtin().calendar.offset;
        shaozi_server::check::check_store(&data, &opened, offset, repair).unwrap()
    })
    .await
    .unwrap()
}

fn parts(r: &ConsistencyReport) -> String {
    r.listed
        .iter()
        .map(|d| format!("{}: {}", d.part, d.what))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `sql` on the suite's database (a blocking client, on a thread of its own).
fn pg_sql(data: &Path, sql: String) {
    let url = data.to_str().unwrap().to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&sql).unwrap();
    })
    .join()
    .unwrap();
}

/// Breaks one counter and one whistle's index entry (its place in the city's queue on sled,
/// its status column on PostgreSQL), the way a bug or a bad disk would.
fn corrupt(s: &TestServer, data: &Path, whistle: &str) {
    let id: u64 = whistle[1..].parse().unwrap();
    if shaozi_tests::pgdb::suite_on_postgres() {
        pg_sql(
            data,
            format!(
                "UPDATE counters SET value = value + 3 WHERE name = 'queue/unanswered'; \
                 UPDATE whistles SET status = 4 WHERE id = {id};"
            ),
        );
        return;
    }
    let store = match &s.server {
        Some(r) => r.sled.clone().unwrap(),
        None => shaozi_tests::open_stopped_store(data),
    };
    let n = store.counter("queue/unanswered").unwrap();
    store
        .counters
        .insert("queue/unanswered", &(n + 3).to_be_bytes())
        .unwrap();
    let w = store
        .whistle(shaozi_shared::WhistleId(id))
        .unwrap()
        .unwrap();
    assert!(w.status.is_unanswered(), "{whistle} is in the queue");
    let removed = store.idx.remove(keys::queue_key(&w)).unwrap();
    assert!(removed.is_some(), "{whistle} had its queue entry");
    store.db.flush().unwrap();
}

#[tokio::test]
async fn a_corrupted_counter_and_index_entry_are_found_repaired_and_a_second_check_is_clean() {
    let mut s = TestServer::start().await;
    let (_, ids) = city_with_cases(&s).await;
    let before = s
        .get("/api/v1/whistles?status=new,dispatched&limit=100")
        .await
        .body;
    let stats = s.get("/api/v1/stats").await.body;
    s.stop().await;
    let data = s.data().to_path_buf();

    let clean = check_stopped(&data, false).await;
    assert!(
        clean.clean,
        "a healthy city checks clean:\n{}",
        parts(&clean)
    );
    assert!(clean.compared > 50, "{clean:?}");

    // The 9th case is dispatched, not yet acknowledged: in the queue.
    corrupt(&s, &data, &ids[9]);
    let found = check_stopped(&data, false).await;
    assert!(!found.clean);
    assert!(!found.repaired);
    let said = parts(&found);
    assert!(
        said.contains("counter: queue/unanswered is")
            && said.contains("a recount of the records says"),
        "{said}"
    );
    assert!(
        found
            .listed
            .iter()
            .any(|d| d.part == "index" && d.what.contains(&ids[9])),
        "{said}"
    );
    assert_eq!(found.differences, found.listed.len() as u64);

    let repaired = check_stopped(&data, true).await;
    assert!(
        repaired.repaired && repaired.differences == found.differences,
        "{repaired:?}"
    );
    let again = check_stopped(&data, false).await;
    assert!(again.clean, "a second check is clean:\n{}", parts(&again));

    // The server reads as before the damage.
    s.start_again().await;
    assert_eq!(
        s.get("/api/v1/whistles?status=new,dispatched&limit=100")
            .await
            .body,
        before
    );
    assert_eq!(s.get("/api/v1/stats").await.body, stats);
}

async fn check_running(s: &TestServer) -> ConsistencyReport {
    let res = s
        .req(Method::POST, "/api/v1/admin/check")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_running_server_checks_itself_while_writers_run() {
    let s = TestServer::start().await;
    let (city, ids) = city_with_cases(&s).await;
    let s = Arc::new(s);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for n in 0..3 {
        let (s, city, stop) = (s.clone(), city.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let c = &city.communities[(n + i) % 3];
                let id = s.whistle(c, "roads", "urgent", &format!("写{n}-{i}")).await;
                let d: Value = s
                    .ok(
                        &format!("/api/v1/whistles/{id}/dispatch"),
                        json!({"department_id": city.departments[i % 2]}),
                        200,
                    )
                    .await;
                assert_eq!(d["status"], "dispatched");
                i += 1;
            }
            i
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Writes go on throughout, and none of them is taken for a difference.
    for _ in 0..3 {
        let r = check_running(&s).await;
        assert!(r.clean, "clean while writers run:\n{}", parts(&r));
    }
    // Damage made while it runs is found, and only that.
    corrupt(&s, s.data(), &ids[9]);
    let r = check_running(&s).await;
    stop.store(true, Ordering::SeqCst);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert!(written > 10, "{written} written during the checks");
    assert!(!r.clean);
    let said = parts(&r);
    assert!(said.contains("counter: queue/unanswered"), "{said}");
    assert!(
        r.listed
            .iter()
            .any(|d| d.part == "index" && d.what.contains(&ids[9])),
        "{said}"
    );
    assert!(
        r.listed.iter().all(|d| d.what.contains(&ids[9])
            || d.what.contains("queue/unanswered")
            || d.what.contains("city's queue")),
        "nothing but the damage:\n{said}"
    );
    // Only the admin may.
    let viewer = s.token("viewer", json!({}), "查看").await;
    let res = s
        .req_as(&viewer, Method::POST, "/api/v1/admin/check")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// Puts a series behind its records (the next whistle's id is one a case already has) and,
/// on PostgreSQL, moves an activity to another street and day in its columns.
fn put_series_behind(s: &TestServer, data: &Path, next_whistle: u64) {
    if shaozi_tests::pgdb::suite_on_postgres() {
        pg_sql(
            data,
            format!(
                "UPDATE series SET next_id = {next_whistle} WHERE name = 'whistle'; \
                 UPDATE activities SET street_id = street_id + 100, day = day - interval '2 days';"
            ),
        );
        return;
    }
    let store = match &s.server {
        Some(r) => r.sled.clone().unwrap(),
        None => shaozi_tests::open_stopped_store(data),
    };
    store
        .meta
        .insert("next/whistle", &keys::be(next_whistle))
        .unwrap();
    store.db.flush().unwrap();
}

#[tokio::test]
async fn a_series_behind_its_records_is_found_and_repaired_before_it_overwrites_a_case() {
    let mut s = TestServer::start().await;
    let (city, ids) = city_with_cases(&s).await;
    let today = s
        .clock
        .now_utc()
        .with_timezone(&shaozi_shared::Rules::builtin().calendar.offset)
        .date_naive();
    let act = s
        .post(
            "/api/v1/activities",
            json!({"department_id": city.departments[0], "community_id": city.communities[1],
                   "kind": "cleanup", "date": today, "participants": 8, "note": "清扫楼道"}),
        )
        .await;
    assert_eq!(act.status, 201, "{}", act.body);
    let assessment = format!("/api/v1/assessment?from={today}&to={today}&group=street");
    let ranked = s.get(&assessment).await;
    assert_eq!(ranked.status, 200, "{}", ranked.body);
    let third = s.get(&format!("/api/v1/whistles/{}", ids[3])).await.body;
    s.stop().await;
    let data = s.data().to_path_buf();

    let taken: u64 = ids[3][1..].parse().unwrap();
    put_series_behind(&s, &data, taken);
    let found = check_stopped(&data, false).await;
    let said = parts(&found);
    let highest = ids.last().unwrap();
    assert!(
        found.listed.iter().any(|d| d.part == "series"
            && d.what.contains(&format!("the next whistle id is {taken}"))
            && d.what.contains(&format!("whistle {}", &highest[1..]))),
        "{said}"
    );
    if shaozi_tests::pgdb::suite_on_postgres() {
        assert!(
            found
                .listed
                .iter()
                .any(|d| d.part == "index" && d.what.contains("A1's columns (street_id, day)")),
            "{said}"
        );
    }
    let repaired = check_stopped(&data, true).await;
    assert!(repaired.repaired, "{repaired:?}");
    let again = check_stopped(&data, false).await;
    assert!(again.clean, "a second check is clean:\n{}", parts(&again));

    // The next case takes the next number, and the one the series pointed at is untouched.
    s.start_again().await;
    assert_eq!(s.get(&assessment).await.body, ranked.body);
    let next = s
        .whistle(&city.communities[0], "roads", "normal", "路面塌陷")
        .await;
    let want: u64 = highest[1..].parse::<u64>().unwrap() + 1;
    assert_eq!(next, format!("W{want}"));
    assert_eq!(
        s.get(&format!("/api/v1/whistles/{}", ids[3])).await.body,
        third
    );
}
