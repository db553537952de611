//! Keys and the actions they stand for: moving, switching views, opening prompts, and the
//! small parsers behind them. Called from [`crate::app::update`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use shaozi_shared::api::{RejectBody, StepBody};
use shaozi_shared::{DepartmentId, Op, WhistleId, WhistleStatus};

use crate::app::{App, Cursor, Effect, View};
use crate::editor::LineEditor;
use crate::keys::Action;
use crate::model::Filter;
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
    if app.help {
        app.help = false;
        return Vec::new();
    }
    if app.prompt.is_some() {
        return prompt::on_key(app, k);
    }
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit = true;
        return vec![Effect::Quit];
    }
    let Some(action) = app.keymap.action(&k) else {
        return Vec::new();
    };
    on_action(app, action)
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let h = app.list_height();
    let page = h.saturating_sub(1).max(1) as isize;
    let moves = |a: Action| -> Option<isize> {
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
    if let Some(delta) = moves(action) {
        match app.view {
            View::Queue => {
                let n = app.rows().len();
                app.qcur.moved(delta, n, h);
                app.sel = app.rows().get(app.qcur.sel).map(|k| WhistleId(k.id));
                if action == Action::Top {
                    app.new_ids.clear();
                }
                if let Some(id) = app.sel {
                    app.new_ids.remove(&id);
                }
            }
            View::Departments => {
                let n = app.model.stats.as_ref().map_or(0, |s| s.departments.len());
                app.dcur.moved(delta, n, h);
            }
            // Its title line takes one row.
            View::DeptCases(_) => app
                .ccur
                .moved(delta, app.dept_cases.len(), h.saturating_sub(1)),
            View::Wishes => {
                let n = app
                    .model
                    .stats
                    .as_ref()
                    .map_or(0, |s| s.wishes.by_community.len());
                app.wcur.moved(delta, n, h.saturating_sub(4));
            }
            View::Detail => {
                app.detail_scroll = (app.detail_scroll as isize + delta).clamp(0, 10_000) as usize;
            }
            View::Assessment => {
                let n = app.assess.data.as_ref().map_or(0, |d| d.units.len());
                app.assess.cursor.moved(delta, n, h.saturating_sub(4));
            }
        }
        return Vec::new();
    }
    let zh = app.zh();
    if let Some(op) = op_of(action) {
        if !app.may(op) {
            let role = app.me.as_ref().map(|m| m.role.as_str()).unwrap_or("");
            app.warn(if zh {
                format!("当前身份（{role}）不能执行此操作")
            } else {
                format!("your role ({role}) may not do this")
            });
            return Vec::new();
        }
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
            app.view = match app.view {
                View::Queue => View::Departments,
                View::Departments | View::DeptCases(_) => View::Wishes,
                View::Wishes => match app.current() {
                    Some(_) if app.detail.is_some() => View::Detail,
                    _ => View::Assessment,
                },
                View::Detail => View::Assessment,
                View::Assessment => View::Queue,
            };
            if app.view == View::Assessment {
                return vec![app.fetch_assessment()];
            }
            Vec::new()
        }
        Action::ViewAssessment => {
            app.view = View::Assessment;
            vec![app.fetch_assessment()]
        }
        Action::Period if app.view == View::Assessment => {
            app.assess.period = app.assess.period.next();
            app.assess.data = None;
            vec![app.fetch_assessment()]
        }
        Action::SortNext | Action::SortPrev if app.view == View::Assessment => {
            let n = crate::assess::COLUMNS.len();
            app.assess.sort = if action == Action::SortNext {
                (app.assess.sort + 1) % n
            } else {
                (app.assess.sort + n - 1) % n
            };
            Vec::new()
        }
        Action::Export if app.view == View::Assessment => {
            let (from, to) = app.assess.period.range(app.now, app.tz);
            vec![Effect::ExportCsv(from, to)]
        }
        Action::ViewQueue => {
            app.view = View::Queue;
            Vec::new()
        }
        Action::ViewDepartments => {
            app.view = View::Departments;
            vec![Effect::FetchStats]
        }
        Action::ViewWishes => {
            app.view = View::Wishes;
            vec![Effect::FetchStats]
        }
        Action::ViewDetail => match app.current().or(app.detail.as_ref().map(|d| d.0)) {
            Some(id) => app.open_detail(id),
            None => {
                app.say(app.lang.t().nothing);
                Vec::new()
            }
        },
        Action::Open => match app.view {
            View::Queue | View::DeptCases(_) => match app.current() {
                Some(id) => app.open_detail(id),
                None => Vec::new(),
            },
            View::Departments => {
                let dept = app
                    .model
                    .stats
                    .as_ref()
                    .and_then(|s| s.departments.get(app.dcur.sel))
                    .and_then(|d| d.id.parse::<DepartmentId>().ok());
                match dept {
                    Some(d) => {
                        app.view = View::DeptCases(d);
                        app.dept_cases.clear();
                        app.ccur = Cursor::default();
                        vec![Effect::FetchDeptCases(d)]
                    }
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        },
        Action::Back => {
            if !app.marked.is_empty() && app.view == View::Queue {
                app.marked.clear();
            } else {
                app.view = match app.view {
                    View::Detail => app.back,
                    View::DeptCases(_) => View::Departments,
                    _ if !app.filter.is_empty() => {
                        app.filter = Filter::default();
                        app.filter_text.clear();
                        app.refilter();
                        app.fix_selection();
                        View::Queue
                    }
                    v => v,
                };
            }
            Vec::new()
        }
        Action::Mark => {
            if app.view == View::Queue {
                if let Some(id) = app.sel {
                    if !app.marked.remove(&id) {
                        app.marked.insert(id);
                    }
                    let n = app.rows().len();
                    app.qcur.moved(1, n, h);
                    app.sel = app.rows().get(app.qcur.sel).map(|k| WhistleId(k.id));
                }
            }
            Vec::new()
        }
        Action::Filter => {
            app.prompt = Some(Prompt::Filter {
                editor: LineEditor::with(&app.filter_text),
            });
            Vec::new()
        }
        Action::Command => {
            app.prompt = Some(Prompt::Command {
                editor: LineEditor::default(),
                hint: String::new(),
            });
            Vec::new()
        }
        // Every step asks for what the shared table says it needs.
        Action::Step(step) => {
            let targets = app.targets(step.bulk());
            if targets.is_empty() {
                app.say(app.lang.t().nothing);
                return Vec::new();
            }
            let (next, fx) = prompt::start(app, step, targets);
            app.prompt = next;
            fx
        }
        _ => Vec::new(),
    }
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

/// Whether a status can be dispatched (or reassigned).
pub fn dispatchable(s: WhistleStatus) -> bool {
    s.is_unanswered()
}
