//! The status and hint lines, prompts and the help overlay.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{local_time, Theme};
use crate::app::{App, Conn};
use crate::i18n::Lang;
use crate::keys::Action;
use crate::prompt::Prompt;
use crate::text::{fit, width};

/// Connection, last data, counts of new and marked rows, the filter, and the message.
pub fn status_line(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
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
    };
    let mut spans = vec![Span::styled(conn, style)];
    if let Some(me) = &app.me {
        spans.push(Span::raw(format!(" · {} ({})", me.name, me.role.as_str())));
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
    if !app.queue.filter.is_empty() {
        spans.push(Span::raw(format!(
            " · {}: {} ({})",
            t.filter,
            app.queue.filter_text,
            app.rows().len()
        )));
    }
    let used: usize = spans.iter().map(|s| width(&s.content)).sum();
    if let Some(m) = &app.flash {
        let room = usize::from(area.width).saturating_sub(used + 3);
        let style = if m.error {
            theme.alert().add_modifier(Modifier::REVERSED)
        } else {
            theme.good()
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(fit(&m.text, room), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What a key does, in a few words, for the hint line.
fn hint_word(a: Action, lang: Lang) -> &'static str {
    let zh = lang == Lang::Zh;
    match (a, zh) {
        (Action::Step(step), _) => lang.step(step).hint,
        (Action::Open, true) => "详情",
        (Action::Back, true) => "返回",
        (Action::Filter, true) => "筛选",
        (Action::Help, true) => "帮助",
        (Action::Quit, true) => "退出",
        (Action::Mark, true) => "标记",
        (Action::Command, true) => "命令",
        (Action::Period, true) => "切换周期",
        (Action::SortNext, true) | (Action::SortPrev, true) => "排序（< > 换列）",
        (Action::Export, true) => "导出CSV",
        (Action::Period, false) => "period",
        (Action::SortNext, false) | (Action::SortPrev, false) => "sort (< > column)",
        (Action::Export, false) => "export CSV",
        (Action::Open, false) => "open",
        (Action::Back, false) => "back",
        (Action::Filter, false) => "filter",
        (Action::Help, false) => "help",
        (Action::Quit, false) => "quit",
        (Action::Mark, false) => "mark",
        (Action::Command, false) => "cmd",
        _ => "",
    }
}

/// `actions`, then the steps the dashboard offers that they do not name (a new step shows up
/// at the end until it is given a place).
fn with_every_step(actions: &[Action]) -> Vec<Action> {
    let mut all = actions.to_vec();
    for (step, _, _) in crate::keys::STEP_KEYS {
        if !all.contains(&Action::Step(*step)) {
            all.push(Action::Step(*step));
        }
    }
    all
}

/// The keys that work here, from the live keymap, and only the steps this token may take.
pub fn hint_line(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    use crate::screens::Hints;
    let h = &app.lang.t().hints;

    let keyed = |actions: &[Action]| -> String {
        let parts: Vec<String> = actions
            .iter()
            .filter(|a| crate::app::op_of(**a).is_none_or(|op| app.may(op)))
            .filter_map(|a| {
                app.keymap
                    .hint_key(*a)
                    .map(|k| format!("{k} {}", hint_word(*a, app.lang)))
            })
            .collect();
        // Roomy when it fits; tighter rather than cutting the last keys.
        let roomy = parts.join("  ");
        if width(&roomy) <= usize::from(area.width) {
            roomy
        } else {
            parts.join(" ")
        }
    };
    let text = match &app.prompt {
        Some(Prompt::Picker { .. }) => h.picker.to_string(),
        Some(_) => h.prompt.to_string(),
        None => match crate::on_screen!(app.view, S => S::hints(app)) {
            // A screen that offers steps offers every step its table row gives a key.
            Hints::Keys(actions) if actions.iter().any(|a| matches!(a, Action::Step(_))) => {
                keyed(&with_every_step(&actions))
            }
            Hints::Keys(actions) => keyed(&actions),
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

fn boxed(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line>) -> Rect {
    f.render_widget(Clear, area);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    let inner = block.inner(area);
    f.render_widget(Paragraph::new(lines).block(block), area);
    inner
}

fn bottom(body: Rect, height: u16) -> Rect {
    let h = height.min(body.height);
    Rect {
        y: body.y + body.height - h,
        height: h,
        ..body
    }
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
                let text = format!("{mark} {:<5} {}  {load}", o.id.to_string(), o.name);
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
            let ask = app.lang.step(shaozi_shared::api::Step::Dispatch).ask;
            let inner = boxed(f, area, &format!("{ask} · {}", ids(targets)), lines);
            f.set_cursor_position((inner.x + 2 + col as u16, inner.y));
        }
        Prompt::Text {
            step,
            targets,
            editor,
            reassign_to,
        } => {
            let label = match reassign_to {
                Some(_) => t.reassign_reason,
                None => app.lang.step(*step).ask,
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
        Prompt::Rating { step, target } => {
            let area = bottom(body, 3);
            boxed(
                f,
                area,
                &format!("{} · {target}", app.lang.step(*step).ask),
                vec![Line::from("1 ★  2 ★★  3 ★★★  4 ★★★★  5 ★★★★★")],
            );
        }
        Prompt::Confirm {
            targets,
            body: step,
            ..
        } => {
            let verb = step.step().name();
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
                    Line::from(format!("{id}  {title}"))
                })
                .collect();
            lines.push(Line::from(Span::styled(
                "y / Enter  ·  n / Esc",
                theme.muted(),
            )));
            boxed(
                f,
                area,
                &format!("{} {verb} ({})", t.confirm, targets.len()),
                lines,
            );
        }
        Prompt::Command { editor, hint } => {
            let area = bottom(body, 4);
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(3)));
            let lines = vec![
                Line::from(format!(":{typed}")),
                Line::from(Span::styled(hint.clone(), theme.muted())),
            ];
            let inner = boxed(f, area, t.command, lines);
            f.set_cursor_position((inner.x + 1 + col as u16, inner.y));
        }
        Prompt::Filter { editor } => {
            let area = bottom(body, 3);
            let (typed, col) = editor.window(usize::from(area.width.saturating_sub(3)));
            let inner = boxed(f, area, t.filter, vec![Line::from(format!("/{typed}"))]);
            f.set_cursor_position((inner.x + 1 + col as u16, inner.y));
        }
    }
}

/// The live keymap, in two columns when one does not fit.
pub fn help(app: &App, f: &mut Frame, body: Rect) {
    let binds = app.keymap.bindings();
    let entries: Vec<String> = binds
        .iter()
        .map(|(a, keys)| format!("{:<17}{}", a.name(), keys.join(" ")))
        .collect();
    let rows_fit = usize::from(body.height.saturating_sub(2)).max(1);
    let columns = if entries.len() > rows_fit { 2 } else { 1 };
    let per_col = entries.len().div_ceil(columns);
    let col_w = 36usize;
    let w = ((col_w * columns + 2) as u16).min(body.width);
    let h = (per_col as u16 + 2).min(body.height);
    let area = Rect {
        x: body.x + (body.width - w) / 2,
        y: body.y + (body.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line> = (0..per_col)
        .map(|r| {
            let cells: Vec<String> = (0..columns)
                .filter_map(|c| entries.get(c * per_col + r))
                .map(|e| crate::text::pad(e, col_w))
                .collect();
            Line::from(cells.concat())
        })
        .collect();
    boxed(f, area, app.lang.t().help, lines);
}
