//! What the app does with a screen's answer: runs nothing itself, only applies each [`Out`] in
//! order (a message, a prompt, another screen) and hands the runtime its effects.

use super::route::context;
use super::state::App;
use crate::message::{Effect, Out};
use crate::screens::Screen as _;

/// Applies a screen's answer; returns the effects for the runtime.
pub(crate) fn answer(app: &mut App, outs: Vec<Out>) -> Vec<Effect> {
    let mut fx = Vec::new();
    for out in outs {
        match out {
            Out::Fx(e) => fx.push(e),
            Out::Say(text) => app.say(text),
            Out::Warn(text) => app.warn(text),
            Out::Prompt(p) => app.prompt = Some(p),
            Out::Show(view) => app.view = view,
            Out::OpenDetail(id) => fx.extend(app.open_detail(id)),
            Out::OpenCases(d) => fx.extend(app.open_cases(d)),
            Out::ClearFilter => app.clear_filter(),
        }
    }
    fx
}

/// Fits every screen's list to the terminal (after a resize).
pub(crate) fn fit_all(app: &mut App) {
    let cx = context!(app, None);
    app.queue.fit(&cx);
    let cx = context!(app);
    app.work.fit(&cx);
    app.departments.fit(&cx);
    app.cases.fit(&cx);
    app.wishes.fit(&cx);
    app.detail.fit(&cx);
    app.assess.fit(&cx);
    app.hooks.fit(&cx);
}
