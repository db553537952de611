//! Many hands on the same cases: version checks, idempotent retries, token lifecycle,
//! limits, the audit log, and careless or hostile input.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use shaozi_server::auth::Limits;
use shaozi_tests::{TestServer, TOKEN};

#[tokio::test]
async fn a_race_to_dispatch_has_exactly_one_winner() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let id = s
        .whistle(&city.communities[0], "lighting", "urgent", "路灯不亮")
        .await;
    let etag = s.get(&format!("/api/v1/whistles/{id}")).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(etag, "\"1\"");
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..32 {
        let rb = s
            .req(Method::POST, &format!("/api/v1/whistles/{id}/dispatch"))
            .header("If-Match", etag.clone())
            .json(&json!({"department_id": city.departments[1 + i % 2]}));
        racers.spawn(TestServer::send(rb));
    }
    let mut wins = 0;
    let mut losses = 0;
    while let Some(a) = racers.join_next().await {
        let a = a.unwrap();
        match a.status {
            200 => wins += 1,
            412 => {
                losses += 1;
                assert_eq!(a.content_type(), "application/problem+json");
                assert_eq!(
                    a.body["current"]["version"], 2,
                    "the loser sees the record as it is now"
                );
                assert_eq!(a.headers["etag"], "\"2\"");
                let detail = a.str("detail");
                assert!(
                    detail.contains("whistle.dispatched") && detail.contains("admin"),
                    "who changed it, in words: {detail}"
                );
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!((wins, losses), (1, 31));
    let timeline = s.get(&format!("/api/v1/whistles/{id}")).await.body["timeline"].clone();
    let dispatches = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "whistle.dispatched")
        .count();
    assert_eq!(dispatches, 1, "the log shows one dispatch");

    // A fresh read makes the next change possible; `*` and no If-Match mean any version.
    let ok = TestServer::send(
        s.req(Method::POST, &format!("/api/v1/whistles/{id}/escalate"))
            .header("If-Match", "\"2\"")
            .json(&json!({"reason": "群众反映强烈"})),
    )
    .await;
    assert_eq!(
        (ok.status, ok.headers["etag"].to_str().unwrap()),
        (200, "\"3\"")
    );
    let bad = TestServer::send(
        s.req(Method::POST, &format!("/api/v1/whistles/{id}/escalate"))
            .header("If-Match", "soon")
            .json(&json!({"reason": "x"})),
    )
    .await;
    assert_eq!(
        (bad.status, bad.str("field")),
        (400, "If-Match".to_string())
    );
}

#[tokio::test]
async fn retries_with_an_idempotency_key_create_nothing_new() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let body = json!({"community_id": city.communities[0], "category": "roads", "urgency": "normal", "title": "井盖缺失", "description": "路口井盖缺失"});
    let post = |key: &str, body: &Value| {
        TestServer::send(
            s.req(Method::POST, "/api/v1/whistles")
                .header("Idempotency-Key", key)
                .json(body),
        )
    };
    let first = post("retry-1", &body).await;
    assert_eq!(first.status, 201);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post("retry-1", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body, "the first answer, exactly");
    let other = post("retry-1", &json!({"community_id": city.communities[0], "category": "roads", "urgency": "urgent", "title": "井盖缺失", "description": "路口井盖缺失"})).await;
    assert_eq!(
        (other.status, other.str("field")),
        (422, "Idempotency-Key".to_string()),
        "{}",
        other.body
    );
    // Keys belong to their token: another token's same key is another request.
    let comm = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路",
        )
        .await;
    let theirs = TestServer::send(
        s.req_as(&comm, Method::POST, "/api/v1/whistles")
            .header("Idempotency-Key", "retry-1")
            .json(&body),
    )
    .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.body["id"], first.body["id"]);
    // A refused create stores nothing: fixing the body under the same key works.
    let bad = post("retry-2", &json!({"community_id": "C99", "category": "roads", "urgency": "normal", "title": "x", "description": "y"})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(post("retry-2", &body).await.status, 201);
    // And the key survives a restart.
    let s = s.restart().await;
    let after = TestServer::send(
        s.req(Method::POST, "/api/v1/whistles")
            .header("Idempotency-Key", "retry-1")
            .json(&body),
    )
    .await;
    assert_eq!(
        (after.status, after.body["id"].clone()),
        (201, first.body["id"].clone())
    );
    let all = s.get("/api/v1/whistles?limit=500").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(all, 3, "retries made nothing new");
    for bad_key in ["", "有中文", &"k".repeat(300)] {
        let a = TestServer::send(
            s.req(Method::POST, "/api/v1/streets")
                .header("Idempotency-Key", bad_key)
                .json(&json!({"name": "新街道"})),
        )
        .await;
        assert_eq!(a.status, 400, "{bad_key:?}: {}", a.body);
    }
}

#[tokio::test]
async fn tokens_are_created_listed_expire_and_revocation_is_immediate() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let created = s
        .post("/api/v1/tokens", json!({"role": "department", "department_id": city.departments[0], "name": "城管值班", "expires_days": 30}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.str("token");
    assert_eq!(token.len(), 64, "256 bits");
    let me = TestServer::send(s.req_as(&token, Method::GET, "/api/v1/me"))
        .await
        .body;
    assert_eq!(me["name"], "城管值班");
    assert_eq!(me["role"], "department");
    assert_eq!(
        me["scope"],
        json!({"kind": "department", "id": city.departments[0]})
    );
    assert_eq!(
        me["may"],
        json!(["handle", "claim_wish", "record_activity", "note"])
    );
    let list = s.get("/api/v1/tokens").await.body;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "城管值班"));
    assert!(
        !list.to_string().contains(&token),
        "secrets are never listed"
    );
    for (body, field) in [
        (json!({"role": "department", "name": "x"}), "role"),
        (
            json!({"role": "viewer", "name": "y", "street_id": city.streets[0]}),
            "role",
        ),
        (
            json!({"role": "community", "community_id": "C99", "name": "z"}),
            "community_id",
        ),
        (json!({"role": "viewer", "name": "a b"}), "name"),
        (
            json!({"role": "viewer", "name": "w", "expires_days": 0}),
            "expires_days",
        ),
        (json!({"role": "emperor", "name": "q"}), "role"),
    ] {
        let a = s.post("/api/v1/tokens", body.clone()).await;
        assert_eq!(
            (a.status, a.str("field")),
            (422, field.to_string()),
            "{body}: {}",
            a.body
        );
    }
    assert_eq!(
        s.post(
            "/api/v1/tokens",
            json!({"role": "viewer", "name": "城管值班"})
        )
        .await
        .status,
        409
    );

    // An open stream, then revocation: the stream ends and the token is refused at once.
    let stream = s
        .req_as(&token, Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(async move { stream.bytes().await.map(|b| b.len()) });
    let gone = TestServer::send(s.req(Method::DELETE, "/api/v1/tokens/城管值班")).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(gone.body["revoked_at"].is_string());
    tokio::time::timeout(Duration::from_secs(3), reader)
        .await
        .expect("the open stream closed at once")
        .unwrap()
        .ok();
    let refused = TestServer::send(s.req_as(&token, Method::GET, "/api/v1/me")).await;
    assert_eq!(refused.status, 401);
    assert!(refused.str("detail").contains("revoked"));
    assert_eq!(
        TestServer::send(s.req(Method::DELETE, "/api/v1/tokens/admin"))
            .await
            .status,
        409,
        "not the token in use"
    );
    assert_eq!(
        TestServer::send(s.req(Method::DELETE, "/api/v1/tokens/nobody"))
            .await
            .status,
        404
    );

    // Expiry follows the server's clock.
    let short = s
        .post(
            "/api/v1/tokens",
            json!({"role": "viewer", "name": "临时", "expires_days": 1}),
        )
        .await
        .str("token");
    assert_eq!(
        TestServer::send(s.req_as(&short, Method::GET, "/api/v1/me"))
            .await
            .status,
        200
    );
    s.clock.advance(chrono::Duration::days(2));
    let expired = TestServer::send(s.req_as(&short, Method::GET, "/api/v1/me")).await;
    assert!(
        expired.status == 401 && expired.str("detail").contains("expired"),
        "{}",
        expired.body
    );
    // Tokens survive a restart, revoked ones stay revoked.
    let s = s.restart().await;
    assert_eq!(
        TestServer::send(s.req_as(&token, Method::GET, "/api/v1/me"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn each_token_has_a_request_rate_and_a_stream_cap() {
    let s = TestServer::start_with(Limits {
        rate_per_sec: 2.0,
        burst: 5.0,
        streams: 2,
    })
    .await;
    let viewer = s.token("viewer", json!({}), "看板").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(TestServer::send(s.req_as(&viewer, Method::GET, "/api/v1/me")).await);
    }
    let limited: Vec<_> = statuses.iter().filter(|a| a.status == 429).collect();
    assert_eq!(
        statuses.iter().filter(|a| a.status == 200).count(),
        5,
        "the burst"
    );
    assert_eq!(limited.len(), 3);
    assert!(
        limited[0].headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(limited[0].content_type(), "application/problem+json");
    // Another token is not affected.
    assert_eq!(
        TestServer::send(s.req(Method::GET, "/api/v1/me"))
            .await
            .status,
        200
    );

    let one = s.req(Method::GET, "/api/v1/events").send().await.unwrap();
    let two = s.req(Method::GET, "/api/v1/events").send().await.unwrap();
    let three = s.req(Method::GET, "/api/v1/events").send().await.unwrap();
    assert_eq!(
        (
            one.status().as_u16(),
            two.status().as_u16(),
            three.status().as_u16()
        ),
        (200, 200, 429)
    );
    drop(one);
    // The slot frees when a stream closes.
    let mut freed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let r = s.req(Method::GET, "/api/v1/events").send().await.unwrap();
        if r.status() == 200 {
            freed = true;
            break;
        }
    }
    assert!(freed);
    drop(two);
}

#[tokio::test]
async fn the_audit_log_answers_by_actor_and_time() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let disp = s.token("dispatcher", json!({}), "市调度").await;
    let a = s
        .whistle(&city.communities[0], "roads", "normal", "坑洼")
        .await;
    s.clock.advance(chrono::Duration::hours(1));
    let t1 = s.clock.now_utc();
    let d = TestServer::send(
        s.req_as(
            &disp,
            Method::POST,
            &format!("/api/v1/whistles/{a}/dispatch"),
        )
        .json(&json!({"department_id": city.departments[0]})),
    )
    .await;
    assert_eq!(d.status, 200);
    s.clock.advance(chrono::Duration::hours(1));
    s.whistle(&city.communities[1], "roads", "normal", "积水")
        .await;

    let by = s.get("/api/v1/audit?actor=市调度").await;
    assert_eq!(by.status, 200, "{}", by.body);
    let items = by.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["type"].as_str(),
            items[0]["actor"]["role"].as_str()
        ),
        (Some("whistle.dispatched"), Some("dispatcher"))
    );
    let from = t1.to_rfc3339();
    let to = (t1 + chrono::Duration::minutes(30)).to_rfc3339();
    let window = s
        .get(&format!(
            "/api/v1/audit?from={}&to={}",
            urlenc(&from),
            urlenc(&to)
        ))
        .await
        .body;
    let kinds: Vec<&str> = window["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["whistle.dispatched"]);
    let everything = s.get("/api/v1/audit?limit=1000").await.body;
    assert!(
        everything["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "token.created"),
        "token changes are audited"
    );
    assert_eq!(
        TestServer::send(s.req_as(&disp, Method::GET, "/api/v1/audit"))
            .await
            .status,
        403
    );
    assert_eq!(s.get("/api/v1/audit?from=yesterday").await.status, 400);
}

fn urlenc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// What it is, method, path, body, extra headers, the status expected.
type Case = (
    &'static str,
    Method,
    String,
    Option<String>,
    Vec<(&'static str, &'static str)>,
    u16,
);

#[tokio::test]
async fn careless_and_hostile_input_never_gets_a_500() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let id = s
        .whistle(&city.communities[0], "roads", "normal", "坑洼")
        .await;
    let nested = format!("{{\"name\":{}{}}}", "[".repeat(20_000), "]".repeat(20_000));
    let cases: Vec<Case> = vec![
        ("too large", Method::POST, "/api/v1/streets".into(), Some(format!("{{\"name\":\"{}\"}}", "街".repeat(30_000))), vec![], 413),
        ("not JSON", Method::POST, "/api/v1/streets".into(), Some("name=街道".into()), vec![], 400),
        ("nested where a string belongs", Method::POST, "/api/v1/streets".into(), Some(nested.clone()), vec![], 422),
        // Each step reads its own body type, so the unknown field is named before the depth matters.
        ("deeply nested", Method::POST, format!("/api/v1/whistles/{id}/escalate"), Some(nested), vec![], 422),
        ("wrong type", Method::POST, "/api/v1/streets".into(), Some(r#"{"name": 7}"#.into()), vec![], 422),
        ("unknown field", Method::POST, "/api/v1/streets".into(), Some(r#"{"name": "a", "mayor": "b"}"#.into()), vec![], 422),
        ("empty string", Method::POST, "/api/v1/streets".into(), Some(r#"{"name": ""}"#.into()), vec![], 422),
        ("oversized string", Method::POST, "/api/v1/streets".into(), Some(format!("{{\"name\":\"{}\"}}", "a".repeat(101))), vec![], 422),
        ("control characters", Method::POST, "/api/v1/streets".into(), Some("{\"name\":\"a\\u0007b\"}".into()), vec![], 422),
        ("rating out of range", Method::POST, format!("/api/v1/whistles/{id}/close"), Some(r#"{"satisfaction": 99}"#.into()), vec![], 409),
        ("huge number", Method::POST, "/api/v1/wishes".into(), Some(format!("{{\"community_id\":\"{}\",\"title\":\"t\",\"value_fen\":1e300}}", city.communities[0])), vec![], 422),
        ("negative value", Method::POST, "/api/v1/wishes".into(), Some(format!("{{\"community_id\":\"{}\",\"title\":\"t\",\"value_fen\":-1}}", city.communities[0])), vec![], 422),
        ("latitude", Method::POST, "/api/v1/whistles".into(), Some(format!("{{\"community_id\":\"{}\",\"category\":\"roads\",\"urgency\":\"normal\",\"title\":\"t\",\"description\":\"d\",\"lat\":200,\"long\":1}}", city.communities[0])), vec![], 422),
        ("bad If-Match", Method::POST, format!("/api/v1/whistles/{id}/escalate"), Some(r#"{"reason":"r"}"#.into()), vec![("if-match", "v1")], 400),
        ("no content type", Method::POST, "/api/v1/streets".into(), None, vec![], 415),
        ("bad limit", Method::GET, "/api/v1/whistles?limit=-1".into(), None, vec![], 400),
        ("bad percent-encoding", Method::GET, "/api/v1/whistles?status=%ZZ".into(), None, vec![], 400),
        ("bad id", Method::GET, "/api/v1/whistles/W%00".into(), None, vec![], 404),
        ("stale tokenless", Method::GET, "/api/v1/stats".into(), None, vec![("authorization", "Basic YTpi")], 401),
    ];
    for (what, m, path, body, headers, want) in cases {
        let mut rb = s.client.request(m, format!("{}{path}", s.base));
        let mut has_auth = false;
        for (k, v) in &headers {
            has_auth |= *k == "authorization";
            rb = rb.header(*k, *v);
        }
        if !has_auth {
            rb = rb.bearer_auth(TOKEN);
        }
        match body {
            Some(b) if what != "no content type" => {
                rb = rb.header("content-type", "application/json").body(b)
            }
            _ if what == "no content type" => rb = rb.body(r#"{"name":"x"}"#),
            _ => {}
        }
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, want, "{what}: {}", a.body);
        assert_eq!(a.content_type(), "application/problem+json", "{what}");
    }
    // Nothing above changed anything.
    assert_eq!(
        s.get("/api/v1/streets")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.get(&format!("/api/v1/whistles/{id}")).await.body["version"],
        1
    );
}

#[tokio::test]
async fn a_body_that_stalls_times_out() {
    let s = TestServer::start().await;
    let addr = s.server.as_ref().unwrap().addr;
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        write!(sock, "POST /api/v1/streets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"na").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 64];
        let n = sock.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).to_string()
    })
    .await
    .unwrap();
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(started.elapsed() >= Duration::from_secs(9));
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    let s = TestServer::start_impatient(Duration::from_secs(1)).await;
    let addr = s.server.as_ref().unwrap().addr;
    let (closed_after, answered) = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        let started = std::time::Instant::now();
        // Half a request line, then silence.
        sock.write_all(b"GET /healthz HT").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 256];
        let n = sock.read(&mut buf).unwrap_or(0);
        (started.elapsed(), n)
    })
    .await
    .unwrap();
    assert!(
        closed_after < Duration::from_secs(5),
        "held for {closed_after:?}"
    );
    let _ = answered;
    // Others are served as usual meanwhile and after.
    assert_eq!(s.get("/api/v1/stats").await.status, 200);
}
