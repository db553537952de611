//! The webhook subscriptions' screen: what it shows of each subscription's health, and what
//! its keys ask of the server.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::{
    DeliveryFailure, HookFormat, WebhookHealth, WebhookInfo, WebhookTestResult,
};
use shaozi_shared::Scope;
use shaozi_tui::app::{update, Effect, Msg, Refusal, View};
use shaozi_tui::i18n::Lang;
use shaozi_tui::words;

fn hook(id: u64, name: &str, format: HookFormat, events: &[&str]) -> WebhookInfo {
    WebhookInfo {
        id: format!("H{id}"),
        name: name.into(),
        url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        scope: Scope::City,
        format,
        signed: format != HookFormat::Wecom,
        created_by: "admin".into(),
        created_at: now() - chrono::Duration::days(3),
        health: WebhookHealth {
            delivered_seq: 120,
            head_seq: 120,
            lag: 0,
            last_delivered_at: Some(now() - chrono::Duration::minutes(2)),
            ..WebhookHealth::default()
        },
    }
}

/// Three subscriptions: one delivering, one retrying, one paused after a day of failures.
fn hooks() -> Vec<WebhookInfo> {
    let fine = hook(1, "城市运行中心", HookFormat::Json, &["*"]);
    let mut retrying = hook(
        2,
        "桃花仑街道值班群",
        HookFormat::Wecom,
        &["whistle.dispatched", "whistle.overdue"],
    );
    retrying.health.lag = 37;
    retrying.health.delivered_seq = 83;
    retrying.health.failures = 4;
    retrying.health.last_error = Some("answered 503: busy".into());
    retrying.health.last_failure = Some(DeliveryFailure::Status { status: 503 });
    retrying.health.failing_since = Some(now() - chrono::Duration::minutes(3));
    retrying.health.next_retry_at = Some(now() + chrono::Duration::seconds(40));
    let mut paused = hook(
        3,
        "市城管局钉钉群",
        HookFormat::Dingtalk,
        &["whistle.overdue"],
    );
    paused.health.lag = 412;
    paused.health.failures = 161;
    paused.health.paused = true;
    paused.health.paused_at = Some(now() - chrono::Duration::hours(1));
    paused.health.last_error = Some("the robot refused it: 310000 sign not match".into());
    paused.health.last_failure = Some(DeliveryFailure::RobotRefused { errcode: 310000 });
    paused.health.last_delivered_at = Some(now() - chrono::Duration::days(2));
    vec![fine, retrying, paused]
}

fn on_hooks(lang: Lang, w: u16, h: u16) -> shaozi_tui::app::App {
    let mut a = app(lang, w, h);
    let fx = key(&mut a, KeyCode::Char('6'));
    assert_eq!(a.view, View::Webhooks);
    assert_eq!(
        fx,
        vec![Effect::FetchWebhooks],
        "entering it asks for the list"
    );
    update(&mut a, Msg::Webhooks(Ok(hooks())));
    a
}

#[test]
fn subscriptions_with_their_health_80x24_and_120x40() {
    let zh = render(&on_hooks(Lang::Zh, 80, 24));
    let en = render(&on_hooks(Lang::En, 120, 40));
    insta::assert_snapshot!(format!("{zh}\n{en}"));
}

#[test]
fn r_resumes_only_a_paused_one_and_t_sends_a_test() {
    let mut a = on_hooks(Lang::Zh, 120, 40);
    // The first is delivering: nothing to resume, and it says so.
    assert!(key(&mut a, KeyCode::Char('R')).is_empty());
    assert!(
        a.flash.as_ref().unwrap().text.contains("没有暂停"),
        "{:?}",
        a.flash
    );
    let fx = key(&mut a, KeyCode::Char('T'));
    assert_eq!(fx, vec![Effect::TestWebhook("H1".into())]);
    update(
        &mut a,
        Msg::WebhookTested(
            "H1".into(),
            Ok(WebhookTestResult {
                delivered: false,
                status: Some(410),
                detail: "answered 410: gone".into(),
                failure: Some(DeliveryFailure::Status { status: 410 }),
            }),
        ),
    );
    let f = a.flash.clone().unwrap();
    assert!(
        f.error && f.text.contains("H1 测试消息未送达：对方回应 410：gone"),
        "{f:?}"
    );
    // The paused one: R asks the server, and the answer puts it back to delivering.
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    let fx = key(&mut a, KeyCode::Char('R'));
    assert_eq!(fx, vec![Effect::ResumeWebhook("H3".into())]);
    let mut back = hooks().remove(2);
    back.health.paused = false;
    back.health.paused_at = None;
    let fx = update(&mut a, Msg::WebhookResumed("H3".into(), Ok(Box::new(back))));
    assert_eq!(fx, vec![Effect::FetchWebhooks]);
    assert!(!a.hooks.items.as_ref().unwrap()[2].health.paused);
    assert!(a.flash.as_ref().unwrap().text.contains("H3 已恢复推送"));
    // The selection stays on its subscription when the list comes back in another order.
    let mut reordered = hooks();
    reordered.rotate_left(1);
    update(&mut a, Msg::Webhooks(Ok(reordered)));
    assert_eq!(a.hooks.items.as_ref().unwrap()[a.hooks.list.sel].id, "H3");
}

#[test]
fn live_events_refresh_the_lag_and_a_viewer_is_told_why_it_sees_none() {
    let mut a = on_hooks(Lang::En, 80, 24);
    let w = queue().remove(0);
    let fx = update(&mut a, event("whistle.dispatched", &w, 500));
    assert!(fx.contains(&Effect::FetchWebhooks), "{fx:?}");
    // Elsewhere, events do not ask for the subscriptions.
    key(&mut a, KeyCode::Char('1'));
    let fx = update(&mut a, event("whistle.dispatched", &w, 501));
    assert!(!fx.contains(&Effect::FetchWebhooks));
    key(&mut a, KeyCode::Char('6'));
    update(
        &mut a,
        Msg::Webhooks(Err(Refusal::plain(
            403,
            "大屏 (viewer) may not subscribe to events (read-only)",
        ))),
    );
    // Issue 27, bug 16: said in the dashboard's language, not the server's English.
    let screen = render(&a);
    assert!(
        screen.contains("A viewer may not see webhook subscriptions"),
        "{screen}"
    );
    assert!(!screen.contains("may not subscribe"), "{screen}");
    // Nothing to select: it says a subscription, not a whistle.
    key(&mut a, KeyCode::Char('T'));
    assert_eq!(a.flash.as_ref().unwrap().text, "no subscription selected");
}

#[test]
fn a_failed_delivery_is_worded_in_chinese_keeping_what_the_receiver_said() {
    let zh = |f: DeliveryFailure, detail: &str| words::delivery_failure(Lang::Zh, Some(&f), detail);
    assert_eq!(
        zh(DeliveryFailure::Timeout, "no answer in time"),
        "对方超时未应答"
    );
    assert_eq!(
        zh(
            DeliveryFailure::Connect,
            "could not connect: error sending request: tcp connect error: Connection refused"
        ),
        "连接不上（error sending request: tcp connect error: Connection refused）"
    );
    assert_eq!(
        zh(
            DeliveryFailure::Status { status: 503 },
            "answered 503: 服务暂时不可用"
        ),
        "对方回应 503：服务暂时不可用"
    );
    assert_eq!(
        zh(DeliveryFailure::Status { status: 302 }, "answered 302: "),
        "对方回应 302"
    );
    assert_eq!(
        zh(
            DeliveryFailure::RobotRefused { errcode: 310000 },
            "the robot refused it: 310000 keywords not in content"
        ),
        "机器人拒收：310000 keywords not in content"
    );
    assert!(zh(DeliveryFailure::Secret, "no key").contains("SHAOZI_WEBHOOK_KEY"));
    assert_eq!(
        zh(DeliveryFailure::Other, "error decoding response body"),
        "发送失败（error decoding response body）"
    );
    // English shows the server's words with their cause; a state from before kinds, as it is.
    assert_eq!(
        words::delivery_failure(
            Lang::En,
            Some(&DeliveryFailure::Timeout),
            "no answer in time"
        ),
        "no answer in time"
    );
    assert_eq!(
        words::delivery_failure(Lang::Zh, None, "answered 500: oops"),
        "answered 500: oops"
    );
}

#[test]
fn a_subscription_whose_owner_was_revoked_is_marked_and_says_what_to_do() {
    let mut orphan = hook(4, "朝阳路社区群", HookFormat::Wecom, &["whistle.created"]);
    orphan.created_by = "朝阳路社区书记".into();
    orphan.health.lag = 5;
    orphan.health.owner = shaozi_shared::api::OwnerStanding::Revoked;
    let mut shown = Vec::new();
    for (lang, w, h) in [(Lang::Zh, 80, 24), (Lang::Zh, 120, 40), (Lang::En, 120, 40)] {
        let mut a = on_hooks(lang, w, h);
        let mut items = hooks();
        items.push(orphan.clone());
        update(&mut a, Msg::Webhooks(Ok(items)));
        shown.push(render(&a));
    }
    assert!(shown[1].contains("待接管"), "{}", shown[1]);
    assert!(
        shown[1].contains("令牌 朝阳路社区书记 已吊销"),
        "{}",
        shown[1]
    );
    assert!(shown[2].contains("orphaned"), "{}", shown[2]);
    assert!(
        shown[2].contains("owner 朝阳路社区书记 revoked"),
        "{}",
        shown[2]
    );
    insta::assert_snapshot!(shown.join("\n"));
}

/// Issue 27, bug 5: the screen follows its subscriptions while shown (deliveries and pauses
/// come with no event), every few seconds, and stops asking once it is left.
#[test]
fn the_webhooks_screen_follows_its_subscriptions_while_shown() {
    let mut a = on_hooks(Lang::Zh, 120, 40);
    let every = chrono::Duration::seconds(shaozi_tui::app::WEBHOOKS_EVERY_SECS);
    assert!(a.next_wake() <= now() + every, "{}", a.next_wake());
    let fx = update(&mut a, Msg::Tick(now() + every));
    assert_eq!(fx, vec![Effect::FetchWebhooks]);
    key(&mut a, KeyCode::Char('1'));
    assert_eq!(a.next_wake(), now() + chrono::Duration::minutes(1));
    assert!(update(&mut a, Msg::Tick(now() + every * 2)).is_empty());
}

/// Issue 27: Enter on a subscription says all of it: where it goes, for which part of the city,
/// and its last error whole (the row cuts it).
#[test]
fn enter_says_all_of_a_subscription() {
    let mut a = on_hooks(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('j'));
    let w = a.hooks.items.as_ref().unwrap()[1].clone();
    key(&mut a, KeyCode::Enter);
    let said = a.flash.clone().unwrap().text;
    assert!(said.starts_with(&format!("{} {}", w.id, w.name)), "{said}");
    assert!(said.contains(&w.url), "{said}");
    if let Some(e) = &w.health.last_error {
        assert!(said.contains(e.as_str()), "{said}");
    }
}
