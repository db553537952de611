//! The event log's entries: every change is one event with a gapless sequence number.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    /// Token name (or `system` for the clock).
    pub name: String,
    /// Role of the token.
    pub role: String,
}

impl Actor {
    /// The server itself, acting on the clock.
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: "system".into(),
        }
    }
}

macro_rules! event_kinds {
    ($($variant:ident => $wire:tt, $doc:tt;)*) => {
        /// What kind of change an event records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum EventKind {
            $(#[doc = $doc] #[serde(rename = $wire)] $variant,)*
        }

        impl EventKind {
            /// Every kind.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The wire name, e.g. `whistle.dispatched`.
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $wire,)* }
            }
        }
    };
}

event_kinds! {
    StreetCreated => "street.created", "A street office was added.";
    CommunityCreated => "community.created", "A community was added.";
    DepartmentCreated => "department.created", "A department was added.";
    WhistleCreated => "whistle.created", "A community blew the whistle.";
    WhistleDispatched => "whistle.dispatched", "A department was called.";
    WhistleReassigned => "whistle.reassigned", "The case moved to another department.";
    WhistleAcknowledged => "whistle.acknowledged", "The department reported for duty.";
    WhistleAssistReported => "whistle.assist_reported", "An assisting department reported for duty.";
    WhistleAssistDone => "whistle.assist_done", "An assisting department marked its part done.";
    WhistleAssistingChanged => "whistle.assisting_changed", "Departments were called to assist, or let go, after the dispatch.";
    WhistleReclassified => "whistle.reclassified", "The category, urgency or address was corrected; the deadlines were worked out again.";
    WhistleNoted => "whistle.noted", "A note everyone who follows the case may read, the public included.";
    WhistleNotedInternal => "whistle.noted_internal", "A note for staff only: dispatchers, the called departments, the city office.";
    WhistleResolved => "whistle.resolved", "The department replied that it is fixed.";
    WhistleClosed => "whistle.closed", "The community confirmed and rated the fix.";
    WhistleReopened => "whistle.reopened", "The community rejected the fix.";
    WhistleRejected => "whistle.rejected", "Not a real problem, or a duplicate.";
    WhistleEscalated => "whistle.escalated", "The escalation level went up.";
    WhistleOverdue => "whistle.overdue", "A deadline passed.";
    WhistleDuplicateLinked => "whistle.duplicate_linked", "Another whistle was rejected as a duplicate of this one.";
    WhistleReturned => "whistle.returned", "The department sent the case back as not theirs (退单).";
    WhistleReturnUpheld => "whistle.return_upheld", "The dispatcher accepted the return and called another department.";
    WhistleReturnOverruled => "whistle.return_overruled", "The dispatcher overruled the return: back to the same department.";
    WhistleExtensionRequested => "whistle.extension_requested", "The department asked for more time (延期).";
    WhistleExtensionGranted => "whistle.extension_granted", "The resolve deadline moved.";
    WhistleExtensionDenied => "whistle.extension_denied", "The request for more time was denied.";
    WhistleUrged => "whistle.urged", "A dispatcher pressed the department (催办).";
    WhistleCalledBack => "whistle.called_back", "The resident was called back (回访).";
    WhistleDueSoon => "whistle.due_soon", "The pending deadline is near (即将到期).";
    WhistleAutoClosed => "whistle.auto_closed", "Closed without the community's confirmation when its time ran out.";
    WishCreated => "wish.created", "A resident's micro-wish was filed.";
    WishClaimed => "wish.claimed", "Someone claimed a wish.";
    WishCompleted => "wish.completed", "A wish was fulfilled.";
    WishCancelled => "wish.cancelled", "A wish was withdrawn.";
    TokenCreated => "token.created", "A token was issued.";
    TokenRevoked => "token.revoked", "A token was revoked.";
    ActivityRecorded => "activity.recorded", "An activity was recorded.";
    TemplateSaved => "template.saved", "A reply template was added.";
    TemplateDeleted => "template.deleted", "A reply template was deleted.";
}

impl EventKind {
    /// Whether it is a step in a whistle's life (`whistle.…`).
    pub fn about_whistle(self) -> bool {
        self.as_str().starts_with("whistle.")
    }

    /// How the step is told to the public (Open311's updates feed), Chinese first: never an
    /// internal note or a staff name. `None` for what the public is not told.
    pub fn public(self) -> Option<Public> {
        use EventKind::*;
        Some(match self {
            WhistleCreated => Public::Words("已受理 / received"),
            WhistleDispatched => Public::WithDepartment("已派至{} / sent to the department"),
            WhistleReassigned => {
                Public::WithDepartment("已改派至{} / passed to another department")
            }
            WhistleAcknowledged => Public::WithDepartment("{}已到场 / the department is on site"),
            WhistleAssistReported => {
                Public::Words("协办单位已到场 / an assisting department is on site")
            }
            WhistleReclassified => Public::Words("已更正问题分类 / the report was reclassified"),
            WhistleNoted => Public::Note("办理进展 / an update"),
            WhistleAssistingChanged => {
                Public::Words("已调整协办单位 / the assisting departments changed")
            }
            WhistleAssistDone => {
                Public::Words("协办单位已完成其负责部分 / an assisting department finished its part")
            }
            WhistleResolved => Public::Field("reply", "已处理 / fixed"),
            WhistleClosed => Public::Words("社区已确认办结 / the community confirmed the fix"),
            // The community's reason is its own note to the department.
            WhistleReopened => Public::Words(
                "社区认为尚未解决，已重新办理 / the community found it not fixed; reopened",
            ),
            WhistleRejected => Public::Field("reject_reason", "未予受理 / not accepted"),
            WhistleEscalated => Public::Words("已升级督办 / escalated"),
            WhistleOverdue => Public::Words("已超过处理时限 / past its deadline"),
            WhistleDuplicateLinked => {
                Public::Words("已合并一条重复报告 / a duplicate report was merged into this one")
            }
            WhistleReturned => Public::Words(
                "承办单位申请退回，正在重新派单 / the department sent it back; it is being re-routed",
            ),
            WhistleReturnUpheld => Public::Words("退单已核准 / the return was accepted"),
            WhistleReturnOverruled => {
                Public::WithDepartment("退单未获准，仍由{}办理 / the department keeps the case")
            }
            WhistleExtensionRequested => Public::Words(
                "承办单位申请延期 / the department asked for more time",
            ),
            WhistleExtensionGranted => {
                Public::Words("已批准延期办理 / more time was granted to fix it")
            }
            WhistleExtensionDenied => Public::Words("延期申请未获批准 / no extension was granted"),
            WhistleUrged => Public::Words("已督促承办单位加快办理 / the department was urged"),
            WhistleAutoClosed => Public::Words(
                "处理结果超期未确认，已自动办结 / closed: the fix was not confirmed in time",
            ),
            _ => return None,
        })
    }
}

/// The public description of a step (see [`EventKind::public`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    /// These words.
    Words(&'static str),
    /// These words, with the lead department's name for `{}`.
    WithDepartment(&'static str),
    /// The record's own public text in this field (a reply, the reason for rejecting), else
    /// these words.
    Field(&'static str, &'static str),
    /// The event's own note (a note written for the public), else these words.
    Note(&'static str),
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the durable event log, as streamed to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Gapless, commit-ordered sequence number, from 1.
    pub seq: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The id of the record that changed, e.g. `W1042`.
    pub subject: String,
    /// What the actor wrote, if anything.
    pub note: Option<String>,
    /// The record after the change.
    pub record: serde_json::Value,
    /// Who may see this event.
    #[serde(default)]
    pub scope: EventScope,
}

/// Who may see an event: the units it concerns, so every stream filters it cheaply, live or
/// replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventScope {
    /// `public` (the directory), `admin` (tokens), `whistle`, `wish` or `activity`.
    pub audience: Audience,
    /// The record's street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<crate::ids::StreetId>,
    /// The record's community.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<crate::ids::CommunityId>,
    /// Departments involved: the lead, assisting ones, and the previous lead after a reassignment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<crate::ids::DepartmentId>,
    /// For staff only (an internal note): not a community's token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff_only: bool,
}

/// What kind of audience an event has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Everyone.
    #[default]
    Public,
    /// Admins only.
    Admin,
    /// Those who see the whistle.
    Whistle,
    /// Those who see the wish.
    Wish,
    /// The units an activity names: its department, its community and that community's
    /// street (and the city-wide tokens).
    Activity,
}

impl Event {
    /// The entry for a record's timeline (the event without the record).
    pub fn timeline_entry(&self) -> TimelineEntry {
        TimelineEntry {
            seq: self.seq,
            kind: self.kind,
            at: self.at,
            actor: self.actor.clone(),
            note: self.note.clone(),
            department_id: self
                .record
                .get("department_id")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            status: self
                .record
                .get("status")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        }
    }
}

/// An event read back only for its timeline: what a [`TimelineEntry`] needs, the record's
/// other fields passed over rather than built into a tree (a record is most of an event's
/// bytes, and a page of cases reads thousands of events).
#[derive(Debug, Clone, Deserialize)]
pub struct TimelineEvent {
    /// The event's sequence number.
    pub seq: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The record it is about.
    pub subject: String,
    /// What they wrote.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    record: Option<RecordHead>,
}

/// The two fields of a record a timeline shows.
#[derive(Debug, Clone, Default, Deserialize)]
struct RecordHead {
    #[serde(default)]
    department_id: Option<TextOnly>,
    #[serde(default)]
    status: Option<TextOnly>,
}

/// A value kept only when it is text (as `Value::as_str` reads it).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TextOnly {
    Text(String),
    Other(serde::de::IgnoredAny),
}

impl TextOnly {
    fn text(self) -> Option<String> {
        match self {
            TextOnly::Text(s) => Some(s),
            TextOnly::Other(_) => None,
        }
    }
}

impl TimelineEvent {
    /// Its entry on the record's timeline, as [`Event::timeline_entry`] gives it.
    pub fn entry(self) -> TimelineEntry {
        let record = self.record.unwrap_or_default();
        TimelineEntry {
            seq: self.seq,
            kind: self.kind,
            at: self.at,
            actor: self.actor,
            note: self.note,
            department_id: record.department_id.and_then(TextOnly::text),
            status: record.status.and_then(TextOnly::text),
        }
    }
}

/// One step in a whistle's (or wish's) history: who did what, when, and what they wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    /// The event's sequence number.
    pub seq: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What they wrote.
    pub note: Option<String>,
    /// The lead department after the step.
    pub department_id: Option<String>,
    /// The status after the step.
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read light or whole, an event gives the same timeline entry.
    #[test]
    fn a_timeline_event_reads_as_the_whole_event_does() {
        let records = [
            serde_json::json!({"id": "W1001", "department_id": "D3", "status": "dispatched",
                               "title": "路灯不亮", "calls": [{"x": 1}], "staff": ["张伟"]}),
            serde_json::json!({"department_id": null, "status": "new"}),
            serde_json::json!({"department_id": 3, "status": {"odd": true}}),
            serde_json::json!({}),
            serde_json::json!(null),
        ];
        for (i, record) in records.into_iter().enumerate() {
            let e = Event {
                seq: 7 + i as u64,
                kind: EventKind::WhistleDispatched,
                at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default(),
                actor: Actor::system(),
                subject: "W1001".into(),
                note: (i % 2 == 0).then(|| "请尽快".to_string()),
                record,
                scope: EventScope::default(),
            };
            let json = serde_json::to_string(&e).unwrap_or_default();
            let light: TimelineEvent =
                serde_json::from_str(&json).unwrap_or_else(|err| panic!("{json}: {err}"));
            assert_eq!(light.subject, "W1001");
            assert_eq!(light.entry(), e.timeline_entry(), "{json}");
        }
    }
}
