//! A department's or a community's notices (`m`): what others did about its cases (an
//! extension granted or denied, an urge, a return upheld or overruled, a fix waiting for its
//! confirmation), newest first. Each is said once on the status line as it happens and stays
//! here; the status line counts those not yet seen until this screen is opened, so nothing said
//! while the dispatcher looked elsewhere is lost.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

use shaozi_shared::WhistleId;

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::Out;
use crate::notice::Notice;
use crate::view::{local_time, Theme};

/// How many notices are kept (the oldest go first).
pub const KEPT: usize = 500;

/// A notice as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// What it says.
    pub notice: Notice,
    /// When.
    pub at: DateTime<Utc>,
    /// The case it is about.
    pub whistle: WhistleId,
}

/// The notices' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoticesScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// Newest first.
    pub items: Vec<Posted>,
    /// How many of the newest have not been seen on this screen.
    pub unseen: usize,
    /// How many of the newest were unseen when the screen was last opened (marked ● there).
    fresh: usize,
}

impl NoticesScreen {
    /// A notice arrived: on top, unseen, the selection staying on its row.
    pub fn post(&mut self, notice: Notice, at: DateTime<Utc>, whistle: WhistleId, shown: bool) {
        self.items.insert(
            0,
            Posted {
                notice,
                at,
                whistle,
            },
        );
        self.items.truncate(KEPT);
        let n = self.items.len();
        if shown {
            // Seen as it arrives; marked new like the others of this visit.
            self.fresh = (self.fresh + 1).min(n);
            if self.list.sel > 0 || self.list.offset > 0 {
                let sel = self.list.sel + 1;
                self.list.keep_row(sel, n);
            }
        } else {
            self.unseen = (self.unseen + 1).min(n);
        }
    }
}

impl Screen for NoticesScreen {
    fn tab(&self) -> usize {
        0
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(body(cx.size));
        self.list.set_rows(rows, self.items.len());
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        self.list.moved(delta, self.items.len());
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.current().map(Out::OpenDetail).into_iter().collect()),
            Action::Back => Some(vec![Out::Show(cx.home())]),
            _ => None,
        }
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        self.fresh = self.unseen;
        self.unseen = 0;
        self.list.place(0, self.items.len());
        Vec::new()
    }

    fn current(&self) -> Option<WhistleId> {
        self.items.get(self.list.sel).map(|p| p.whistle)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        let mut keys = vec![Action::Open, Action::Back, Action::Help, Action::Quit];
        if self.items.is_empty() {
            keys.remove(0);
        }
        Hints::Keys(keys)
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let zh = cx.lang == Lang::Zh;
        if self.items.is_empty() {
            let msg = if zh {
                "还没有通知：有人批准或驳回你的延期、催办、裁定退单、或办结待你确认时，会在这里。"
            } else {
                "No notices yet: when someone answers an extension, urges, decides a return, or a fix waits for your confirmation, it is listed here."
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.muted())))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                area,
            );
            return;
        }
        let header = Row::new(if zh {
            ["", "时间", "通知"]
        } else {
            ["", "time", "notice"]
        })
        .style(Style::default().add_modifier(Modifier::BOLD));
        let widths = vec![
            Constraint::Length(1),
            Constraint::Length(11),
            Constraint::Min(10),
        ];
        let text_w = usize::from(area.width.saturating_sub(14));
        self.list.table(
            f,
            area,
            header,
            widths,
            1,
            self.items.len(),
            |i, selected| {
                let p = self.items.get(i)?;
                let mark = if i < self.fresh { "●" } else { " " };
                let style = match (selected, p.notice.warn) {
                    (true, _) => theme.selected(),
                    (false, true) => theme.warn(),
                    (false, false) => Style::default(),
                };
                Some(
                    Row::new(vec![
                        Cell::from(mark),
                        Cell::from(local_time(p.at, cx.now, cx.tz)),
                        Cell::from(crate::text::fit(&p.notice.text, text_w)),
                    ])
                    .style(style),
                )
            },
        );
    }
}
