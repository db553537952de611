//! The unanswered queue: the server's order (overdue, escalated, urgent, earliest deadline),
//! filtered, with marks for bulk steps and arrivals marked new. The selection stays on its
//! whistle (and its screen row) through every change.

use std::collections::{BTreeSet, HashSet};

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use shaozi_shared::{Whistle, WhistleId};

use super::table::{header, row, Columns, Marks};
use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::Out;
use crate::model::{Filter, Model, QKey};
use crate::view::Theme;

/// The queue's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// The selected whistle.
    pub sel: Option<WhistleId>,
    /// Rows after the filter, when one is set.
    pub filtered: Option<Vec<QKey>>,
    /// The active filter.
    pub filter: Filter,
    /// The filter as typed.
    pub filter_text: String,
    /// What its names were taken to be (`部门 = 市住房和城乡建设局`).
    pub filter_said: String,
    /// Rows marked for a bulk step.
    pub marked: BTreeSet<WhistleId>,
    /// Whistles that arrived while watching and have not been looked at.
    pub new_ids: HashSet<WhistleId>,
}

impl QueueScreen {
    /// The rows shown (filtered or all), in queue order.
    pub fn rows<'a>(&'a self, model: &'a Model) -> &'a [QKey] {
        self.filtered.as_deref().unwrap_or(model.queue.keys())
    }

    /// The selected whistle.
    pub fn selected<'a>(&self, model: &'a Model) -> Option<&'a Whistle> {
        self.sel.and_then(|id| model.queue.get(id))
    }

    /// Recomputes the filtered rows.
    pub fn refilter(&mut self, model: &Model, lang: Lang) {
        let filter = &self.filter;
        self.filtered = if filter.is_empty() {
            None
        } else {
            let q = &model.queue;
            Some(
                q.keys()
                    .iter()
                    .filter(|k| {
                        q.get(WhistleId(k.id))
                            .is_some_and(|w| filter.matches(w, &model.dir, lang))
                    })
                    .copied()
                    .collect(),
            )
        };
    }

    /// Where a whistle is among the rows shown.
    pub fn position(&self, model: &Model, id: WhistleId) -> Option<usize> {
        let w = model.queue.get(id)?;
        self.rows(model).binary_search(&QKey::of(w)).ok()
    }

    /// Keeps the selection on the same whistle (and at the same screen row) across changes;
    /// if it left the queue, the row now in its place is selected.
    pub fn fix_selection(&mut self, model: &Model) {
        let n = self.rows(model).len();
        if n == 0 {
            self.sel = None;
            self.list.place(0, 0);
            return;
        }
        let idx = self
            .sel
            .and_then(|id| self.position(model, id))
            .unwrap_or(self.list.sel.min(n - 1));
        self.list.keep_row(idx, n);
        self.sel = self.rows(model).get(idx).map(|k| WhistleId(k.id));
        if let Some(id) = self.sel {
            self.new_ids.remove(&id);
        }
    }

    /// Selects the row the list's cursor is on.
    fn select_cursor(&mut self, model: &Model) {
        self.sel = self.rows(model).get(self.list.sel).map(|k| WhistleId(k.id));
    }
}

/// The table's area in the screens' body.
fn table_area(body: Rect) -> Rect {
    body
}

impl Screen for QueueScreen {
    fn tab(&self) -> usize {
        0
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.rows(cx.model).len();
        self.list.set_rows(rows, n);
        self.fix_selection(cx.model);
    }

    fn moved(&mut self, cx: &Context, delta: isize, action: Action) {
        let n = self.rows(cx.model).len();
        self.list.moved(delta, n);
        self.select_cursor(cx.model);
        if action == Action::Top {
            self.new_ids.clear();
        }
        if let Some(id) = self.sel {
            self.new_ids.remove(&id);
        }
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.sel.map(Out::OpenDetail).into_iter().collect()),
            // Back: the marks first, then the filter.
            Action::Back if !self.marked.is_empty() => {
                self.marked.clear();
                Some(Vec::new())
            }
            Action::Mark => {
                if let Some(id) = self.sel {
                    if !self.marked.remove(&id) {
                        self.marked.insert(id);
                    }
                    // On to the next row (its arrival mark stays until it is looked at).
                    let n = self.rows(cx.model).len();
                    self.list.moved(1, n);
                    self.select_cursor(cx.model);
                }
                Some(Vec::new())
            }
            Action::Export => {
                let shown = self
                    .rows(cx.model)
                    .iter()
                    .filter_map(|k| cx.model.queue.get(WhistleId(k.id)));
                Some(vec![crate::export::ledger(cx, "queue", shown)])
            }
            _ => None,
        }
    }

    fn current(&self) -> Option<WhistleId> {
        self.sel
    }

    fn hints(&self, _cx: &Context) -> Hints {
        super::case_hints()
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let area = table_area(area);
        let cols = Columns::new(cx, area.width);
        let rows = self.rows(cx.model);
        let marks = Marks {
            marked: &self.marked,
            new_ids: &self.new_ids,
        };
        if cx.loaded && rows.is_empty() {
            let msg = if self.filter.is_empty() {
                cx.lang.t().queue_empty.to_string()
            } else {
                format!("{}: {}", cx.lang.t().filter, self.filter_text)
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.good()))),
                Rect {
                    y: area.y + 1,
                    height: 1,
                    ..area
                },
            );
            f.render_widget(
                Table::new(Vec::<Row>::new(), cols.constraints())
                    .header(header(cx, &cols))
                    .column_spacing(1),
                Rect { height: 1, ..area },
            );
            return;
        }
        self.list.table(
            f,
            area,
            header(cx, &cols),
            cols.constraints(),
            1,
            rows.len(),
            |i, selected| {
                let w = cx.model.queue.get(WhistleId(rows.get(i)?.id))?;
                Some(row(cx, Some(marks), w, &cols, theme, selected))
            },
        );
    }
}
