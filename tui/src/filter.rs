//! The `/` filter of the list shown: the whistles (the queue and the token's own work share
//! one) or the wishes. It narrows as it is typed, says what each name was taken to be, and
//! refuses to be applied while a key is unknown or a name fits several records, saying which.

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::route::context;
use crate::app::{App, Effect, View};
use crate::model::Filter;
use crate::prompt::Prompt;

/// Whether `/` narrows the screen `view`: the lists of cases (the queue, a role's own work)
/// and the wishes.
pub fn applies(view: View) -> bool {
    matches!(view, View::Queue | View::Work | View::Wishes)
}

fn on_wishes(app: &App) -> bool {
    app.view == View::Wishes
}

/// What the filter starts from when opened: the one applied to the list shown.
pub fn current(app: &App) -> String {
    if on_wishes(app) {
        app.wishes.filter_text.clone()
    } else {
        app.queue.filter_text.clone()
    }
}

fn apply_whistles(app: &mut App, filter: Filter) {
    app.queue.filter = filter;
    app.refresh_rows();
    let cx = context!(app);
    app.work.refilter(&cx);
}

fn shown(app: &App) -> usize {
    if app.view == View::Work {
        app.work.shown.len()
    } else {
        app.rows().len()
    }
}

/// The words after a `q=` part: a search of every case rather than a filter of the list.
pub fn search_words(text: &str) -> Option<String> {
    let at = text.find("q=")?;
    let before_ok = at == 0 || text[..at].ends_with(char::is_whitespace);
    let words = text[at + 2..].trim();
    (before_ok && !words.is_empty()).then(|| words.to_string())
}

/// Narrows the list as typed; returns what the prompt says under it.
pub fn preview(app: &mut App, text: &str) -> String {
    let zh = app.zh();
    if let Some(words) = search_words(text) {
        restore(app);
        return if zh {
            format!("Enter 搜索全部案件（含已办结）：{words}")
        } else {
            format!("Enter searches every case (closed ones too): {words}")
        };
    }
    if on_wishes(app) {
        return match set_wish_filter(app, text) {
            Ok(()) => count(zh, app.wishes.shown.len()),
            Err(k) => unknown_wish_key(zh, &k),
        };
    }
    let parsed = Filter::parse(text, &app.model.dir, app.lang);
    apply_whistles(app, parsed.filter);
    match parsed.problem {
        Some(p) => p,
        None => {
            let mut said = parsed.chosen.join(" · ");
            if !said.is_empty() {
                said.push_str(" · ");
            }
            said + &count(zh, shown(app))
        }
    }
}

/// Applies the filter typed; `Err` says why it cannot be, and the prompt stays open.
pub fn commit(app: &mut App, text: &str) -> Result<(), String> {
    let zh = app.zh();
    if on_wishes(app) {
        return set_wish_filter(app, text).map_err(|k| unknown_wish_key(zh, &k));
    }
    let parsed = Filter::parse(text, &app.model.dir, app.lang);
    if let Some(p) = parsed.problem {
        return Err(p);
    }
    app.queue.filter_said = parsed.chosen.join(" · ");
    app.queue.filter_text = text.trim().to_string();
    apply_whistles(app, parsed.filter);
    Ok(())
}

/// Puts back the filter applied before typing began (Esc).
pub fn restore(app: &mut App) {
    if on_wishes(app) {
        let text = app.wishes.filter_text.clone();
        let _ = set_wish_filter(app, &text);
        return;
    }
    let parsed = Filter::parse(&app.queue.filter_text, &app.model.dir, app.lang);
    apply_whistles(app, parsed.filter);
}

fn set_wish_filter(app: &mut App, text: &str) -> Result<(), String> {
    let cx = context!(app);
    app.wishes.set_filter(&cx, text)
}

fn count(zh: bool, n: usize) -> String {
    if zh {
        format!("{n} 件")
    } else {
        format!("{n} match")
    }
}

fn unknown_wish_key(zh: bool, k: &str) -> String {
    if zh {
        format!("不认识的筛选条件“{k}”；心愿可用：未认领 已认领 社区=… 或文字")
    } else {
        format!("unknown filter key {k:?}; for wishes use unclaimed, claimed, community=… or words")
    }
}

impl App {
    /// Clears the filter.
    pub(crate) fn clear_filter(&mut self) {
        self.queue.filter = Filter::default();
        self.queue.filter_text.clear();
        self.queue.filter_said.clear();
        let cx = context!(self);
        self.work.refilter(&cx);
        self.refresh_rows();
    }
}

/// A key in the filter: it narrows as typed; Enter applies it, or says why it cannot.
pub(crate) fn on_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    let (next, fx) = match &mut p {
        Prompt::Filter { editor, .. }
            if k.code == KeyCode::Enter && search_words(&editor.text()).is_some() =>
        {
            let words = search_words(&editor.text()).unwrap_or_default();
            restore(app);
            (None, app.open_search(&words))
        }
        Prompt::Filter { editor, hint } => match k.code {
            KeyCode::Enter => match commit(app, &editor.text()) {
                Ok(()) => (None, Vec::new()),
                Err(why) => {
                    *hint = why;
                    (Some(p), Vec::new())
                }
            },
            _ => {
                editor.key(k);
                *hint = preview(app, &editor.text());
                (Some(p), Vec::new())
            }
        },
        _ => (Some(p), Vec::new()),
    };
    app.prompt = next;
    fx
}
