//! What moves through the dashboard: the messages `update` takes, the effects it hands the
//! runtime, and what a screen answers with. Nothing here knows the app or a screen, so every
//! part of the dashboard can speak these words without importing another part.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use shaozi_shared::api::{Me, Stats, Step, StepBody, WhistleDetail};
use shaozi_shared::{DepartmentId, Event, Whistle, WhistleId, Wish, WishId};

use crate::directory::Directory;
use crate::i18n::Lang;
use crate::prompt::form::FormKind;
use crate::prompt::Prompt;
use crate::refusal::Refusal;

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The unanswered queue (a dispatcher's home).
    Queue,
    /// A department's or a community's own work (its home).
    Work,
    /// Load per department.
    Departments,
    /// Cases of one department.
    DeptCases(DepartmentId),
    /// Micro-wishes.
    Wishes,
    /// One whistle and its timeline.
    Detail,
    /// Units ranked by how they answered.
    Assessment,
    /// Webhook subscriptions and their health.
    Webhooks,
    /// What waits for the dispatcher's decision.
    Inbox,
    /// What others did about a department's or a community's cases.
    Notices,
    /// The cases a search found.
    Search,
    /// Cases per week and the hotspots (趋势).
    Trends,
}

/// The live connection, as the status line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// First connection under way.
    Connecting,
    /// Following the event stream.
    Live,
    /// Lost; trying again.
    Reconnecting {
        /// Attempts so far.
        attempt: u32,
    },
    /// Lost for a while; still trying.
    Offline,
    /// The server refused the token (revoked, expired or wrong): nothing more is tried until the
    /// dashboard is started with another.
    Refused,
}

impl Conn {
    /// Whether what is shown may be out of date (the connection is down or refused).
    pub fn is_down(self) -> bool {
        matches!(
            self,
            Conn::Reconnecting { .. } | Conn::Offline | Conn::Refused
        )
    }
}

/// What was typed for an action, kept so a refusal loses nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The prompt to reopen.
    pub prompt: Prompt,
}

/// Everything that can happen to the dashboard.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key.
    Key(KeyEvent),
    /// Pasted text.
    Paste(String),
    /// The terminal's new size.
    Resize(u16, u16),
    /// The clock moved (a visible minute, or a message to clear).
    Tick(DateTime<Utc>),
    /// Who we are.
    Me(Box<Me>),
    /// Names arrived.
    Directory(Box<Directory>),
    /// The reply templates arrived again (one was kept or deleted).
    Templates(Vec<shaozi_shared::api::ReplyTemplate>),
    /// The whole unanswered queue arrived.
    Queue(Vec<Whistle>),
    /// Stats arrived.
    Stats(Box<Stats>),
    /// A whistle's detail arrived.
    Detail(Box<WhistleDetail>),
    /// A whistle's detail could not be loaded (missing, out of scope, or no connection).
    DetailFailed(WhistleId, Refusal),
    /// A department's cases arrived.
    DeptCases(DepartmentId, Vec<Whistle>),
    /// The cases like a whistle arrived.
    Similar(WhistleId, Vec<shaozi_shared::api::Similar>),
    /// A search's answer (the words, then the hits and whether more were found, or why not).
    Searched(String, Result<(Vec<Whistle>, bool), Refusal>),
    /// The token's own work arrived.
    Work(Vec<Whistle>),
    /// The open and claimed wishes arrived.
    Wishes(Vec<Wish>),
    /// A step on a wish finished.
    WishActed {
        /// The wish.
        id: WishId,
        /// What was done.
        step: Step,
        /// The updated wish, or the refusal.
        result: Result<Box<Wish>, Refusal>,
        /// What was typed, to reopen on refusal.
        draft: Option<Box<Draft>>,
    },
    /// The assessment arrived.
    Assessment(Box<shaozi_shared::api::Assessment>),
    /// The trends and hotspots, or why they could not be loaded.
    Patterns(Result<Box<(shaozi_shared::api::Trends, shaozi_shared::api::Hotspots)>, Refusal>),
    /// The assessment was written to a CSV file (its path), or why not.
    Exported(Result<String, String>),
    /// The inbox's cases arrived: requests for more time, and resolved cases.
    Inbox(Result<(Vec<Whistle>, Vec<Whistle>), Refusal>),
    /// The webhook subscriptions arrived.
    Webhooks(Result<Vec<shaozi_shared::api::WebhookInfo>, Refusal>),
    /// A webhook subscription was resumed (its id, and it as it is now or the refusal).
    WebhookResumed(
        String,
        Result<Box<shaozi_shared::api::WebhookInfo>, Refusal>,
    ),
    /// A test message was sent (the subscription's id, and what came of it).
    WebhookTested(
        String,
        Result<shaozi_shared::api::WebhookTestResult, Refusal>,
    ),
    /// A form was sent: the record made (as the server answered it), or the refusal; the
    /// form, to reopen on refusal.
    Filed {
        /// What was filed.
        kind: FormKind,
        /// The server's answer.
        result: Result<serde_json::Value, Refusal>,
        /// The form as sent.
        draft: Box<Draft>,
    },
    /// A webhook subscription was deleted (its id), or why not.
    WebhookDeleted(String, Result<(), Refusal>),
    /// A live event.
    Event(Box<Event>),
    /// The connection changed.
    Conn(Conn),
    /// A fetch failed.
    LoadFailed(Refusal),
    /// An action finished.
    Acted {
        /// The whistle.
        id: WhistleId,
        /// What was done.
        step: Step,
        /// The updated whistle, or the refusal.
        result: Result<Box<Whistle>, Refusal>,
        /// What was typed, to reopen on refusal.
        draft: Option<Box<Draft>>,
    },
}

/// Work for the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Load directory, stats and the queue.
    LoadAll,
    /// Refresh stats (the runtime debounces).
    FetchStats,
    /// Load a whistle's detail.
    FetchDetail(WhistleId),
    /// Load a department's cases.
    FetchDeptCases(DepartmentId),
    /// Load the cases like a whistle.
    FetchSimilar(WhistleId),
    /// Search every case (the words as typed, with any `from=` / `to=`).
    Search(String),
    /// Load the token's own work (its role's statuses).
    FetchWork,
    /// Load the open and claimed wishes.
    FetchWishes,
    /// Take a step on a wish.
    ActWish {
        /// The wish.
        id: WishId,
        /// The version it was shown at (sent as If-Match).
        version: Option<u64>,
        /// The step with its body.
        body: StepBody,
        /// What was typed.
        draft: Option<Box<Draft>>,
    },
    /// Load the assessment of local days [from, to].
    FetchAssessment(chrono::NaiveDate, chrono::NaiveDate, Units),
    /// Load the trends (series by `by`, per `interval`) and the hotspots.
    FetchPatterns {
        /// category or community.
        by: &'static str,
        /// week or month.
        interval: &'static str,
    },
    /// Load what the dispatcher's inbox does not find in the queue (requests for more time,
    /// fixes waiting for a call-back).
    FetchInbox,
    /// Load the webhook subscriptions (the runtime coalesces: at most one a second).
    FetchWebhooks,
    /// Load the reply templates again.
    FetchTemplates,
    /// Resume a webhook subscription.
    ResumeWebhook(String),
    /// Send a webhook subscription a test message.
    TestWebhook(String),
    /// Delete a webhook subscription.
    DeleteWebhook(String),
    /// Send a form: POST `body` where its kind is filed, with the form's Idempotency-Key.
    File {
        /// What is filed.
        kind: FormKind,
        /// The request.
        body: serde_json::Value,
        /// Its Idempotency-Key (none where the API takes none).
        key: Option<String>,
        /// The form, to reopen on refusal.
        draft: Box<Draft>,
    },
    /// Write a CSV file (the assessment as shown) in the export directory.
    WriteCsv {
        /// Its name.
        file: String,
        /// Its contents.
        text: String,
    },
    /// Take a step.
    Act {
        /// The whistle.
        id: WhistleId,
        /// The version it was shown at (sent as If-Match).
        version: Option<u64>,
        /// The step with its body.
        body: StepBody,
        /// What was typed.
        draft: Option<Box<Draft>>,
    },
    /// Ring the terminal bell.
    Bell,
    /// Leave.
    Quit,
}

/// A message on the status line (wrapped above it when long). It stays until the next key
/// that does something, so nothing said is missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// The words.
    pub text: String,
    /// A refusal or failure.
    pub error: bool,
}

/// Which units the assessment ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Departments (the default).
    Departments,
    /// Street offices, which dispatch: with dispatch accuracy.
    Streets,
    /// Communities.
    Communities,
}

impl Units {
    /// The next, round.
    pub fn next(self) -> Units {
        match self {
            Units::Departments => Units::Streets,
            Units::Streets => Units::Communities,
            Units::Communities => Units::Departments,
        }
    }

    /// The API's `group`.
    pub fn wire(self) -> &'static str {
        match self {
            Units::Departments => "department",
            Units::Streets => "street",
            Units::Communities => "community",
        }
    }

    /// Its name in the title.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Units::Departments, Lang::Zh) => "部门",
            (Units::Streets, Lang::Zh) => "街道",
            (Units::Communities, Lang::Zh) => "社区",
            (Units::Departments, Lang::En) => "departments",
            (Units::Streets, Lang::En) => "streets",
            (Units::Communities, Lang::En) => "communities",
        }
    }
}

/// What a screen answers with: work for the runtime, and what it asks of the app (a message
/// on the status line, a prompt, another screen). A screen never writes the app's state; the
/// app applies these in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Work for the runtime.
    Fx(Effect),
    /// Say this on the status line.
    Say(String),
    /// Say this on the status line, as a warning.
    Warn(String),
    /// Open this prompt.
    Prompt(Prompt),
    /// Show this screen (as it is, without loading anything).
    Show(View),
    /// Open a whistle's detail.
    OpenDetail(WhistleId),
    /// Open a department's cases.
    OpenCases(DepartmentId),
    /// Clear the filter of the lists of cases.
    ClearFilter,
    /// Search every case (as `:search` does) and show what is found.
    Search(String),
}

impl Out {
    /// A warning in the UI's language.
    pub fn warn_in(lang: Lang, zh: &str, en: &str) -> Out {
        Out::Warn(if lang == Lang::Zh { zh } else { en }.to_string())
    }
}
