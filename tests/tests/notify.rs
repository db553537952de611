//! What goes out to people who are not watching: the `json` delivery's Standard Webhooks
//! signature, checked by the Standard Webhooks project's own verifier (not the code that
//! signs); DingTalk's signed URL, checked against the vendor's documented example run as
//! written; and the WeCom and DingTalk robots' bodies, against golden files.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use shaozi_server::notify::message::{phone_text, Names};
use shaozi_server::notify::sign::{dingtalk_url, WebhookSecret};
use shaozi_shared::whistle::Filing;
use shaozi_shared::{
    Actor, CommunityId, DepartmentId, Event, EventKind, StreetId, Urgency, Whistle, WhistleId,
    WhistleStatus,
};

#[test]
fn a_json_delivery_verifies_with_the_standard_webhooks_library() {
    let secret = WebhookSecret::generate();
    let body = br#"{"seq":1140,"type":"whistle.overdue","subject":"W1140"}"#;
    let now = Utc::now().timestamp();
    let signature = secret.sign("1140", now, body).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("webhook-id", "1140".parse().unwrap());
    headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
    headers.insert("webhook-signature", signature.parse().unwrap());
    let wh = standardwebhooks::Webhook::new(&secret.encoded()).unwrap();
    wh.verify(body, &headers)
        .expect("the library verifies our signature");
    // A byte changed, another id, or another key: refused.
    assert!(wh.verify(br#"{"seq":1141}"#, &headers).is_err());
    let mut other = headers.clone();
    other.insert("webhook-id", "1141".parse().unwrap());
    assert!(wh.verify(body, &other).is_err());
    let stranger = standardwebhooks::Webhook::new(&WebhookSecret::generate().encoded()).unwrap();
    assert!(stranger.verify(body, &headers).is_err());
}

#[test]
fn the_dingtalk_sign_is_the_vendors_documented_example() {
    // DingTalk's documentation signs with this Python (3.8), the secret "this is secret" and
    // the current time in milliseconds; run as written, with the time fixed.
    let timestamp: i64 = 1_577_808_000_000;
    let script = format!(
        r#"
import hmac, hashlib, base64, urllib.parse
timestamp = '{timestamp}'
secret = 'this is secret'
secret_enc = secret.encode('utf-8')
string_to_sign = '{{}}\n{{}}'.format(timestamp, secret)
string_to_sign_enc = string_to_sign.encode('utf-8')
hmac_code = hmac.new(secret_enc, string_to_sign_enc, digestmod=hashlib.sha256).digest()
sign = urllib.parse.quote_plus(base64.b64encode(hmac_code))
print(sign)
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs the vendor's example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let url = dingtalk_url(
        "https://oapi.dingtalk.com/robot/send?access_token=XXXXXX",
        "this is secret",
        timestamp,
    )
    .unwrap();
    assert_eq!(
        url,
        format!(
            "https://oapi.dingtalk.com/robot/send?access_token=XXXXXX&timestamp={timestamp}&sign={theirs}"
        )
    );
}

struct Directory(HashMap<String, String>);

impl Names for Directory {
    fn community(&self, id: CommunityId) -> Option<String> {
        self.0.get(&id.to_string()).cloned()
    }
    fn department(&self, id: DepartmentId) -> Option<String> {
        self.0.get(&id.to_string()).cloned()
    }
}

fn names() -> Directory {
    Directory(HashMap::from([
        ("C7".to_string(), "梅林社区".to_string()),
        ("D12".to_string(), "市消防救援支队".to_string()),
    ]))
}

fn yiyang() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// W1140, a cracked wall reported by 梅林社区, dispatched to the fire brigade.
fn w1140(filed: DateTime<Utc>) -> Whistle {
    let mut w = Whistle::file(
        WhistleId(1140),
        Filing {
            community_id: CommunityId(7),
            street_id: StreetId(2),
            category: "safety".into(),
            title: "危房墙体开裂".into(),
            description: "老屋外墙裂缝一指宽".into(),
            urgency: Urgency::Urgent,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        },
        "梅林社区",
        filed,
        &shaozi_shared::Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
    );
    w.status = WhistleStatus::Dispatched;
    w.department_id = Some(DepartmentId(12));
    w.dispatched_at = Some(filed + Duration::minutes(2));
    w
}

fn event(kind: EventKind, w: &Whistle, actor: (&str, &str), note: Option<&str>) -> Event {
    Event {
        seq: 5021,
        kind,
        at: w.updated_at,
        actor: Actor {
            name: actor.0.into(),
            role: actor.1.into(),
        },
        subject: w.id.to_string(),
        note: note.map(str::to_string),
        record: serde_json::to_value(w).unwrap(),
        scope: Default::default(),
    }
}

/// Compares with the golden file, or writes it when `SHAOZI_UPDATE_GOLDEN=1`.
fn golden(name: &str, got: &serde_json::Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name);
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("SHAOZI_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SHAOZI_UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(text, want, "{name}");
}

#[test]
fn robots_read_an_overdue_case_as_the_issue_shows_it() {
    let filed = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
    let mut w = w1140(filed);
    w.overdue = true;
    w.respond_late = true;
    let now = w.respond_by + Duration::minutes(127);
    let e = event(
        EventKind::WhistleOverdue,
        &w,
        ("system", "system"),
        Some("the deadline to report for duty (2026-12-01 06:30 UTC) has passed"),
    );
    let text = phone_text(&e, now, yiyang(), &names()).unwrap();
    assert_eq!(
        text.line(),
        "【超时】W1140 危房墙体开裂 · 梅林社区 · 市消防救援支队 · 超时 2小时07分"
    );
    assert_eq!(text.note, None, "the clock's English note stays out");
    golden("wecom_overdue.json", &text.wecom());
    golden("dingtalk_overdue.json", &text.dingtalk());
}

#[test]
fn robots_read_a_warning_and_a_request_for_more_time() {
    let filed = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
    let w = w1140(filed);
    let soon = phone_text(
        &event(EventKind::WhistleDueSoon, &w, ("system", "system"), None),
        w.respond_by - Duration::minutes(6),
        yiyang(),
        &names(),
    )
    .unwrap();
    assert_eq!(
        soon.line(),
        "【即将到期】W1140 危房墙体开裂 · 梅林社区 · 市消防救援支队 · 剩余 6分（12-01 14:30 截止）"
    );
    golden("wecom_due_soon.json", &soon.wecom());
    let mut acked = w.clone();
    acked.status = WhistleStatus::Acknowledged;
    acked.pending_extension = Some(shaozi_shared::case::ExtensionRequest {
        until: filed + Duration::days(3),
        reason: "需房屋安全鉴定".into(),
        at: filed + Duration::hours(5),
        was_late: false,
    });
    let asked = phone_text(
        &event(
            EventKind::WhistleExtensionRequested,
            &acked,
            ("市消防救援支队专干", "department"),
            Some("until 2026-12-04 06:00 UTC: 需房屋安全鉴定，鉴定机构周四到场"),
        ),
        filed + Duration::hours(5),
        yiyang(),
        &names(),
    )
    .unwrap();
    golden("dingtalk_extension_requested.json", &asked.dingtalk());
    // Not every event is for a robot.
    let mut token = event(EventKind::TokenCreated, &w, ("admin", "admin"), None);
    token.record = serde_json::json!({"name": "x"});
    assert_eq!(phone_text(&token, filed, yiyang(), &names()), None);
}
