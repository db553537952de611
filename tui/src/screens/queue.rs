//! The unanswered queue: the server's order (overdue, escalated, urgent, earliest deadline),
//! filtered, with marks for bulk steps and arrivals marked new. The selection stays on its
//! whistle (and its screen row) through every change.

use std::collections::{BTreeSet, HashSet};

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use shaozi_shared::{Whistle, WhistleId};

use super::table::{header, row, Columns};
use super::{body, table_rows, Hints, Screen};
use crate::app::{App, Effect, View};
use crate::keys::Action;
use crate::list::ListView;
use crate::model::{Filter, QKey};
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

impl App {
    /// The queue rows shown (filtered or all), in queue order.
    pub fn rows(&self) -> &[QKey] {
        self.queue
            .filtered
            .as_deref()
            .unwrap_or(self.model.queue.keys())
    }

    /// The selected queue whistle.
    pub fn selected(&self) -> Option<&Whistle> {
        self.queue.sel.and_then(|id| self.model.queue.get(id))
    }

    /// Recomputes the filtered rows.
    pub(crate) fn refilter(&mut self) {
        let filter = &self.queue.filter;
        self.queue.filtered = if filter.is_empty() {
            None
        } else {
            let q = &self.model.queue;
            Some(
                q.keys()
                    .iter()
                    .filter(|k| {
                        q.get(WhistleId(k.id))
                            .is_some_and(|w| filter.matches(w, &self.model.dir, self.lang))
                    })
                    .copied()
                    .collect(),
            )
        };
    }

    pub(crate) fn position(&self, id: WhistleId) -> Option<usize> {
        let w = self.model.queue.get(id)?;
        self.rows().binary_search(&QKey::of(w)).ok()
    }

    /// Keeps the selection on the same whistle (and at the same screen row) across changes;
    /// if it left the queue, the row now in its place is selected.
    pub(crate) fn fix_selection(&mut self) {
        let n = self.rows().len();
        if n == 0 {
            self.queue.sel = None;
            self.queue.list.place(0, 0);
            return;
        }
        let idx = self
            .queue
            .sel
            .and_then(|id| self.position(id))
            .unwrap_or(self.queue.list.sel.min(n - 1));
        self.queue.list.keep_row(idx, n);
        self.queue.sel = self.rows().get(idx).map(|k| WhistleId(k.id));
        if let Some(id) = self.queue.sel {
            self.queue.new_ids.remove(&id);
        }
    }

    /// Re-applies the filter and keeps the selection on its whistle.
    pub fn refresh_rows(&mut self) {
        self.refilter();
        self.fix_selection();
    }
}

/// The table's area in the screens' body.
fn table_area(body: Rect) -> Rect {
    body
}

impl Screen for QueueScreen {
    const TAB: usize = 0;

    fn fit(app: &mut App) {
        let rows = table_rows(table_area(body(app.size)));
        let n = app.rows().len();
        app.queue.list.set_rows(rows, n);
        app.fix_selection();
    }

    fn moved(app: &mut App, delta: isize, action: Action) {
        let n = app.rows().len();
        app.queue.list.moved(delta, n);
        app.queue.sel = app.rows().get(app.queue.list.sel).map(|k| WhistleId(k.id));
        if action == Action::Top {
            app.queue.new_ids.clear();
        }
        if let Some(id) = app.queue.sel {
            app.queue.new_ids.remove(&id);
        }
    }

    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::Open => Some(match app.queue.sel {
                Some(id) => app.open_detail(id),
                None => Vec::new(),
            }),
            // Back: the marks first, then the filter.
            Action::Back if !app.queue.marked.is_empty() => {
                app.queue.marked.clear();
                Some(Vec::new())
            }
            Action::Mark => {
                if let Some(id) = app.queue.sel {
                    if !app.queue.marked.remove(&id) {
                        app.queue.marked.insert(id);
                    }
                    // On to the next row (its arrival mark stays until it is looked at).
                    let n = app.rows().len();
                    app.queue.list.moved(1, n);
                    app.queue.sel = app.rows().get(app.queue.list.sel).map(|k| WhistleId(k.id));
                }
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn current(app: &App) -> Option<WhistleId> {
        app.queue.sel
    }

    fn hints(_app: &App) -> Hints {
        super::case_hints()
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
        let area = table_area(area);
        let cols = Columns::new(app, area.width);
        let rows = app.rows();
        if app.loaded && rows.is_empty() {
            let msg = if app.queue.filter.is_empty() {
                app.lang.t().queue_empty.to_string()
            } else {
                format!("{}: {}", app.lang.t().filter, app.queue.filter_text)
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
                    .header(header(app, &cols))
                    .column_spacing(1),
                Rect { height: 1, ..area },
            );
            return;
        }
        app.queue.list.table(
            f,
            area,
            header(app, &cols),
            cols.constraints(),
            1,
            rows.len(),
            |i, selected| {
                let w = app.model.queue.get(WhistleId(rows.get(i)?.id))?;
                Some(row(app, w, &cols, theme, selected))
            },
        );
    }
}

/// The view the queue's Back leaves for: itself (with the filter cleared).
pub(crate) fn back_to_queue(app: &mut App) -> Vec<Effect> {
    if !app.queue.filter.is_empty() {
        app.clear_filter();
        app.view = View::Queue;
    }
    Vec::new()
}
