//! The dispatcher's inbox (`i`): what waits for the dispatcher's own decision, each a section
//! like a department's work list, the counts on top. Returns to decide (退单待定) and cases
//! about to breach (即将超时) come from the live queue; requests for more time (延期待批) and
//! fixes waiting for a call-back (待回访) are loaded when it opens and followed live.

use chrono::Duration;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::api::Step;
use shaozi_shared::{Whistle, WhistleId, WhistleStatus};

use super::table::{header, row, Columns, Marks};
use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out, View};
use crate::view::{loading, Theme};

/// A case whose deadline is this close is about to breach.
pub const SOON_MINUTES: i64 = 60;

/// The inbox's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// Cases whose department asked for more time.
    pub extensions: Vec<Whistle>,
    /// Resolved cases, of which those not yet called back wait for a call-back.
    pub resolved: Vec<Whistle>,
    /// What is shown: each case with its section, in section order.
    pub rows: Vec<(usize, Whistle)>,
    /// Whether the loaded half arrived.
    pub loaded: bool,
}

/// The sections, in order.
const RETURNS: usize = 0;
const EXTENSIONS: usize = 1;
const BREACHING: usize = 2;
const CALL_BACKS: usize = 3;

fn section_names(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Zh => ["退单待定", "延期待批", "即将超时", "待回访"],
        Lang::En => [
            "returns",
            "more time asked",
            "about to breach",
            "to call back",
        ],
    }
}

/// Whether an unanswered case's deadline is within the hour and not yet passed.
fn breaching(cx: &Context, w: &Whistle) -> bool {
    !w.overdue
        && w.status != WhistleStatus::Returned
        && w.stage_deadline()
            .is_some_and(|d| d > cx.now && d - cx.now <= Duration::minutes(SOON_MINUTES))
}

fn waits_for_call_back(w: &Whistle) -> bool {
    w.status == WhistleStatus::Resolved && w.callbacks.is_empty()
}

/// Puts `w` in `list` when it belongs there (`keep`), newer versions only; drops it otherwise.
fn follow(list: &mut Vec<Whistle>, w: &Whistle, keep: bool) {
    let at = list.iter().position(|x| x.id == w.id);
    if at.is_some_and(|i| list[i].version > w.version) {
        return;
    }
    match (at, keep) {
        (Some(i), true) => list[i] = w.clone(),
        (Some(i), false) => {
            list.remove(i);
        }
        (None, true) => list.push(w.clone()),
        (None, false) => {}
    }
}

impl InboxScreen {
    /// The loaded half arrived.
    pub fn loaded(&mut self, cx: &Context, extensions: Vec<Whistle>, resolved: Vec<Whistle>) {
        self.extensions = extensions
            .into_iter()
            .filter(|w| w.pending_extension.is_some())
            .collect();
        self.resolved = resolved.into_iter().filter(waits_for_call_back).collect();
        self.loaded = true;
        self.rebuild(cx);
    }

    /// A case changed: it joins or leaves the loaded sections (the others follow the queue).
    pub fn changed(&mut self, w: &Whistle) {
        follow(&mut self.extensions, w, w.pending_extension.is_some());
        follow(&mut self.resolved, w, waits_for_call_back(w));
    }

    /// A case it holds, for a step taken on it.
    pub fn whistle(&self, id: WhistleId) -> Option<&Whistle> {
        self.rows.iter().map(|(_, w)| w).find(|w| w.id == id)
    }

    /// Works the rows out again (the queue or the clock moved), keeping the selection on its
    /// case.
    pub fn rebuild(&mut self, cx: &Context) {
        let keep = self.current();
        let queue = &cx.model.queue;
        let mut rows: Vec<(usize, Whistle)> = Vec::new();
        for k in queue.keys() {
            let Some(w) = queue.get(WhistleId(k.id)) else {
                continue;
            };
            if w.status == WhistleStatus::Returned {
                rows.push((RETURNS, w.clone()));
            } else if breaching(cx, w) {
                rows.push((BREACHING, w.clone()));
            }
        }
        rows.extend(self.extensions.iter().map(|w| (EXTENSIONS, w.clone())));
        rows.extend(self.resolved.iter().map(|w| (CALL_BACKS, w.clone())));
        rows.sort_by_key(|(s, w)| {
            (
                *s,
                w.stage_deadline()
                    .or(w.confirm_by)
                    .map_or(i64::MAX, |d| d.timestamp()),
                w.id.0,
            )
        });
        self.rows = rows;
        let n = self.rows.len();
        match keep.and_then(|id| self.rows.iter().position(|(_, w)| w.id == id)) {
            Some(i) => self.list.keep_row(i, n),
            None => {
                let sel = self.list.sel;
                self.list.place(sel, n);
            }
        }
    }

    /// How many cases wait in each section.
    pub fn counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for (s, _) in &self.rows {
            counts[*s] += 1;
        }
        counts
    }
}

/// The counts' line above the table.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 1,
        height: body.height.saturating_sub(1),
        ..body
    }
}

impl Screen for InboxScreen {
    fn tab(&self) -> usize {
        0
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.rows.len();
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.rows.len();
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, _cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.current().map(Out::OpenDetail).into_iter().collect()),
            Action::Back => Some(vec![Out::Show(View::Queue)]),
            _ => None,
        }
    }

    fn entered(&mut self, cx: &Context) -> Vec<Out> {
        self.rebuild(cx);
        vec![Out::Fx(Effect::FetchInbox)]
    }

    fn current(&self) -> Option<WhistleId> {
        self.rows.get(self.list.sel).map(|(_, w)| w.id)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        let step = Action::Step;
        Hints::Keys(vec![
            step(Step::Overrule),
            step(Step::Dispatch),
            step(Step::ApproveExtension),
            step(Step::DenyExtension),
            step(Step::Urge),
            step(Step::CallBack),
            Action::Open,
            Action::Back,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let names = section_names(cx.lang);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut spans = vec![Span::styled(
            if cx.lang == Lang::Zh {
                "待我决定  "
            } else {
                "Waiting for you  "
            },
            bold,
        )];
        for (i, (name, n)) in names.iter().zip(self.counts()).enumerate() {
            if i > 0 {
                spans.push(Span::raw(" · "));
            }
            let style = if n == 0 {
                theme.muted()
            } else {
                theme.warn().add_modifier(Modifier::BOLD)
            };
            spans.push(Span::styled(format!("{name} {n}"), style));
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect { height: 1, ..area },
        );
        let area = table_area(area);
        if self.rows.is_empty() {
            if !self.loaded {
                return loading(cx.lang, f, area);
            }
            let msg = if cx.lang == Lang::Zh {
                "没有待你决定的事项。"
            } else {
                "Nothing waits for your decision."
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.good()))),
                Rect { height: 1, ..area },
            );
            return;
        }
        let cols = Columns::new(cx, area.width);
        let marks = Marks::of(cx);
        self.list.table(
            f,
            area,
            header(cx, &cols),
            cols.constraints(),
            1,
            self.rows.len(),
            |i, selected| {
                let (_, w) = self.rows.get(i)?;
                Some(row(cx, marks, w, &cols, theme, selected))
            },
        );
    }
}
