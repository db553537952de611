//! Search results (`:search 漏水 梓山`, or `/` with a `q=` part): every case the token may see
//! that holds the words, closed ones included, as the server ranks them; Enter opens one.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::{Whistle, WhistleId};

use super::table::{header, row, Columns, Marks};
use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::view::Theme;

/// Hits shown at most: a search that finds more says so, and more words narrow it.
pub const MOST: usize = 200;

/// What a search asked for and what it found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// The words as typed (with any `from=` / `to=`).
    pub query: String,
    /// The hits, best first, once they arrive.
    pub hits: Option<Vec<Whistle>>,
    /// More were found than are shown.
    pub more: bool,
    /// Why the search failed, when it did.
    pub failed: Option<String>,
    /// The screen it was asked from, where Esc goes back to.
    pub back: Option<crate::message::View>,
}

/// Its title line takes the first row; the table the rest.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 1,
        height: body.height.saturating_sub(1),
        ..body
    }
}

impl SearchScreen {
    /// Starts a search (empty until its answer arrives).
    pub fn open(&mut self, query: &str) -> Vec<Effect> {
        self.query = query.trim().to_string();
        self.hits = None;
        self.more = false;
        self.failed = None;
        self.list.place(0, 0);
        vec![Effect::Search(self.query.clone())]
    }

    /// The answer to a search, kept only while it is the one shown.
    pub fn answered(&mut self, query: &str, answer: Result<(Vec<Whistle>, bool), String>) {
        if query != self.query {
            return;
        }
        match answer {
            Ok((hits, more)) => {
                let n = hits.len();
                self.hits = Some(hits);
                self.more = more;
                let sel = self.list.sel;
                self.list.place(sel, n);
            }
            Err(why) => {
                self.hits = Some(Vec::new());
                self.failed = Some(why);
            }
        }
    }

    /// A case changed: a hit shows it as it is now (it stays a hit until searched again).
    pub fn changed(&mut self, w: &Whistle) {
        if let Some(hit) = self
            .hits
            .as_mut()
            .and_then(|h| h.iter_mut().find(|x| x.id == w.id))
        {
            if hit.version <= w.version {
                *hit = w.clone();
            }
        }
    }

    fn len(&self) -> usize {
        self.hits.as_ref().map_or(0, Vec::len)
    }
}

impl Screen for SearchScreen {
    fn tab(&self) -> usize {
        0
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.len();
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.len();
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.current().map(Out::OpenDetail).into_iter().collect()),
            Action::Back => Some(vec![Out::Show(match self.back {
                Some(crate::message::View::Trends) => crate::message::View::Trends,
                _ => cx.home(),
            })]),
            Action::Export => Some(vec![crate::export::ledger(
                cx,
                "search",
                self.hits.iter().flatten(),
            )]),
            _ => None,
        }
    }

    fn current(&self) -> Option<WhistleId> {
        self.hits
            .as_ref()
            .and_then(|h| h.get(self.list.sel))
            .map(|w| w.id)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        Hints::Keys(vec![
            Action::Open,
            Action::Back,
            Action::Command,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let zh = cx.zh();
        let Some(hits) = &self.hits else {
            crate::view::loading(cx.lang, f, area);
            return;
        };
        let n = hits.len();
        let title = match (&self.failed, zh) {
            (Some(why), true) => format!("搜索「{}」失败：{why}", self.query),
            (Some(why), false) => format!("search “{}” failed: {why}", self.query),
            (None, true) => format!(
                "搜索「{}」· {n}{} 件（含已办结）",
                self.query,
                if self.more { "+" } else { "" }
            ),
            (None, false) => format!(
                "search “{}” · {n}{} case{} (closed ones too)",
                self.query,
                if self.more { "+" } else { "" },
                if n == 1 { "" } else { "s" }
            ),
        };
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                title,
                Style::default().add_modifier(Modifier::BOLD),
            ))),
            Rect { height: 1, ..area },
        );
        if n == 0 && self.failed.is_none() {
            let none = if zh {
                "没有找到：换个说法，或少写几个词"
            } else {
                "nothing found: try other words, or fewer"
            };
            f.render_widget(
                Paragraph::new(Span::styled(none, theme.muted())),
                table_area(area),
            );
            return;
        }
        let cols = Columns::new(cx, area.width);
        let marks = Marks::of(cx);
        self.list.table(
            f,
            table_area(area),
            header(cx, &cols),
            cols.constraints(),
            1,
            n,
            |i, selected| {
                let w = hits.get(i)?;
                Some(row(cx, marks, w, &cols, theme, selected))
            },
        );
    }
}
