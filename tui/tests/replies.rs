//! Reply templates in the prompts (issue 29 §3): a department resolves with the city's words,
//! filled from the case, edits them and sends; a dispatcher cannot send a template the case
//! could not fill.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::{ReplyTemplate, Step, StepBody};
use shaozi_shared::templates::TemplateStep;
use shaozi_shared::{DepartmentId, Scope, WhistleId};
use shaozi_tui::app::{update, App, Effect, Msg};
use shaozi_tui::i18n::Lang;

/// A template the department 住建局 keeps for property cases.
fn kept() -> ReplyTemplate {
    ReplyTemplate {
        id: "T1".into(),
        category: Some("property".into()),
        step: TemplateStep::Resolve,
        name: "漏水已修复".into(),
        text: "{address}{title}：已由{staff}修复。".into(),
        owner: Scope::Department(DepartmentId(3)),
        from_rules: false,
        created_by: Some("住建局专干".into()),
        created_at: Some(now()),
        filled: None,
        unfilled: Vec::new(),
    }
}

/// 住建局's dashboard with its own template, the case in progress (W1011, property, 梓山社区,
/// 张伟 and 李娜 on site) selected and the resolve prompt open.
fn resolving(lang: Lang, w: u16, h: u16) -> App {
    let mut a = department_app(lang, w, h);
    let mut all = shaozi_shared::templates::builtin();
    all.push(kept());
    update(&mut a, Msg::Templates(all));
    while a.work.shown[a.work.list.sel].id != WhistleId(1011) {
        key(&mut a, KeyCode::Char('j'));
    }
    key(&mut a, KeyCode::Char('s'));
    a
}

fn line(a: &App) -> String {
    match &a.prompt {
        Some(shaozi_tui::prompt::Prompt::Text { editor, .. }) => editor.text(),
        other => panic!("no text prompt: {other:?}"),
    }
}

#[test]
fn a_department_picks_a_template_edits_it_and_sends() {
    let mut a = resolving(Lang::Zh, 120, 40);
    assert!(render(&a).contains("Tab 选模板（3）"), "{}", render(&a));
    key(&mut a, KeyCode::Tab);
    assert_eq!(
        line(&a),
        "您好，梓山社区反映的“楼顶漏水，三楼住户受影响”已由市住房和城乡建设局张伟、李娜到场处理完毕，请查验。"
    );
    assert!(render(&a).contains("模板 1/3「已处理完毕」Tab 换"));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(
        line(&a),
        "梓山路3号楼顶漏水，三楼住户受影响：已由张伟、李娜修复。"
    );
    assert!(render(&a).contains("模板 3/3「漏水已修复」"));
    // Round again, and back.
    key(&mut a, KeyCode::Tab);
    assert!(line(&a).starts_with("您好，梓山社区"));
    key(&mut a, KeyCode::BackTab);
    assert!(line(&a).ends_with("已由张伟、李娜修复。"));
    // Edited, it is the department's own line.
    typed(&mut a, "明天复查。");
    assert!(render(&a).contains("Tab 选模板（3）"));
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!((*id, body.step()), (WhistleId(1011), Step::Resolve));
    let StepBody::Resolve(b) = body else {
        panic!("{body:?}")
    };
    assert_eq!(
        b.reply,
        "梓山路3号楼顶漏水，三楼住户受影响：已由张伟、李娜修复。明天复查。"
    );
}

#[test]
fn a_template_the_case_cannot_fill_is_not_sent_as_it_is() {
    let mut a = app(Lang::Zh, 120, 40);
    update(&mut a, Msg::Queue(queue()));
    let mut t = kept();
    t.step = TemplateStep::Reject;
    t.category = None;
    t.owner = Scope::City;
    t.text = "{title}已转{department}办理。".into();
    update(&mut a, Msg::Templates(vec![t]));
    // W1002 is new: no department has it yet.
    while a.rows()[a.queue.list.sel].id != 1002 {
        key(&mut a, KeyCode::Char('j'));
    }
    key(&mut a, KeyCode::Char('x'));
    key(&mut a, KeyCode::Tab);
    assert_eq!(line(&a), "下水道堵塞，污水漫到楼道口已转{department}办理。");
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    let flash = a.flash.clone().unwrap();
    assert!(
        flash.error && flash.text.contains("{department} 还没填写"),
        "{}",
        flash.text
    );
    assert!(a.prompt.is_some(), "the line stays to be written over");
}

#[test]
fn no_template_for_the_case_is_said_and_a_kept_one_comes_live() {
    let mut a = app(Lang::En, 120, 40);
    update(&mut a, Msg::Queue(queue()));
    update(&mut a, Msg::Templates(Vec::new()));
    key(&mut a, KeyCode::Char('x'));
    key(&mut a, KeyCode::Tab);
    assert_eq!(line(&a), "");
    assert!(a.flash.clone().unwrap().text.contains("no reply template"));
    // Another unit keeps one: the dashboard loads them again.
    let e = shaozi_shared::Event {
        seq: 9,
        kind: shaozi_shared::EventKind::TemplateSaved,
        at: now(),
        actor: shaozi_shared::Actor {
            name: "admin".into(),
            role: "admin".into(),
        },
        subject: "T1".into(),
        note: None,
        record: serde_json::to_value(kept()).unwrap(),
        scope: Default::default(),
    };
    let fx = update(&mut a, Msg::Event(Box::new(e)));
    assert!(fx.contains(&Effect::FetchTemplates), "{fx:?}");
}

#[test]
fn the_resolve_prompt_with_a_template_80x24_and_120x40_in_both_languages() {
    let shot = |lang, w, h| {
        let mut a = resolving(lang, w, h);
        key(&mut a, KeyCode::Tab);
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
