//! Filing from the dashboard (issue 27): a community files a whistle and posts a wish, the
//! city office files one for a resident, a subscription is made and deleted on 推送; each form
//! checks what the server will, keeps what was typed, and comes back with a refusal in it.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;
use serde_json::json;

use shaozi_shared::{Role, Scope};
use shaozi_tui::app::{update, App, Effect, Msg, Refusal, View};
use shaozi_tui::i18n::Lang;
use shaozi_tui::prompt::form::FormKind;
use shaozi_tui::prompt::{Prompt, Then};

fn form(a: &App) -> &shaozi_tui::prompt::Form {
    match &a.prompt {
        Some(Prompt::Form(f)) => f,
        other => panic!("no form: {other:?}"),
    }
}

/// Types into the focused field, then Tab.
fn fill(a: &mut App, text: &str) {
    typed(a, text);
    key(a, KeyCode::Tab);
}

#[test]
fn a_community_files_a_whistle_for_its_own_community() {
    let mut a = community_app(Lang::Zh, 120, 40);
    assert!(key(&mut a, KeyCode::Char('n')).is_empty());
    let f = form(&a);
    assert_eq!(f.kind, FormKind::Whistle);
    assert_eq!(
        f.fields[0].chosen().map(|c| c.value.as_str()),
        Some("C1"),
        "its own community, fixed"
    );
    assert!(f.field("source").is_none(), "a community's own whistle");
    assert_eq!(f.fields[f.focus].name, "category");
    let screen = render(&a);
    assert!(
        screen.contains("吹哨立案") && screen.contains("朝阳路社区 · 桃花仑街道"),
        "{screen}"
    );

    fill(&mut a, "路灯");
    // Nothing typed in the title: Enter on the last field says so, on the title.
    for _ in 0..6 {
        key(&mut a, KeyCode::Tab);
    }
    let f = form(&a);
    assert_eq!(f.fields[f.focus].name, "category", "Tab goes round");
    key(&mut a, KeyCode::BackTab);
    assert_eq!(form(&a).fields[form(&a).focus].name, "reporter.phone");
    assert!(key(&mut a, KeyCode::Enter).is_empty(), "nothing sent");
    let f = form(&a);
    assert_eq!(f.fields[f.focus].name, "title");
    assert_eq!(f.error.as_deref(), Some("标题不能为空"));

    fill(&mut a, "朝阳路三盏路灯不亮");
    fill(&mut a, "");
    fill(&mut a, "朝阳路12号");
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Tab);
    fill(&mut a, "王阿姨");
    typed(&mut a, "138-0013-8000");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File {
        kind,
        body,
        key: Some(k),
        ..
    }] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(*kind, FormKind::Whistle);
    assert!(k.starts_with("tui-"), "{k}");
    assert_eq!(
        body,
        &json!({
            "community_id": "C1",
            "category": "lighting",
            "title": "朝阳路三盏路灯不亮",
            "description": "朝阳路三盏路灯不亮",
            "urgency": "urgent",
            "address": "朝阳路12号",
            "lat": null,
            "long": null,
            "media_url": null,
            "reporter": {"name": "王阿姨", "phone": "138-0013-8000"},
            "attributes": {}
        })
    );
    assert_eq!(a.prompt, None);
}

#[test]
fn a_refused_form_comes_back_with_the_field_at_fault_and_a_sent_one_is_listed() {
    let mut a = community_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('n'));
    fill(&mut a, "路灯");
    fill(&mut a, "路灯不亮");
    for _ in 0..4 {
        key(&mut a, KeyCode::Tab);
    }
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File { draft, key: k, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let k = k.clone();
    update(
        &mut a,
        Msg::Filed {
            kind: FormKind::Whistle,
            result: Err(Refusal {
                status: 422,
                detail: "title: at most 100 characters".into(),
                code: Some("too_long".into()),
                field: Some("title".into()),
                ..Default::default()
            }),
            draft: draft.clone(),
        },
    );
    let f = form(&a);
    assert_eq!(f.fields[f.focus].name, "title");
    assert_eq!(f.error.as_deref(), Some("标题太长，最多 100 字"));
    assert_eq!(f.field("title").unwrap().typed(), "路灯不亮", "kept");
    assert!(a.flash.clone().unwrap().text.starts_with("未能立案"));
    // Sent again, the same key: a lost answer files nothing twice.
    for _ in 0..10 {
        if form(&a).fields[form(&a).focus].name == "reporter.phone" {
            break;
        }
        key(&mut a, KeyCode::Tab);
    }
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File { key: again, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(again, &k);

    // Filed: said, and in the community's list at once.
    let mut w = whistle(
        1020,
        1,
        "lighting",
        shaozi_shared::Urgency::Normal,
        0,
        "路灯不亮",
    );
    w.version = 1;
    update(
        &mut a,
        Msg::Filed {
            kind: FormKind::Whistle,
            result: Ok(serde_json::to_value(&w).unwrap()),
            draft: Box::new(shaozi_tui::app::Draft {
                prompt: Prompt::Filter {
                    editor: Default::default(),
                    hint: String::new(),
                },
            }),
        },
    );
    assert_eq!(
        a.flash.clone().unwrap().text,
        "已立案 W1020：路灯不亮（朝阳路社区 · 路灯照明）"
    );
    assert!(render(&a).contains("W1020"), "{}", render(&a));
}

#[test]
fn esc_puts_a_form_away_with_what_was_typed() {
    let mut a = community_app(Lang::En, 120, 40);
    key(&mut a, KeyCode::Char('n'));
    fill(&mut a, "light");
    typed(&mut a, "Three lamps out");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.prompt, None);
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(form(&a).field("title").unwrap().typed(), "Three lamps out");
}

#[test]
fn the_city_office_files_for_a_resident_and_says_how_it_came_in() {
    let mut a = app(Lang::Zh, 120, 40);
    update(&mut a, me(Role::Admin, Scope::City));
    key(&mut a, KeyCode::Char('n'));
    fill(&mut a, "梓山");
    fill(&mut a, "噪声");
    fill(&mut a, "夜间施工");
    fill(&mut a, "");
    fill(&mut a, "");
    fill(&mut a, "");
    // Source: hotline first; → walk-in.
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(body["community_id"], "C2");
    assert_eq!(body["category"], "noise");
    assert_eq!(body["source"], "walk_in");
    assert_eq!(body["reporter"], serde_json::Value::Null);

    // A department may not file: said, no form, not offered.
    let mut d = department_app(Lang::Zh, 120, 40);
    assert!(key(&mut d, KeyCode::Char('n')).is_empty());
    assert_eq!(d.prompt, None);
    assert!(d.flash.clone().unwrap().text.contains("不能立案"));
    assert!(!render(&d)
        .lines()
        .last()
        .unwrap_or_default()
        .contains("新建"));
}

/// Issue 28: a street's dispatcher files for the communities of its own street, its own
/// whistle unless it says otherwise.
#[test]
fn a_street_files_for_its_own_communities() {
    let mut a = app(Lang::Zh, 120, 40);
    update(
        &mut a,
        me(Role::Dispatcher, Scope::Street(shaozi_shared::StreetId(2))),
    );
    assert!(render(&a)
        .lines()
        .last()
        .unwrap_or_default()
        .contains("n 新建"));
    key(&mut a, KeyCode::Char('n'));
    let f = form(&a);
    let Some(shaozi_tui::prompt::form::FieldKind::Pick { options, .. }) =
        f.field("community_id").map(|f| &f.kind)
    else {
        panic!("{f:?}")
    };
    let names: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
    assert_eq!(names, ["龙洲村 · 赫山街道"], "its own street's only");
    assert_eq!(
        f.field("source")
            .and_then(|s| s.chosen())
            .map(|c| c.value.as_str()),
        Some("street")
    );
}

#[test]
fn a_community_posts_a_wish_with_its_value_in_yuan() {
    let mut a = community_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(form(&a).kind, FormKind::Wish);
    fill(&mut a, "给独居老人装一个扶手");
    fill(&mut a, "");
    typed(&mut a, "三十五");
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert!(form(&a).error.clone().unwrap().contains("价值写元数"));
    for _ in 0..3 {
        key(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "¥35.5");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File { kind, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*kind, FormKind::Wish);
    assert_eq!(
        body,
        &json!({"community_id": "C1", "title": "给独居老人装一个扶手", "description": null, "value_fen": 3550})
    );
}

#[test]
fn a_subscription_is_made_and_deleted_on_the_webhooks_screen() {
    let mut a = app(Lang::Zh, 120, 40);
    update(&mut a, me(Role::Admin, Scope::City));
    key(&mut a, KeyCode::Char('6'));
    assert_eq!(a.view, View::Webhooks);
    update(&mut a, Msg::Webhooks(Ok(Vec::new())));
    assert!(render(&a).contains("按 n 新建"));
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(form(&a).kind, FormKind::Webhook);
    fill(&mut a, "梅林街道值班群");
    fill(
        &mut a,
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
    );
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Tab);
    for _ in 0..2 {
        key(&mut a, KeyCode::Backspace);
    }
    fill(&mut a, "whistle.overdue whistle.dispatched");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::File {
        kind, body, key, ..
    }] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!((*kind, key.clone()), (FormKind::Webhook, None));
    assert_eq!(
        body,
        &json!({"name": "梅林街道值班群", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "events": ["whistle.overdue", "whistle.dispatched"], "scope": null, "format": "wecom", "secret": null})
    );

    update(
        &mut a,
        Msg::Webhooks(Ok(vec![hook("H3", "梅林街道值班群")])),
    );
    assert!(common::key(&mut a, KeyCode::Char('X')).is_empty());
    let Some(Prompt::Sure { question, then }) = &a.prompt else {
        panic!("{:?}", a.prompt)
    };
    assert!(
        question.contains("删除订阅 H3「梅林街道值班群」"),
        "{question}"
    );
    assert_eq!(then, &Then::DeleteWebhook("H3".into()));
    assert!(
        common::key(&mut a, KeyCode::Char('n')).is_empty(),
        "n keeps it"
    );
    assert_eq!(a.prompt, None);
    common::key(&mut a, KeyCode::Char('X'));
    let fx = common::key(&mut a, KeyCode::Char('y'));
    assert_eq!(fx, [Effect::DeleteWebhook("H3".into())]);
    let fx = update(&mut a, Msg::WebhookDeleted("H3".into(), Ok(())));
    assert!(fx.contains(&Effect::FetchWebhooks));
    assert_eq!(a.flash.clone().unwrap().text, "已删除订阅 H3，不再推送");
}

fn hook(id: &str, name: &str) -> shaozi_shared::api::WebhookInfo {
    shaozi_shared::api::WebhookInfo {
        id: id.into(),
        name: name.into(),
        url: "https://example.org/h".into(),
        events: vec!["*".into()],
        scope: Scope::City,
        format: shaozi_shared::api::HookFormat::Json,
        signed: true,
        created_by: "admin".into(),
        created_at: now(),
        health: Default::default(),
    }
}

#[test]
fn the_new_whistle_form_in_both_languages_80x24_and_120x40() {
    let shot = |lang, w, h| {
        let mut a = community_app(lang, w, h);
        key(&mut a, KeyCode::Char('n'));
        typed(&mut a, if lang == Lang::Zh { "路" } else { "l" });
        key(&mut a, KeyCode::Tab);
        typed(
            &mut a,
            if lang == Lang::Zh {
                "朝阳路三盏路灯不亮"
            } else {
                "Three lamps out"
            },
        );
        render(&a)
    };
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        shot(Lang::Zh, 80, 24),
        shot(Lang::Zh, 120, 40),
        shot(Lang::En, 80, 24),
        shot(Lang::En, 120, 40)
    ));
}

/// Issue 28 §3: K corrects a case's category, urgency and address; the form starts on what the
/// case has, and sends one step.
#[test]
fn a_case_is_reclassified_from_a_form_that_starts_on_what_it_has() {
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.queue.sel, Some(shaozi_shared::WhistleId(1003)));
    key(&mut a, KeyCode::Char('K'));
    let f = form(&a);
    assert_eq!(f.kind, FormKind::Reclassify(shaozi_shared::WhistleId(1003)));
    assert_eq!(
        f.field("category")
            .and_then(|c| c.chosen())
            .map(|c| c.value.as_str()),
        Some("lighting")
    );
    assert_eq!(
        f.field("urgency")
            .and_then(|c| c.chosen())
            .map(|c| c.value.as_str()),
        Some("normal")
    );
    assert_eq!(
        f.field("address").map(|c| c.typed()),
        Some("朝阳路12号".into())
    );
    for _ in 0..8 {
        key(&mut a, KeyCode::Backspace);
    }
    fill(&mut a, "道路");
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    // No reason: said on the field.
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert_eq!(form(&a).error.as_deref(), Some("理由不能为空"));
    typed(&mut a, "现场是路面塌陷");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, shaozi_shared::WhistleId(1003));
    assert_eq!(
        body.json(),
        json!({"category": "roads", "urgency": "urgent", "address": "朝阳路12号", "reason": "现场是路面塌陷"})
    );
}

/// Issue 28 §4: N writes a note, saying first who will read it (内部 or 公开).
#[test]
fn a_note_says_who_reads_it_before_it_is_sent() {
    let mut a = community_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('N'));
    let f = form(&a);
    assert!(matches!(f.kind, FormKind::Note(_)));
    assert_eq!(
        f.field("visibility")
            .and_then(|v| v.chosen())
            .map(|c| c.label.as_str()),
        Some("内部：仅工作人员")
    );
    let screen = render(&a);
    assert!(screen.contains("内部：仅工作人员"), "{screen}");
    key(&mut a, KeyCode::Right);
    assert!(render(&a).contains("公开：社区和群众可见"));
    key(&mut a, KeyCode::Tab);
    typed(&mut a, "居民反映夜里很黑");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        body.json(),
        json!({"text": "居民反映夜里很黑", "visibility": "public"})
    );
}

/// Esc puts a note away with what was typed, and N on the same case brings it back, as the
/// status line says.
#[test]
fn a_note_put_away_comes_back() {
    let mut a = community_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('N'));
    key(&mut a, KeyCode::Tab);
    typed(&mut a, "居民反映夜里很黑");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.prompt, None);
    key(&mut a, KeyCode::Char('N'));
    assert_eq!(
        form(&a).field("text").map(|f| f.typed()),
        Some("居民反映夜里很黑".into())
    );
}
