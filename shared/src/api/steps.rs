//! Every step a person can take on a whistle or a wish, in one table: its name on the wire
//! (`POST /api/v1/whistles/{id}/{name}`), its body, what the token must be allowed to do, and
//! how a client asks for it. The server's routes and OpenAPI operations, its permission check,
//! the dashboard's requests, keys and help are all driven from here, so a new step is a row
//! in [`step_table!`](crate::step_table), its body and its arms below, and its rule in
//! the domain (see `docs/ARCHITECTURE.md`).

use serde::{Deserialize, Serialize};

use crate::access::Op;
use crate::ids::{DepartmentId, WhistleId};
use crate::whistle::{Muster, Whistle, WhistleAction};
use crate::wish::{WishAction, WishStatus};

/// The steps, one row each, whistles' then wishes': variant, handler name, path, body,
/// summary. Hands the rows to the macro `$then`, which makes of them what it needs (this
/// crate: [`Step`] and [`StepBody`]; the server: its routes and their OpenAPI operations).
#[macro_export]
macro_rules! step_table {
    ($then:ident) => {
        $then! {
            whistles {
                Dispatch dispatch "/whistles/{id}/dispatch" $crate::api::DispatchBody, "Call a department (or reassign)";
                Acknowledge acknowledge "/whistles/{id}/acknowledge" $crate::api::AcknowledgeBody, "Report for duty (报到) with two or more staff: the lead, or an assisting department for itself";
                PartDone part_done "/whistles/{id}/part-done" $crate::api::PartDoneBody, "An assisting department marks its part done";
                Assisting assisting "/whistles/{id}/assisting" $crate::api::AssistingBody, "Call more departments to assist, or let some go, after the dispatch";
                Reclassify reclassify "/whistles/{id}/reclassify" $crate::api::ReclassifyBody, "Correct the category, urgency or address; the deadlines are worked out again (改类)";
                Note note "/whistles/{id}/notes" $crate::api::NoteBody, "A note between steps: internal (staff only) or public";
                Resolve resolve "/whistles/{id}/resolve" $crate::api::ResolveBody, "Reply that the problem is fixed";
                Close close "/whistles/{id}/close" $crate::api::CloseBody, "Confirm and rate the fix";
                Reopen reopen "/whistles/{id}/reopen" $crate::api::ReasonBody, "Reject the fix and reopen";
                Reject reject "/whistles/{id}/reject" $crate::api::RejectBody, "Reject as not a problem or a duplicate";
                Escalate escalate "/whistles/{id}/escalate" $crate::api::ReasonBody, "Escalate";
                Return return_case "/whistles/{id}/return" $crate::api::ReasonBody, "Send a misrouted case back to the dispatcher (退单)";
                Overrule overrule "/whistles/{id}/overrule" $crate::api::ReasonBody, "Overrule a return: back to the same department";
                RequestExtension request_extension "/whistles/{id}/extension" $crate::api::ExtensionBody, "Ask for more time to resolve (延期)";
                ApproveExtension approve_extension "/whistles/{id}/extension/approve" $crate::api::ApproveBody, "Grant the pending extension, as asked or shorter";
                DenyExtension deny_extension "/whistles/{id}/extension/deny" $crate::api::ReasonBody, "Deny the pending extension";
                Urge urge "/whistles/{id}/urge" $crate::api::UrgeBody, "Press the department (催办) without escalating";
                CallBack callback "/whistles/{id}/callback" $crate::api::CallBackBody, "Record a call to the resident after the fix (回访)";
            }
            wishes {
                Claim claim "/wishes/{id}/claim" $crate::api::ClaimBody, "Claim a wish";
                Complete complete "/wishes/{id}/complete" $crate::api::CompleteBody, "Mark a wish fulfilled";
                Cancel cancel "/wishes/{id}/cancel" $crate::api::ReasonBody, "Withdraw a wish";
            }
        }
    };
}

macro_rules! step_enums {
    (
        whistles { $($wv:ident $wn:ident $wp:literal $wb:ty, $ws:literal;)* }
        wishes { $($mv:ident $mn:ident $mp:literal $mb:ty, $ms:literal;)* }
    ) => {
        /// A step a person takes on a whistle or a wish.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum Step {
            $(#[doc = $ws] $wv,)*
            $(#[doc = $ms] $mv,)*
        }

        impl Step {
            /// Every whistle step.
            pub const WHISTLE: &'static [Step] = &[$(Step::$wv,)*];
            /// Every wish step.
            pub const WISH: &'static [Step] = &[$(Step::$mv,)*];

            /// Its name: the handler's, and the dashboard's in messages.
            pub fn name(self) -> &'static str {
                match self {
                    $(Step::$wv => stringify!($wn),)*
                    $(Step::$mv => stringify!($mn),)*
                }
            }

            /// Its path under `/api/v1`, e.g. `/whistles/{id}/extension/approve`.
            pub fn path(self) -> &'static str {
                match self {
                    $(Step::$wv => $wp,)*
                    $(Step::$mv => $mp,)*
                }
            }

            /// Its OpenAPI summary.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Step::$wv => $ws,)*
                    $(Step::$mv => $ms,)*
                }
            }
        }

        /// A step with its body: what a client sends.
        #[derive(Debug, Clone, PartialEq)]
        pub enum StepBody {
            $(#[doc = $ws] $wv($wb),)*
            $(#[doc = $ms] $mv($mb),)*
        }

        impl StepBody {
            /// Which step it is.
            pub fn step(&self) -> Step {
                match self {
                    $(StepBody::$wv(_) => Step::$wv,)*
                    $(StepBody::$mv(_) => Step::$mv,)*
                }
            }

            /// The body as JSON.
            pub fn json(&self) -> serde_json::Value {
                let v = match self {
                    $(StepBody::$wv(b) => serde_json::to_value(b),)*
                    $(StepBody::$mv(b) => serde_json::to_value(b),)*
                };
                v.unwrap_or_default()
            }
        }
    };
}

step_table!(step_enums);

/// What a record a step acts on is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A whistle.
    Whistle,
    /// A wish.
    Wish,
}

/// What a client must ask the person for, to take a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A department (and, when reassigning, why).
    Department,
    /// Two or more staff names.
    Staff,
    /// A line of text (a reply, a reason).
    Text,
    /// A rating from 1 to 5.
    Rating,
    /// A new resolve deadline and why.
    Extension,
    /// Whether the resident was reached, their rating if any, and what they said.
    CallBack,
    /// Nothing more.
    Nothing,
}

/// What a person gave for a step, to become its body.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// A department, and the reason or instructions if any.
    Department(DepartmentId, Option<String>),
    /// Staff names.
    Staff(Vec<String>),
    /// A text.
    Text(String),
    /// A rating.
    Rating(i64),
    /// A new deadline and the reason.
    Extension(chrono::DateTime<chrono::Utc>, String),
    /// A call-back: reached, rating, note.
    CallBack(bool, Option<i64>, String),
    /// Nothing.
    Nothing,
}

impl Step {
    /// Its path after the record, e.g. `extension/approve`: what a client posts to.
    pub fn tail(self) -> &'static str {
        self.path()
            .split_once("{id}/")
            .map_or(self.path(), |(_, t)| t)
    }

    /// What it acts on.
    pub fn subject(self) -> Subject {
        if Step::WISH.contains(&self) {
            Subject::Wish
        } else {
            Subject::Whistle
        }
    }

    /// What the token must be allowed to do to take it (its scope is checked on the record).
    pub fn op(self) -> Op {
        match self {
            Step::Dispatch
            | Step::Reject
            | Step::Escalate
            | Step::Overrule
            | Step::ApproveExtension
            | Step::DenyExtension
            | Step::Urge
            | Step::Assisting
            | Step::Reclassify
            | Step::CallBack => Op::Dispatch,
            Step::Acknowledge
            | Step::PartDone
            | Step::Resolve
            | Step::Return
            | Step::RequestExtension => Op::Handle,
            Step::Close | Step::Reopen => Op::Confirm,
            Step::Note => Op::Note,
            Step::Claim | Step::Complete => Op::ClaimWish,
            Step::Cancel => Op::FileWish,
        }
    }

    /// What a client asks the person for.
    pub fn input(self) -> Input {
        match self {
            Step::Dispatch | Step::Assisting => Input::Department,
            Step::Acknowledge => Input::Staff,
            Step::Close => Input::Rating,
            Step::Resolve
            | Step::PartDone
            | Step::Reclassify
            | Step::Note
            | Step::Reopen
            | Step::Reject
            | Step::Escalate
            | Step::Cancel
            | Step::Return
            | Step::Overrule
            | Step::DenyExtension
            | Step::Urge => Input::Text,
            Step::RequestExtension => Input::Extension,
            Step::CallBack => Input::CallBack,
            Step::Claim | Step::Complete | Step::ApproveExtension => Input::Nothing,
        }
    }

    /// Whether a client may take it on many records at once (after a confirmation).
    pub fn bulk(self) -> bool {
        matches!(
            self,
            Step::Dispatch | Step::Reject | Step::Escalate | Step::Urge
        )
    }

    /// The step a whistle action is, if a person takes it (the clock's are the server's own).
    pub fn of_whistle(a: &WhistleAction) -> Option<Step> {
        Some(match a {
            WhistleAction::Dispatch { .. } => Step::Dispatch,
            WhistleAction::Acknowledge { .. } | WhistleAction::ReportAssisting { .. } => {
                Step::Acknowledge
            }
            WhistleAction::PartDone { .. } => Step::PartDone,
            WhistleAction::ChangeAssisting { .. } => Step::Assisting,
            WhistleAction::Reclassify { .. } => Step::Reclassify,
            WhistleAction::Note { .. } => Step::Note,
            WhistleAction::Resolve { .. } => Step::Resolve,
            WhistleAction::Close { .. } => Step::Close,
            WhistleAction::Reopen { .. } => Step::Reopen,
            WhistleAction::Reject { .. } => Step::Reject,
            WhistleAction::Escalate { .. } => Step::Escalate,
            WhistleAction::Return { .. } => Step::Return,
            WhistleAction::Overrule { .. } => Step::Overrule,
            WhistleAction::RequestExtension { .. } => Step::RequestExtension,
            WhistleAction::ApproveExtension { .. } => Step::ApproveExtension,
            WhistleAction::DenyExtension { .. } => Step::DenyExtension,
            WhistleAction::Urge { .. } => Step::Urge,
            WhistleAction::CallBack { .. } => Step::CallBack,
            WhistleAction::DeadlinePassed
            | WhistleAction::DueSoon
            | WhistleAction::ConfirmDeadlinePassed
            | WhistleAction::CallsMissed
            | WhistleAction::LinkDuplicate { .. } => return None,
        })
    }

    /// The step a wish action is.
    pub fn of_wish(a: &WishAction) -> Step {
        match a {
            WishAction::Claim { .. } => Step::Claim,
            WishAction::Complete { .. } => Step::Complete,
            WishAction::Cancel { .. } => Step::Cancel,
        }
    }
}

impl Step {
    /// Whether a whistle as it is now allows the step: its status, and what the step needs
    /// (a level to escalate to, a pending extension to answer). A client offers only these,
    /// so what it offers can succeed (the token's role and scope aside, which [`Step::op`] and
    /// the scope rules decide).
    pub fn fits_whistle(self, w: &Whistle) -> bool {
        self.sample()
            .and_then(StepBody::whistle_action)
            .is_some_and(|action| crate::whistle::open_to(w, &action))
    }

    /// Whether the step fits `w` for a token of department `mine` (`None`: not a
    /// department's): a department reports for duty and resolves as the lead, and reports and
    /// marks its part done as an assisting department (joint 报到); marking a part done is an
    /// assisting department's own.
    pub fn fits_for(self, w: &Whistle, mine: Option<DepartmentId>) -> bool {
        use crate::whistle::CallRole;
        let live = matches!(
            w.status,
            crate::WhistleStatus::Dispatched | crate::WhistleStatus::Acknowledged
        );
        let Some(d) = mine else {
            return self != Step::PartDone && self.fits_whistle(w);
        };
        let lead = w.department_id == Some(d);
        let assisting = w
            .call_of(d)
            .filter(|c| c.role == CallRole::Assisting && !lead);
        match self {
            Step::Acknowledge if !lead => {
                live && assisting.is_some_and(|c| c.reported_at.is_none())
            }
            Step::PartDone => {
                live && assisting.is_some_and(|c| c.reported_at.is_some() && c.done_at.is_none())
            }
            _ if !lead && self.op() == Op::Handle => false,
            _ => self.fits_whistle(w),
        }
    }

    /// Whether a wish in `status` allows the step.
    pub fn fits_wish(self, status: WishStatus) -> bool {
        self.sample()
            .and_then(StepBody::wish_action)
            .is_some_and(|a| crate::wish::allowed(status, &a))
    }

    /// The step with placeholder input, to ask the state machines about it.
    fn sample(self) -> Option<StepBody> {
        let given = match self.input() {
            Input::Department => Given::Department(DepartmentId(0), None),
            Input::Staff => Given::Staff(Vec::new()),
            Input::Text => Given::Text(String::new()),
            Input::Rating => Given::Rating(1),
            Input::Extension => Given::Extension(chrono::DateTime::UNIX_EPOCH, String::new()),
            Input::CallBack => Given::CallBack(true, None, String::new()),
            Input::Nothing => Given::Nothing,
        };
        StepBody::build(self, given)
    }
}

impl StepBody {
    /// The body of `step` from what the person gave; `None` when that does not fit the step.
    pub fn build(step: Step, given: Given) -> Option<StepBody> {
        Some(match (step, given) {
            (Step::Dispatch, Given::Department(department_id, note)) => {
                StepBody::Dispatch(DispatchBody {
                    department_id,
                    assisting: Vec::new(),
                    note,
                    report: None,
                })
            }
            (Step::Acknowledge, Given::Staff(staff)) => StepBody::Acknowledge(AcknowledgeBody {
                staff,
                note: None,
                department_id: None,
            }),
            (Step::Resolve, Given::Text(reply)) => {
                StepBody::Resolve(ResolveBody { reply, note: None })
            }
            (Step::Assisting, Given::Department(d, reason)) => StepBody::Assisting(AssistingBody {
                add: vec![d],
                remove: Vec::new(),
                reason: reason.unwrap_or_default(),
            }),
            (Step::Note, Given::Text(text)) => StepBody::Note(NoteBody {
                text,
                visibility: Visibility::Internal,
            }),
            (Step::Reclassify, Given::Text(reason)) => StepBody::Reclassify(ReclassifyBody {
                category: None,
                urgency: None,
                address: None,
                reason,
            }),
            (Step::PartDone, Given::Text(note)) => StepBody::PartDone(PartDoneBody {
                note,
                department_id: None,
            }),
            (Step::Close, Given::Rating(satisfaction)) => StepBody::Close(CloseBody {
                satisfaction,
                note: None,
            }),
            (Step::Reopen, Given::Text(reason)) => StepBody::Reopen(ReasonBody { reason }),
            (Step::Reject, Given::Text(reason)) => StepBody::Reject(RejectBody {
                reason,
                duplicate_of: None,
            }),
            (Step::Escalate, Given::Text(reason)) => StepBody::Escalate(ReasonBody { reason }),
            (Step::Claim, Given::Nothing) => StepBody::Claim(ClaimBody::default()),
            (Step::Complete, Given::Nothing) => StepBody::Complete(CompleteBody::default()),
            (Step::Cancel, Given::Text(reason)) => StepBody::Cancel(ReasonBody { reason }),
            (Step::Return, Given::Text(reason)) => StepBody::Return(ReasonBody { reason }),
            (Step::Overrule, Given::Text(reason)) => StepBody::Overrule(ReasonBody { reason }),
            (Step::RequestExtension, Given::Extension(until, reason)) => {
                StepBody::RequestExtension(ExtensionBody { until, reason })
            }
            (Step::ApproveExtension, Given::Nothing) => {
                StepBody::ApproveExtension(ApproveBody::default())
            }
            (Step::DenyExtension, Given::Text(reason)) => {
                StepBody::DenyExtension(ReasonBody { reason })
            }
            (Step::Urge, Given::Text(note)) => StepBody::Urge(UrgeBody { note }),
            (Step::CallBack, Given::CallBack(reached, satisfaction, note)) => {
                StepBody::CallBack(CallBackBody {
                    reached,
                    satisfaction,
                    note,
                })
            }
            _ => return None,
        })
    }
}

impl From<DispatchBody> for WhistleAction {
    fn from(b: DispatchBody) -> Self {
        WhistleAction::Dispatch {
            department_id: b.department_id,
            assisting: b.assisting,
            note: b.note,
            report: b.report,
        }
    }
}

impl From<AcknowledgeBody> for WhistleAction {
    fn from(b: AcknowledgeBody) -> Self {
        match b.department_id {
            Some(department) => WhistleAction::ReportAssisting {
                department,
                staff: b.staff,
                note: b.note,
            },
            None => WhistleAction::Acknowledge {
                staff: b.staff,
                note: b.note,
            },
        }
    }
}

impl From<ResolveBody> for WhistleAction {
    fn from(b: ResolveBody) -> Self {
        WhistleAction::Resolve {
            reply: b.reply,
            note: b.note,
        }
    }
}

impl From<CloseBody> for WhistleAction {
    fn from(b: CloseBody) -> Self {
        WhistleAction::Close {
            satisfaction: b.satisfaction,
            note: b.note,
        }
    }
}

impl From<RejectBody> for WhistleAction {
    fn from(b: RejectBody) -> Self {
        WhistleAction::Reject {
            reason: b.reason,
            duplicate_of: b.duplicate_of,
        }
    }
}

impl StepBody {
    /// The domain's action for a whistle step (`None` for a wish step).
    pub fn whistle_action(self) -> Option<WhistleAction> {
        Some(match self {
            StepBody::Dispatch(b) => b.into(),
            StepBody::Acknowledge(b) => b.into(),
            StepBody::PartDone(b) => WhistleAction::PartDone {
                department: b.department_id,
                note: b.note,
            },
            StepBody::Note(b) => WhistleAction::Note {
                text: b.text,
                public: b.visibility == Visibility::Public,
            },
            StepBody::Reclassify(b) => WhistleAction::Reclassify {
                category: b.category,
                urgency: b.urgency,
                address: b.address,
                reason: b.reason,
            },
            StepBody::Assisting(b) => WhistleAction::ChangeAssisting {
                add: b.add,
                remove: b.remove,
                reason: b.reason,
            },
            StepBody::Resolve(b) => b.into(),
            StepBody::Close(b) => b.into(),
            StepBody::Reopen(b) => WhistleAction::Reopen { reason: b.reason },
            StepBody::Reject(b) => b.into(),
            StepBody::Escalate(b) => WhistleAction::Escalate { reason: b.reason },
            StepBody::Return(b) => WhistleAction::Return { reason: b.reason },
            StepBody::Overrule(b) => WhistleAction::Overrule { reason: b.reason },
            StepBody::RequestExtension(b) => WhistleAction::RequestExtension {
                until: b.until,
                reason: b.reason,
            },
            StepBody::ApproveExtension(b) => WhistleAction::ApproveExtension {
                until: b.until,
                note: b.note,
            },
            StepBody::DenyExtension(b) => WhistleAction::DenyExtension { reason: b.reason },
            StepBody::Urge(b) => WhistleAction::Urge { note: b.note },
            StepBody::CallBack(b) => WhistleAction::CallBack {
                reached: b.reached,
                satisfaction: b.satisfaction,
                note: b.note,
            },
            StepBody::Claim(_) | StepBody::Complete(_) | StepBody::Cancel(_) => return None,
        })
    }

    /// The domain's action for a wish step (`None` for a whistle step).
    pub fn wish_action(self) -> Option<WishAction> {
        Some(match self {
            StepBody::Claim(b) => WishAction::Claim {
                department_id: b.department_id,
                claimer: b.claimer,
            },
            StepBody::Complete(b) => WishAction::Complete { note: b.note },
            StepBody::Cancel(b) => WishAction::Cancel { reason: b.reason },
            _ => return None,
        })
    }
}

/// `POST /api/v1/whistles/{id}/dispatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DispatchBody {
    /// Lead department.
    pub department_id: DepartmentId,
    /// Assisting departments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assisting: Vec<DepartmentId>,
    /// Instructions; required when reassigning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
    /// Where and when every called department reports (指定地点报到); without it each
    /// reports by the category's deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Muster>,
}

/// `POST /api/v1/whistles/{id}/acknowledge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBody {
    /// Two or more different staff names, each one line of at most 50 characters; names that
    /// show the same (full-width forms, zero-width characters) are one person.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 50))]
    pub staff: Vec<String>,
    /// Optional note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
    /// The department reporting, when the city office records it for one; a department's own
    /// token reports for itself (the lead, or an assisting department).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<DepartmentId>,
}

/// `POST /api/v1/whistles/{id}/part-done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartDoneBody {
    /// What the department did.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub note: String,
    /// The assisting department, when the city office records it for one; a department's own
    /// token speaks for itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<DepartmentId>,
}

/// Who may read a note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Staff only: dispatchers, the called departments, the city office.
    #[default]
    Internal,
    /// Everyone who follows the case: the community, Open311's updates, the robots.
    Public,
}

/// `POST /api/v1/whistles/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub text: String,
    /// `internal` (the default) or `public`.
    #[serde(default)]
    pub visibility: Visibility,
}

/// `POST /api/v1/whistles/{id}/reclassify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReclassifyBody {
    /// The right category's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The right urgency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<crate::Urgency>,
    /// The right address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub address: Option<String>,
    /// Why.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// `POST /api/v1/whistles/{id}/assisting`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistingBody {
    /// Departments called to assist now (each reports by the muster's time while it is to
    /// come, else by the category's deadline from now).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<DepartmentId>,
    /// Assisting departments let go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<DepartmentId>,
    /// Why.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// `POST /api/v1/whistles/{id}/resolve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// The reply to the community.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub reply: String,
    /// Why it is resolved before every assisting department marked its part done (required
    /// then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

/// `POST /api/v1/whistles/{id}/close`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// 1–5.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub satisfaction: i64,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

/// `POST /api/v1/whistles/{id}/extension`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    /// The resolve deadline asked for (RFC 3339): after the current one, within the rules'
    /// longest extension.
    pub until: chrono::DateTime<chrono::Utc>,
    /// Why.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// `POST /api/v1/whistles/{id}/extension/approve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// A shorter deadline than asked; without it, as asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Optional note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

/// `POST /api/v1/whistles/{id}/urge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UrgeBody {
    /// What the department is pressed about.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub note: String,
}

/// `POST /api/v1/whistles/{id}/callback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CallBackBody {
    /// Whether the resident was reached.
    pub reached: bool,
    /// The resident's own rating, 1–5; only when reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub satisfaction: Option<i64>,
    /// What they said.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub note: String,
}

/// `POST /api/v1/whistles/{id}/reopen`, `/escalate`, `/return`, `/overrule`,
/// `/extension/deny` and `/api/v1/wishes/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// `POST /api/v1/whistles/{id}/reject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
    /// The original, when a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<WhistleId>,
}

/// `POST /api/v1/wishes/{id}/claim`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// Claiming department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<DepartmentId>,
    /// Claiming person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 50))]
    pub claimer: Option<String>,
}

/// `POST /api/v1/wishes/{id}/complete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Optional note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given_for(step: Step) -> Given {
        match step.input() {
            Input::Department => Given::Department(DepartmentId(3), Some("改派".into())),
            Input::Staff => Given::Staff(vec!["张伟".into(), "李娜".into()]),
            Input::Text => Given::Text("原因".into()),
            Input::Rating => Given::Rating(4),
            Input::Extension => Given::Extension(chrono::DateTime::UNIX_EPOCH, "工期".into()),
            Input::CallBack => Given::CallBack(true, Some(5), "满意".into()),
            Input::Nothing => Given::Nothing,
        }
    }

    macro_rules! paths {
        (
            whistles { $($wv:ident $wn:ident $wp:literal $wb:ty, $ws:literal;)* }
            wishes { $($mv:ident $mn:ident $mp:literal $mb:ty, $ms:literal;)* }
        ) => {
            vec![$((Step::$wv, $wp),)* $((Step::$mv, $mp),)*]
        };
    }

    #[test]
    fn every_step_is_one_row_with_its_path_body_and_action() {
        let rows: Vec<(Step, &str)> = crate::step_table!(paths);
        assert_eq!(rows.len(), Step::WHISTLE.len() + Step::WISH.len());
        let mut names = std::collections::BTreeSet::new();
        for (step, path) in rows {
            assert!(names.insert(step.name()), "{} twice", step.name());
            let prefix = match step.subject() {
                Subject::Whistle => "/whistles/{id}/",
                Subject::Wish => "/wishes/{id}/",
            };
            assert_eq!(path, format!("{prefix}{}", step.tail()));
            assert_eq!(path, step.path());
            // What a client gives for it becomes its body, and the body the step's action.
            let body = StepBody::build(step, given_for(step)).unwrap_or_else(|| {
                panic!(
                    "{step:?} cannot be built from its own input {:?}",
                    step.input()
                )
            });
            assert_eq!(body.step(), step);
            assert!(body.json().is_object());
            match step.subject() {
                Subject::Whistle => {
                    let a = body.whistle_action().expect("a whistle action");
                    assert_eq!(Step::of_whistle(&a), Some(step));
                }
                Subject::Wish => {
                    let a = body.wish_action().expect("a wish action");
                    assert_eq!(Step::of_wish(&a), step);
                }
            }
        }
    }

    #[test]
    fn a_body_that_does_not_fit_its_step_is_not_built() {
        assert_eq!(StepBody::build(Step::Close, Given::Text("好".into())), None);
        assert_eq!(StepBody::build(Step::Dispatch, Given::Nothing), None);
    }

    #[test]
    fn the_clocks_steps_are_nobodys() {
        assert_eq!(Step::of_whistle(&WhistleAction::DeadlinePassed), None);
        assert_eq!(
            Step::of_whistle(&WhistleAction::LinkDuplicate {
                duplicate: WhistleId(1),
                reporter: None,
            }),
            None
        );
    }
}
