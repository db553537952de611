//! Modal input: the department picker, text prompts, the rating, bulk confirmation, the
//! `:` command line and the filter. Each turns into effects only when confirmed.

use crossterm::event::{KeyCode, KeyEvent};

use shaozi_shared::api::{ClaimBody, CloseBody, Given, Input, Step, StepBody};
use shaozi_shared::{DepartmentId, WhistleId, WhistleStatus, WishId};

use crate::app::{reject_body, split_staff, App, Draft, Effect};
use crate::editor::{Edit, LineEditor};

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
    /// Type what a step asks for (staff names, a reply, a reason).
    Text {
        /// The step.
        step: Step,
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The text.
        editor: LineEditor,
        /// For a reassignment to this department, the text is its reason.
        reassign_to: Option<DepartmentId>,
    },
    /// Closing: press 1–5, add a note if wanted, Enter to close.
    Rating {
        /// The step (closing).
        step: Step,
        /// The whistle.
        target: WhistleId,
        /// The rating chosen, once pressed.
        stars: Option<u8>,
        /// An optional comment, typed after the rating.
        note: LineEditor,
    },
    /// Type what a step on a wish asks for (why it is withdrawn, who claims it).
    WishText {
        /// The step.
        step: Step,
        /// The wish.
        id: WishId,
        /// The text.
        editor: LineEditor,
    },
    /// Confirm a step on several whistles.
    Confirm {
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The step with its body.
        body: StepBody,
    },
    /// `:` command line.
    Command {
        /// The command.
        editor: LineEditor,
        /// Completion candidates or a hint.
        hint: String,
        /// How far back in the history ↑ has gone (0: the line being typed).
        back: usize,
    },
    /// `/` filter of the list shown.
    Filter {
        /// The filter.
        editor: LineEditor,
        /// What it matches so far, or why it cannot be applied.
        hint: String,
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
            | Prompt::WishText { editor, .. }
            | Prompt::Command { editor, .. }
            | Prompt::Filter { editor, .. } => editor.insert_str(s),
            Prompt::Rating {
                stars: Some(_),
                note,
                ..
            } => note.insert_str(s),
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

/// Departments matching `typed` (by id, name, or abbreviation): the one whose id was typed,
/// then those that handle the category (✓) before those that do not, each by how well the
/// name matched, keeping their order otherwise.
pub fn ranked<'a>(options: &'a [DeptOption], typed: &str) -> Vec<&'a DeptOption> {
    let mut hits: Vec<((bool, bool, u8), &DeptOption)> = options
        .iter()
        .filter_map(|o| {
            if o.id.to_string().eq_ignore_ascii_case(typed.trim()) {
                return Some(((false, false, 0), o));
            }
            crate::text::match_rank(&o.name, typed).map(|r| ((true, !o.handles, r), o))
        })
        .collect();
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().map(|(_, o)| o).collect()
}

/// The department picker for `targets`: departments that handle the category of every target
/// (✓) first, then the least loaded, then by name.
pub fn picker(app: &App, targets: Vec<WhistleId>) -> Prompt {
    let categories: Vec<String> = targets
        .iter()
        .filter_map(|id| app.whistle(*id))
        .map(|w| w.category.clone())
        .collect();
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
            handles: !categories.is_empty() && categories.iter().all(|c| d.categories.contains(c)),
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

/// Takes a step on `targets` (after a confirmation when there are several).
pub fn act(
    body: StepBody,
    targets: Vec<WhistleId>,
    draft: Option<Prompt>,
) -> (Option<Prompt>, Vec<Effect>) {
    if targets.len() > 1 {
        return (Some(Prompt::Confirm { targets, body }), Vec::new());
    }
    let fx = targets
        .into_iter()
        .map(|id| Effect::Act {
            id,
            version: None,
            body: body.clone(),
            draft: draft.clone().map(|prompt| Box::new(Draft { prompt })),
        })
        .collect();
    (None, fx)
}

/// What a step asks for first: the picker, a rating, a text; or, when it needs nothing, the
/// step itself.
pub fn start(app: &App, step: Step, targets: Vec<WhistleId>) -> (Option<Prompt>, Vec<Effect>) {
    let Some(&first) = targets.first() else {
        return (None, Vec::new());
    };
    match step.input() {
        Input::Department => (Some(picker(app, targets)), Vec::new()),
        Input::Rating => (
            Some(Prompt::Rating {
                step,
                target: first,
                stars: None,
                note: LineEditor::default(),
            }),
            Vec::new(),
        ),
        Input::Staff | Input::Text | Input::Extension | Input::CallBack => (
            Some(Prompt::Text {
                step,
                targets,
                editor: LineEditor::default(),
                reassign_to: None,
            }),
            Vec::new(),
        ),
        Input::Nothing => match StepBody::build(step, Given::Nothing) {
            Some(body) => act(body, targets, None),
            None => (None, Vec::new()),
        },
    }
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
    if reassigning(app, &targets) && note.is_none() {
        let p = Prompt::Text {
            step: Step::Dispatch,
            targets,
            editor: LineEditor::default(),
            reassign_to: Some(dept),
        };
        return (Some(p), Vec::new());
    }
    match StepBody::build(Step::Dispatch, Given::Department(dept, note)) {
        Some(body) => act(body, targets, draft),
        None => (None, Vec::new()),
    }
}

/// Whether dispatching any of `targets` would move it from the department it is with (which
/// needs a reason).
pub(crate) fn reassigning(app: &App, targets: &[WhistleId]) -> bool {
    targets.iter().any(|id| {
        app.whistle(*id)
            .is_some_and(|w| w.status == WhistleStatus::Dispatched)
    })
}

/// Handles a key while a prompt is open.
pub fn on_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    let Some(mut p) = app.prompt.take() else {
        return Vec::new();
    };
    if k.code == KeyCode::Esc {
        if let Prompt::Filter { .. } = p {
            // Esc leaves the filter as it was before typing.
            crate::filter::restore(app);
        }
        return Vec::new();
    }
    // Nothing is sent while the connection is down: it is said, and what was typed stays.
    let sends =
        k.code == KeyCode::Enter && !matches!(p, Prompt::Filter { .. } | Prompt::Command { .. });
    if sends && crate::view::stale(app) {
        app.warn_in(
            "离线：未提交，输入已保留；连接恢复后再按 Enter",
            "offline: nothing was sent and your input is kept; press Enter again once reconnected",
        );
        app.prompt = Some(p);
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
        Prompt::Rating {
            target,
            stars,
            note,
            ..
        } => match (k.code, *stars) {
            (KeyCode::Char(c @ '1'..='5'), None) => {
                *stars = Some(c as u8 - b'0');
                (Some(p), Vec::new())
            }
            (KeyCode::Enter, Some(n)) => {
                let body = StepBody::Close(CloseBody {
                    satisfaction: i64::from(n),
                    note: Some(note.text().trim().to_string()).filter(|t| !t.is_empty()),
                });
                let target = *target;
                act(body, vec![target], Some(p.clone()))
            }
            (KeyCode::Enter, None) | (KeyCode::Char(_), None) => {
                app.warn_in("请先按 1–5 评分", "press 1–5 to rate first");
                (Some(p), Vec::new())
            }
            // Backspace on an empty note takes the rating back.
            (KeyCode::Backspace, Some(_)) if note.text().is_empty() => {
                *stars = None;
                (Some(p), Vec::new())
            }
            (_, Some(_)) => {
                note.key(k);
                (Some(p), Vec::new())
            }
            _ => (Some(p), Vec::new()),
        },
        Prompt::WishText { .. } => return on_wish_text_key(app, p, k),
        Prompt::Confirm { targets, body } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') | KeyCode::Char('Y') => {
                let dept = match body {
                    StepBody::Dispatch(d) => Some(d.department_id),
                    _ => None,
                };
                app.batch = Some(crate::incoming::Batch::new(body.step(), dept, targets));
                let fx = targets
                    .iter()
                    .map(|id| Effect::Act {
                        id: *id,
                        version: None,
                        body: body.clone(),
                        draft: None,
                    })
                    .collect();
                (None, fx)
            }
            KeyCode::Char('n') | KeyCode::Char('N') => (None, Vec::new()),
            _ => (Some(p), Vec::new()),
        },
        Prompt::Command { editor, hint, back } => match k.code {
            KeyCode::Enter => {
                let line = editor.text();
                return crate::command::run(app, &line);
            }
            // ↑/↓ go back and forth through the commands run before.
            KeyCode::Up | KeyCode::Down => {
                let n = app.history.len();
                let next = match (k.code, *back) {
                    (KeyCode::Up, b) if b < n => b + 1,
                    (KeyCode::Down, b) if b > 0 => b - 1,
                    (_, b) => b,
                };
                *back = next;
                *editor = match next {
                    0 => LineEditor::default(),
                    b => LineEditor::with(&app.history[n - b]),
                };
                hint.clear();
                (Some(p), Vec::new())
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
        Prompt::Filter { editor, hint } => match k.code {
            KeyCode::Enter => match crate::filter::commit(app, &editor.text()) {
                Ok(()) => (None, Vec::new()),
                Err(why) => {
                    *hint = why;
                    (Some(p), Vec::new())
                }
            },
            _ => {
                editor.key(k);
                *hint = crate::filter::preview(app, &editor.text());
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
        step,
        targets,
        editor,
        reassign_to,
    } = &mut p
    else {
        return keep(app, p);
    };
    if k.code != KeyCode::Enter {
        editor.key(k);
        return keep(app, p);
    }
    let (step, targets, text, reassign_to) = (
        *step,
        targets.clone(),
        editor.text().trim().to_string(),
        *reassign_to,
    );
    if text.is_empty() {
        let ask = match reassign_to {
            Some(_) => app.lang.t().prompt.reassign_reason,
            None => app.lang.step(step).ask,
        };
        app.warn(if zh {
            format!("请填写：{ask}")
        } else {
            format!("this needs text: {ask}")
        });
        return keep(app, p);
    }
    let draft = Some(p.clone());
    let (next, fx) = if let Some(d) = reassign_to {
        dispatch(app, targets, d, Some(text), draft)
    } else {
        let body = match step.input() {
            Input::Staff => {
                let staff = split_staff(&text);
                if staff.len() < 2 {
                    app.warn_in(
                        "报到需要两名以上不同的人员，请用逗号或空格分隔",
                        "reporting for duty needs two or more people, separated by commas or spaces",
                    );
                    return keep(app, p);
                }
                StepBody::build(step, Given::Staff(staff))
            }
            // `dup W1042 …` names the original of a duplicate.
            _ if step == Step::Reject => Some(reject_body(&text)),
            Input::Extension | Input::CallBack => {
                let current = targets
                    .first()
                    .and_then(|id| app.whistle(*id))
                    .map(|w| w.resolve_by);
                match crate::middle::body(step, &text, current, app.now) {
                    Ok(body) => Some(body),
                    Err((zh_why, en_why)) => {
                        app.warn_in(zh_why, en_why);
                        return keep(app, p);
                    }
                }
            }
            _ => StepBody::build(step, Given::Text(text)),
        };
        match body {
            Some(body) => act(body, targets, draft),
            None => (None, Vec::new()),
        }
    };
    app.prompt = next;
    fx
}

fn on_wish_text_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    let Prompt::WishText { step, id, editor } = &mut p else {
        return keep(app, p);
    };
    if k.code != KeyCode::Enter {
        editor.key(k);
        return keep(app, p);
    }
    let (step, id, text) = (*step, *id, editor.text().trim().to_string());
    if text.is_empty() {
        let ask = app.lang.step(step).ask;
        app.warn(if app.zh() {
            format!("请填写：{ask}")
        } else {
            format!("this needs text: {ask}")
        });
        return keep(app, p);
    }
    let body = match step {
        Step::Claim => StepBody::Claim(ClaimBody {
            department_id: None,
            claimer: Some(text),
        }),
        _ => match StepBody::build(step, Given::Text(text)) {
            Some(b) => b,
            None => return Vec::new(),
        },
    };
    vec![Effect::ActWish {
        id,
        version: None,
        body,
        draft: Some(Box::new(Draft { prompt: p })),
    }]
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
        Prompt::Rating { target, .. } => vec![*target],
        Prompt::WishText { .. } => Vec::new(),
        _ => Vec::new(),
    }
}
