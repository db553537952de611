//! Reply templates (知识库, issue 29 §3): a street and its departments answer the same kinds of
//! problem with the same words; each keeps its own, reads the city's, and gets them back with
//! the case's own names in place.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::{json, Value};
use shaozi_tests::TestServer;

/// The ids of the templates `token` is offered at `query`.
async fn offered(s: &TestServer, token: &str, query: &str) -> Vec<String> {
    let a =
        TestServer::send(s.req_as(token, Method::GET, &format!("/api/v1/templates{query}"))).await;
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The template `id` among those offered at `query`.
async fn one_of(s: &TestServer, token: &str, query: &str, id: &str) -> Value {
    let a =
        TestServer::send(s.req_as(token, Method::GET, &format!("/api/v1/templates{query}"))).await;
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id} not offered at {query}: {}", a.body))
        .clone()
}

async fn delete(s: &TestServer, token: &str, id: &str) -> u16 {
    TestServer::send(s.req_as(token, Method::DELETE, &format!("/api/v1/templates/{id}")))
        .await
        .status
}

#[tokio::test]
async fn a_street_and_its_departments_answer_with_their_own_words_filled_from_the_case() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let street = s
        .token(
            "dispatcher",
            json!({"street_id": c.streets[0]}),
            "桃花仑调度",
        )
        .await;
    let other_street = s
        .token("dispatcher", json!({"street_id": c.streets[1]}), "赫山调度")
        .await;
    let city_dept = s
        .token(
            "department",
            json!({"department_id": c.departments[0]}),
            "城管专干",
        )
        .await;
    let other_dept = s
        .token(
            "department",
            json!({"department_id": c.departments[2]}),
            "住建专干",
        )
        .await;
    let community = s
        .token(
            "community",
            json!({"community_id": c.communities[0]}),
            "朝阳路",
        )
        .await;

    // Out of the box: the built-in wording, for everyone.
    assert_eq!(offered(&s, &city_dept, "").await, ["R1", "R2", "R3", "R4"]);

    // The city office keeps one for every sanitation case; a department and a street their own.
    let city = s
        .req(Method::POST, "/api/v1/templates")
        .json(&json!({"category": "sanitation", "step": "resolve", "name": "垃圾已清运",
                      "text": "您好，{community}{address}的“{title}”已由{department}{staff}清运完毕（{id}）。"}));
    let city = TestServer::send(city).await;
    assert_eq!(city.status, 201, "{}", city.body);
    assert_eq!(city.body["id"], "T1");
    assert_eq!(city.body["owner"], json!({"kind": "city"}));
    assert_eq!(city.body["created_by"], "admin");
    assert_eq!(city.headers["location"], "/api/v1/templates/T1");
    let own = s
        .post_as(
            &city_dept,
            "/api/v1/templates",
            json!({"name": "城管通用", "text": "已安排{staff}处理。"}),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.body["id"], "T2");
    assert_eq!(
        own.body["owner"],
        json!({"kind": "department", "id": c.departments[0]})
    );
    assert_eq!(own.body["step"], "any");
    let reject = s
        .post_as(
            &street,
            "/api/v1/templates",
            json!({"step": "reject", "name": "非本街道",
                   "text": "{title}不属于本街道，已告知{department}。"}),
        )
        .await;
    assert_eq!(reject.status, 201, "{}", reject.body);
    assert_eq!(reject.body["id"], "T3");

    // Refusals name the field: a typo in a placeholder, a category that is not, no name, a
    // community (it writes no replies).
    let typo = s
        .post_as(
            &street,
            "/api/v1/templates",
            json!({"name": "x", "text": "{comunity}已处理"}),
        )
        .await;
    assert_eq!(typo.status, 422, "{}", typo.body);
    assert_eq!(typo.body["field"], "text");
    assert!(typo.body["detail"]
        .as_str()
        .unwrap()
        .contains("{community}"));
    let cat = s
        .post_as(
            &street,
            "/api/v1/templates",
            json!({"category": "moon", "name": "x", "text": "y"}),
        )
        .await;
    assert_eq!((cat.status, cat.str("field")), (422, "category".into()));
    assert_eq!(cat.body["code"], "unknown_reference");
    let nameless = s
        .post_as(
            &street,
            "/api/v1/templates",
            json!({"name": " ", "text": "y"}),
        )
        .await;
    assert_eq!(
        (nameless.status, nameless.str("field")),
        (422, "name".into())
    );
    let from_community = s
        .post_as(
            &community,
            "/api/v1/templates",
            json!({"name": "x", "text": "y"}),
        )
        .await;
    assert_eq!(from_community.status, 403);

    // Each unit reads the city's and its own, never another's.
    assert_eq!(
        offered(&s, &city_dept, "").await,
        ["R1", "R2", "R3", "R4", "T1", "T2"]
    );
    assert_eq!(
        offered(&s, &other_dept, "").await,
        ["R1", "R2", "R3", "R4", "T1"]
    );
    assert_eq!(
        offered(&s, &street, "").await,
        ["R1", "R2", "R3", "R4", "T1", "T3"]
    );
    assert_eq!(
        offered(&s, &other_street, "").await,
        ["R1", "R2", "R3", "R4", "T1"]
    );
    let all = s.get("/api/v1/templates").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 7);
    assert_eq!(
        offered(&s, &street, "?step=reject").await,
        ["R3", "R4", "T3"]
    );
    assert_eq!(
        offered(&s, &street, "?category=lighting&step=resolve").await,
        ["R1", "R2"]
    );

    // A sanitation case in 朝阳路社区: before anyone is on site, {department} and {staff} stay
    // for the person to write over.
    let filed = s
        .ok(
            "/api/v1/whistles",
            json!({"community_id": c.communities[0], "category": "sanitation", "urgency": "normal",
                   "title": "垃圾满溢", "description": "垃圾桶满了", "address": "朝阳路 12 号"}),
            201,
        )
        .await;
    let w = filed["id"].as_str().unwrap().to_string();
    let q = format!("?whistle={w}&step=reject");
    assert_eq!(offered(&s, &street, &q).await, ["R3", "R4", "T3"]);
    let t3 = one_of(&s, &street, &q, "T3").await;
    assert_eq!(t3["filled"], "垃圾满溢不属于本街道，已告知{department}。");
    assert_eq!(t3["unfilled"], json!(["department"]));
    // The department on site: every placeholder filled.
    s.dispatch(&w, &c.departments[0]).await;
    let ack = s
        .post_as(
            &city_dept,
            &format!("/api/v1/whistles/{w}/acknowledge"),
            json!({"staff": ["张伟", "李娜"]}),
        )
        .await;
    assert_eq!(ack.status, 200, "{}", ack.body);
    let q = format!("?whistle={w}&step=resolve");
    assert_eq!(offered(&s, &city_dept, &q).await, ["R1", "R2", "T1", "T2"]);
    let t1 = one_of(&s, &city_dept, &q, "T1").await;
    assert_eq!(
        t1["filled"],
        format!("您好，朝阳路社区朝阳路 12 号的“垃圾满溢”已由市城管局张伟、李娜清运完毕（{w}）。")
    );
    assert!(t1.get("unfilled").is_none(), "{t1}");
    assert_eq!(
        one_of(&s, &city_dept, &q, "T2").await["filled"],
        "已安排张伟、李娜处理。"
    );
    // A case outside the token's scope is not there at all.
    let outside = TestServer::send(s.req_as(
        &other_dept,
        Method::GET,
        &format!("/api/v1/templates?whistle={w}"),
    ))
    .await;
    assert_eq!(outside.status, 404);
    let bad =
        TestServer::send(s.req_as(&street, Method::GET, "/api/v1/templates?step=later")).await;
    assert_eq!((bad.status, bad.str("field")), (400, "step".into()));

    // A lighting case is offered neither the sanitation template nor, for the reply, the
    // street's rejection.
    let lamp = s
        .whistle(&c.communities[1], "lighting", "normal", "路灯不亮")
        .await;
    assert_eq!(
        offered(&s, &street, &format!("?whistle={lamp}&step=resolve")).await,
        ["R1", "R2"]
    );

    // Who deletes what: another unit's is not there, the city's is not a street's to delete,
    // the rules file's are changed in the rules file.
    assert_eq!(delete(&s, &other_dept, "T2").await, 404);
    assert_eq!(delete(&s, &other_street, "T1").await, 403);
    assert_eq!(delete(&s, &street, "R1").await, 409);
    assert_eq!(delete(&s, &street, "T99").await, 404);
    assert_eq!(delete(&s, &street, "W1001").await, 404);
    assert_eq!(delete(&s, &city_dept, "T2").await, 204);
    assert_eq!(delete(&s, &city_dept, "T2").await, 404);
    let gone = TestServer::send(s.req_as(&city_dept, Method::GET, "/api/v1/templates/T2")).await;
    assert_eq!(gone.status, 404);
    let t1 = TestServer::send(s.req_as(&other_street, Method::GET, "/api/v1/templates/T1")).await;
    assert_eq!((t1.status, t1.str("name")), (200, "垃圾已清运".into()));

    // The log says who kept and who deleted what; each unit hears of its own and the city's.
    let seen = |token: String| {
        let s = &s;
        async move {
            let page = TestServer::send(
                s.req_as(&token, Method::GET, "/api/v1/events?after=0&limit=1000")
                    .header("accept", "application/json"),
            )
            .await;
            assert_eq!(page.status, 200, "{}", page.body);
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"].as_str().unwrap().starts_with("template."))
                .map(|e| {
                    format!(
                        "{} {}",
                        e["type"].as_str().unwrap(),
                        e["subject"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        seen(city_dept.clone()).await,
        [
            "template.saved T1",
            "template.saved T2",
            "template.deleted T2"
        ]
    );
    assert_eq!(seen(other_dept.clone()).await, ["template.saved T1"]);
    assert_eq!(
        seen(street.clone()).await,
        ["template.saved T1", "template.saved T3"]
    );
    assert!(seen(community.clone()).await.is_empty());
}

#[tokio::test]
async fn a_kept_template_survives_a_restart_and_a_retried_create_keeps_one() {
    let s = TestServer::start().await;
    let body = json!({"name": "已修复", "text": "{title}已修复。"});
    let first = TestServer::send(
        s.req(Method::POST, "/api/v1/templates")
            .header("idempotency-key", "tpl-1")
            .json(&body),
    )
    .await;
    assert_eq!(first.status, 201);
    let again = TestServer::send(
        s.req(Method::POST, "/api/v1/templates")
            .header("idempotency-key", "tpl-1")
            .json(&body),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    let s = s.restart().await;
    let all = s.get("/api/v1/templates").await;
    let kept: Vec<&Value> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["from_rules"] == false)
        .collect();
    assert_eq!(kept.len(), 1, "{}", all.body);
    assert_eq!(*kept[0], first.body);
}

#[tokio::test]
async fn a_rules_file_sets_the_citys_own_wording() {
    let mut rules = shaozi_shared::Rules::builtin();
    rules.templates = shaozi_server::config::parse(
        r#"
        [[templates]]
        category = "lighting"
        step = "resolve"
        name = "路灯已修复"
        text = "{community}的路灯已由{department}修复。"
        "#,
    )
    .unwrap()
    .templates;
    let s = TestServer::start_with_rules(rules).await;
    let all = s.get("/api/v1/templates").await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the file's replace the built-in ones");
    assert_eq!(items[0]["id"], "R1");
    assert_eq!(items[0]["from_rules"], true);
    assert_eq!(items[0]["category"], "lighting");
}
