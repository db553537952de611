//! Taking a step: what the shared step table says a step needs (a department, staff, a text, a
//! rating, or nothing), the prompts that ask for it, and the effects that take it once
//! confirmed. The dashboard's steps on whistles and on wishes all start here.

use crossterm::event::{KeyCode, KeyEvent};

use shaozi_shared::api::{
    ClaimBody, CloseBody, CompleteBody, Given, Input, RejectBody, Step, StepBody,
};
use shaozi_shared::{DepartmentId, Whistle, WhistleId, WhistleStatus};

use crate::app::App;
use crate::batch::Batch;
use crate::editor::{Edit, LineEditor};
use crate::message::{Draft, Effect, View};
use crate::prompt::form::FormKind;
use crate::prompt::{Calling, Caution, DeptOption, Prompt};

/// Takes a step on the shown screen's case (or the marked ones): asks for what the shared table
/// says it needs, of the cases whose status allows it.
pub(crate) fn take(app: &mut App, step: Step) -> Vec<Effect> {
    let zh = app.zh();
    let targets = app.targets(step.bulk());
    if targets.is_empty() {
        app.say(app.lang.t().nothing);
        return Vec::new();
    }
    let mine = crate::context::own_department(app.me.as_ref());
    let (fit, unfit): (Vec<WhistleId>, Vec<WhistleId>) = targets
        .into_iter()
        .partition(|id| app.whistle(*id).is_none_or(|w| step.fits_for(w, mine)));
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
    let (next, fx) = start(app, step, fit);
    app.prompt = next;
    fx
}

/// Why a step cannot be taken on a whistle now: its status (or its level), and what can.
pub(crate) fn not_now(app: &App, step: Step, w: &Whistle) -> String {
    let zh = app.zh();
    let verb = app.lang.step(step).hint;
    let status = crate::words::list_status(app.lang, w);
    let mine = crate::context::own_department(app.me.as_ref());
    let can: Vec<&str> = crate::keys::STEP_KEYS
        .iter()
        .map(|(s, _, _)| *s)
        .filter(|s| s.fits_for(w, mine) && app.may(s.op()))
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
pub(crate) fn take_on_wish(app: &mut App, step: Step) -> Vec<Effect> {
    if app.view != View::Wishes {
        app.warn_in(
            "心愿的操作在心愿页：按 3",
            "steps on wishes are on the wishes screen: press 3",
        );
        return Vec::new();
    }
    let Some(w) = app.wishes.selected().cloned() else {
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
    if let Some(other) = app.claimed_by_another(&w) {
        let other = app.model.dir.department(Some(other));
        let verb = app.lang.step(step).hint;
        app.warn(if app.zh() {
            format!("{} 由{other}认领，只有认领的部门能{verb}", w.id)
        } else {
            format!(
                "{} was claimed by {other}; only the department that claimed it may {verb} it",
                w.id
            )
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
        // Completing asks first (it cannot be undone), with room for a note of what was done.
        _ => {
            let editor = match &app.draft {
                Some(Prompt::WishText {
                    step: s,
                    id,
                    editor,
                }) if *s == step && *id == w.id => editor.clone(),
                _ => LineEditor::default(),
            };
            app.prompt = Some(Prompt::WishText {
                step,
                id: w.id,
                editor,
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

/// Dispatches `targets` to `dept` (asking for a reason when one is a reassignment).
pub fn assign(
    app: &mut App,
    targets: Vec<WhistleId>,
    dept: DepartmentId,
    note: Option<String>,
) -> Vec<Effect> {
    let (next, fx) = dispatch_now(app, targets, dept, note);
    app.prompt = next;
    fx
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
    let with: Vec<Option<DepartmentId>> = targets
        .iter()
        .filter_map(|id| app.whistle(*id))
        .map(|w| w.department_id.filter(|_| is_with_department(w)))
        .collect();
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
            current: !with.is_empty() && with.iter().all(|w| *w == Some(d.id)),
        })
        .collect();
    options.sort_by_cached_key(|o| (!o.handles, o.load, crate::text::reading_key(&o.name)));
    Prompt::Picker {
        targets,
        editor: LineEditor::default(),
        options,
        sel: 0,
        assisting: Vec::new(),
        step: Step::Dispatch,
    }
}

/// The picker for changing the assisting departments of `target`: the ones assisting now
/// are marked; Space marks or unmarks, Enter asks why and sends what changed.
fn assisting_picker(app: &App, target: WhistleId) -> Option<Prompt> {
    let w = app.whistle(target)?;
    let assisting = w.assisting.clone();
    match picker(app, vec![target]) {
        Prompt::Picker {
            targets,
            editor,
            options,
            sel,
            ..
        } => Some(Prompt::Picker {
            targets,
            editor,
            options,
            sel,
            assisting,
            step: Step::Assisting,
        }),
        other => Some(other),
    }
}

/// What a change of assisting departments sends: those marked and not assisting now are
/// called, those assisting now and unmarked are let go.
fn assisting_change(w: &Whistle, marked: &[DepartmentId], reason: String) -> StepBody {
    StepBody::Assisting(shaozi_shared::api::AssistingBody {
        add: marked
            .iter()
            .filter(|d| !w.assisting.contains(d))
            .copied()
            .collect(),
        remove: w
            .assisting
            .iter()
            .filter(|d| !marked.contains(d))
            .copied()
            .collect(),
        reason,
    })
}

/// Takes a step on `targets` (after a confirmation when there are several).
pub fn act(
    body: StepBody,
    targets: Vec<WhistleId>,
    draft: Option<Prompt>,
) -> (Option<Prompt>, Vec<Effect>) {
    // Several cases at once, and what cannot be undone (rejecting a case for good), are
    // confirmed first.
    if targets.len() > 1 || body.step() == Step::Reject {
        let p = Prompt::Confirm {
            targets,
            body,
            cautions: Vec::new(),
        };
        return (Some(p), Vec::new());
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
    // A note is a form that asks first who may read it; a correction, a form that starts on the
    // case's category, urgency and address. What was typed before Esc comes back.
    if matches!(step, Step::Note | Step::Reclassify) {
        let kind = match step {
            Step::Note => FormKind::Note(first),
            _ => FormKind::Reclassify(first),
        };
        if let Some(Prompt::Form(f)) = &app.draft {
            if f.kind == kind {
                return (Some(Prompt::Form(f.clone())), Vec::new());
            }
        }
        let form = match (step, app.whistle(first)) {
            (Step::Note, _) => crate::filing::note_form(app, first),
            (_, Some(w)) => crate::filing::reclassify_form(app, w),
            (_, None) => return (None, Vec::new()),
        };
        return (Some(Prompt::Form(Box::new(form))), Vec::new());
    }
    // Granting more time asks first, though the table needs nothing: Enter grants it as asked,
    // a shorter deadline or a note may be typed, and nothing goes out on a stray key.
    if step == Step::ApproveExtension {
        let p = Prompt::Text {
            step,
            targets,
            editor: LineEditor::default(),
            reassign_to: None,
        };
        return (Some(p), Vec::new());
    }
    match step.input() {
        Input::Department if step == Step::Assisting => (assisting_picker(app, first), Vec::new()),
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
        Input::Staff | Input::Text | Input::Extension | Input::CallBack => {
            // What was typed for this step on these cases before Esc comes back.
            let editor = match &app.draft {
                Some(Prompt::Text {
                    step: s,
                    targets: t,
                    editor,
                    reassign_to: None,
                }) if *s == step && *t == targets => editor.clone(),
                // Rejecting a case with a similar one shown starts as a duplicate of the
                // closest (the line can be cleared for another reason).
                _ if step == Step::Reject && targets.len() == 1 => app
                    .detail
                    .closest(first)
                    .map_or_else(LineEditor::default, |o| {
                        LineEditor::with(&format!("dup {o} "))
                    }),
                _ => LineEditor::default(),
            };
            (
                Some(Prompt::Text {
                    step,
                    targets,
                    editor,
                    reassign_to: None,
                }),
                Vec::new(),
            )
        }
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
    dispatch(app, targets, Calling::lead(dept), note, None)
}

fn dispatch(
    app: &App,
    targets: Vec<WhistleId>,
    calling: Calling,
    note: Option<String>,
    draft: Option<Prompt>,
) -> (Option<Prompt>, Vec<Effect>) {
    let dept = calling.lead;
    if reassigning(app, &targets, dept) && note.is_none() {
        let p = Prompt::Text {
            step: Step::Dispatch,
            targets,
            editor: LineEditor::default(),
            reassign_to: Some(calling),
        };
        return (Some(p), Vec::new());
    }
    let Some(mut body) = StepBody::build(Step::Dispatch, Given::Department(dept, note)) else {
        return (None, Vec::new());
    };
    if let StepBody::Dispatch(b) = &mut body {
        b.assisting = calling.assisting;
        b.report = calling.report;
    }
    // A case already with that department, or a department that does not handle its
    // category, is most likely a slip: said, and confirmed, before anything goes out.
    let cautions = dispatch_cautions(app, &targets, dept);
    if !cautions.is_empty() {
        let p = Prompt::Confirm {
            targets,
            body,
            cautions,
        };
        return (Some(p), Vec::new());
    }
    act(body, targets, draft)
}

/// Whether a case is with its department now (dispatched, acknowledged, or returned and not
/// yet decided), rather than only having been with one.
fn is_with_department(w: &Whistle) -> bool {
    matches!(
        w.status,
        WhistleStatus::Dispatched | WhistleStatus::Acknowledged | WhistleStatus::Returned
    )
}

/// What is worth pointing out before dispatching `targets` to `dept`.
pub(crate) fn dispatch_cautions(
    app: &App,
    targets: &[WhistleId],
    dept: DepartmentId,
) -> Vec<(WhistleId, Caution)> {
    let handled = app.model.dir.departments.get(&dept).map(|d| &d.categories);
    targets
        .iter()
        .filter_map(|id| app.whistle(*id))
        .filter_map(|w| {
            if is_with_department(w) && w.department_id == Some(dept) {
                Some((w.id, Caution::AlreadyWith))
            } else if handled.is_some_and(|c| !c.contains(&w.category)) {
                Some((w.id, Caution::DoesNotHandle))
            } else {
                None
            }
        })
        .collect()
}

/// Whether dispatching any of `targets` would move it from the department it is with: a
/// dispatched case (which needs a reason) or a returned one (upholding the return needs a note
/// for the new department).
pub(crate) fn reassigning(app: &App, targets: &[WhistleId], to: DepartmentId) -> bool {
    targets.iter().any(|id| {
        app.whistle(*id).is_some_and(|w| {
            matches!(
                w.status,
                WhistleStatus::Dispatched | WhistleStatus::Returned
            ) && w.department_id != Some(to)
        })
    })
}

/// When every one of `targets` is already with `dept`, what to say instead of dispatching
/// (the server would refuse each): for a returned case, that overruling the return is `v`.
pub(crate) fn all_already_with(
    app: &App,
    targets: &[WhistleId],
    dept: DepartmentId,
) -> Option<String> {
    let cautions = dispatch_cautions(app, targets, dept);
    let all = !targets.is_empty()
        && targets.iter().all(|id| {
            cautions
                .iter()
                .any(|(c, why)| c == id && *why == Caution::AlreadyWith)
        });
    if !all {
        return None;
    }
    let name = app.model.dir.department(Some(dept));
    let zh = app.lang == crate::i18n::Lang::Zh;
    let returned = targets.iter().all(|id| {
        app.whistle(*id)
            .is_some_and(|w| w.status == WhistleStatus::Returned)
    });
    let ids: Vec<String> = targets.iter().map(|id| id.to_string()).collect();
    let ids = ids.join(" ");
    let overrule = app
        .keymap
        .hint_key(crate::keys::Action::Step(Step::Overrule))
        .unwrap_or_else(|| "v".into());
    Some(match (returned, zh) {
        (true, true) => format!(
            "{ids} 是 {name} 退回的；要它继续办，按 {overrule} 驳回退单；要改派，请选别的部门"
        ),
        (true, false) => format!(
            "{name} returned {ids}; to have it carry on, overrule the return with {overrule}; to move it, choose another department"
        ),
        (false, true) => format!("{ids} 已在 {name}，无需再派"),
        (false, false) => format!("{ids} is already with {name}"),
    })
}

/// A key in one of a step's prompts (the picker, a text, the rating, a confirmation, a wish's
/// text); the prompt stays open unless the key sent or left it.
pub(crate) fn on_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    let (next, fx) = match &mut p {
        Prompt::Picker {
            targets,
            assisting,
            step: Step::Assisting,
            ..
        } if matches!(k.code, KeyCode::Char(' ') | KeyCode::Enter) => {
            let (targets, marked) = (targets.clone(), assisting.clone());
            let w = targets.first().and_then(|id| app.whistle(*id)).cloned();
            let chosen = p.visible_options().get(sel_of(&p)).map(|o| o.id);
            match (k.code, w) {
                (_, None) => (None, Vec::new()),
                // The lead leads; it is not one of those assisting it.
                (KeyCode::Char(' '), Some(w)) if chosen.is_some() && chosen == w.department_id => {
                    let name = app.model.dir.department(chosen);
                    app.warn(if app.zh() {
                        format!("{name} 是牵头部门，不能同时协办")
                    } else {
                        format!("{name} leads this case; it cannot assist it too")
                    });
                    (Some(p), Vec::new())
                }
                (KeyCode::Char(' '), Some(_)) => {
                    if let (Some(d), Prompt::Picker { assisting, .. }) = (chosen, &mut p) {
                        match assisting.iter().position(|x| *x == d) {
                            Some(i) => {
                                assisting.remove(i);
                            }
                            None => assisting.push(d),
                        }
                    }
                    (Some(p), Vec::new())
                }
                (_, Some(w)) => {
                    let same = marked.len() == w.assisting.len()
                        && marked.iter().all(|d| w.assisting.contains(d));
                    match w.department_id {
                        _ if same => {
                            app.warn_in(
                                "协办部门没有变化：空格标记要呼叫或放走的部门",
                                "nothing changes: Space marks the departments to call or let go",
                            );
                            (Some(p), Vec::new())
                        }
                        // Why, asked next; the line shows who is called and who let go.
                        Some(lead) => (
                            Some(Prompt::Text {
                                step: Step::Assisting,
                                targets,
                                editor: LineEditor::default(),
                                reassign_to: Some(Calling {
                                    lead,
                                    assisting: marked,
                                    report: None,
                                }),
                            }),
                            Vec::new(),
                        ),
                        None => (None, Vec::new()),
                    }
                }
            }
        }
        Prompt::Picker {
            targets,
            editor,
            sel,
            assisting,
            ..
        } => match k.code {
            // Space marks the selected department to assist (or unmarks it).
            KeyCode::Char(' ') => {
                if let Some(d) = p.visible_options().get(sel_of(&p)).map(|o| o.id) {
                    if let Prompt::Picker { assisting, .. } = &mut p {
                        match assisting.iter().position(|x| *x == d) {
                            Some(i) => {
                                assisting.remove(i);
                            }
                            None => assisting.push(d),
                        }
                    }
                }
                (Some(p), Vec::new())
            }
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
                let marked = assisting.clone();
                let chosen = p.visible_options().get(sel_of(&p)).map(|o| o.id);
                let t = targets_of(&p);
                let helpers: Vec<DepartmentId> =
                    marked.into_iter().filter(|a| Some(*a) != chosen).collect();
                match chosen {
                    // A joint call: where and by when they all report, asked next.
                    Some(lead) if !helpers.is_empty() => (
                        Some(Prompt::Muster {
                            targets: t,
                            calling: Calling {
                                lead,
                                assisting: helpers,
                                report: None,
                            },
                            editor: LineEditor::default(),
                        }),
                        Vec::new(),
                    ),
                    Some(d) if all_already_with(app, &t, d).is_some() => {
                        if let Some(why) = all_already_with(app, &t, d) {
                            app.warn(why);
                        }
                        (Some(p), Vec::new())
                    }
                    Some(d) => dispatch(app, t, Calling::lead(d), None, Some(p.clone())),
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
        Prompt::Muster {
            targets,
            calling,
            editor,
        } => {
            if k.code != KeyCode::Enter {
                editor.key(k);
                return keep(app, p);
            }
            match crate::middle::muster(&editor.text(), app.now, app.tz) {
                Ok(report) => {
                    let calling = Calling {
                        report,
                        ..calling.clone()
                    };
                    let t = targets.clone();
                    dispatch(app, t, calling, None, Some(p.clone()))
                }
                Err((zh_why, en_why)) => {
                    app.warn_in(zh_why, en_why);
                    (Some(p), Vec::new())
                }
            }
        }
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
        Prompt::Confirm {
            targets,
            body,
            cautions,
        } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') | KeyCode::Char('Y') => {
                // A case already with the chosen department is left as it is (the server
                // would refuse it).
                targets.retain(|id| !cautions.contains(&(*id, Caution::AlreadyWith)));
                let dept = match body {
                    StepBody::Dispatch(d) => Some(d.department_id),
                    _ => None,
                };
                // One case is answered on its own; several are summed up once all are in.
                if targets.len() > 1 {
                    app.batch = Some(Batch::new(body.step(), dept, targets));
                }
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
        // Not a step's prompt (the command line, the filter, a screen's own).
        _ => (Some(p), Vec::new()),
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
    // Tab (Shift-Tab back) puts the case's reply templates in the line, one after another.
    let templated = matches!(*step, Step::Resolve | Step::Reject) && reassign_to.is_none();
    if templated && matches!(k.code, KeyCode::Tab | KeyCode::BackTab) {
        let offered = crate::replies::offered(app, *step, targets);
        match crate::replies::cycle(*step, &offered, &editor.text(), k.code == KeyCode::Tab) {
            Some((line, _)) => *editor = LineEditor::with(&line),
            None => app.say(if zh {
                "没有适用于此类问题的回复模板"
            } else {
                "no reply template for this kind of case"
            }),
        }
        return keep(app, p);
    }
    if k.code != KeyCode::Enter {
        editor.key(k);
        return keep(app, p);
    }
    let (step, targets, text, reassign_to) = (
        *step,
        targets.clone(),
        editor.text().trim().to_string(),
        reassign_to.clone(),
    );
    if text.is_empty() && step != Step::ApproveExtension {
        let ask = match reassign_to {
            Some(_) if step == Step::Dispatch => app.lang.t().prompt.reassign_reason,
            _ => app.lang.step(step).ask,
        };
        app.warn(if zh {
            format!("请填写：{ask}")
        } else {
            format!("this needs text: {ask}")
        });
        return keep(app, p);
    }
    // A template the case could not fill: what is left is written over before a resident
    // reads it.
    let left = crate::replies::unfinished(step, &text);
    if !left.is_empty() {
        let left: Vec<String> = left.iter().map(|p| format!("{{{p}}}")).collect();
        app.warn(if zh {
            format!("模板中的 {} 还没填写，请改写后再发送", left.join(" "))
        } else {
            format!("write over {} before sending", left.join(" "))
        });
        return keep(app, p);
    }
    let draft = Some(p.clone());
    let change = targets.first().and_then(|id| app.whistle(*id));
    let (next, fx) = if let (Step::Assisting, Some(calling), Some(w)) = (step, &reassign_to, change)
    {
        act(
            assisting_change(w, &calling.assisting, text),
            targets,
            draft,
        )
    } else if let Some(calling) = reassign_to {
        dispatch(app, targets, calling, Some(text), draft)
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
            // A deadline, an outcome or a grant is read by `middle`.
            input
                if step == Step::ApproveExtension
                    || matches!(input, Input::Extension | Input::CallBack) =>
            {
                let current = targets
                    .first()
                    .and_then(|id| app.whistle(*id))
                    .map(|w| w.resolve_by);
                match crate::middle::body(step, &text, current, app.now, app.tz) {
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
    if text.is_empty() && step != Step::Complete {
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
        Step::Complete => StepBody::Complete(CompleteBody {
            note: Some(text).filter(|t| !t.is_empty()),
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

/// Splits typed staff names on commas, 、, ，, ; and spaces.
pub fn split_staff(s: &str) -> Vec<String> {
    s.split(|c: char| {
        c == ',' || c == '，' || c == '、' || c == ';' || c == '；' || c.is_whitespace()
    })
    .filter(|p| !p.is_empty())
    .map(str::to_string)
    .collect()
}

/// The body of a reject: `dup W1042 reason…`, `重复 W1042，理由…` or `重复件W1042` names the
/// original. Without a reason of its own, the reason is written in the city's language, since
/// Open311 shows it to the public.
pub fn reject_body(text: &str) -> StepBody {
    if let Some((orig, rest)) = crate::replies::duplicate_of(text) {
        let reason = if rest.is_empty() {
            format!("重复件，原件 {orig}")
        } else {
            rest.to_string()
        };
        return StepBody::Reject(RejectBody {
            reason,
            duplicate_of: Some(orig),
        });
    }
    StepBody::Reject(RejectBody {
        reason: text.to_string(),
        duplicate_of: None,
    })
}
