//! Input no store can hold: a NUL character in a path segment, a query parameter or a JSON
//! string is refused at the door with a clear 4xx, on every engine, and the writer goes on
//! taking writes (on PostgreSQL it once stopped for good after `DELETE /tokens/a%00`).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::json;

use shaozi_tests::TestServer;

#[tokio::test]
async fn a_nul_anywhere_is_a_clear_refusal_and_writes_go_on() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let viewer = s.token("viewer", json!({}), "大屏").await;
    for (who, method, path, want) in [
        (
            Some(&viewer),
            Method::GET,
            "/api/v1/whistles?category=%00",
            400,
        ),
        (None, Method::GET, "/api/v1/whistles?category=%00", 400),
        (None, Method::GET, "/api/v1/audit?actor=a%00b", 400),
        (None, Method::GET, "/api/v1/wishes?status=%00", 400),
        (None, Method::DELETE, "/api/v1/tokens/a%00", 404),
        (None, Method::GET, "/api/v1/whistles/W%00", 404),
        (None, Method::GET, "/api/v1/webhooks/H1%00", 404),
        (None, Method::GET, "/api/v1/departments/%00/whistles", 404),
    ] {
        let rb = match who {
            Some(t) => s.req_as(t, method.clone(), path),
            None => s.req(method.clone(), path),
        };
        let a = TestServer::send(rb).await;
        assert_eq!(a.status, want, "{method} {path}: {}", a.body);
        assert!(
            a.content_type().starts_with("application/problem+json"),
            "{path}"
        );
        if want == 400 {
            assert!(
                a.body["detail"].as_str().unwrap().contains("NUL"),
                "{}",
                a.body
            );
        }
    }
    // A NUL in any JSON string, whether or not the field has text rules of its own.
    for (path, body) in [
        ("/api/v1/streets", r#"{"name": "a\u0000b"}"#.to_string()),
        (
            "/api/v1/webhooks",
            r#"{"name": "n", "url": "https://example.org/h", "events": ["*\u0000"]}"#.to_string(),
        ),
        (
            "/api/v1/whistles",
            format!(
                r#"{{"community_id": "{}", "category": "sanitation\u0000", "urgency": "normal", "title": "t", "description": "d"}}"#,
                city.communities[0]
            ),
        ),
    ] {
        let a = TestServer::send(
            s.req(Method::POST, path)
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
        assert_eq!(a.status, 422, "{path} {body}: {}", a.body);
        assert!(
            a.body["detail"].as_str().unwrap().contains("NUL"),
            "{}",
            a.body
        );
    }
    // An escaped backslash before u0000 is text, not a NUL.
    let a = s
        .post("/api/v1/streets", json!({"name": "路径 C:\\u0000"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Open311 says it in its own format.
    for (path, want) in [
        ("/open311/v2/requests.json?service_code=%00", 400),
        ("/open311/v2/requests.json?status=open&start_date=%00", 400),
        ("/open311/v2/tokens/%00.json", 404),
        ("/open311/v2/requests/W%00.json", 404),
    ] {
        let a = TestServer::send(s.client.get(format!("{}{path}", s.base))).await;
        assert_eq!(a.status, want, "{path}: {}", a.body);
        assert_eq!(a.body[0]["code"], json!(want), "{path}: {}", a.body);
    }
    // And the writer took every refusal in its stride.
    let id = s
        .whistle(&city.communities[0], "sanitation", "normal", "之后照常")
        .await;
    assert!(id.starts_with('W'), "{id}");
    let ready = s.get("/readyz").await;
    assert_eq!(ready.status, 200);
}
