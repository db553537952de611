//! Who may see and do what: roles, scopes and the permission rules, as pure functions.
//! The README's permission matrix is checked against the server by a test.

use serde::{Deserialize, Serialize};

use crate::event::{Audience, EventScope};
use crate::ids::{CommunityId, DepartmentId, StreetId};
use crate::whistle::Whistle;
use crate::wish::Wish;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The city office: everything, including tokens and the directory.
    Admin,
    /// Dispatches, reassigns, rejects and escalates, city-wide or in one street.
    Dispatcher,
    /// One department: its cases; reports for duty, resolves; claims and completes wishes.
    Department,
    /// One community: files whistles and wishes, closes or reopens its resolved whistles.
    Community,
    /// Read-only dashboards.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Dispatcher,
        Role::Department,
        Role::Community,
        Role::Viewer,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dispatcher => "dispatcher",
            Role::Department => "department",
            Role::Community => "community",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What part of the city a token covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// Everything.
    City,
    /// One street office.
    Street(StreetId),
    /// One department.
    Department(DepartmentId),
    /// One community.
    Community(CommunityId),
}

/// Who is asking: a token's name, role and scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The token's name (the actor in the log).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its scope.
    pub scope: Scope,
}

/// What a role may do, for permission checks (and, by these names, in `GET /api/v1/me`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Add streets, communities, departments.
    EditDirectory,
    /// Create, list and revoke tokens; read the audit log.
    Administer,
    /// File a whistle in a community.
    FileWhistle,
    /// Dispatch, reassign, reject or escalate.
    Dispatch,
    /// Report for duty or resolve.
    Handle,
    /// Close or reopen (the community's verdict).
    Confirm,
    /// File or cancel a wish.
    FileWish,
    /// Claim or complete a wish.
    ClaimWish,
    /// Record an activity.
    RecordActivity,
    /// Write a note on a case it sees (internal or public).
    Note,
}

impl Op {
    /// Every kind of step, in the order `GET /api/v1/me` lists them.
    pub const ALL: [Op; 10] = [
        Op::FileWhistle,
        Op::Dispatch,
        Op::Handle,
        Op::Confirm,
        Op::FileWish,
        Op::ClaimWish,
        Op::RecordActivity,
        Op::EditDirectory,
        Op::Administer,
        Op::Note,
    ];
}

/// Whether a role may ever do `op` (before looking at scope).
pub fn role_may(role: Role, op: Op) -> bool {
    use Op::*;
    use Role::*;
    match role {
        Admin => true,
        // A street files its own whistles and those of residents who phone or walk in.
        Dispatcher => matches!(op, Dispatch | FileWhistle | Note),
        Department => matches!(op, Handle | ClaimWish | RecordActivity | Note),
        Community => matches!(op, FileWhistle | Confirm | FileWish | RecordActivity | Note),
        Viewer => false,
    }
}

impl Principal {
    /// The server itself (deadline sweeps, start-up work).
    pub fn system() -> Principal {
        Principal {
            name: "system".into(),
            role: Role::Admin,
            scope: Scope::City,
        }
    }

    /// A principal with a role and scope.
    pub fn new(name: impl Into<String>, role: Role, scope: Scope) -> Principal {
        Principal {
            name: name.into(),
            role,
            scope,
        }
    }

    /// Checks the scope is one the role can have.
    pub fn check_scope(role: Role, scope: Scope) -> Result<(), String> {
        match (role, scope) {
            (Role::Admin | Role::Viewer, Scope::City) => Ok(()),
            (Role::Dispatcher, Scope::City | Scope::Street(_)) => Ok(()),
            (Role::Department, Scope::Department(_)) => Ok(()),
            (Role::Community, Scope::Community(_)) => Ok(()),
            (Role::Dispatcher, _) => {
                Err("a dispatcher is city-wide or scoped to one street (street_id)".into())
            }
            (Role::Department, _) => Err("a department token needs its department_id".into()),
            (Role::Community, _) => Err("a community token needs its community_id".into()),
            (_, _) => Err(format!(
                "an {} token is city-wide; give no scope",
                role.as_str()
            )),
        }
    }

    /// Whether this token may see a whistle.
    pub fn sees_whistle(&self, w: &Whistle) -> bool {
        match self.scope {
            Scope::City => true,
            Scope::Street(s) => w.street_id == s,
            Scope::Department(d) => w.department_id == Some(d) || w.assisting.contains(&d),
            Scope::Community(c) => w.community_id == c,
        }
    }

    /// Whether this token may read who reported a case it sees (the resident's name and
    /// phone): those who handle cases — the city office, a dispatcher, a called department —
    /// but not a community's token, a read-only viewer, or a subscription made for one.
    pub fn sees_reporters(&self) -> bool {
        match (self.role, self.scope) {
            (Role::Viewer, _) | (_, Scope::Community(_)) => false,
            // A street's or a department's subscription reads as a viewer of its scope, which
            // handles the cases it sees.
            (_, Scope::Street(_) | Scope::Department(_)) => true,
            (role, Scope::City) => matches!(role, Role::Admin | Role::Dispatcher),
        }
    }

    /// Whether this token may see a wish. Departments see every wish: they claim them.
    pub fn sees_wish(&self, w: &Wish) -> bool {
        match self.scope {
            Scope::City | Scope::Department(_) => true,
            Scope::Street(s) => w.street_id == s,
            Scope::Community(c) => w.community_id == c,
        }
    }

    fn deny(&self, why: String) -> Result<(), String> {
        Err(format!("{} ({}) {why}", self.name, self.role.as_str()))
    }

    /// Whether this token may do `op` at all.
    pub fn may(&self, op: Op) -> Result<(), String> {
        if role_may(self.role, op) {
            return Ok(());
        }
        let what = match op {
            Op::EditDirectory => "change the directory",
            Op::Administer => "manage tokens or read the audit log",
            Op::FileWhistle => "file whistles",
            Op::Dispatch => "dispatch, reassign, reject or escalate",
            Op::Handle => "report for duty or resolve",
            Op::Confirm => "close or reopen whistles",
            Op::FileWish => "file or cancel wishes",
            Op::ClaimWish => "claim or complete wishes",
            Op::RecordActivity => "record activities",
            Op::Note => "write notes on cases",
        };
        self.deny(format!("may not {what}"))
    }

    /// Whether this token may take `op` on a whistle.
    pub fn may_on_whistle(&self, op: Op, w: &Whistle) -> Result<(), String> {
        self.may(op)?;
        let ok = match (op, self.scope) {
            (_, Scope::City) => true,
            (Op::Handle, Scope::Department(d)) => w.department_id == Some(d),
            (_, _) => self.sees_whistle(w),
        };
        if ok {
            Ok(())
        } else if op == Op::Handle && self.sees_whistle(w) {
            self.deny(format!(
                "only assists on {}; the lead department reports for duty and resolves",
                w.id
            ))
        } else {
            self.deny(format!(
                "may not act on {}: it is outside this token's scope",
                w.id
            ))
        }
    }

    /// Whether this token may file in a community (of a street).
    pub fn may_file_in(
        &self,
        op: Op,
        community: CommunityId,
        street: StreetId,
    ) -> Result<(), String> {
        self.may(op)?;
        let ok = match self.scope {
            Scope::City => true,
            Scope::Community(c) => c == community,
            Scope::Street(s) => s == street,
            Scope::Department(_) => false,
        };
        if ok {
            Ok(())
        } else {
            self.deny(format!(
                "may not file for {community}: it is outside this token's scope"
            ))
        }
    }

    /// Whether this token may record an activity of `department` in `community`.
    pub fn may_record(
        &self,
        department: DepartmentId,
        community: CommunityId,
    ) -> Result<(), String> {
        self.may(Op::RecordActivity)?;
        match self.scope {
            Scope::City => Ok(()),
            Scope::Department(d) if d == department => Ok(()),
            Scope::Community(c) if c == community => Ok(()),
            _ => self.deny(format!("may not record activities of {department} in {community}: outside this token's scope")),
        }
    }

    /// Whether this token may take `op` on a wish; a department claims for itself and
    /// completes only what it claimed.
    pub fn may_on_wish(
        &self,
        op: Op,
        w: &Wish,
        claim_for: Option<DepartmentId>,
    ) -> Result<(), String> {
        self.may(op)?;
        let ok = match (op, self.scope) {
            (_, Scope::City) => true,
            (Op::ClaimWish, Scope::Department(d)) => match claim_for {
                Some(c) => c == d,
                None => w.department_id.is_none_or(|x| x == d),
            },
            (_, _) => self.sees_wish(w),
        };
        if ok {
            Ok(())
        } else {
            self.deny(format!(
                "may not act on {} for another department or outside its scope",
                w.id
            ))
        }
    }
}

/// Webhook subscriptions: the city office subscribes for any part of the city; a street,
/// department or community token (and a city-wide dispatcher) only for its own; a viewer not
/// at all.
impl Principal {
    /// The scope a subscription this token makes gets when it asks for `asked` (its own when
    /// it names none), or why it may not.
    pub fn subscription_scope(&self, asked: Option<Scope>) -> Result<Scope, String> {
        match (self.role, asked) {
            (Role::Viewer, _) => self
                .deny("may not subscribe to events (read-only)".into())
                .map(|()| self.scope),
            (Role::Admin, Some(s)) => Ok(s),
            (_, None) => Ok(self.scope),
            (_, Some(s)) if s == self.scope => Ok(s),
            (_, Some(_)) => self
                .deny("may subscribe only within its own scope".into())
                .map(|()| self.scope),
        }
    }

    /// Whether this token may see, test, resume or delete a subscription of `scope`.
    pub fn manages_subscription(&self, scope: Scope) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Viewer => false,
            _ => scope == self.scope,
        }
    }

    /// Who a subscription of `scope` made by this token reads events as: the city office's
    /// city-wide subscriptions see its own events (tokens issued); every other only what its
    /// scope may see.
    pub fn subscriber(&self, name: &str, scope: Scope) -> Principal {
        let role = if self.role == Role::Admin && scope == Scope::City {
            Role::Admin
        } else {
            Role::Viewer
        };
        Principal::new(name, role, scope)
    }
}

/// Which tokens see an event (here, with the rest of who may see what).
impl EventScope {
    /// Whether `p` may see an event with this scope.
    pub fn visible_to(&self, p: &Principal) -> bool {
        if self.staff_only && matches!(p.scope, Scope::Community(_)) {
            return false;
        }
        match (self.audience, p.scope) {
            (Audience::Public, _) => true,
            (Audience::Admin, _) => p.role == Role::Admin,
            (_, Scope::City) => true,
            (_, Scope::Street(s)) => self.street == Some(s),
            (_, Scope::Community(c)) => self.community == Some(c),
            (Audience::Wish, Scope::Department(_)) => true,
            (Audience::Whistle | Audience::Activity, Scope::Department(d)) => {
                self.departments.contains(&d)
            }
        }
    }
}
