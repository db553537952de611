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

/// The cases of one key in one period: how many, how many of each kind, and (when asked
/// for) the newest ids.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// What they count for, summed (`filed` is how many).
    pub counts: Sums,
    /// The newest ids, at most [`KEEP_IDS`], in no order.
    pub ids: std::collections::BinaryHeap<std::cmp::Reverse<u64>>,
}

/// The cases of a tally counted by what they count for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Cases filed.
    pub filed: u64,
    /// Of those, resolved on time.
    pub resolved_on_time: u64,
    /// Of those, late at some stage.
    pub overdue: u64,
    /// Of those, reopened.
    pub reopened: u64,
    /// Of those, moved twice.
    pub bounced: u64,
}

impl Sums {
    fn add_case(&mut self, c: Counts) {
        self.filed += 1;
        self.resolved_on_time += u64::from(c.resolved_on_time);
        self.overdue += u64::from(c.overdue);
        self.reopened += u64::from(c.reopened);
        self.bounced += u64::from(c.bounced);
    }

    fn add(&mut self, o: &Sums) {
        self.filed += o.filed;
        self.resolved_on_time += o.resolved_on_time;
        self.overdue += o.overdue;
        self.reopened += o.reopened;
        self.bounced += o.bounced;
    }
}

/// Ids a tally keeps (the newest).
pub const KEEP_IDS: usize = 20;

impl Tally {
    fn keep(&mut self, id: u64) {
        use std::cmp::Reverse;
        if self.ids.len() < KEEP_IDS {
            self.ids.push(Reverse(id));
        } else if self.ids.peek().is_some_and(|Reverse(oldest)| *oldest < id) {
            self.ids.pop();
            self.ids.push(Reverse(id));
        }
    }

    fn merge(&mut self, o: Tally) {
        self.counts.add(&o.counts);
        for std::cmp::Reverse(id) in o.ids {
            self.keep(id);
        }
    }

    /// The ids kept, newest first.
    pub fn newest_first(self) -> Vec<u64> {
        let mut v: Vec<u64> = self.ids.into_iter().map(|r| r.0).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    }
}

/// Tallies by (period, key).
pub type Tallies = HashMap<(usize, Key), Tally>;

/// A hasher for keys that are already numbers: one multiplication, where the default hasher
/// would cost more than the rest of a case's counting.
#[derive(Default)]
struct NumberHasher(u64);

impl std::hash::Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type NumberMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<NumberHasher>>;

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

struct SegmentTallier {
    edges: Vec<i64>,
    ids_from: Option<usize>,
    created: Column<i64>,
    flags: Column<u64>,
    id: Column<u64>,
    number: Option<Column<u64>>,
    category: Option<StrColumn>,
    /// By period, number and the category's ordinal in the segment's dictionary, packed (see
    /// [`pack`]).
    counts: NumberMap<Tally>,
}

/// A segment's key as one number: 8 bits of period, 32 of number, 24 of category ordinal.
fn pack(period: usize, number: u64, ord: u64) -> u64 {
    ((period as u64) << 56) | ((number & 0xFFFF_FFFF) << 24) | (ord & 0xFF_FFFF)
}

fn unpack(k: u64) -> (usize, u64, u64) {
    ((k >> 56) as usize, (k >> 24) & 0xFFFF_FFFF, k & 0xFF_FFFF)
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
            counts: NumberMap::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tallies>) -> tantivy::Result<Tallies> {
        let mut out = Tallies::new();
        for fruit in fruits {
            for (k, t) in fruit {
                out.entry(k).or_default().merge(t);
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
        let counts = Counts::from_bits(self.flags.first(doc).unwrap_or(0));
        // A case rejected as no problem is in no pattern.
        if !counts.filed {
            return;
        }
        let number = self.number.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
        let ord = self
            .category
            .as_ref()
            .and_then(|c| c.ords().first(doc))
            .map_or(NO_CATEGORY, |o| o.min(NO_CATEGORY - 1));
        let t = self.counts.entry(pack(period, number, ord)).or_default();
        t.counts.add_case(counts);
        if self.ids_from.is_some_and(|from| period >= from) {
            if let Some(id) = self.id.first(doc) {
                t.keep(id);
            }
        }
    }

    fn harvest(self) -> Tallies {
        let mut names: HashMap<u64, String> = HashMap::new();
        let mut out = Tallies::new();
        for (k, t) in self.counts {
            let (period, number, ord) = unpack(k);
            let category = match &self.category {
                Some(col) if ord != NO_CATEGORY => names
                    .entry(ord)
                    .or_insert_with(|| {
                        let mut s = String::new();
                        // A dictionary that cannot be read names the category "" rather
                        // than losing its cases.
                        let _ = col.ord_to_str(ord, &mut s);
                        s
                    })
                    .clone(),
                _ => String::new(),
            };
            out.entry((period, (number, category)))
                .or_default()
                .merge(t);
        }
        out
    }
}

/// The ordinal of "no category" (a case always has one; a segment without the column).
const NO_CATEGORY: u64 = 0xFF_FFFF;
