//! The small parts every screen draws with: the theme, compact durations and clock times, the
//! loading line, and a box drawn over the screen at the bottom of the body (prompts, forms).
//! Nothing here knows the app.

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::i18n::Lang;
use crate::text::width;

/// The smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Colours, or none under `NO_COLOR` (glyphs and reverse video carry the meaning then).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colours when `color`, else none.
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    /// Overdue, refused: red and bold.
    pub fn alert(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// Close to a deadline, marks: yellow.
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    /// Done, in progress: green.
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }
    /// Labels and hints: grey (dim without colour).
    pub fn muted(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    /// The selected row: reversed.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// A compact duration: `42m`, `3h05`, `1d23` (a day and 23 hours), `12d`.
pub fn short_span(d: chrono::Duration) -> String {
    let m = d.num_minutes().abs();
    if m < 60 {
        format!("{m}m")
    } else if m < 24 * 60 {
        format!("{}h{:02}", m / 60, m % 60)
    } else if m < 10 * 24 * 60 {
        // Days and hours, as hours and minutes above: 1d23 is not read as one day.
        format!("{}d{:02}", m / (24 * 60), m % (24 * 60) / 60)
    } else {
        format!("{}d", m / (24 * 60))
    }
}

/// A UTC time as the dispatcher's clock time, with the date when it is not today.
pub fn local_time(t: DateTime<Utc>, now: DateTime<Utc>, tz: FixedOffset) -> String {
    let l = t.with_timezone(&tz);
    if l.date_naive() == now.with_timezone(&tz).date_naive() {
        l.format("%H:%M:%S").to_string()
    } else {
        l.format("%m-%d %H:%M").to_string()
    }
}

/// "Loading…" on the first line of `area`.
pub fn loading(lang: Lang, f: &mut Frame, area: Rect) {
    f.render_widget(Paragraph::new(lang.t().loading), Rect { height: 1, ..area });
}

/// Clears `area` for a box drawn over the screen, and the half of a wide character (Chinese)
/// left of it that would otherwise be drawn across the box's left border.
fn clear_for_box(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
    if area.x == 0 {
        return;
    }
    let buf = f.buffer_mut();
    for y in area.y..area.bottom() {
        let cell = &mut buf[(area.x - 1, y)];
        if width(cell.symbol()) > 1 {
            cell.set_symbol(" ");
        }
    }
}

pub(crate) fn boxed(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line>) -> Rect {
    clear_for_box(f, area);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    let inner = block.inner(area);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
    inner
}

pub(crate) fn bottom(body: Rect, height: u16) -> Rect {
    let h = height.min(body.height);
    Rect {
        y: body.y + body.height - h,
        height: h,
        ..body
    }
}
