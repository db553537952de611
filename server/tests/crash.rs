//! Crash test: the real binary, concurrent writers, SIGKILL at a random moment, restart, and
//! check that nothing acknowledged was lost and the store is consistent; and that a webhook
//! receiver, delivered to all along, got every event at least once and in order, repeats only
//! under the same id. 5 cycles by default;
//! `SHAOZI_CRASH_CYCLES=50 cargo test -p shaozi-server --test crash -- --nocapture` by hand.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

mod common;
use common::{start, Running, TestDatabase, TOKEN};

// The receiver the workspace's end-to-end tests use, a real HTTP server on 127.0.0.1 (this
// test uses only its healthy answer).
#[allow(dead_code)]
#[path = "../../tests/src/receiver.rs"]
mod receiver;

/// What the writers were told was done.
#[derive(Default)]
struct Log {
    /// Idempotency-Key → (body, Some(id) if acknowledged).
    creates: BTreeMap<String, (Value, Option<String>)>,
    /// Whistle id → highest version acknowledged.
    versions: HashMap<String, u64>,
    /// Wish id → highest version acknowledged.
    wishes: HashMap<String, u64>,
}

async fn post(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> Option<Value> {
    let mut rb = c
        .post(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .json(body);
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    let r = rb.send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

async fn writer(
    c: reqwest::Client,
    base: String,
    cycle: usize,
    n: usize,
    city: Arc<(Vec<String>, Vec<String>)>,
    log: Arc<Mutex<Log>>,
) {
    let staff = json!({"staff": ["张伟", "李娜"]});
    for i in 0.. {
        let key = format!("c{cycle}-w{n}-{i}");
        let body = json!({"community_id": city.0[i % city.0.len()], "category": "roads", "urgency": if i % 3 == 0 { "urgent" } else { "normal" },
                          "title": format!("crash {key}"), "description": "路面坑洼"});
        log.lock()
            .unwrap()
            .creates
            .insert(key.clone(), (body.clone(), None));
        let Some(w) = post(&c, &base, "/api/v1/whistles", &body, Some(&key)).await else {
            return;
        };
        let id = w["id"].as_str().unwrap_or_default().to_string();
        {
            let mut l = log.lock().unwrap();
            l.creates.get_mut(&key).unwrap().1 = Some(id.clone());
            l.versions.insert(id.clone(), 1);
        }
        // Take some of them through their life.
        let steps: Vec<(&str, Value)> = match i % 4 {
            0 => vec![],
            1 => vec![("dispatch", json!({"department_id": city.1[i % 2]}))],
            2 => vec![
                ("dispatch", json!({"department_id": city.1[0]})),
                ("acknowledge", staff.clone()),
                ("resolve", json!({"reply": "好了"})),
            ],
            _ => vec![
                ("dispatch", json!({"department_id": city.1[1]})),
                ("acknowledge", staff.clone()),
                ("resolve", json!({"reply": "好了"})),
                ("close", json!({"satisfaction": 4})),
            ],
        };
        for (verb, b) in steps {
            let Some(after) = post(
                &c,
                &base,
                &format!("/api/v1/whistles/{id}/{verb}"),
                &b,
                None,
            )
            .await
            else {
                return;
            };
            log.lock()
                .unwrap()
                .versions
                .insert(id.clone(), after["version"].as_u64().unwrap_or(0));
        }
        if i % 5 == 0 {
            let wb = json!({"community_id": city.0[0], "title": "书包", "value_fen": 100});
            let Some(wish) = post(&c, &base, "/api/v1/wishes", &wb, None).await else {
                return;
            };
            let wid = wish["id"].as_str().unwrap_or_default().to_string();
            let Some(claimed) = post(
                &c,
                &base,
                &format!("/api/v1/wishes/{wid}/claim"),
                &json!({"claimer": "志愿者"}),
                None,
            )
            .await
            else {
                return;
            };
            log.lock()
                .unwrap()
                .wishes
                .insert(wid, claimed["version"].as_u64().unwrap_or(0));
        }
    }
}

async fn get(c: &reqwest::Client, base: &str, path: &str) -> Value {
    c.get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

async fn all_whistles(c: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(c, base, &format!("/api/v1/whistles?limit=500{cursor}")).await;
        out.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => return out,
        }
    }
}

/// The status after an event, by the domain's diagram; None for events that keep it.
fn status_after(kind: &str) -> Option<&'static str> {
    match kind {
        "whistle.created" => Some("new"),
        "whistle.dispatched" | "whistle.reassigned" => Some("dispatched"),
        "whistle.acknowledged" | "whistle.reopened" => Some("acknowledged"),
        "whistle.resolved" => Some("resolved"),
        "whistle.closed" => Some("closed"),
        "whistle.rejected" => Some("rejected"),
        _ => None,
    }
}

fn legal(from: &str, kind: &str) -> bool {
    matches!(
        (from, kind),
        ("", "whistle.created")
            | (
                "new" | "dispatched",
                "whistle.dispatched" | "whistle.reassigned" | "whistle.rejected"
            )
            | ("dispatched", "whistle.acknowledged")
            | ("acknowledged", "whistle.resolved")
            | ("resolved", "whistle.closed" | "whistle.reopened")
    ) || (status_after(kind).is_none() && !from.is_empty())
}

async fn check(c: &reqwest::Client, base: &str, log: &Log, cycle: usize) {
    // 1. Every acknowledged create and change is there.
    for (key, (body, id)) in &log.creates {
        if let Some(id) = id {
            let w = get(c, base, &format!("/api/v1/whistles/{id}")).await;
            assert_eq!(
                w["title"], body["title"],
                "cycle {cycle}: acknowledged {key} ({id}) lost"
            );
        }
    }
    for (id, v) in &log.versions {
        let w = get(c, base, &format!("/api/v1/whistles/{id}")).await;
        assert!(
            w["version"].as_u64().unwrap_or(0) >= *v,
            "cycle {cycle}: {id} acknowledged at version {v}, now {}",
            w["version"]
        );
        // 2. Its status is reachable by legal steps from its timeline.
        let mut st = String::new();
        for e in w["timeline"].as_array().cloned().unwrap_or_default() {
            let kind = e["type"].as_str().unwrap_or_default();
            assert!(legal(&st, kind), "cycle {cycle}: {id}: {kind} after {st:?}");
            if let Some(next) = status_after(kind) {
                st = next.to_string();
            }
        }
        assert_eq!(
            w["status"].as_str(),
            Some(st.as_str()),
            "cycle {cycle}: {id} status vs timeline"
        );
    }
    for (id, v) in &log.wishes {
        let w = get(c, base, &format!("/api/v1/wishes/{id}")).await;
        assert!(
            w["version"].as_u64().unwrap_or(0) >= *v,
            "cycle {cycle}: wish {id} lost a change"
        );
    }
    // 3. Event sequence numbers are gapless, and each record's last event is the record.
    let stats = get(c, base, "/api/v1/stats").await;
    let last = stats["last_seq"].as_u64().unwrap_or(0);
    let mut res = c
        .get(format!("{base}/api/v1/events?after=0"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("events");
    let mut buf = String::new();
    let mut latest: HashMap<String, u64> = HashMap::new();
    let mut seqs = Vec::new();
    while (seqs.len() as u64) < last {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(5), res.chunk()).await
        else {
            break;
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let ev: String = buf.drain(..end + 2).collect();
            if let Some(data) = ev.lines().find_map(|l| l.strip_prefix("data: ")) {
                let e: Value = serde_json::from_str(data).expect("event json");
                seqs.push(e["seq"].as_u64().unwrap_or(0));
                if let Some(v) = e["record"]["version"].as_u64() {
                    latest.insert(e["subject"].as_str().unwrap_or_default().to_string(), v);
                }
            }
        }
    }
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "cycle {cycle}: the log is gapless"
    );
    // 4. Counters equal a recount from the records; indexes list every record once.
    let all = all_whistles(c, base).await;
    let unanswered = all
        .iter()
        .filter(|w| w["status"] == "new" || w["status"] == "dispatched")
        .count() as i64;
    assert_eq!(
        stats["queue"]["unanswered"].as_i64(),
        Some(unanswered),
        "cycle {cycle}: queue counter"
    );
    let queue: usize = {
        let mut n = 0;
        let mut cursor = String::new();
        loop {
            let p = get(
                c,
                base,
                &format!("/api/v1/whistles?status=new,dispatched&limit=500{cursor}"),
            )
            .await;
            n += p["items"].as_array().map_or(0, |a| a.len());
            match p["next_cursor"].as_str() {
                Some(x) => cursor = format!("&cursor={x}"),
                None => break n,
            }
        }
    };
    assert_eq!(queue as i64, unanswered, "cycle {cycle}: queue index");
    for w in &all {
        let id = w["id"].as_str().unwrap_or_default();
        assert_eq!(
            latest.get(id).copied(),
            w["version"].as_u64(),
            "cycle {cycle}: {id}'s last event is not its record"
        );
    }
    let listed: Vec<&str> = all.iter().filter_map(|w| w["id"].as_str()).collect();
    let unique: HashSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "cycle {cycle}: a whistle listed twice"
    );
    let logged: HashSet<&str> = latest
        .keys()
        .filter(|k| k.starts_with('W'))
        .map(String::as_str)
        .collect();
    assert_eq!(
        unique, logged,
        "cycle {cycle}: the list of all whistles is every whistle in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    crash_cycles(&dir.path().join("store")).await;
}

/// The same on PostgreSQL: the server is killed mid-batch, its transaction dies with its
/// connection, and the log stays gapless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_killed_at_random_and_nothing_acknowledged_is_lost() {
    let Some(db) = TestDatabase::create("crash") else {
        return;
    };
    crash_cycles(std::path::Path::new(&db.url)).await;
}

async fn crash_cycles(data: &std::path::Path) {
    let cycles: usize = std::env::var("SHAOZI_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let data = data.to_path_buf();
    let c = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let (child, base) = start(&data);
    // Killed when the test ends, however it ends.
    let mut child = Running(child);
    let st = post(
        &c,
        &base,
        "/api/v1/streets",
        &json!({"name": "桃花仑街道"}),
        None,
    )
    .await
    .expect("street");
    let mut comms = Vec::new();
    for n in ["朝阳路社区", "梓山社区"] {
        comms.push(
            post(
                &c,
                &base,
                "/api/v1/communities",
                &json!({"name": n, "street_id": st["id"]}),
                None,
            )
            .await
            .expect("community")["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut depts = Vec::new();
    for n in ["市城管局", "市路灯管理处"] {
        depts.push(
            post(
                &c,
                &base,
                "/api/v1/departments",
                &json!({"name": n, "categories": ["roads"]}),
                None,
            )
            .await
            .expect("department")["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let city = Arc::new((comms, depts));
    // Every event from here on is pushed to a receiver while the server is killed again and
    // again mid-delivery.
    let hook_receiver = receiver::Receiver::start(receiver::Reply::ok())
        .await
        .expect("receiver");
    let hook = post(
        &c,
        &base,
        "/api/v1/webhooks",
        &json!({"name": "crash", "url": hook_receiver.url, "events": ["*"]}),
        None,
    )
    .await
    .expect("webhook");
    let hook_from = hook["health"]["head_seq"].as_u64().unwrap();
    let mut log = Log::default();
    let mut base = base;
    for cycle in 0..cycles {
        let shared = Arc::new(Mutex::new(std::mem::take(&mut log)));
        let mut tasks = Vec::new();
        for n in 0..8 {
            tasks.push(tokio::spawn(writer(
                c.clone(),
                base.clone(),
                cycle,
                n,
                city.clone(),
                shared.clone(),
            )));
        }
        // A random moment: 150–650 ms of writing.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(150 + u64::from(nanos % 500))).await;
        child.0.kill().expect("SIGKILL");
        let _ = child.0.wait();
        for t in tasks {
            let _ = t.await;
        }
        log = Arc::try_unwrap(shared)
            .ok()
            .expect("writers done")
            .into_inner()
            .unwrap();
        // Every index entry, counter, timeline and name the crash left agrees with the
        // records and the log (`shaozi-server check` on the store as the crash left it).
        let checked = std::process::Command::new(env!("CARGO_BIN_EXE_shaozi-server"))
            .args(["check", "--data"])
            .arg(&data)
            .env_remove("SHAOZI_ADMIN_TOKEN")
            .output()
            .expect("check runs");
        assert!(
            checked.status.success(),
            "cycle {cycle}: the check after the crash:\n{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
        eprintln!(
            "cycle {cycle}: {}",
            String::from_utf8_lossy(&checked.stdout)
                .lines()
                .next()
                .unwrap_or_default()
        );
        let (next, b) = start(&data);
        child = Running(next);
        base = b;
        check(&c, &base, &log, cycle).await;
        // 5. Retrying what was never acknowledged, with its key, makes no duplicate.
        let pending: Vec<(String, Value)> = log
            .creates
            .iter()
            .filter(|(_, (_, id))| id.is_none())
            .map(|(k, (b, _))| (k.clone(), b.clone()))
            .collect();
        for (key, body) in &pending {
            let w = post(&c, &base, "/api/v1/whistles", body, Some(key))
                .await
                .expect("retry answered");
            log.creates.get_mut(key).unwrap().1 = w["id"].as_str().map(str::to_string);
        }
        let all = all_whistles(&c, &base).await;
        let mut titles: Vec<&str> = all.iter().filter_map(|w| w["title"].as_str()).collect();
        let n = titles.len();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), n, "cycle {cycle}: a retry made a duplicate");
        eprintln!(
            "cycle {cycle}: {} whistles, {} retried, all checks passed",
            n,
            pending.len()
        );
    }
    check_deliveries(&c, &base, &hook_receiver, hook_from).await;
    drop(child);
}

/// The receiver got every event after `from` at least once, in order, any repeat the same
/// event under the same `webhook-id`.
async fn check_deliveries(c: &reqwest::Client, base: &str, r: &receiver::Receiver, from: u64) {
    let mut want: Vec<(u64, Value)> = Vec::new();
    let mut after = from;
    loop {
        let page: Value = c
            .get(format!("{base}/api/v1/events?after={after}&limit=1000"))
            .bearer_auth(TOKEN)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["items"].as_array().unwrap() {
            want.push((e["seq"].as_u64().unwrap(), e.clone()));
        }
        after = page["after"].as_u64().unwrap();
        if !page["more"].as_bool().unwrap() {
            break;
        }
    }
    let last = want.last().map_or(from, |(s, _)| *s);
    let id = |x: &receiver::Seen| -> u64 { x.header("webhook-id").unwrap().parse().unwrap() };
    let seen = r
        .wait_for(Duration::from_secs(60), |seen| {
            seen.iter().any(|x| id(x) == last)
        })
        .await;
    let mut firsts: Vec<u64> = Vec::new();
    let mut bodies: HashMap<u64, Vec<u8>> = HashMap::new();
    for x in &seen {
        let n = id(x);
        match bodies.get(&n) {
            Some(b) => assert_eq!(b, &x.body, "a repeat of {n} is the same event"),
            None => {
                assert!(
                    firsts.last().is_none_or(|l| *l < n),
                    "event {n} after a later one"
                );
                firsts.push(n);
                bodies.insert(n, x.body.clone());
            }
        }
    }
    let want_ids: Vec<u64> = want.iter().map(|(s, _)| *s).collect();
    assert_eq!(firsts, want_ids, "every event delivered, none skipped");
    for (n, e) in &want {
        let got: Value = serde_json::from_slice(&bodies[n]).unwrap();
        assert_eq!(&got, e, "event {n} as the log has it");
    }
    eprintln!(
        "webhook: {} events delivered in order through the kills ({} requests, {} repeats)",
        want.len(),
        seen.len(),
        seen.len() - want.len()
    );
}
