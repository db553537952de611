//! One delivery to real receivers on 127.0.0.1 (plain HTTP servers inside the test, so each
//! can answer as a real receiver might: 2xx, 500, a redirect, a robot's refusal, or nothing).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use shaozi_server::notify::addr::AddressPolicy;
use shaozi_server::notify::send::{Limits, Sender, Sent, Target};
use shaozi_server::notify::sign::{dingtalk_url, WebhookSecret};
use shaozi_shared::api::DeliveryFailure;
use shaozi_tests::receiver::{Receiver, Reply};

async fn receiver(reply: Reply) -> Receiver {
    Receiver::start(reply).await.unwrap()
}

fn sender(total: Duration) -> Sender {
    sender_allowing(total, shaozi_tests::loopback())
}

fn sender_allowing(total: Duration, allow: Vec<shaozi_server::guard::IpNet>) -> Sender {
    Sender::new(
        Limits {
            connect: Duration::from_secs(5),
            total,
            answer_bytes: 64,
        },
        AddressPolicy::allowing(allow),
    )
    .unwrap()
}

#[tokio::test]
async fn internal_addresses_are_refused_however_they_are_written_and_nothing_is_sent() {
    let r = receiver(Reply::Status(200, "secret internal page".into())).await;
    let port = r.port;
    let strict = sender_allowing(Duration::from_secs(5), Vec::new());
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://0.0.0.0:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
    ] {
        let sent = strict
            .send(&url, 1, b"{}".to_vec(), Target::Wecom, Utc::now())
            .await;
        match sent {
            Sent::Failed { reason, why } => {
                assert_eq!(reason, DeliveryFailure::AddressRefused, "{url}: {why}");
                assert!(!why.contains("secret internal page"), "{why}");
            }
            Sent::Delivered => panic!("{url} was delivered to"),
        }
    }
    assert_eq!(r.count(), 0, "nothing reached the internal receiver");
    // The operator's allow-list opens exactly what it names.
    let allowed = sender_allowing(Duration::from_secs(5), vec!["127.0.0.1".parse().unwrap()]);
    let sent = allowed
        .send(
            &format!("http://localhost:{port}/hook"),
            1,
            b"{}".to_vec(),
            Target::Wecom,
            Utc::now(),
        )
        .await;
    assert_eq!(
        sent,
        Sent::Delivered,
        "localhost resolves to an allowed 127.0.0.1"
    );
    assert_eq!(r.count(), 1);
}

#[tokio::test]
async fn a_json_delivery_arrives_signed_and_verifies() {
    let r = receiver(Reply::Status(204, String::new())).await;
    let secret = WebhookSecret::generate();
    let body = br#"{"seq":42,"type":"whistle.dispatched"}"#.to_vec();
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 42, body.clone(), Target::Json(&secret), Utc::now())
        .await;
    assert_eq!(sent, Sent::Delivered);
    let seen = r.seen()[0].clone();
    assert_eq!(seen.body, body);
    assert_eq!(seen.header("webhook-id"), Some("42"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    // Verified as a receiver would, with the Standard Webhooks project's library.
    let mut headers = reqwest::header::HeaderMap::new();
    for k in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(k, seen.header(k).unwrap().parse().unwrap());
    }
    standardwebhooks::Webhook::new(&secret.encoded())
        .unwrap()
        .verify(&seen.body, &headers)
        .expect("verifies");
}

#[tokio::test]
async fn a_failure_says_why_and_keeps_only_the_start_of_the_answer() {
    let long = "服务暂时不可用，请稍后再试。".repeat(40);
    let r = receiver(Reply::Status(503, long)).await;
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 7, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    let Sent::Failed { reason, why } = sent else {
        panic!("{sent:?}")
    };
    assert_eq!(reason, DeliveryFailure::Status { status: 503 });
    assert!(why.starts_with("answered 503: 服务暂时"), "{why}");
    assert!(why.chars().count() < 120, "the answer is cut: {why}");
}

#[tokio::test]
async fn a_hanging_receiver_costs_no_more_than_the_limit() {
    let r = receiver(Reply::Hang).await;
    let started = Instant::now();
    let sent = sender(Duration::from_millis(400))
        .send(&r.url, 1, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    assert_eq!(
        sent,
        Sent::Failed {
            reason: DeliveryFailure::Timeout,
            why: "no answer in time".into()
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = receiver(Reply::Status(200, "{}".into())).await;
    let r = receiver(Reply::Redirect(elsewhere.url.clone())).await;
    let sent = sender(Duration::from_secs(10))
        .send(&r.url, 1, b"{}".to_vec(), Target::Wecom, Utc::now())
        .await;
    assert!(
        matches!(
            sent,
            Sent::Failed {
                reason: DeliveryFailure::Status { status: 302 },
                ..
            }
        ),
        "{sent:?}"
    );
    assert!(
        elsewhere.seen().is_empty(),
        "nothing went to the redirect's target"
    );
}

#[tokio::test]
async fn a_robot_that_answers_200_with_an_error_code_failed() {
    let r = receiver(Reply::Status(
        200,
        r#"{"errcode":310000,"errmsg":"sign not match"}"#.into(),
    ))
    .await;
    let sent = sender(Duration::from_secs(10))
        .send(
            &r.url,
            9,
            b"{}".to_vec(),
            Target::Dingtalk(Some("SECabc")),
            Utc::now(),
        )
        .await;
    assert_eq!(
        sent,
        Sent::Failed {
            reason: DeliveryFailure::RobotRefused { errcode: 310000 },
            why: "the robot refused it: 310000 sign not match".into()
        }
    );
    // The signed URL kept the robot's own key and added DingTalk's timestamp and sign.
    let seen = r.seen()[0].clone();
    let ts: i64 = seen
        .target
        .split("timestamp=")
        .nth(1)
        .and_then(|t| t.split('&').next())
        .and_then(|t| t.parse().ok())
        .expect("a timestamp");
    let want = dingtalk_url("/hook?key=k1", "SECabc", ts).unwrap();
    assert_eq!(seen.target, want);
    let ok = receiver(Reply::Status(200, r#"{"errcode":0,"errmsg":"ok"}"#.into())).await;
    let sent = sender(Duration::from_secs(10))
        .send(
            &ok.url,
            9,
            b"{}".to_vec(),
            Target::Dingtalk(None),
            Utc::now(),
        )
        .await;
    assert_eq!(sent, Sent::Delivered);
}

/// Robots are https: a delivery to an https URL opens with a TLS handshake (a ClientHello,
/// record type 22), and a receiver that cannot show a trusted certificate is a failure that
/// says so, never a plain-text request.
#[tokio::test]
async fn an_https_url_is_spoken_to_in_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 3];
        sock.read_exact(&mut buf).await.unwrap();
        // Not a TLS server: hang up.
        let _ = sock.shutdown().await;
        buf
    });
    let sent = sender(Duration::from_secs(5))
        .send(
            &format!("https://{addr}/cgi-bin/webhook/send?key=k"),
            7,
            b"{}".to_vec(),
            Target::Wecom,
            Utc::now(),
        )
        .await;
    let hello = first.await.unwrap();
    assert_eq!(hello[0], 22, "a TLS handshake record, not {hello:?}");
    assert_eq!(hello[1], 3, "TLS version major 3");
    // The handshake never finished: no connection to speak of.
    let Sent::Failed {
        reason: DeliveryFailure::Connect,
        why,
    } = sent
    else {
        panic!("{sent:?}");
    };
    // The robot's key is in the URL: never in what is shown or logged.
    assert!(!why.contains("key=k"), "{why}");
    assert!(!why.contains(&addr.to_string()), "{why}");
}
