//! What each command does inside the transaction. Every one checks the token's permission
//! against the records as they are at commit, then the domain rules, before writing anything.

use chrono::{DateTime, Utc};
use serde::Serialize;

use shaozi_shared::api::{
    Community, Department, NewCommunity, NewDepartment, NewStreet, NewWhistle, NewWish, Reporter,
    Step, Street,
};
use shaozi_shared::case::Source;
use shaozi_shared::questions;
use shaozi_shared::text::{self, optional, required};
use shaozi_shared::whistle::{self, Filing};
use shaozi_shared::wish::{self, check_value};
use shaozi_shared::{
    Actor, CommunityId, DepartmentId, EventKind, EventScope, Op, Principal, RuleError, Scope,
    Whistle, WhistleAction, WhistleId, Wish, WishAction, WishId, WishStatus,
};

use super::tx::{corrupt, invalid, unknown, CmdResult, Tx, TxError};
use super::{Reply, WriteError};
use crate::storage::{DirectoryKind, NameHolder, Series};

/// Returns the refusal from a `Result<_, WriteError>` as this command's answer.
macro_rules! refuse_ {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e.into())),
        }
    };
}

pub(super) use refuse_ as refuse;

/// A permission refusal as a write error.
pub(super) fn forbidden(r: Result<(), String>) -> Result<(), WriteError> {
    r.map_err(WriteError::Forbidden)
}

/// The action as the caller takes it: a department's token reports for duty and marks its
/// part done for itself (an assisting department's report is its own, not the lead's), and
/// may not speak for another department.
fn for_caller(
    action: &WhistleAction,
    who: &Principal,
    w: &Whistle,
) -> Result<WhistleAction, WriteError> {
    let Scope::Department(own) = who.scope else {
        return Ok(action.clone());
    };
    let other = |d: DepartmentId| {
        WriteError::Forbidden(format!(
            "{} ({}) reports only for its own department, not {d}",
            who.name,
            who.role.as_str()
        ))
    };
    Ok(match action {
        WhistleAction::Acknowledge { staff, note } if w.department_id != Some(own) => {
            WhistleAction::ReportAssisting {
                department: own,
                staff: staff.clone(),
                note: note.clone(),
            }
        }
        WhistleAction::ReportAssisting { department, .. } if *department != own => {
            return Err(other(*department))
        }
        WhistleAction::PartDone {
            department: Some(d),
            ..
        } if *d != own => return Err(other(*d)),
        WhistleAction::PartDone { note, .. } => WhistleAction::PartDone {
            department: Some(own),
            note: note.clone(),
        },
        a => a.clone(),
    })
}

impl Tx<'_> {
    /// Claims a unique name for a directory record or a token, or says who has it.
    pub(super) fn claim_name(
        &mut self,
        name: &str,
        holder: NameHolder,
    ) -> Result<Result<(), WriteError>, TxError> {
        let Some(had) = self.u.claim_name(name, holder)? else {
            return Ok(Ok(()));
        };
        let (what, who) = match had {
            NameHolder::Directory(kind, id) => (kind.word(), format!(" ({}{id})", kind.letter())),
            NameHolder::Token(_) => ("token", String::new()),
        };
        Ok(Err(WriteError::Duplicate(format!(
            "a {what} named {name} already exists{who}"
        ))))
    }

    fn put_dir<T: Serialize>(
        &mut self,
        kind: DirectoryKind,
        id: u64,
        rec: &T,
        ev: EventKind,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let json = serde_json::to_string(rec).map_err(|e| corrupt("directory entry", e))?;
        self.u.put_directory(kind, id, &json)?;
        let subject = format!("{}{id}", kind.letter());
        self.emit(ev, &subject, None, &json, actor, at, &EventScope::default())?;
        Ok(())
    }

    fn new_dir_id(
        &mut self,
        kind: DirectoryKind,
        name: &str,
    ) -> Result<Result<u64, WriteError>, TxError> {
        let series = Series::Directory(kind);
        let id = self.u.peek_id(series)?;
        if let Err(e) = self.claim_name(name, NameHolder::Directory(kind, id))? {
            return Ok(Err(e));
        }
        self.u.take_id(series)?;
        Ok(Ok(id))
    }

    pub(super) fn create_street(
        &mut self,
        b: &NewStreet,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may(Op::EditDirectory)));
        let name = refuse!(required("name", &b.name, text::NAME));
        let id = refuse!(self.new_dir_id(DirectoryKind::Street, &name)?);
        let rec = Street {
            id: shaozi_shared::StreetId(id),
            name,
            created_at: at,
        };
        self.put_dir(
            DirectoryKind::Street,
            id,
            &rec,
            EventKind::StreetCreated,
            actor,
            at,
        )?;
        Ok(Ok(Reply::Street(rec)))
    }

    pub(super) fn create_community(
        &mut self,
        b: &NewCommunity,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may(Op::EditDirectory)));
        let name = refuse!(required("name", &b.name, text::NAME));
        if !self.u.has(DirectoryKind::Street, b.street_id.0)? {
            return Ok(Err(unknown(
                "street_id",
                format!("there is no street {}", b.street_id),
            )));
        }
        let id = refuse!(self.new_dir_id(DirectoryKind::Community, &name)?);
        let rec = Community {
            id: CommunityId(id),
            name,
            street_id: b.street_id,
            created_at: at,
        };
        self.put_dir(
            DirectoryKind::Community,
            id,
            &rec,
            EventKind::CommunityCreated,
            actor,
            at,
        )?;
        Ok(Ok(Reply::Community(rec)))
    }

    pub(super) fn create_department(
        &mut self,
        b: &NewDepartment,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        refuse!(forbidden(who.may(Op::EditDirectory)));
        let name = refuse!(required("name", &b.name, text::NAME));
        if b.categories.is_empty() {
            return Ok(Err(invalid(
                "categories",
                "name at least one category code it handles",
            )));
        }
        let mut cats: Vec<String> = Vec::new();
        for c in &b.categories {
            if !self.categories.iter().any(|k| &k.code == c) {
                return Ok(Err(unknown(
                    "categories",
                    format!("unknown category {c:?}; see GET /api/v1/categories"),
                )));
            }
            if !cats.contains(c) {
                cats.push(c.clone());
            }
        }
        let id = refuse!(self.new_dir_id(DirectoryKind::Department, &name)?);
        let rec = Department {
            id: shaozi_shared::DepartmentId(id),
            name,
            categories: cats,
            created_at: at,
        };
        self.put_dir(
            DirectoryKind::Department,
            id,
            &rec,
            EventKind::DepartmentCreated,
            actor,
            at,
        )?;
        Ok(Ok(Reply::Department(rec)))
    }

    /// The community a whistle or wish is filed in, if it exists and the token may file there.
    fn filing_in(
        &mut self,
        who: &Principal,
        op: Op,
        id: CommunityId,
    ) -> Result<Result<Community, WriteError>, TxError> {
        if let Err(e) = who.may(op) {
            return Ok(Err(WriteError::Forbidden(e)));
        }
        // For a scoped token, a community outside its scope is as missing as one that does not
        // exist, and both are a 404 (as every scoped write answers), so the answer tells
        // nothing about other streets. The city office is told the reference is wrong.
        let community = self
            .community(id)?
            .filter(|c| who.may_file_in(op, c.id, c.street_id).is_ok());
        match community {
            Some(c) => Ok(Ok(c)),
            None if who.scope == Scope::City => Ok(Err(unknown(
                "community_id",
                format!("there is no community {id}"),
            ))),
            None => Ok(Err(WriteError::NotFound(format!(
                "there is no community {id}"
            )))),
        }
    }

    pub(super) fn community(&mut self, id: CommunityId) -> Result<Option<Community>, TxError> {
        self.u.community(id)
    }

    pub(super) fn file_whistle(
        &mut self,
        b: &NewWhistle,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let community = refuse!(self.filing_in(who, Op::FileWhistle, b.community_id)?);
        let Some(category) = self.categories.iter().find(|c| c.code == b.category) else {
            return Ok(Err(unknown(
                "category",
                format!(
                    "unknown category {:?}; see GET /api/v1/categories",
                    b.category
                ),
            )));
        };
        let attributes = refuse!(questions::check(&category.questions, &b.attributes, false));
        let (title, description, address) = refuse!(check_text(b));
        let media_url = refuse!(check_media_url(b.media_url.as_deref()));
        let reporter = refuse!(check_reporter(b.reporter.as_ref()));
        let filing = Filing {
            community_id: b.community_id,
            street_id: community.street_id,
            category: b.category.clone(),
            title,
            description,
            urgency: b.urgency,
            address,
            lat: b.lat,
            long: b.long,
            media_url,
            reporter,
            attributes,
        };
        let id = WhistleId(self.u.take_id(Series::Whistle)?);
        let deadlines = self.deadlines(&filing.category);
        let mut w = Whistle::file(id, filing, &actor.name, at, &deadlines, self.calendar);
        w.source = b.source.unwrap_or(match who.scope {
            Scope::Community(_) => Source::Community,
            Scope::Street(_) => Source::Street,
            _ => Source::Other,
        });
        w.schedule(self.case);
        self.write(None, &w, &[(EventKind::WhistleCreated, None)], actor, at)?;
        Ok(Ok(Reply::Whistle(Box::new(w))))
    }

    fn load_whistle(&mut self, id: WhistleId) -> Result<Option<Whistle>, TxError> {
        self.u.whistle(id)
    }

    pub(super) fn act_on_whistle(
        &mut self,
        id: WhistleId,
        action: &WhistleAction,
        expected: Option<u64>,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        // Who may take a step is in the step table; the clock's and the link's are the
        // server's own.
        let op = Step::of_whistle(action).map_or(Op::Administer, Step::op);
        // The role first, which says nothing about the record; then a whistle outside the
        // token's scope is as missing as one that does not exist, so the answer tells
        // nothing about what exists elsewhere.
        refuse!(forbidden(who.may(op)));
        let Some(w) = self.load_whistle(id)?.filter(|w| who.sees_whistle(w)) else {
            return Ok(Err(WriteError::NotFound(format!(
                "there is no whistle {id}"
            ))));
        };
        // A department's own token reports and marks its part for itself: as the lead, or as
        // one of the departments assisting (joint 报到).
        let action = &refuse!(for_caller(action, who, &w));
        let assists = matches!(who.scope, Scope::Department(d) if w.assisting.contains(&d))
            && matches!(
                action,
                WhistleAction::ReportAssisting { .. } | WhistleAction::PartDone { .. }
            );
        if !assists {
            refuse!(forbidden(who.may_on_whistle(op, &w)));
        }
        if let Some(v) = expected.filter(|v| *v != w.version) {
            return Ok(Err(stale(
                &w,
                v,
                serde_json::to_value(crate::reporter::strip(w.clone(), who)).unwrap_or_default(),
            )));
        }
        // References are checked here, where the directory is; the rules check the rest.
        match action {
            WhistleAction::Dispatch {
                department_id,
                assisting,
                ..
            } => {
                for (field, d) in std::iter::once(("department_id", department_id))
                    .chain(assisting.iter().map(|d| ("assisting", d)))
                {
                    if !self.u.has(DirectoryKind::Department, d.0)? {
                        return Ok(Err(unknown(field, format!("there is no department {d}"))));
                    }
                }
            }
            WhistleAction::Reclassify {
                category: Some(c), ..
            } if !self.categories.iter().any(|x| x.code == *c) => {
                return Ok(Err(unknown(
                    "category",
                    format!("unknown category {c:?}; see GET /api/v1/categories"),
                )));
            }
            WhistleAction::ChangeAssisting { add, .. } => {
                for d in add {
                    if !self.u.has(DirectoryKind::Department, d.0)? {
                        return Ok(Err(unknown("add", format!("there is no department {d}"))));
                    }
                }
            }
            WhistleAction::Reject {
                duplicate_of: Some(orig),
                ..
            } if *orig != id
                && !self
                    .load_whistle(*orig)?
                    .is_some_and(|o| who.sees_whistle(&o)) =>
            {
                return Ok(Err(unknown(
                    "duplicate_of",
                    format!("there is no whistle {orig} to be a duplicate of"),
                )));
            }
            _ => {}
        }
        // A reclassified case's deadlines are its new category's.
        let category = match action {
            WhistleAction::Reclassify {
                category: Some(c), ..
            } => c.trim(),
            _ => w.category.as_str(),
        };
        let out = refuse!(whistle::apply(&w, action, at, &self.book(category)));
        self.write(Some(&w), &out.record, &out.events, actor, at)?;
        if let WhistleAction::Reject {
            duplicate_of: Some(orig),
            ..
        } = action
        {
            if let Some(o) = self.load_whistle(*orig)? {
                let link = WhistleAction::LinkDuplicate {
                    duplicate: id,
                    reporter: w.reporter.clone(),
                };
                if let Ok(lo) = whistle::apply(&o, &link, at, &self.book(&o.category)) {
                    self.write(Some(&o), &lo.record, &lo.events, actor, at)?;
                }
            }
        }
        Ok(Ok(Reply::Whistle(Box::new(out.record))))
    }

    pub(super) fn sweep(
        &mut self,
        due: &[WhistleId],
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let mut n = 0;
        let system = Actor::system();
        for &id in due {
            let Some(w) = self.load_whistle(id)? else {
                continue;
            };
            // The record says what is due; the index only says when to look. Whatever is
            // due now happens in order (a warning, then the deadline) in this one sweep, so
            // a server that was down catches up without ever doing one twice.
            let mut w = w;
            while let Some(action) = w.clock_action(at) {
                let Ok(out) = whistle::apply(&w, &action, at, &self.book(&w.category)) else {
                    break;
                };
                self.write(Some(&w), &out.record, &out.events, &system, at)?;
                n += 1;
                w = out.record;
            }
        }
        Ok(Ok(Reply::Swept(n)))
    }

    pub(super) fn file_wish(
        &mut self,
        b: &NewWish,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        let community = refuse!(self.filing_in(who, Op::FileWish, b.community_id)?);
        let title = refuse!(required("title", &b.title, text::TITLE));
        let description = refuse!(optional(
            "description",
            b.description.as_deref(),
            text::DESCRIPTION
        ));
        let value_fen = refuse!(check_value(b.value_fen));
        let id = WishId(self.u.take_id(Series::Wish)?);
        let w = Wish {
            id,
            status: WishStatus::Open,
            community_id: b.community_id,
            street_id: community.street_id,
            title,
            description,
            value_fen,
            filed_by: actor.name.clone(),
            department_id: None,
            claimer: None,
            created_at: at,
            updated_at: at,
            claimed_at: None,
            completed_at: None,
            note: None,
            version: 1,
        };
        self.write(None, &w, &[(EventKind::WishCreated, None)], actor, at)?;
        Ok(Ok(Reply::Wish(Box::new(w))))
    }

    pub(super) fn act_on_wish(
        &mut self,
        id: WishId,
        action: &WishAction,
        expected: Option<u64>,
        who: &Principal,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CmdResult, TxError> {
        // A department claims for itself, whether or not it names itself.
        let mut action = action.clone();
        if let (
            WishAction::Claim {
                department_id: d @ None,
                ..
            },
            Scope::Department(own),
        ) = (&mut action, who.scope)
        {
            *d = Some(own);
        }
        let op = Step::of_wish(&action).op();
        let claim_for = match &action {
            WishAction::Claim { department_id, .. } => *department_id,
            _ => None,
        };
        // As for whistles: the role, then out of scope is the same as missing.
        refuse!(forbidden(who.may(op)));
        let Some(w) = self.u.wish(id)?.filter(|w| who.sees_wish(w)) else {
            return Ok(Err(WriteError::NotFound(format!("there is no wish {id}"))));
        };
        refuse!(forbidden(who.may_on_wish(op, &w, claim_for)));
        if let Some(v) = expected.filter(|v| *v != w.version) {
            return Ok(Err(stale_wish(&w, v)));
        }
        if let WishAction::Claim {
            department_id: Some(d),
            ..
        } = &action
        {
            if !self.u.has(DirectoryKind::Department, d.0)? {
                return Ok(Err(unknown(
                    "department_id",
                    format!("there is no department {d}"),
                )));
            }
        }
        let out = refuse!(wish::apply(&w, &action, at));
        self.write(Some(&w), &out.record, &out.events, actor, at)?;
        Ok(Ok(Reply::Wish(Box::new(out.record))))
    }
}

fn check_text(b: &NewWhistle) -> Result<(String, String, Option<String>), RuleError> {
    let title = required("title", &b.title, text::TITLE)?;
    let description = required("description", &b.description, text::DESCRIPTION)?;
    let address = optional("address", b.address.as_deref(), text::ADDRESS)?;
    match (b.lat, b.long) {
        (None, None) => {}
        (Some(lat), Some(long)) => {
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                return Err(RuleError::invalid(
                    "lat",
                    format!("must be from -90 to 90; got {lat}"),
                ));
            }
            if !(long.is_finite() && (-180.0..=180.0).contains(&long)) {
                return Err(RuleError::invalid(
                    "long",
                    format!("must be from -180 to 180; got {long}"),
                ));
            }
        }
        (Some(_), None) => return Err(RuleError::invalid("long", "give long together with lat")),
        (None, Some(_)) => return Err(RuleError::invalid("lat", "give lat together with long")),
    }
    Ok((title, description, address))
}

/// A photo link: http(s) only, so a dashboard never follows `javascript:` or a local path.
fn check_media_url(url: Option<&str>) -> Result<Option<String>, RuleError> {
    let Some(url) = optional("media_url", url, text::URL)? else {
        return Ok(None);
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Ok(Some(url)),
        _ => Err(RuleError::invalid(
            "media_url",
            format!("must be an http or https URL; got {url:?}"),
        )),
    }
}

/// A reporter's contact details: trimmed, bounded; an email must look like one.
fn check_reporter(r: Option<&Reporter>) -> Result<Option<Reporter>, RuleError> {
    let Some(r) = r else { return Ok(None) };
    let out = Reporter {
        name: optional("reporter.name", r.name.as_deref(), text::PERSON)?,
        email: optional("reporter.email", r.email.as_deref(), text::EMAIL)?,
        phone: optional("reporter.phone", r.phone.as_deref(), text::PHONE)?,
    };
    if let Some(e) = &out.email {
        let ok = e
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !e.contains(' '));
        if !ok {
            return Err(RuleError::invalid(
                "reporter.email",
                format!("{e:?} is not an email address"),
            ));
        }
    }
    Ok((out != Reporter::default()).then_some(out))
}

fn stale(w: &Whistle, sent: u64, current: serde_json::Value) -> WriteError {
    WriteError::Stale {
        detail: format!(
            "{} changed since you read it: you sent version {sent}, it is now version {} ({}, last changed {})",
            w.id,
            w.version,
            w.status,
            w.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        current: Box::new(current),
    }
}

fn stale_wish(w: &Wish, sent: u64) -> WriteError {
    WriteError::Stale {
        detail: format!(
            "{} changed since you read it: you sent version {sent}, it is now version {} ({})",
            w.id,
            w.version,
            w.status.as_str()
        ),
        current: Box::new(serde_json::to_value(w).unwrap_or_default()),
    }
}
