//! What the server reads of a stored event without decoding all of it: who may see it (for
//! a replay, a follower, a delivery).

use shaozi_shared::api::Activity;
use shaozi_shared::{Audience, EventKind, EventScope};

use crate::storage::Reads;

/// What the server reads of a stored event without decoding all of it: its kind, who may see
/// it, and the record (for an activity's units, or a token).
#[derive(Debug, serde::Deserialize)]
pub struct EventHead {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: shaozi_shared::EventKind,
    /// Who may see it.
    #[serde(default)]
    pub scope: EventScope,
    /// The record after the change.
    pub record: Option<serde_json::Value>,
}

/// A stored event's kind and who may see it; None for one that does not read.
pub fn stored_head(json: &str, store: &dyn Reads) -> Option<(EventKind, EventScope)> {
    let head = serde_json::from_str::<EventHead>(json).ok()?;
    let scope = match (head.kind, head.scope.audience) {
        // Stores written before activities had an audience kept them public; their units
        // are in the record.
        (EventKind::ActivityRecorded, Audience::Public) => {
            legacy_activity_scope(head.record, store)?
        }
        _ => head.scope,
    };
    Some((head.kind, scope))
}

fn legacy_activity_scope(
    record: Option<serde_json::Value>,
    store: &dyn Reads,
) -> Option<EventScope> {
    let a: Activity = serde_json::from_value(record?).ok()?;
    let c = store.community(a.community_id).ok().flatten()?;
    Some(super::admin::activity_scope(&a, c.street_id))
}
