//! What arrives from the server besides loads: live events, and the answers to steps, each
//! said in the user's language (what the step did, or why it was refused), with a step taken
//! on several cases at once summed up when its last answer is in.

use shaozi_shared::api::Step;
use shaozi_shared::{Event, Whistle, WhistleId, Wish, WishId};

use crate::app::route::context;
use crate::app::App;
use crate::message::{Draft, Effect, View};
use crate::model::Change;
use crate::prompt::form::FormKind;
use crate::prompt::Prompt;
use crate::refusal::Refusal;
use crate::words;

/// A live event: the record it carries updates every list that holds it.
pub(crate) fn on_event(app: &mut App, e: Event) -> Vec<Effect> {
    app.now = app.now.max(e.at);
    app.last_data = Some(app.now);
    let kind = e.kind.as_str();
    let mut fx = vec![Effect::FetchStats];
    // Every event moves the log's head, so the subscriptions' lag.
    if app.view == View::Webhooks {
        fx.push(Effect::FetchWebhooks);
    }
    if let Some(rest) = kind.strip_prefix("whistle.") {
        let Ok(w) = serde_json::from_value::<Whistle>(e.record) else {
            return fx;
        };
        if rest == "overdue" && app.bell {
            fx.push(Effect::Bell);
        }
        // Someone else's answer to one of the token's own cases is said, replacing whatever
        // the status line still said about it.
        let clock = crate::notice::Clock {
            now: app.now,
            tz: app.tz,
        };
        let notice = app.me.as_ref().and_then(|me| {
            crate::notice::of_event(
                app.lang,
                me,
                e.kind,
                &w,
                e.note.as_deref(),
                &app.model.dir,
                clock,
            )
        });
        if let Some(n) = notice {
            if n.warn {
                app.warn(n.text.clone());
            } else {
                app.say(n.text.clone());
            }
            // And kept, counted on the status line until the notices are opened.
            let shown = app.view == View::Notices;
            app.notices.post(n, e.at, w.id, shown);
        }
        fx.extend(whistle_changed(app, w, true));
    } else if kind.starts_with("wish.") {
        if let Ok(w) = serde_json::from_value::<Wish>(e.record) {
            let cx = context!(app);
            app.wishes.changed(&cx, &w);
        }
    } else if kind.starts_with("street.")
        || kind.starts_with("community.")
        || kind.starts_with("department.")
    {
        fx.push(Effect::LoadAll);
    } else if kind.starts_with("template.") {
        fx.push(Effect::FetchTemplates);
    }
    fx
}

/// A newer version of a whistle: into the queue and every list that holds it.
fn whistle_changed(app: &mut App, w: Whistle, live: bool) -> Vec<Effect> {
    let mut fx = Vec::new();
    let (id, dept) = (w.id, w.department_id);
    app.cases.changed(&w);
    app.search.changed(&w);
    app.inbox.changed(&w);
    let cx = context!(app);
    app.work.changed(&cx, &w);
    let change = app.model.queue.upsert(w);
    if change == Change::Added && app.loaded && live {
        app.queue.new_ids.insert(id);
    }
    if change == Change::Removed {
        app.queue.marked.remove(&id);
        app.queue.new_ids.remove(&id);
    }
    if change != Change::Stale {
        app.refilter();
        app.fix_selection();
    }
    if app.detail.shown.as_ref().is_some_and(|d| d.0 == id) {
        fx.push(Effect::FetchDetail(id));
    }
    if let View::DeptCases(d) = app.view {
        if dept == Some(d) && !app.cases.cases.iter().any(|c| c.id == id) {
            fx.push(Effect::FetchDeptCases(d));
        }
    }
    fx
}

/// Records an answer in the batch it belongs to; true when it did (the batch speaks for it).
fn in_batch(app: &mut App, id: WhistleId, refused: Option<String>) -> bool {
    let Some(b) = &mut app.batch else {
        return false;
    };
    if !b.pending.remove(&id) {
        return false;
    }
    match refused {
        Some(why) => b.refused.push((id, why)),
        None => b.done.push(id),
    }
    if b.pending.is_empty() {
        if let Some(b) = app.batch.take() {
            let text = b.summary(app.lang, &app.model.dir);
            if b.refused.is_empty() {
                app.say(text);
            } else {
                app.warn(text);
            }
        }
    }
    true
}

/// The answer to a step on a whistle.
pub(crate) fn on_acted(
    app: &mut App,
    id: WhistleId,
    step: Step,
    result: Result<Box<Whistle>, Refusal>,
    draft: Option<Box<Draft>>,
) -> Vec<Effect> {
    match result {
        Ok(w) => {
            let mut said = words::whistle_done(app.lang, step, &w, &app.model.dir);
            // A granted extension says the deadline it grants, on the city's clock.
            if step == Step::ApproveExtension {
                let until = crate::view::local_time(w.resolve_by, app.now, app.tz);
                said = if app.zh() {
                    format!("{id} 已批准延期：办结时限改为 {until}")
                } else {
                    format!("{id}: extension granted; resolve by {until}")
                };
            }
            if !in_batch(app, id, None) {
                app.say(said);
            }
            app.queue.marked.remove(&id);
            let mut fx = whistle_changed(app, *w, false);
            fx.push(Effect::FetchStats);
            fx
        }
        Err(r) if r.status == 412 => {
            // Someone else changed it first: show the record as it is now, and say so.
            if let Some(w) = r
                .current
                .clone()
                .and_then(|c| serde_json::from_value::<Whistle>(c).ok())
            {
                whistle_changed(app, w, false);
            }
            let verb = app.lang.step(step).hint;
            let said = if app.zh() {
                format!("{id} 已被他人修改，未执行{verb}；已刷新为最新状态，请确认后再操作")
            } else {
                format!(
                    "{id} was changed by someone else, so it was not {verb}ed; refreshed, look again"
                )
            };
            if !in_batch(app, id, Some(said.clone())) {
                app.warn(said);
            }
            vec![Effect::FetchDetail(id), Effect::FetchStats]
        }
        Err(r) => {
            let said = words::refusal(app.lang, &id.to_string(), step, &r);
            if !in_batch(app, id, Some(said.clone())) {
                app.warn(said);
                bring_back(app, draft);
            }
            // The row may have changed under us; fetch the truth.
            vec![Effect::FetchDetail(id), Effect::FetchStats]
        }
    }
}

/// Nothing typed is lost: after a refusal the prompt comes back as it was sent.
fn bring_back(app: &mut App, draft: Option<Box<Draft>>) {
    if app.prompt.is_none() {
        if let Some(d) = draft {
            app.prompt = Some(d.prompt);
        }
    }
}

/// The answer to a step on a wish.
pub(crate) fn on_wish_acted(
    app: &mut App,
    id: WishId,
    step: Step,
    result: Result<Box<Wish>, Refusal>,
    draft: Option<Box<Draft>>,
) -> Vec<Effect> {
    match result {
        Ok(w) => {
            app.say(words::wish_done(app.lang, step, &w, &app.model.dir));
            let cx = context!(app);
            app.wishes.changed(&cx, &w);
            vec![Effect::FetchStats]
        }
        Err(r) => {
            app.warn(words::refusal(app.lang, &id.to_string(), step, &r));
            if r.status != 412 {
                bring_back(app, draft);
            }
            vec![Effect::FetchWishes, Effect::FetchStats]
        }
    }
}

/// The answer to a form: the record made, said and put where it is listed; or the refusal,
/// said in the form itself, reopened with the field at fault under the cursor.
pub(crate) fn on_filed(
    app: &mut App,
    kind: FormKind,
    result: Result<serde_json::Value, Refusal>,
    draft: Draft,
) -> Vec<Effect> {
    let zh = app.zh();
    match result {
        Ok(v) => match kind {
            FormKind::Whistle => {
                let Ok(filed) = serde_json::from_value::<shaozi_shared::api::Filed>(v) else {
                    return vec![Effect::LoadAll];
                };
                let w = filed.whistle;
                let community = app.model.dir.community(w.community_id);
                let category = app.model.dir.category(&w.category, app.lang);
                let said = if zh {
                    format!("已立案 {}：{}（{community} · {category}）", w.id, w.title)
                } else {
                    format!("filed {}: {} ({community} · {category})", w.id, w.title)
                };
                // Whoever files sees at once that the problem may be known already.
                match filed.similar.first() {
                    Some(s) => app.warn(if zh {
                        format!(
                            "{said}；可能与 {} {} 重复（相似 {:.0}%）",
                            s.whistle.id,
                            s.whistle.title,
                            s.score * 100.0
                        )
                    } else {
                        format!(
                            "{said}; maybe the same as {} {} ({:.0}% alike)",
                            s.whistle.id,
                            s.whistle.title,
                            s.score * 100.0
                        )
                    }),
                    None => app.say(said),
                }
                let mut fx = whistle_changed(app, w, false);
                fx.push(Effect::FetchStats);
                fx
            }
            FormKind::Wish => {
                let Ok(w) = serde_json::from_value::<Wish>(v) else {
                    return vec![Effect::FetchWishes];
                };
                app.say(if zh {
                    format!("已发布心愿 {}：{}", w.id, w.title)
                } else {
                    format!("posted wish {}: {}", w.id, w.title)
                });
                let cx = context!(app);
                app.wishes.changed(&cx, &w);
                vec![Effect::FetchStats]
            }
            FormKind::Reclassify(_) | FormKind::Note(_) => vec![Effect::FetchStats],
            FormKind::Webhook => {
                let created = serde_json::from_value::<shaozi_shared::api::CreatedWebhook>(v).ok();
                let (id, name, secret) = created
                    .map(|c| (c.webhook.id, c.webhook.name, c.secret))
                    .unwrap_or_default();
                // The signing key is shown this once: said whole, and it stays until a key.
                app.say(match (secret, zh) {
                    (Some(s), true) => format!(
                        "已订阅 {id}「{name}」；签名密钥只显示这一次，请交给接收方保存：{s}"
                    ),
                    (Some(s), false) => format!(
                        "subscribed {id} ({name}); the signing key is shown this once, give it to the receiver: {s}"
                    ),
                    (None, true) => format!("已订阅 {id}「{name}」"),
                    (None, false) => format!("subscribed {id} ({name})"),
                });
                vec![Effect::FetchWebhooks]
            }
        },
        Err(r) => {
            let verb = match (kind, zh) {
                (FormKind::Whistle, true) => "立案",
                (FormKind::Wish, true) => "发布心愿",
                (FormKind::Webhook, true) => "订阅",
                (FormKind::Whistle, false) => "file it",
                (FormKind::Wish, false) => "post it",
                (FormKind::Webhook, false) => "subscribe",
                (FormKind::Reclassify(_), true) => "改类",
                (FormKind::Reclassify(_), false) => "reclassify",
                (FormKind::Note(_), true) => "写备注",
                (FormKind::Note(_), false) => "note it",
            };
            let said = words::refusal_reason(app.lang, verb, &r);
            app.warn(if zh {
                format!("未能{verb}：{said}")
            } else {
                format!("could not {verb}: {said}")
            });
            let Prompt::Form(mut form) = draft.prompt else {
                return Vec::new();
            };
            if let Some(field) = &r.field {
                form.focus_on(field);
            }
            form.error = Some(said);
            let p = Prompt::Form(form);
            // Back in front of the user, or kept for `n` when something else is open now.
            if app.prompt.is_none() {
                app.prompt = Some(p);
            } else {
                app.draft = Some(p);
            }
            Vec::new()
        }
    }
}

/// The answer to deleting a webhook subscription.
pub(crate) fn on_webhook_deleted(
    app: &mut App,
    id: String,
    result: Result<(), Refusal>,
) -> Vec<Effect> {
    match result {
        Ok(()) => app.say(if app.zh() {
            format!("已删除订阅 {id}，不再推送")
        } else {
            format!("deleted {id}; nothing more is sent")
        }),
        Err(r) => {
            let verb = if app.zh() { "删除" } else { "delete it" };
            let said = words::refusal_reason(app.lang, verb, &r);
            app.warn(if app.zh() {
                format!("未能删除 {id}：{said}")
            } else {
                format!("could not delete {id}: {said}")
            });
        }
    }
    vec![Effect::FetchWebhooks]
}
