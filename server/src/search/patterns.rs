//! Hotspots and trends, counted from the index: every case the token may see that was filed
//! in the span, read column by column (its filing time, what it counts for, and what the
//! series is by), without loading a record.

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, Weight};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use shaozi_shared::patterns::{period_of, Counts};
use shaozi_shared::Principal;

use super::blocks::{for_each_live_block, read};
use super::{Search, SearchError, Windows};

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
    /// The newest ids seen, at most a few times [`KEEP_IDS`], in no order.
    ids: Vec<u64>,
    /// Once [`KEEP_IDS`] are kept, the oldest of them: an id at or below it is not newer.
    floor: u64,
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
    /// Keeps `id` if it may be among the newest [`KEEP_IDS`]. Ids are gathered and the
    /// newest picked once in a while, not one heap step per case: a window of a hotspot holds
    /// tens of thousands of cases, most newer than the last.
    fn keep(&mut self, id: u64) {
        if id <= self.floor {
            return;
        }
        self.ids.push(id);
        if self.ids.len() >= 4 * KEEP_IDS {
            self.pick();
        }
    }

    /// Leaves only the newest [`KEEP_IDS`] and raises the floor to the oldest of them.
    fn pick(&mut self) {
        if self.ids.len() > KEEP_IDS {
            self.ids
                .select_nth_unstable_by(KEEP_IDS - 1, |a, b| b.cmp(a));
            self.ids.truncate(KEEP_IDS);
        }
        if self.ids.len() == KEEP_IDS {
            self.floor = self.ids.iter().copied().min().unwrap_or(0);
        }
    }

    fn merge(&mut self, o: Tally) {
        self.counts.add(&o.counts);
        for id in o.ids {
            self.keep(id);
        }
    }

    /// The newest ids kept (at most [`KEEP_IDS`]), newest first.
    pub fn newest_first(mut self) -> Vec<u64> {
        self.pick();
        self.ids.sort_unstable_by(|a, b| b.cmp(a));
        self.ids
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
        // A product's low bits depend only on the key's low bits (here the category's
        // ordinal), and the table picks its slot by the low bits: fold the well-mixed high
        // half down, or every key of a category probes the same slots.
        self.0 ^ (self.0 >> 32)
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

/// Which tallies want their newest ids: those of the periods from `from` on with at least
/// `min` cases.
#[derive(Debug, Clone, Copy)]
pub struct IdsOf {
    /// The first period.
    pub from: usize,
    /// The fewest cases.
    pub min: u64,
}

impl Search {
    /// The cases `who` may see filed in the periods whose first instants are `edges` (the
    /// last edge ends the last period), tallied by period and `by`; with the newest ids of
    /// the tallies `ids` names.
    ///
    /// The counts are one pass over the columns; the ids a second, over the periods asked for
    /// only and from the newest case numbers back ([`Windows`]), until each tally has its
    /// newest [`KEEP_IDS`] (or all it holds): keeping ids while counting cost as much as the
    /// counting when a window holds a million cases.
    pub fn tally(
        &self,
        who: &Principal,
        edges: &[i64],
        by: By,
        ids: Option<IdsOf>,
    ) -> Result<Tallies, SearchError> {
        let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
            return Ok(Tallies::new());
        };
        let filed = |from: i64| -> Vec<(Occur, Box<dyn Query>)> {
            let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(self.f.created, from)),
                    Bound::Excluded(Term::from_field_i64(self.f.created, *last)),
                )),
            )];
            if let Some(scope) = self.scope(who) {
                parts.push((Occur::Must, scope));
            }
            parts
        };
        let searcher = self.reader.searcher();
        let mut tallies = searcher.search(
            &BooleanQuery::new(filed(*first)),
            &Tallier {
                edges: edges.to_vec(),
                by,
                ids_from: None,
            },
        )?;
        let Some(IdsOf { from, min }) = ids else {
            return Ok(tallies);
        };
        let Some(from_edge) = edges.get(from) else {
            return Ok(tallies);
        };
        let wanted = |t: &Tally| t.counts.filed >= min.max(1);
        let short = |tallies: &Tallies| {
            tallies.iter().any(|((period, _), t)| {
                *period >= from
                    && wanted(t)
                    && (t.ids.len() as u64) < t.counts.filed.min(KEEP_IDS as u64)
            })
        };
        let of_periods = BooleanQuery::new(filed(*from_edge));
        let with_ids = Tallier {
            edges: edges.to_vec(),
            by,
            ids_from: Some(from),
        };
        for span in Windows::of(&searcher, self.f.id).spans() {
            if !short(&tallies) {
                break;
            }
            for (key, found) in searcher.search(span.query(&of_periods).as_ref(), &with_ids)? {
                if let Some(t) = tallies.get_mut(&key).filter(|t| wanted(t)) {
                    for id in found.ids {
                        t.keep(id);
                    }
                }
            }
        }
        Ok(tallies)
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
    /// By period, number and the category's ordinal in the segment's dictionary.
    counts: Slots,
    /// The period of the last case counted: cases come mostly in filing order, so the next
    /// is most often in the same one.
    last_period: usize,
    /// The block being read.
    block: Block,
}

/// A segment's tallies: in a table by period, number and category where the segment's values
/// span few enough slots (a case is counted without hashing its key, which on a million cases
/// was most of the time), in a map by [`pack`]ed key for the rest.
struct Slots {
    table: Vec<Tally>,
    /// The least number, how many numbers from it, how many category slots (the last for
    /// none).
    least: u64,
    numbers: u64,
    ords: u64,
    map: NumberMap<Tally>,
}

/// The most slots a segment's table has.
const TABLE_SLOTS: u64 = 1 << 14;

impl Slots {
    /// For `periods`, the values of `number` (None: all 0), `ords` categories, in a segment of
    /// `cases`: a table only where it is no bigger than the segment.
    fn new(periods: usize, number: Option<&Column<u64>>, ords: u64, cases: u64) -> Slots {
        let (least, numbers) = number.map_or((0, 1), |c| {
            let least = c.min_value();
            (least, c.max_value().saturating_sub(least).saturating_add(1))
        });
        let ords = ords.saturating_add(1);
        let size = (periods as u64)
            .checked_mul(numbers)
            .and_then(|n| n.checked_mul(ords))
            .filter(|n| *n <= TABLE_SLOTS.min(cases));
        Slots {
            table: size.map_or_else(Vec::new, |n| vec![Tally::default(); n as usize]),
            least,
            numbers,
            ords,
            map: NumberMap::default(),
        }
    }

    fn index(&self, period: usize, number: u64, ord: u64) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let ord = if ord == NO_CATEGORY {
            self.ords - 1
        } else {
            ord
        };
        let n = number.checked_sub(self.least)?;
        if n >= self.numbers || ord >= self.ords {
            return None;
        }
        let i = ((period as u64 * self.numbers + n) * self.ords + ord) as usize;
        (i < self.table.len()).then_some(i)
    }

    fn slot(&mut self, period: usize, number: u64, ord: u64) -> &mut Tally {
        match self.index(period, number, ord) {
            Some(i) => &mut self.table[i],
            None => self.map.entry(pack(period, number, ord)).or_default(),
        }
    }

    /// Every tally with a case in it, by period, number and ordinal.
    fn into_tallies(self) -> impl Iterator<Item = ((usize, u64, u64), Tally)> {
        let (numbers, ords, least) = (self.numbers, self.ords, self.least);
        let table = self
            .table
            .into_iter()
            .enumerate()
            .filter(|(_, t)| t.counts.filed > 0)
            .map(move |(i, t)| {
                let i = i as u64;
                let ord = i % ords;
                let rest = i / ords;
                let ord = if ord == ords - 1 { NO_CATEGORY } else { ord };
                (((rest / numbers) as usize, least + rest % numbers, ord), t)
            });
        table.chain(self.map.into_iter().map(|(k, t)| (unpack(k), t)))
    }
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
        let ords = category
            .as_ref()
            .map_or(0, |c| c.dictionary().num_terms() as u64);
        let counts = Slots::new(
            self.edges.len().saturating_sub(1),
            number.as_ref(),
            ords,
            u64::from(reader.max_doc()),
        );
        Ok(SegmentTallier {
            edges: self.edges.clone(),
            ids_from: self.ids_from,
            created: ff.i64("created")?,
            flags: ff.u64("flags")?,
            id: ff.u64("id")?,
            number,
            category,
            counts,
            last_period: 0,
            block: Block::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// Reads the columns a block of cases at a time.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Tallies> {
        let mut tallier = self.for_segment(segment, reader)?;
        for_each_live_block(weight, reader, |docs| tallier.tally(docs))?;
        Ok(tallier.harvest())
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

/// One block's columns.
#[derive(Default)]
struct Block {
    created: Vec<Option<i64>>,
    flags: Vec<Option<u64>>,
    number: Vec<Option<u64>>,
    ord: Vec<Option<u64>>,
    id: Vec<Option<u64>>,
}

impl SegmentTallier {
    /// Counts `docs` (a block), reading each column for all of them at once.
    fn tally(&mut self, docs: &[DocId]) {
        let b = &mut self.block;
        read(&self.created, docs, &mut b.created);
        read(&self.flags, docs, &mut b.flags);
        for v in [&mut b.number, &mut b.ord, &mut b.id] {
            v.clear();
            v.resize(docs.len(), None);
        }
        if let Some(c) = &self.number {
            read(c, docs, &mut b.number);
        }
        if let Some(c) = &self.category {
            read(c.ords(), docs, &mut b.ord);
        }
        if self.ids_from.is_some() {
            read(&self.id, docs, &mut b.id);
        }
        for i in 0..docs.len() {
            let Some(period) = b.created[i].and_then(|t| {
                let p = self.last_period;
                if p + 1 < self.edges.len() && self.edges[p] <= t && t < self.edges[p + 1] {
                    return Some(p);
                }
                let found = period_of(&self.edges, t);
                self.last_period = found.unwrap_or(p);
                found
            }) else {
                continue;
            };
            let counts = Counts::from_bits(b.flags[i].unwrap_or(0));
            // A case rejected as no problem is in no pattern.
            if !counts.filed {
                continue;
            }
            let number = b.number[i].unwrap_or(0);
            let ord = b.ord[i].map_or(NO_CATEGORY, |o| o.min(NO_CATEGORY - 1));
            let t = self.counts.slot(period, number, ord);
            t.counts.add_case(counts);
            if self.ids_from.is_some_and(|from| period >= from) {
                if let Some(id) = b.id[i] {
                    t.keep(id);
                }
            }
        }
    }
}

impl SegmentCollector for SegmentTallier {
    type Fruit = Tallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.tally(&[doc]);
    }

    fn harvest(self) -> Tallies {
        let mut names: HashMap<u64, String> = HashMap::new();
        let mut out = Tallies::new();
        for ((period, number, ord), t) in self.counts.into_tallies() {
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

#[cfg(test)]
mod tests {
    use super::{NumberMap, Slots, Tally, KEEP_IDS, NO_CATEGORY};

    #[test]
    fn slots_give_back_each_key_they_were_given_in_the_table_or_the_map() {
        // 3 periods, numbers 10..=14, 2 categories and none: 45 slots in the table.
        let mut slots = Slots {
            table: vec![Tally::default(); 45],
            least: 10,
            numbers: 5,
            ords: 3,
            map: NumberMap::default(),
        };
        let mut keys = Vec::new();
        for period in 0..3 {
            for number in [0, 10, 12, 14, 15, 1_000] {
                for ord in [0, 1, NO_CATEGORY, 7] {
                    keys.push((period, number, ord));
                }
            }
        }
        for (n, key) in keys.iter().enumerate() {
            for _ in 0..=n {
                slots.slot(key.0, key.1, key.2).counts.filed += 1;
            }
        }
        let in_table = keys
            .iter()
            .filter(|(_, number, ord)| {
                (10..15).contains(number) && [0, 1, NO_CATEGORY].contains(ord)
            })
            .count();
        assert_eq!(in_table, 27);
        assert_eq!(slots.map.len(), keys.len() - in_table);
        let mut back: Vec<((usize, u64, u64), u64)> = slots
            .into_tallies()
            .map(|(k, t)| (k, t.counts.filed))
            .collect();
        back.sort_unstable();
        let mut want: Vec<((usize, u64, u64), u64)> = keys
            .iter()
            .enumerate()
            .map(|(n, k)| (*k, n as u64 + 1))
            .collect();
        want.sort_unstable();
        assert_eq!(back, want);
    }

    #[test]
    fn a_tally_keeps_the_newest_ids_in_any_order_of_arrival() {
        // Rising, falling and scattered arrivals, split over two tallies merged.
        let n = 1_000u64;
        let scattered: Vec<u64> = (0..n).map(|i| (i * 389) % n + 1).collect();
        for order in [
            (1..=n).collect::<Vec<u64>>(),
            (1..=n).rev().collect(),
            scattered,
        ] {
            let (mut a, mut b) = (Tally::default(), Tally::default());
            for (i, id) in order.iter().enumerate() {
                if i % 3 == 0 {
                    b.keep(*id)
                } else {
                    a.keep(*id)
                }
            }
            a.merge(b);
            let want: Vec<u64> = (n - KEEP_IDS as u64 + 1..=n).rev().collect();
            assert_eq!(a.newest_first(), want);
        }
        let mut few = Tally::default();
        for id in [5, 3, 9] {
            few.keep(id);
        }
        assert_eq!(few.newest_first(), vec![9, 5, 3]);
    }
}
