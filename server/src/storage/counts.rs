//! What the counters are called and what each record adds to them: the same in every engine
//! (stats are worked out from them the same way, and a copy between engines keeps them).

use shaozi_shared::{Urgency, Whistle, WhistleStatus, Wish};

/// What a wish adds to a unit's assessment: claimed, completed, value completed (fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WishMeasure {
    /// Claimed (including since completed).
    pub claimed: bool,
    /// Completed.
    pub completed: bool,
    /// Value if completed.
    pub value_fen: i64,
}

/// What a wish adds to its units' assessment in its current state (None when cancelled).
pub fn wish_measure(w: &Wish) -> Option<WishMeasure> {
    use shaozi_shared::WishStatus::*;
    (w.status != Cancelled).then(|| WishMeasure {
        claimed: matches!(w.status, Claimed | Completed),
        completed: w.status == Completed,
        value_fen: if w.status == Completed {
            w.value_fen
        } else {
            0
        },
    })
}

/// The counters' names: the one place that knows them, for what writes them (the
/// contributions below) and what reads them (`store/counts.rs`, the assessment).
pub mod counter {
    /// Whose unanswered queue.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Queue {
        /// The city's.
        City,
        /// A street office's.
        Street(u64),
        /// A community's.
        Community(u64),
        /// A department's.
        Department(u64),
    }

    /// A queue's `unanswered`, `urgent` or `overdue`.
    pub fn queue(q: Queue, field: &str) -> String {
        match q {
            Queue::City => format!("queue/{field}"),
            Queue::Street(id) => format!("uq/t/{id:010}/{field}"),
            Queue::Community(id) => format!("uq/c/{id:010}/{field}"),
            Queue::Department(id) => format!("uq/d/{id:010}/{field}"),
        }
    }

    /// Whistles from a source, the city's or a unit's (a department's: those it leads).
    pub fn source(q: Queue, s: shaozi_shared::case::Source) -> String {
        let s = s.as_str();
        match q {
            Queue::City => format!("src/{s}"),
            Queue::Street(id) => format!("srct/{id:010}/{s}"),
            Queue::Community(id) => format!("srcc/{id:010}/{s}"),
            Queue::Department(id) => format!("srcd/{id:010}/{s}"),
        }
    }

    /// Whistles in a status, city-wide (`/metrics`).
    pub fn status(s: shaozi_shared::WhistleStatus) -> String {
        format!("{STATUS}{}", s.as_str())
    }

    /// Every status counter starts with this.
    pub const STATUS: &str = "status/";

    /// Every department's load counters start with this, then `{id:010}/{field}`.
    pub const DEPARTMENTS: &str = "dept/";

    /// A department's `dispatched`, `acknowledged`, `open` or `overdue`.
    pub fn department(id: u64, field: &str) -> String {
        format!("{DEPARTMENTS}{id:010}/{field}")
    }

    /// A street's view of the departments' load (its own cases only) starts with this, then
    /// `{department:010}/{field}`.
    pub fn street_departments(street: u64) -> String {
        format!("sdept/{street:010}/")
    }

    /// A department's `dispatched`, `acknowledged`, `open` or `overdue`, counting one street's
    /// cases.
    pub fn street_department(street: u64, department: u64, field: &str) -> String {
        format!("{}{department:010}/{field}", street_departments(street))
    }

    /// The city's wish totals start with this, then the field.
    pub const WISHES: &str = "wish/";
    /// Every community's wish totals start with this, then `{id:010}/{field}`.
    pub const COMMUNITY_WISHES: &str = "wishc/";

    /// A wish total (`total`, `claimed`, `completed`, `value_total`, `value_completed`), the
    /// city's or a community's.
    pub fn wishes(community: Option<u64>, field: &str) -> String {
        match community {
            None => format!("{WISHES}{field}"),
            Some(id) => format!("{COMMUNITY_WISHES}{id:010}/{field}"),
        }
    }
}

/// Counter contributions of a whistle in its current state; counters are the sums of these
/// over all records, kept up to date by adding the difference on every change.
pub fn whistle_counts(w: &Whistle) -> Vec<(String, i64)> {
    use counter::Queue;
    let mut out = Vec::new();
    // The city and each unit the whistle belongs to: its totals per source, and its queue.
    let mut units = vec![
        Queue::City,
        Queue::Street(w.street_id.0),
        Queue::Community(w.community_id.0),
    ];
    units.extend(w.department_id.map(|d| Queue::Department(d.0)));
    for q in &units {
        out.push((counter::source(*q, w.source), 1));
    }
    out.push((counter::status(w.status), 1));
    if w.status.is_unanswered() {
        // The city's queue, and each unit's, for scoped stats.
        for q in units {
            out.push((counter::queue(q, "unanswered"), 1));
            if w.urgency == Urgency::Urgent {
                out.push((counter::queue(q, "urgent"), 1));
            }
            if w.overdue {
                out.push((counter::queue(q, "overdue"), 1));
            }
        }
    }
    if let Some(d) = w.department_id {
        // The department's load city-wide, and as the whistle's street sees it.
        let (city, street) = (
            |f: &str| counter::department(d.0, f),
            |f: &str| counter::street_department(w.street_id.0, d.0, f),
        );
        let mut fields = Vec::new();
        match w.status {
            WhistleStatus::Dispatched => fields.push("dispatched"),
            WhistleStatus::Acknowledged => fields.push("acknowledged"),
            _ => {}
        }
        if matches!(
            w.status,
            WhistleStatus::Dispatched | WhistleStatus::Acknowledged | WhistleStatus::Resolved
        ) {
            fields.push("open");
        }
        if w.overdue {
            fields.push("overdue");
        }
        for f in fields {
            out.push((city(f), 1));
            out.push((street(f), 1));
        }
    }
    out
}

/// Counter contributions of a wish, city-wide and for its community.
pub fn wish_counts(w: &Wish) -> Vec<(String, i64)> {
    use shaozi_shared::WishStatus::*;
    if w.status == Cancelled {
        return Vec::new();
    }
    let mut fields = vec![("total", 1), ("value_total", w.value_fen)];
    if matches!(w.status, Claimed | Completed) {
        fields.push(("claimed", 1));
    }
    if w.status == Completed {
        fields.push(("completed", 1));
        fields.push(("value_completed", w.value_fen));
    }
    let mut out = Vec::new();
    for (f, n) in fields {
        out.push((counter::wishes(None, f), n));
        out.push((counter::wishes(Some(w.community_id.0), f), n));
    }
    out
}

/// Net counter changes from `old` contributions to `new` ones, zeros dropped.
pub fn count_diff(old: &[(String, i64)], new: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut acc: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for (k, n) in old {
        *acc.entry(k).or_default() -= n;
    }
    for (k, n) in new {
        *acc.entry(k).or_default() += n;
    }
    acc.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}
