//! The case ledger (台账, issue 29 §5): at the month's end a leader asks for every case in a
//! spreadsheet. Read back by an independent CSV reader: every case the filters keep, once, in
//! filing order, inside the token's scope, with no cell a spreadsheet would run or turn into a
//! date.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Lists of ids read best as lists.
#![allow(clippy::cloned_ref_to_slice_refs)]

use chrono::Duration;
use serde_json::{json, Value};
use shaozi_tests::TestServer;

/// The ledger as `token` (the admin's when None): its raw bytes, parsed rows and header.
async fn ledger(s: &TestServer, token: Option<&str>, query: &str) -> (Vec<u8>, Vec<Vec<String>>) {
    let path = format!("/api/v1/whistles.csv?{query}");
    let rb = match token {
        Some(t) => s.req_as(t, reqwest::Method::GET, &path),
        None => s.req(reqwest::Method::GET, &path),
    };
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200, "{query}");
    assert_eq!(
        r.headers()[reqwest::header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(r.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("ledger-"));
    let bytes = r.bytes().await.unwrap().to_vec();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 byte-order mark first"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (bytes, rows)
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]))
}

fn ids(rows: &[Vec<String>]) -> Vec<String> {
    rows[1..].iter().map(|r| r[0].clone()).collect()
}

async fn file(s: &TestServer, community: &str, title: &str, more: Value) -> String {
    let mut b = json!({"community_id": community, "category": "property", "urgency": "normal",
                       "title": title, "description": "楼道漏水，请处理"});
    if let (Some(b), Some(m)) = (b.as_object_mut(), more.as_object()) {
        b.extend(m.clone());
    }
    s.ok("/api/v1/whistles", b, 201).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_month_of_cases_in_a_spreadsheet_as_it_was_and_inside_the_scope() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let formula = r#"=HYPERLINK("http://evil.example","点我")"#;
    let w1 = file(
        &s,
        &c.communities[0],
        formula,
        json!({"address": "3-4", "source": "hotline",
               "reporter": {"name": "王阿姨", "phone": "13800138000"}}),
    )
    .await;
    s.dispatch(&w1, &c.departments[2]).await;
    let step = |id: String, what: &'static str, b: Value| {
        let s = &s;
        async move { s.ok(&format!("/api/v1/whistles/{id}/{what}"), b, 200).await }
    };
    step(
        w1.clone(),
        "acknowledge",
        json!({"staff": ["张伟", "李娜"]}),
    )
    .await;
    s.clock.advance(Duration::hours(2));
    step(
        w1.clone(),
        "resolve",
        json!({"reply": "已更换水管, 3月4日复查"}),
    )
    .await;
    step(w1.clone(), "close", json!({"satisfaction": 5})).await;
    s.clock.advance(Duration::days(1));
    let w2 = file(&s, &c.communities[1], "路灯不亮", json!({})).await;
    let w3 = file(&s, &c.communities[2], "水塔漏水", json!({})).await;
    step(w3.clone(), "reject", json!({"reason": "11/5"})).await;

    let (_, rows) = ledger(&s, None, "").await;
    assert_eq!(rows[0][0], "id");
    assert_eq!(ids(&rows), [w1.clone(), w2.clone(), w3.clone()]);
    let r1 = &rows[1];
    let at = |name: &str| r1[column(&rows, name)].clone();
    // Kept as text: the formula, the date-looking address, the phone, the reply.
    assert_eq!(at("title"), format!("'{formula}"));
    assert_eq!(at("address"), "'3-4");
    assert_eq!(at("reporter_phone"), "'13800138000");
    assert_eq!(at("reporter"), "王阿姨");
    assert_eq!(at("reply"), "已更换水管, 3月4日复查");
    assert_eq!(rows[3][column(&rows, "reject_reason")], "'11/5");
    // Names beside ids, times in the city's time, the steps' outcomes.
    assert_eq!(at("community"), "朝阳路社区");
    assert_eq!(at("street"), "桃花仑街道");
    assert_eq!(at("category_name"), "Property management");
    assert_eq!(at("department"), "市住建局");
    assert_eq!(at("source"), "hotline");
    assert_eq!(at("status"), "closed");
    assert_eq!(at("filed_at"), "2026-11-26 16:00:00");
    assert_eq!(at("resolved_at"), "2026-11-26 18:00:00");
    assert_eq!(at("reported_on_time"), "yes");
    assert_eq!(at("resolved_on_time"), "yes");
    assert_eq!(at("satisfaction"), "5");
    assert_eq!(at("staff"), "张伟、李娜");
    // Not yet reported for duty and not yet late: neither yes nor no.
    assert_eq!(rows[2][column(&rows, "reported_on_time")], "");

    // In Chinese, on request.
    let (_, zh) = ledger(&s, None, "lang=zh").await;
    assert_eq!(zh[0][0], "编号");
    assert_eq!(zh[1][column(&zh, "按时办结")], "是");
    assert_eq!(zh[1][column(&zh, "类别")], "物业管理");
    assert_eq!(zh[0].len(), rows[0].len());

    // The list's filters and the search's words and dates.
    assert_eq!(
        ids(&ledger(&s, None, "status=closed").await.1),
        [w1.clone()]
    );
    assert_eq!(
        ids(
            &ledger(&s, None, &format!("community_id={}", c.communities[1]))
                .await
                .1
        ),
        [w2.clone()]
    );
    let q: String = form_urlencoded::byte_serialize("漏水".as_bytes()).collect();
    assert_eq!(
        ids(&ledger(&s, None, &format!("q={q}")).await.1),
        [w1.clone(), w2.clone(), w3.clone()],
        "every description holds 漏水"
    );
    let q: String = form_urlencoded::byte_serialize("水塔".as_bytes()).collect();
    assert_eq!(
        ids(&ledger(&s, None, &format!("q={q}")).await.1),
        [w3.clone()]
    );
    assert_eq!(
        ids(&ledger(&s, None, "from=2026-11-27").await.1),
        [w2.clone(), w3.clone()]
    );
    assert_eq!(
        ids(&ledger(&s, None, "to=2026-11-26").await.1),
        [w1.clone()]
    );

    // The second street's dispatcher: its own case only. A viewer reads no reporter.
    let street = s
        .token("dispatcher", json!({"street_id": c.streets[1]}), "s2")
        .await;
    assert_eq!(ids(&ledger(&s, Some(&street), "").await.1), [w3.clone()]);
    let viewer = s.token("viewer", json!({}), "v").await;
    let (_, seen) = ledger(&s, Some(&viewer), "").await;
    assert_eq!(ids(&seen), [w1, w2, w3]);
    assert_eq!(seen[1][column(&seen, "reporter_phone")], "");
    assert_eq!(seen[1][column(&seen, "reporter")], "");
    // A department sees only what it was called to.
    let dept = s
        .token(
            "department",
            json!({"department_id": c.departments[0]}),
            "d1",
        )
        .await;
    assert_eq!(
        ledger(&s, Some(&dept), "").await.1.len(),
        1,
        "the header alone"
    );
}

#[tokio::test]
async fn a_ledger_longer_than_its_pages_has_every_case_once_in_order() {
    let s = TestServer::start().await;
    let c = s.small_city().await;
    let mut filed = Vec::new();
    for i in 0..1234 {
        let community = &c.communities[i % 2];
        filed.push(file(&s, community, &format!("第{i}号楼漏水"), json!({})).await);
    }
    let (bytes, rows) = ledger(&s, None, "").await;
    assert_eq!(ids(&rows), filed, "every case once, in filing order");
    assert!(bytes.len() > 1234 * 100);
    let only: Vec<String> = filed.iter().step_by(2).cloned().collect();
    assert_eq!(
        ids(
            &ledger(&s, None, &format!("community_id={}", c.communities[0]))
                .await
                .1
        ),
        only
    );
}

#[tokio::test]
async fn the_ledger_refuses_what_does_not_apply() {
    let s = TestServer::start().await;
    for (query, param) in [
        ("limit=10", "limit"),
        ("cursor=x", "cursor"),
        ("lang=fr", "lang"),
        ("status=lost", "status"),
        ("from=tomorrow", "from"),
    ] {
        let a = s.get(&format!("/api/v1/whistles.csv?{query}")).await;
        assert_eq!(a.status, 400, "{query}: {}", a.body);
        assert_eq!(a.body["field"], param, "{query}: {}", a.body);
    }
    let r = s
        .client
        .get(format!("{}/api/v1/whistles.csv", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a token is needed");
}
