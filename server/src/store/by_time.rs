//! Reads by time: whistles by when they were filed, and the log by when things happened. The
//! Open311 interface pages through both, by index: a page costs its own size, whichever page
//! it is, and never reads the whistles or events it passes over.

use chrono::{DateTime, Utc};
use shaozi_shared::{Event, Whistle, WhistleId};

use super::keys::{self, be, family, key, read_be, time_key};
use super::{decode, decode_record, postings, Store, StoreError};
use crate::storage::query::FiledPage;

impl Store {
    /// How many whistles were filed in `[from, to)`: the minutes wholly inside by their
    /// counts, the two at the edges by looking at their whistles.
    pub fn filed_count(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64, StoreError> {
        let (lo, hi) = (time_key(from), time_key(to));
        if lo >= hi {
            return Ok(0);
        }
        let mut n = 0;
        for r in self.minutes(family::FILED, lo, hi) {
            let (m, span) = r?;
            if m * 60_000 >= lo && (m + 1) * 60_000 <= hi {
                n += span.count as i64;
                continue;
            }
            for r in self.whistles.range(be(span.first)..=be(span.last)) {
                let (k, v) = r?;
                let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
                let t = time_key(w.created_at);
                // A whistle of another minute (the clock went back) is counted in its own.
                if t >= lo && t < hi && t / 60_000 == m {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// One page of whistles filed in `[from, to)`, newest first: those with one of
    /// `statuses` (all when empty) and, when given, of `category`. Pages are drawn from the
    /// numbers between the first and last whistle of the window, through the lists by status
    /// and by category, so the whistles skipped to reach a page are counted, never read.
    pub fn filed_page(&self, q: &FiledPage) -> Result<Vec<Whistle>, StoreError> {
        let time_of = |id: u64| Ok(self.whistle(WhistleId(id))?.map(|w| w.created_at));
        let Some((first, last)) = self.numbers_between(family::FILED, q.from, q.to, time_of)?
        else {
            return Ok(Vec::new());
        };
        let below = last.checked_add(1);
        let by_status = || -> Box<dyn Iterator<Item = Result<u64, StoreError>> + '_> {
            let lists: Vec<Vec<u8>> = q
                .statuses
                .iter()
                .map(|s| key(&[&[family::STATUS, s.code()]]))
                .collect();
            Box::new(postings::merged_descending(&self.idx, &lists, below))
        };
        // Every number in the window is a whistle, so without filters there is no list to walk.
        let ids: Box<dyn Iterator<Item = Result<u64, StoreError>>> =
            match (q.statuses.is_empty(), &q.category) {
                (true, None) => Box::new((first..=last).rev().map(Ok)),
                (false, None) => by_status(),
                (true, Some(c)) => Box::new(postings::descending(
                    &self.idx,
                    &keys::category_list(c),
                    below,
                )),
                (false, Some(c)) => Box::new(postings::intersect_descending(
                    by_status(),
                    postings::descending(&self.idx, &keys::category_list(c), below),
                )),
            };
        let mut out = Vec::new();
        let mut skipped = 0;
        for id in ids {
            let id = id?;
            if id < first || out.len() >= q.take {
                break;
            }
            if skipped < q.skip {
                skipped += 1;
                continue;
            }
            // Only a clock that went back files a whistle out of order; it is left out.
            if let Some(w) = self.whistle(WhistleId(id))? {
                if w.created_at >= q.from && w.created_at < q.to {
                    out.push(w);
                }
            }
        }
        Ok(out)
    }

    /// One page of the log's whistle events in `[from, to)`, oldest first: the sequence
    /// numbers of the window less the (few) events not about a whistle, so the events skipped
    /// to reach a page are never read.
    pub fn whistle_log_page(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
    ) -> Result<Vec<Event>, StoreError> {
        #[derive(serde::Deserialize)]
        struct At {
            at: DateTime<Utc>,
        }
        let time_of = |seq: u64| -> Result<Option<DateTime<Utc>>, StoreError> {
            match self.events.get(be(seq))? {
                Some(v) => Ok(Some(decode::<At>(&v, || format!("event {seq}"))?.at)),
                None => Ok(None),
            }
        };
        let Some((first, last)) = self.numbers_between(family::AUDIT_TIME, from, to, time_of)?
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut skipped = 0;
        let others = postings::ascending(&self.idx, &[family::OTHER_LOG], first.saturating_sub(1));
        for seq in postings::ascending_except(first, last, others) {
            let seq = seq?;
            if seq > last || out.len() >= take {
                break;
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            if let Some(v) = self.events.get(be(seq))? {
                let e: Event = decode(&v, || format!("event {seq}"))?;
                if e.at >= from && e.at < to {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// The first and last number of a series kept by minute (`fam`: whistles by filing time,
    /// or the log by time) that fall in `[from, to)`: the first minute's first and the last
    /// minute's last, narrowed inside the two edge minutes by a binary search on `time_of`.
    /// Numbers are given out in time order unless the clock goes back, so this is exact in
    /// practice; callers still check each record's own time.
    fn numbers_between(
        &self,
        fam: u8,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        time_of: impl Fn(u64) -> Result<Option<DateTime<Utc>>, StoreError>,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        let (lo, hi) = (time_key(from), time_key(to));
        if lo >= hi {
            return Ok(None);
        }
        let Some((first_minute, head)) = self.minutes(fam, lo, hi).next().transpose()? else {
            return Ok(None);
        };
        let Some((last_minute, tail)) = self.minutes(fam, lo, hi).next_back().transpose()? else {
            return Ok(None);
        };
        let (mut first, mut last) = (head.first.min(tail.first), head.last.max(tail.last));
        if first_minute == lo / 60_000 {
            // The first number at or after `from` within the first minute.
            first = partition(head.first, head.last, |n| {
                Ok(time_of(n)?.is_some_and(|t| t < from))
            })?
            .max(first);
        }
        if last_minute == hi / 60_000 {
            // The last number before `to` within the last minute.
            let end = partition(tail.first, tail.last, |n| {
                Ok(time_of(n)?.is_none_or(|t| t < to))
            })?;
            match end.checked_sub(1) {
                Some(e) => last = e.min(last),
                None => return Ok(None),
            }
        }
        Ok((first <= last).then_some((first, last)))
    }
}

/// The first number in `[a, b]` for which `before` is false (`b + 1` when there is none),
/// given that `before` holds for a prefix of the range.
fn partition(
    a: u64,
    b: u64,
    before: impl Fn(u64) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    let (mut lo, mut hi) = (a, b.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid)? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}
