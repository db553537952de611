//! Modal input: the department picker, text prompts, the rating, bulk confirmation, the
//! `:` command line and the filter. Each turns into effects only when confirmed.

use crossterm::event::{KeyCode, KeyEvent};
use serde_json::{json, Value};

use shaozi_shared::{DepartmentId, WhistleId, WhistleStatus};

use crate::app::{reject_body, split_staff, App, Draft, Effect};
use crate::editor::{Edit, LineEditor};
use crate::model::Filter;

/// What a text prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Staff reporting for duty.
    Staff,
    /// The resolving reply.
    Reply,
    /// Why reopen.
    Reopen,
    /// Why reject.
    Reject,
    /// Why escalate.
    Escalate,
    /// Why reassign.
    ReassignReason,
}

/// A department in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptOption {
    /// Id.
    pub id: DepartmentId,
    /// Name.
    pub name: String,
    /// Cases waiting or in progress.
    pub load: i64,
    /// Handles the whistle's category.
    pub handles: bool,
}

/// An open prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Choose a department.
    Picker {
        /// Whistles to assign.
        targets: Vec<WhistleId>,
        /// Typed filter.
        editor: LineEditor,
        /// Departments, best first.
        options: Vec<DeptOption>,
        /// Selected among the visible ones.
        sel: usize,
    },
    /// Type a text.
    Text {
        /// What for.
        kind: TextKind,
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The text.
        editor: LineEditor,
        /// The chosen department, for a reassignment's reason.
        dept: Option<DepartmentId>,
    },
    /// Press 1–5.
    Rating {
        /// The whistle.
        target: WhistleId,
    },
    /// Confirm a bulk action.
    Confirm {
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The action.
        verb: &'static str,
        /// Its body.
        body: Value,
    },
    /// `:` command line.
    Command {
        /// The command.
        editor: LineEditor,
        /// Completion candidates or a hint.
        hint: String,
    },
    /// `/` filter.
    Filter {
        /// The filter.
        editor: LineEditor,
    },
}

impl Prompt {
    /// Inserts pasted text into whatever is being typed.
    pub fn paste(&mut self, s: &str) {
        match self {
            Prompt::Picker { editor, sel, .. } => {
                editor.insert_str(s);
                *sel = 0;
            }
            Prompt::Text { editor, .. }
            | Prompt::Command { editor, .. }
            | Prompt::Filter { editor } => editor.insert_str(s),
            _ => {}
        }
    }

    /// The picker's options that match what was typed.
    pub fn visible_options(&self) -> Vec<&DeptOption> {
        match self {
            Prompt::Picker {
                editor, options, ..
            } => ranked(options, &editor.text()),
            _ => Vec::new(),
        }
    }
}

/// Departments matching `typed` (by id, name, or abbreviation), keeping their order within
/// each kind of match.
pub fn ranked<'a>(options: &'a [DeptOption], typed: &str) -> Vec<&'a DeptOption> {
    let mut hits: Vec<(u8, &DeptOption)> = options
        .iter()
        .filter_map(|o| {
            if o.id.to_string().eq_ignore_ascii_case(typed.trim()) {
                return Some((0, o));
            }
            crate::text::match_rank(&o.name, typed).map(|r| (r, o))
        })
        .collect();
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().map(|(_, o)| o).collect()
}

/// The department picker for `targets`: departments that handle the first target's category
/// first, then the least loaded, then by name.
pub fn picker(app: &App, targets: Vec<WhistleId>) -> Prompt {
    let category = targets
        .first()
        .and_then(|id| app.whistle(*id))
        .map(|w| w.category.clone());
    let load = |id: DepartmentId| {
        app.model
            .stats
            .as_ref()
            .and_then(|s| s.departments.iter().find(|d| d.id == id.to_string()))
            .map_or(0, |d| d.dispatched + d.acknowledged)
    };
    let mut options: Vec<DeptOption> = app
        .model
        .dir
        .departments
        .values()
        .map(|d| DeptOption {
            id: d.id,
            name: d.name.clone(),
            load: load(d.id),
            handles: category.as_ref().is_some_and(|c| d.categories.contains(c)),
        })
        .collect();
    options.sort_by(|a, b| (!a.handles, a.load, &a.name).cmp(&(!b.handles, b.load, &b.name)));
    Prompt::Picker {
        targets,
        editor: LineEditor::default(),
        options,
        sel: 0,
    }
}

fn act(
    verb: &'static str,
    targets: Vec<WhistleId>,
    body: Value,
    draft: Option<Prompt>,
) -> (Option<Prompt>, Vec<Effect>) {
    if targets.len() > 1 {
        return (
            Some(Prompt::Confirm {
                targets,
                verb,
                body,
            }),
            Vec::new(),
        );
    }
    let fx = targets
        .into_iter()
        .map(|id| Effect::Act {
            id,
            version: None,
            verb,
            body: body.clone(),
            draft: draft.clone().map(|prompt| Box::new(Draft { prompt })),
        })
        .collect();
    (None, fx)
}

/// Dispatches at once (from the command line), or asks for a reassignment's reason.
pub fn dispatch_now(
    app: &App,
    targets: Vec<WhistleId>,
    dept: DepartmentId,
    note: Option<String>,
) -> (Option<Prompt>, Vec<Effect>) {
    dispatch(app, targets, dept, note, None)
}

fn dispatch(
    app: &App,
    targets: Vec<WhistleId>,
    dept: DepartmentId,
    note: Option<String>,
    draft: Option<Prompt>,
) -> (Option<Prompt>, Vec<Effect>) {
    let reassigning = targets.iter().any(|id| {
        app.whistle(*id)
            .is_some_and(|w| w.status == WhistleStatus::Dispatched)
    });
    if reassigning && note.is_none() {
        let p = Prompt::Text {
            kind: TextKind::ReassignReason,
            targets,
            editor: LineEditor::default(),
            dept: Some(dept),
        };
        return (Some(p), Vec::new());
    }
    let body = match note {
        Some(n) => json!({"department_id": dept, "note": n}),
        None => json!({"department_id": dept}),
    };
    act("dispatch", targets, body, draft)
}

/// Handles a key while a prompt is open.
pub fn on_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    let Some(mut p) = app.prompt.take() else {
        return Vec::new();
    };
    if k.code == KeyCode::Esc {
        if let Prompt::Filter { .. } = p {
            // Esc leaves the filter as it was before typing.
            app.filter = Filter::parse(&app.filter_text);
            refresh(app);
        }
        return Vec::new();
    }
    let (next, fx) = match &mut p {
        Prompt::Picker {
            targets,
            editor,
            sel,
            ..
        } => match k.code {
            KeyCode::Up => {
                *sel = sel.saturating_sub(1);
                (Some(p), Vec::new())
            }
            KeyCode::Down => {
                let n = p.visible_options().len();
                if let Prompt::Picker { sel, .. } = &mut p {
                    *sel = (*sel + 1).min(n.saturating_sub(1));
                }
                (Some(p), Vec::new())
            }
            KeyCode::Enter => {
                let chosen = p.visible_options().get(sel_of(&p)).map(|o| o.id);
                match chosen {
                    Some(d) => {
                        let t = targets_of(&p);
                        dispatch(app, t, d, None, Some(p.clone()))
                    }
                    None => (Some(p), Vec::new()),
                }
            }
            _ => {
                if editor.key(k) == Edit::Changed {
                    *sel = 0;
                }
                let _ = targets;
                (Some(p), Vec::new())
            }
        },
        Prompt::Text { .. } => return on_text_key(app, p, k),
        Prompt::Rating { target } => match k.code {
            KeyCode::Char(c @ '1'..='5') => {
                let n = i64::from(c as u8 - b'0');
                act(
                    "close",
                    vec![*target],
                    json!({"satisfaction": n}),
                    Some(p.clone()),
                )
            }
            _ => (Some(p), Vec::new()),
        },
        Prompt::Confirm {
            targets,
            verb,
            body,
        } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') | KeyCode::Char('Y') => {
                let fx = targets
                    .iter()
                    .map(|id| Effect::Act {
                        id: *id,
                        version: None,
                        verb,
                        body: body.clone(),
                        draft: None,
                    })
                    .collect();
                (None, fx)
            }
            KeyCode::Char('n') | KeyCode::Char('N') => (None, Vec::new()),
            _ => (Some(p), Vec::new()),
        },
        Prompt::Command { editor, hint } => match k.code {
            KeyCode::Enter => {
                let line = editor.text();
                return crate::command::run(app, &line);
            }
            KeyCode::Tab => {
                let (line, candidates) = crate::command::complete(app, &editor.text());
                *editor = LineEditor::with(&line);
                *hint = candidates.join("  ");
                (Some(p), Vec::new())
            }
            _ => {
                editor.key(k);
                hint.clear();
                (Some(p), Vec::new())
            }
        },
        Prompt::Filter { editor } => match k.code {
            KeyCode::Enter => {
                app.filter_text = editor.text();
                (None, Vec::new())
            }
            _ => {
                editor.key(k);
                app.filter = Filter::parse(&editor.text());
                refresh(app);
                (Some(p), Vec::new())
            }
        },
    };
    app.prompt = next;
    fx
}

fn on_text_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    let zh = app.lang == crate::i18n::Lang::Zh;
    let Prompt::Text {
        kind,
        targets,
        editor,
        dept,
    } = &mut p
    else {
        return keep(app, p);
    };
    if k.code != KeyCode::Enter {
        editor.key(k);
        return keep(app, p);
    }
    let (kind, targets, text, dept) = (
        *kind,
        targets.clone(),
        editor.text().trim().to_string(),
        *dept,
    );
    if text.is_empty() {
        return keep(app, p);
    }
    let draft = Some(p.clone());
    let (next, fx) = match kind {
        TextKind::Staff => {
            let staff = split_staff(&text);
            if staff.len() < 2 {
                app.flash = Some(crate::app::Flash {
                    text: if zh {
                        "报到需要两名以上人员".into()
                    } else {
                        "reporting for duty needs two or more staff".into()
                    },
                    error: true,
                    until: app.now + chrono::Duration::seconds(6),
                });
                return keep(app, p);
            }
            act("acknowledge", targets, json!({"staff": staff}), draft)
        }
        TextKind::Reply => act("resolve", targets, json!({"reply": text}), draft),
        TextKind::Reopen => act("reopen", targets, json!({"reason": text}), draft),
        TextKind::Reject => act("reject", targets, reject_body(&text), draft),
        TextKind::Escalate => act("escalate", targets, json!({"reason": text}), draft),
        TextKind::ReassignReason => match dept {
            Some(d) => dispatch(app, targets, d, Some(text), draft),
            None => (None, Vec::new()),
        },
    };
    app.prompt = next;
    fx
}

fn keep(app: &mut App, p: Prompt) -> Vec<Effect> {
    app.prompt = Some(p);
    Vec::new()
}

fn sel_of(p: &Prompt) -> usize {
    match p {
        Prompt::Picker { sel, .. } => *sel,
        _ => 0,
    }
}

fn targets_of(p: &Prompt) -> Vec<WhistleId> {
    match p {
        Prompt::Picker { targets, .. }
        | Prompt::Text { targets, .. }
        | Prompt::Confirm { targets, .. } => targets.clone(),
        Prompt::Rating { target } => vec![*target],
        _ => Vec::new(),
    }
}

/// Re-applies the filter and keeps the selection.
pub fn refresh(app: &mut App) {
    app.refresh_rows();
}
