//! What the whistle's state-machine tests share: the rules they run by, a filed whistle, and
//! the domain diagram written out independently of the implementation's table.

// Each test binary uses what it needs of this.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use shaozi_shared::calendar::Calendar;
use shaozi_shared::case::CaseRules;
use shaozi_shared::whistle::{Book, Filing};
use shaozi_shared::{
    CommunityId, Deadlines, StreetId, Urgency, Whistle, WhistleAction, WhistleId, WhistleStatus,
};

pub fn case_rules() -> &'static CaseRules {
    static RULES: std::sync::OnceLock<CaseRules> = std::sync::OnceLock::new();
    RULES.get_or_init(CaseRules::default)
}

pub fn calendar() -> &'static Calendar {
    static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CAL.get_or_init(Calendar::default)
}

pub fn book() -> Book<'static> {
    Book {
        deadlines: Deadlines::DEFAULT,
        calendar: calendar(),
        case: case_rules(),
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

/// A whistle as the writer files it: with its deadlines, and scheduled for its warnings.
pub fn filed(urgency: Urgency) -> Whistle {
    let mut w = Whistle::file(
        WhistleId(1001),
        Filing {
            community_id: CommunityId(1),
            street_id: StreetId(1),
            category: "lighting".into(),
            title: "路灯不亮".into(),
            description: "朝阳路口三盏路灯连续一周不亮".into(),
            urgency,
            address: None,
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        },
        "admin",
        t0(),
        &Deadlines::DEFAULT,
        calendar(),
    );
    w.schedule(case_rules());
    w
}

/// The domain diagram, written out independently of the implementation's table: the status
/// a step leads to from a whistle as it is (a pending extension decides what can be asked
/// and answered).
pub fn expected(w: &Whistle, action: &WhistleAction) -> Option<WhistleStatus> {
    use WhistleStatus::*;
    let status = w.status;
    let pending = w.pending_extension.is_some();
    match (status, action) {
        (New | Dispatched | Returned, WhistleAction::Dispatch { .. }) => Some(Dispatched),
        (Dispatched, WhistleAction::Acknowledge { .. }) => Some(Acknowledged),
        (Acknowledged, WhistleAction::Resolve { .. }) => Some(Resolved),
        (Resolved, WhistleAction::Close { .. }) => Some(Closed),
        (Resolved, WhistleAction::Reopen { .. }) => Some(Acknowledged),
        (New | Dispatched | Returned, WhistleAction::Reject { .. }) => Some(Rejected),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::Escalate { .. })
            if w.escalation_level < shaozi_shared::whistle::TOP_ESCALATION =>
        {
            Some(status)
        }
        (New | Dispatched | Acknowledged | Returned, WhistleAction::DeadlinePassed) => Some(status),
        (Dispatched, WhistleAction::Return { .. }) => Some(Returned),
        (Returned, WhistleAction::Overrule { .. }) => Some(Dispatched),
        (Acknowledged, WhistleAction::RequestExtension { .. }) if !pending => Some(status),
        (
            Acknowledged,
            WhistleAction::ApproveExtension { .. } | WhistleAction::DenyExtension { .. },
        ) if pending => Some(status),
        (Dispatched | Acknowledged, WhistleAction::Urge { .. }) => Some(status),
        (Dispatched | Acknowledged, WhistleAction::ChangeAssisting { .. }) => Some(status),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::Reclassify { .. }) => {
            Some(status)
        }
        (_, WhistleAction::Note { .. }) => Some(status),
        (Resolved | Closed, WhistleAction::CallBack { .. }) => Some(status),
        (New | Dispatched | Acknowledged | Returned, WhistleAction::DueSoon) => Some(status),
        (Resolved, WhistleAction::ConfirmDeadlinePassed) => Some(Closed),
        _ => None,
    }
}
