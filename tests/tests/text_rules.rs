//! What the second attack run slipped past the text rules: characters that show nothing by
//! Unicode's own properties, names that only look different, and line separators in one-line
//! fields. Each refused through the API, naming the field.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use shaozi_tests::TestServer;

#[tokio::test]
async fn invisible_lookalike_and_line_breaking_text_is_refused_naming_the_field() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let c = &city.communities[0];
    for title in [
        "\u{FFF9}\u{FFFA}\u{FFFB}",
        "\u{13430}\u{13431}\u{13432}",
        "积水\u{2028}已处理",
        "积水\u{2029}已处理",
    ] {
        let a = s
            .post(
                "/api/v1/whistles",
                json!({"community_id": c, "category": "sanitation", "urgency": "normal",
                       "title": title, "description": "d"}),
            )
            .await;
        assert_eq!(a.status, 422, "{title:?}: {}", a.body);
        assert_eq!(a.body["field"], json!("title"), "{title:?}: {}", a.body);
    }
    // Multi-line text keeps the break as an ordinary one.
    let a = s
        .post(
            "/api/v1/whistles",
            json!({"community_id": c, "category": "sanitation", "urgency": "normal",
                   "title": "积水", "description": "第一行\u{2028}第二行"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["description"], json!("第一行\n第二行"));
    let id = a.body["id"].as_str().unwrap().to_string();
    s.dispatch(&id, &city.departments[0]).await;
    let ack = format!("/api/v1/whistles/{id}/acknowledge");
    // A second "person" that shows nothing.
    let a = s.post(&ack, json!({"staff": ["张三", "\u{FFF9}"]})).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["field"], json!("staff"), "{}", a.body);
    // The same person twice, once with a Cyrillic і.
    let a = s
        .post(&ack, json!({"staff": ["L\u{0456} Lei", "Li Lei"]}))
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], json!("too_few_staff"), "{}", a.body);
    // Two real people report for duty.
    let a = s
        .post(&ack, json!({"staff": ["Li Lei", "Han Meimei"]}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}
