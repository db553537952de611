//! The dashboard's state: what the app holds (each screen's own state beside what they all
//! read) and what it can say about it. `update` (in `super::update`) changes it.

use chrono::{DateTime, Offset, Utc};
use shaozi_shared::api::{Me, Step};
use shaozi_shared::{DepartmentId, Op, Role, Scope, Whistle, WhistleId, Wish, WishId};

use super::route::on_screen;
use crate::batch::Batch;
use crate::i18n::Lang;
use crate::keys::Keymap;
use crate::message::{Conn, Effect, Flash, View};
use crate::model::{Model, QKey};
use crate::prompt::Prompt;
use crate::screens::assessment::AssessmentScreen;
use crate::screens::departments::DepartmentsScreen;
use crate::screens::dept_cases::DeptCasesScreen;
use crate::screens::detail::DetailScreen;
use crate::screens::inbox::InboxScreen;
use crate::screens::notices::NoticesScreen;
use crate::screens::queue::QueueScreen;
use crate::screens::webhooks::WebhooksScreen;
use crate::screens::wishes::WishesScreen;
use crate::screens::work::WorkScreen;

/// How often the webhooks' screen asks for their health while it is shown.
pub const WEBHOOKS_EVERY_SECS: i64 = 2;

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
    /// What a search found.
    pub search: crate::screens::search::SearchScreen,
    /// 趋势: cases per week and the hotspots.
    pub trends: crate::screens::trends::TrendsScreen,
    /// The wishes screen.
    pub wishes: WishesScreen,
    /// The detail screen.
    pub detail: DetailScreen,
    /// The assessment screen.
    pub assess: AssessmentScreen,
    /// The webhook subscriptions' screen.
    pub hooks: WebhooksScreen,
    /// The dispatcher's inbox.
    pub inbox: InboxScreen,
    /// A department's or a community's notices.
    pub notices: NoticesScreen,
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
    pub batch: Option<Batch>,
    /// What was typed into a step's prompt before Esc, to bring back with the same step.
    pub draft: Option<Prompt>,
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
            draft: None,
            unencrypted: false,
            departments: DepartmentsScreen::default(),
            cases: DeptCasesScreen::default(),
            search: Default::default(),
            trends: Default::default(),
            wishes: WishesScreen::default(),
            detail: DetailScreen::default(),
            assess: AssessmentScreen::default(),
            hooks: Default::default(),
            inbox: InboxScreen::default(),
            notices: NoticesScreen::default(),
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
                    && self.wishes.selected().is_some_and(|w| {
                        step.fits_wish(w.status) && self.claimed_by_another(w).is_none()
                    })
            }
            shaozi_shared::api::Subject::Whistle => self
                .current()
                .and_then(|id| self.whistle(id))
                .is_some_and(|w| {
                    step.fits_for(w, crate::context::own_department(self.me.as_ref()))
                }),
        }
    }

    /// The department that claimed a wish, when the token is another department's: it may
    /// neither complete nor claim it (the server refuses; the dashboard does not offer it).
    pub(crate) fn claimed_by_another(&self, w: &Wish) -> Option<DepartmentId> {
        let Scope::Department(mine) = self.me.as_ref()?.scope else {
            return None;
        };
        w.department_id.filter(|d| *d != mine)
    }

    /// Whether the token may do `op` (everything, until the server has said).
    pub fn may(&self, op: Op) -> bool {
        self.me.as_ref().is_none_or(|m| m.may(op))
    }

    /// When the runtime should next wake the app: the next visible minute, or sooner while the
    /// webhooks are shown (their deliveries happen with no event to say so).
    pub fn next_wake(&self) -> DateTime<Utc> {
        let secs = self.now.timestamp();
        let minute =
            DateTime::from_timestamp(secs - secs.rem_euclid(60) + 60, 0).unwrap_or(self.now);
        if self.view == View::Webhooks {
            return minute.min(self.now + chrono::Duration::seconds(WEBHOOKS_EVERY_SECS));
        }
        minute
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

    /// Says what the config file's `[keys]` could not do, on the status line at start.
    pub fn warn_config(&mut self, file: &str, problems: &[String]) {
        let lead = if self.zh() {
            "配置的按键有问题"
        } else {
            "config [keys] problems"
        };
        self.warn(format!("{lead} ({file}): {}", problems.join("; ")));
    }

    /// Says `zh` or `en` in the UI's language.
    pub(crate) fn say_in(&mut self, zh: &str, en: &str) {
        let text = if self.zh() { zh } else { en };
        self.say(text.to_string());
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
        on_screen!(self, s, cx => s.current())
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
            .or_else(|| self.inbox.whistle(id))
    }

    pub(crate) fn targets(&self, bulk: bool) -> Vec<WhistleId> {
        if bulk && self.view == View::Queue && !self.queue.marked.is_empty() {
            return self.queue.marked.iter().copied().collect();
        }
        self.current().into_iter().collect()
    }

    /// Whether rows should look stale (the connection is down).
    pub fn stale(&self) -> bool {
        self.conn.is_down()
    }

    /// Whether the token's dashboard opens on its own work rather than the city's queue.
    pub fn works_own_list(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|m| matches!(m.role, Role::Department | Role::Community))
    }

    /// The queue rows shown (filtered or all), in queue order.
    pub fn rows(&self) -> &[QKey] {
        self.queue.rows(&self.model)
    }

    /// The selected queue whistle.
    pub fn selected(&self) -> Option<&Whistle> {
        self.queue.selected(&self.model)
    }

    /// Recomputes the queue's filtered rows.
    pub(crate) fn refilter(&mut self) {
        self.queue.refilter(&self.model, self.lang);
    }

    /// Where a whistle is among the queue's rows.
    pub(crate) fn position(&self, id: WhistleId) -> Option<usize> {
        self.queue.position(&self.model, id)
    }

    /// Keeps the queue's selection on its whistle across changes.
    pub(crate) fn fix_selection(&mut self) {
        self.queue.fix_selection(&self.model);
    }

    /// Re-applies the queue's filter and keeps the selection on its whistle.
    pub fn refresh_rows(&mut self) {
        self.refilter();
        self.fix_selection();
    }

    /// Opens a whistle's detail, coming back to the screen shown now.
    pub(crate) fn open_detail(&mut self, id: WhistleId) -> Vec<Effect> {
        let from = self.view;
        self.view = View::Detail;
        self.detail.open(id, from)
    }

    /// Searches every case the token may see and shows what is found.
    pub(crate) fn open_search(&mut self, words: &str) -> Vec<Effect> {
        // Esc goes back where the search was asked from (the trends it drilled from).
        if self.view != View::Search {
            self.search.back = Some(self.view);
        }
        self.view = View::Search;
        self.search.open(words)
    }

    /// Opens a department's cases.
    pub(crate) fn open_cases(&mut self, d: DepartmentId) -> Vec<Effect> {
        self.view = View::DeptCases(d);
        self.cases.open(d)
    }

    /// Loads the assessment for the period and units chosen.
    pub fn fetch_assessment(&self) -> Effect {
        self.assess.fetch(self.now, self.tz)
    }
}
