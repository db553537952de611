//! Keys and the actions they stand for: moving, switching views, opening prompts, and the
//! small parsers behind them. Called from [`crate::app::update`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use shaozi_shared::api::{ClaimBody, CompleteBody, RejectBody, Step, StepBody, Subject};
use shaozi_shared::{Op, Whistle, WhistleId};

use crate::app::{App, Effect, View};
use crate::editor::LineEditor;
use crate::keys::Action;
use crate::on_screen;
use crate::prompt::{self, Prompt};

/// Handles a key: help, the open prompt, or the action it is bound to.
pub(crate) fn on_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    if k.kind != crossterm::event::KeyEventKind::Press
        && k.kind != crossterm::event::KeyEventKind::Repeat
    {
        return Vec::new();
    }
    // Esc and the next key often arrive together (fast typing, SSH on a weak link) and then
    // read as Alt+key. Nothing is bound to Alt, so outside text entry that is Esc, then key.
    if k.modifiers.contains(KeyModifiers::ALT) && app.prompt.is_none() {
        let mut fx = on_key(app, KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        fx.extend(on_key(
            app,
            KeyEvent::new(k.code, k.modifiers - KeyModifiers::ALT),
        ));
        return fx;
    }
    // Below the smallest usable size nothing can be seen, so nothing may happen unseen:
    // only leaving works (and resizing, which is not a key).
    if app.too_small() {
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl_c || app.keymap.action(&k) == Some(Action::Quit) {
            app.quit = true;
            return vec![Effect::Quit];
        }
        return Vec::new();
    }
    if app.help {
        app.help = false;
        return Vec::new();
    }
    if app.prompt.is_some() {
        // A message stays until the answer to it: sending or leaving the prompt.
        if matches!(k.code, KeyCode::Enter | KeyCode::Esc) {
            app.flash = None;
        }
        return prompt::on_key(app, k);
    }
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit = true;
        return vec![Effect::Quit];
    }
    let Some(action) = app.keymap.action(&k) else {
        return Vec::new();
    };
    // A message stays until the next thing done (moving about is not doing).
    if !is_move(action) {
        app.flash = None;
    }
    on_action(app, action)
}

fn is_move(a: Action) -> bool {
    matches!(
        a,
        Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
    )
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let moves = |a: Action, page: isize| -> Option<isize> {
        match a {
            Action::Up => Some(-1),
            Action::Down => Some(1),
            Action::PageUp => Some(-page),
            Action::PageDown => Some(page),
            Action::Top => Some(isize::MIN / 2),
            Action::Bottom => Some(isize::MAX / 2),
            _ => None,
        }
    };
    let page = page_of(app);
    if let Some(delta) = moves(action, page) {
        on_screen!(app.view, S => S::moved(app, delta, action));
        return Vec::new();
    }
    let zh = app.zh();
    if let Some(op) = op_of(action) {
        if !app.may(op) {
            let role = app
                .me
                .as_ref()
                .map(|m| crate::words::role(app.lang, m.role))
                .unwrap_or("");
            let verb = crate::words::action(app.lang, action);
            app.warn(if zh {
                format!("你的身份（{role}）不能{verb}")
            } else {
                format!("your role ({role}) may not {verb}")
            });
            return Vec::new();
        }
    }
    // The shown screen's own keys first.
    if let Some(fx) = on_screen!(app.view, S => S::on_action(app, action)) {
        return fx;
    }
    match action {
        Action::Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            app.help = true;
            Vec::new()
        }
        Action::NextView => {
            let next = match app.view {
                View::Queue | View::Work => View::Departments,
                View::Departments | View::DeptCases(_) => View::Wishes,
                View::Wishes => match app.current() {
                    Some(_) if app.detail.shown.is_some() => View::Detail,
                    _ => View::Assessment,
                },
                View::Detail => View::Assessment,
                View::Assessment => View::Webhooks,
                View::Webhooks => app.home(),
            };
            show(app, next)
        }
        Action::ViewQueue => show(app, app.home()),
        Action::ViewDepartments => show(app, View::Departments),
        Action::ViewWishes => show(app, View::Wishes),
        Action::ViewAssessment => show(app, View::Assessment),
        Action::ViewWebhooks => show(app, View::Webhooks),
        Action::ViewDetail => match app.current().or(app.detail.shown.as_ref().map(|d| d.0)) {
            Some(id) => app.open_detail(id),
            None => {
                app.say(app.lang.t().nothing);
                Vec::new()
            }
        },
        // Back from a screen that has nowhere to go clears the queue's filter.
        Action::Back => crate::screens::queue::back_to_queue(app),
        Action::Filter => {
            app.prompt = Some(Prompt::Filter {
                editor: LineEditor::with(&crate::filter::current(app)),
                hint: String::new(),
            });
            Vec::new()
        }
        Action::Command => {
            app.prompt = Some(Prompt::Command {
                editor: LineEditor::default(),
                hint: String::new(),
                back: 0,
            });
            Vec::new()
        }
        Action::Step(step) if step.subject() == Subject::Wish => wish_step(app, step),
        // Every step asks for what the shared table says it needs, of the cases whose status
        // allows it.
        Action::Step(step) => {
            let targets = app.targets(step.bulk());
            if targets.is_empty() {
                app.say(app.lang.t().nothing);
                return Vec::new();
            }
            let (fit, unfit): (Vec<WhistleId>, Vec<WhistleId>) = targets
                .into_iter()
                .partition(|id| app.whistle(*id).is_none_or(|w| step.fits_whistle(w)));
            if let Some(first) = unfit.first().and_then(|id| app.whistle(*id)) {
                let why = not_now(app, step, first);
                if fit.is_empty() {
                    app.warn(why);
                    return Vec::new();
                }
                let skipped: Vec<String> = unfit.iter().map(|id| id.to_string()).collect();
                app.warn(if zh {
                    format!("已跳过 {}：{why}", skipped.join(" "))
                } else {
                    format!("skipped {}: {why}", skipped.join(" "))
                });
            }
            let (next, fx) = prompt::start(app, step, fit);
            app.prompt = next;
            fx
        }
        _ => Vec::new(),
    }
}

/// Why a step cannot be taken on a whistle now: its status (or its level), and what can.
pub(crate) fn not_now(app: &App, step: Step, w: &Whistle) -> String {
    let zh = app.zh();
    let verb = app.lang.step(step).hint;
    let status = crate::words::list_status(app.lang, w);
    let can: Vec<&str> = crate::keys::STEP_KEYS
        .iter()
        .map(|(s, _, _)| *s)
        .filter(|s| s.fits_whistle(w) && app.may(s.op()))
        .map(|s| app.lang.step(s).hint)
        .collect();
    let top =
        step == Step::Escalate && w.escalation_level >= shaozi_shared::whistle::TOP_ESCALATION;
    let why = match (top, zh) {
        (true, true) => format!("{} 已在最高级（市领导），不能再升级", w.id),
        (true, false) => format!("{} is already at the top level (the city's leaders)", w.id),
        (false, true) => format!("{} 当前为「{status}」，不能{verb}", w.id),
        (false, false) => format!("{} is {status} now, so it cannot be {verb}ed", w.id),
    };
    match (can.is_empty(), zh) {
        (true, _) => why,
        (false, true) => format!("{why}（现在可以：{}）", can.join("、")),
        (false, false) => format!("{why} (possible now: {})", can.join(", ")),
    }
}

/// A step on the selected wish: claiming for the token's department, completing at once;
/// withdrawing (and claiming by name, for the city office) asks first.
fn wish_step(app: &mut App, step: Step) -> Vec<Effect> {
    if app.view != View::Wishes {
        app.warn_in(
            "心愿的操作在心愿页：按 3",
            "steps on wishes are on the wishes screen: press 3",
        );
        return Vec::new();
    }
    let Some(w) = crate::screens::wishes::WishesScreen::selected(app).cloned() else {
        app.warn_in("未选中心愿", "no wish selected");
        return Vec::new();
    };
    if !step.fits_wish(w.status) {
        let status = crate::words::wish_status(app.lang, w.status);
        let verb = app.lang.step(step).hint;
        app.warn(if app.zh() {
            format!("{} 当前为「{status}」，不能{verb}", w.id)
        } else {
            format!("{} is {status}, so it cannot be {verb}ed", w.id)
        });
        return Vec::new();
    }
    let dept = app.me.as_ref().and_then(|m| match m.scope {
        shaozi_shared::Scope::Department(d) => Some(d),
        _ => None,
    });
    let body = match (step, dept) {
        (Step::Claim, Some(d)) => StepBody::Claim(ClaimBody {
            department_id: Some(d),
            claimer: None,
        }),
        (Step::Complete, _) => StepBody::Complete(CompleteBody::default()),
        _ => {
            app.prompt = Some(Prompt::WishText {
                step,
                id: w.id,
                editor: LineEditor::default(),
            });
            return Vec::new();
        }
    };
    vec![Effect::ActWish {
        id: w.id,
        version: None,
        body,
        draft: None,
    }]
}

/// A page of the shown screen's list (the detail scrolls by the queue's page).
fn page_of(app: &App) -> isize {
    match app.view {
        View::Work => app.work.list.page(),
        View::Departments => app.departments.list.page(),
        View::DeptCases(_) => app.cases.list.page(),
        View::Wishes => app.wishes.list.page(),
        View::Assessment => app.assess.list.page(),
        View::Webhooks => app.hooks.list.page(),
        View::Queue | View::Detail => app.queue.list.page(),
    }
}

/// Shows a screen, with the data it needs.
fn show(app: &mut App, view: View) -> Vec<Effect> {
    app.view = view;
    on_screen!(view, S => S::entered(app))
}

/// What the token must be allowed to do for an action (a step's, from the step table).
pub fn op_of(a: Action) -> Option<Op> {
    match a {
        Action::Step(step) => Some(step.op()),
        _ => None,
    }
}

/// Splits typed staff names on commas, 、, ，, ; and spaces.
pub fn split_staff(s: &str) -> Vec<String> {
    s.split(|c: char| {
        c == ',' || c == '，' || c == '、' || c == ';' || c == '；' || c.is_whitespace()
    })
    .filter(|p| !p.is_empty())
    .map(str::to_string)
    .collect()
}

/// The body of a reject: `dup W1042 reason…` names the original.
pub fn reject_body(text: &str) -> StepBody {
    let mut words = text.split_whitespace();
    if let (Some(first), Some(second)) = (words.next(), words.next()) {
        if matches!(first.to_lowercase().as_str(), "dup" | "重复") {
            if let Ok(orig) = second.parse::<WhistleId>() {
                let rest: Vec<&str> = words.collect();
                let reason = if rest.is_empty() {
                    format!("duplicate of {orig}")
                } else {
                    rest.join(" ")
                };
                return StepBody::Reject(RejectBody {
                    reason,
                    duplicate_of: Some(orig),
                });
            }
        }
    }
    StepBody::Reject(RejectBody {
        reason: text.to_string(),
        duplicate_of: None,
    })
}
