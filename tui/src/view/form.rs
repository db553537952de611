//! A form drawn at the bottom of the body: one line per field, its label in front, and a last
//! line saying what is wrong or which keys move.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::parts::{bottom, boxed};
use super::Theme;
use crate::i18n::Lang;
use crate::prompt::form::{FieldKind, Form, FormKind};
use crate::text::{fit, width};

/// Rows the form takes: its fields, the line under them, the borders.
pub fn height(form: &Form) -> u16 {
    form.fields.len() as u16 + 3
}

/// Draws `form`, the cursor in the field being typed into.
pub fn draw(lang: Lang, form: &Form, f: &mut Frame, body: Rect, theme: Theme) {
    let zh = lang == Lang::Zh;
    let area = bottom(body, height(form));
    let inner_w = usize::from(area.width.saturating_sub(2));
    let label_w = form
        .fields
        .iter()
        .map(|fl| width(&fl.label))
        .max()
        .unwrap_or(0)
        .min(inner_w / 2);
    let room = inner_w.saturating_sub(label_w + 1);
    let mut cursor = None;
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label = fit(&field.label, label_w);
        let pad = " ".repeat(label_w.saturating_sub(width(&label)) + 1);
        let label_style = if focused {
            theme.selected()
        } else {
            theme.muted()
        };
        let mut spans = vec![Span::styled(label, label_style), Span::raw(pad)];
        match &field.kind {
            FieldKind::Text { .. } => {
                let (typed, col) = field.editor.window(room.saturating_sub(1));
                if focused {
                    cursor = Some((label_w + 1 + col, i));
                }
                spans.push(Span::raw(typed));
            }
            FieldKind::Pick { .. } => {
                let matches = field.matches();
                let (typed, col) = field.editor.window(room / 2);
                if focused {
                    cursor = Some((label_w + 1 + col, i));
                }
                let left = room.saturating_sub(width(&typed) + 1);
                let said = match (field.chosen(), matches.len(), zh) {
                    (Some(c), 1, _) => format!(" → {}", c.label),
                    (Some(c), n, true) => {
                        let at = matches.iter().position(|m| *m == c).unwrap_or(0) + 1;
                        format!(" → {}（{at}/{n}，← → 换）", c.label)
                    }
                    (Some(c), n, false) => {
                        let at = matches.iter().position(|m| *m == c).unwrap_or(0) + 1;
                        format!(" → {} ({at}/{n}, ← → for another)", c.label)
                    }
                    (None, _, true) => " 无匹配".to_string(),
                    (None, _, false) => " no match".to_string(),
                };
                let style = if field.chosen().is_some() {
                    theme.good()
                } else {
                    theme.warn()
                };
                spans.push(Span::raw(typed));
                spans.push(Span::styled(fit(&said, left), style));
            }
            FieldKind::Cycle { .. } => {
                let chosen = field.chosen().map(|c| c.label.clone()).unwrap_or_default();
                spans.push(Span::raw(if focused {
                    format!("‹ {chosen} ›")
                } else {
                    chosen
                }));
            }
            FieldKind::Fixed(c) => spans.push(Span::styled(fit(&c.label, room), theme.muted())),
        }
        lines.push(Line::from(spans));
    }
    lines.push(match &form.error {
        Some(e) => Line::from(Span::styled(fit(e, inner_w), theme.warn())),
        None => Line::from(Span::styled(
            fit(
                if zh {
                    "Tab/↓ 下一项  ↑ 上一项  ← → 换选项  最后一项 Enter 提交  Esc 收起（保留输入）"
                } else {
                    "Tab/↓ next  ↑ back  ← → choose  Enter on the last field sends  Esc puts it away (kept)"
                },
                inner_w,
            ),
            theme.muted(),
        )),
    });
    let title = match (form.kind, zh) {
        (FormKind::Whistle, true) => "吹哨立案",
        (FormKind::Wish, true) => "发布心愿",
        (FormKind::Webhook, true) => "新建推送订阅",
        (FormKind::Whistle, false) => "File a whistle",
        (FormKind::Wish, false) => "Post a wish",
        (FormKind::Webhook, false) => "New subscription",
        (FormKind::Reclassify(_), true) => "改类（改对类别、紧急程度或地址，时限按新类别重算）",
        (FormKind::Reclassify(_), false) => "Reclassify (deadlines are worked out again)",
        (FormKind::Note(_), true) => "备注（先选内部或公开）",
        (FormKind::Note(_), false) => "Note (internal or public: choose first)",
    };
    let inner = boxed(f, area, title, lines);
    if let Some((col, row)) = cursor {
        f.set_cursor_position((inner.x + col as u16, inner.y + row as u16));
    }
}
