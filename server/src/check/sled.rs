//! The sled engine's check: the city at N rebuilt in a scratch store (a backup at N,
//! restored), compared with the live store tree by tree.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use shaozi_shared::api::ConsistencyReport;

use super::room::ensure_room;
use super::{CheckError, Findings};
use crate::backup::restore::{restore, verify};
use crate::backup::take::{take, Source};
use crate::storage::Series;
use crate::store::keys::{be, family, read_be};
use crate::store::{postings, series_key, stored, Store};

/// What to check and how.
pub struct SledCheck<'a> {
    /// The live store.
    pub live: &'a Store,
    /// The same store as a backup reads it.
    pub source: Source<'a>,
    /// The sequence number to check at.
    pub seq: u64,
    /// The counters as they were at `seq` (read between two batches); None to read them now
    /// (a stopped store).
    pub counters_at_seq: Option<BTreeMap<String, i64>>,
    /// The city's offset from UTC (activities are dated by it).
    pub offset: chrono::FixedOffset,
    /// Where the scratch copy goes (the same disk as the store, as a rule).
    pub scratch_in: &'a Path,
    /// Write the derived parts again where they differ (a stopped store only).
    pub repair: bool,
}

/// A difference before it is told apart from a write made after N.
enum Raw {
    /// An id on a list, or missing from it.
    Posting {
        fam: u8,
        prefix: Vec<u8>,
        id: u64,
        missing: bool,
    },
    /// A whole entry missing, extra or different.
    Entry {
        key: Vec<u8>,
        owner: Owner,
        missing: bool,
    },
    /// A whistle or wish as stored (its JSON and timeline) is not as the log says.
    Record { subject: String, what: String },
}

/// Whose an index entry is, for telling a write after N apart.
enum Owner {
    Subject(String),
    Minute(u64),
    Seq(u64),
    Unknown,
}

fn family_name(f: u8) -> &'static str {
    match f {
        family::QUEUE => "the city's queue",
        family::UNIT_QUEUE => "a unit's queue",
        family::STATUS => "whistles by status",
        family::DEPARTMENT => "whistles by department",
        family::COMMUNITY => "whistles by community",
        family::STREET => "whistles by street",
        family::CATEGORY => "whistles by category",
        family::TIMER => "the deadlines",
        family::WISH_STATUS => "wishes by status",
        family::WISH_COMMUNITY => "wishes by community",
        family::AUDIT_ACTOR => "the log by actor",
        family::AUDIT_TIME => "the log by minute",
        family::OTHER_LOG => "the log's events not about whistles",
        family::FILED => "whistles by filing minute",
        family::MEASURE => "the cases' measures",
        family::WISH_MEASURE => "the wishes' measures",
        family::ACTIVITY => "the activities by unit",
        family::CLOSED => "whistles by closing time",
        b'N' => "the names",
        _ => "an unknown family",
    }
}

/// What ids a postings family lists: whistles (`W`), wishes (`M`) or sequence numbers.
fn posting_kind(f: u8) -> Option<Option<char>> {
    match f {
        family::STATUS
        | family::DEPARTMENT
        | family::COMMUNITY
        | family::STREET
        | family::CATEGORY => Some(Some('W')),
        family::WISH_STATUS | family::WISH_COMMUNITY => Some(Some('M')),
        family::AUDIT_ACTOR | family::OTHER_LOG => Some(None),
        _ => None,
    }
}

fn last_id(key: &[u8]) -> Option<u64> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(read_be)
}

fn owner_of(key: &[u8], value: Option<&[u8]>) -> Owner {
    let subject = |letter: char| {
        last_id(key).map_or(Owner::Unknown, |id| Owner::Subject(format!("{letter}{id}")))
    };
    match key.first().copied() {
        Some(
            family::QUEUE | family::UNIT_QUEUE | family::TIMER | family::MEASURE | family::CLOSED,
        ) => subject('W'),
        Some(family::WISH_MEASURE) => subject('M'),
        Some(family::ACTIVITY) => subject('A'),
        Some(family::FILED | family::AUDIT_TIME) => key
            .get(1..)
            .and_then(read_be)
            .map_or(Owner::Unknown, Owner::Minute),
        Some(b'N') => match key.get(1).copied() {
            Some(crate::store::keys::dir::TOKEN) => {
                Owner::Subject(String::from_utf8_lossy(key.get(2..).unwrap_or_default()).into())
            }
            Some(kind) => value.and_then(read_be).map_or(Owner::Unknown, |id| {
                Owner::Subject(format!("{}{id}", kind as char))
            }),
            None => Owner::Unknown,
        },
        _ => Owner::Unknown,
    }
}

/// Walks two sorted trees together, calling `f` for every key whose values differ (or
/// that only one has). Returns how many keys were compared.
fn merge(
    actual: &sled::Tree,
    expected: &sled::Tree,
    mut f: impl FnMut(&[u8], Option<&[u8]>, Option<&[u8]>),
) -> Result<u64, CheckError> {
    let mut a = actual.iter();
    let mut e = expected.iter();
    let (mut x, mut y) = (a.next().transpose()?, e.next().transpose()?);
    let mut n = 0;
    loop {
        n += 1;
        match (&x, &y) {
            (None, None) => return Ok(n - 1),
            (Some((ka, va)), Some((ke, ve))) if ka == ke => {
                if va != ve {
                    f(ka, Some(va), Some(ve));
                }
                x = a.next().transpose()?;
                y = e.next().transpose()?;
            }
            (Some((ka, va)), Some((ke, _))) if ka < ke => {
                f(ka, Some(va), None);
                x = a.next().transpose()?;
            }
            (Some((ka, va)), None) => {
                f(ka, Some(va), None);
                x = a.next().transpose()?;
            }
            (_, Some((ke, ve))) => {
                f(ke, None, Some(ve));
                y = e.next().transpose()?;
            }
        }
    }
}

/// Runs the check.
pub fn check(c: SledCheck<'_>) -> Result<ConsistencyReport, CheckError> {
    let io = |what: &str| {
        let what = what.to_string();
        move |source| CheckError::Io { what, source }
    };
    ensure_room(c.scratch_in, c.live.db.size_on_disk()?)?;
    let scratch = tempfile::Builder::new()
        .prefix(".shaozi-check-")
        .tempdir_in(c.scratch_in)
        .map_err(io("making scratch space for the check"))?;
    let file = scratch.path().join("at.backup");
    {
        let f = std::fs::File::create(&file).map_err(io("writing the scratch backup"))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        // A scratch copy, never kept: nothing to sign.
        take(
            &c.source,
            c.seq,
            &mut out,
            &crate::notify::vault::Vault::default(),
        )?;
        std::io::Write::flush(&mut out).map_err(io("writing the scratch backup"))?;
    }
    let verified = verify(&file)?;
    let mut rebuilt = crate::open_engine_blocking(&scratch.path().join("store"))?;
    restore(&file, verified, &mut rebuilt, c.offset)?;
    let _ = std::fs::remove_file(&file);
    let Some(expected) = rebuilt.sled.clone() else {
        return Err(CheckError::Store(crate::storage::StoreError::Corrupt {
            what: "the scratch store".into(),
            why: "not a sled store".into(),
        }));
    };

    let mut raw: Vec<Raw> = Vec::new();
    let mut fix_index: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    let mut compared = merge(&c.live.idx, &expected.idx, |k, a, e| {
        fix_index.push((k.to_vec(), e.map(<[u8]>::to_vec)));
        let fam = k.first().copied().unwrap_or(0);
        if let (Some(_), Some(bucket)) = (posting_kind(fam), last_id(k)) {
            let prefix = k[..k.len() - 8].to_vec();
            let set = |v: Option<&[u8]>| -> HashSet<u64> {
                v.map(|v| postings::ids(bucket, v).collect())
                    .unwrap_or_default()
            };
            let (have, want) = (set(a), set(e));
            for id in want.difference(&have) {
                raw.push(Raw::Posting {
                    fam,
                    prefix: prefix.clone(),
                    id: *id,
                    missing: true,
                });
            }
            for id in have.difference(&want) {
                raw.push(Raw::Posting {
                    fam,
                    prefix: prefix.clone(),
                    id: *id,
                    missing: false,
                });
            }
            return;
        }
        raw.push(Raw::Entry {
            key: k.to_vec(),
            owner: owner_of(k, a.or(e)),
            missing: a.is_none(),
        });
    })?;
    let mut fix_records: Vec<(bool, Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for (is_whistle, live, want) in [
        (true, &c.live.whistles, &expected.whistles),
        (false, &c.live.wishes, &expected.wishes),
    ] {
        compared += merge(live, want, |k, a, e| {
            let letter = if is_whistle { 'W' } else { 'M' };
            let subject = format!("{letter}{}", read_be(k).unwrap_or(0));
            fix_records.push((is_whistle, k.to_vec(), e.map(<[u8]>::to_vec)));
            let what = match (a, e) {
                (Some(a), Some(e)) => {
                    let (ta, te) = (stored::timeline(a), stored::timeline(e));
                    if ta != te {
                        format!(
                            "its timeline is {:?}; the log says {:?}",
                            ta.unwrap_or_default(),
                            te.unwrap_or_default()
                        )
                    } else {
                        "its fields are not those of its last event in the log".to_string()
                    }
                }
                (Some(_), None) => "is stored, and the log never made it".to_string(),
                _ => "is in the log, and not stored".to_string(),
            };
            raw.push(Raw::Record { subject, what });
        })?;
    }

    // Counters: those at N against a recount of the records at N.
    let live_counters = match &c.counters_at_seq {
        Some(m) => m.clone(),
        None => all_counters(&c.live.counters)?,
    };
    let want_counters = all_counters(&expected.counters)?;
    let mut findings = Findings::default();
    let mut fix_counters = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        live_counters.keys().chain(want_counters.keys()).collect();
    for name in names {
        compared += 1;
        let (have, want) = (
            live_counters.get(name).copied().unwrap_or(0),
            want_counters.get(name).copied().unwrap_or(0),
        );
        if have != want {
            findings.add(
                "counter",
                format!("{name} is {have}; a recount of the records says {want}"),
            );
            fix_counters.push((name.clone(), want));
        }
    }

    // Series: the next id of each past every record the log made (a series only grows, so
    // writes after N cannot make the live one look behind).
    let mut fix_series = Vec::new();
    for series in Series::ALL {
        compared += 1;
        let next_in = |meta: &::sled::Tree| -> Result<Option<u64>, CheckError> {
            Ok(meta.get(series_key(series))?.and_then(|v| read_be(&v)))
        };
        let want = next_in(&expected.meta)?;
        let have = next_in(&c.live.meta)?.unwrap_or(series.first());
        if let Some(want) = want {
            if findings.series(series, have, Some(want.saturating_sub(1))) {
                fix_series.push((series, want));
            }
        }
    }

    // What changed after N is not a difference: the log after N says what that was.
    let (after, first_minute) = if c.counters_at_seq.is_some() {
        touched_after(c.live, c.seq)?
    } else {
        (HashSet::new(), None)
    };
    let later = |o: &Owner| match o {
        Owner::Subject(s) => after.contains(s),
        Owner::Minute(m) => first_minute.is_some_and(|f| *m >= f),
        Owner::Seq(s) => *s > c.seq,
        Owner::Unknown => false,
    };
    for r in raw {
        match r {
            Raw::Posting {
                fam,
                prefix,
                id,
                missing,
            } => {
                let owner = match posting_kind(fam).flatten() {
                    Some(letter) => Owner::Subject(format!("{letter}{id}")),
                    None => Owner::Seq(id),
                };
                if later(&owner) {
                    continue;
                }
                let what = match owner {
                    Owner::Subject(s) => s,
                    _ => format!("event {id}"),
                };
                findings.add(
                    "index",
                    format!(
                        "{what} {} {} (entry {})",
                        if missing {
                            "is missing from"
                        } else {
                            "should not be on"
                        },
                        family_name(fam),
                        shown(&prefix)
                    ),
                );
            }
            Raw::Entry {
                key,
                owner,
                missing,
            } => {
                if later(&owner) {
                    continue;
                }
                let fam = key.first().copied().unwrap_or(0);
                let whose = match &owner {
                    Owner::Subject(s) => format!("{s}'s entry"),
                    _ => "an entry".to_string(),
                };
                findings.add(
                    "index",
                    format!(
                        "{whose} in {} {} ({})",
                        family_name(fam),
                        if missing {
                            "is missing"
                        } else {
                            "differs or should not be there"
                        },
                        shown(&key)
                    ),
                );
            }
            Raw::Record { subject, what } => {
                if after.contains(&subject) {
                    continue;
                }
                findings.add("record", format!("{subject} {what}"));
            }
        }
    }
    drop(expected);
    let _ = rebuilt.engine.close();
    drop(rebuilt);

    let repaired = c.repair && findings.total > 0;
    if repaired {
        let mut batch = sled::Batch::default();
        for (k, v) in fix_index {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        c.live.idx.apply_batch(batch)?;
        let mut batch = sled::Batch::default();
        for (name, n) in fix_counters {
            batch.insert(name.as_bytes(), &n.to_be_bytes());
        }
        c.live.counters.apply_batch(batch)?;
        for (series, next) in fix_series {
            c.live.meta.insert(series_key(series), &be(next))?;
        }
        for (is_whistle, k, v) in fix_records {
            let tree = if is_whistle {
                &c.live.whistles
            } else {
                &c.live.wishes
            };
            match v {
                Some(v) => tree.insert(k, v)?,
                None => tree.remove(k)?,
            };
        }
        c.live.db.flush()?;
    }
    Ok(findings.report(c.seq, compared, repaired))
}

/// Every counter.
fn all_counters(tree: &sled::Tree) -> Result<BTreeMap<String, i64>, CheckError> {
    tree.iter()
        .map(|r| {
            let (k, v) = r?;
            let n = v
                .as_ref()
                .try_into()
                .map(i64::from_be_bytes)
                .unwrap_or_default();
            Ok((String::from_utf8_lossy(&k).into_owned(), n))
        })
        .collect()
}

/// The subjects of the log's events after `seq`, and the minute of the first of them.
fn touched_after(live: &Store, seq: u64) -> Result<(HashSet<String>, Option<u64>), CheckError> {
    #[derive(serde::Deserialize)]
    struct Glance {
        subject: String,
        at: chrono::DateTime<chrono::Utc>,
    }
    let mut subjects = HashSet::new();
    let mut first = None;
    let mut after = seq;
    loop {
        let page = live.events_after(after, 2000)?;
        let Some(&(last, _)) = page.last() else {
            break;
        };
        for (s, json) in &page {
            let g: Glance = crate::storage::decode(json.as_bytes(), || format!("event {s}"))?;
            first.get_or_insert(crate::store::keys::minute_key(g.at));
            subjects.insert(g.subject);
        }
        after = last;
    }
    // A whistle filed after N lands in the minute of its event or later, and so does every
    // event; the minute before is whole.
    Ok((subjects, first))
}

/// A key for people: its printable bytes as they are, the rest as hex.
fn shown(key: &[u8]) -> String {
    let mut out = String::new();
    for b in key {
        if b.is_ascii_graphic() {
            out.push(*b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

impl From<::sled::Error> for CheckError {
    fn from(e: ::sled::Error) -> Self {
        CheckError::Store(e.into())
    }
}
