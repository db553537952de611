//! `draw(&App, &mut Frame)`: pure, reads the app and paints; nothing else. The frame (title
//! line, status and hint lines, prompts, help) is here; the body is the shown screen's
//! (`crate::screens`).

mod form;
mod overlay;
mod parts;

pub use parts::{loading, local_time, short_span, Theme, MIN_SIZE};

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::route::{context, on_screen};
use crate::app::App;
use crate::text::{self, fit};

/// Paints the whole screen.
pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let theme = Theme::new(app.color);
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let msg = format!("{} ({}×{})", app.lang.t().enlarge, area.width, area.height);
        f.render_widget(
            Paragraph::new(fit(&msg, usize::from(area.width))),
            Rect { height: 1, ..area },
        );
        return;
    }
    let top = Rect { height: 1, ..area };
    let body = crate::screens::body((area.width, area.height));
    let status = Rect {
        y: area.y + area.height - 2,
        height: 1,
        ..area
    };
    let hints = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    title_line(app, f, top, theme);
    let mut cx = context!(app);
    // The steps a screen offers are those that fit the record a step would act on.
    cx.acting_on = app.current().and_then(|id| app.whistle(id));
    on_screen!(app, s => s.draw(&cx, f, body, theme));
    let fits = overlay::status_line(app, f, status, theme);
    overlay::hint_line(app, f, hints, theme);
    if let Some(p) = &app.prompt {
        overlay::prompt(app, p, f, body, theme);
    }
    if !fits {
        // Above any prompt: it is usually why the prompt came back.
        let above = match &app.prompt {
            Some(p) => Rect {
                height: body.height.saturating_sub(overlay::prompt_height(p, body)),
                ..body
            },
            None => body,
        };
        overlay::message(app, f, above, theme);
    }
    if app.help {
        overlay::help(app, f, body);
    }
}

fn title_line(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
    let t = app.lang.t();
    let title = if area.width < 110 {
        t.title_short
    } else {
        t.title
    };
    let mut spans = vec![
        Span::styled(title, Style::default().add_modifier(Modifier::BOLD)),
        Span::raw("  "),
    ];
    let active = on_screen!(app, s => s.tab());
    for (i, tab) in t.tabs.iter().enumerate() {
        let style = if i == active {
            theme.selected()
        } else {
            Style::default()
        };
        // A department's or community's home is its own work, and its tab says so.
        let role = app.me.as_ref().map(|m| m.role);
        let tab = match (i, role, app.lang) {
            (0, Some(shaozi_shared::Role::Department), crate::i18n::Lang::Zh) => "1 我的工作",
            (0, Some(shaozi_shared::Role::Department), crate::i18n::Lang::En) => "1 My work",
            (0, Some(shaozi_shared::Role::Community), crate::i18n::Lang::Zh) => "1 本社区",
            (0, Some(shaozi_shared::Role::Community), crate::i18n::Lang::En) => "1 Community",
            _ => tab,
        };
        // On a narrow terminal the tabs give up their padding so the counts stay whole.
        if area.width < 100 {
            if i > 0 {
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(tab.to_string(), style));
        } else {
            spans.push(Span::styled(format!(" {tab} "), style));
        }
    }
    if let Some(s) = &app.model.stats {
        let q = &s.queue;
        let od = if q.overdue > 0 {
            theme.alert()
        } else {
            Style::default()
        };
        // The counts whole when they fit; else without the words that the symbols carry, so
        // that no number is cut off ("urgent 2" became "ur" at 80 columns in English).
        let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        let room = usize::from(area.width).saturating_sub(used);
        let whole = [
            format!("  {} {}  ", t.counts[0], q.unanswered),
            format!("✗{} {}", t.counts[1], q.overdue),
            format!("  {} {}", t.counts[2], q.urgent),
        ];
        let compact = [
            format!(" {} {} ", t.counts[0], q.unanswered),
            format!("✗{}", q.overdue),
            format!(" {} {}", t.counts_short[2], q.urgent),
        ];
        let fits =
            |parts: &[String; 3]| parts.iter().map(|p| text::width(p)).sum::<usize>() <= room;
        let [a, b, c] = if fits(&whole) { whole } else { compact };
        spans.push(Span::raw(a));
        spans.push(Span::styled(b, od));
        spans.push(Span::raw(c));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
