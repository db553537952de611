//! Several servers on one PostgreSQL database, and what the database does to them: a schema
//! newer than the server, a lost connection, a database gone read-only.
//!
//! Each test makes its own database on the server at `SHAOZI_TEST_DATABASE_URL` (default the
//! local one); with none there, it says so and passes outside CI, and fails under `CI=true`.

// Test code: a failed step must stop the test there, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};

use shaozi_server::clock::ManualClock;
use shaozi_tests::{t0, TestDatabase, TestServer};

/// Runs SQL on the test database from a thread of its own (the client blocks).
fn sql(url: &str, statement: &str) {
    let (url, statement) = (url.to_string(), statement.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.batch_execute(&statement).expect("statement");
    })
    .join()
    .expect("sql thread");
}

/// Every event of the log as one server pages it (JSON), in order.
async fn whole_log(s: &TestServer) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let a = TestServer::send(
            s.req(
                reqwest::Method::GET,
                &format!("/api/v1/events?after={after}&limit=1000"),
            )
            .header("Accept", "application/json"),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let items = a.body["items"].as_array().cloned().unwrap_or_default();
        out.extend(items);
        after = a.body["after"].as_u64().unwrap_or(after);
        if a.body["more"] != true {
            return out;
        }
    }
}

/// The whole log as `s` pages it, once it holds `total` events (waiting up to 2 s).
async fn caught_up(s: &TestServer, total: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let log = whole_log(s).await;
        if log.len() as u64 >= total || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().filter_map(|e| e["seq"].as_u64()).collect()
}

async fn three_servers(db: &TestDatabase) -> (TestServer, TestServer, TestServer) {
    let clock = Arc::new(ManualClock::new(t0()));
    let at = Path::new(&db.url);
    let a = TestServer::start_on(at, clock.clone()).await;
    let b = TestServer::start_on(at, clock.clone()).await;
    let c = TestServer::start_on(at, clock).await;
    (a, b, c)
}

#[tokio::test]
async fn three_servers_write_one_gapless_log_and_each_streams_all_of_it() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b, c) = three_servers(&db).await;
    let city = a.small_city().await;
    // B knows the directory A wrote.
    let communities = b.get("/api/v1/communities").await;
    assert_eq!(communities.body.as_array().map(Vec::len), Some(3));
    let filed_on_c = c
        .whistle(&city.communities[2], "roads", "normal", "先从 C 报")
        .await;
    // C wrote last; the others follow within moments, C knows at once.
    let head = whole_log(&c).await.len() as u64;

    // A stream on B from the head, while all three servers file at once.
    let per_server = 12;
    let expected = 3 * per_server;
    let listen = b.events(Some(head), expected, Duration::from_secs(20));
    let write = async {
        async fn file(s: &TestServer, community: String, n: usize) {
            s.whistle(&community, "roads", "normal", &format!("井盖缺失 {n}"))
                .await;
        }
        let mut all = Vec::new();
        for n in 0..per_server {
            all.push(file(&a, city.communities[n % 3].clone(), n));
            all.push(file(&b, city.communities[(n + 1) % 3].clone(), 100 + n));
            all.push(file(&c, city.communities[(n + 2) % 3].clone(), 200 + n));
        }
        futures_util::future::join_all(all).await;
    };
    let (streamed, ()) = tokio::join!(listen, write);

    let want: Vec<u64> = (head + 1..=head + expected as u64).collect();
    assert_eq!(
        seqs(&streamed),
        want,
        "B's stream: every event once, in order"
    );
    // Every server pages the same log, 1..N with no gap, once it has followed the others'
    // last events (within moments).
    let total = head + expected as u64;
    let log_a = caught_up(&a, total).await;
    assert_eq!(seqs(&log_a), (1..=total).collect::<Vec<_>>());
    assert_eq!(caught_up(&b, total).await, log_a);
    assert_eq!(caught_up(&c, total).await, log_a);
    // A whistle filed through C reads the same on A.
    let on_a = a.get(&format!("/api/v1/whistles/{filed_on_c}")).await;
    let on_c = c.get(&format!("/api/v1/whistles/{filed_on_c}")).await;
    assert_eq!(on_a.status, 200);
    assert_eq!(on_a.body, on_c.body);
    // Stats count every server's whistles.
    let stats = c.get("/api/v1/stats").await;
    assert_eq!(stats.body["queue"]["unanswered"], json!(expected + 1));
}

#[tokio::test]
async fn a_stream_cut_on_one_server_resumes_on_another_with_nothing_lost_or_twice() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b, _c) = three_servers(&db).await;
    let city = a.small_city().await;
    for n in 0..5 {
        a.whistle(&city.communities[0], "roads", "normal", &format!("A{n}"))
            .await;
    }
    // The client read the first part of the log on A…
    let first = a.events(Some(0), 10, Duration::from_secs(10)).await;
    let last_seen = seqs(&first).last().copied().expect("events");
    // …A goes away, more is written through B, and the client resumes on B.
    for n in 0..5 {
        b.whistle(&city.communities[1], "roads", "normal", &format!("B{n}"))
            .await;
    }
    let total = whole_log(&b).await.len();
    let rest = b
        .events(Some(last_seen), total - 10, Duration::from_secs(10))
        .await;
    let mut all = seqs(&first);
    all.extend(seqs(&rest));
    assert_eq!(all, (1..=total as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_token_revoked_on_one_server_is_refused_and_its_stream_closed_on_another() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b, _c) = three_servers(&db).await;
    let city = a.small_city().await;
    let t = a
        .token(
            "dispatcher",
            json!({"street_id": city.streets[0]}),
            "night-shift",
        )
        .await;
    // Issued on A, the token works on B.
    let mut ok = 0;
    for _ in 0..100 {
        let r = TestServer::send(b.req_as(&t, reqwest::Method::GET, "/api/v1/me")).await;
        if r.status == 200 {
            ok += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ok, 1, "a token issued on A reaches B");
    let res = b
        .req_as(&t, reqwest::Method::GET, "/api/v1/events")
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("stream");
    assert_eq!(res.status().as_u16(), 200);
    let mut stream = res.bytes_stream();

    let revoked =
        TestServer::send(a.req(reqwest::Method::DELETE, "/api/v1/tokens/night-shift")).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let at = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    let took = at.elapsed();
    assert!(
        closed.is_ok(),
        "B's stream is still open 5 s after the revocation"
    );
    println!(
        "B closed the revoked token's stream {} ms after A revoked it",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let refused = TestServer::send(b.req_as(&t, reqwest::Method::GET, "/api/v1/me")).await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn the_sweep_runs_on_every_server_and_escalates_each_deadline_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b, c) = three_servers(&db).await;
    let city = a.small_city().await;
    let mut ids = Vec::new();
    for n in 0..9 {
        ids.push(
            a.whistle(
                &city.communities[n % 3],
                "roads",
                "normal",
                &format!("路灯 {n}"),
            )
            .await,
        );
    }
    a.clock.advance(chrono::Duration::days(3));
    let (x, y, z) = tokio::join!(a.sweep(), b.sweep(), c.sweep());
    assert_eq!(
        x + y + z,
        ids.len(),
        "each whistle went overdue once: {x}+{y}+{z}"
    );
    let (x, y, z) = tokio::join!(a.sweep(), b.sweep(), c.sweep());
    assert_eq!(x + y + z, 0, "and never again");
    // B's view of the log, once it has followed the other servers' sweeps.
    let overdue_in = |log: &[Value]| {
        log.iter()
            .filter(|e| e["type"] == "whistle.overdue")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut log = whole_log(&b).await;
    while overdue_in(&log) < ids.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        log = whole_log(&b).await;
    }
    assert_eq!(overdue_in(&log), ids.len());
    for id in &ids {
        let overdue = log
            .iter()
            .filter(|e| e["type"] == "whistle.overdue" && e["subject"] == json!(id))
            .count();
        assert_eq!(overdue, 1, "{id}");
    }
}

#[tokio::test]
async fn a_database_with_a_newer_schema_is_refused_and_left_untouched() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    sql(
        &db.url,
        "CREATE TABLE shaozi_schema (version integer NOT NULL); \
         INSERT INTO shaozi_schema VALUES (99)",
    );
    let mut cfg = shaozi_server::Config::new(db.url.clone().into());
    cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let err = match shaozi_server::start(cfg).await {
        Ok(_) => panic!("a schema 99 database was opened"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("version 99") && err.contains("newer"), "{err}");
    // Nothing was created or changed.
    let url = db.url.clone();
    let tables: Vec<String> = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect()
    })
    .join()
    .expect("thread");
    assert_eq!(tables, vec!["shaozi_schema".to_string()]);
}

#[tokio::test]
async fn a_backup_or_check_opens_only_a_database_at_this_builds_schema_and_changes_nothing() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let open = |url: String| {
        std::thread::spawn(move || {
            shaozi_server::open_existing_blocking(std::path::Path::new(&url))
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .join()
        .expect("thread")
    };
    // A mistyped database: no tables made in it.
    let err = open(db.url.clone()).expect_err("an empty database was opened");
    assert!(err.contains("holds no shaozi tables"), "{err}");
    let tables = |url: String| -> i64 {
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            c.query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )
            .expect("count")
            .get(0)
        })
        .join()
        .expect("thread")
    };
    assert_eq!(tables(db.url.clone()), 0);
    // A city's database at an older schema: not upgraded under the servers that run it.
    let mut s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    s.small_city().await;
    s.stop().await;
    assert!(open(db.url.clone()).is_ok());
    let older = shaozi_server::pg::SCHEMA_VERSION - 1;
    sql(
        &db.url,
        &format!("DELETE FROM shaozi_schema; INSERT INTO shaozi_schema VALUES ({older})"),
    );
    let err = open(db.url.clone()).expect_err("an older schema was opened");
    assert!(
        err.contains(&format!("schema {older}")) && err.contains("nothing was changed"),
        "{err}"
    );
    let url = db.url.clone();
    let version: i32 = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.query_one("SELECT max(version) FROM shaozi_schema", &[])
            .expect("version")
            .get(0)
    })
    .join()
    .expect("thread");
    assert_eq!(version, older, "left as it was");
}

#[tokio::test]
async fn a_database_at_an_older_schema_is_migrated_on_start_and_keeps_its_city() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    // A database as schema 1 left it, with a whistle in it (written by a server, then
    // taken back to version 1 with the indexes 0002 replaces).
    let clock = Arc::new(ManualClock::new(t0()));
    let s = TestServer::start_on(Path::new(&db.url), clock.clone()).await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "roads", "normal", "迁移前")
        .await;
    let before = s.get(&format!("/api/v1/whistles/{w}")).await.body;
    drop(s);
    sql(
        &db.url,
        "DROP INDEX whistles_queue; CREATE INDEX whistles_queue ON whistles (queue_key); \
         DROP INDEX whistles_deadline; DROP INDEX whistles_by_source; \
         UPDATE whistles SET due_at = deadline_at; \
         ALTER TABLE whistles DROP COLUMN deadline_at; ALTER TABLE whistles DROP COLUMN source; \
         UPDATE whistles SET queue_key = set_byte(queue_key, 0, get_byte(queue_key, 0) - 1) \
             WHERE queue_key IS NOT NULL; \
         DELETE FROM counters WHERE name LIKE 'src%'; \
         DELETE FROM counters WHERE name LIKE 'status/%'; \
         DROP TABLE webhook_state; DROP TABLE webhooks; \
         DELETE FROM shaozi_schema; INSERT INTO shaozi_schema VALUES (1)",
    );
    let s = TestServer::start_on(Path::new(&db.url), clock).await;
    assert_eq!(s.get(&format!("/api/v1/whistles/{w}")).await.body, before);
    let queue = s.get("/api/v1/whistles?status=new").await;
    assert_eq!(queue.body["items"][0]["id"], json!(w));
    // Schema 3: its queue key and its source were written by the migration, as a new
    // whistle's are; the two sort the same, and the source totals count both.
    let second = s
        .whistle(&city.communities[0], "roads", "normal", "迁移后")
        .await;
    let queue = s.get("/api/v1/whistles?status=new").await;
    assert_eq!(queue.body["items"][0]["id"], json!(w), "{}", queue.body);
    assert_eq!(
        queue.body["items"][1]["id"],
        json!(second),
        "{}",
        queue.body
    );
    let stats = s.get("/api/v1/stats").await.body;
    // The one from before counts as a community's; the admin's new one as "other".
    let total = |src: &str| {
        stats["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .find(|x| x["source"] == src)
            .expect("every source listed")["whistles"]
            .clone()
    };
    assert_eq!(
        (total("community"), total("other")),
        (json!(1), json!(1)),
        "{stats}"
    );
    let due_soon = s.get("/api/v1/whistles?due_within=30d").await;
    assert_eq!(due_soon.body["items"].as_array().map(Vec::len), Some(2));
    // Schema 5: the whistles per status count the one from before too.
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("shaozi_whistles{status=\"new\"} 2\n"),
        "{metrics}"
    );
    let url = db.url.clone();
    let (version, partial): (i32, String) = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let v = c
            .query_one("SELECT max(version) FROM shaozi_schema", &[])
            .expect("version")
            .get(0);
        let d = c
            .query_one(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'whistles_queue'",
                &[],
            )
            .expect("index")
            .get(0);
        (v, d)
    })
    .join()
    .expect("thread");
    assert_eq!(version, shaozi_server::pg::SCHEMA_VERSION);
    assert!(
        partial.contains("WHERE (queue_key IS NOT NULL)"),
        "{partial}"
    );
}

/// Files a whistle with an Idempotency-Key until the server says 201, as a client does after
/// a 503; every other answer must be a 503 with Retry-After.
async fn file_until_done(
    s: &TestServer,
    community: &str,
    title: &str,
    key: &str,
) -> (usize, Value) {
    let mut unavailable = 0;
    for _ in 0..200 {
        let a = TestServer::send(
            s.req(reqwest::Method::POST, "/api/v1/whistles")
                .header("Idempotency-Key", key)
                .json(&json!({"community_id": community, "category": "roads",
                              "urgency": "normal", "title": title, "description": "朝阳路口"})),
        )
        .await;
        match a.status {
            201 => return (unavailable, a.body),
            503 => {
                assert!(a.headers.contains_key("retry-after"), "{:?}", a.headers);
                unavailable += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("filing answered {other}: {}", a.body),
        }
    }
    panic!("the server never took the whistle back");
}

#[tokio::test]
async fn a_lost_connection_is_a_503_then_the_writer_reconnects_and_a_retry_files_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    let city = s.small_city().await;
    // Every connection the server has is cut, as a database restart or failover would.
    let name = db.url.rsplit('/').next().unwrap_or_default().to_string();
    let admin = shaozi_tests::pgdb::server_url();
    sql(
        &admin,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
    let (unavailable, w) = file_until_done(&s, &city.communities[0], "断线后", "after-cut").await;
    println!("{unavailable} answers of 503 before the writer was back");
    // The same key again: the first answer, nothing filed twice.
    let (_, again) = file_until_done(&s, &city.communities[0], "断线后", "after-cut").await;
    assert_eq!(again["id"], w["id"]);
    let list = s.get("/api/v1/whistles?limit=100").await;
    let titles: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["title"].as_str())
        .filter(|t| *t == "断线后")
        .collect();
    assert_eq!(titles.len(), 1);
}

#[tokio::test]
async fn a_commit_cut_off_midway_is_never_a_2xx_and_its_retry_files_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    let city = s.small_city().await;
    // A check deferred to COMMIT that takes its time for one title: the window in which the
    // server's connection is cut while its COMMIT runs.
    sql(
        &db.url,
        "CREATE FUNCTION slow_commit() RETURNS trigger AS $$ BEGIN \
           IF NEW.json LIKE '%慢提交%' THEN PERFORM pg_sleep(3); END IF; RETURN NULL; \
         END $$ LANGUAGE plpgsql; \
         CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON whistles \
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
    );
    let body = json!({"community_id": city.communities[0], "category": "roads",
                      "urgency": "normal", "title": "慢提交", "description": "朝阳路口"});
    let post = TestServer::send(
        s.req(reqwest::Method::POST, "/api/v1/whistles")
            .header("Idempotency-Key", "slow-1")
            .json(&body),
    );
    let name = db.url.rsplit('/').next().unwrap_or_default().to_string();
    let cut = async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        sql(
            &shaozi_tests::pgdb::server_url(),
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        );
    };
    let (answer, ()) = tokio::join!(post, cut);
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.headers.contains_key("retry-after"));
    assert!(
        answer.str("detail").contains("unknown"),
        "the answer says the outcome is unknown: {}",
        answer.body
    );
    sql(&db.url, "DROP TRIGGER slow_commit ON whistles");
    let (_, filed) = file_until_done(&s, &city.communities[0], "慢提交", "slow-1").await;
    assert_eq!(filed["title"], "慢提交");
    let list = s.get("/api/v1/whistles?limit=100").await;
    let n = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|w| w["title"] == "慢提交")
        .count();
    assert_eq!(n, 1, "filed once");
}

#[tokio::test]
async fn a_database_gone_read_only_refuses_writes_with_503_and_still_answers_reads() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    let city = s.small_city().await;
    let w = s
        .whistle(&city.communities[0], "roads", "normal", "只读前")
        .await;
    let name = db.url.rsplit('/').next().unwrap_or_default().to_string();
    let admin = shaozi_tests::pgdb::server_url();
    let cut = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    // Like a standby: new sessions cannot write.
    sql(
        &admin,
        &format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
    );
    sql(&admin, &cut);
    let mut saw_read_only = false;
    for _ in 0..20 {
        let a = s
            .post(
                "/api/v1/whistles",
                json!({"community_id": city.communities[0], "category": "roads",
                       "urgency": "normal", "title": "只读中", "description": "朝阳路口"}),
            )
            .await;
        assert_eq!(a.status, 503, "{}", a.body);
        assert!(a.headers.contains_key("retry-after"));
        if a.str("detail").contains("read-only") {
            saw_read_only = true;
            break;
        }
    }
    assert!(saw_read_only, "the refusal says the database is read-only");
    let ready = s
        .client
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503, "not ready while read-only");
    let why: Value = ready.json().await.expect("a problem document");
    assert!(
        why["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{why}"
    );
    let live = s.client.get(format!("{}/healthz", s.base)).send().await;
    assert_eq!(live.expect("healthz").status(), 200, "still alive");
    let read = s.get(&format!("/api/v1/whistles/{w}")).await;
    assert_eq!(read.status, 200, "reads go on");
    // Back to a primary: writes go through again.
    sql(
        &admin,
        &format!("ALTER DATABASE {name} SET default_transaction_read_only = off"),
    );
    sql(&admin, &cut);
    // Ready again once the writer has a writable connection (the first probe may find the
    // cut one and reconnect).
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let r = s.client.get(format!("{}/readyz", s.base)).send().await;
        if r.expect("readyz").status() == 200 {
            break;
        }
        assert!(Instant::now() < until, "never ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, filed) = file_until_done(&s, &city.communities[0], "恢复后", "after-ro").await;
    assert_eq!(filed["title"], "恢复后");
    let titles: HashSet<String> = s.get("/api/v1/whistles?limit=100").await.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["title"].as_str().map(String::from))
        .collect();
    assert!(!titles.contains("只读中"), "nothing refused was written");
}

/// `/readyz` while the database takes no connections at all: 503 saying so, while `/healthz`
/// stays 200; ready again once it takes them.
#[tokio::test]
async fn readyz_says_503_while_the_database_is_unreachable() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    let ready = |s: &TestServer| {
        let url = format!("{}/readyz", s.base);
        let c = s.client.clone();
        async move {
            let r = c.get(url).send().await.expect("readyz");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
    };
    assert_eq!(ready(&s).await.0, 200);
    let name = db.url.rsplit('/').next().unwrap_or_default().to_string();
    let admin = shaozi_tests::pgdb::server_url();
    // No new connection is let in, and the server's are cut.
    sql(
        &admin,
        &format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
    // Probes share one proof for up to a second: the next one after that finds it out.
    let until = Instant::now() + Duration::from_secs(5);
    let (status, body) = loop {
        let (status, body) = ready(&s).await;
        if status != 200 || Instant::now() > until {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not take writes"), "{body}");
    let live = s.client.get(format!("{}/healthz", s.base)).send().await;
    assert_eq!(live.expect("healthz").status(), 200);
    sql(
        &admin,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    );
    let until = Instant::now() + Duration::from_secs(10);
    while ready(&s).await.0 != 200 {
        assert!(Instant::now() < until, "never ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The backend holding a subscription's lease (its advisory lock), if any.
fn lease_holder(url: &str, hook: u64) -> Option<i32> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND classid = 1397247819::oid AND objid = $1::bigint::oid AND objsubid = 2",
            &[&(hook as i64)],
        )
        .expect("pg_locks")
        .map(|r| r.get::<_, i32>(0))
    })
    .join()
    .expect("thread")
}

/// Waits up to 10 s for the lease to be held by another backend than `was`.
async fn lease_moved(url: &str, hook: u64, was: Option<i32>) -> Option<i32> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let now = lease_holder(url, hook);
        if (now.is_some() && now != was) || Instant::now() > until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two servers deliver a subscription one at a time: the one holding its advisory lock.
/// Events filed on both reach the receiver once each, in order; when the holder stops, the
/// other takes the subscription over from its cursor, and the rest arrive, none skipped.
#[tokio::test]
async fn one_server_delivers_a_webhook_and_the_other_takes_over_when_it_stops() {
    use shaozi_tests::receiver::{Receiver, Reply, Seen};
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let clock = Arc::new(ManualClock::new(t0()));
    let at = Path::new(&db.url);
    let a = TestServer::start_on(at, clock.clone()).await;
    let b = TestServer::start_on(at, clock.clone()).await;
    let city = a.small_city().await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let hook = a
        .ok(
            "/api/v1/webhooks",
            json!({"name": "两台", "url": r.url, "events": ["whistle.created"]}),
            201,
        )
        .await;
    let n: u64 = hook["id"]
        .as_str()
        .unwrap()
        .trim_start_matches('H')
        .parse()
        .unwrap();
    let subjects = |seen: &[Seen]| -> Vec<String> {
        seen.iter()
            .map(|x| x.json()["subject"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut filed = Vec::new();
    for i in 0..20 {
        let s = [&a, &b][i % 2];
        filed.push(
            s.whistle(
                &city.communities[i % 3],
                "sanitation",
                "normal",
                &format!("第{i}件"),
            )
            .await,
        );
    }
    let seen = r
        .wait_for(Duration::from_secs(20), |seen| seen.len() >= filed.len())
        .await;
    // Filed one after another, so the log's order is the filing order.
    assert_eq!(
        subjects(&seen),
        filed,
        "each once, in order, from one server"
    );
    let holder = lease_holder(&db.url, n);
    assert!(holder.is_some(), "one server holds the lease");
    // Stop a. If it held the lease, b takes over; if not, start a again and stop b.
    let mut a = a;
    a.stop().await;
    let mut left = b;
    let mut moved = lease_moved(&db.url, n, holder).await;
    if moved == holder {
        let a2 = TestServer::start_on(at, clock.clone()).await;
        let mut b = left;
        b.stop().await;
        left = a2;
        moved = lease_moved(&db.url, n, holder).await;
    }
    assert!(
        moved.is_some() && moved != holder,
        "the lease moved: {holder:?} → {moved:?}"
    );
    let mut more = Vec::new();
    for i in 0..5 {
        more.push(
            left.whistle(
                &city.communities[0],
                "sanitation",
                "normal",
                &format!("接管后{i}"),
            )
            .await,
        );
    }
    let all: Vec<String> = filed.iter().chain(&more).cloned().collect();
    let seen = r
        .wait_for(Duration::from_secs(20), |seen| {
            subjects(seen).last() == all.last()
        })
        .await;
    // The stopped holder saved its cursor as it stopped: nothing is sent twice here.
    assert_eq!(
        subjects(&seen),
        all,
        "the rest after the takeover, in order and once"
    );
    // The receiver sees the last event before the server has read its 200 and moved the
    // cursor: wait for the lag to reach 0 rather than race it.
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let h = left.get(&path).await;
        if h.body["health"]["lag"] == json!(0) {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the lag never reached 0: {}",
            h.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_statement_the_database_refuses_fails_that_write_alone_and_writes_go_on() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let name = db.url.rsplit('/').next().unwrap_or_default().to_string();
    // A DBA's lock timeout, in force for the server's connections from their start.
    sql(
        &db.url,
        &format!("ALTER DATABASE \"{name}\" SET lock_timeout = '300ms'"),
    );
    let s = TestServer::start_on(Path::new(&db.url), Arc::new(ManualClock::new(t0()))).await;
    let city = s.small_city().await;
    // A rule the DBA added that refuses one title: a statement error inside a batch.
    sql(
        &db.url,
        "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.json::text LIKE '%坏标题%' THEN RAISE EXCEPTION 'refused by the DBA'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER refuse_bad BEFORE INSERT ON whistles FOR EACH ROW EXECUTE FUNCTION refuse_bad();",
    );
    // Many creates at once, so the writer batches them; one of them is refused.
    let mut files = Vec::new();
    for i in 0..24 {
        let title = if i == 11 {
            "坏标题".to_string()
        } else {
            format!("同批 {i}")
        };
        let body = json!({"community_id": city.communities[0], "category": "sanitation",
                          "urgency": "normal", "title": title, "description": "同一批"});
        let rb = s.req(reqwest::Method::POST, "/api/v1/whistles").json(&body);
        files.push(tokio::spawn(
            async move { (title, TestServer::send(rb).await) },
        ));
    }
    for f in files {
        let (title, a) = f.await.unwrap();
        if title == "坏标题" {
            assert_eq!(a.status, 503, "{}", a.body);
        } else {
            assert_eq!(a.status, 201, "{title} failed with the bad one: {}", a.body);
        }
    }
    // A lock held longer than the timeout: the writes meanwhile fail, the ones after succeed.
    let url = db.url.clone();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut tx = c.transaction().expect("begin");
        tx.batch_execute(
            "SET LOCAL lock_timeout = 0; LOCK TABLE log_head IN ACCESS EXCLUSIVE MODE",
        )
        .expect("lock");
        locked_tx.send(()).expect("told");
        std::thread::sleep(Duration::from_millis(1200));
        tx.commit().expect("commit");
    });
    locked_rx.recv().expect("locked");
    let during = s
        .post(
            "/api/v1/whistles",
            json!({"community_id": city.communities[0], "category": "sanitation",
                   "urgency": "normal", "title": "锁住时", "description": "d"}),
        )
        .await;
    assert_eq!(during.status, 503, "{}", during.body);
    holder.join().expect("holder");
    let after = s
        .post(
            "/api/v1/whistles",
            json!({"community_id": city.communities[0], "category": "sanitation",
                   "urgency": "normal", "title": "锁放开后", "description": "d"}),
        )
        .await;
    assert_eq!(after.status, 201, "writes stopped for good: {}", after.body);
    assert_eq!(s.get("/readyz").await.status, 200);
    let list = s.get("/api/v1/whistles?limit=100").await;
    let n = list.body["items"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(n, 24, "23 of the batch and the one after the lock");
}

#[tokio::test]
async fn a_schema_5_database_counts_each_streets_department_loads_when_opened() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let clock = Arc::new(ManualClock::new(t0()));
    let s = TestServer::start_on(Path::new(&db.url), clock.clone()).await;
    let city = s.small_city().await;
    let street = s
        .token(
            "dispatcher",
            json!({"street_id": city.streets[1]}),
            "赫山调度",
        )
        .await;
    for c in [0, 2, 2] {
        let id = s
            .whistle(&city.communities[c], "sanitation", "normal", "垃圾")
            .await;
        s.dispatch(&id, &city.departments[0]).await;
    }
    let stats = |s: &TestServer| {
        let (c, url) = (s.client.clone(), format!("{}/api/v1/stats", s.base));
        let street = street.clone();
        async move {
            let a = c.get(url).bearer_auth(street).send().await.expect("stats");
            let v: Value = a.json().await.expect("json");
            v["departments"].clone()
        }
    };
    let before = stats(&s).await;
    assert!(before.to_string().contains("\"dispatched\":2"), "{before}");
    drop(s);
    sql(
        &db.url,
        "DELETE FROM counters WHERE name LIKE 'sdept/%'; \
         DELETE FROM shaozi_schema; INSERT INTO shaozi_schema VALUES (5)",
    );
    let s = TestServer::start_on(Path::new(&db.url), clock).await;
    assert_eq!(stats(&s).await, before);
}

/// Three servers on one database: a community's subscription, delivered by whichever server
/// holds its lease, stops on every server once the admin revokes its owner on one of them,
/// and goes on from where it stopped when another token of the community adopts it on a third.
#[tokio::test]
async fn a_revoked_owners_subscription_stops_on_every_server() {
    use shaozi_tests::receiver::{Receiver, Reply};
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b, c) = three_servers(&db).await;
    let city = a.small_city().await;
    let community = &city.communities[0];
    let owner = a
        .token(
            "community",
            json!({"community_id": community}),
            "三台社区书记",
        )
        .await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    // Made on B (the token reaches B from A's log within moments).
    let made = loop {
        let m = TestServer::send(
            b.req_as(&owner, reqwest::Method::POST, "/api/v1/webhooks")
                .json(&json!({"name": "社区群", "url": r.url, "events": ["whistle.created"]})),
        )
        .await;
        if m.status != 401 {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(made.status, 201, "{}", made.body);
    let hook = made.body["id"].as_str().unwrap().to_string();
    let got = |id: &str| r.seen().iter().any(|x| x.json()["subject"] == json!(id));
    let wait = |id: String| {
        let r = &r;
        async move {
            r.wait_for(Duration::from_secs(20), |seen| {
                seen.iter().any(|x| x.json()["subject"] == json!(id))
            })
            .await
        }
    };
    // Filed on each server, delivered by whichever holds the lease.
    for s in [&a, &b, &c] {
        let id = s.whistle(community, "sanitation", "normal", "撤销前").await;
        wait(id.clone()).await;
        assert!(got(&id), "{id} delivered before the revocation");
    }
    // Revoked on C; then cases filed on every server go nowhere.
    let revoked =
        TestServer::send(c.req(reqwest::Method::DELETE, "/api/v1/tokens/三台社区书记")).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut held = Vec::new();
    for s in [&a, &b, &c] {
        held.push(s.whistle(community, "sanitation", "normal", "撤销后").await);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for id in &held {
        assert!(!got(id), "{id} was delivered for a revoked owner");
    }
    // Every server says why.
    for s in [&a, &b, &c] {
        let h = s.get(&format!("/api/v1/webhooks/{hook}")).await;
        assert_eq!(h.body["health"]["owner"], json!("revoked"), "{}", h.body);
    }
    // Adopted on A by the community's new token: the held cases go out, in order.
    let successor = a
        .token(
            "community",
            json!({"community_id": community}),
            "三台社区新书记",
        )
        .await;
    let adopted = TestServer::send(
        a.req_as(
            &successor,
            reqwest::Method::POST,
            &format!("/api/v1/webhooks/{hook}/adopt"),
        )
        .json(&json!({})),
    )
    .await;
    assert_eq!(adopted.status, 200, "{}", adopted.body);
    wait(held[2].clone()).await;
    for id in &held {
        assert!(got(id), "{id} delivered once adopted");
    }
}
