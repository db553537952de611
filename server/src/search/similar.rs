//! Cases that may be the same problem as another: the index finds those of its category, in
//! its place and span, and ranks them by how many of its terms they share, reading each
//! one's [`signature`](super::grams::signature) from a column (no record is loaded, no
//! posting list of a common word walked); the caller loads and scores exactly only the few
//! best.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Bound;

use chrono::{DateTime, Utc};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use shaozi_shared::{CommunityId, Principal, Whistle, WhistleId};

use super::blocks::{for_each_live_block, read};
use super::grams::{overlap, signature, SIGNATURE_COLUMNS, SIGNATURE_WORDS};
use super::{is, near_box, Search, SearchError};

/// Below this estimate a case is not a candidate (the exact bar is applied to the records;
/// this one is lower, for the estimate's error).
const AT_LEAST: f64 = 0.2;

/// What similar cases are looked for by: a case's category and place, and the case itself to
/// leave out (none for one being filed, which is not in the index yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The case, when it has a number.
    pub id: Option<WhistleId>,
    /// Its category.
    pub category: String,
    /// Its community.
    pub community_id: CommunityId,
    /// Where, when known.
    pub lat: Option<f64>,
    /// Where, when known.
    pub long: Option<f64>,
}

impl Probe {
    /// A case's.
    pub fn of(w: &Whistle) -> Probe {
        Probe {
            id: Some(w.id),
            category: w.category.clone(),
            community_id: w.community_id,
            lat: w.lat,
            long: w.long,
        }
    }
}

impl Search {
    /// Cases that may be the same problem as `w`, for `who`: of its category, filed since
    /// `since` (closed ones too: a problem that came back is a finding), in its community or
    /// within [`NEAR_M`](super::NEAR_M) of it when both have coordinates, not rejected, not
    /// itself, sharing enough of its terms by their signatures. At most `limit`, the most
    /// alike first; [`likeness`](super::likeness) scores them exactly.
    /// `terms` are `w`'s (see [`terms`](super::terms)), which the caller scores with too.
    pub fn similar(
        &self,
        who: &Principal,
        w: &Probe,
        terms: &[String],
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, SearchError> {
        let f = &self.f;
        let mine = signature(terms);
        if mine.iter().all(|x| *x == 0) {
            return Ok(Vec::new());
        }
        let mut place: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, is(f.community, w.community_id.0))];
        if let (Some(lat), Some(long)) = (w.lat, w.long) {
            let (dlat, dlong) = near_box(lat);
            let range = |field: tantivy::schema::Field, v: f64, d: f64| -> Box<dyn Query> {
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(field, v - d)),
                    Bound::Included(Term::from_field_f64(field, v + d)),
                ))
            };
            place.push((
                Occur::Should,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, range(f.lat, lat, dlat)),
                    (Occur::Must, range(f.long, long, dlong)),
                ])),
            ));
        }
        let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(BooleanQuery::new(place))),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.category, &w.category),
                    IndexRecordOption::Basic,
                )),
            ),
            // The filing time's column, read only for the cases the place and category keep.
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.created, since.timestamp())),
                    Bound::Unbounded,
                )),
            ),
            (
                Occur::MustNot,
                is(
                    f.status,
                    u64::from(shaozi_shared::WhistleStatus::Rejected.code()),
                ),
            ),
        ];
        if let Some(id) = w.id {
            parts.push((Occur::MustNot, is(f.id, id.0)));
        }
        if let Some(scope) = self.scope(who) {
            parts.push((Occur::Must, scope));
        }
        let best = self.reader.searcher().search(
            &BooleanQuery::new(parts),
            &Alike {
                mine,
                keep: limit.max(1),
            },
        )?;
        Ok(best.into_iter().map(|(_, id)| WhistleId(id)).collect())
    }
}

/// Keeps the `keep` cases whose signatures share most of `mine`'s bits (the newest among
/// equals), best first.
struct Alike {
    mine: [u64; SIGNATURE_WORDS],
    keep: usize,
}

/// A candidate: its estimate (in thousandths, to order) and its id.
type Candidate = (u32, u64);

struct SegmentAlike {
    mine: [u64; SIGNATURE_WORDS],
    keep: usize,
    id: Column<u64>,
    sig: [Column<u64>; SIGNATURE_WORDS],
    best: BinaryHeap<Reverse<Candidate>>,
    /// The block being read: each signature column's values, then the ids.
    block: [Vec<Option<u64>>; SIGNATURE_WORDS],
    ids: Vec<Option<u64>>,
}

fn keep_best(best: &mut BinaryHeap<Reverse<Candidate>>, keep: usize, c: Candidate) {
    if best.len() < keep {
        best.push(Reverse(c));
    } else if best.peek().is_some_and(|Reverse(worst)| *worst < c) {
        best.pop();
        best.push(Reverse(c));
    }
}

impl Collector for Alike {
    type Fruit = Vec<Candidate>;
    type Child = SegmentAlike;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentAlike> {
        let ff = reader.fast_fields();
        let mut columns = Vec::with_capacity(SIGNATURE_WORDS);
        for name in SIGNATURE_COLUMNS {
            columns.push(ff.u64(name)?);
        }
        let sig: [Column<u64>; SIGNATURE_WORDS] = columns
            .try_into()
            .map_err(|_| tantivy::TantivyError::InternalError("signature columns".into()))?;
        Ok(SegmentAlike {
            mine: self.mine,
            keep: self.keep,
            id: ff.u64("id")?,
            sig,
            best: BinaryHeap::new(),
            block: Default::default(),
            ids: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// Reads the signatures a block of cases at a time.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<Candidate>> {
        let mut alike = self.for_segment(segment, reader)?;
        for_each_live_block(weight, reader, |docs| alike.weigh(docs))?;
        Ok(alike.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Candidate>>) -> tantivy::Result<Vec<Candidate>> {
        let mut best = BinaryHeap::new();
        for c in fruits.into_iter().flatten() {
            keep_best(&mut best, self.keep, c);
        }
        let mut out: Vec<Candidate> = best.into_iter().map(|Reverse(c)| c).collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        Ok(out)
    }
}

impl SegmentAlike {
    /// Estimates how alike `docs` (a block) are, reading each column for all of them at once,
    /// and keeps the best.
    fn weigh(&mut self, docs: &[DocId]) {
        for (values, col) in self.block.iter_mut().zip(&self.sig) {
            read(col, docs, values);
        }
        let mut ids_read = false;
        for i in 0..docs.len() {
            let mut theirs = [0u64; SIGNATURE_WORDS];
            for (w, values) in theirs.iter_mut().zip(&self.block) {
                *w = values[i].unwrap_or(0);
            }
            let estimate = overlap(&self.mine, &theirs);
            if estimate < AT_LEAST {
                continue;
            }
            // Most of a bucket is not alike: ids are read only for a block that has one.
            if !ids_read {
                read(&self.id, docs, &mut self.ids);
                ids_read = true;
            }
            let Some(id) = self.ids[i] else {
                continue;
            };
            keep_best(
                &mut self.best,
                self.keep,
                ((estimate * 1000.0).round() as u32, id),
            );
        }
    }
}

impl SegmentCollector for SegmentAlike {
    type Fruit = Vec<Candidate>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.weigh(&[doc]);
    }

    fn harvest(self) -> Vec<Candidate> {
        self.best.into_iter().map(|Reverse(c)| c).collect()
    }
}
