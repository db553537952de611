//! Reads by time: whistles by when they were filed, and the log by when things happened. The
//! Open311 interface pages through both.

use chrono::{DateTime, Utc};
use shaozi_shared::{Event, Whistle};

use super::keys::{be, family, key, read_be, time_key};
use super::{decode, Store, StoreError};

/// Walks index entries `(family, time, number)`, loads each record by its number, and keeps a
/// page of those `keep` accepts: `skip` passed over, at most `take` returned.
fn page<T>(
    entries: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    load: impl Fn(u64) -> Result<Option<T>, StoreError>,
    skip: usize,
    take: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for r in entries {
        let (k, _) = r?;
        // One byte of family, eight of time, then the number.
        let Some(n) = k.get(9..).and_then(read_be) else {
            continue;
        };
        let Some(t) = load(n)? else { continue };
        if !keep(&t) {
            continue;
        }
        if skipped < skip {
            skipped += 1;
            continue;
        }
        out.push(t);
        if out.len() >= take {
            break;
        }
    }
    Ok(out)
}

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
        let load = |id: u64| match self.whistles.get(be(id))? {
            Some(v) => decode(&v, || format!("whistle {id}")).map(Some),
            None => Ok(None),
        };
        let entries = self.idx.range(span(family::FILED, from, to)).rev();
        page(entries, load, skip, take, keep)
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
        let load = |seq: u64| match self.events.get(be(seq))? {
            Some(v) => decode(&v, || format!("event {seq}")).map(Some),
            None => Ok(None),
        };
        let entries = self.idx.range(span(family::AUDIT_TIME, from, to));
        page(entries, load, skip, take, keep)
    }
}
