//! Hotspots and trends, counted from the index: every case the token may see that was filed
//! in the span, read column by column (its filing time, what it counts for, and what the
//! series is by), without loading a record.

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use shaozi_shared::patterns::{period_of, Counts};
use shaozi_shared::Principal;

use super::{Search, SearchError};

/// What a tally is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The category.
    Category,
    /// The street office.
    Street,
    /// The community.
    Community,
    /// Where it came from.
    Source,
    /// The community and the category together (hotspots).
    CommunityCategory,
}

/// A series' key: a number (street, community, source's place) and a category code, either
/// unused (0, "") when the tally is not by it.
pub type Key = (u64, String);

/// The cases of one key in one period.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// How many cases of each [`Counts::bits`].
    pub by_counts: [u64; 32],
    /// Their ids, when asked for.
    pub ids: Vec<u64>,
}

/// Tallies by (period, key).
pub type Tallies = HashMap<(usize, Key), Tally>;

impl Search {
    /// The cases `who` may see filed in the periods whose first instants are `edges` (the
    /// last edge ends the last period), tallied by period and `by`; with their ids for the
    /// periods from `ids_from` on.
    pub fn tally(
        &self,
        who: &Principal,
        edges: &[i64],
        by: By,
        ids_from: Option<usize>,
    ) -> Result<Tallies, SearchError> {
        let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
            return Ok(Tallies::new());
        };
        let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(self.f.created, *first)),
                Bound::Excluded(Term::from_field_i64(self.f.created, *last)),
            )),
        )];
        if let Some(scope) = self.scope(who) {
            parts.push((Occur::Must, scope));
        }
        let collector = Tallier {
            edges: edges.to_vec(),
            by,
            ids_from,
        };
        Ok(self
            .reader
            .searcher()
            .search(&BooleanQuery::new(parts), &collector)?)
    }
}

/// Counts the cases a query matches into [`Tallies`].
struct Tallier {
    edges: Vec<i64>,
    by: By,
    ids_from: Option<usize>,
}

/// What one segment's cases are counted by: the key's number and the category's ordinal
/// in the segment's dictionary.
type SegmentKey = (usize, u64, u64);

struct SegmentTallier {
    edges: Vec<i64>,
    ids_from: Option<usize>,
    created: Column<i64>,
    flags: Column<u64>,
    id: Column<u64>,
    number: Option<Column<u64>>,
    category: Option<StrColumn>,
    counts: HashMap<SegmentKey, Tally>,
}

impl Collector for Tallier {
    type Fruit = Tallies;
    type Child = SegmentTallier;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTallier> {
        let ff = reader.fast_fields();
        let number = match self.by {
            By::Category => None,
            By::Street => Some(ff.u64("street")?),
            By::Community | By::CommunityCategory => Some(ff.u64("community")?),
            By::Source => Some(ff.u64("source")?),
        };
        let category = match self.by {
            By::Category | By::CommunityCategory => ff.str("category")?,
            _ => None,
        };
        Ok(SegmentTallier {
            edges: self.edges.clone(),
            ids_from: self.ids_from,
            created: ff.i64("created")?,
            flags: ff.u64("flags")?,
            id: ff.u64("id")?,
            number,
            category,
            counts: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tallies>) -> tantivy::Result<Tallies> {
        let mut out = Tallies::new();
        for fruit in fruits {
            for (k, t) in fruit {
                let into = out.entry(k).or_default();
                add(&mut into.by_counts, &t.by_counts);
                into.ids.extend(t.ids);
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentTallier {
    type Fruit = Tallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let Some(period) = self
            .created
            .first(doc)
            .and_then(|t| period_of(&self.edges, t))
        else {
            return;
        };
        let number = self.number.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
        let category = self
            .category
            .as_ref()
            .and_then(|c| c.ords().first(doc))
            .unwrap_or(u64::MAX);
        let bits = self.flags.first(doc).unwrap_or(0) & 31;
        // A case rejected as no problem is in no pattern.
        if !Counts::from_bits(bits).filed {
            return;
        }
        let t = self.counts.entry((period, number, category)).or_default();
        t.by_counts[bits as usize] += 1;
        if self.ids_from.is_some_and(|from| period >= from) {
            if let Some(id) = self.id.first(doc) {
                t.ids.push(id);
            }
        }
    }

    fn harvest(self) -> Tallies {
        let mut names: HashMap<u64, String> = HashMap::new();
        let mut out = Tallies::new();
        for ((period, number, ord), t) in self.counts {
            let category = match (&self.category, ord) {
                (Some(col), o) if o != u64::MAX => names
                    .entry(o)
                    .or_insert_with(|| {
                        let mut s = String::new();
                        // A dictionary that cannot be read names the category "" rather
                        // than losing its cases.
                        let _ = col.ord_to_str(o, &mut s);
                        s
                    })
                    .clone(),
                _ => String::new(),
            };
            let into = out.entry((period, (number, category))).or_default();
            add(&mut into.by_counts, &t.by_counts);
            into.ids.extend(t.ids);
        }
        out
    }
}

fn add(into: &mut [u64; 32], from: &[u64; 32]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}
