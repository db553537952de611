//! Filing from the dashboard (`n`): a whistle (a community blows it; the city office or a
//! street files one for a resident who phoned or walked in), a wish, a webhook subscription on
//! the 推送 screen; and deleting a subscription there, after a question. The forms are
//! `crate::prompt::form`; this says which fields each has, checks them as the server will,
//! and builds the request. The answer is taken in `crate::incoming::on_filed`.

use std::hash::{BuildHasher, Hasher};

use crossterm::event::{KeyCode, KeyEvent};
use serde_json::Value;

use shaozi_shared::api::{NewWebhook, NewWhistle, NewWish};
use shaozi_shared::case::Source;
use shaozi_shared::text::{self, Rule};
use shaozi_shared::whistle::Reporter;
use shaozi_shared::{CommunityId, Op, Scope, Urgency};

use crate::app::App;
use crate::i18n::Lang;
use crate::message::{Draft, Effect, View};
use crate::prompt::form::{Choice, Field, FieldKind, Form, FormKey, FormKind};
use crate::prompt::{Prompt, Then};

/// `n`: the form for what the shown screen files, or why there is none.
pub(crate) fn start(app: &mut App) -> Vec<Effect> {
    let kind = kind_here(app);
    if !allowed(app, kind) {
        let (zh, en) = match kind {
            FormKind::Whistle => (
                "你的身份不能立案：吹哨由社区或街道发起，或由调度中心代居民立案",
                "your role may not file whistles: a community or a street blows the whistle, or a dispatcher files one for a resident",
            ),
            FormKind::Wish => (
                "你的身份不能发布心愿：心愿由社区发布",
                "your role may not post wishes: communities post them",
            ),
            FormKind::Webhook => (
                "查看者不能订阅推送",
                "a viewer may not subscribe to events",
            ),
            FormKind::Reclassify(_) => ("你的身份不能改类", "your role may not reclassify"),
            FormKind::Note(_) => ("你的身份不能写备注", "your role may not write notes"),
        };
        app.warn_in(zh, en);
        return Vec::new();
    }
    // What was typed before Esc comes back.
    let form = match app.draft.take() {
        Some(Prompt::Form(f)) if f.kind == kind => *f,
        other => {
            app.draft = other;
            match kind {
                FormKind::Whistle => whistle_form(app),
                FormKind::Wish => wish_form(app),
                FormKind::Webhook => webhook_form(app),
                FormKind::Reclassify(_) | FormKind::Note(_) => return Vec::new(),
            }
        }
    };
    app.prompt = Some(Prompt::Form(Box::new(form)));
    Vec::new()
}

/// What `n` files on the screen shown.
fn kind_here(app: &App) -> FormKind {
    match app.view {
        View::Wishes => FormKind::Wish,
        View::Webhooks => FormKind::Webhook,
        _ => FormKind::Whistle,
    }
}

fn allowed(app: &App, kind: FormKind) -> bool {
    match kind {
        FormKind::Whistle => app.may(Op::FileWhistle),
        FormKind::Wish => app.may(Op::FileWish),
        FormKind::Webhook => app
            .me
            .as_ref()
            .is_none_or(|m| m.role != shaozi_shared::Role::Viewer),
        FormKind::Reclassify(_) => app.may(Op::Dispatch),
        FormKind::Note(_) => app.may(Op::Note),
    }
}

/// Whether `n` files something here for this token (the key line offers it only then).
pub(crate) fn offered(app: &App) -> bool {
    allowed(app, kind_here(app))
}

/// A fresh Idempotency-Key: random, so two dashboards of one token never share one.
fn new_key() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("tui-{random:016x}")
}

fn label(lang: Lang, zh: &str, en: &str) -> String {
    if lang == Lang::Zh { zh } else { en }.to_string()
}

fn choices(items: &[(&str, &str, &str)], lang: Lang) -> Vec<Choice> {
    items
        .iter()
        .map(|(value, zh, en)| Choice {
            value: value.to_string(),
            label: label(lang, zh, en),
        })
        .collect()
}

/// The community field: fixed for a community's own token, else the communities in scope.
fn community_field(app: &App) -> Field {
    let lang = app.lang;
    let name = label(lang, "社区", "Community");
    let dir = &app.model.dir;
    let scope = app.me.as_ref().map(|m| m.scope);
    let option = |id: CommunityId| Choice {
        value: id.to_string(),
        label: dir
            .communities
            .get(&id)
            .map(|c| format!("{} · {}", c.name, dir.street(c.street_id)))
            .unwrap_or_else(|| id.to_string()),
    };
    if let Some(Scope::Community(own)) = scope {
        return Field::fixed("community_id", name, option(own));
    }
    let mut options: Vec<Choice> = dir
        .communities
        .values()
        .filter(|c| match scope {
            Some(Scope::Street(s)) => c.street_id == s,
            _ => true,
        })
        .map(|c| option(c.id))
        .collect();
    options.sort_by_cached_key(|c| crate::text::reading_key(&c.label));
    Field::pick("community_id", name, options)
}

/// The category field: every category by its name in the UI's language, in reading order.
fn category_field(app: &App) -> Field {
    let dir = &app.model.dir;
    let mut categories: Vec<Choice> = dir
        .categories
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: dir.category(&c.code, app.lang),
        })
        .collect();
    categories.sort_by_cached_key(|c| crate::text::reading_key(&c.label));
    Field::pick("category", label(app.lang, "类别", "Category"), categories)
}

fn whistle_form(app: &App) -> Form {
    let lang = app.lang;
    let own_community = matches!(app.me.as_ref().map(|m| m.scope), Some(Scope::Community(_)));
    let mut fields = vec![
        community_field(app),
        category_field(app),
        Field::text("title", label(lang, "标题", "Title"), true),
        Field::text(
            "description",
            label(lang, "描述（可不填）", "Description"),
            false,
        ),
        Field::text("address", label(lang, "地址", "Address"), false),
        Field::cycle(
            "urgency",
            label(lang, "紧急程度", "Urgency"),
            choices(
                &[("normal", "一般", "normal"), ("urgent", "紧急", "urgent")],
                lang,
            ),
        ),
    ];
    // A community's own whistle is its own source; anyone else files for a resident and says
    // how the problem came in.
    if !own_community {
        let mut sources = vec![
            ("hotline", "12345 热线", "12345 hotline"),
            ("walk_in", "来访", "walk-in"),
            ("grid", "网格员", "grid worker"),
            ("other", "其他", "other"),
        ];
        // A street's dispatcher mostly blows its own whistle.
        if matches!(app.me.as_ref().map(|m| m.scope), Some(Scope::Street(_))) {
            sources.insert(0, ("street", "街道吹哨", "the street's own"));
        }
        fields.push(Field::cycle(
            "source",
            label(lang, "来源", "Source"),
            choices(&sources, lang),
        ));
    }
    fields.push(Field::text(
        "reporter.name",
        label(lang, "报告人（不公开）", "Reporter (never public)"),
        false,
    ));
    fields.push(Field::text(
        "reporter.phone",
        label(lang, "电话（不公开）", "Phone (never public)"),
        false,
    ));
    Form::new(FormKind::Whistle, fields, new_key())
}

fn wish_form(app: &App) -> Form {
    let lang = app.lang;
    let fields = vec![
        community_field(app),
        Field::text("title", label(lang, "心愿", "Wish"), true),
        Field::text(
            "description",
            label(lang, "说明（可不填）", "More (optional)"),
            false,
        ),
        Field::text(
            "value_fen",
            label(lang, "价值（元，可不填）", "Value in yuan (optional)"),
            false,
        ),
    ];
    Form::new(FormKind::Wish, fields, new_key())
}

fn webhook_form(app: &App) -> Form {
    let lang = app.lang;
    let fields = vec![
        Field::text("name", label(lang, "名称", "Name"), true),
        Field::text("url", label(lang, "地址（URL）", "URL"), true),
        Field::cycle(
            "format",
            label(lang, "格式", "Format"),
            choices(
                &[
                    ("json", "JSON（签名）", "JSON (signed)"),
                    ("wecom", "企业微信机器人", "WeCom robot"),
                    ("dingtalk", "钉钉机器人", "DingTalk robot"),
                ],
                lang,
            ),
        ),
        Field::prefilled(
            "events",
            label(lang, "事件（* 为全部）", "Events (* for all)"),
            "*",
        ),
        Field::text(
            "secret",
            label(lang, "密钥（可不填）", "Secret (optional)"),
            false,
        ),
    ];
    Form::new(FormKind::Webhook, fields, String::new())
}

/// The correction form for `w` (改类): its category, urgency and address as they are, to
/// change, and why.
pub(crate) fn reclassify_form(app: &App, w: &shaozi_shared::Whistle) -> Form {
    let lang = app.lang;
    let mut category = category_field(app);
    // Its own code matches itself first: the field starts on the category it has.
    category.editor = crate::editor::LineEditor::with(&w.category);
    let mut urgency = Field::cycle(
        "urgency",
        label(lang, "紧急程度", "Urgency"),
        choices(
            &[("normal", "一般", "normal"), ("urgent", "紧急", "urgent")],
            lang,
        ),
    );
    if let FieldKind::Cycle { sel, .. } = &mut urgency.kind {
        *sel = usize::from(w.urgency == Urgency::Urgent);
    }
    let fields = vec![
        category,
        urgency,
        Field::prefilled(
            "address",
            label(lang, "地址", "Address"),
            w.address.as_deref().unwrap_or_default(),
        ),
        Field::text("reason", label(lang, "理由", "Why"), true),
    ];
    let mut form = Form::new(FormKind::Reclassify(w.id), fields, String::new());
    form.focus = 0;
    form
}

/// A note on `id`: who may read it said first (内部 staff only, or 公开 for everyone who
/// follows the case), then the words.
pub(crate) fn note_form(app: &App, id: shaozi_shared::WhistleId) -> Form {
    let lang = app.lang;
    let fields = vec![
        Field::cycle(
            "visibility",
            label(lang, "谁能看到", "Who reads it"),
            choices(
                &[
                    ("internal", "内部：仅工作人员", "internal: staff only"),
                    (
                        "public",
                        "公开：社区和群众可见",
                        "public: the community and residents",
                    ),
                ],
                lang,
            ),
        ),
        Field::text("text", label(lang, "备注", "Note"), true),
    ];
    Form::new(FormKind::Note(id), fields, String::new())
}

/// A problem with a field: its name and what to say.
type Problem = (&'static str, String);

/// Checks a text field as the server will, worded as the server's refusal would be.
fn checked(
    lang: Lang,
    form: &Form,
    name: &'static str,
    rule: Rule,
) -> Result<Option<String>, Problem> {
    let field = form.field(name);
    let value = field.map(|f| f.typed()).unwrap_or_default();
    let required = field.is_some_and(|f| matches!(f.kind, FieldKind::Text { required: true }));
    let result = if required {
        text::required(name, &value, rule).map(Some)
    } else {
        text::optional(name, Some(&value), rule)
    };
    result.map_err(|e| {
        let r = match &e {
            shaozi_shared::RuleError::Invalid { code, .. } => crate::refusal::Refusal {
                status: 422,
                detail: e.to_string(),
                code: Some(code.as_str().to_string()),
                field: Some(name.to_string()),
                ..Default::default()
            },
            _ => crate::refusal::Refusal::plain(422, e.to_string()),
        };
        (name, crate::words::refusal_reason(lang, "", &r))
    })
}

fn chosen<'a>(lang: Lang, form: &'a Form, name: &'static str) -> Result<&'a Choice, Problem> {
    let field = form.field(name);
    field.and_then(|f| f.chosen()).ok_or_else(|| {
        let what = field.map(|f| f.label.clone()).unwrap_or_default();
        let typed = field.map(|f| f.typed()).unwrap_or_default();
        let said = match (typed.is_empty(), lang) {
            (true, Lang::Zh) => format!("请选择{what}：输入几个字筛选，← → 换一个"),
            (true, Lang::En) => format!("choose the {what}: type a few letters, ← → for another"),
            (false, Lang::Zh) => format!("没有与“{typed}”匹配的{what}"),
            (false, Lang::En) => format!("no {what} matches {typed:?}"),
        };
        (name, said)
    })
}

/// Whole yuan, or yuan and jiao/fen (`120`, `120.5`, `¥1,600.00`), as fen; blank is 0.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s: String = s
        .trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
    {
        return None;
    }
    let yuan: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fen: i64 = format!("{frac:0<2}").parse().ok()?;
    yuan.checked_mul(100)?.checked_add(fen)
}

/// The request a form makes, or the first field at fault.
pub fn build(lang: Lang, form: &Form) -> Result<Value, Problem> {
    let zh = lang == Lang::Zh;
    let value = match form.kind {
        FormKind::Whistle => {
            let community = chosen(lang, form, "community_id")?;
            let community_id: CommunityId = community
                .value
                .parse()
                .map_err(|_| ("community_id", community.value.clone()))?;
            let category = chosen(lang, form, "category")?.value.clone();
            let title = checked(lang, form, "title", text::TITLE)?.unwrap_or_default();
            let description = checked(lang, form, "description", text::DESCRIPTION)?
                .unwrap_or_else(|| title.clone());
            let address = checked(lang, form, "address", text::ADDRESS)?;
            let urgency = match chosen(lang, form, "urgency")?.value.as_str() {
                "urgent" => Urgency::Urgent,
                _ => Urgency::Normal,
            };
            let source = match form.field("source").and_then(|f| f.chosen()) {
                Some(c) => serde_json::from_value::<Source>(Value::String(c.value.clone())).ok(),
                None => None,
            };
            let name = checked(lang, form, "reporter.name", text::PERSON)?;
            let phone = checked(lang, form, "reporter.phone", text::PHONE)?;
            let reporter = (name.is_some() || phone.is_some()).then_some(Reporter {
                name,
                email: None,
                phone,
            });
            serde_json::to_value(NewWhistle {
                community_id,
                category,
                title,
                description,
                urgency,
                address,
                lat: None,
                long: None,
                media_url: None,
                reporter,
                attributes: Default::default(),
                source,
            })
        }
        FormKind::Wish => {
            let community = chosen(lang, form, "community_id")?;
            let community_id: CommunityId = community
                .value
                .parse()
                .map_err(|_| ("community_id", community.value.clone()))?;
            let title = checked(lang, form, "title", text::TITLE)?.unwrap_or_default();
            let description = checked(lang, form, "description", text::DESCRIPTION)?;
            let typed = form
                .field("value_fen")
                .map(|f| f.typed())
                .unwrap_or_default();
            let value_fen = parse_yuan(&typed).ok_or_else(|| {
                let said = if zh {
                    format!("价值写元数，如 120 或 35.5；“{typed}”读不出")
                } else {
                    format!("write the value in yuan, like 120 or 35.5; {typed:?} does not read")
                };
                ("value_fen", said)
            })?;
            serde_json::to_value(NewWish {
                community_id,
                title,
                description,
                value_fen,
            })
        }
        FormKind::Note(_) => {
            let public = chosen(lang, form, "visibility")?.value == "public";
            let text = checked(lang, form, "text", text::NOTE)?.unwrap_or_default();
            serde_json::to_value(shaozi_shared::api::NoteBody {
                text,
                visibility: if public {
                    shaozi_shared::api::Visibility::Public
                } else {
                    shaozi_shared::api::Visibility::Internal
                },
            })
        }
        FormKind::Reclassify(_) => {
            let category = chosen(lang, form, "category")?.value.clone();
            let urgency = match chosen(lang, form, "urgency")?.value.as_str() {
                "urgent" => Urgency::Urgent,
                _ => Urgency::Normal,
            };
            let address = checked(lang, form, "address", text::ADDRESS)?;
            let reason = checked(lang, form, "reason", text::NOTE)?.unwrap_or_default();
            serde_json::to_value(shaozi_shared::api::ReclassifyBody {
                category: Some(category),
                urgency: Some(urgency),
                address,
                reason,
            })
        }
        FormKind::Webhook => {
            let name = checked(lang, form, "name", text::NAME)?.unwrap_or_default();
            let url = checked(lang, form, "url", text::URL)?.unwrap_or_default();
            let format = chosen(lang, form, "format")?.value.clone();
            let typed = form.field("events").map(|f| f.typed()).unwrap_or_default();
            let events: Vec<String> = typed
                .split([',', '，', '、', ' '])
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect();
            if events.is_empty() {
                let said = if zh {
                    "请写要推送的事件，* 为全部".to_string()
                } else {
                    "name the events to send, or * for all".to_string()
                };
                return Err(("events", said));
            }
            let secret = checked(lang, form, "secret", text::NOTE)?;
            let format = serde_json::from_value(Value::String(format)).unwrap_or_default();
            serde_json::to_value(NewWebhook {
                name,
                url,
                events,
                scope: None,
                format,
                secret,
            })
        }
    };
    value.map_err(|e| ("", e.to_string()))
}

/// A key in a form or a yes-or-no question.
pub(crate) fn on_key(app: &mut App, p: Prompt, k: KeyEvent) -> Vec<Effect> {
    match p {
        Prompt::Form(mut form) => {
            if form.key(k) == FormKey::Stay {
                app.prompt = Some(Prompt::Form(form));
                return Vec::new();
            }
            match build(app.lang, &form) {
                // A correction or a note is a step on its case: sent as one, answered as one.
                Ok(body) if matches!(form.kind, FormKind::Reclassify(_) | FormKind::Note(_)) => {
                    let (id, step) = match form.kind {
                        FormKind::Reclassify(id) => (id, shaozi_shared::api::Step::Reclassify),
                        FormKind::Note(id) => (id, shaozi_shared::api::Step::Note),
                        _ => return Vec::new(),
                    };
                    let step_body = match step {
                        shaozi_shared::api::Step::Note => serde_json::from_value(body)
                            .ok()
                            .map(shaozi_shared::api::StepBody::Note),
                        _ => serde_json::from_value(body)
                            .ok()
                            .map(shaozi_shared::api::StepBody::Reclassify),
                    };
                    let Some(b) = step_body else {
                        return Vec::new();
                    };
                    form.error = None;
                    vec![Effect::Act {
                        id,
                        version: None,
                        body: b,
                        draft: Some(Box::new(Draft {
                            prompt: Prompt::Form(form),
                        })),
                    }]
                }
                Ok(body) => {
                    form.error = None;
                    let key = Some(form.key.clone()).filter(|k| !k.is_empty());
                    let kind = form.kind;
                    let draft = Box::new(Draft {
                        prompt: Prompt::Form(form),
                    });
                    app.say_in("正在提交…", "sending…");
                    vec![Effect::File {
                        kind,
                        body,
                        key,
                        draft,
                    }]
                }
                Err((field, said)) => {
                    form.focus_on(field);
                    form.error = Some(said);
                    app.prompt = Some(Prompt::Form(form));
                    Vec::new()
                }
            }
        }
        Prompt::Sure { question, then } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') | KeyCode::Char('Y') => match then {
                Then::DeleteWebhook(id) => vec![Effect::DeleteWebhook(id)],
            },
            KeyCode::Char('n') | KeyCode::Char('N') => Vec::new(),
            _ => {
                app.prompt = Some(Prompt::Sure { question, then });
                Vec::new()
            }
        },
        other => {
            app.prompt = Some(other);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_yuan;

    #[test]
    fn yuan_are_read_as_people_write_them() {
        assert_eq!(parse_yuan(""), Some(0));
        assert_eq!(parse_yuan("120"), Some(12_000));
        assert_eq!(parse_yuan("35.5"), Some(3_550));
        assert_eq!(parse_yuan("¥1,600.00"), Some(160_000));
        assert_eq!(parse_yuan("80元"), Some(8_000));
        assert_eq!(parse_yuan(".5"), Some(50));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("一百"), None);
        assert_eq!(parse_yuan("-5"), None);
        assert_eq!(parse_yuan("."), None);
    }
}
