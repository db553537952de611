//! What the app does with a screen's answer: runs nothing itself, only applies each [`Out`] in
//! order (a message, a prompt, another screen) and hands the runtime its effects.

use super::state::App;
use crate::message::{Effect, Out};

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
            Out::Search(q) => fx.extend(app.open_search(&q)),
        }
    }
    fx
}
