//! The committed OpenAPI document is the one the code generates, and it is complete.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn committed_copy_matches_the_code() {
    let now = shaozi_server::openapi::document_json();
    if std::env::var_os("SHAOZI_BLESS").is_some() {
        std::fs::write(committed(), &now).expect("docs/openapi.json written");
    }
    let copy = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        copy == now,
        "docs/openapi.json differs from what the code generates. Regenerate it with \
         `cargo run -p shaozi-server -- openapi > docs/openapi.json` (or SHAOZI_BLESS=1 cargo test \
         -p shaozi-server --test openapi), review the diff, and commit it."
    );
}

#[test]
fn every_operation_is_described_with_its_refusals() {
    let doc: Value = serde_json::from_str(&shaozi_server::openapi::document_json())
        .expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut ops = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            ops += 1;
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success response"
            );
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            if path == "/api/v1/openapi.json" {
                assert_eq!(
                    op["security"],
                    serde_json::json!([{}]),
                    "the contract is public"
                );
                continue;
            }
            for s in ["400", "401", "403", "429"] {
                assert!(responses.contains_key(s), "{method} {path} lacks {s}");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path} lacks 404");
            }
            if op.get("requestBody").is_some() {
                for s in ["413", "415", "422"] {
                    assert!(responses.contains_key(s), "{method} {path} lacks {s}");
                }
            }
        }
    }
    // The operations of /api/v1 (reply templates the latest) and the document itself.
    assert_eq!(ops, 61, "operations in the document");
    let problem =
        &doc["components"]["responses"]["Conflict"]["content"]["application/problem+json"];
    assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
}

#[test]
fn text_limits_in_the_document_are_the_ones_enforced() {
    use shaozi_shared::text::{self, Rule};
    let doc: Value = serde_json::from_str(&shaozi_server::openapi::document_json())
        .expect("the document is JSON");
    let schemas = &doc["components"]["schemas"];
    let fields: [(&str, &str, Rule); 30] = [
        ("NewStreet", "name", text::NAME),
        ("NewCommunity", "name", text::NAME),
        ("NewDepartment", "name", text::NAME),
        ("NewToken", "name", text::NAME),
        ("NewWhistle", "title", text::TITLE),
        ("NewWhistle", "description", text::DESCRIPTION),
        ("NewWhistle", "address", text::ADDRESS),
        ("NewWhistle", "media_url", text::URL),
        ("Reporter", "name", text::PERSON),
        ("Reporter", "email", text::EMAIL),
        ("Reporter", "phone", text::PHONE),
        ("DispatchBody", "note", text::NOTE),
        ("AcknowledgeBody", "note", text::NOTE),
        ("ResolveBody", "reply", text::REPLY),
        ("CloseBody", "note", text::NOTE),
        ("ReasonBody", "reason", text::NOTE),
        ("RejectBody", "reason", text::NOTE),
        ("NewWish", "title", text::TITLE),
        ("NewWish", "description", text::DESCRIPTION),
        ("ClaimBody", "claimer", text::PERSON),
        ("CompleteBody", "note", text::NOTE),
        ("NewActivity", "note", text::NOTE),
        ("ExtensionBody", "reason", text::NOTE),
        ("ApproveBody", "note", text::NOTE),
        ("UrgeBody", "note", text::NOTE),
        ("CallBackBody", "note", text::NOTE),
        ("NewWebhook", "name", text::NAME),
        ("NewTemplate", "category", text::NAME),
        ("NewTemplate", "name", text::NAME),
        ("NewTemplate", "text", text::REPLY),
    ];
    for (schema, field, rule) in fields {
        let got = &schemas[schema]["properties"][field]["maxLength"];
        assert_eq!(
            got.as_u64(),
            Some(rule.max as u64),
            "{schema}.{field}: the document says {got}, the server enforces {}",
            rule.max
        );
    }
    assert_eq!(
        schemas["AcknowledgeBody"]["properties"]["staff"]["maxItems"].as_u64(),
        Some(text::MAX_STAFF as u64)
    );
}
