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

use super::table::{header, row, Columns, Marks};
use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
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
fn section(cx: &Context, w: &Whistle) -> Option<usize> {
    use WhistleStatus::*;
    let role = work_role(cx);
    // An assisting department that has not reported yet has a case to report on, whatever
    // the lead did.
    let to_report = crate::context::own_department(cx.me)
        .filter(|d| w.department_id != Some(*d))
        .and_then(|d| w.call_of(d))
        .is_some_and(|c| c.reported_at.is_none());
    match (role, w.status) {
        (Role::Department, Dispatched | Acknowledged) if to_report => Some(0),
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

fn work_role(cx: &Context) -> Role {
    cx.me.map_or(Role::Department, |m| m.role)
}

/// Whether a case is the token's work now (its scope, and a status its list holds).
fn is_my_work(cx: &Context, w: &Whistle) -> bool {
    let Some(me) = cx.me else {
        return false;
    };
    let mine = match me.scope {
        Scope::Department(d) => w.department_id == Some(d) || w.assisting.contains(&d),
        Scope::Community(c) => w.community_id == c,
        _ => false,
    };
    mine && section(cx, w).is_some()
}

impl WorkScreen {
    /// Sorts the work and applies the filter, keeping the selection on its case.
    fn rework(&mut self, cx: &Context, keep: Option<WhistleId>) {
        self.cases.sort_by_key(|w| {
            (
                section(cx, w).unwrap_or(9),
                w.stage_deadline()
                    .map(|d| d.timestamp())
                    .unwrap_or(i64::MAX),
                w.id.0,
            )
        });
        let filter = cx.case_filter();
        self.shown = self
            .cases
            .iter()
            .filter(|w| filter.is_none_or(|f| f.is_empty() || f.matches(w, &cx.model.dir, cx.lang)))
            .cloned()
            .collect();
        let n = self.shown.len();
        match keep.and_then(|id| self.shown.iter().position(|w| w.id == id)) {
            Some(i) => self.list.keep_row(i, n),
            None => {
                let sel = self.list.sel;
                self.list.place(sel, n);
            }
        }
    }

    /// The token's cases arrived.
    pub fn loaded(&mut self, cx: &Context, cases: Vec<Whistle>) {
        let keep = self.current();
        self.cases = cases.into_iter().filter(|w| is_my_work(cx, w)).collect();
        self.loaded = true;
        self.rework(cx, keep);
    }

    /// A case changed: updated, added when it became the token's work, dropped when it is no
    /// longer (closed, reassigned away). Newer versions only.
    pub fn changed(&mut self, cx: &Context, w: &Whistle) {
        if !cx
            .me
            .is_some_and(|m| matches!(m.role, Role::Department | Role::Community))
        {
            return;
        }
        let keep = self.current();
        let at = self.cases.iter().position(|c| c.id == w.id);
        if at.is_some_and(|i| self.cases[i].version >= w.version) {
            return;
        }
        let mine = is_my_work(cx, w);
        match at {
            Some(i) if mine => self.cases[i] = w.clone(),
            Some(i) => {
                self.cases.remove(i);
            }
            None if mine => self.cases.push(w.clone()),
            None => return,
        }
        self.rework(cx, keep);
    }

    /// The filter changed.
    pub fn refilter(&mut self, cx: &Context) {
        let keep = self.current();
        self.rework(cx, keep);
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
    fn tab(&self) -> usize {
        0
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(table_area(body(cx.size)));
        let n = self.shown.len();
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.shown.len();
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Open => Some(self.current().map(Out::OpenDetail).into_iter().collect()),
            Action::Back if cx.case_filter().is_some_and(|f| !f.is_empty()) => {
                Some(vec![Out::ClearFilter])
            }
            _ => None,
        }
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        vec![Out::Fx(Effect::FetchWork)]
    }

    fn current(&self) -> Option<WhistleId> {
        self.shown.get(self.list.sel).map(|w| w.id)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        let step = Action::Step;
        Hints::Keys(vec![
            step(Step::Acknowledge),
            step(Step::Resolve),
            step(Step::Close),
            step(Step::Reopen),
            Action::Open,
            Action::New,
            Action::ViewNotices,
            Action::Filter,
            Action::Command,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        if !self.loaded {
            return loading(cx.lang, f, area);
        }
        let role = work_role(cx);
        let names = section_names(role, cx.lang);
        let mut counts = [0usize; 4];
        for w in &self.cases {
            if let Some(s) = section(cx, w) {
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
            if let Some(s) = &cx.model.stats {
                let w = &s.wishes.totals;
                let (open, claimed) = (w.total - w.claimed, w.claimed - w.completed);
                spans.push(Span::styled(
                    if cx.lang == Lang::Zh {
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
        let shown = &self.shown;
        if shown.is_empty() {
            let filtered = cx.cases.filter(|c| !c.filter.is_empty());
            let msg = match (filtered, role, cx.lang) {
                (Some(c), _, _) => format!("{}: {}", cx.lang.t().filter, c.filter_text),
                (None, Role::Community, Lang::Zh) => "本社区没有在办的哨件。".into(),
                (None, Role::Community, Lang::En) => "No open whistles in this community.".into(),
                (None, _, Lang::Zh) => "手上没有待办的哨件。".into(),
                (None, _, Lang::En) => "Nothing waiting for this department.".into(),
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.good()))),
                Rect { height: 1, ..area },
            );
            return;
        }
        let cols = Columns::new(cx, area.width);
        let marks = Marks::of(cx);
        self.list.table(
            f,
            area,
            header(cx, &cols),
            cols.constraints(),
            1,
            shown.len(),
            |i, selected| Some(row(cx, marks, shown.get(i)?, &cols, theme, selected)),
        );
    }
}
