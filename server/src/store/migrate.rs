//! The store's format, and bringing a store written by an earlier version up to it.
//!
//! Format 1 kept its indexes in the tree `idx`, with one entry per id in every id-ordered list,
//! per event in the timelines and in the log by actor and by time, and per whistle by filing
//! time. Format 2 keeps them in the tree `index`: postings (see [`super::postings`]), each
//! record's timeline inside the record (see [`super::stored`]), and one span per minute for the
//! log by time and for filing times.
//!
//! Format 3 adds two lists: whistles by category, and the log's events that are not about a
//! whistle (both postings), so that Open311's searches and updates feed page through an index.
//!
//! Opening a format 1 store builds `index` afresh: the families kept as they were are copied,
//! the rest derived from the records and the log; only then is the format set and `idx`
//! dropped whole (removing its entries one by one cost gigabytes of memory at a million
//! whistles). A crash before the format is set means the next start builds `index` again.
//! Opening a format 2 store derives the two new lists from the records and the log and writes
//! them whole (a rerun after a crash writes the same entries again).
//!
//! Format 4 (the middle of a case) puts returned whistles first in the queues (a class byte
//! before the overdue one), keeps the new measures with each case, and counts whistles per
//! source. Opening a format 3 store rebuilds the queues and the measures from the records and
//! sets the source totals (every earlier whistle came from a community); each part is derived
//! whole from the records, so a rerun after a crash is harmless.
//!
//! Format 5 counts whistles per status, city-wide (for `/metrics`). Opening an earlier store
//! sets those totals from the records (absolute values: a rerun writes the same).
//!
//! Format 7 lists the whistles on which a request waits for the dispatcher (more time asked,
//! a return), for the dispatcher's inbox. Opening an earlier store derives the lists from the
//! records and writes them whole (a rerun writes the same entries again).

use std::collections::BTreeMap;

use shaozi_shared::{Event, Whistle, Wish};

use super::keys::{self, be, family, read_be, MinuteSpan, Record};
use super::{decode, decode_record, postings, stored, StoreError};

/// The format this version writes.
pub const FORMAT: u64 = 9;
/// The index tree of formats 2 and 3.
pub const INDEX_TREE: &str = "index";
/// The index tree of format 1.
const OLD_INDEX_TREE: &str = "idx";
const FORMAT_KEY: &str = "format";
/// Writes per sled batch while rebuilding.
const BATCH: usize = 10_000;

/// Checks the store's format, upgrading a format 1 store; refuses a newer one. Runs before
/// any tree other than `meta` is opened, since the upgrade replaces the index tree.
pub fn ensure_format(db: &sled::Db) -> Result<(), StoreError> {
    let meta = db.open_tree("meta")?;
    let has_old = db
        .tree_names()
        .iter()
        .any(|n| &n[..] == OLD_INDEX_TREE.as_bytes());
    match meta.get(FORMAT_KEY)?.and_then(|v| read_be(&v)) {
        Some(FORMAT) => {
            // Left by an upgrade that stopped after setting the format.
            if has_old {
                db.drop_tree(OLD_INDEX_TREE)?;
            }
            return Ok(());
        }
        Some(n @ (2..=8)) => {
            let started = std::time::Instant::now();
            if n == 2 {
                tracing::info!("store in format 2: adding the lists of format 3");
                add_format_3_lists(db)?;
            }
            if n <= 3 {
                tracing::info!("store in format {n}: rebuilding queues and measures for format 4");
                add_format_4_middle(db)?;
            }
            if n <= 4 {
                tracing::info!("store in format {n}: counting whistles per status for format 5");
                add_format_5_status_totals(db)?;
            }
            if n <= 5 {
                tracing::info!(
                    "store in format {n}: counting each street's department loads for format 6"
                );
                add_format_6_street_loads(db)?;
            }
            if n <= 6 {
                tracing::info!(
                    "store in format {n}: listing what waits for the dispatcher for format 7"
                );
                add_format_7_pending_lists(db)?;
            }
            if n <= 7 {
                tracing::info!(
                    "store in format {n}: listing each department's assisting calls for format 8"
                );
                add_format_8_assist_lists(db)?;
            }
            tracing::info!(
                "store in format {n}: measuring each assisting call for the assessment (format 9)"
            );
            add_format_9_assist_measures(db)?;
            meta.insert(FORMAT_KEY, &be(FORMAT))?;
            db.flush()?;
            tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "store upgraded to format {FORMAT}"
            );
            return Ok(());
        }
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
    if has_old {
        let started = std::time::Instant::now();
        tracing::info!("store in format 1: building its format 2 index");
        rebuild(db)?;
        // The families copied as they were still have format 3's queue order and measures.
        add_format_4_middle(db)?;
        add_format_5_status_totals(db)?;
        add_format_6_street_loads(db)?;
        add_format_7_pending_lists(db)?;
        add_format_8_assist_lists(db)?;
        add_format_9_assist_measures(db)?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "store upgraded to format {FORMAT}"
        );
    }
    meta.insert(FORMAT_KEY, &be(FORMAT))?;
    db.flush()?;
    if has_old {
        db.drop_tree(OLD_INDEX_TREE)?;
        db.flush()?;
    }
    Ok(())
}

/// Writes (key, value) pairs into `tree` in batches.
/// The format a store is in, without changing it: None for a database with no shaozi data
/// (format 1 kept no number; its index tree says what it is).
pub fn format_of(db: &sled::Db) -> Result<Option<u64>, StoreError> {
    let meta = db.open_tree("meta")?;
    if let Some(n) = meta.get(FORMAT_KEY)?.and_then(|v| read_be(&v)) {
        return Ok(Some(n));
    }
    let has_old = db
        .tree_names()
        .iter()
        .any(|n| &n[..] == OLD_INDEX_TREE.as_bytes());
    Ok(has_old.then_some(1))
}

fn write_all(
    tree: &sled::Tree,
    entries: impl IntoIterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for e in entries {
        let (k, v) = e?;
        batch.insert(k, v);
        n += 1;
        if n == BATCH {
            tree.apply_batch(std::mem::take(&mut batch))?;
            n = 0;
        }
    }
    tree.apply_batch(batch)?;
    Ok(())
}

fn rebuild(db: &sled::Db) -> Result<(), StoreError> {
    // A previous attempt may have left part of an index.
    db.drop_tree(INDEX_TREE)?;
    let old = db.open_tree(OLD_INDEX_TREE)?;
    let index = db.open_tree(INDEX_TREE)?;
    let whistles = db.open_tree("whistles")?;
    let wishes = db.open_tree("wishes")?;
    let events = db.open_tree("events")?;

    // Families format 2 keeps as they were.
    write_all(
        &index,
        old.iter()
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |(k, _)| !family::DERIVED_FROM_RECORDS.contains(&k[0]))
            })
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), v.to_vec()))
            }),
    )?;

    // Timelines: format 1 kept an entry (family, id, seq) per event, in id order like the
    // records; format 2 keeps the sequence numbers in the record. A record an interrupted
    // upgrade already rewrote keeps its own too.
    for (fam, tree) in [
        (family::TIMELINE, &whistles),
        (family::WISH_TIMELINE, &wishes),
    ] {
        let mut entries = old
            .scan_prefix([fam])
            .keys()
            .map(|k| {
                let k = k?;
                Ok::<_, StoreError>((k.get(1..).and_then(read_be), k.get(9..).and_then(read_be)))
            })
            .peekable();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for r in tree.iter() {
            let (k, v) = r?;
            let id = read_be(&k).unwrap_or(0);
            let (Some(json), Some(mut timeline)) = (stored::json(&v), stored::timeline(&v)) else {
                return Err(StoreError::Corrupt {
                    what: format!("record {id}"),
                    why: "its stored timeline is cut short".into(),
                });
            };
            // Entries of records that no longer exist, or that do not read, are passed over.
            loop {
                match entries.peek() {
                    Some(Ok((Some(owner), _))) if *owner > id => break,
                    Some(Ok(_)) => {
                        if let Some(Ok((owner, seq))) = entries.next() {
                            if owner == Some(id) {
                                timeline.extend(seq);
                            }
                        }
                    }
                    Some(Err(_)) => {
                        if let Some(Err(e)) = entries.next() {
                            return Err(e);
                        }
                    }
                    None => break,
                }
            }
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
    }

    // Lists and the log indexes are derived entirely from the records and the log.
    let mut lists: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut post = |prefix: &[u8], id: u64| {
        let v = lists.entry(postings::bucket_key(prefix, id)).or_default();
        *v = postings::with(v, id);
    };
    let mut minutes: BTreeMap<Vec<u8>, MinuteSpan> = BTreeMap::new();
    let mut count = |fam: u8, at, n: u64| {
        let k = keys::minute_span_key(fam, at);
        let span = minutes.get(&k).map_or(MinuteSpan::of(n), |s| s.with(n));
        minutes.insert(k, span);
    };
    for r in whistles.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
        count(family::FILED, w.created_at, w.id.0);
    }
    for r in wishes.iter() {
        let (k, v) = r?;
        let w: Wish = decode_record(&v, || format!("wish {:?}", read_be(&k)))?;
        for p in w.lists() {
            post(&p, w.id.0);
        }
    }
    for r in events.iter() {
        let (k, v) = r?;
        let seq = read_be(&k).unwrap_or(0);
        let e: Event = decode(&v, || format!("event {seq}"))?;
        for list in keys::event_lists(e.kind, &e.actor.name) {
            post(&list, seq);
        }
        count(family::AUDIT_TIME, e.at, seq);
    }
    write_all(&index, lists.into_iter().map(Ok))?;
    write_all(
        &index,
        minutes
            .into_iter()
            .map(|(k, s)| Ok((k, s.encode().to_vec()))),
    )?;
    db.flush()?;
    Ok(())
}

/// Format 4: the queues' new order and the cases' new measures, derived from the records;
/// the per-source totals counted afresh.
fn add_format_4_middle(db: &sled::Db) -> Result<(), StoreError> {
    let index = db.open_tree(INDEX_TREE)?;
    let counters = db.open_tree("counters")?;
    // Drop the queues whole; they are written again from the records below.
    let mut drop = sled::Batch::default();
    for fam in [family::QUEUE, family::UNIT_QUEUE] {
        for k in index.scan_prefix([fam]).keys() {
            drop.remove(k?);
        }
    }
    index.apply_batch(drop)?;
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut entries = Vec::new();
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        for (name, n) in keys::whistle_counts(&w) {
            if name.starts_with("src") {
                *totals.entry(name).or_default() += n;
            }
        }
        entries.extend(w.index().into_iter().filter(|(k, _)| {
            matches!(
                k.first(),
                Some(&family::QUEUE | &family::UNIT_QUEUE | &family::MEASURE)
            )
        }));
        if entries.len() >= BATCH {
            write_all(&index, std::mem::take(&mut entries).into_iter().map(Ok))?;
        }
    }
    write_all(&index, entries.into_iter().map(Ok))?;
    set_counters(&counters, totals)?;
    db.flush()?;
    Ok(())
}

/// Sets counters to the values given (absolute: a rerun writes the same).
fn set_counters(counters: &sled::Tree, totals: BTreeMap<String, i64>) -> Result<(), StoreError> {
    write_all(
        counters,
        totals
            .into_iter()
            .map(|(name, n)| Ok((name.into_bytes(), n.to_be_bytes().to_vec()))),
    )
}

/// Format 5: whistles per status, city-wide, counted from the records.
fn add_format_5_status_totals(db: &sled::Db) -> Result<(), StoreError> {
    #[derive(serde::Deserialize)]
    struct Status {
        status: shaozi_shared::WhistleStatus,
    }
    let counters = db.open_tree("counters")?;
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Status = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        *totals.entry(keys::counter::status(w.status)).or_default() += 1;
    }
    set_counters(&counters, totals)?;
    db.flush()?;
    Ok(())
}

/// Format 6: each street's view of the departments' load (its own cases), counted from the
/// records as every write counts it.
fn add_format_6_street_loads(db: &sled::Db) -> Result<(), StoreError> {
    let counters = db.open_tree("counters")?;
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        for (name, n) in keys::whistle_counts(&w) {
            if name.starts_with("sdept/") {
                *totals.entry(name).or_default() += n;
            }
        }
    }
    set_counters(&counters, totals)?;
    db.flush()?;
    Ok(())
}

/// Derives format 7's lists (whistles on which a request waits for the dispatcher) from the
/// records and writes them whole.
fn add_format_7_pending_lists(db: &sled::Db) -> Result<(), StoreError> {
    add_lists(db, |w| {
        [
            crate::storage::Pending::Extension,
            crate::storage::Pending::Return,
        ]
        .into_iter()
        .filter(|p| p.waits_on(w))
        .map(keys::pending_list)
        .collect()
    })
}

/// Posts every whistle on the lists `lists_of` names for it, and writes them whole (a new
/// family: nothing of it is there yet, or what an interrupted upgrade left is rewritten).
fn add_lists(db: &sled::Db, lists_of: impl Fn(&Whistle) -> Vec<Vec<u8>>) -> Result<(), StoreError> {
    let index = db.open_tree(INDEX_TREE)?;
    let mut lists: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        for prefix in lists_of(&w) {
            let v = lists
                .entry(postings::bucket_key(&prefix, w.id.0))
                .or_default();
            *v = postings::with(v, w.id.0);
        }
    }
    write_all(&index, lists.into_iter().map(Ok))?;
    db.flush()?;
    Ok(())
}

/// Format 8: the lists of the whistles each department assists on, by status (a department's
/// own list holds them: joint 报到).
fn add_format_8_assist_lists(db: &sled::Db) -> Result<(), StoreError> {
    add_lists(db, |w| {
        w.assisting
            .iter()
            .map(|d| keys::key(&[&[keys::family::ASSIST], &be(d.0), &[w.status.code()]]))
            .collect()
    })
}

/// Format 9: an assisting department's call is measured on its own (joint 报到 in the
/// assessment); the measures of every whistle with assisting calls are written again.
fn add_format_9_assist_measures(db: &sled::Db) -> Result<(), StoreError> {
    let index = db.open_tree(INDEX_TREE)?;
    let mut entries = Vec::new();
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Whistle = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        if w.assisting.is_empty() {
            continue;
        }
        entries.extend(
            w.index()
                .into_iter()
                .filter(|(k, _)| k.first() == Some(&family::MEASURE)),
        );
        if entries.len() >= BATCH {
            write_all(&index, std::mem::take(&mut entries).into_iter().map(Ok))?;
        }
    }
    write_all(&index, entries.into_iter().map(Ok))?;
    db.flush()?;
    Ok(())
}

/// Derives format 3's lists (whistles by category, the log's events not about a whistle)
/// from the records and the log, reading only the fields they need, and writes them whole.
fn add_format_3_lists(db: &sled::Db) -> Result<(), StoreError> {
    #[derive(serde::Deserialize)]
    struct Filed {
        id: shaozi_shared::WhistleId,
        category: String,
    }
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: shaozi_shared::EventKind,
    }
    let index = db.open_tree(INDEX_TREE)?;
    let mut lists: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut post = |prefix: &[u8], id: u64| {
        let v = lists.entry(postings::bucket_key(prefix, id)).or_default();
        *v = postings::with(v, id);
    };
    for r in db.open_tree("whistles")?.iter() {
        let (k, v) = r?;
        let w: Filed = decode_record(&v, || format!("whistle {:?}", read_be(&k)))?;
        post(&keys::category_list(&w.category), w.id.0);
    }
    for r in db.open_tree("events")?.iter() {
        let (k, v) = r?;
        let seq = read_be(&k).unwrap_or(0);
        let e: Kind = decode(&v, || format!("event {seq}"))?;
        if !e.kind.about_whistle() {
            post(&[family::OTHER_LOG], seq);
        }
    }
    write_all(&index, lists.into_iter().map(Ok))?;
    db.flush()?;
    Ok(())
}
