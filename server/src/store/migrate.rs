//! The store's format, and bringing a store written by an earlier version up to it.
//!
//! Format 1 kept one index entry per id in every id-ordered list, per event in the timelines and
//! in the log by actor and by time. Format 2 keeps postings (see [`super::postings`]), one
//! timeline entry per record and one log-by-time entry per minute. Opening a format 1 store
//! rebuilds those families from the records and the log; every step can be redone, so a crash
//! during the rebuild only means it runs again at the next start.

use std::collections::BTreeMap;

use shaozi_shared::{Event, Whistle, Wish};

use super::keys::{self, be, family, key, read_be, Record, SeqSpan};
use super::{decode, postings, Store, StoreError};

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
    // Timelines: format 1 entries are (family, id, seq) with no value; merge them into one
    // entry per record, then drop them.
    for fam in [family::TIMELINE, family::WISH_TIMELINE] {
        let old: Vec<Vec<u8>> = keys_of(idx, fam)?
            .into_iter()
            .filter(|k| k.len() == 17)
            .collect();
        let mut merged: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        for k in &old {
            let seqs = merged.entry(k[..9].to_vec()).or_insert_with(|| {
                idx.get(&k[..9])
                    .ok()
                    .flatten()
                    .map(|v| v.chunks_exact(8).filter_map(read_be).collect())
                    .unwrap_or_default()
            });
            seqs.extend(read_be(&k[9..]));
        }
        write_all(
            idx,
            merged.into_iter().map(|(k, mut seqs)| {
                seqs.sort_unstable();
                seqs.dedup();
                (k, seqs.iter().flat_map(|s| be(*s)).collect())
            }),
        )?;
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
    ] {
        write_all(idx, keys_of(idx, fam)?.into_iter().map(|k| (k, Vec::new())))?;
    }
    let mut lists: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut post = |prefix: &[u8], id: u64| {
        let v = lists.entry(postings::bucket_key(prefix, id)).or_default();
        *v = postings::with(v, id);
    };
    for r in store.whistles.iter() {
        let (k, v) = r?;
        let w: Whistle = decode(&v, || format!("whistle {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
    }
    for r in store.wishes.iter() {
        let (k, v) = r?;
        let w: Wish = decode(&v, || format!("wish {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
    }
    let mut minutes: BTreeMap<Vec<u8>, SeqSpan> = BTreeMap::new();
    for r in store.events.iter() {
        let (k, v) = r?;
        let seq = read_be(&k).unwrap_or(0);
        let e: Event = decode(&v, || format!("event {seq}"))?;
        post(&keys::actor_prefix(&e.actor.name), seq);
        let m = key(&[&[family::AUDIT_TIME], &be(keys::minute_key(e.at))]);
        let span = minutes.get(&m).map_or(
            SeqSpan {
                first: seq,
                last: seq,
            },
            |s| s.widen(seq),
        );
        minutes.insert(m, span);
    }
    write_all(idx, lists)?;
    write_all(
        idx,
        minutes.into_iter().map(|(k, s)| (k, s.encode().to_vec())),
    )?;
    Ok(())
}
