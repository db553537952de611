//! List queries over the indexes: a page costs the same at any history size, and a sparse
//! filter scans a bounded number of entries before handing back a cursor to continue.

use shaozi_shared::{Whistle, WhistleId, WhistleStatus, Wish, WishId, WishStatus};

use super::keys::{be, family, key, read_be};
use super::{postings, Store, StoreError};
use crate::storage::query::{
    hex, id_cursor, unhex, BadCursor, QueryError, WhistleQuery, WishQuery,
};

/// Entries looked at per page before returning a partial page with a cursor.
const MAX_SCAN: usize = 5_000;

/// The smallest key greater than every key starting with `prefix`.
fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    while let Some(last) = k.pop() {
        if last < 0xff {
            k.push(last + 1);
            return k;
        }
    }
    vec![0xff; prefix.len() + 1]
}

impl Store {
    /// One page of whistles. The unanswered queue comes in queue order (overdue, urgent,
    /// earliest deadline); every other list newest first.
    pub fn list_whistles(
        &self,
        q: &WhistleQuery,
    ) -> Result<(Vec<Whistle>, Option<String>), QueryError> {
        if q.uses_queue() {
            return self.list_queue(q);
        }
        let below = id_cursor(q.cursor.as_deref())?;
        let statuses: Vec<WhistleStatus> = if q.statuses.is_empty() {
            WhistleStatus::ALL.to_vec()
        } else {
            q.statuses.clone()
        };
        let unit: Option<(u8, u64)> = q
            .department_id
            .map(|d| (family::DEPARTMENT, d.0))
            .or(q.involving.map(|d| (family::DEPARTMENT, d.0)))
            .or(q.community_id.map(|c| (family::COMMUNITY, c.0)))
            .or(q.street_id.map(|s| (family::STREET, s.0)));
        let mut prefixes: Vec<Vec<u8>> = statuses
            .iter()
            .map(|s| match unit {
                Some((fam, id)) => key(&[&[fam], &be(id), &[s.code()]]),
                None => key(&[&[family::STATUS, s.code()]]),
            })
            .collect();
        // A department's own list: the cases it assists on too (never both for one case).
        if let (None, Some(d)) = (q.department_id, q.involving) {
            prefixes.extend(
                statuses
                    .iter()
                    .map(|s| key(&[&[family::ASSIST], &be(d.0), &[s.code()]])),
            );
        }
        // What waits for the dispatcher is its own short list, whatever the statuses asked.
        if let (Some(p), None) = (q.pending, unit) {
            let ids = postings::descending(&self.idx, &super::keys::pending_list(p), below);
            let (ids, next) = self.page_desc(ids, q.limit, |id| {
                Ok(self.whistle(WhistleId(id))?.filter(|w| q.matches(w)))
            })?;
            return Ok((ids, next.map(|id| format!("i{id}"))));
        }
        let lists = postings::merged_descending(&self.idx, &prefixes, below);
        // A category narrows the walk through its own list, when no unit narrows it already.
        let ids: Box<dyn Iterator<Item = Result<u64, StoreError>>> = match (unit, &q.category) {
            (None, Some(c)) => Box::new(postings::intersect_descending(
                lists,
                postings::descending(&self.idx, &super::keys::category_list(c), below),
            )),
            _ => Box::new(lists),
        };
        let (ids, next) = self.page_desc(ids, q.limit, |id| {
            Ok(self.whistle(WhistleId(id))?.filter(|w| q.matches(w)))
        })?;
        Ok((ids, next.map(|id| format!("i{id}"))))
    }

    fn list_queue(&self, q: &WhistleQuery) -> Result<(Vec<Whistle>, Option<String>), QueryError> {
        // One unit's own queue when the query names one; the rest is filtered per record.
        let queue =
            crate::storage::queue::queue_prefix(q.department_id, q.community_id, q.street_id);
        let key_len = queue.len() + super::keys::QUEUE_TAIL;
        let base = queue;
        // Overdue whistles are among the first two classes (returned, overdue); the filter
        // itself is checked per record.
        let (first, end) = match q.overdue {
            Some(true) => (
                key(&[&base, &[super::keys::queue_class::RETURNED]]),
                key(&[&base, &[super::keys::queue_class::OTHER]]),
            ),
            _ => (base.clone(), successor(&base)),
        };
        let start = match &q.cursor {
            None => first,
            Some(c) => {
                let k = c
                    .strip_prefix("q")
                    .and_then(unhex)
                    .filter(|k| k.starts_with(&base) && k.len() == key_len)
                    .ok_or_else(|| BadCursor(c.clone()))?;
                // Resume just after the last key served.
                let mut k = k;
                k.push(0);
                k
            }
        };
        let mut items = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        for (scanned, r) in self.idx.range(start..end).enumerate() {
            let (k, v) = r.map_err(StoreError::from)?;
            if items.len() >= q.limit || scanned >= MAX_SCAN {
                return Ok((items, last.map(|k| format!("q{}", hex(&k)))));
            }
            last = Some(k.to_vec());
            let status = v.first().and_then(|c| WhistleStatus::from_code(*c));
            if !status.is_some_and(|s| q.statuses.contains(&s)) {
                continue;
            }
            let Some(id) = read_be(&k[k.len().saturating_sub(8)..]) else {
                continue;
            };
            if let Some(w) = self.whistle(WhistleId(id))? {
                if q.matches(&w) {
                    items.push(w);
                }
            }
        }
        Ok((items, None))
    }

    /// A newest-first page from a walk of ids, loading each with `load` (which may filter it
    /// out); looks at [`MAX_SCAN`] ids at most before handing back a cursor.
    fn page_desc<T>(
        &self,
        ids: impl Iterator<Item = Result<u64, StoreError>>,
        limit: usize,
        load: impl Fn(u64) -> Result<Option<T>, StoreError>,
    ) -> Result<(Vec<T>, Option<u64>), QueryError> {
        let mut items = Vec::new();
        let mut last = None;
        for (scanned, id) in ids.enumerate() {
            if items.len() >= limit || scanned >= MAX_SCAN {
                return Ok((items, last));
            }
            let id = id?;
            last = Some(id);
            if let Some(item) = load(id)? {
                items.push(item);
            }
        }
        Ok((items, None))
    }

    /// One page of wishes, newest first.
    pub fn list_wishes(&self, q: &WishQuery) -> Result<(Vec<Wish>, Option<String>), QueryError> {
        let below = id_cursor(q.cursor.as_deref())?;
        let statuses: Vec<WishStatus> = if q.statuses.is_empty() {
            WishStatus::ALL.to_vec()
        } else {
            q.statuses.clone()
        };
        let prefixes: Vec<Vec<u8>> = statuses
            .iter()
            .map(|s| match q.community_id {
                Some(c) => key(&[&[family::WISH_COMMUNITY], &be(c.0), &[s.code()]]),
                None => key(&[&[family::WISH_STATUS, s.code()]]),
            })
            .collect();
        let ids = postings::merged_descending(&self.idx, &prefixes, below);
        let (items, next) = self.page_desc(ids, q.limit, |id| self.wish(WishId(id)))?;
        Ok((items, next.map(|id| format!("i{id}"))))
    }
}
