//! Moving a city from one store to another (`shaozi-server copy --from … --to …`), either
//! engine to either: every event under its own sequence number, every record with its
//! timeline, the directory, tokens, activities, id series and kept idempotent answers. The
//! destination derives its own indexes and counters as it writes; then the copy is checked
//! against the source through the same reads the API answers with, and its counters against a
//! recount of its records.

use std::collections::{BTreeMap, HashMap};

use shaozi_shared::api::{Activity, Community, Department, ReplyTemplate, Street};
use shaozi_shared::{Event, EventKind, Principal, WhistleStatus};

use crate::storage::QueryError;
use crate::storage::{Counted, StoreError, WhistleQuery, WishQuery};
use crate::storage::{DirectoryKind, Engine, LogEntry, NameHolder, Reads, Series, Unit};
use crate::store::keys::Record;
use crate::OpenedEngine;

/// Events, records or the like written per transaction.
const CHUNK: usize = 2000;

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Either store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The destination already holds a city.
    #[error("the destination is not empty (its log has {0} events); copy into a new store")]
    NotEmpty(u64),
    /// The copy does not read back as the source.
    #[error("the copy differs from the source: {0}")]
    Differs(String),
}

/// What was copied.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// Events.
    pub events: u64,
    /// Whistles.
    pub whistles: usize,
    /// Wishes.
    pub wishes: usize,
    /// Streets, communities and departments.
    pub directory: usize,
    /// Tokens.
    pub tokens: usize,
    /// Activities.
    pub activities: usize,
    /// Kept idempotent answers.
    pub kept: usize,
    /// Reply templates kept through the API.
    pub templates: usize,
    /// Webhook subscriptions, with their cursors.
    pub webhooks: usize,
    /// Reads compared between source and copy.
    pub compared: usize,
}

/// Copies the city in `from` into the empty store `to`, then checks it. Blocking.
pub fn copy(
    from: &OpenedEngine,
    to: &mut OpenedEngine,
    offset: chrono::FixedOffset,
) -> Result<CopyReport, CopyError> {
    let dest_head = to.engine.last_seq()?;
    if dest_head > 0 || !to.reads.streets()?.is_empty() {
        return Err(CopyError::NotEmpty(dest_head));
    }
    let src = from.reads.as_ref();
    let mut report = CopyReport::default();

    // The log first, with each record's timeline and the activities gathered on the way.
    let mut timelines: HashMap<String, Vec<u64>> = HashMap::new();
    let mut activities: Vec<Activity> = Vec::new();
    // Every template number the log ever gave, deleted ones too: none is given twice.
    let mut template_ids: Vec<u64> = Vec::new();
    let mut after = 0;
    loop {
        let page = src.events_after(after, CHUNK)?;
        let Some(&(last, _)) = page.last() else { break };
        let mut parsed = Vec::with_capacity(page.len());
        for (seq, json) in &page {
            let e: Event = crate::storage::decode(json.as_bytes(), || format!("event {seq}"))?;
            let on_record = e.kind.about_whistle() || e.kind.as_str().starts_with("wish.");
            if on_record {
                timelines.entry(e.subject.clone()).or_default().push(*seq);
            }
            if e.kind == EventKind::TemplateSaved {
                template_ids.extend(ReplyTemplate::kept_number(&e.subject));
            }
            if e.kind == EventKind::ActivityRecorded {
                activities.push(crate::storage::decode(
                    e.record.to_string().as_bytes(),
                    || e.subject.clone(),
                )?);
            }
            parsed.push(e);
        }
        commit(to.engine.as_mut(), &mut |u| {
            for (e, (_, json)) in parsed.iter().zip(&page) {
                u.append_event(&LogEntry::of(e, json))?;
            }
            Ok(())
        })?;
        report.events += page.len() as u64;
        after = last;
    }

    // The directory and its names; tokens and theirs.
    let streets = src.streets()?;
    let communities = src.communities()?;
    let departments = src.departments()?;
    let tokens: Vec<_> = from.keeper.tokens_by_hash()?.into_iter().collect();
    let street_of: HashMap<u64, u64> = communities
        .iter()
        .map(|c| (c.id.0, c.street_id.0))
        .collect();
    commit(to.engine.as_mut(), &mut |u| {
        put_directory(u, DirectoryKind::Street, &streets, |s: &Street| {
            (s.id.0, &s.name)
        })?;
        put_directory(
            u,
            DirectoryKind::Community,
            &communities,
            |c: &Community| (c.id.0, &c.name),
        )?;
        put_directory(
            u,
            DirectoryKind::Department,
            &departments,
            |d: &Department| (d.id.0, &d.name),
        )?;
        for (hash, info) in &tokens {
            let json = to_json(info)?;
            u.put_token(hash, &json)?;
            u.claim_name(&info.name, NameHolder::Token(*hash))?;
        }
        restore(
            u,
            Series::Directory(DirectoryKind::Street),
            streets.iter().map(|s| s.id.0),
        )?;
        restore(
            u,
            Series::Directory(DirectoryKind::Community),
            communities.iter().map(|c| c.id.0),
        )?;
        restore(
            u,
            Series::Directory(DirectoryKind::Department),
            departments.iter().map(|d| d.id.0),
        )
    })?;
    report.directory = streets.len() + communities.len() + departments.len();
    report.tokens = tokens.len();

    // Activities, dated as the writer dated them: noon of their day in the city's time.
    for chunk in activities.chunks(CHUNK) {
        commit(to.engine.as_mut(), &mut |u| {
            for a in chunk {
                let id = activity_number(&a.id)?;
                let street = street_of.get(&a.community_id.0).copied().unwrap_or(0);
                let day = crate::clock::noon(a.date, offset).unwrap_or(a.created_at);
                u.put_activity(a, id, shaozi_shared::StreetId(street), day, &to_json(a)?)?;
            }
            Ok(())
        })?;
    }
    let activity_ids: Vec<u64> = activities
        .iter()
        .map(|a| activity_number(&a.id))
        .collect::<Result<_, _>>()?;
    report.activities = activities.len();

    // Reply templates still kept, as the source keeps them.
    let templates = src.templates()?;
    commit(to.engine.as_mut(), &mut |u| {
        for t in &templates {
            let n = ReplyTemplate::kept_number(&t.id).ok_or_else(|| StoreError::Corrupt {
                what: t.id.clone(),
                why: "a kept template is numbered T1, T2…".into(),
            })?;
            u.put_template(n, Some(&to_json(t)?))?;
        }
        restore(u, Series::Template, template_ids.iter().copied())
    })?;
    report.templates = templates.len();

    // Whistles and wishes, newest first, each with its timeline and counters.
    let mut counters: BTreeMap<String, i64> = BTreeMap::new();
    let whistle_ids = copy_records(
        to.engine.as_mut(),
        |cursor| src.list_whistles(&all_whistles(cursor)),
        |u, w, json, seqs| u.put_whistle(None, w, json, seqs),
        &timelines,
        &mut counters,
    )?;
    report.whistles = whistle_ids.len();
    let wish_ids = copy_records(
        to.engine.as_mut(),
        |cursor| src.list_wishes(&all_wishes(cursor)),
        |u, w, json, seqs| u.put_wish(None, w, json, seqs),
        &timelines,
        &mut counters,
    )?;
    report.wishes = wish_ids.len();

    // Counters from the records, the series where the source left them, the kept answers.
    let kept = from.export.kept_answers()?;
    commit(to.engine.as_mut(), &mut |u| {
        u.add_to_counters(&counters)?;
        restore(u, Series::Whistle, whistle_ids.iter().copied())?;
        restore(u, Series::Wish, wish_ids.iter().copied())?;
        restore(u, Series::Activity, activity_ids.iter().copied())?;
        for (k, v) in &kept {
            u.keep(k, v)?;
        }
        Ok(())
    })?;
    report.kept = kept.len();

    // Webhook subscriptions under their ids, each from where it had delivered to (the
    // numbers are the same), their secrets as stored: sealed ones need the same key.
    let hooks = from.hooks.hooks()?;
    for h in &hooks {
        let state = from.hooks.hook_state(h.id)?.unwrap_or_default();
        to.hooks.restore_hook(h, &state)?;
    }
    report.webhooks = hooks.len();
    if to.hooks.hooks()? != hooks {
        return Err(CopyError::Differs("the webhook subscriptions".into()));
    }

    to.engine.settle()?;
    report.compared = verify(src, to.reads.as_ref())?;
    recount(to.reads.as_ref(), to.counted.as_ref())?;
    Ok(report)
}

/// Every whistle, newest first, a page from `cursor`.
fn all_whistles(cursor: Option<String>) -> WhistleQuery {
    WhistleQuery {
        limit: CHUNK,
        cursor,
        ..Default::default()
    }
}

/// Every wish, newest first, a page from `cursor`.
fn all_wishes(cursor: Option<String>) -> WishQuery {
    WishQuery {
        limit: CHUNK,
        cursor,
        ..Default::default()
    }
}

/// Calls `f` with every page a list gives, from the first to the last.
fn each_page<T>(
    mut list: impl FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), QueryError>,
    mut f: impl FnMut(&[T]) -> Result<(), CopyError>,
) -> Result<(), CopyError> {
    let mut cursor = None;
    loop {
        let (page, next) = list(cursor.take()).map_err(query)?;
        f(&page)?;
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}

/// Writes every record a list gives into the destination, a page per transaction, each with
/// its timeline; adds their counters to `counters` and returns their numbers.
fn copy_records<R: Record>(
    engine: &mut dyn Engine,
    list: impl FnMut(Option<String>) -> Result<(Vec<R>, Option<String>), QueryError>,
    put: impl Fn(&mut dyn Unit, &R, &str, &[u64]) -> Result<(), StoreError>,
    timelines: &HashMap<String, Vec<u64>>,
    counters: &mut BTreeMap<String, i64>,
) -> Result<Vec<u64>, CopyError> {
    let mut numbers = Vec::new();
    each_page(list, |page| {
        commit(engine, &mut |u| {
            for r in page {
                let seqs = timelines.get(&r.subject()).map_or(&[][..], |v| v);
                put(u, r, &to_json(r)?, seqs)?;
            }
            Ok(())
        })?;
        for r in page {
            add_counts(counters, r.counts());
            numbers.push(r.number());
        }
        Ok(())
    })?;
    Ok(numbers)
}

fn query(e: QueryError) -> CopyError {
    match e {
        QueryError::Store(s) => CopyError::Store(s),
        other => CopyError::Differs(other.to_string()),
    }
}

/// Runs one batch on the destination, as the writer would.
fn commit(
    engine: &mut dyn Engine,
    f: &mut dyn FnMut(&mut dyn Unit) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    engine.commit(f)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt {
        what: "a record to copy".into(),
        why: e.to_string(),
    })
}

fn put_directory<T: serde::Serialize>(
    u: &mut dyn Unit,
    kind: DirectoryKind,
    records: &[T],
    id_name: impl Fn(&T) -> (u64, &String),
) -> Result<(), StoreError> {
    for r in records {
        let (id, name) = id_name(r);
        u.put_directory(kind, id, &to_json(r)?)?;
        u.claim_name(name, NameHolder::Directory(kind, id))?;
    }
    Ok(())
}

/// Sets a series past the highest id copied (ids are only taken by the batch that writes
/// them, so the source's next id is the highest plus one).
pub(crate) fn restore(
    u: &mut dyn Unit,
    series: Series,
    ids: impl Iterator<Item = u64>,
) -> Result<(), StoreError> {
    match ids.max() {
        Some(max) => u.restore_series(series, max + 1),
        None => Ok(()),
    }
}

pub(crate) fn add_counts(acc: &mut BTreeMap<String, i64>, counts: Vec<(String, i64)>) {
    for (k, n) in counts {
        *acc.entry(k).or_default() += n;
    }
}

pub(crate) fn activity_number(id: &str) -> Result<u64, StoreError> {
    id.strip_prefix('A')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StoreError::Corrupt {
            what: id.to_string(),
            why: "not an activity id".into(),
        })
}

/// Compares what the API reads from the source and from the copy; returns how many reads
/// were compared.
pub fn verify(src: &dyn Reads, dst: &dyn Reads) -> Result<usize, CopyError> {
    let mut n = 0;
    let mut same = |what: &str, a: String, b: String| -> Result<(), CopyError> {
        n += 1;
        if a == b {
            Ok(())
        } else {
            Err(CopyError::Differs(what.to_string()))
        }
    };
    let j = |v: &dyn erased::Json| v.json();
    same(
        "the log's head",
        src.last_seq()?.to_string(),
        dst.last_seq()?.to_string(),
    )?;
    let mut after = 0;
    loop {
        let (a, b) = (
            src.events_after(after, CHUNK)?,
            dst.events_after(after, CHUNK)?,
        );
        same(&format!("the events after {after}"), j(&a), j(&b))?;
        match a.last() {
            Some(&(last, _)) => after = last,
            None => break,
        }
    }
    same("the streets", j(&src.streets()?), j(&dst.streets()?))?;
    same(
        "the communities",
        j(&src.communities()?),
        j(&dst.communities()?),
    )?;
    same(
        "the departments",
        j(&src.departments()?),
        j(&dst.departments()?),
    )?;
    same("the tokens", j(&src.token_list()?), j(&dst.token_list()?))?;
    same(
        "the reply templates",
        j(&src.templates()?),
        j(&dst.templates()?),
    )?;
    let everyone = Principal::system();
    same(
        "the stats",
        j(&src.stats_for(&everyone)?),
        j(&dst.stats_for(&everyone)?),
    )?;

    // Every list, by every status and unit, page by page: the indexes of the copy.
    let mut queries = vec![WhistleQuery::default()];
    let unanswered: Vec<WhistleStatus> = WhistleStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_unanswered())
        .collect();
    queries.push(WhistleQuery {
        statuses: unanswered.clone(),
        ..Default::default()
    });
    for s in WhistleStatus::ALL {
        queries.push(WhistleQuery {
            statuses: vec![s],
            ..Default::default()
        });
    }
    for d in src.departments()? {
        queries.push(WhistleQuery {
            statuses: unanswered.clone(),
            department_id: Some(d.id),
            ..Default::default()
        });
        queries.push(WhistleQuery {
            department_id: Some(d.id),
            ..Default::default()
        });
    }
    for c in src.communities()? {
        queries.push(WhistleQuery {
            statuses: unanswered.clone(),
            community_id: Some(c.id),
            ..Default::default()
        });
    }
    for s in src.streets()? {
        queries.push(WhistleQuery {
            street_id: Some(s.id),
            ..Default::default()
        });
    }
    for (i, mut q) in queries.into_iter().enumerate() {
        q.limit = 500;
        loop {
            let a = src.list_whistles(&q).map_err(query)?;
            let b = dst.list_whistles(&q).map_err(query)?;
            same(&format!("a page of {q:?}"), j(&a), j(&b))?;
            // Timelines once each, on the first list: every whistle, newest first.
            for w in a.0.iter().filter(|_| i == 0) {
                same(
                    &format!("{}'s timeline", w.id),
                    j(&src.whistle_timeline(w.id)?),
                    j(&dst.whistle_timeline(w.id)?),
                )?;
            }
            match a.1 {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
    }
    let mut q = WishQuery {
        limit: 500,
        ..Default::default()
    };
    loop {
        let a = src.list_wishes(&q).map_err(query)?;
        let b = dst.list_wishes(&q).map_err(query)?;
        same("a page of wishes", j(&a), j(&b))?;
        for w in &a.0 {
            same(
                &format!("{}'s timeline", w.id),
                j(&src.wish_timeline(w.id)?),
                j(&dst.wish_timeline(w.id)?),
            )?;
        }
        match a.1 {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    Ok(n)
}

/// Checks an engine's counters against a recount of its records.
pub fn recount(reads: &dyn Reads, counted: &(dyn Counted + Send + Sync)) -> Result<(), CopyError> {
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    each_page(
        |cursor| reads.list_whistles(&all_whistles(cursor)),
        |page| {
            for w in page {
                add_counts(&mut want, w.counts());
            }
            Ok(())
        },
    )?;
    each_page(
        |cursor| reads.list_wishes(&all_wishes(cursor)),
        |page| {
            for w in page {
                add_counts(&mut want, w.counts());
            }
            Ok(())
        },
    )?;
    for (name, n) in &want {
        let have = counted.counter(name)?;
        if have != *n {
            return Err(CopyError::Differs(format!(
                "counter {name} is {have}, a recount says {n}"
            )));
        }
    }
    Ok(())
}

/// Any answer as JSON, for comparing.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
