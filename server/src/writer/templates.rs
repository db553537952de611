//! Commands on reply templates: add one for the caller's part of the city, delete one.

use chrono::{DateTime, Utc};

use shaozi_shared::api::{NewTemplate, ReplyTemplate};
use shaozi_shared::templates::{self, check_text};
use shaozi_shared::text::{self, optional, required};
use shaozi_shared::{Actor, Audience, EventKind, EventScope, Principal, Scope};

use super::commands::refuse;
use super::tx::{corrupt, unknown, CmdResult, Tx, TxError};
use super::{Reply, WriteError};
use crate::storage::Series;

impl Tx<'_> {
    pub(super) fn save_template(
        &mut self,
        b: &NewTemplate,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let owner = refuse!(templates::owner_for(who).map_err(|e| WriteError::Forbidden(e.into())));
        let name = refuse!(required("name", &b.name, templates::NAME));
        let words = refuse!(check_text(&b.text));
        let category = refuse!(optional("category", b.category.as_deref(), text::NAME));
        if let Some(c) = &category {
            if !self.categories.iter().any(|k| &k.code == c) {
                let known: Vec<&str> = self.categories.iter().map(|k| k.code.as_str()).collect();
                return Ok(Err(unknown(
                    "category",
                    format!("no category {c} (known: {})", known.join(", ")),
                )));
            }
        }
        let n = self.u.take_id(Series::Template)?;
        let rec = ReplyTemplate {
            id: format!("T{n}"),
            category,
            step: b.step,
            name,
            text: words,
            owner,
            from_rules: false,
            created_by: Some(actor.name.clone()),
            created_at: Some(at),
            filled: None,
            unfilled: Vec::new(),
        };
        let json = serde_json::to_string(&rec).map_err(|e| corrupt("a template", e))?;
        self.u.put_template(n, Some(&json))?;
        self.emit(
            EventKind::TemplateSaved,
            &rec.id,
            None,
            &json,
            actor,
            at,
            &template_scope(owner),
        )?;
        Ok(Ok(Reply::Template(Box::new(rec))))
    }

    pub(super) fn delete_template(
        &mut self,
        n: u64,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        // One the caller may not see is as absent as one that never was.
        let Some(rec) = self.u.template(n)?.filter(|t| t.visible_to(who)) else {
            return Ok(Err(WriteError::NotFound(format!(
                "there is no template T{n}"
            ))));
        };
        if !templates::may_delete(who, rec.owner) {
            return Ok(Err(WriteError::Forbidden(format!(
                "T{n} is kept by {}; only its own unit or the city office deletes it",
                owner_words(rec.owner)
            ))));
        }
        let json = serde_json::to_string(&rec).map_err(|e| corrupt("a template", e))?;
        self.u.put_template(n, None)?;
        self.emit(
            EventKind::TemplateDeleted,
            &rec.id,
            None,
            &json,
            actor,
            at,
            &template_scope(rec.owner),
        )?;
        Ok(Ok(Reply::Template(Box::new(rec))))
    }
}

fn owner_words(owner: Scope) -> String {
    match owner {
        Scope::City => "the city".into(),
        Scope::Street(s) => format!("street {s}"),
        Scope::Department(d) => format!("department {d}"),
        Scope::Community(c) => format!("community {c}"),
    }
}

/// Who hears of a template's change: everyone's reach every staff token; a unit's own reach
/// that unit and the city-wide tokens, like an activity naming it.
pub fn template_scope(owner: Scope) -> EventScope {
    match owner {
        Scope::City => EventScope {
            audience: Audience::Public,
            staff_only: true,
            ..Default::default()
        },
        Scope::Street(s) => EventScope {
            audience: Audience::Activity,
            street: Some(s),
            staff_only: true,
            ..Default::default()
        },
        Scope::Department(d) => EventScope {
            audience: Audience::Activity,
            departments: vec![d],
            staff_only: true,
            ..Default::default()
        },
        Scope::Community(c) => EventScope {
            audience: Audience::Activity,
            community: Some(c),
            staff_only: true,
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shaozi_shared::{DepartmentId, Role, StreetId};

    /// A template's event reaches exactly those who see the template.
    #[test]
    fn a_templates_event_reaches_those_who_see_it() {
        let people = [
            Principal::new("a", Role::Admin, Scope::City),
            Principal::new("cd", Role::Dispatcher, Scope::City),
            Principal::new("s1", Role::Dispatcher, Scope::Street(StreetId(1))),
            Principal::new("s2", Role::Dispatcher, Scope::Street(StreetId(2))),
            Principal::new("d1", Role::Department, Scope::Department(DepartmentId(1))),
            Principal::new("d2", Role::Department, Scope::Department(DepartmentId(2))),
            Principal::new("v", Role::Viewer, Scope::City),
        ];
        let mut t = templates::builtin().remove(0);
        for owner in [
            Scope::City,
            Scope::Street(StreetId(1)),
            Scope::Department(DepartmentId(1)),
        ] {
            t.owner = owner;
            for p in &people {
                let sees = t.visible_to(p) || p.scope == Scope::City;
                assert_eq!(template_scope(owner).visible_to(p), sees, "{owner:?} {p:?}");
            }
        }
    }
}
