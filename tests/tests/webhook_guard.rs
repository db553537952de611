//! The second attack run's webhook findings, each as the attacker did it: a subscription that
//! outlives its owner's token, one that reaches inside the city's network, thousands of them
//! from one token, and residents' text turned into links in a robot's group chat. A real
//! server on a real store (sled, or PostgreSQL with `SHAOZI_TEST_ENGINE=postgres`), real
//! receivers on 127.0.0.1.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use shaozi_tests::receiver::{Receiver, Reply};
use shaozi_tests::TestServer;

const WAIT: Duration = Duration::from_secs(20);

/// Files a whistle in `community` as the admin; its id.
async fn file(s: &TestServer, community: &str, title: &str) -> String {
    s.whistle(community, "sanitation", "normal", title).await
}

/// Whether some delivery the receiver got is about whistle `id`.
fn got_whistle(r: &Receiver, id: &str) -> bool {
    r.seen().iter().any(|x| x.json()["subject"] == json!(id))
}

/// A subscription as `token` reads it.
async fn hook_as(s: &TestServer, token: &str, id: &str) -> shaozi_tests::Answer {
    TestServer::send(s.req_as(token, Method::GET, &format!("/api/v1/webhooks/{id}"))).await
}

#[tokio::test]
async fn a_revoked_owners_subscription_stops_shows_why_and_goes_on_once_adopted() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let community = &city.communities[0];
    let owner = s
        .token(
            "community",
            json!({"community_id": community}),
            "朝阳路社区书记",
        )
        .await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let made = s
        .post_as(
            &owner,
            "/api/v1/webhooks",
            json!({"name": "社区群", "url": r.url, "events": ["*"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let hook = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["health"]["owner"], json!("active"));
    let first = file(&s, community, "垃圾堆放 一").await;
    r.wait_for(WAIT, |_| got_whistle(&r, &first)).await;
    assert!(got_whistle(&r, &first), "delivered while its owner stands");

    // The city office revokes the owner's token: nothing more goes out for it.
    let revoked = TestServer::send(s.req(
        Method::DELETE,
        &format!("/api/v1/tokens/{}", "朝阳路社区书记"),
    ))
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let me = TestServer::send(s.req_as(&owner, Method::GET, "/api/v1/me")).await;
    assert_eq!(me.status, 401);
    let held = file(&s, community, "垃圾堆放 二").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !got_whistle(&r, &held),
        "a revoked token's subscription delivered {held}"
    );
    // Not silently lost: the city office sees why, on its list and on the subscription.
    let seen = s.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(seen.status, 200);
    assert_eq!(
        seen.body["health"]["owner"],
        json!("revoked"),
        "{}",
        seen.body
    );
    assert!(seen.body["health"]["lag"].as_u64().unwrap() > 0);
    let listed = s.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["items"][0]["health"]["owner"], json!("revoked"));

    // Another token of the community adopts it; the event that waited goes out, then the next.
    let successor = s
        .token(
            "community",
            json!({"community_id": community}),
            "朝阳路社区新书记",
        )
        .await;
    // A token of another community may not (it does not see it at all).
    let stranger = s
        .token(
            "community",
            json!({"community_id": city.communities[1]}),
            "梓山社区书记",
        )
        .await;
    let refused = s
        .post_as(
            &stranger,
            &format!("/api/v1/webhooks/{hook}/adopt"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    // Only the city office hands it to someone else; a community may take it for itself.
    let refused = s
        .post_as(
            &successor,
            &format!("/api/v1/webhooks/{hook}/adopt"),
            json!({"owner": "梓山社区书记"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let refused = s
        .post(
            &format!("/api/v1/webhooks/{hook}/adopt"),
            json!({"owner": "梓山社区书记"}),
        )
        .await;
    assert_eq!(
        refused.status, 422,
        "another scope's token: {}",
        refused.body
    );
    assert_eq!(refused.body["field"], json!("owner"), "{}", refused.body);
    let adopted = s
        .post_as(
            &successor,
            &format!("/api/v1/webhooks/{hook}/adopt"),
            json!({}),
        )
        .await;
    assert_eq!(adopted.status, 200, "{}", adopted.body);
    assert_eq!(adopted.body["created_by"], json!("朝阳路社区新书记"));
    assert_eq!(adopted.body["health"]["owner"], json!("active"));
    r.wait_for(WAIT, |_| got_whistle(&r, &held)).await;
    assert!(
        got_whistle(&r, &held),
        "the held event went out once adopted"
    );
    let next = file(&s, community, "垃圾堆放 三").await;
    r.wait_for(WAIT, |_| got_whistle(&r, &next)).await;
    assert!(got_whistle(&r, &next));
    let now = hook_as(&s, &successor, &hook).await;
    assert_eq!(now.body["health"]["owner"], json!("active"));
}

#[tokio::test]
async fn an_expired_owners_subscription_stops_too() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let community = &city.communities[0];
    let a = s
        .post(
            "/api/v1/tokens",
            json!({"role": "community", "community_id": community, "name": "临时联络员",
                   "expires_days": 1}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let owner = a.str("token");
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let made = s
        .post_as(
            &owner,
            "/api/v1/webhooks",
            json!({"name": "社区群", "url": r.url, "events": ["whistle.created"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let hook = made.body["id"].as_str().unwrap().to_string();
    let first = file(&s, community, "垃圾堆放 一").await;
    r.wait_for(WAIT, |_| got_whistle(&r, &first)).await;
    assert!(got_whistle(&r, &first));
    s.clock.advance(chrono::Duration::days(2));
    let late = file(&s, community, "垃圾堆放 二").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !got_whistle(&r, &late),
        "an expired token's subscription delivered"
    );
    let seen = s.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(
        seen.body["health"]["owner"],
        json!("expired"),
        "{}",
        seen.body
    );
    // The city office takes it over itself.
    let adopted = s
        .post(&format!("/api/v1/webhooks/{hook}/adopt"), json!({}))
        .await;
    assert_eq!(adopted.status, 200, "{}", adopted.body);
    assert_eq!(adopted.body["created_by"], json!("admin"));
    r.wait_for(WAIT, |_| got_whistle(&r, &late)).await;
    assert!(got_whistle(&r, &late));
    let _: Value = adopted.body;
}

#[tokio::test]
async fn a_webhook_cannot_reach_inside_the_citys_network_nor_read_what_answers() {
    // The attacker's setting: a server that allows nothing internal (the tests' other
    // servers allow loopback for their receivers).
    let s = TestServer::start_custom(|cfg| {
        cfg.webhook_allow = vec!["192.0.2.1".parse().unwrap()];
    })
    .await;
    let city = s.small_city().await;
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "社区",
        )
        .await;
    let internal = Receiver::start(Reply::Status(503, "pg_hba.conf: internal page".into()))
        .await
        .unwrap();
    let port = internal.port;
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://localhost:{port}/"),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://10.1.2.3:5432/".into(),
        "http://[fd00::1]/".into(),
    ] {
        let a = s
            .post_as(
                &community,
                "/api/v1/webhooks",
                json!({"name": "探测", "url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(a.status, 422, "{url}: {}", a.body);
        assert_eq!(a.body["field"], json!("url"), "{url}: {}", a.body);
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap()
                .contains("internal address"),
            "{url}: {}",
            a.body
        );
    }
    assert_eq!(internal.count(), 0, "nothing reached the internal receiver");
}

#[tokio::test]
async fn only_the_city_office_reads_what_a_receiver_answered() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "社区",
        )
        .await;
    let r = Receiver::start(Reply::Status(
        503,
        "internal page: db=prod user=root".into(),
    ))
    .await
    .unwrap();
    let made = s
        .post_as(
            &community,
            "/api/v1/webhooks",
            json!({"name": "社区群", "url": r.url, "events": ["*"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let hook = made.body["id"].as_str().unwrap().to_string();
    let test_path = format!("/api/v1/webhooks/{hook}/test");
    let theirs = TestServer::send(s.req_as(&community, Method::POST, &test_path)).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.body["status"], json!(503));
    assert_eq!(
        theirs.body["failure"],
        json!({"kind": "status", "status": 503})
    );
    assert!(
        !theirs.body.to_string().contains("internal page"),
        "a community read the receiver's answer: {}",
        theirs.body
    );
    let office = s.post(&test_path, json!(null)).await;
    assert!(
        office.body["detail"]
            .as_str()
            .unwrap()
            .contains("internal page"),
        "{}",
        office.body
    );
    // The same in the health, once a delivery has failed.
    file(&s, &city.communities[0], "垃圾堆放").await;
    let until = std::time::Instant::now() + WAIT;
    let theirs = loop {
        let h = hook_as(&s, &community, &hook).await;
        if h.body["health"]["failures"].as_u64().unwrap_or(0) > 0
            || std::time::Instant::now() > until
        {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        theirs.body["health"]["last_error"],
        json!("answered 503"),
        "{}",
        theirs.body
    );
    let office = s.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert!(
        office.body["health"]["last_error"]
            .as_str()
            .unwrap()
            .contains("internal page"),
        "{}",
        office.body
    );
}

#[tokio::test]
async fn residents_text_reaches_a_robots_group_as_typed_never_as_a_link_or_a_mention() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let wecom = Receiver::start(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into()))
        .await
        .unwrap();
    let dingtalk = Receiver::start(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into()))
        .await
        .unwrap();
    for (url, format) in [(&wecom.url, "wecom"), (&dingtalk.url, "dingtalk")] {
        let a = s
            .post(
                "/api/v1/webhooks",
                json!({"name": "街道值班群", "url": url, "events": ["whistle.created", "whistle.rejected"], "format": format}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let attack =
        r#"[积水已处理，点此查看](http://phish.example/login) <font color="warning">@all</font>"#;
    let id = s
        .whistle(&city.communities[0], "sanitation", "normal", attack)
        .await;
    let rejected = s
        .post(
            &format!("/api/v1/whistles/{id}/reject"),
            json!({"reason": "重复\n# 大标题\n<@zhangsan> [登录](http://phish.example)"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    let both = |r: &Receiver| r.seen().len() >= 2;
    wecom.wait_for(WAIT, |_| both(&wecom)).await;
    dingtalk.wait_for(WAIT, |_| both(&dingtalk)).await;
    let mut texts = Vec::new();
    for x in wecom.seen() {
        texts.push(
            x.json()["markdown"]["content"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for x in dingtalk.seen() {
        texts.push(x.json()["markdown"]["text"].as_str().unwrap().to_string());
        texts.push(x.json()["markdown"]["title"].as_str().unwrap().to_string());
    }
    assert_eq!(texts.len(), 6, "{texts:?}");
    for t in &texts {
        for syntax in ["](", "[积水", "<font", "@all", "http://", "<@", "\n# "] {
            assert!(!t.contains(syntax), "{syntax:?} reached a robot: {t}");
        }
        // As typed, in characters that read the same.
        assert!(t.contains("［积水已处理，点此查看］"), "{t}");
    }
    // Every line of the reason stays inside the quote.
    let reason = texts.iter().find(|t| t.contains("大标题")).unwrap();
    assert!(
        reason.contains("\n> ＃ 大标题\n> ＜＠zhangsan＞"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_receivers_secrets_are_never_shown_again_wherever_its_url_keeps_them() {
    let s = TestServer::start().await;
    let a = s
        .post(
            "/api/v1/webhooks",
            json!({"name": "飞书群", "events": ["*"],
                   "url": "http://hookuser:pw@127.0.0.1:9/open-apis/bot/v2/hook/2f1c7a9e-53b1-4c33-9a0e?key=k1#sig=abc"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let listed = s.get("/api/v1/webhooks").await;
    let shown = listed.body["items"][0]["url"].as_str().unwrap();
    assert_eq!(shown, "http://127.0.0.1:9/open-apis/bot/v2/hook/…?key=…#…");
    for secret in ["hookuser", "pw@", "2f1c7a9e", "k1", "sig=abc"] {
        assert!(
            !listed.body.to_string().contains(secret),
            "{secret} shown: {}",
            listed.body
        );
    }
}

async fn capped(per_unit: usize, per_city: usize) -> TestServer {
    TestServer::start_custom(move |cfg| {
        cfg.webhook_caps = shaozi_server::notify::Caps { per_unit, per_city };
    })
    .await
}

#[tokio::test]
async fn subscriptions_are_capped_per_unit_and_per_city_with_a_clear_refusal() {
    let s = capped(3, 5).await;
    let city = s.small_city().await;
    let r = Receiver::start(Reply::ok()).await.unwrap();
    let community = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "社区",
        )
        .await;
    let make = |token: &str, name: String| {
        let rb = s
            .req_as(token, Method::POST, "/api/v1/webhooks")
            .json(&json!({"name": name, "url": r.url, "events": ["*"]}));
        TestServer::send(rb)
    };
    for i in 0..3 {
        assert_eq!(make(&community, format!("群{i}")).await.status, 201);
    }
    let over = make(&community, "第四个".into()).await;
    assert_eq!(over.status, 409, "{}", over.body);
    assert!(
        over.body["detail"]
            .as_str()
            .unwrap()
            .contains("most one unit may have"),
        "{}",
        over.body
    );
    // Another unit has its own three, until the city's five are reached.
    let other = s
        .token(
            "community",
            json!({"community_id": city.communities[1]}),
            "另一社区",
        )
        .await;
    assert_eq!(make(&other, "甲".into()).await.status, 201);
    assert_eq!(make(&other, "乙".into()).await.status, 201);
    let over = make(&other, "丙".into()).await;
    assert_eq!(over.status, 409, "{}", over.body);
    assert!(
        over.body["detail"]
            .as_str()
            .unwrap()
            .contains("the city already has 5"),
        "{}",
        over.body
    );
    // Deleting one makes room again.
    let listed = TestServer::send(s.req_as(&community, Method::GET, "/api/v1/webhooks")).await;
    let first = listed.body["items"][0]["id"].as_str().unwrap().to_string();
    let gone = TestServer::send(s.req_as(
        &community,
        Method::DELETE,
        &format!("/api/v1/webhooks/{first}"),
    ))
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(make(&other, "丙".into()).await.status, 201);
}

/// The `shaozi_webhook_events_handed_total` figure of `/metrics`.
async fn handed(s: &TestServer) -> u64 {
    let body = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix("shaozi_webhook_events_handed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no handed total in {body}"))
}

#[tokio::test]
async fn a_subscription_that_wants_nothing_of_the_traffic_is_handed_nothing_and_keeps_up() {
    let s = capped(1000, 1000).await;
    let city = s.small_city().await;
    let idle = Receiver::start(Reply::ok()).await.unwrap();
    let busy = Receiver::start(Reply::ok()).await.unwrap();
    // 200 subscriptions wanting only completed wishes, and one wanting new whistles.
    let mut idle_ids = Vec::new();
    for i in 0..200 {
        let a = s
            .post(
                "/api/v1/webhooks",
                json!({"name": format!("心愿群{i}"), "url": idle.url, "events": ["wish.completed"]}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        idle_ids.push(a.body["id"].as_str().unwrap().to_string());
    }
    let wanted = s
        .post(
            "/api/v1/webhooks",
            json!({"name": "新哨", "url": busy.url, "events": ["whistle.created"]}),
        )
        .await;
    assert_eq!(wanted.status, 201, "{}", wanted.body);
    // Once every task runs (the one that wants new whistles has had one), count.
    let first = file(&s, &city.communities[0], "预热").await;
    busy.wait_for(WAIT, |_| got_whistle(&busy, &first)).await;
    let until = std::time::Instant::now() + WAIT;
    while s
        .get(&format!("/api/v1/webhooks/{}", idle_ids[199]))
        .await
        .body["health"]["lag"]
        != json!(0)
        && std::time::Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = handed(&s).await;
    let mut last = String::new();
    for i in 0..30 {
        last = file(&s, &city.communities[i % 3], &format!("垃圾 {i}")).await;
    }
    busy.wait_for(WAIT, |_| got_whistle(&busy, &last)).await;
    assert_eq!(busy.count(), 31);
    // Only the one subscription that wanted them was handed anything.
    assert_eq!(handed(&s).await - before, 30);
    assert_eq!(idle.count(), 0);
    // And the others are as far as the log all the same: no lag, nothing to read again.
    let h = s.get(&format!("/api/v1/webhooks/{}", idle_ids[199])).await;
    assert_eq!(h.body["health"]["lag"], json!(0), "{}", h.body);
}

#[tokio::test]
async fn one_receiver_host_gets_a_bounded_number_of_requests_at_once_however_many_subscribe() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let hang = Receiver::start(Reply::Hang).await.unwrap();
    for i in 0..12 {
        let a = s
            .post(
                "/api/v1/webhooks",
                json!({"name": format!("同一地址{i}"), "url": format!("{}/{i}", hang.url.trim_end_matches('/')), "events": ["whistle.created"]}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    file(&s, &city.communities[0], "一件").await;
    // The test servers give up on a hanging receiver after 2 s: look before that.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        hang.count(),
        shaozi_server::notify::send::PER_HOST,
        "requests in flight to one host at once"
    );
}
