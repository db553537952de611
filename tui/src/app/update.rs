//! The one `update`: every input, server event and timer becomes a [`Msg`]; `update` changes
//! the [`App`] and returns the [`Effect`]s for the runtime to carry out (network, bell, quit).
//! No I/O here, so all of it is testable. A key goes to `crate::actions`, which routes it to
//! the top of the stack (help, the open prompt, the screen shown).

use super::answer::answer;
use super::route::{context, fit_every_screen};
use super::state::App;
use crate::message::{Conn, Effect, Msg, View};
use crate::screens::Screen as _;

/// Applies one message.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    // The inbox's returns and cases about to breach are the queue's, at this minute.
    let queue_or_clock = matches!(
        msg,
        Msg::Queue(_) | Msg::Event(_) | Msg::Tick(_) | Msg::Acted { .. } | Msg::Detail(_)
    );
    let mut fx = apply(app, msg);
    if queue_or_clock && app.view == View::Inbox {
        let cx = context!(app);
        app.inbox.rebuild(&cx);
    }
    // Every action carries the version the dispatcher was looking at, so a change made by
    // someone else in the meantime is refused (412) rather than overwritten.
    for e in &mut fx {
        match e {
            Effect::Act {
                id,
                version: v @ None,
                ..
            } => *v = app.whistle(*id).map(|w| w.version),
            Effect::ActWish {
                id,
                version: v @ None,
                ..
            } => *v = app.wish(*id).map(|w| w.version),
            _ => {}
        }
    }
    fx
}

fn apply(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => crate::actions::on_key(app, k),
        Msg::Paste(s) => {
            if let Some(p) = &mut app.prompt {
                p.paste(&s);
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.size = (w, h);
            fit_every_screen!(app);
            Vec::new()
        }
        Msg::Tick(now) => {
            let minute = now.timestamp() / 60 != app.now.timestamp() / 60;
            app.now = now;
            // The assessment moves with the minute it is looked at.
            if minute && app.view == View::Assessment {
                return vec![app.fetch_assessment()];
            }
            // Deliveries, retries and pauses happen with no event to say so: followed while
            // shown (`next_wake` brings a tick every few seconds then).
            if app.view == View::Webhooks {
                return vec![Effect::FetchWebhooks];
            }
            Vec::new()
        }
        Msg::Assessment(d) => {
            app.assess.loaded(d);
            Vec::new()
        }
        Msg::Patterns(answer) => {
            let lang = app.lang;
            let verb = if lang == crate::i18n::Lang::Zh {
                "加载趋势"
            } else {
                "loading the trends"
            };
            app.trends
                .loaded(answer.map_err(|r| crate::words::refusal_reason(lang, verb, &r)));
            let cx = context!(app);
            app.trends.fit(&cx);
            Vec::new()
        }
        Msg::Inbox(Ok((asked, resolved))) => {
            let cx = context!(app);
            app.inbox.loaded(&cx, asked, resolved);
            Vec::new()
        }
        Msg::Inbox(Err(why)) => {
            app.warn(crate::words::load_failed(app.lang, &why));
            Vec::new()
        }
        Msg::Webhooks(r) => {
            app.hooks.loaded(app.lang, r);
            Vec::new()
        }
        Msg::WebhookResumed(id, r) => {
            let outs = app.hooks.resumed(app.lang, &id, r);
            answer(app, outs)
        }
        Msg::WebhookTested(id, r) => {
            let outs = app.hooks.tested(app.lang, &id, r);
            answer(app, outs)
        }
        Msg::Exported(r) => {
            match r {
                Ok(path) => app.say(if app.zh() {
                    format!("已导出：{path}")
                } else {
                    format!("exported to {path}")
                }),
                Err(e) => app.warn(if app.zh() {
                    format!("导出失败：{e}")
                } else {
                    format!("export failed: {e}")
                }),
            }
            Vec::new()
        }
        Msg::Me(me) => {
            // Times are the city's: deadlines and days are counted in its offset, whatever
            // the clock of the machine the dashboard runs on (often a server, over SSH).
            if let Some(tz) = me
                .utc_offset_minutes
                .and_then(|m| chrono::FixedOffset::east_opt(m * 60))
            {
                app.tz = tz;
            }
            app.me = Some(*me);
            // A department or a community opens on its own work, and reloads it with
            // everything else after a gap.
            if !app.works_own_list() {
                return Vec::new();
            }
            if app.view == View::Queue {
                app.view = View::Work;
            }
            vec![Effect::FetchWork]
        }
        Msg::Directory(d) => {
            app.model.dir = *d;
            app.refilter();
            Vec::new()
        }
        Msg::Templates(t) => {
            app.model.dir.templates = t;
            Vec::new()
        }
        Msg::Queue(items) => {
            app.model.queue.replace(items);
            app.loaded = true;
            app.last_data = Some(app.now);
            let queue = &app.model.queue;
            app.queue.marked.retain(|id| queue.get(*id).is_some());
            app.refilter();
            app.fix_selection();
            Vec::new()
        }
        Msg::Stats(s) => {
            app.model.stats = Some(*s);
            // The lists drawn from the totals keep their selection in range.
            let cx = context!(app);
            app.departments.fit(&cx);
            Vec::new()
        }
        Msg::Detail(d) => {
            if let Some(w) = app.detail.loaded(d) {
                app.model.queue.upsert(w);
            }
            Vec::new()
        }
        Msg::DeptCases(dept, items) => {
            app.cases.loaded(app.view, dept, items);
            Vec::new()
        }
        Msg::Similar(id, similar) => {
            app.detail.similar_loaded(id, similar);
            Vec::new()
        }
        Msg::Searched(words, answer) => {
            let lang = app.lang;
            let verb = if lang == crate::i18n::Lang::Zh {
                "搜索"
            } else {
                "search"
            };
            let answer = answer.map_err(|r| crate::words::refusal_reason(lang, verb, &r));
            app.search.answered(&words, answer);
            let cx = context!(app);
            app.search.fit(&cx);
            Vec::new()
        }
        Msg::Event(e) => crate::incoming::on_event(app, *e),
        Msg::Conn(c) => {
            let was = app.conn;
            app.conn = c;
            if c == Conn::Live {
                app.last_data = Some(app.now);
                // Back after a gap: the replay brings the records; the totals are refetched.
                if was != Conn::Live {
                    return vec![Effect::FetchStats];
                }
            }
            Vec::new()
        }
        Msg::LoadFailed(why) => {
            app.warn(crate::words::load_failed(app.lang, &why));
            Vec::new()
        }
        Msg::Acted {
            id,
            step,
            result,
            draft,
        } => crate::incoming::on_acted(app, id, step, result, draft),
        Msg::Filed {
            kind,
            result,
            draft,
        } => crate::incoming::on_filed(app, kind, result, *draft),
        Msg::WebhookDeleted(id, r) => crate::incoming::on_webhook_deleted(app, id, r),
        Msg::WishActed {
            id,
            step,
            result,
            draft,
        } => crate::incoming::on_wish_acted(app, id, step, result, draft),
        Msg::DetailFailed(id, r) => {
            let outs = app.detail.failed(app.lang, id, &r);
            answer(app, outs)
        }
        Msg::Work(items) => {
            let cx = context!(app);
            app.work.loaded(&cx, items);
            Vec::new()
        }
        Msg::Wishes(items) => {
            let cx = context!(app);
            app.wishes.loaded(&cx, items);
            Vec::new()
        }
    }
}
