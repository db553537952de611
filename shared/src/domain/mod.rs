//! The rules: records, their state machines, deadlines and the working calendar, who may do
//! what, and the assessment. Nothing here knows the wire (`crate::api`), and the modules form
//! no import circle: ids, text, csv, calendar → case → questions → category → event → whistle → ledger → wish →
//! patterns → assessment → access → templates → rules.

pub mod access;
pub mod assessment;
pub mod calendar;
pub mod case;
pub mod category;
pub mod csv;
pub mod event;
pub mod ids;
pub mod ledger;
pub mod patterns;
pub mod questions;
pub mod rules;
pub mod templates;
pub mod text;
pub mod whistle;
pub mod wish;

/// A refusal's stable machine name, sent as a problem's `code` so a client can word it in its
/// own language (the `detail` beside it is English for people reading the API). New codes may
/// be added; a client treats one it does not know as [`RefusalCode::Invalid`] and shows the
/// detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    /// A field is unacceptable in a way no other code names.
    Invalid,
    /// A required text is blank.
    Empty,
    /// A text is over its rule's length.
    TooLong,
    /// A one-line text has line breaks, tabs or other control characters.
    ControlCharacters,
    /// A text has a bidirectional control (it would display other than it reads).
    DirectionControl,
    /// A text has only invisible characters.
    NoVisibleText,
    /// Reporting for duty names fewer than two different people.
    TooFewStaff,
    /// Reporting for duty names more people than allowed.
    TooManyStaff,
    /// Reassigning a dispatched case needs a reason.
    ReasonRequired,
    /// A number is outside its range (a rating, a value).
    OutOfRange,
    /// A whistle named as a duplicate of itself.
    SelfDuplicate,
    /// A department, community, category or other record named does not exist.
    UnknownReference,
    /// The record's status does not allow the step.
    NotAllowed,
    /// Reassigning to the department that already has the case.
    AlreadyAssigned,
    /// Escalating past the top level.
    TopEscalation,
    /// Marking overdue a case that already is.
    AlreadyOverdue,
    /// No such record (or not within the token's scope).
    NotFound,
    /// The token's role or scope does not allow the step.
    Forbidden,
    /// No valid token.
    Unauthorized,
    /// The record changed since the version sent in `If-Match`.
    Stale,
    /// Over a request rate.
    RateLimited,
    /// The server is not taking the request now.
    Unavailable,
    /// The record already exists.
    Duplicate,
    /// The request could not be read.
    BadRequest,
    /// Out of the step's time window (a return too late, an extension after the deadline).
    OutOfWindow,
    /// Over a limit of the rules file (extensions per whistle, the longest one).
    OverLimit,
    /// An extension request is already waiting.
    ExtensionPending,
    /// No extension request is waiting to be answered.
    NoExtensionPending,
    /// The server failed.
    Internal,
}

impl RefusalCode {
    /// Every code.
    pub const ALL: [RefusalCode; 29] = [
        RefusalCode::Invalid,
        RefusalCode::Empty,
        RefusalCode::TooLong,
        RefusalCode::ControlCharacters,
        RefusalCode::DirectionControl,
        RefusalCode::NoVisibleText,
        RefusalCode::TooFewStaff,
        RefusalCode::TooManyStaff,
        RefusalCode::ReasonRequired,
        RefusalCode::OutOfRange,
        RefusalCode::SelfDuplicate,
        RefusalCode::UnknownReference,
        RefusalCode::NotAllowed,
        RefusalCode::AlreadyAssigned,
        RefusalCode::TopEscalation,
        RefusalCode::AlreadyOverdue,
        RefusalCode::NotFound,
        RefusalCode::Forbidden,
        RefusalCode::Unauthorized,
        RefusalCode::Stale,
        RefusalCode::RateLimited,
        RefusalCode::Unavailable,
        RefusalCode::Duplicate,
        RefusalCode::BadRequest,
        RefusalCode::OutOfWindow,
        RefusalCode::OverLimit,
        RefusalCode::ExtensionPending,
        RefusalCode::NoExtensionPending,
        RefusalCode::Internal,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Invalid => "invalid",
            RefusalCode::Empty => "empty",
            RefusalCode::TooLong => "too_long",
            RefusalCode::ControlCharacters => "control_characters",
            RefusalCode::DirectionControl => "direction_control",
            RefusalCode::NoVisibleText => "no_visible_text",
            RefusalCode::TooFewStaff => "too_few_staff",
            RefusalCode::TooManyStaff => "too_many_staff",
            RefusalCode::ReasonRequired => "reason_required",
            RefusalCode::OutOfRange => "out_of_range",
            RefusalCode::SelfDuplicate => "self_duplicate",
            RefusalCode::UnknownReference => "unknown_reference",
            RefusalCode::NotAllowed => "not_allowed",
            RefusalCode::AlreadyAssigned => "already_assigned",
            RefusalCode::TopEscalation => "top_escalation",
            RefusalCode::AlreadyOverdue => "already_overdue",
            RefusalCode::NotFound => "not_found",
            RefusalCode::Forbidden => "forbidden",
            RefusalCode::Unauthorized => "unauthorized",
            RefusalCode::Stale => "stale",
            RefusalCode::RateLimited => "rate_limited",
            RefusalCode::Unavailable => "unavailable",
            RefusalCode::Duplicate => "duplicate",
            RefusalCode::BadRequest => "bad_request",
            RefusalCode::OutOfWindow => "out_of_window",
            RefusalCode::OverLimit => "over_limit",
            RefusalCode::ExtensionPending => "extension_pending",
            RefusalCode::NoExtensionPending => "no_extension_pending",
            RefusalCode::Internal => "internal",
        }
    }

    /// Parses a wire name; an unknown one (from a newer server) is `None`.
    pub fn parse(s: &str) -> Option<RefusalCode> {
        RefusalCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Why a rule refused a command: bad input (a field) or a step the current status forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A field's value is unacceptable; `reason` says why in words a person can act on.
    #[error("{field}: {reason}")]
    Invalid {
        /// The JSON field at fault.
        field: std::borrow::Cow<'static, str>,
        /// Which rule, for clients that word it themselves.
        code: RefusalCode,
        /// What is wrong with it.
        reason: String,
    },
    /// The record's current status does not allow this step.
    #[error("cannot {action} {subject} {id}: it is {status}{hint}")]
    NotAllowed {
        /// The step that was attempted.
        action: &'static str,
        /// "whistle" or "wish".
        subject: &'static str,
        /// The record's id.
        id: String,
        /// Its current status.
        status: &'static str,
        /// Which rule: [`RefusalCode::NotAllowed`] or a narrower one.
        code: RefusalCode,
        /// Extra guidance, starting with "; " when present.
        hint: String,
    },
}

impl RuleError {
    /// Shorthand for an invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::coded(field, RefusalCode::Invalid, reason)
    }

    /// An invalid field, naming the rule it broke.
    pub fn coded(field: &'static str, code: RefusalCode, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            code,
            reason: reason.into(),
        }
    }

    /// An invalid field whose name is built at run time, e.g. `attribute[hazard]`.
    pub fn invalid_owned(field: String, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            code: RefusalCode::Invalid,
            reason: reason.into(),
        }
    }

    /// Its machine name.
    pub fn code(&self) -> RefusalCode {
        match self {
            RuleError::Invalid { code, .. } | RuleError::NotAllowed { code, .. } => *code,
        }
    }
}

#[cfg(test)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};

    const MODULES: &[(&str, &str)] = &[
        ("access", include_str!("access.rs")),
        ("assessment", include_str!("assessment.rs")),
        ("calendar", include_str!("calendar.rs")),
        ("category", include_str!("category.rs")),
        ("csv", include_str!("csv.rs")),
        ("event", include_str!("event.rs")),
        ("ids", include_str!("ids.rs")),
        ("case", include_str!("case.rs")),
        ("questions", include_str!("questions.rs")),
        ("rules", include_str!("rules.rs")),
        ("templates", include_str!("templates.rs")),
        ("text", include_str!("text.rs")),
        ("whistle", include_str!("whistle.rs")),
        ("wish", include_str!("wish.rs")),
    ];

    /// The module a name re-exported at the crate root comes from.
    fn home(name: &str) -> Option<&'static str> {
        Some(match name {
            "Op" | "Principal" | "Role" | "Scope" => "access",
            "Category" | "Deadlines" | "StageDeadlines" | "Urgency" | "CATEGORIES" => "category",
            "Actor" | "Audience" | "Event" | "EventKind" | "EventScope" | "TimelineEntry" => {
                "event"
            }
            "CommunityId" | "DepartmentId" | "IdParseError" | "StreetId" | "WhistleId"
            | "WishId" => "ids",
            "Rules" => "rules",
            "Whistle" | "WhistleAction" | "WhistleStatus" => "whistle",
            "Wish" | "WishAction" | "WishStatus" => "wish",
            _ => return None,
        })
    }

    /// What each module refers to through `crate::`, leaving comments out.
    fn graph() -> BTreeMap<&'static str, BTreeSet<String>> {
        let mut g = BTreeMap::new();
        for (module, src) in MODULES {
            let mut deps = BTreeSet::new();
            for line in src.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for part in line.split("crate::").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let dep = if MODULES.iter().any(|(m, _)| *m == name) || name == "api" {
                        name
                    } else if let Some(h) = home(&name) {
                        h.to_string()
                    } else {
                        continue;
                    };
                    if dep != *module {
                        deps.insert(dep);
                    }
                }
                // `use crate::{a, b}` names several at once.
                if let Some(list) = line
                    .split("crate::{")
                    .nth(1)
                    .and_then(|r| r.split('}').next())
                {
                    for name in list
                        .split(',')
                        .map(|n| n.trim().split("::").next().unwrap_or(""))
                    {
                        if MODULES.iter().any(|(m, _)| *m == name) && name != *module {
                            deps.insert(name.to_string());
                        }
                    }
                }
            }
            g.insert(*module, deps);
        }
        g
    }

    #[test]
    fn the_rules_never_use_the_wire() {
        for (module, deps) in graph() {
            assert!(!deps.contains("api"), "domain::{module} uses crate::api");
        }
    }

    #[test]
    fn the_rules_have_no_import_circle() {
        let g = graph();
        // Depth-first, keeping the path: meeting a module already on it is a circle.
        fn visit<'a>(
            m: &'a str,
            g: &'a BTreeMap<&'static str, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            if done.contains(m) {
                return;
            }
            assert!(
                !path.contains(&m),
                "import circle: {} → {m}",
                path.join(" → ")
            );
            path.push(m);
            for d in g.get(m).into_iter().flatten() {
                visit(d, g, path, done);
            }
            path.pop();
            done.insert(m);
        }
        let mut done = BTreeSet::new();
        for m in g.keys() {
            visit(m, &g, &mut Vec::new(), &mut done);
        }
    }
}
