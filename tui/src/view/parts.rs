//! The small parts every screen draws with: the theme, compact durations and clock times, and
//! the loading line. Nothing here knows the app.

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::i18n::Lang;

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
