//! Commands of the city office: tokens and activities.

use chrono::{DateTime, Duration, Utc};

use shaozi_shared::api::{NewToken, TokenInfo};
use shaozi_shared::text::{self, optional, required};
use shaozi_shared::{Actor, Audience, EventKind, EventScope, Op, Principal, Scope, StreetId};

use super::commands::{forbidden, refuse};
use super::tx::{corrupt, invalid, CmdResult, Tx, TxError};
use super::{Reply, WriteError};
use crate::storage::{DirectoryKind, NameHolder, Series};

impl Tx<'_> {
    pub(super) fn create_token(
        &mut self,
        b: &NewToken,
        h: [u8; 32],
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may(Op::Administer)));
        let name = refuse!(required("name", &b.name, text::NAME));
        if name.chars().any(char::is_whitespace) {
            return Ok(Err(invalid(
                "name",
                "a token name has no spaces (it is typed on command lines)",
            )));
        }
        let scope = refuse!(b.scope().map_err(|e| invalid("role", e)));
        let exists = match scope {
            Scope::City => true,
            Scope::Street(s) => self.u.has(DirectoryKind::Street, s.0)?,
            Scope::Department(d) => self.u.has(DirectoryKind::Department, d.0)?,
            Scope::Community(c) => self.u.has(DirectoryKind::Community, c.0)?,
        };
        if !exists {
            let field = match scope {
                Scope::Street(_) => "street_id",
                Scope::Department(_) => "department_id",
                _ => "community_id",
            };
            return Ok(Err(invalid(field, "no such unit in the directory")));
        }
        let expires_at = match b.expires_days {
            None => None,
            Some(d) if (1..=3650).contains(&d) => Some(at + Duration::days(d)),
            Some(d) => {
                return Ok(Err(invalid(
                    "expires_days",
                    format!("must be from 1 to 3650 days; got {d}"),
                )))
            }
        };
        refuse!(self.claim_name(&name, NameHolder::Token(h))?);
        let info = TokenInfo {
            name: name.clone(),
            role: b.role,
            scope,
            created_by: actor.name.clone(),
            created_at: at,
            expires_at,
            revoked_at: None,
        };
        self.put_token(&h, &info, EventKind::TokenCreated, actor, at)?;
        Ok(Ok(Reply::Token(Box::new(info), h)))
    }

    pub(super) fn revoke_token(
        &mut self,
        name: &str,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may(Op::Administer)));
        let Some((h, mut info)) = self.u.token_named(name)? else {
            return Ok(Err(WriteError::NotFound(format!(
                "there is no token named {name}"
            ))));
        };
        // Revoking twice changes nothing, so it writes nothing and notifies no one.
        if let Some(when) = info.revoked_at {
            return Ok(Err(WriteError::Rule(
                shaozi_shared::RuleError::NotAllowed {
                    action: "revoke",
                    subject: "token",
                    id: info.name,
                    status: "revoked",
                    code: shaozi_shared::RefusalCode::NotAllowed,
                    hint: format!(
                        " since {}; nothing changed",
                        when.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                },
            )));
        }
        info.revoked_at = Some(at);
        self.put_token(&h, &info, EventKind::TokenRevoked, actor, at)?;
        Ok(Ok(Reply::Revoked(Box::new(info))))
    }

    fn put_token(
        &mut self,
        h: &[u8; 32],
        info: &TokenInfo,
        ev: EventKind,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let json = serde_json::to_string(info).map_err(|e| corrupt("a token", e))?;
        self.u.put_token(h, &json)?;
        let scope = EventScope {
            audience: Audience::Admin,
            ..Default::default()
        };
        self.emit(ev, &info.name, None, &json, actor, at, &scope)?;
        Ok(())
    }
}

impl Tx<'_> {
    pub(super) fn record_activity(
        &mut self,
        b: &shaozi_shared::api::NewActivity,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may_record(b.department_id, b.community_id)));
        if !self.u.has(DirectoryKind::Department, b.department_id.0)? {
            return Ok(Err(invalid(
                "department_id",
                format!("there is no department {}", b.department_id),
            )));
        }
        let Some(community) = self.community(b.community_id)? else {
            return Ok(Err(invalid(
                "community_id",
                format!("there is no community {}", b.community_id),
            )));
        };
        if !(1..=100_000).contains(&b.participants) {
            return Ok(Err(invalid(
                "participants",
                format!("must be from 1 to 100000; got {}", b.participants),
            )));
        }
        let note = refuse!(optional("note", b.note.as_deref(), text::NOTE));
        let Some(day) = crate::clock::noon(b.date, self.calendar.offset) else {
            return Ok(Err(invalid("date", "not a day the calendar knows")));
        };
        if (day - at).num_days() > 1 || (at - day).num_days() > 3660 {
            return Ok(Err(invalid(
                "date",
                format!("{} is in the future or over ten years ago", b.date),
            )));
        }
        let id = self.u.take_id(Series::Activity)?;
        let rec = shaozi_shared::api::Activity {
            id: format!("A{id}"),
            department_id: b.department_id,
            community_id: b.community_id,
            kind: b.kind,
            date: b.date,
            participants: b.participants,
            note,
            recorded_by: actor.name.clone(),
            created_at: at,
        };
        let json = serde_json::to_string(&rec).map_err(|e| corrupt("an activity", e))?;
        self.u
            .put_activity(&rec, id, community.street_id, day, &json)?;
        self.emit(
            EventKind::ActivityRecorded,
            &rec.id,
            rec.note.as_deref(),
            &json,
            actor,
            at,
            &activity_scope(&rec, community.street_id),
        )?;
        Ok(Ok(Reply::Activity(Box::new(rec))))
    }
}

/// Who may see an activity's event: the units it names, like a whistle's.
pub fn activity_scope(a: &shaozi_shared::api::Activity, street: StreetId) -> EventScope {
    EventScope {
        audience: Audience::Activity,
        street: Some(street),
        community: Some(a.community_id),
        departments: vec![a.department_id],
        staff_only: false,
    }
}
