//! A department's or a community's own work, where its token's dashboard opens.
//!
//! A department sees what waits for it to report for duty, what came back to redo, what is in
//! progress (with the time left) and what it resolved that waits for the community. A community
//! sees first what waits for its confirmation, then its open whistles by status, and its
//! wishes' totals. Each section in that order, the most pressing deadline first within it.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use shaozi_shared::api::Step;
use shaozi_shared::{Role, Scope, Whistle, WhistleId, WhistleStatus};

use super::table::{header, row, Columns};
use super::{body, table_rows, Hints, Screen};
use crate::app::{App, Effect};
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::view::{loading, Theme};

/// The work list's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// Every case of the token's, in section order.
    pub cases: Vec<Whistle>,
    /// The cases the filter lets through, in the same order.
    pub shown: Vec<Whistle>,
    /// Whether the first load arrived.
    pub loaded: bool,
}

/// The sections of a work list, in order: what they hold and their names.
fn section(role: Role, w: &Whistle) -> Option<usize> {
    use WhistleStatus::*;
    match (role, w.status) {
        // A case it returned stays in sight, marked ↩, until the dispatcher answers.
        (Role::Department, Dispatched | Returned) => Some(0),
        (Role::Department, Acknowledged) if w.reopened > 0 => Some(1),
        (Role::Department, Acknowledged) => Some(2),
        (Role::Department, Resolved) => Some(3),
        (Role::Community, Resolved) => Some(0),
        (Role::Community, New | Returned) => Some(1),
        (Role::Community, Dispatched) => Some(2),
        (Role::Community, Acknowledged) => Some(3),
        _ => None,
    }
}

fn section_names(role: Role, lang: Lang) -> [&'static str; 4] {
    match (role, lang) {
        (Role::Community, Lang::Zh) => ["待我确认", "未派单", "待报到", "处理中"],
        (Role::Community, Lang::En) => ["to confirm", "new", "waiting", "in progress"],
        (_, Lang::Zh) => ["待报到", "退回重办", "处理中", "待社区确认"],
        (_, Lang::En) => [
            "to report",
            "reopened",
            "in progress",
            "awaiting confirmation",
        ],
    }
}

/// The statuses a role's work list asks the server for.
pub fn statuses(role: Role) -> &'static str {
    match role {
        Role::Community => "new,returned,dispatched,acknowledged,resolved",
        _ => "dispatched,returned,acknowledged,resolved",
    }
}

impl App {
    /// Whether the token's dashboard opens on its own work rather than the city's queue.
    pub fn works_own_list(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|m| matches!(m.role, Role::Department | Role::Community))
    }

    fn work_role(&self) -> Role {
        self.me.as_ref().map_or(Role::Department, |m| m.role)
    }

    /// Whether a case is the token's work now (its scope, and a status its list holds).
    fn is_my_work(&self, w: &Whistle) -> bool {
        let Some(me) = &self.me else {
            return false;
        };
        let mine = match me.scope {
            Scope::Department(d) => w.department_id == Some(d) || w.assisting.contains(&d),
            Scope::Community(c) => w.community_id == c,
            _ => false,
        };
        mine && section(me.role, w).is_some()
    }

    /// Sorts the work and applies the filter, keeping the selection on its case.
    fn rework(&mut self, keep: Option<WhistleId>) {
        let role = self.work_role();
        self.work.cases.sort_by_key(|w| {
            (
                section(role, w).unwrap_or(9),
                w.stage_deadline()
                    .map(|d| d.timestamp())
                    .unwrap_or(i64::MAX),
                w.id.0,
            )
        });
        let filter = &self.queue.filter;
        self.work.shown = self
            .work
            .cases
            .iter()
            .filter(|w| filter.is_empty() || filter.matches(w, &self.model.dir, self.lang))
            .cloned()
            .collect();
        let n = self.work.shown.len();
        match keep.and_then(|id| self.work.shown.iter().position(|w| w.id == id)) {
            Some(i) => self.work.list.keep_row(i, n),
            None => {
                let sel = self.work.list.sel;
                self.work.list.place(sel, n);
            }
        }
    }
}

impl WorkScreen {
    /// The token's cases arrived.
    pub fn loaded(app: &mut App, cases: Vec<Whistle>) {
        let keep = Self::current(app);
        app.work.cases = cases.into_iter().filter(|w| app.is_my_work(w)).collect();
        app.work.loaded = true;
        app.rework(keep);
    }

    /// A case changed: updated, added when it became the token's work, dropped when it is no
    /// longer (closed, reassigned away). Newer versions only.
    pub fn changed(app: &mut App, w: &Whistle) {
        if !app.works_own_list() {
            return;
        }
        let keep = Self::current(app);
        let at = app.work.cases.iter().position(|c| c.id == w.id);
        if at.is_some_and(|i| app.work.cases[i].version >= w.version) {
            return;
        }
        let mine = app.is_my_work(w);
        match at {
            Some(i) if mine => app.work.cases[i] = w.clone(),
            Some(i) => {
                app.work.cases.remove(i);
            }
            None if mine => app.work.cases.push(w.clone()),
            None => return,
        }
        app.rework(keep);
    }

    /// The filter changed.
    pub fn refilter(app: &mut App) {
        let keep = Self::current(app);
        app.rework(keep);
    }
}

/// A summary line above the table, then the table.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 1,
        height: body.height.saturating_sub(2),
        ..body
    }
}

impl Screen for WorkScreen {
    const TAB: usize = 0;

    fn fit(app: &mut App) {
        let rows = table_rows(table_area(body(app.size)));
        let n = app.work.shown.len();
        app.work.list.set_rows(rows, n);
    }

    fn moved(app: &mut App, delta: isize, _action: Action) {
        let n = app.work.shown.len();
        app.work.list.moved(delta, n);
    }

    fn on_action(app: &mut App, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::Open => Some(match Self::current(app) {
                Some(id) => app.open_detail(id),
                None => Vec::new(),
            }),
            Action::Back if !app.queue.filter.is_empty() => {
                app.clear_filter();
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn entered(_app: &mut App) -> Vec<Effect> {
        vec![Effect::FetchWork]
    }

    fn current(app: &App) -> Option<WhistleId> {
        app.work.shown.get(app.work.list.sel).map(|w| w.id)
    }

    fn hints(_app: &App) -> Hints {
        let step = Action::Step;
        Hints::Keys(vec![
            step(Step::Acknowledge),
            step(Step::Resolve),
            step(Step::Close),
            step(Step::Reopen),
            Action::Open,
            Action::Filter,
            Action::Command,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(app: &App, f: &mut Frame, area: Rect, theme: Theme) {
        if !app.work.loaded {
            return loading(app, f, area);
        }
        let role = app.work_role();
        let names = section_names(role, app.lang);
        let mut counts = [0usize; 4];
        for w in &app.work.cases {
            if let Some(s) = section(role, w) {
                counts[s] += 1;
            }
        }
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut spans = Vec::new();
        for (i, (name, n)) in names.iter().zip(counts).enumerate() {
            if i > 0 {
                spans.push(Span::raw(" · "));
            }
            let style = match (i, n) {
                (_, 0) => theme.muted(),
                // The section that needs this token's step now.
                (0, _) => theme.warn().add_modifier(Modifier::BOLD),
                _ => bold,
            };
            spans.push(Span::styled(format!("{name} {n}"), style));
        }
        if role == Role::Community {
            if let Some(s) = &app.model.stats {
                let w = &s.wishes.totals;
                let (open, claimed) = (w.total - w.claimed, w.claimed - w.completed);
                spans.push(Span::styled(
                    if app.lang == Lang::Zh {
                        format!(
                            "  │ 心愿 待认领 {open} · 已认领 {claimed} · 已完成 {}（按 3 查看）",
                            w.completed
                        )
                    } else {
                        format!(
                            "  │ wishes: {open} unclaimed · {claimed} claimed · {} done (3)",
                            w.completed
                        )
                    },
                    theme.muted(),
                ));
            }
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect { height: 1, ..area },
        );
        let area = table_area(area);
        let shown = &app.work.shown;
        if shown.is_empty() {
            let msg = match (app.queue.filter.is_empty(), role, app.lang) {
                (false, _, _) => format!("{}: {}", app.lang.t().filter, app.queue.filter_text),
                (true, Role::Community, Lang::Zh) => "本社区没有在办的哨件。".into(),
                (true, Role::Community, Lang::En) => "No open whistles in this community.".into(),
                (true, _, Lang::Zh) => "手上没有待办的哨件。".into(),
                (true, _, Lang::En) => "Nothing waiting for this department.".into(),
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.good()))),
                Rect { height: 1, ..area },
            );
            return;
        }
        let cols = Columns::new(app, area.width);
        app.work.list.table(
            f,
            area,
            header(app, &cols),
            cols.constraints(),
            1,
            shown.len(),
            |i, selected| Some(row(app, shown.get(i)?, &cols, theme, selected)),
        );
    }
}
