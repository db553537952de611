//! Newest-first reads over a big index: most of what is asked is among the newest cases.

use std::ops::Bound;

use tantivy::query::{
    AllScorer, BooleanQuery, EmptyScorer, EnableScoring, Explanation, Occur, Query, RangeQuery,
    Scorer, Weight,
};
use tantivy::schema::Field;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

/// Spans of case numbers, newest first, that a newest-first read walks until it has enough:
/// each read skips whole segments outside its span (tantivy compares a range with a
/// segment's least and greatest value first), so the newest cases of a million are found
/// among the last few thousand. The spans do not overlap: walking them all reads each case
/// once, as one read of everything would.
pub(crate) struct Windows {
    id: Field,
    newest: u64,
}

/// One span: the cases numbered from `from` up to (not including) `to`; `None` for no bound.
pub(crate) struct Window {
    id: Field,
    from: Option<u64>,
    to: Option<u64>,
    /// How many numbers it holds.
    width: u64,
}

/// How far back from the newest number each span reaches, before the last (the rest).
const REACH: [u64; 3] = [1 << 12, 1 << 15, 1 << 18];

impl Windows {
    /// The spans of what `searcher` holds.
    pub(crate) fn of(searcher: &tantivy::Searcher, id: Field) -> Windows {
        let newest = searcher
            .segment_readers()
            .iter()
            .filter_map(|r| r.fast_fields().u64("id").ok())
            .map(|c| c.max_value())
            .max()
            .unwrap_or(0);
        Windows { id, newest }
    }

    /// The spans, newest first; together they hold every case, each once.
    pub(crate) fn spans(&self) -> Vec<Window> {
        let mut out = Vec::new();
        let mut to = None;
        let end = self.newest.saturating_add(1);
        for reach in REACH {
            if reach >= self.newest {
                break;
            }
            let from = self.newest - reach + 1;
            out.push(Window {
                id: self.id,
                from: Some(from),
                to,
                width: to.unwrap_or(end) - from,
            });
            to = Some(from);
        }
        out.push(Window {
            id: self.id,
            from: None,
            to,
            width: to.unwrap_or(end),
        });
        out
    }
}

impl Window {
    /// `q` within this span.
    pub(crate) fn query(&self, q: &dyn Query) -> Box<dyn Query> {
        if self.from.is_none() && self.to.is_none() {
            return q.box_clone();
        }
        let bound = |v: Option<u64>, inclusive: bool| match v {
            None => Bound::Unbounded,
            Some(v) if inclusive => Bound::Included(Term::from_field_u64(self.id, v)),
            Some(v) => Bound::Excluded(Term::from_field_u64(self.id, v)),
        };
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, q.box_clone()),
            (
                Occur::Must,
                Box::new(Driving {
                    range: RangeQuery::new(bound(self.from, true), bound(self.to, false)),
                    width: self.width,
                }),
            ),
        ]))
    }
}

/// A span priced at what it holds: tantivy lets the cheapest-looking part of an intersection
/// walk and the others seek, and it prices a range over a column at most of the segment, so a
/// common word's postings would walk every case and seek the span's column for each. A span
/// holds at most as many cases as numbers, so one narrower than the postings walks instead
/// (its column read a block at a time); a wider one lets the postings walk. A segment wholly
/// inside or outside the span keeps tantivy's own answer (all of it, none of it).
#[derive(Debug, Clone)]
struct Driving {
    range: RangeQuery,
    /// How many numbers the span holds.
    width: u64,
}

impl Query for Driving {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(DrivingWeight {
            inner: self.range.weight(scoring)?,
            width: self.width,
        }))
    }
}

struct DrivingWeight {
    inner: Box<dyn Weight>,
    width: u64,
}

impl Weight for DrivingWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inner = self.inner.scorer(reader, boost)?;
        if inner.is::<EmptyScorer>() || inner.is::<AllScorer>() {
            return Ok(inner);
        }
        let cost = self.width.min(inner.cost());
        Ok(Box::new(DrivingScorer { inner, cost }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

struct DrivingScorer {
    inner: Box<dyn Scorer>,
    cost: u64,
}

impl DocSet for DrivingScorer {
    fn advance(&mut self) -> DocId {
        self.inner.advance()
    }
    fn seek(&mut self, target: DocId) -> DocId {
        self.inner.seek(target)
    }
    fn doc(&self) -> DocId {
        self.inner.doc()
    }
    fn size_hint(&self) -> u32 {
        u32::try_from(self.cost).unwrap_or(u32::MAX)
    }
    fn cost(&self) -> u64 {
        self.cost
    }
}

impl Scorer for DrivingScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use shaozi_shared::calendar::Calendar;
    use shaozi_shared::category::Deadlines;
    use shaozi_shared::whistle::Filing;
    use shaozi_shared::{
        CommunityId, Principal, Role, Scope, StreetId, Urgency, Whistle, WhistleId,
    };

    use crate::search::{Search, SearchQuery};
    use crate::storage::WhistleQuery;

    fn case(id: u64, community: u64, title: &str) -> (WhistleId, Option<super::super::Case>) {
        let f = Filing {
            community_id: CommunityId(community),
            street_id: StreetId(1),
            category: "roads".into(),
            title: title.into(),
            description: "朝阳路口三盏路灯连续一周不亮".into(),
            urgency: Urgency::Normal,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        };
        let w = Whistle::file(
            WhistleId(id),
            f,
            "test",
            Utc::now(),
            &Deadlines::DEFAULT,
            &Calendar::default(),
        );
        (WhistleId(id), Some((w, Vec::new())))
    }

    /// Cases numbered far apart, so the spans hold a few, then more, then all.
    fn index(ids: &[u64]) -> Search {
        index_in(ids, |id| 1 + id % 2)
    }

    /// The same, each in the community `community` says.
    fn index_in(ids: &[u64], community: impl Fn(u64) -> u64) -> Search {
        let search = Search::open(None).unwrap();
        let cases = ids
            .iter()
            .map(|id| case(*id, community(*id), &format!("第{id}号：路灯不亮")))
            .collect();
        search.stage(cases).unwrap();
        search.commit(1, "test").unwrap();
        search
    }

    fn admin() -> Principal {
        Principal::new("city", Role::Admin, Scope::City)
    }

    fn page(search: &Search, q: &str, offset: usize, limit: usize) -> (Vec<u64>, bool) {
        let s = SearchQuery {
            q: q.into(),
            offset,
            ..Default::default()
        };
        let (ids, more) = search
            .find(&admin(), &WhistleQuery::default(), &s, limit)
            .unwrap();
        (ids.into_iter().map(|w| w.0).collect(), more)
    }

    #[test]
    fn pages_across_spans_are_newest_first_and_whole() {
        // 3 in the newest span of 4,096, 5 more within 32,768, the rest only in all.
        let ids: Vec<u64> = vec![
            1, 2, 3, 10, 100_000, 200_000, 250_000, 290_000, 295_000, 299_000, 299_990, 300_000,
        ];
        let search = index(&ids);
        let mut want = ids.clone();
        want.sort_unstable_by(|a, b| b.cmp(a));
        for limit in [1, 2, 3, 5, 12, 50] {
            let mut got = Vec::new();
            let mut offset = 0;
            loop {
                let (page, more) = page(&search, "路灯", offset, limit);
                offset += page.len();
                got.extend(page);
                if !more {
                    break;
                }
            }
            assert_eq!(got, want, "pages of {limit}");
        }
        // The filters alone, and a word only in some titles, page alike.
        let (top, more) = page(&search, "", 0, 4);
        assert_eq!(top, vec![300_000, 299_990, 299_000, 295_000]);
        assert!(more);
        let (one, more) = page(&search, "第10号", 0, 5);
        assert_eq!((one, more), (vec![10], false));
    }

    #[test]
    fn hotspot_ids_are_the_newest_of_each_however_far_back_they_are() {
        use crate::search::patterns::{By, IdsOf, KEEP_IDS};
        // Community 1: 60 cases, the newest 40 in the newest span. Community 2: 5 old
        // cases only (in the last span). Community 3: 25 spread over every span.
        let mut ids: Vec<(u64, u64)> = (300_000..300_040).map(|id| (id, 1)).collect();
        ids.extend((1..=20).map(|id| (id, 1)));
        ids.extend((100..105).map(|id| (id, 2)));
        ids.extend((0..25).map(|i| (299_990 - i * 12_000, 3)));
        let community: std::collections::HashMap<u64, u64> = ids.iter().copied().collect();
        let numbers: Vec<u64> = ids.iter().map(|(id, _)| *id).collect();
        let search = index_in(&numbers, |id| community[&id]);
        let now = Utc::now().timestamp();
        let edges = [now - 7200, now - 3600, now + 3600];
        let tallies = search
            .tally(
                &admin(),
                &edges,
                By::CommunityCategory,
                Some(IdsOf { from: 1, min: 1 }),
            )
            .unwrap();
        for c in [1u64, 2, 3] {
            let t = tallies
                .get(&(1, (c, "roads".to_string())))
                .unwrap_or_else(|| panic!("community {c}: {tallies:?}"))
                .clone();
            let mut want: Vec<u64> = ids
                .iter()
                .filter(|(_, x)| *x == c)
                .map(|(id, _)| *id)
                .collect();
            want.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(t.counts.filed, want.len() as u64, "community {c}");
            want.truncate(KEEP_IDS);
            assert_eq!(t.newest_first(), want, "community {c}");
        }
        // A tally below `min` is not given ids.
        let tallies = search
            .tally(
                &admin(),
                &edges,
                By::CommunityCategory,
                Some(IdsOf { from: 1, min: 10 }),
            )
            .unwrap();
        let few = tallies.get(&(1, (2, "roads".to_string()))).unwrap().clone();
        assert_eq!(few.counts.filed, 5);
        assert!(few.newest_first().is_empty());
    }
}
