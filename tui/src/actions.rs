//! Keys and the actions they stand for: moving, switching views, opening prompts, and the
//! small parsers behind them. Called from [`crate::app::update`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use shaozi_shared::api::Subject;

use crate::app::route::on_screen_mut;
use crate::app::{answer, App, Effect, View};
use crate::editor::LineEditor;
use crate::keys::Action;
use crate::prompt::Prompt;

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
        if ctrl_c {
            app.quit = true;
            return vec![Effect::Quit];
        }
        // What is being typed keeps what is typed (a `q` is a letter there); only sending
        // waits until the prompt can be seen again.
        if app.prompt.is_some() {
            if k.code == KeyCode::Enter {
                return Vec::new();
            }
            return on_prompt_key(app, k);
        }
        if app.keymap.action(&k) == Some(Action::Quit) {
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
        return on_prompt_key(app, k);
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

/// A key while a prompt is open goes to whoever opened it: the command line, the filter, or
/// the step that asked.
fn on_prompt_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    let Some(p) = app.prompt.take() else {
        return Vec::new();
    };
    if k.code == KeyCode::Esc {
        if let Prompt::Filter { .. } = p {
            // Esc leaves the filter as it was before typing.
            crate::filter::restore(app);
        }
        // A reason half typed is not thrown away: the same step on the same case brings it
        // back.
        let typed = match &p {
            Prompt::Text { editor, .. } | Prompt::WishText { editor, .. } => {
                !editor.text().trim().is_empty()
            }
            Prompt::Form(f) => f.touched(),
            _ => false,
        };
        if typed {
            app.draft = Some(p);
            app.say_in(
                "已收起；输入已保留，再按同一键继续",
                "closed; what you typed is kept: press the same key to go on",
            );
        }
        return Vec::new();
    }
    if k.code == KeyCode::Enter {
        app.draft = None;
    }
    // Nothing is sent while the connection is down: it is said, and what was typed stays.
    // (A form's Enter mostly moves to the next field; sent offline, it comes back with the
    // failure said in it.)
    let sends = k.code == KeyCode::Enter
        && !matches!(
            p,
            Prompt::Filter { .. } | Prompt::Command { .. } | Prompt::Form(_)
        );
    if sends && app.stale() {
        app.warn_in(
            "离线：未提交，输入已保留；连接恢复后再按 Enter",
            "offline: nothing was sent and your input is kept; press Enter again once reconnected",
        );
        app.prompt = Some(p);
        return Vec::new();
    }
    match p {
        Prompt::Command { .. } => crate::command::on_key(app, p, k),
        Prompt::Filter { .. } => crate::filter::on_key(app, p, k),
        Prompt::Form(_) | Prompt::Sure { .. } => crate::filing::on_key(app, p, k),
        _ => crate::steps::on_key(app, p, k),
    }
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
    if is_move(action) {
        let delta = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page_of(app),
            Action::PageDown => page_of(app),
            Action::Top => isize::MIN / 2,
            _ => isize::MAX / 2,
        };
        on_screen_mut!(app, s, cx => s.moved(&cx, delta, action));
        return Vec::new();
    }
    if let Some(op) = action.op() {
        if !app.may(op) {
            let role = app
                .me
                .as_ref()
                .map(|m| crate::words::role(app.lang, m.role))
                .unwrap_or("");
            let verb = crate::words::action(app.lang, action);
            app.warn(if app.zh() {
                format!("你的身份（{role}）不能{verb}")
            } else {
                format!("your role ({role}) may not {verb}")
            });
            return Vec::new();
        }
    }
    // The shown screen's own keys first.
    if let Some(outs) = on_screen_mut!(app, s, cx => s.on_action(&cx, action)) {
        return answer(app, outs);
    }
    match action {
        // As in k9s: q leaves a screen for home first, and quits from home (Ctrl-C always
        // quits).
        Action::Quit if app.view != app.home() => {
            let fx = show(app, app.home());
            app.say_in("已回到首页；在首页再按 q 退出", "back home; q again quits");
            fx
        }
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
                View::Assessment => View::Trends,
                View::Trends => View::Webhooks,
                View::Webhooks | View::Inbox | View::Notices | View::Search => app.home(),
            };
            show(app, next)
        }
        Action::ViewQueue => show(app, app.home()),
        Action::ViewDepartments => show(app, View::Departments),
        Action::ViewWishes => show(app, View::Wishes),
        Action::ViewAssessment => show(app, View::Assessment),
        Action::ViewTrends => show(app, View::Trends),
        Action::ViewWebhooks => show(app, View::Webhooks),
        // The inbox is the dispatcher's: what waits for a decision only a dispatcher takes.
        // Anyone else's answers from others are its notices.
        Action::ViewInbox if !app.may(shaozi_shared::Op::Dispatch) => {
            let key = app
                .keymap
                .hint_key(Action::ViewNotices)
                .unwrap_or_else(|| "m".into());
            app.warn(if app.zh() {
                format!("待办是调度员的（退单、延期、回访由调度中心决定）；别人对你的哨件做了什么，按 {key} 看通知")
            } else {
                format!("the inbox is the dispatcher's (returns, extensions and call-backs are decided there); what others did about your cases: press {key} for notices")
            });
            Vec::new()
        }
        Action::ViewInbox => show(app, View::Inbox),
        Action::ViewNotices => show(app, View::Notices),
        Action::New => crate::filing::start(app),
        Action::ViewDetail => match app.current().or(app.detail.shown.as_ref().map(|d| d.0)) {
            Some(id) => app.open_detail(id),
            None => {
                app.say(app.lang.t().nothing);
                Vec::new()
            }
        },
        // Back from a screen that has nowhere to go clears the queue's filter.
        Action::Back => {
            if !app.queue.filter.is_empty() {
                app.clear_filter();
                app.view = View::Queue;
            }
            Vec::new()
        }
        // Only the lists of cases and the wishes narrow; elsewhere it is said, rather than a
        // filter typed that changes nothing in sight.
        Action::Filter if !crate::filter::applies(app.view) => {
            app.warn_in(
                "本页不能筛选：/ 用于 1 队列（或我的工作）和 3 心愿",
                "nothing to filter here: / narrows the queue or your work (1) and the wishes (3)",
            );
            Vec::new()
        }
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
        Action::Step(step) if step.subject() == Subject::Wish => {
            crate::steps::take_on_wish(app, step)
        }
        // Every step asks for what the shared table says it needs, of the cases whose status
        // allows it.
        Action::Step(step) => crate::steps::take(app, step),
        // A key that does nothing here says so, and where it does something.
        other => {
            let key = app.keymap.hint_key(other).unwrap_or_default();
            let what = crate::words::action(app.lang, other);
            let where_ = match other {
                Action::Export => {
                    Some(("案件列表和5 考核", "lists of cases and the assessment (5)"))
                }
                Action::Period | Action::Units | Action::SortNext | Action::SortPrev => {
                    Some(("5 考核", "the assessment (5)"))
                }
                Action::WebhookResume | Action::WebhookTest => Some(("6 推送", "the webhooks (6)")),
                Action::Mark => Some(("1 队列", "the queue (1)")),
                _ => None,
            };
            app.say(match (where_, app.zh()) {
                (Some((zh, _)), true) => format!("{key}（{what}）在本页没有作用，在{zh}"),
                (Some((_, en)), false) => {
                    format!("{key} ({what}) does nothing here; it works in {en}")
                }
                (None, true) => format!("{key}（{what}）在本页没有作用"),
                (None, false) => format!("{key} ({what}) does nothing here"),
            });
            Vec::new()
        }
    }
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
        View::Inbox => app.inbox.list.page(),
        View::Notices => app.notices.list.page(),
        View::Search => app.search.list.page(),
        View::Trends => match app.trends.pane {
            crate::screens::trends::Pane::Series => app.trends.series.page(),
            crate::screens::trends::Pane::Hotspots => app.trends.hotspots.page(),
        },
        View::Queue | View::Detail => app.queue.list.page(),
    }
}

/// Shows a screen, with the data it needs.
fn show(app: &mut App, view: View) -> Vec<Effect> {
    app.view = view;
    let outs = on_screen_mut!(app, s, cx => s.entered(&cx));
    answer(app, outs)
}
