//! The status and hint lines, prompts and the help overlay.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::parts::{bottom, boxed};
use super::{local_time, Theme};
use crate::app::{App, Conn};
use crate::i18n::Lang;
use crate::keys::Action;
use crate::prompt::{Caution, Prompt};
use crate::text::{fit, width};

/// Connection, last data, counts of new and marked rows, the filter, and the message; false
/// when the message is too long for the line (then [`message`] shows it).
pub fn status_line(app: &App, f: &mut Frame, area: Rect, theme: Theme) -> bool {
    let t = app.lang.t();
    let (conn, style) = match app.conn {
        Conn::Live => (t.live.to_string(), theme.good()),
        Conn::Connecting => (t.connecting.to_string(), theme.warn()),
        Conn::Reconnecting { attempt } => (
            format!("{} ({attempt})", t.reconnecting),
            theme.warn().add_modifier(Modifier::REVERSED),
        ),
        Conn::Offline => (
            t.offline.to_string(),
            theme.alert().add_modifier(Modifier::REVERSED),
        ),
        Conn::Refused => (
            t.refused.to_string(),
            theme.alert().add_modifier(Modifier::REVERSED),
        ),
    };
    let mut spans = vec![Span::styled(conn, style)];
    if app.unencrypted {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            t.unencrypted,
            theme.alert().add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(me) = &app.me {
        spans.push(Span::raw(format!(
            " · {}（{}）",
            me.name,
            crate::words::role(app.lang, me.role)
        )));
    }
    if let Some(at) = app.last_data {
        spans.push(Span::styled(
            format!(" · {} {}", t.data_at, local_time(at, app.now, app.tz)),
            theme.muted(),
        ));
    }
    if !app.queue.new_ids.is_empty() {
        spans.push(Span::styled(
            format!(" · +{} {}", app.queue.new_ids.len(), t.new),
            theme.warn().add_modifier(Modifier::BOLD),
        ));
    }
    if app.notices.unseen > 0 {
        let key = app.keymap.hint_key(Action::ViewNotices).unwrap_or_default();
        let n = app.notices.unseen;
        spans.push(Span::styled(
            if app.lang == Lang::Zh {
                format!(" · ✉ {n} 条新通知（{key}）")
            } else {
                format!(" · ✉ {n} new ({key})")
            },
            theme.warn().add_modifier(Modifier::BOLD),
        ));
    }
    if !app.queue.marked.is_empty() {
        let marked = if app.lang == Lang::Zh {
            "已标记"
        } else {
            "marked"
        };
        spans.push(Span::raw(format!(
            " · *{} {marked}",
            app.queue.marked.len()
        )));
    }
    let (filter, said, n) = match app.view {
        crate::app::View::Wishes => (
            &app.wishes.filter_text,
            String::new(),
            app.wishes.shown.len(),
        ),
        crate::app::View::Work => (
            &app.queue.filter_text,
            app.queue.filter_said.clone(),
            app.work.shown.len(),
        ),
        _ => (
            &app.queue.filter_text,
            app.queue.filter_said.clone(),
            app.rows().len(),
        ),
    };
    if !filter.is_empty() && crate::filter::applies(app.view) {
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(" → {said}")
        };
        spans.push(Span::raw(format!(" · {}: {filter}{said} ({n})", t.filter)));
    }
    let used: usize = spans.iter().map(|s| width(&s.content)).sum();
    let mut fits = true;
    if let Some(m) = &app.flash {
        let room = usize::from(area.width).saturating_sub(used + 3);
        spans.push(Span::raw(" │ "));
        // A message too long for the line is shown whole above it (see `message`).
        fits = width(&m.text) <= room;
        let text = match (fits, app.lang) {
            (true, _) => m.text.clone(),
            (false, Lang::Zh) => "见上方 ↑".to_string(),
            (false, Lang::En) => "see above ↑".to_string(),
        };
        spans.push(Span::styled(fit(&text, room), flash_style(m.error, theme)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    fits
}

fn flash_style(error: bool, theme: Theme) -> Style {
    if error {
        theme.alert().add_modifier(Modifier::REVERSED)
    } else {
        theme.good()
    }
}

/// A message too long for the status line, whole and wrapped, just above it (over the body's
/// last rows), until the next thing done.
pub fn message(app: &App, f: &mut Frame, body: Rect, theme: Theme) {
    let Some(m) = &app.flash else {
        return;
    };
    let inner_w = usize::from(body.width.saturating_sub(2)).max(1);
    let lines = width(&m.text).div_ceil(inner_w).clamp(1, 6) as u16 + 1;
    let h = (lines + 1).min(body.height);
    let area = Rect {
        y: body.y + body.height - h,
        height: h,
        ..body
    };
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(flash_style(m.error, theme));
    f.render_widget(
        Paragraph::new(Span::styled(m.text.clone(), flash_style(m.error, theme)))
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}

/// `actions`, with the steps the dashboard offers that they do not name after their last step
/// (a new step shows up there until it is given a place; only those offered are shown).
fn with_every_step(actions: &[Action]) -> Vec<Action> {
    let mut all = actions.to_vec();
    let mut at = all
        .iter()
        .rposition(|a| matches!(a, Action::Step(_)))
        .map_or(0, |i| i + 1);
    for (step, _, _) in crate::keys::STEP_KEYS {
        if !all.contains(&Action::Step(*step)) {
            all.insert(at, Action::Step(*step));
            at += 1;
        }
    }
    all
}

/// The keys that work here, from the live keymap, and only the steps this token may take.
pub fn hint_line(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    use crate::screens::Hints;
    let h = &app.lang.t().hints;

    // `own`: the screen's own keys; the other steps a row offers go first when room is short
    // (the help screen lists them all).
    let keyed = |actions: &[Action], own: &[Action]| -> String {
        let mut parts: Vec<(Action, String)> = actions
            .iter()
            .filter(|a| match a {
                Action::Step(step) => app.offers(*step),
                Action::New => crate::filing::offered(app),
                _ => true,
            })
            .filter_map(|a| {
                app.keymap
                    .hint_key(*a)
                    .map(|k| (*a, format!("{k} {}", crate::words::action(app.lang, *a))))
            })
            .collect();
        let line = |parts: &[(Action, String)], sep: &str| {
            parts
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(sep)
        };
        let room = usize::from(area.width);
        // Roomy when it fits; tighter rather than cutting the last keys.
        if width(&line(&parts, "  ")) <= room {
            return line(&parts, "  ");
        }
        // What goes first when room is short: a rare step and the keys that move about (the
        // help lists them), then steps from the end; the selected case's own steps stay before those (a returned
        // case's v, an urged one's u), and so do `:`, `?` and `q`.
        const GIVEN_UP_FIRST: &[Action] = &[
            // A rare step (most joint calls are made at dispatch); the help lists it.
            Action::Step(shaozi_shared::api::Step::Assisting),
            Action::ViewInbox,
            Action::Mark,
            Action::NextView,
            Action::Filter,
            Action::Back,
            Action::Open,
        ];
        while width(&line(&parts, " ")) > room {
            let at = GIVEN_UP_FIRST
                .iter()
                .find_map(|g| parts.iter().position(|(a, _)| a == g))
                .or_else(|| parts.iter().rposition(|(a, _)| !own.contains(a)))
                .or_else(|| {
                    parts.iter().rposition(|(a, _)| {
                        !matches!(a, Action::Command | Action::Help | Action::Quit)
                    })
                });
            let Some(at) = at else {
                break;
            };
            parts.remove(at);
        }
        line(&parts, " ")
    };
    let text = match &app.prompt {
        Some(Prompt::Picker {
            step: shaozi_shared::api::Step::Assisting,
            ..
        }) => if app.lang == Lang::Zh {
            "输入筛选  ↑↓ 选择  Space 标记/取消协办  Enter 确定  Esc 取消"
        } else {
            "type to filter  ↑↓ choose  Space marks/unmarks  Enter sends  Esc cancel"
        }
        .to_string(),
        Some(Prompt::Picker { .. }) => h.picker.to_string(),
        Some(Prompt::Form(_)) => if app.lang == Lang::Zh {
            "Tab/↓ 下一项  ↑ 上一项  ← → 换选项  最后一项 Enter 提交  Esc 收起"
        } else {
            "Tab/↓ next  ↑ back  ← → choose  Enter on the last sends  Esc puts away"
        }
        .to_string(),
        // A reply or a reason the case has templates for: Tab puts them in the line.
        Some(Prompt::Text {
            step,
            targets,
            reassign_to: None,
            ..
        }) if !crate::replies::offered(app, *step, targets).is_empty() => if app.lang == Lang::Zh {
            "Tab 下一个模板  Shift-Tab 上一个  可改写  Enter 发送  Esc 取消"
        } else {
            "Tab next template  Shift-Tab previous  edit freely  Enter sends  Esc cancel"
        }
        .to_string(),
        Some(_) => h.prompt.to_string(),
        None => match crate::app::route::on_screen!(app, s, cx => s.hints(&cx)) {
            // A screen that offers steps offers every step its table row gives a key.
            Hints::Keys(actions) if actions.iter().any(|a| matches!(a, Action::Step(_))) => {
                keyed(&with_every_step(&actions), &actions)
            }
            Hints::Keys(actions) => keyed(&actions, &actions),
            Hints::Text(text) => text.to_string(),
        },
    };
    f.render_widget(
        Paragraph::new(Span::styled(
            fit(&text, usize::from(area.width)),
            theme.muted(),
        )),
        area,
    );
}

/// The part of a prompt's text that fits its box, with the cursor's column in it.
fn editor_window(editor: &crate::editor::LineEditor, area: Rect) -> (String, usize) {
    editor.window(usize::from(area.width.saturating_sub(4)))
}

/// Rows the open prompt takes at the bottom of the body (as [`prompt`] lays it out).
pub fn prompt_height(p: &Prompt, body: Rect) -> u16 {
    let h = match p {
        Prompt::Picker { .. } => 10u16.min(body.height.saturating_sub(4)) + 3,
        Prompt::Confirm { targets, .. } => {
            targets
                .len()
                .min(usize::from(body.height.saturating_sub(4))) as u16
                + 3
        }
        Prompt::Filter { hint, .. } => {
            let inner_w = usize::from(body.width.saturating_sub(2)).max(1);
            3 + crate::text::width(hint).div_ceil(inner_w).clamp(1, 3) as u16
        }
        Prompt::Rating { .. } | Prompt::Command { .. } | Prompt::Sure { .. } => 4,
        Prompt::Form(form) => super::form::height(form),
        Prompt::Text { .. } | Prompt::WishText { .. } | Prompt::Muster { .. } => 3,
    };
    h.min(body.height)
}

/// The open prompt, at the bottom of the body.
pub fn prompt(app: &App, p: &Prompt, f: &mut Frame, body: Rect, theme: Theme) {
    let t = &app.lang.t().prompt;
    let zh = app.lang == Lang::Zh;
    let ids = |targets: &[shaozi_shared::WhistleId]| {
        targets
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match p {
        Prompt::Picker {
            targets,
            editor,
            sel,
            assisting,
            step,
            ..
        } => {
            let options = p.visible_options();
            let list_h = 10u16.min(body.height.saturating_sub(4));
            let area = bottom(body, list_h + 3);
            let start = sel.saturating_sub(usize::from(list_h).saturating_sub(1));
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(4)));
            let mut lines = vec![Line::from(format!("> {typed}"))];
            for (i, o) in options
                .iter()
                .enumerate()
                .skip(start)
                .take(usize::from(list_h))
            {
                let mark = if o.handles { "✓" } else { " " };
                let load = if zh {
                    format!("在办 {}", o.load)
                } else {
                    format!("load {}", o.load)
                };
                let now_with = match (o.current, zh) {
                    (false, _) => "",
                    (true, true) => "  ← 现承办",
                    (true, false) => "  ← has it now",
                };
                let helps = match (assisting.contains(&o.id), zh) {
                    (false, _) => "",
                    (true, true) => "  +协办",
                    (true, false) => "  +assists",
                };
                let text = format!(
                    "{mark} {:<5} {}  {load}{now_with}{helps}",
                    o.id.to_string(),
                    o.name
                );
                let style = if i == *sel {
                    theme.selected()
                } else {
                    Style::default()
                };
                lines.push(Line::from(Span::styled(text, style)));
            }
            if options.is_empty() {
                lines.push(Line::from(Span::styled(
                    if zh {
                        "没有匹配的部门"
                    } else {
                        "no department matches"
                    },
                    theme.muted(),
                )));
            }
            let ask = match (*step, zh) {
                (shaozi_shared::api::Step::Assisting, true) => "协办部门（空格标记，回车确定）",
                (shaozi_shared::api::Step::Assisting, false) => {
                    "Assisting departments (Space marks, Enter sends)"
                }
                _ => app.lang.step(shaozi_shared::api::Step::Dispatch).ask,
            };
            let inner = boxed(f, area, &format!("{ask} · {}", ids(targets)), lines);
            f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
        }
        Prompt::Muster {
            targets,
            calling,
            editor,
        } => {
            let area = bottom(body, 3);
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(4)));
            let names: Vec<String> = std::iter::once(calling.lead)
                .chain(calling.assisting.iter().copied())
                .map(|d| app.model.dir.department(Some(d)))
                .collect();
            let title = if zh {
                format!(
                    "联合报到 {}：报到地点和时间（如 梓山社区居委会 09:30 或 +2h；直接 Enter 不指定）· {}",
                    names.join("、"),
                    ids(targets)
                )
            } else {
                format!(
                    "Joint call {}: where and by when to report (梓山社区居委会 09:30 or +2h; Enter for none) · {}",
                    names.join(", "),
                    ids(targets)
                )
            };
            let room = usize::from(area.width.saturating_sub(4));
            let inner = boxed(
                f,
                area,
                &fit(&title, room),
                vec![Line::from(format!("> {typed}"))],
            );
            f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
        }
        Prompt::Text {
            step,
            targets,
            editor,
            reassign_to,
        } => {
            let label = match reassign_to {
                Some(_) if *step == shaozi_shared::api::Step::Dispatch => {
                    t.reassign_reason.to_string()
                }
                // Who is called and who let go, so the reason is typed knowing what it sends.
                Some(calling) => {
                    let now = targets
                        .first()
                        .and_then(|id| app.whistle(*id))
                        .map(|w| w.assisting.clone())
                        .unwrap_or_default();
                    let names = |ds: Vec<shaozi_shared::DepartmentId>| {
                        ds.into_iter()
                            .map(|d| app.model.dir.department(Some(d)))
                            .collect::<Vec<_>>()
                            .join(if zh { "、" } else { ", " })
                    };
                    let add = names(
                        calling
                            .assisting
                            .iter()
                            .filter(|d| !now.contains(d))
                            .copied()
                            .collect(),
                    );
                    let remove = names(
                        now.iter()
                            .filter(|d| !calling.assisting.contains(d))
                            .copied()
                            .collect(),
                    );
                    let mut parts = vec![app.lang.step(*step).ask.to_string()];
                    if !add.is_empty() {
                        parts.push(if zh {
                            format!("呼叫 {add}")
                        } else {
                            format!("call {add}")
                        });
                    }
                    if !remove.is_empty() {
                        parts.push(if zh {
                            format!("放走 {remove}")
                        } else {
                            format!("let go {remove}")
                        });
                    }
                    parts.join(" · ")
                }
                None => {
                    let ask = app.lang.step(*step).ask;
                    let offered = crate::replies::offered(app, *step, targets);
                    let shown = crate::replies::current(*step, &offered, &editor.text());
                    match (offered.len(), shown, zh) {
                        (0, _, _) => ask.to_string(),
                        (n, Some(i), true) => {
                            format!("{ask} · 模板 {}/{n}「{}」Tab 换", i + 1, offered[i].name)
                        }
                        (n, Some(i), false) => {
                            format!(
                                "{ask} · template {}/{n} “{}”, Tab next",
                                i + 1,
                                offered[i].name
                            )
                        }
                        (n, None, true) => format!("{ask} · Tab 选模板（{n}）"),
                        (n, None, false) => format!("{ask} · Tab for a template ({n})"),
                    }
                }
            };
            let area = bottom(body, 3);
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(4)));
            let inner = boxed(
                f,
                area,
                &format!("{label} · {}", ids(targets)),
                vec![Line::from(format!("> {typed}"))],
            );
            f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
        }
        Prompt::Rating {
            step,
            target,
            stars,
            note,
        } => {
            let area = bottom(body, 4);
            let title = format!("{} · {target}", app.lang.step(*step).ask);
            match stars {
                None => {
                    boxed(
                        f,
                        area,
                        &title,
                        vec![
                            Line::from("1 ★  2 ★★  3 ★★★  4 ★★★★  5 ★★★★★"),
                            Line::from(Span::styled(
                                if zh {
                                    "按数字评分，再可写备注；Esc 取消"
                                } else {
                                    "press a number to rate, then add a note if you like; Esc cancels"
                                },
                                theme.muted(),
                            )),
                        ],
                    );
                }
                Some(n) => {
                    let (typed, col) = editor_window(note, area);
                    let inner = boxed(
                        f,
                        area,
                        &title,
                        vec![
                            Line::from(format!("> {typed}")),
                            Line::from(Span::styled(
                                if zh {
                                    format!(
                                        "评价 {}（{n} 分）· 备注可不填 · Enter 确认关闭 · Backspace 改评分 · Esc 取消",
                                        crate::words::stars(*n)
                                    )
                                } else {
                                    format!(
                                        "rating {} ({n}) · note optional · Enter closes it · Backspace to rerate · Esc cancels",
                                        crate::words::stars(*n)
                                    )
                                },
                                theme.warn(),
                            )),
                        ],
                    );
                    f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
                }
            }
        }
        Prompt::WishText { step, id, editor } => {
            let area = bottom(body, 3);
            let (typed, col) = editor_window(editor, area);
            let inner = boxed(
                f,
                area,
                &format!(
                    "{} · {id} {}",
                    app.lang.step(*step).ask,
                    app.wishes
                        .items
                        .iter()
                        .find(|w| w.id == *id)
                        .map(|w| w.title.as_str())
                        .unwrap_or_default()
                ),
                vec![Line::from(format!("> {typed}"))],
            );
            f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
        }
        Prompt::Confirm {
            targets,
            body: step,
            cautions,
        } => {
            let verb = app.lang.step(step.step()).hint;
            let what = match step {
                shaozi_shared::api::StepBody::Dispatch(d) => {
                    let dept = app.model.dir.department(Some(d.department_id));
                    if zh {
                        format!("派往 {dept}")
                    } else {
                        format!("assign to {dept}")
                    }
                }
                // A merge says into which case, so the wrong original is caught here.
                shaozi_shared::api::StepBody::Reject(r) => match (r.duplicate_of, zh) {
                    (Some(o), true) => format!("{verb}（并入 {o}，作为重复件）"),
                    (Some(o), false) => format!("{verb} (a duplicate of {o})"),
                    (None, _) => verb.to_string(),
                },
                _ => verb.to_string(),
            };
            let n = targets
                .len()
                .min(usize::from(body.height.saturating_sub(4)));
            let area = bottom(body, n as u16 + 3);
            let mut lines: Vec<Line> = targets
                .iter()
                .take(n)
                .map(|id| {
                    let title = app
                        .whistle(*id)
                        .map(|w| w.title.clone())
                        .unwrap_or_default();
                    let caution = cautions.iter().find(|(c, _)| c == id).map(|(_, c)| {
                        let w = app.whistle(*id);
                        match (c, zh) {
                            (Caution::AlreadyWith, true) => "  ⚠ 已在该部门".to_string(),
                            (Caution::AlreadyWith, false) => "  ⚠ already with it".to_string(),
                            (Caution::DoesNotHandle, true) => format!(
                                "  ⚠ 该部门不承办{}",
                                w.map(|w| app.model.dir.category(&w.category, app.lang))
                                    .unwrap_or_default()
                            ),
                            (Caution::DoesNotHandle, false) => format!(
                                "  ⚠ does not handle {}",
                                w.map(|w| app.model.dir.category(&w.category, app.lang))
                                    .unwrap_or_default()
                            ),
                        }
                    });
                    match caution {
                        Some(c) => Line::from(vec![
                            Span::raw(format!("{id}  {title}")),
                            Span::styled(c, theme.warn()),
                        ]),
                        None => Line::from(format!("{id}  {title}")),
                    }
                })
                .collect();
            lines.push(Line::from(Span::styled(
                if zh {
                    "y / Enter 确认  ·  n / Esc 取消"
                } else {
                    "y / Enter to go ahead  ·  n / Esc to cancel"
                },
                theme.muted(),
            )));
            let skipped = cautions
                .iter()
                .filter(|(_, c)| *c == Caution::AlreadyWith)
                .count();
            let title = match (zh, skipped) {
                (true, 0) => format!("{what}：{} 件", targets.len()),
                (true, k) => format!("{what}：{} 件（{k} 件已在该部门，将跳过）", targets.len()),
                (false, 0) => format!("{what}: {}", en_cases(targets.len())),
                (false, k) => format!(
                    "{what}: {} ({k} already with it, left as they are)",
                    en_cases(targets.len())
                ),
            };
            boxed(f, area, &title, lines);
        }
        Prompt::Form(form) => super::form::draw(app.lang, form, f, body, theme),
        Prompt::Sure { question, .. } => {
            let area = bottom(body, 4);
            let room = usize::from(area.width.saturating_sub(2));
            boxed(
                f,
                area,
                if zh { "请确认" } else { "Are you sure?" },
                vec![
                    Line::from(fit(question, room)),
                    Line::from(Span::styled(
                        if zh {
                            "y / Enter 确认  ·  n / Esc 取消"
                        } else {
                            "y / Enter to go ahead  ·  n / Esc to cancel"
                        },
                        theme.muted(),
                    )),
                ],
            );
        }
        Prompt::Command { editor, hint, .. } => {
            let area = bottom(body, 4);
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(3)));
            let lines = vec![
                Line::from(format!(":{typed}")),
                Line::from(Span::styled(hint.clone(), theme.muted())),
            ];
            let inner = boxed(f, area, t.command, lines);
            f.set_cursor_position((inner.x + 1 + col as u16, inner.y));
        }
        Prompt::Filter { editor, hint } => {
            let area = bottom(body, prompt_height(p, body));
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(3)));
            let title = if app.view == crate::app::View::Wishes {
                if zh {
                    "筛选心愿（未认领 已认领 社区=… 或文字）"
                } else {
                    "filter wishes (unclaimed, claimed, community=… or words)"
                }
            } else {
                t.filter
            };
            let inner = boxed(
                f,
                area,
                title,
                vec![
                    Line::from(format!("/{typed}")),
                    Line::from(Span::styled(hint.clone(), theme.muted())),
                ],
            );
            f.set_cursor_position((inner.x + 1 + col as u16, inner.y));
        }
    }
}

/// "1 case", "3 cases".
fn en_cases(n: usize) -> String {
    if n == 1 {
        "1 case".into()
    } else {
        format!("{n} cases")
    }
}

/// The live keymap in the UI's words, only what the token's role may do; in two columns when
/// one does not fit.
pub fn help(app: &App, f: &mut Frame, body: Rect) {
    let binds = app.keymap.bindings();
    let binds: Vec<_> = binds
        .iter()
        .filter(|(a, _)| a.op().is_none_or(|op| app.may(op)))
        .collect();
    // As few columns as hold every key (up to three), each as wide as the screen allows.
    let rows_fit = usize::from(body.height.saturating_sub(2)).max(1);
    let columns = (1..=3usize)
        .find(|c| binds.len() <= rows_fit * c)
        .unwrap_or(3);
    let col_w = 36usize.min(usize::from(body.width.saturating_sub(2)) / columns);
    let label_w = if columns == 3 { 12 } else { 20 };
    let entries: Vec<String> = binds
        .iter()
        .map(|(a, keys)| {
            let label = crate::text::fit(crate::words::action(app.lang, *a), label_w);
            crate::text::fit(
                &format!("{} {}", crate::text::pad(&label, label_w), keys.join(" ")),
                col_w.saturating_sub(1),
            )
        })
        .collect();
    let per_col = entries.len().div_ceil(columns);
    let w = ((col_w * columns + 2) as u16).min(body.width);
    // What the shown screen's marks and short headers mean, below the keys, as far as it fits.
    let legend = wrap_words(&legend(app), usize::from(w.saturating_sub(2)));
    // A blank line above the legend when there is room for it (at 80×24 there is not).
    let gap =
        usize::from(!legend.is_empty() && per_col + legend.len() + 3 <= usize::from(body.height));
    let legend_rows = legend.len() + gap;
    let h = ((per_col + legend_rows) as u16 + 2).min(body.height);
    let area = Rect {
        x: body.x + (body.width - w) / 2,
        y: body.y + (body.height - h) / 2,
        width: w,
        height: h,
    };
    let mut lines: Vec<Line> = (0..per_col)
        .map(|r| {
            let cells: Vec<String> = (0..columns)
                .filter_map(|c| entries.get(c * per_col + r))
                .map(|e| crate::text::pad(e, col_w))
                .collect();
            Line::from(cells.concat())
        })
        .collect();
    if gap == 1 {
        lines.push(Line::from(""));
    }
    lines.extend(legend.into_iter().map(Line::from));
    boxed(f, area, app.lang.t().help, lines);
}

/// What the marks and short headers of the shown screen mean.
fn legend(app: &App) -> Vec<String> {
    use crate::app::View;
    let zh = app.zh();
    match app.view {
        View::Queue
        | View::Work
        | View::DeptCases(_)
        | View::Inbox
        | View::Detail
        | View::Search => {
            let marks: &[(&str, &str, &str)] = &[
                ("急", "紧急", "urgent (!! in English)"),
                ("↑1", "已升级到第 1 级", "escalated to level 1"),
                ("!", "被催办", "urged"),
                ("◷", "时限将到", "deadline near"),
                ("↩", "退单待定", "returned, to decide"),
                ("✗", "已超时", "overdue"),
                (
                    "⇄",
                    "转派两次以上",
                    "moved between departments twice or more",
                ),
                ("+", "新到未看", "new, not yet seen"),
                ("*", "已标记", "marked"),
            ];
            marks
                .iter()
                .map(|(m, z, e)| format!("{m} {}", if zh { z } else { e }))
                .collect()
        }
        View::Assessment => crate::screens::assessment::COLUMNS
            .iter()
            .filter(|c| c.zh != c.csv_zh)
            .map(|c| {
                if zh {
                    format!("{}={}", c.zh, c.csv_zh)
                } else {
                    format!("{}={}", c.en, c.csv_en)
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Items laid out on lines of `width` columns, two spaces apart.
fn wrap_words(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if crate::text::width(line) + 2 + crate::text::width(item) <= width => {
                line.push_str("  ");
                line.push_str(item);
            }
            _ => lines.push(crate::text::fit(item, width)),
        }
    }
    lines
}
