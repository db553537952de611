//! Reads by time: whistles by when they were filed, and the log by when things happened. The
//! Open311 interface pages through both.

use chrono::{DateTime, Utc};
use shaozi_shared::{Event, Whistle};

use super::keys::{be, family, read_be, time_key};
use super::{decode, decode_record, Store, StoreError};

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

    /// Whistles filed in `[from, to)`, newest first, that `keep` accepts: `skip` of them
    /// passed over, at most `take` returned.
    pub fn filed_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
        keep: impl Fn(&Whistle) -> bool,
    ) -> Result<Vec<Whistle>, StoreError> {
        let (lo, hi) = (time_key(from), time_key(to));
        let Some(span) = self.minute_span(family::FILED, lo, hi)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut skipped = 0;
        for r in self.whistles.range(be(span.first)..=be(span.last)).rev() {
            let (k, v) = r?;
            let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
            let t = time_key(w.created_at);
            if t < lo || t >= hi || !keep(&w) {
                continue;
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            out.push(w);
            if out.len() >= take {
                break;
            }
        }
        Ok(out)
    }

    /// Events in `[from, to)`, oldest first, that `keep` accepts, paged like
    /// [`Store::filed_between`].
    pub fn log_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
        keep: impl Fn(&Event) -> bool,
    ) -> Result<Vec<Event>, StoreError> {
        let (lo, hi) = (time_key(from), time_key(to));
        let Some(span) = self.minute_span(family::AUDIT_TIME, lo, hi)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut skipped = 0;
        for r in self.events.range(be(span.first)..=be(span.last)) {
            let (k, v) = r?;
            let e: Event = decode(&v, || format!("event {:?}", read_be(&k)))?;
            let t = time_key(e.at);
            if t < lo || t >= hi || !keep(&e) {
                continue;
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            out.push(e);
            if out.len() >= take {
                break;
            }
        }
        Ok(out)
    }
}
