//! The store's format, and bringing a store written by an earlier version up to it.
//!
//! Format 1 kept one index entry per id in every id-ordered list, per event in the timelines and
//! in the log by actor and by time. Format 2 keeps postings (see [`super::postings`]), each
//! record's timeline inside the record (see [`super::stored`]) and one log-by-time entry per
//! minute. Opening a format 1 store
//! rebuilds those families from the records and the log; every step can be redone, so a crash
//! during the rebuild only means it runs again at the next start.

use std::collections::BTreeMap;

use shaozi_shared::{Event, Whistle, Wish};

use super::keys::{self, be, family, read_be, MinuteSpan, Record};
use super::{decode, decode_record, postings, stored, Store, StoreError};

/// The format this version writes.
pub const FORMAT: u64 = 2;
const FORMAT_KEY: &str = "format";
/// Writes per sled batch while rebuilding.
const BATCH: usize = 10_000;

/// Checks the store's format, upgrading a format 1 store; refuses a newer one.
pub fn ensure_format(store: &Store) -> Result<(), StoreError> {
    let found = store.meta.get(FORMAT_KEY)?.and_then(|v| read_be(&v));
    match found {
        Some(FORMAT) => return Ok(()),
        Some(n) => {
            return Err(StoreError::Corrupt {
                what: "the store".into(),
                why: format!(
                    "it is in format {n}, and this server reads format {FORMAT}; run a newer shaozi-server"
                ),
            })
        }
        None => {}
    }
    let empty = store.whistles.is_empty() && store.wishes.is_empty() && store.events.is_empty();
    if !empty {
        let started = std::time::Instant::now();
        tracing::info!("store in format 1: rebuilding its lists, timelines and log indexes");
        rebuild(store)?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "store upgraded to format {FORMAT}"
        );
    }
    store.meta.insert(FORMAT_KEY, &be(FORMAT))?;
    store.db.flush()?;
    Ok(())
}

/// Writes (key, value) pairs into `idx` in batches; an empty value removes the key.
fn write_all(
    idx: &sled::Tree,
    entries: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for (k, v) in entries {
        if v.is_empty() {
            batch.remove(k);
        } else {
            batch.insert(k, v);
        }
        n += 1;
        if n == BATCH {
            idx.apply_batch(std::mem::take(&mut batch))?;
            n = 0;
        }
    }
    idx.apply_batch(batch)?;
    Ok(())
}

/// Keys of `idx` starting with `fam`.
fn keys_of(idx: &sled::Tree, fam: u8) -> Result<Vec<Vec<u8>>, StoreError> {
    idx.scan_prefix([fam])
        .keys()
        .map(|k| Ok(k?.to_vec()))
        .collect()
}

fn rebuild(store: &Store) -> Result<(), StoreError> {
    let idx = &store.idx;
    // Timelines: format 1 kept an entry (family, id, seq) per event; format 2 keeps the
    // sequence numbers in the record. Records already rewritten keep theirs.
    for (fam, tree) in [
        (family::TIMELINE, &store.whistles),
        (family::WISH_TIMELINE, &store.wishes),
    ] {
        let old = keys_of(idx, fam)?;
        let mut seqs: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for k in &old {
            if let (Some(id), Some(seq)) =
                (k.get(1..).and_then(read_be), k.get(9..).and_then(read_be))
            {
                seqs.entry(id).or_default().push(seq);
            }
        }
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for r in tree.iter() {
            let (k, v) = r?;
            let id = read_be(&k).unwrap_or(0);
            let what = || format!("record {id}");
            let (Some(json), Some(mut timeline)) = (stored::json(&v), stored::timeline(&v)) else {
                return Err(StoreError::Corrupt {
                    what: what(),
                    why: "its stored timeline is cut short".into(),
                });
            };
            timeline.extend(seqs.remove(&id).unwrap_or_default());
            timeline.sort_unstable();
            timeline.dedup();
            batch.insert(k, stored::encode(&timeline, json));
            n += 1;
            if n == BATCH {
                tree.apply_batch(std::mem::take(&mut batch))?;
                n = 0;
            }
        }
        tree.apply_batch(batch)?;
        write_all(idx, old.into_iter().map(|k| (k, Vec::new())))?;
    }
    // Lists and the log indexes are derived entirely from the records and the log.
    for fam in [
        family::STATUS,
        family::DEPARTMENT,
        family::COMMUNITY,
        family::STREET,
        family::WISH_STATUS,
        family::WISH_COMMUNITY,
        family::AUDIT_ACTOR,
        family::AUDIT_TIME,
        family::FILED,
    ] {
        write_all(idx, keys_of(idx, fam)?.into_iter().map(|k| (k, Vec::new())))?;
    }
    let mut lists: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut minutes: BTreeMap<Vec<u8>, MinuteSpan> = BTreeMap::new();
    let mut count = |fam: u8, at, n: u64| {
        let k = keys::minute_span_key(fam, at);
        let span = minutes.get(&k).map_or(MinuteSpan::of(n), |s| s.with(n));
        minutes.insert(k, span);
    };
    let mut post = |prefix: &[u8], id: u64| {
        let v = lists.entry(postings::bucket_key(prefix, id)).or_default();
        *v = postings::with(v, id);
    };
    for r in store.whistles.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
        count(family::FILED, w.created_at, w.id.0);
    }
    for r in store.wishes.iter() {
        let (k, v) = r?;
        let w: Wish = decode_record(&v, || format!("wish {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
    }
    for r in store.events.iter() {
        let (k, v) = r?;
        let seq = read_be(&k).unwrap_or(0);
        let e: Event = decode(&v, || format!("event {seq}"))?;
        post(&keys::actor_prefix(&e.actor.name), seq);
        count(family::AUDIT_TIME, e.at, seq);
    }
    write_all(idx, lists)?;
    write_all(
        idx,
        minutes.into_iter().map(|(k, s)| (k, s.encode().to_vec())),
    )?;
    Ok(())
}
