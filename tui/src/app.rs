//! The dashboard's state and its one `update`: every input, server event and timer becomes a
//! [`Msg`]; `update` changes the [`App`] and returns the [`Effect`]s for the runtime to carry
//! out (network, bell, quit). No I/O here, so all of it is testable.

use chrono::{DateTime, Offset, Utc};
use crossterm::event::KeyEvent;
pub use shaozi_shared::api::Me;
use shaozi_shared::api::{Stats, Step, StepBody, WhistleDetail};
use shaozi_shared::{DepartmentId, Event, Op, Whistle, WhistleId, Wish, WishId};

use crate::i18n::Lang;
use crate::keys::Keymap;
use crate::model::{Directory, Model};
use crate::prompt::Prompt;
pub use crate::refusal::Refusal;
use crate::screens::assessment::AssessmentScreen;
use crate::screens::departments::DepartmentsScreen;
use crate::screens::dept_cases::DeptCasesScreen;
use crate::screens::detail::DetailScreen;
use crate::screens::queue::QueueScreen;
use crate::screens::wishes::WishesScreen;
use crate::screens::work::WorkScreen;
use crate::screens::Screen;

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
    /// The assessment was written to a CSV file (its path), or why not.
    Exported(Result<String, String>),
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
    FetchAssessment(
        chrono::NaiveDate,
        chrono::NaiveDate,
        crate::screens::assessment::Units,
    ),
    /// Load the webhook subscriptions (the runtime coalesces: at most one a second).
    FetchWebhooks,
    /// Resume a webhook subscription.
    ResumeWebhook(String),
    /// Send a webhook subscription a test message.
    TestWebhook(String),
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

/// The whole state of the dashboard.
#[derive(Debug, Clone)]
pub struct App {
    /// Label language.
    pub lang: Lang,
    /// Keys.
    pub keymap: Keymap,
    /// Ring the bell for overdue whistles.
    pub bell: bool,
    /// The screen shown.
    pub view: View,
    /// Server data.
    pub model: Model,
    /// The queue screen.
    pub queue: QueueScreen,
    /// The token's own work.
    pub work: WorkScreen,
    /// The departments screen.
    pub departments: DepartmentsScreen,
    /// A department's cases.
    pub cases: DeptCasesScreen,
    /// The wishes screen.
    pub wishes: WishesScreen,
    /// The detail screen.
    pub detail: DetailScreen,
    /// The assessment screen.
    pub assess: AssessmentScreen,
    /// The webhook subscriptions' screen.
    pub hooks: crate::screens::webhooks::WebhooksScreen,
    /// Connection.
    pub conn: Conn,
    /// When data last arrived.
    pub last_data: Option<DateTime<Utc>>,
    /// Status message.
    pub flash: Option<Flash>,
    /// The open prompt.
    pub prompt: Option<Prompt>,
    /// Help overlay.
    pub help: bool,
    /// The time shown.
    pub now: DateTime<Utc>,
    /// Terminal size.
    pub size: (u16, u16),
    /// Whether the first load arrived.
    pub loaded: bool,
    /// Leave.
    pub quit: bool,
    /// Use colours (false under `NO_COLOR`).
    pub color: bool,
    /// The dispatcher's time zone, for showing times (the wire is UTC).
    pub tz: chrono::FixedOffset,
    /// Who the token is; until known, every action is offered.
    pub me: Option<Me>,
    /// A step taken on several cases at once, until every answer is in.
    pub batch: Option<crate::incoming::Batch>,
    /// Command lines run, oldest first (↑ in the command line goes back through them).
    pub history: Vec<String>,
    /// The server is reached over plain http on another machine (the status line says so).
    pub unencrypted: bool,
}

impl App {
    /// A new dashboard at `now`.
    pub fn new(lang: Lang, keymap: Keymap, now: DateTime<Utc>) -> App {
        App {
            lang,
            keymap,
            bell: false,
            view: View::Queue,
            model: Model::default(),
            queue: QueueScreen::default(),
            work: WorkScreen::default(),
            batch: None,
            history: Vec::new(),
            unencrypted: false,
            departments: DepartmentsScreen::default(),
            cases: DeptCasesScreen::default(),
            wishes: WishesScreen::default(),
            detail: DetailScreen::default(),
            assess: AssessmentScreen::default(),
            hooks: Default::default(),
            conn: Conn::Connecting,
            last_data: None,
            flash: None,
            prompt: None,
            help: false,
            now,
            size: (80, 24),
            loaded: false,
            quit: false,
            color: true,
            tz: chrono::FixedOffset::east_opt(0).unwrap_or_else(|| chrono::Utc.fix()),
            me: None,
        }
    }

    /// The screen `1` shows: the city's queue, or a department's or community's own work.
    pub fn home(&self) -> View {
        if self.works_own_list() {
            View::Work
        } else {
            View::Queue
        }
    }

    /// Whether the terminal is below the smallest usable size.
    pub fn too_small(&self) -> bool {
        self.size.0 < crate::view::MIN_SIZE.0 || self.size.1 < crate::view::MIN_SIZE.1
    }

    /// Whether a step is offered now: the token's role allows it, and the record it would act
    /// on (the shown screen's) is in a status that allows it.
    pub fn offers(&self, step: Step) -> bool {
        if !self.may(step.op()) {
            return false;
        }
        match step.subject() {
            shaozi_shared::api::Subject::Wish => {
                self.view == View::Wishes
                    && crate::screens::wishes::WishesScreen::selected(self)
                        .is_some_and(|w| step.fits_wish(w.status))
            }
            shaozi_shared::api::Subject::Whistle => self
                .current()
                .and_then(|id| self.whistle(id))
                .is_some_and(|w| step.fits_whistle(w)),
        }
    }

    /// Whether the token may do `op` (everything, until the server has said).
    pub fn may(&self, op: Op) -> bool {
        self.me.as_ref().is_none_or(|m| m.may(op))
    }

    /// When the runtime should next wake the app: the next visible minute.
    pub fn next_wake(&self) -> DateTime<Utc> {
        let secs = self.now.timestamp();
        DateTime::from_timestamp(secs - secs.rem_euclid(60) + 60, 0).unwrap_or(self.now)
    }

    pub(crate) fn say(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: false,
        });
    }

    pub(crate) fn warn(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: true,
        });
    }

    /// Says `zh` or `en`, as a warning, in the UI's language.
    pub(crate) fn warn_in(&mut self, zh: &str, en: &str) {
        let text = if self.zh() { zh } else { en };
        self.warn(text.to_string());
    }

    pub(crate) fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// The whistle a step taken now is about: the shown screen's.
    pub(crate) fn current(&self) -> Option<WhistleId> {
        crate::on_screen!(self.view, S => S::current(self))
    }

    /// A wish on the wishes list.
    pub fn wish(&self, id: WishId) -> Option<&Wish> {
        self.wishes.items.iter().find(|w| w.id == id)
    }

    /// The whistle for an action: from the queue, a list or the detail.
    pub fn whistle(&self, id: WhistleId) -> Option<&Whistle> {
        self.model
            .queue
            .get(id)
            .or_else(|| self.work.cases.iter().find(|w| w.id == id))
            .or_else(|| self.cases.cases.iter().find(|w| w.id == id))
            .or_else(|| {
                self.detail
                    .shown
                    .as_ref()
                    .and_then(|d| d.1.as_ref())
                    .filter(|d| d.whistle.id == id)
                    .map(|d| &d.whistle)
            })
    }

    pub(crate) fn targets(&self, bulk: bool) -> Vec<WhistleId> {
        if bulk && self.view == View::Queue && !self.queue.marked.is_empty() {
            return self.queue.marked.iter().copied().collect();
        }
        self.current().into_iter().collect()
    }

    /// Dispatches `targets` to `dept` (asking for a reason when one is a reassignment).
    pub fn assign(
        &mut self,
        targets: Vec<WhistleId>,
        dept: DepartmentId,
        note: Option<String>,
    ) -> Vec<Effect> {
        let (next, fx) = crate::prompt::dispatch_now(self, targets, dept, note);
        self.prompt = next;
        fx
    }

    /// Shows a whistle: selects it in the queue, or opens its detail.
    pub fn goto_id(&mut self, id: WhistleId) -> Vec<Effect> {
        self.goto(id)
    }

    pub(crate) fn goto(&mut self, id: WhistleId) -> Vec<Effect> {
        if self.position(id).is_some() {
            self.view = View::Queue;
            self.queue.sel = Some(id);
            self.fix_selection();
            return Vec::new();
        }
        if self.model.queue.get(id).is_some() && !self.queue.filter.is_empty() {
            self.clear_filter();
            return self.goto(id);
        }
        // Not unanswered: show it in detail instead.
        self.open_detail(id)
    }
}

/// Applies one message.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut fx = apply(app, msg);
    // Every action carries the version the dispatcher was looking at, so a change made by
    // someone else in the meantime is refused (412) rather than overwritten.
    for e in &mut fx {
        match e {
            Effect::Act {
                id,
                version: v @ None,
                ..
            } => *v = app.whistle(*id).map(|w| w.version),
            Effect::ActWish {
                id,
                version: v @ None,
                ..
            } => *v = app.wish(*id).map(|w| w.version),
            _ => {}
        }
    }
    fx
}

fn apply(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => crate::actions::on_key(app, k),
        Msg::Paste(s) => {
            if let Some(p) = &mut app.prompt {
                p.paste(&s);
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.size = (w, h);
            crate::screens::fit_all(app);
            Vec::new()
        }
        Msg::Tick(now) => {
            let minute = now.timestamp() / 60 != app.now.timestamp() / 60;
            app.now = now;
            // The assessment moves with the minute it is looked at.
            if minute && crate::screens::assessment::shown(app) {
                return vec![app.fetch_assessment()];
            }
            // Retries and pauses happen with no event to say so.
            if minute && app.view == View::Webhooks {
                return vec![Effect::FetchWebhooks];
            }
            Vec::new()
        }
        Msg::Assessment(d) => {
            AssessmentScreen::loaded(app, d);
            Vec::new()
        }
        Msg::Webhooks(r) => {
            crate::screens::webhooks::WebhooksScreen::loaded(app, r);
            Vec::new()
        }
        Msg::WebhookResumed(id, r) => {
            crate::screens::webhooks::WebhooksScreen::resumed(app, &id, r)
        }
        Msg::WebhookTested(id, r) => {
            crate::screens::webhooks::WebhooksScreen::tested(app, &id, r);
            Vec::new()
        }
        Msg::Exported(r) => {
            match r {
                Ok(path) => app.say(if app.zh() {
                    format!("考核表已导出：{path}")
                } else {
                    format!("assessment exported to {path}")
                }),
                Err(e) => app.warn(if app.zh() {
                    format!("导出失败：{e}")
                } else {
                    format!("export failed: {e}")
                }),
            }
            Vec::new()
        }
        Msg::Me(me) => {
            // Times are the city's: deadlines and days are counted in its offset, whatever
            // the clock of the machine the dashboard runs on (often a server, over SSH).
            if let Some(tz) = me
                .utc_offset_minutes
                .and_then(|m| chrono::FixedOffset::east_opt(m * 60))
            {
                app.tz = tz;
            }
            app.me = Some(*me);
            // A department or a community opens on its own work, and reloads it with
            // everything else after a gap.
            if !app.works_own_list() {
                return Vec::new();
            }
            if app.view == View::Queue {
                app.view = View::Work;
            }
            vec![Effect::FetchWork]
        }
        Msg::Directory(d) => {
            app.model.dir = *d;
            app.refilter();
            Vec::new()
        }
        Msg::Queue(items) => {
            app.model.queue.replace(items);
            app.loaded = true;
            app.last_data = Some(app.now);
            let queue = &app.model.queue;
            app.queue.marked.retain(|id| queue.get(*id).is_some());
            app.refilter();
            app.fix_selection();
            Vec::new()
        }
        Msg::Stats(s) => {
            app.model.stats = Some(*s);
            // The lists drawn from the totals keep their selection in range.
            DepartmentsScreen::fit(app);
            Vec::new()
        }
        Msg::Detail(d) => {
            DetailScreen::loaded(app, d);
            Vec::new()
        }
        Msg::DeptCases(dept, items) => {
            DeptCasesScreen::loaded(app, dept, items);
            Vec::new()
        }
        Msg::Event(e) => crate::incoming::on_event(app, *e),
        Msg::Conn(c) => {
            let was = app.conn;
            app.conn = c;
            if c == Conn::Live {
                app.last_data = Some(app.now);
                // Back after a gap: the replay brings the records; the totals are refetched.
                if was != Conn::Live {
                    return vec![Effect::FetchStats];
                }
            }
            Vec::new()
        }
        Msg::LoadFailed(why) => {
            app.warn(crate::words::load_failed(app.lang, &why));
            Vec::new()
        }
        Msg::Acted {
            id,
            step,
            result,
            draft,
        } => crate::incoming::on_acted(app, id, step, result, draft),
        Msg::WishActed {
            id,
            step,
            result,
            draft,
        } => crate::incoming::on_wish_acted(app, id, step, result, draft),
        Msg::DetailFailed(id, r) => {
            DetailScreen::failed(app, id, &r);
            Vec::new()
        }
        Msg::Work(items) => {
            WorkScreen::loaded(app, items);
            Vec::new()
        }
        Msg::Wishes(items) => {
            WishesScreen::loaded(app, items);
            Vec::new()
        }
    }
}

pub use crate::actions::{op_of, reject_body, split_staff};
