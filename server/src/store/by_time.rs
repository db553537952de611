//! Reads by time: whistles by when they were filed, and the log by when things happened. The
//! Open311 interface pages through both.

use chrono::{DateTime, Utc};
use shaozi_shared::{Event, Whistle};

use super::keys::{be, family, key, read_be, time_key};
use super::{decode, Store, StoreError};

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
        let start = key(&[&[family::FILED], &be(time_key(from))]);
        let end = key(&[&[family::FILED], &be(time_key(to))]);
        let mut out = Vec::new();
        let mut skipped = 0;
        for r in self.idx.range(start..end).rev() {
            let (k, _) = r?;
            // FILED, time (8 bytes), id.
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
        let start = key(&[&[family::AUDIT_TIME], &be(time_key(from))]);
        let end = key(&[&[family::AUDIT_TIME], &be(time_key(to))]);
        let mut out = Vec::new();
        let mut skipped = 0;
        for r in self.idx.range(start..end) {
            let (k, _) = r?;
            // AUDIT_TIME, time (8 bytes), seq.
            let Some(seq) = k.get(9..).and_then(read_be) else {
                continue;
            };
            let Some(v) = self.events.get(be(seq))? else {
                continue;
            };
            let e: Event = decode(&v, || format!("event {seq}"))?;
            if !keep(&e) {
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
