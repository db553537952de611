//! HTTPS end to end: a CA and a server certificate made inside the test, the server serving
//! them itself, and the API and the event stream used through them by a client that trusts
//! only that CA.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::Value;

use shaozi_tests::test_ca::TestCa;
use shaozi_tests::TestServer;

/// The certificate the server presents, DER, as a client trusting `ca` sees it.
async fn served_certificate(s: &TestServer, ca: &TestCa) -> Vec<u8> {
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca.ca_pem()).unwrap())
        .tls_info(true)
        .build()
        .unwrap();
    let res = client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info = res.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    info.peer_certificate().unwrap().to_vec()
}

/// The first certificate of a PEM file, DER.
fn der_of(pem_file: &std::path::Path) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_file_iter(pem_file)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn the_api_and_the_event_stream_work_over_https() {
    let ca = TestCa::new();
    let s = TestServer::start_tls(&ca).await;
    assert!(s.base.starts_with("https://localhost:"), "{}", s.base);
    let city = s.small_city().await;

    // A live stream through TLS, opened before the whistle is filed.
    let res = s
        .req(Method::GET, "/api/v1/events")
        .send()
        .await
        .expect("the stream opens over https");
    assert_eq!(res.status(), 200);
    let mut stream = eventsource_stream::Eventsource::eventsource(res.bytes_stream());
    let id = s
        .whistle(&city.communities[0], "lighting", "normal", "楼道灯不亮")
        .await;
    assert!(!id.is_empty());
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ev = stream.next().await.unwrap().unwrap();
            let v: Value = serde_json::from_str(&ev.data).unwrap();
            if v["subject"] == id.as_str() {
                return v;
            }
        }
    })
    .await
    .expect("the whistle's event arrives over the TLS stream");
    assert_eq!(got["type"], "whistle.created");

    // A read answers the same through TLS.
    let read = s.get(&format!("/api/v1/whistles/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["title"], "楼道灯不亮");

    // A client that does not trust the city's CA is not let in, and plain HTTP to the TLS
    // port gets no answer.
    let stranger = reqwest::Client::new();
    let err = stranger
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .expect_err("an unknown CA is refused");
    let chain = format!("{err:?}");
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    let port = s.server.as_ref().unwrap().addr.port();
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP must not be served on the TLS port"
    );
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let mut ca = TestCa::new();
    let s = TestServer::start_tls(&ca).await;
    let first = served_certificate(&s, &ca).await;
    assert_eq!(first, der_of(&ca.server_cert));

    // What an ACME client does: new files in place of the old ones.
    std::thread::sleep(Duration::from_millis(20));
    ca.issue_server("shaozi test server, renewed");
    let renewed = der_of(&ca.server_cert);
    assert_ne!(renewed, first);
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = served_certificate(&s, &ca).await;
        if now == renewed {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the renewed certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A broken renewal keeps the working certificate in use.
    std::fs::write(&ca.server_key, "not a key").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(served_certificate(&s, &ca).await, renewed);
    assert_eq!(s.get("/api/v1/streets").await.status, 200);
}

#[tokio::test]
async fn a_certificate_that_does_not_match_its_key_stops_the_start() {
    let mut ca = TestCa::new();
    let key_of_first = std::fs::read(&ca.server_key).unwrap();
    ca.issue_server("another");
    std::fs::write(&ca.server_key, key_of_first).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = shaozi_server::Config::new(dir.path().join("store"));
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.tls = Some(shaozi_server::tls::TlsFiles::new(
        ca.server_cert.clone(),
        ca.server_key.clone(),
    ));
    let err = match shaozi_server::start(cfg).await {
        Ok(_) => panic!("a mismatched key must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("is not the key of"), "{err}");
    assert!(
        !dir.path().join("store").exists(),
        "nothing is opened before the certificate is known to work"
    );

    let mut cfg = shaozi_server::Config::new(dir.path().join("store"));
    cfg.tls = Some(shaozi_server::tls::TlsFiles::new(
        dir.path().join("missing.pem"),
        ca.server_key.clone(),
    ));
    let err = match shaozi_server::start(cfg).await {
        Ok(_) => panic!("a missing certificate must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("missing.pem"), "{err}");
}

#[tokio::test]
async fn open311_discovery_gives_out_the_https_address_a_client_came_by() {
    let ca = TestCa::new();
    let s = TestServer::start_tls(&ca).await;
    let d = TestServer::send(
        s.client
            .get(format!("{}/open311/v2/discovery.json", s.base)),
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.body);
    let url = d.body["endpoints"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("https://localhost:"), "{url}");
    // Plain HTTP behind a TLS proxy that says so.
    let plain = TestServer::start().await;
    let d = TestServer::send(
        plain
            .client
            .get(format!("{}/open311/v2/discovery.json", plain.base))
            .header("x-forwarded-proto", "https"),
    )
    .await;
    let url = d.body["endpoints"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let d = TestServer::send(
        plain
            .client
            .get(format!("{}/open311/v2/discovery.json", plain.base)),
    )
    .await;
    let url = d.body["endpoints"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}
