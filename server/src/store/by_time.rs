//! Reads by time: whistles by when they were filed, and the log by when things happened. The
//! Open311 interface pages through both.

use chrono::{DateTime, Utc};
use shaozi_shared::{Event, Whistle};

use super::keys::{be, family, key, read_be, time_key};
use super::{decode, Store, StoreError};

fn span(fam: u8, from: DateTime<Utc>, to: DateTime<Utc>) -> std::ops::Range<Vec<u8>> {
    key(&[&[fam], &be(time_key(from))])..key(&[&[fam], &be(time_key(to))])
}

impl Store {
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
        let mut out = Vec::new();
        let mut skipped = 0;
        for r in self.idx.range(span(family::FILED, from, to)).rev() {
            let (k, _) = r?;
            // One byte of family, eight of time, then the id.
            let Some(id) = k.get(9..).and_then(read_be) else {
                continue;
            };
            let Some(v) = self.whistles.get(be(id))? else {
                continue;
            };
            let w: Whistle = decode(&v, || format!("whistle {id}"))?;
            if !keep(&w) {
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
        let Some(span) = self.seq_span(lo, hi)? else {
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
