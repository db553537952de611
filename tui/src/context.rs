//! What every screen may read and none may write: the server's data, who the token is, the
//! language, the clock, the terminal's size, the connection. A screen's functions get a
//! [`Context`] beside their own state and answer with [`crate::message::Out`]s; the app
//! builds one from its fields for each call (`context!` in `crate::app::route`).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, FixedOffset, Utc};
use shaozi_shared::api::{Me, Step};
use shaozi_shared::{Op, Whistle, WhistleId};

use crate::i18n::Lang;
use crate::keys::Keymap;
use crate::message::{Conn, View};
use crate::model::{Filter, Model};

/// The read-only view of the dashboard a screen gets.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Label language.
    pub lang: Lang,
    /// Keys.
    pub keymap: &'a Keymap,
    /// Server data.
    pub model: &'a Model,
    /// Who the token is, once known.
    pub me: Option<&'a Me>,
    /// The time shown.
    pub now: DateTime<Utc>,
    /// The dispatcher's time zone.
    pub tz: FixedOffset,
    /// Terminal size.
    pub size: (u16, u16),
    /// Whether the first load arrived.
    pub loaded: bool,
    /// The screen shown.
    pub view: View,
    /// The connection.
    pub conn: Conn,
    /// The filter and marks of the lists of cases (the queue's, which a role's work list and a
    /// department's cases show too); absent when the queue itself is the one asking.
    pub cases: Option<CaseMarks<'a>>,
    /// The whistle a step taken now would act on, when drawing.
    pub acting_on: Option<&'a Whistle>,
}

/// The queue's filter and marks, as the other lists of cases see them.
#[derive(Debug, Clone, Copy)]
pub struct CaseMarks<'a> {
    /// The filter every list of cases applies.
    pub filter: &'a Filter,
    /// The filter as typed.
    pub filter_text: &'a str,
    /// Rows marked for a bulk step.
    pub marked: &'a BTreeSet<WhistleId>,
    /// Arrivals not yet looked at.
    pub new_ids: &'a HashSet<WhistleId>,
}

impl Context<'_> {
    /// Whether the labels are Chinese.
    pub fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// The token's home: its own work for a department or a community, else the queue.
    pub fn home(&self) -> View {
        let own = self.me.is_some_and(|m| {
            matches!(
                m.role,
                shaozi_shared::Role::Department | shaozi_shared::Role::Community
            )
        });
        if own {
            View::Work
        } else {
            View::Queue
        }
    }

    /// Whether the token may do `op` (everything, until the server has said).
    pub fn may(&self, op: Op) -> bool {
        self.me.is_none_or(|m| m.may(op))
    }

    /// Whether rows should look stale (the connection is down).
    pub fn stale(&self) -> bool {
        self.conn.is_down()
    }

    /// Whether a step on a whistle is offered now: the role allows it and the whistle it would
    /// act on is in a status that allows it.
    pub fn offers(&self, step: Step) -> bool {
        self.may(step.op())
            && self
                .acting_on
                .is_some_and(|w| step.fits_for(w, own_department(self.me)))
    }

    /// The filter of the lists of cases, when another list than the queue asks.
    pub fn case_filter(&self) -> Option<&Filter> {
        self.cases.map(|c| c.filter)
    }
}

/// The token's department, when it is a department's (it reports and works as lead or
/// assisting department).
pub fn own_department(me: Option<&Me>) -> Option<shaozi_shared::DepartmentId> {
    match me?.scope {
        shaozi_shared::Scope::Department(d) => Some(d),
        _ => None,
    }
}
