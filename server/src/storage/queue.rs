//! The order of the unanswered queue and its cursors: the same bytes in every engine (the
//! sled engine's queue index is keyed by them, PostgreSQL orders a column by them), so a copied
//! city pages the same.

use chrono::{DateTime, Utc};
use shaozi_shared::{CommunityId, DepartmentId, StreetId, Urgency, Whistle};

/// The city's queue's first byte.
pub const CITY: u8 = b'q';
/// A unit's queue's first byte; then the unit's kind and number.
pub const UNIT: u8 = b'Q';
/// A street office's queue (after [`UNIT`]).
pub const STREET: u8 = b't';
/// A community's queue (after [`UNIT`]).
pub const COMMUNITY: u8 = b'c';
/// A department's queue (after [`UNIT`]).
pub const DEPARTMENT: u8 = b'd';

/// Milliseconds since the epoch as an order-preserving u64 (times before 1970 sort first).
pub fn time_key(t: DateTime<Utc>) -> u64 {
    (t.timestamp_millis() as u64) ^ (1 << 63)
}

/// Bytes of [`queue_tail`].
pub const QUEUE_TAIL: usize = 19;

/// The first byte of a queue key ([`Whistle::queue_class`]): returned whistles first (the
/// dispatcher must act), then overdue ones, then the rest.
pub mod queue_class {
    /// Sent back by the department.
    pub const RETURNED: u8 = 0;
    /// The rest.
    pub const OTHER: u8 = 2;
}

/// The queue order of an unanswered whistle: returned first, then overdue, then escalated,
/// then urgent, then earliest deadline, then id.
pub fn queue_tail(w: &Whistle) -> Vec<u8> {
    let class = w.queue_class();
    let escalated = if w.escalation_level > 0 { 0u8 } else { 1 };
    let urgent = if w.urgency == Urgency::Urgent { 0u8 } else { 1 };
    let mut k = vec![class, escalated, urgent];
    k.extend_from_slice(&time_key(w.respond_by).to_be_bytes());
    k.extend_from_slice(&w.id.0.to_be_bytes());
    k
}

/// The prefix of one unit's queue; `unit` is [`STREET`], [`COMMUNITY`] or [`DEPARTMENT`].
pub fn unit_queue_prefix(unit: u8, id: u64) -> Vec<u8> {
    let mut k = vec![UNIT, unit];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The queue a list reads: one unit's own when the query names one (the most specific),
/// else the city's; what is left of the filter is applied per record.
pub fn queue_prefix(
    department: Option<DepartmentId>,
    community: Option<CommunityId>,
    street: Option<StreetId>,
) -> Vec<u8> {
    match (department, community, street) {
        (Some(d), _, _) => unit_queue_prefix(DEPARTMENT, d.0),
        (None, Some(c), _) => unit_queue_prefix(COMMUNITY, c.0),
        (None, None, Some(s)) => unit_queue_prefix(STREET, s.0),
        (None, None, None) => vec![CITY],
    }
}
