//! The rules: records, their state machines, deadlines and the working calendar, who may do
//! what, and the assessment. Nothing here knows the wire (`crate::api`), and the modules form
//! no import circle: ids, text, csv, calendar → questions → category → event → whistle → wish →
//! assessment → access → rules.

pub mod access;
pub mod assessment;
pub mod calendar;
pub mod category;
pub mod csv;
pub mod event;
pub mod ids;
pub mod questions;
pub mod rules;
pub mod text;
pub mod whistle;
pub mod wish;

/// Why a rule refused a command: bad input (a field) or a step the current status forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A field's value is unacceptable; `reason` says why in words a person can act on.
    #[error("{field}: {reason}")]
    Invalid {
        /// The JSON field at fault.
        field: std::borrow::Cow<'static, str>,
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
        /// Extra guidance, starting with "; " when present.
        hint: String,
    },
}

impl RuleError {
    /// Shorthand for an invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An invalid field whose name is built at run time, e.g. `attribute[hazard]`.
    pub fn invalid_owned(field: String, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            field: field.into(),
            reason: reason.into(),
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
        ("questions", include_str!("questions.rs")),
        ("rules", include_str!("rules.rs")),
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
