//! Search over every case: `GET /api/v1/whistles?q=…&from=&to=`. The index is tantivy's, one
//! per server, derived from the log (`feed.rs` follows it, as the event stream does, so a case
//! filed on another server is found here within a moment) and rebuilt from it when missing or
//! of another version. Both engines feed it the same records, so it answers the same on sled
//! and on PostgreSQL.
//!
//! Every case is one document: its words (title; description, address, replies and public
//! notes; internal notes apart, for staff; the reporter apart, for those who may read it) as
//! [`grams`], and what a list filters by (status, street, community, lead and assisting
//! departments, category, urgency, source, filing time) as plain values. A search finds the
//! cases holding every term of every word asked for, inside the token's scope and the filters;
//! the ones whose title holds them all come first, and among equals the newest.

mod blocks;
pub mod feed;
pub mod grams;
pub mod ledger;
pub mod patterns;
pub mod similar;
mod windows;

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::watch;

use shaozi_shared::event::{EventKind, TimelineEntry};
use shaozi_shared::{Principal, Scope, Whistle, WhistleId};

use crate::storage::WhistleQuery;

pub(crate) use windows::Windows;

/// Bumped when what a document holds changes: an index of another version is rebuilt.
const VERSION: &str = "shaozi-search-5";
/// The tokenizer's name in the index.
const BIGRAMS: &str = "bigrams";
/// The writer's memory before it flushes a segment.
const WRITER_BYTES: usize = 32 << 20;

/// Why the index could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Its directory could not be opened.
    #[error("search index directory: {0}")]
    Directory(String),
}

/// The index's fields.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    created: Field,
    title: Field,
    body: Field,
    staff: Field,
    private: Field,
    phone: Field,
    status: Field,
    street: Field,
    community: Field,
    lead: Field,
    involved: Field,
    category: Field,
    urgency: Field,
    source: Field,
    lat: Field,
    long: Field,
    flags: Field,
    sig: [Field; grams::SIGNATURE_WORDS],
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(BIGRAMS)
            .set_index_option(IndexRecordOption::Basic),
    );
    let value = NumericOptions::default().set_indexed();
    let fields = Fields {
        id: b.add_u64_field("id", NumericOptions::default().set_indexed().set_fast()),
        created: b.add_i64_field(
            "created",
            NumericOptions::default().set_indexed().set_fast(),
        ),
        title: b.add_text_field("title", words.clone()),
        body: b.add_text_field("body", words.clone()),
        staff: b.add_text_field("staff", words.clone()),
        private: b.add_text_field("private", words),
        phone: b.add_text_field("phone", STRING),
        status: b.add_u64_field("status", value.clone()),
        // Fast too: the patterns (hotspots, trends) count by them.
        street: b.add_u64_field("street", value.clone().set_fast()),
        community: b.add_u64_field("community", value.clone().set_fast()),
        lead: b.add_u64_field("lead", value.clone()),
        involved: b.add_u64_field("involved", INDEXED),
        category: b.add_text_field("category", STRING | FAST),
        urgency: b.add_u64_field("urgency", value.clone()),
        source: b.add_u64_field("source", value.clone().set_fast()),
        lat: b.add_f64_field("lat", value.clone()),
        long: b.add_f64_field("long", value.clone()),
        flags: b.add_u64_field("flags", NumericOptions::default().set_fast()),
        // The terms as bits: similar cases are chosen by them without loading records.
        sig: grams::SIGNATURE_COLUMNS
            .map(|name| b.add_u64_field(name, NumericOptions::default().set_fast())),
    };
    (b.build(), fields)
}

/// A case as the index reads it: the record and its timeline (replies, notes).
pub type Case = (Whistle, Vec<TimelineEntry>);

/// What a search asks for besides the list's filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The words (empty: every case the filters keep).
    pub q: String,
    /// Filed at or after.
    pub from: Option<DateTime<Utc>>,
    /// Filed before.
    pub to: Option<DateTime<Utc>>,
    /// Cases skipped (the page's place).
    pub offset: usize,
}

/// The search index of one server.
pub struct Search {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The last event the index holds; moves as the feed commits.
    indexed: watch::Sender<u64>,
    /// That event's fingerprint, so an index left beside a store that was replaced (restored,
    /// copied over) is known and built again.
    mark: Mutex<String>,
}

impl Search {
    /// Opens the index kept in `dir` (made when missing; rebuilt when of another version), or
    /// one in memory with none. Returns it with the event it holds up to (0: empty).
    pub fn open(dir: Option<&Path>) -> Result<Search, SearchError> {
        let (schema, f) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
                let md = tantivy::directory::MmapDirectory::open(dir)
                    .map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
                let kept = Index::open(md.clone())
                    .ok()
                    .filter(|i| held(i).is_some() && i.schema() == schema);
                match kept {
                    Some(i) => i,
                    None => {
                        // Another version, or a half-made one: start again from the log.
                        for entry in std::fs::read_dir(dir)
                            .map_err(|e| SearchError::Directory(e.to_string()))?
                            .flatten()
                        {
                            let p = entry.path();
                            if p.is_file() {
                                let _ = std::fs::remove_file(p);
                            }
                        }
                        Index::create(md, schema, tantivy::IndexSettings::default())?
                    }
                }
            }
        };
        index.tokenizers().register(
            BIGRAMS,
            tantivy::tokenizer::TextAnalyzer::from(grams::Bigrams),
        );
        // Its threads (indexing, merging) take the priority of the thread that opens it: the
        // feed's, lower than the requests'.
        let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (seq, mark) = held(&index).unwrap_or_default();
        let (indexed, _) = watch::channel(seq);
        Ok(Search {
            reader,
            writer: Mutex::new(writer),
            f,
            indexed,
            mark: Mutex::new(mark),
        })
    }

    /// The fingerprint of the last event the index holds ("" for none).
    pub fn mark(&self) -> String {
        self.mark
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The last event the index holds.
    pub fn indexed_seq(&self) -> u64 {
        *self.indexed.borrow()
    }

    /// Waits until the index holds event `seq` or `wait` passes; whether it does.
    pub async fn caught_up(&self, seq: u64, wait: std::time::Duration) -> bool {
        let mut rx = self.indexed.subscribe();
        tokio::time::timeout(wait, rx.wait_for(|s| *s >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Runs `f` with the index's writer.
    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>,
    ) -> Result<T, SearchError> {
        let mut w = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut w)
    }

    /// Puts the cases as they are now in the index (a case given as None is taken out); seen
    /// by searches once [`commit`](Self::commit)ted.
    pub fn stage(&self, cases: Vec<(WhistleId, Option<Case>)>) -> Result<(), SearchError> {
        self.with_writer(|w| {
            for (id, case) in cases {
                w.delete_term(Term::from_field_u64(self.f.id, id.0));
                if let Some((wh, timeline)) = case {
                    w.add_document(self.document(&wh, &timeline))?;
                }
            }
            Ok(())
        })
    }

    /// Makes what was staged seen, recording that the index holds the log up to `seq` (whose
    /// event has the fingerprint `mark`).
    pub fn commit(&self, seq: u64, mark: &str) -> Result<(), SearchError> {
        self.with_writer(|w| {
            let mut commit = w.prepare_commit()?;
            commit.set_payload(&format!(
                "{VERSION} {seq} {}",
                if mark.is_empty() { "-" } else { mark }
            ));
            commit.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        *self
            .mark
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = mark.to_string();
        self.indexed.send_replace(seq);
        Ok(())
    }

    /// Forgets everything (the log is read again from its start).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })?;
        self.commit(0, "")
    }

    fn document(&self, w: &Whistle, timeline: &[TimelineEntry]) -> TantivyDocument {
        let f = &self.f;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, w.id.0);
        d.add_i64(f.created, w.created_at.timestamp());
        d.add_text(f.title, &w.title);
        d.add_text(f.body, &w.description);
        if let Some(a) = &w.address {
            d.add_text(f.body, a);
        }
        if let Some(r) = &w.reply {
            d.add_text(f.body, r);
        }
        for e in timeline {
            let Some(note) = &e.note else { continue };
            match e.kind {
                // Every reply, an earlier one of a reopened case too, and the public notes.
                EventKind::WhistleResolved | EventKind::WhistleNoted => d.add_text(f.body, note),
                EventKind::WhistleNotedInternal => d.add_text(f.staff, note),
                _ => {}
            }
        }
        if let Some(r) = &w.reporter {
            if let Some(n) = &r.name {
                d.add_text(f.private, n);
            }
            if let Some(p) = r.phone.as_deref().and_then(grams::phone) {
                d.add_text(f.phone, p);
            }
        }
        d.add_u64(f.status, u64::from(w.status.code()));
        d.add_u64(f.street, w.street_id.0);
        d.add_u64(f.community, w.community_id.0);
        if let Some(l) = w.department_id {
            d.add_u64(f.lead, l.0);
            d.add_u64(f.involved, l.0);
        }
        for a in &w.assisting {
            d.add_u64(f.involved, a.0);
        }
        d.add_text(f.category, &w.category);
        d.add_u64(f.urgency, urgency_code(w.urgency));
        d.add_u64(f.source, source_code(w.source));
        if let (Some(lat), Some(long)) = (w.lat, w.long) {
            d.add_f64(f.lat, lat);
            d.add_f64(f.long, long);
        }
        d.add_u64(f.flags, shaozi_shared::patterns::Counts::of(w).bits());
        for (field, word) in f.sig.iter().zip(grams::signature(&terms(w))) {
            d.add_u64(*field, word);
        }
        d
    }

    /// The ids of the cases `who` may see that match, best first, one page of `limit`, and
    /// whether more follow.
    pub fn find(
        &self,
        who: &Principal,
        list: &WhistleQuery,
        s: &SearchQuery,
        limit: usize,
    ) -> Result<(Vec<WhistleId>, bool), SearchError> {
        let mut filters: Vec<Box<dyn Query>> = self.filters(who, list, s);
        let words = self.words(who, &s.q);
        let searcher = self.reader.searcher();
        let take = limit.saturating_add(1);
        let windows = Windows::of(&searcher, self.f.id);
        // The newest `n` after `skip` of those `q` matches, read span by span from the newest
        // numbers back until there are enough, so a word every case holds reads a few
        // thousand cases, not all of them.
        let by_id = |q: &dyn Query, skip: usize, n: usize| -> Result<Vec<u64>, SearchError> {
            let want = skip.saturating_add(n);
            let mut ids: Vec<u64> = Vec::new();
            for span in windows.spans() {
                if ids.len() >= want {
                    break;
                }
                let top = TopDocs::with_limit(want - ids.len())
                    .order_by_fast_field::<u64>("id", Order::Desc);
                ids.extend(
                    searcher
                        .search(span.query(q).as_ref(), &top)?
                        .into_iter()
                        .filter_map(|(id, _)| id),
                );
            }
            Ok(ids.into_iter().skip(skip).collect())
        };
        let all = |extra: Vec<Box<dyn Query>>, filters: &[Box<dyn Query>]| -> Box<dyn Query> {
            let mut parts: Vec<(Occur, Box<dyn Query>)> = filters
                .iter()
                .map(|q| (Occur::Must, q.box_clone()))
                .collect();
            parts.extend(extra.into_iter().map(|q| (Occur::Must, q)));
            if parts.is_empty() {
                return Box::new(tantivy::query::AllQuery);
            }
            Box::new(BooleanQuery::new(parts))
        };
        let ids: Vec<u64> = match words {
            // Filters only: newest first.
            Words::None => by_id(all(Vec::new(), &filters).as_ref(), s.offset, take)?,
            Words::Nothing => Vec::new(),
            Words::Some { anywhere, in_title } => {
                // The cases whose title holds every word first, then the rest; newest first
                // within each.
                let first = all(vec![in_title.box_clone()], &filters);
                let mut ids = by_id(first.as_ref(), s.offset, take)?;
                if ids.len() < take {
                    // The title's cases end on this page: where the rest begin depends on
                    // how many there are (counted only when none is on this page).
                    let n_first = if ids.is_empty() {
                        searcher.search(first.as_ref(), &Count)?
                    } else {
                        s.offset + ids.len()
                    };
                    filters.push(Box::new(BooleanQuery::new(vec![
                        (Occur::Must, anywhere),
                        (Occur::MustNot, in_title),
                    ])));
                    let rest = all(Vec::new(), &filters);
                    let skip = s.offset.saturating_sub(n_first);
                    ids.extend(by_id(rest.as_ref(), skip, take - ids.len())?);
                }
                ids
            }
        };
        let more = ids.len() > limit;
        Ok((ids.into_iter().take(limit).map(WhistleId).collect(), more))
    }

    /// What the words of a search ask for: every term of every word, anywhere the token may
    /// read; and the same in the title alone.
    fn words(&self, who: &Principal, q: &str) -> Words {
        let f = &self.f;
        let q = q.trim();
        if q.is_empty() {
            return Words::None;
        }
        let mut fields = vec![f.title, f.body];
        if !matches!(who.scope, Scope::Community(_)) {
            fields.push(f.staff);
        }
        if who.sees_reporters() {
            fields.push(f.private);
        }
        let term_in = |field: Field, t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::Basic,
            ))
        };
        let mut anywhere: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut in_title: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // A phone number, however written, for those who may read who reported; or its
        // digits as a word in the text.
        if grams::looks_like_phone(q) {
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            let mut either: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, term_in(f.body, &digits))];
            if let Some(p) = grams::phone(q).filter(|_| who.sees_reporters()) {
                either.push((Occur::Should, term_in(f.phone, &p)));
            }
            return Words::Some {
                anywhere: Box::new(BooleanQuery::new(either)),
                in_title: term_in(f.title, &digits),
            };
        }
        for word in q.split_whitespace() {
            for g in grams::grams(word) {
                let any: Vec<(Occur, Box<dyn Query>)> = fields
                    .iter()
                    .map(|field| (Occur::Should, term_in(*field, &g)))
                    .collect();
                anywhere.push((Occur::Must, Box::new(BooleanQuery::new(any))));
                in_title.push((Occur::Must, term_in(f.title, &g)));
            }
        }
        if anywhere.is_empty() {
            // Only marks: nothing can match.
            return Words::Nothing;
        }
        Words::Some {
            anywhere: Box::new(BooleanQuery::new(anywhere)),
            in_title: Box::new(BooleanQuery::new(in_title)),
        }
    }

    /// The token's scope and the list's filters, as the index holds them.
    fn filters(&self, who: &Principal, q: &WhistleQuery, s: &SearchQuery) -> Vec<Box<dyn Query>> {
        let f = &self.f;
        let mut out: Vec<Box<dyn Query>> = self.scope(who).into_iter().collect();
        if !q.statuses.is_empty() {
            out.push(Box::new(BooleanQuery::new(
                q.statuses
                    .iter()
                    .map(|st| (Occur::Should, is(f.status, u64::from(st.code()))))
                    .collect(),
            )));
        }
        if let Some(x) = q.street_id {
            out.push(is(f.street, x.0));
        }
        if let Some(x) = q.community_id {
            out.push(is(f.community, x.0));
        }
        if let Some(x) = q.department_id {
            out.push(is(f.lead, x.0));
        }
        if let Some(x) = q.involving {
            out.push(is(f.involved, x.0));
        }
        if let Some(c) = &q.category {
            out.push(Box::new(TermQuery::new(
                Term::from_field_text(f.category, c),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(u) = q.urgency {
            out.push(is(f.urgency, urgency_code(u)));
        }
        if let Some(x) = q.source {
            out.push(is(f.source, source_code(x)));
        }
        if s.from.is_some() || s.to.is_some() {
            let lower = s.from.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.created, t.timestamp()))
            });
            let upper = s.to.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.created, t.timestamp()))
            });
            out.push(Box::new(RangeQuery::new(lower, upper)));
        }
        out
    }

    /// The cases `who` may see, as a query (None: every case).
    fn scope(&self, who: &Principal) -> Option<Box<dyn Query>> {
        let f = &self.f;
        match who.scope {
            Scope::City => None,
            Scope::Street(x) => Some(is(f.street, x.0)),
            Scope::Community(x) => Some(is(f.community, x.0)),
            Scope::Department(x) => Some(is(f.involved, x.0)),
        }
    }

    /// How many cases the index holds (for /metrics and tests).
    pub fn count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// The cases whose `field` holds `v`.
fn is(field: Field, v: u64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_u64(field, v),
        IndexRecordOption::Basic,
    ))
}

/// The words of a search, as queries.
enum Words {
    /// No words: the filters alone.
    None,
    /// Words with no term in them (only marks): nothing.
    Nothing,
    /// Every term anywhere the token may read, and every term in the title.
    Some {
        anywhere: Box<dyn Query>,
        in_title: Box<dyn Query>,
    },
}

/// How near two cases must be to be the same place when their communities differ.
pub const NEAR_M: f64 = 300.0;

/// Degrees of latitude and longitude that cover [`NEAR_M`] around a latitude.
pub(crate) fn near_box(lat: f64) -> (f64, f64) {
    let per_degree = 111_320.0;
    let dlat = NEAR_M / per_degree;
    let dlong = NEAR_M / (per_degree * lat.to_radians().cos().abs().max(0.01));
    (dlat, dlong)
}

/// Metres between two points on the earth (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_000.0;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = (b.0 - a.0).to_radians();
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// The distinct terms of a case's title and description, in order.
pub fn terms(w: &Whistle) -> Vec<String> {
    terms_of(&w.title, &w.description)
}

/// The terms of a title and description (a case's before it is filed).
pub fn terms_of(title: &str, description: &str) -> Vec<String> {
    // Each once, in order of first use; a set, because a long description has thousands.
    let mut seen = std::collections::HashSet::new();
    grams::grams(title)
        .into_iter()
        .chain(grams::grams(description))
        .filter(|g| seen.insert(g.clone()))
        .collect()
}

/// How alike `other` is to a case of terms `mine` (its [`terms`]): the share of them it
/// holds too, and those terms.
pub fn likeness(mine: &[String], other: &Whistle) -> (f64, Vec<String>) {
    if mine.is_empty() {
        return (0.0, Vec::new());
    }
    let theirs: std::collections::HashSet<String> = terms(other).into_iter().collect();
    let shared: Vec<String> = mine
        .iter()
        .filter(|t| theirs.contains(*t))
        .cloned()
        .collect();
    ((shared.len() as f64) / (mine.len() as f64), shared)
}

/// The event an index holds up to and its fingerprint, from its last commit; None for one not
/// made by this version.
fn held(index: &Index) -> Option<(u64, String)> {
    let meta = index.load_metas().ok()?;
    let payload = meta.payload?;
    let mut parts = payload.split(' ');
    if parts.next()? != VERSION {
        return None;
    }
    let seq = parts.next()?.parse().ok()?;
    let mark = parts.next().filter(|m| *m != "-").unwrap_or_default();
    Some((seq, mark.to_string()))
}

/// An event's fingerprint: enough of its hash to tell one log from another.
pub fn fingerprint(json: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(json.as_bytes());
    h[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn urgency_code(u: shaozi_shared::Urgency) -> u64 {
    match u {
        shaozi_shared::Urgency::Urgent => 1,
        shaozi_shared::Urgency::Normal => 0,
    }
}

fn source_code(s: shaozi_shared::case::Source) -> u64 {
    shaozi_shared::case::Source::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(0) as u64
}
