//! Collectors that read the index's columns a block of cases at a time: tantivy's own loop
//! hands a collector one case at a time once a segment has deletions (which every updated
//! case leaves), and a column read for 64 cases at once costs little more than for one.

use tantivy::query::Weight;
use tantivy::{DocId, SegmentReader};

/// Cases whose columns are read at once.
pub(crate) const BLOCK: usize = 64;

/// Calls `f` with the live cases `weight` matches in `reader`, at most [`BLOCK`] at a time.
pub(crate) fn for_each_live_block(
    weight: &dyn Weight,
    reader: &SegmentReader,
    mut f: impl FnMut(&[DocId]),
) -> tantivy::Result<()> {
    let alive = reader.alive_bitset();
    let mut live: Vec<DocId> = Vec::with_capacity(BLOCK);
    weight.for_each_no_score(reader, &mut |docs| {
        for chunk in docs.chunks(BLOCK) {
            match alive {
                Some(alive) => {
                    live.clear();
                    live.extend(chunk.iter().copied().filter(|d| alive.is_alive(*d)));
                    f(&live);
                }
                None => f(chunk),
            }
        }
    })
}

/// `docs`' first values of `column` into `out` (emptied first).
pub(crate) fn read<T>(
    column: &tantivy::columnar::Column<T>,
    docs: &[DocId],
    out: &mut Vec<Option<T>>,
) where
    T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    out.clear();
    out.resize(docs.len(), None);
    column.first_vals(docs, out);
}
