//! The one windowed list every screen's rows use: which row is selected, which is first on
//! screen, and how many fit. Only the visible window is ever built.
//!
//! How many rows fit has one source: the screen's layout. It is set from the layout when the
//! terminal changes size and recorded again each time the list is drawn, so moving a page, or
//! keeping the selection on its screen row, uses exactly what is on screen.

use std::cell::Cell;
use std::ops::Range;

use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

/// A list's position and size on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    /// The selected row.
    pub sel: usize,
    /// The first row on screen.
    pub offset: usize,
    /// Rows on screen (0 until known).
    rows: Cell<usize>,
}

impl ListView {
    /// Rows on screen.
    pub fn rows(&self) -> usize {
        self.rows.get().max(1)
    }

    /// Sets the rows on screen (the layout's), keeping the selection in view.
    pub fn set_rows(&mut self, rows: usize, len: usize) {
        self.rows.set(rows);
        self.place(self.sel, len);
    }

    /// A page: one row fewer than the screen, so the last row stays in view.
    pub fn page(&self) -> isize {
        self.rows().saturating_sub(1).max(1) as isize
    }

    /// Moves the selection by `delta` rows within `len`, scrolling as little as needed.
    pub fn moved(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.sel = 0;
            self.offset = 0;
            return;
        }
        let sel = (self.sel as isize + delta).clamp(0, len as isize - 1) as usize;
        self.place(sel, len);
    }

    /// Selects row `sel` (within `len`), scrolling as little as needed.
    pub fn place(&mut self, sel: usize, len: usize) {
        self.sel = sel.min(len.saturating_sub(1));
        // Before the layout says how many rows fit, nothing is on screen to keep in view: the
        // list stays at its top, and `set_rows` scrolls as little as needed once it is known
        // (a one-row guess scrolled the demo's queue past its most pressing rows).
        if self.rows.get() == 0 {
            self.offset = 0;
            return;
        }
        let h = self.rows();
        if self.sel < self.offset {
            self.offset = self.sel;
        } else if self.sel >= self.offset + h {
            self.offset = self.sel + 1 - h;
        }
        self.offset = self.offset.min(len.saturating_sub(h));
    }

    /// Selects row `idx` and keeps it on the screen row the selection had; at the top of the
    /// list the view stays at the top instead (the selection moves down a row), so rows that
    /// arrive above it (the most pressing, in the queue) are seen rather than scrolled off.
    pub fn keep_row(&mut self, idx: usize, len: usize) {
        if self.offset == 0 {
            self.place(idx, len);
            return;
        }
        let screen_row = self.sel.saturating_sub(self.offset);
        self.sel = idx;
        self.offset = idx
            .saturating_sub(screen_row)
            .min(len.saturating_sub(self.rows()));
        self.place(idx, len);
    }

    /// The rows on screen of a list of `len`, recording that `rows` fit (what drawing calls).
    pub fn window(&self, rows: usize, len: usize) -> Range<usize> {
        self.rows.set(rows);
        let start = self.offset.min(len);
        start..(start + rows).min(len)
    }

    /// Draws a table of `len` rows in `area` under `header`: only the window's rows are built
    /// (`row(index, selected)`), and the rows that fit are recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn table<'a>(
        &self,
        f: &mut Frame,
        area: Rect,
        header: Row<'a>,
        widths: Vec<Constraint>,
        spacing: u16,
        len: usize,
        mut row: impl FnMut(usize, bool) -> Option<Row<'a>>,
    ) {
        let window = self.window(usize::from(area.height.saturating_sub(1)), len);
        let rows: Vec<Row> = window.filter_map(|i| row(i, i == self.sel)).collect();
        f.render_widget(
            Table::new(rows, widths)
                .header(header)
                .column_spacing(spacing),
            area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rows: usize) -> ListView {
        let mut l = ListView::default();
        l.set_rows(rows, 0);
        l
    }

    #[test]
    fn moving_scrolls_as_little_as_needed() {
        let mut l = list(5);
        l.moved(3, 20);
        assert_eq!((l.sel, l.offset), (3, 0));
        l.moved(3, 20);
        assert_eq!((l.sel, l.offset), (6, 2));
        l.moved(-100, 20);
        assert_eq!((l.sel, l.offset), (0, 0));
        l.moved(100, 20);
        assert_eq!((l.sel, l.offset), (19, 15));
        assert_eq!(l.page(), 4);
        l.moved(1, 0);
        assert_eq!((l.sel, l.offset), (0, 0));
    }

    #[test]
    fn the_window_is_what_fits_and_drawing_records_it() {
        let mut l = list(5);
        l.moved(12, 20);
        assert_eq!(l.window(5, 20), 8..13);
        // A smaller terminal draws fewer rows; a page follows at once.
        assert_eq!(l.window(3, 20), 8..11);
        assert_eq!(l.page(), 2);
        assert_eq!(l.window(3, 9), 8..9);
    }

    #[test]
    fn the_selection_keeps_its_screen_row() {
        let mut l = list(5);
        l.moved(7, 30);
        let row = l.sel - l.offset;
        l.keep_row(12, 30);
        assert_eq!((l.sel, l.sel - l.offset), (12, row));
        l.keep_row(29, 30);
        assert_eq!((l.sel, l.offset), (29, 25));
    }
}
