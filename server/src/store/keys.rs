//! Byte layouts of keys, so that sled's ordering is the order we read in.

use chrono::{DateTime, Utc};
use shaozi_shared::{EventKind, Whistle, WhistleStatus, Wish};

pub use crate::storage::counts::{
    count_diff, counter, whistle_counts, wish_counts, wish_measure, WishMeasure,
};
pub use crate::storage::queue::{queue_class, queue_tail, time_key, unit_queue_prefix, QUEUE_TAIL};

/// Index families in the `idx` tree, each a one-byte prefix.
pub mod family {
    /// Unanswered queue: overdue, urgency, deadline, id.
    pub const QUEUE: u8 = crate::storage::queue::CITY;
    /// Whistles by status: postings.
    pub const STATUS: u8 = b's';
    /// Whistles by lead department, status: postings.
    pub const DEPARTMENT: u8 = crate::storage::queue::DEPARTMENT;
    /// Whistles by community, status: postings.
    pub const COMMUNITY: u8 = crate::storage::queue::COMMUNITY;
    /// Whistles by street, status: postings.
    pub const STREET: u8 = crate::storage::queue::STREET;
    /// Pending deadlines: due time, id.
    pub const TIMER: u8 = b'T';
    /// Whistles a department assists on, by department and status (format 8).
    pub const ASSIST: u8 = b'h';
    /// Wishes by status: postings.
    pub const WISH_STATUS: u8 = b'm';
    /// Wishes by community, status: postings.
    pub const WISH_COMMUNITY: u8 = b'n';
    /// Format 1 only: a whistle's timeline, (id, seq). Format 2 keeps timelines in the
    /// records (see [`crate::store::stored`]); the value still names whose timeline to read.
    pub const TIMELINE: u8 = b'l';
    /// Format 1 only: a wish's timeline, (id, seq).
    pub const WISH_TIMELINE: u8 = b'L';
    /// A unit's unanswered queue: unit kind (street, community, department), unit id, then
    /// the queue key's order.
    pub const UNIT_QUEUE: u8 = crate::storage::queue::UNIT;
    /// The log by actor: name, 0, then postings of sequence numbers.
    pub const AUDIT_ACTOR: u8 = b'a';
    /// The log by time: minute ([`super::minute_key`]) → its events' [`super::MinuteSpan`].
    pub const AUDIT_TIME: u8 = b'A';
    /// Whistles by category: postings (format 3). A category never changes, so the list is
    /// written once, when the whistle is filed.
    pub const CATEGORY: u8 = b'g';
    /// Postings of whistles with a request waiting for the dispatcher: `p e` more time asked,
    /// `p r` returned (the dispatcher's inbox, `?pending=`).
    pub const PENDING: u8 = b'p';
    /// The log's events that are not about a whistle (the directory, tokens, wishes,
    /// activities): postings of sequence numbers (format 3). They are few, so the whistle
    /// events are every other number, and no whistle step writes here.
    pub const OTHER_LOG: u8 = b'o';
    /// Families rebuilt from the records and the log when an older store is opened.
    pub const DERIVED_FROM_RECORDS: [u8; 15] = [
        STATUS,
        PENDING,
        DEPARTMENT,
        ASSIST,
        COMMUNITY,
        STREET,
        CATEGORY,
        WISH_STATUS,
        WISH_COMMUNITY,
        TIMELINE,
        WISH_TIMELINE,
        AUDIT_ACTOR,
        AUDIT_TIME,
        OTHER_LOG,
        FILED,
    ];
    /// A dispatched case's measures, per unit: unit kind, unit id, dispatch time, id.
    pub const MEASURE: u8 = b'M';
    /// A wish's part in its units' assessment: unit kind, unit id, time, id.
    pub const WISH_MEASURE: u8 = b'V';
    /// Activities per unit: unit kind, unit id, date, id.
    pub const ACTIVITY: u8 = b'v';
    /// Whistles by filing time: minute → the [`super::MinuteSpan`] of the ids filed in it.
    pub const FILED: u8 = b'F';
    /// Closed whistles by closing time: time, id.
    pub const CLOSED: u8 = b'K';
}

/// Record kinds in the `dir` tree.
pub mod dir {
    /// Street offices.
    pub const STREET: u8 = b'S';
    /// Communities.
    pub const COMMUNITY: u8 = b'C';
    /// Departments.
    pub const DEPARTMENT: u8 = b'D';
    /// Token names (in the name index only).
    pub const TOKEN: u8 = b'T';
    /// Activities.
    pub const ACTIVITY: u8 = b'A';
    /// Reply templates kept through the API.
    pub const TEMPLATE: u8 = b'R';
}

/// A u64 as a big-endian key.
pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Reads a big-endian u64 from the first 8 bytes.
pub fn read_be(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// The minute a time falls in, in the same order as [`time_key`].
pub fn minute_key(t: DateTime<Utc>) -> u64 {
    time_key(t) / 60_000
}

/// The prefix of an actor's postings in the log by actor.
pub fn actor_prefix(name: &str) -> Vec<u8> {
    key(&[&[family::AUDIT_ACTOR], name.as_bytes(), &[0]])
}

/// The sequence-ordered lists an event is on: its actor's, and, when it is not about a
/// whistle, the list the Open311 updates feed leaves out.
pub fn event_lists(kind: EventKind, actor: &str) -> Vec<Vec<u8>> {
    let mut out = vec![actor_prefix(actor)];
    if !kind.about_whistle() {
        out.push(vec![family::OTHER_LOG]);
    }
    out
}

/// What one minute holds of a numbered series (events, or whistles by filing time): the
/// lowest and highest number written in it, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteSpan {
    /// Lowest.
    pub first: u64,
    /// Highest.
    pub last: u64,
    /// How many.
    pub count: u64,
}

impl MinuteSpan {
    /// The span of one number.
    pub fn of(n: u64) -> MinuteSpan {
        MinuteSpan {
            first: n,
            last: n,
            count: 1,
        }
    }

    /// Reads a stored span (a damaged one reads as empty).
    pub fn decode(v: &[u8]) -> MinuteSpan {
        let at = |i: usize| v.get(i..).and_then(read_be);
        MinuteSpan {
            first: at(0).unwrap_or(u64::MAX),
            last: at(8).unwrap_or(0),
            count: at(16).unwrap_or(0),
        }
    }

    /// The span with `n` added.
    pub fn with(self, n: u64) -> MinuteSpan {
        self.merge(MinuteSpan::of(n))
    }

    /// Both spans together.
    pub fn merge(self, o: MinuteSpan) -> MinuteSpan {
        MinuteSpan {
            first: self.first.min(o.first),
            last: self.last.max(o.last),
            count: self.count + o.count,
        }
    }

    /// Bytes to store.
    pub fn encode(self) -> [u8; 24] {
        let mut out = [0; 24];
        out[..8].copy_from_slice(&be(self.first));
        out[8..16].copy_from_slice(&be(self.last));
        out[16..].copy_from_slice(&be(self.count));
        out
    }
}

/// The key of a minute's span in `fam` ([`family::AUDIT_TIME`] or [`family::FILED`]).
pub fn minute_span_key(fam: u8, at: DateTime<Utc>) -> Vec<u8> {
    key(&[&[fam], &be(minute_key(at))])
}

/// The index key claiming a unique name of a directory kind (`dir::STREET`…, `dir::TOKEN`).
pub fn name_key(kind: u8, name: &str) -> Vec<u8> {
    key(&[&[b'N', kind], name.as_bytes()])
}

/// Builds a key from parts.
pub fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// A directory record's key.
pub fn dir_key(kind: u8, id: u64) -> Vec<u8> {
    key(&[&[kind], &be(id)])
}

/// The key of an unanswered whistle in the city's queue.
pub fn queue_key(w: &Whistle) -> Vec<u8> {
    key(&[&[family::QUEUE], &queue_tail(w)])
}

/// Every index entry (key, value) a whistle has in its current state.
pub fn whistle_index(w: &Whistle) -> Vec<(Vec<u8>, Vec<u8>)> {
    let st = w.status.code();
    let mut out = Vec::new();
    if w.status.is_unanswered() {
        out.push((queue_key(w), vec![st]));
        let tail = queue_tail(w);
        let mut units = vec![
            (family::STREET, w.street_id.0),
            (family::COMMUNITY, w.community_id.0),
        ];
        units.extend(w.department_id.map(|d| (family::DEPARTMENT, d.0)));
        for (unit, id) in units {
            out.push((key(&[&unit_queue_prefix(unit, id), &tail]), vec![st]));
        }
    }
    if let Some(due) = w.next_alarm() {
        out.push((timer_key(due, w.id.0), vec![]));
    }
    // When it was closed, for the per-day series (filing times are kept per minute by the
    // writer: they never change).
    if let (WhistleStatus::Closed, Some(at)) = (w.status, w.closed_at) {
        out.push((
            key(&[&[family::CLOSED], &be(time_key(at)), &be(w.id.0)]),
            vec![],
        ));
    }
    // The case's part in the assessment of each unit that answers for it (and of each
    // department whose return was upheld, for that return), as every engine reads it.
    if let Some(at) = w.dispatched_at {
        use crate::storage::Group;
        for group in [Group::Department, Group::Street, Group::Community] {
            for (uid, part) in group.case_parts(w) {
                out.push((
                    unit_time_key(family::MEASURE, group_family(group), uid, at, w.id.0),
                    serde_json::to_vec(&part).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

/// The list of whistles of one category.
pub fn category_list(category: &str) -> Vec<u8> {
    key(&[&[family::CATEGORY], category.as_bytes(), &[0]])
}

/// The id-ordered lists a whistle is on: by status, and by community, street, category and
/// lead department with status.
pub fn whistle_lists(w: &Whistle) -> Vec<Vec<u8>> {
    let st = w.status.code();
    let mut out = vec![
        key(&[&[family::STATUS, st]]),
        key(&[&[family::COMMUNITY], &be(w.community_id.0), &[st]]),
        key(&[&[family::STREET], &be(w.street_id.0), &[st]]),
        category_list(&w.category),
    ];
    if let Some(d) = w.department_id {
        out.push(key(&[&[family::DEPARTMENT], &be(d.0), &[st]]));
    }
    for d in &w.assisting {
        out.push(key(&[&[family::ASSIST], &be(d.0), &[st]]));
    }
    for p in [
        crate::storage::Pending::Extension,
        crate::storage::Pending::Return,
    ] {
        if p.waits_on(w) {
            out.push(pending_list(p));
        }
    }
    out
}

/// The list of whistles on which `p` waits for the dispatcher.
pub fn pending_list(p: crate::storage::Pending) -> Vec<u8> {
    let kind = match p {
        crate::storage::Pending::Extension => b'e',
        crate::storage::Pending::Return => b'r',
    };
    key(&[&[family::PENDING, kind]])
}

/// The id-ordered lists a wish is on: by status, and by community with status.
pub fn wish_lists(w: &Wish) -> Vec<Vec<u8>> {
    let st = w.status.code();
    vec![
        key(&[&[family::WISH_STATUS, st]]),
        key(&[&[family::WISH_COMMUNITY], &be(w.community_id.0), &[st]]),
    ]
}

/// An assessment entry's key: family, unit kind, unit id, time, record id.
pub fn unit_time_key(fam: u8, unit: u8, uid: u64, at: DateTime<Utc>, id: u64) -> Vec<u8> {
    key(&[&[fam, unit], &be(uid), &be(time_key(at)), &be(id)])
}

/// A pending deadline's key.
pub fn timer_key(due: DateTime<Utc>, id: u64) -> Vec<u8> {
    key(&[&[family::TIMER], &be(time_key(due)), &be(id)])
}

/// Every index entry a wish has in its current state.
pub fn wish_index(w: &Wish) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(m) = wish_measure(w) {
        let value = serde_json::to_vec(&m).unwrap_or_default();
        // The claiming department is assessed from when it claimed; the community and its
        // street from when the wish was filed.
        if let (Some(d), Some(at)) = (w.department_id, w.claimed_at) {
            out.push((
                unit_time_key(family::WISH_MEASURE, family::DEPARTMENT, d.0, at, w.id.0),
                value.clone(),
            ));
        }
        for (unit, uid) in [
            (family::COMMUNITY, w.community_id.0),
            (family::STREET, w.street_id.0),
        ] {
            out.push((
                unit_time_key(family::WISH_MEASURE, unit, uid, w.created_at, w.id.0),
                value.clone(),
            ));
        }
    }
    out
}

/// A record the writer keeps with derived index entries, counters and a timeline.
pub trait Record: serde::Serialize {
    /// Its number, the key in its tree.
    fn number(&self) -> u64;
    /// Its id as shown, e.g. `W1042`.
    fn subject(&self) -> String;
    /// Its index entries in its current state.
    fn index(&self) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// The id-ordered lists (postings prefixes) it is on in its current state.
    fn lists(&self) -> Vec<Vec<u8>>;
    /// Its counter contributions in its current state.
    fn counts(&self) -> Vec<(String, i64)>;
}

impl Record for Whistle {
    fn number(&self) -> u64 {
        self.id.0
    }
    fn subject(&self) -> String {
        self.id.to_string()
    }
    fn index(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        whistle_index(self)
    }
    fn lists(&self) -> Vec<Vec<u8>> {
        whistle_lists(self)
    }
    fn counts(&self) -> Vec<(String, i64)> {
        whistle_counts(self)
    }
}

impl Record for Wish {
    fn number(&self) -> u64 {
        self.id.0
    }
    fn subject(&self) -> String {
        self.id.to_string()
    }
    fn index(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        wish_index(self)
    }
    fn lists(&self) -> Vec<Vec<u8>> {
        wish_lists(self)
    }
    fn counts(&self) -> Vec<(String, i64)> {
        wish_counts(self)
    }
}

/// A group's units' family in the store's keys.
pub(crate) fn group_family(g: crate::storage::Group) -> u8 {
    match g {
        crate::storage::Group::Department => family::DEPARTMENT,
        crate::storage::Group::Street => family::STREET,
        crate::storage::Group::Community => family::COMMUNITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_keys_sort_like_times() {
        let a = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let c = b + chrono::Duration::milliseconds(1);
        assert!(time_key(a) < time_key(b) && time_key(b) < time_key(c));
    }

    #[test]
    fn count_diff_nets_out() {
        let old = vec![("a".to_string(), 1), ("b".to_string(), 2)];
        let new = vec![("b".to_string(), 2), ("c".to_string(), 5)];
        assert_eq!(
            count_diff(&old, &new),
            vec![("a".into(), -1), ("c".into(), 5)]
        );
    }
}
