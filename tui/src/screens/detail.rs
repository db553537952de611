//! One whistle: everything about it, then its timeline. Opened from any list (or `:goto`); Esc
//! goes back to where it was opened from.

mod similar;

use std::cell::Cell;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use shaozi_shared::api::{Step, WhistleDetail};
use shaozi_shared::{DepartmentId, EventKind, TimelineEntry, Whistle, WhistleId, WhistleStatus};

use super::{Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::message::{Effect, Out, View};
use crate::refusal::Refusal;
use crate::text::{pad, width};
use crate::view::{local_time, short_span, Theme};

/// The detail's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailScreen {
    /// The whistle shown, and its data once loaded.
    pub shown: Option<(WhistleId, Option<Box<WhistleDetail>>)>,
    /// Lines scrolled.
    pub scroll: usize,
    /// Where Esc goes back to.
    pub back: View,
    /// Why the shown whistle could not be loaded.
    pub failed: Option<String>,
    /// How far it can scroll: its lines (wrapped as drawn) less the rows on screen, recorded
    /// when drawn.
    pub last_scroll: Cell<usize>,
    /// The cases like the one shown, once the server has said.
    pub similar: Option<(WhistleId, Vec<shaozi_shared::api::Similar>)>,
}

impl Default for DetailScreen {
    fn default() -> Self {
        DetailScreen {
            shown: None,
            scroll: 0,
            back: View::Queue,
            failed: None,
            last_scroll: Cell::new(usize::MAX),
            similar: None,
        }
    }
}

impl DetailScreen {
    /// Opens a whistle (what was loaded of it stays until the fresh copy arrives), coming back
    /// to `from`.
    pub fn open(&mut self, id: WhistleId, from: View) -> Vec<Effect> {
        if from != View::Detail {
            self.back = from;
        }
        self.scroll = 0;
        self.last_scroll.set(usize::MAX);
        let cached = self.shown.take().filter(|d| d.0 == id).and_then(|d| d.1);
        self.shown = Some((id, cached));
        self.failed = None;
        if self.similar.as_ref().is_none_or(|s| s.0 != id) {
            self.similar = None;
        }
        vec![Effect::FetchDetail(id), Effect::FetchSimilar(id)]
    }

    /// The cases like `id` arrived; kept while it is the one shown.
    pub fn similar_loaded(&mut self, id: WhistleId, similar: Vec<shaozi_shared::api::Similar>) {
        if self.shown.as_ref().is_some_and(|s| s.0 == id) {
            self.similar = Some((id, similar));
        }
    }

    /// The closest case like the one shown, if any (the original a duplicate is rejected onto).
    pub fn closest(&self, id: WhistleId) -> Option<WhistleId> {
        self.similar
            .as_ref()
            .filter(|s| s.0 == id)
            .and_then(|s| s.1.first())
            .map(|s| s.whistle.id)
    }

    /// A whistle's detail could not be loaded: said, and shown in its place unless what was
    /// loaded before still stands.
    pub fn failed(&mut self, lang: Lang, id: WhistleId, r: &Refusal) -> Vec<Out> {
        let Some((shown, data)) = &mut self.shown else {
            return Vec::new();
        };
        if *shown != id {
            return Vec::new();
        }
        let missing = r.status == 404 || r.status == 403;
        if data.is_some() && !missing {
            // What was loaded stays; a refresh failed.
            return Vec::new();
        }
        let text = match (missing, lang) {
            (true, Lang::Zh) => format!("找不到 {id}：不存在，或不在你的范围内"),
            (true, Lang::En) => {
                format!("{id} not found: it does not exist, or is outside your scope")
            }
            (false, Lang::Zh) => format!("{id} 加载失败：{}（{}）", r.detail, r.status),
            (false, Lang::En) => format!("{id} could not be loaded: {} ({})", r.detail, r.status),
        };
        self.failed = Some(text.clone());
        vec![Out::Warn(text)]
    }

    /// A whistle's detail arrived; when it is the one shown, it is kept and its whistle
    /// returned (for the queue to take the newer copy).
    pub fn loaded(&mut self, d: Box<WhistleDetail>) -> Option<Whistle> {
        let (id, slot) = self.shown.as_mut()?;
        if *id != d.whistle.id {
            return None;
        }
        let w = d.whistle.clone();
        *slot = Some(d);
        Some(w)
    }
}

fn changed(cx: &Context, w: &Whistle, e: &TimelineEntry, level: u32) -> String {
    let zh = cx.lang == Lang::Zh;
    let t = cx.lang.t();
    match e.kind {
        EventKind::WhistleDispatched | EventKind::WhistleReassigned => e
            .department_id
            .as_deref()
            .and_then(|d| d.parse::<DepartmentId>().ok())
            .map(|d| format!("→ {}", cx.model.dir.department(Some(d))))
            .unwrap_or_default(),
        EventKind::WhistleClosed => match (w.satisfaction, zh) {
            (Some(n), true) => format!("评价 {}（{n} 分）", crate::words::stars(n)),
            (Some(n), false) => format!("rated {} ({n}/5)", crate::words::stars(n)),
            (None, _) => String::new(),
        },
        EventKind::WhistleRejected => match (w.duplicate_of, zh) {
            (Some(o), true) => format!("重复件，原件 {o}"),
            (Some(o), false) => format!("duplicate of {o}"),
            (None, _) => String::new(),
        },
        EventKind::WhistleEscalated => {
            let why = match (e.actor.role == "system", zh) {
                (true, true) => "（超时自动）",
                (true, false) => " (deadline passed)",
                _ => "",
            };
            if zh {
                format!("→ {level} 级（{}）{why}", t.level(level))
            } else {
                format!("→ level {level} ({}){why}", t.level(level))
            }
        }
        // Who reported or finished its part at that moment, on a joint case.
        EventKind::WhistleAssistReported | EventKind::WhistleAssistDone => {
            let done = e.kind == EventKind::WhistleAssistDone;
            let who: Vec<String> = w
                .calls
                .iter()
                .filter(|c| {
                    if done {
                        c.done_at == Some(e.at)
                    } else {
                        c.reported_at == Some(e.at)
                    }
                })
                .map(|c| cx.model.dir.department(Some(c.department_id)))
                .collect();
            who.join("、")
        }
        EventKind::WhistleOverdue if !w.missed_at(e.at).is_empty() => {
            let who: Vec<String> = w
                .missed_at(e.at)
                .iter()
                .map(|d| cx.model.dir.department(Some(*d)))
                .collect();
            if zh {
                format!("{} 未按时报到", who.join("、"))
            } else {
                format!("{} missed the deadline to report", who.join(", "))
            }
        }
        EventKind::WhistleOverdue => {
            let resolve = e.status.as_deref() == Some("acknowledged");
            // The server notes the deadline as "(YYYY-MM-DD HH:MM UTC)".
            let due = e
                .note
                .as_deref()
                .and_then(|n| n.split_once('(').map(|(_, r)| r))
                .and_then(|r| r.split_once(" UTC)").map(|(d, _)| d))
                .and_then(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").ok())
                .map(|d| local_time(d.and_utc(), cx.now, cx.tz));
            let due = due.map(|d| format!("（{d}）")).unwrap_or_default();
            match (resolve, zh) {
                (true, true) => format!("办结时限{due}已过"),
                (false, true) => format!("报到时限{due}已过"),
                (true, false) => format!("the deadline to resolve{due} passed"),
                (false, false) => format!("the deadline to report for duty{due} passed"),
            }
        }
        // The server writes the new deadline into the note as "YYYY-MM-DD HH:MM UTC".
        EventKind::WhistleExtensionRequested | EventKind::WhistleExtensionGranted => {
            let until = e
                .note
                .as_deref()
                .and_then(|n| n.split_once(" UTC").map(|(d, _)| d))
                .and_then(|d| d.get(d.len().saturating_sub(16)..))
                .and_then(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").ok())
                .map(|d| local_time(d.and_utc(), cx.now, cx.tz))
                .unwrap_or_default();
            match (e.kind == EventKind::WhistleExtensionGranted, zh) {
                (true, true) => format!("办结时限 → {until}"),
                (true, false) => format!("resolve by → {until}"),
                (false, true) => format!("申请至 {until}"),
                (false, false) => format!("asks until {until}"),
            }
        }
        EventKind::WhistleDuplicateLinked => {
            let dup = e
                .note
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .unwrap_or("");
            if zh {
                format!("{dup} 作为本件的重复件被驳回")
            } else {
                format!("{dup} was rejected as a duplicate of this one")
            }
        }
        _ => String::new(),
    }
}

impl Screen for DetailScreen {
    fn tab(&self) -> usize {
        3
    }

    fn fit(&mut self, _cx: &Context) {}

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        // Scrolling stops where the last line is on screen.
        let end = self.last_scroll.get().min(10_000) as isize;
        self.scroll = (self.scroll as isize + delta).clamp(0, end) as usize;
    }

    fn on_action(&mut self, _cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::Back => Some(vec![Out::Show(self.back)]),
            _ => None,
        }
    }

    fn current(&self) -> Option<WhistleId> {
        self.shown.as_ref().map(|d| d.0)
    }

    fn hints(&self, _cx: &Context) -> Hints {
        Hints::Keys(vec![
            Action::Back,
            Action::Step(Step::Dispatch),
            Action::Step(Step::Acknowledge),
            Action::Step(Step::Resolve),
            Action::Step(Step::Close),
            Action::Step(Step::Reopen),
            Action::Step(Step::Reject),
            Action::Step(Step::Escalate),
            Action::Step(Step::Overrule),
            Action::Step(Step::ApproveExtension),
            Action::Step(Step::DenyExtension),
            Action::Command,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let Some((id, data)) = &self.shown else {
            f.render_widget(
                Paragraph::new(cx.lang.t().nothing),
                Rect { height: 1, ..area },
            );
            return;
        };
        let Some(d) = data else {
            let text = match &self.failed {
                Some(why) => why.clone(),
                None => format!("{id} · {}", cx.lang.t().loading),
            };
            f.render_widget(
                Paragraph::new(text).wrap(Wrap { trim: false }),
                Rect {
                    height: 3.min(area.height),
                    ..area
                },
            );
            return;
        };
        let t = cx.lang.t();
        let zh = cx.lang == Lang::Zh;
        let w = &d.whistle;
        let dir = &cx.model.dir;
        let label_w = t.detail.fields.iter().map(|l| width(l)).max().unwrap_or(8) + 1;
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines = vec![
            Line::from(vec![Span::styled(format!("{}  {}", w.id, w.title), bold)]),
            Line::from(w.description.clone()),
        ];
        // A case that is resolved or finished races no deadline: its times, no countdown.
        let live = !matches!(
            w.status,
            WhistleStatus::Resolved | WhistleStatus::Closed | WhistleStatus::Rejected
        );
        // The deadline to report for duty is raced only until someone reports.
        let reporting = w.status.is_unanswered();
        let deadline = |due: chrono::DateTime<chrono::Utc>, raced: bool| {
            if !live || !raced {
                return local_time(due, cx.now, cx.tz);
            }
            let left = due - cx.now;
            let rel = if left < chrono::Duration::zero() {
                format!("✗ {}", short_span(left))
            } else {
                short_span(left)
            };
            format!("{}  ({rel})", local_time(due, cx.now, cx.tz))
        };
        let assisting: Vec<String> = w
            .assisting
            .iter()
            .map(|a| dir.department(Some(*a)))
            .collect();
        // The category's questions, answered with the choices' names where it has them.
        let questions = dir
            .categories
            .iter()
            .find(|c| c.code == w.category)
            .map(|c| c.questions.as_slice())
            .unwrap_or_default();
        let answers: Vec<String> = w
            .attributes
            .iter()
            .map(|(code, values)| {
                let q = questions.iter().find(|q| &q.code == code);
                let shown: Vec<&str> = values
                    .iter()
                    .map(|v| {
                        q.and_then(|q| q.values.iter().find(|c| &c.key == v))
                            .map_or(v.as_str(), |c| c.name.as_str())
                    })
                    .collect();
                format!("{code}: {}", shown.join("、"))
            })
            .collect();
        let resident = w
            .reporter
            .as_ref()
            .map(|r| {
                [&r.name, &r.phone, &r.email]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        let values: [String; 17] = [
            t.status(w.status).to_string() + if w.overdue { " ✗" } else { "" },
            t.urgency[usize::from(w.urgency != shaozi_shared::Urgency::Urgent)].to_string(),
            dir.category(&w.category, cx.lang),
            dir.community(w.community_id),
            dir.street(w.street_id),
            dir.department(w.department_id),
            assisting.join("、"),
            w.address.clone().unwrap_or_default(),
            deadline(w.respond_by, reporting)
                + if w.respond_late {
                    if zh {
                        " 迟报"
                    } else {
                        " late"
                    }
                } else {
                    ""
                },
            deadline(w.resolve_by, true)
                + if w.resolve_late {
                    if zh {
                        " 超期"
                    } else {
                        " late"
                    }
                } else {
                    ""
                },
            format!("{} ({})", w.escalation_level, t.level(w.escalation_level)),
            w.staff.join("、"),
            w.reply.clone().unwrap_or_default(),
            w.satisfaction
                .map(|s| "★".repeat(usize::from(s)))
                .unwrap_or_default(),
            answers.join("；"),
            w.media_url.clone().unwrap_or_default(),
            resident,
        ];
        for (label, value) in t.detail.fields.iter().zip(values) {
            if value.is_empty() {
                continue;
            }
            let style = if value.contains('✗') {
                theme.alert()
            } else {
                Style::default()
            };
            lines.push(Line::from(vec![
                Span::styled(pad(label, label_w), theme.muted()),
                Span::styled(value, style),
            ]));
        }
        lines.extend(joint_lines(cx, w, label_w, theme));
        lines.extend(middle_lines(cx, w, label_w, theme));
        if let Some((sid, similar)) = &self.similar {
            if *sid == w.id {
                lines.extend(similar::lines(cx, similar, theme));
            }
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(t.detail.timeline, bold)));
        let mut level = 0;
        for e in &d.timeline {
            if e.kind == EventKind::WhistleEscalated {
                level += 1;
            }
            let system = e.actor.role == "system";
            let who = match (system, zh) {
                (true, true) => "系统".to_string(),
                (true, false) => "system".to_string(),
                (false, _) => e.actor.name.clone(),
            };
            let mut spans = vec![
                Span::styled(
                    format!("{}  ", local_time(e.at, cx.now, cx.tz)),
                    theme.muted(),
                ),
                Span::styled(
                    // At least one space after the event's name, however long it is.
                    crate::text::pad(t.event(e.kind, zh), 10.max(width(t.event(e.kind, zh)) + 1)),
                    if e.kind == EventKind::WhistleOverdue {
                        theme.alert()
                    } else {
                        bold
                    },
                ),
            ];
            let what = changed(cx, w, e, level);
            if !what.is_empty() {
                spans.push(Span::styled(format!("{what}  "), bold));
            }
            spans.push(Span::styled(who, theme.muted()));
            // The clock's notes are the server's English; what they say is worded above, as
            // are the deadline an extension note starts with and an upheld return's words.
            let note = match e.kind {
                EventKind::WhistleReturnUpheld => None,
                EventKind::WhistleExtensionRequested | EventKind::WhistleExtensionGranted => e
                    .note
                    .as_deref()
                    .map(|n| n.split_once(": ").map_or("", |(_, rest)| rest)),
                _ => e.note.as_deref(),
            };
            if let Some(n) = note.filter(|n| !system && !n.is_empty()) {
                spans.push(Span::raw(format!("：{n}")));
            }
            lines.push(Line::from(spans));
        }
        let p = Paragraph::new(lines).wrap(Wrap { trim: false });
        let last = p
            .line_count(area.width)
            .saturating_sub(usize::from(area.height));
        self.last_scroll.set(last);
        let p = p.scroll((self.scroll.min(last).min(u16::MAX as usize) as u16, 0));
        f.render_widget(p, area);
    }
}

/// What is waiting in the middle of a case, and what happened there: a return or a request
/// for more time with the keys that answer it, urges, extensions, call-backs, the source.
/// A joint case (联合报到): where and when to report, then each called department with its
/// part, whether and when it reported and who came, missed its deadline, or finished its part.
fn joint_lines(cx: &Context, w: &Whistle, label_w: usize, theme: Theme) -> Vec<Line<'static>> {
    let zh = cx.lang == Lang::Zh;
    if w.calls.len() < 2 && w.muster.is_none() {
        return Vec::new();
    }
    let at = |t| local_time(t, cx.now, cx.tz);
    let (came, called) = w.reported();
    let mut head = if zh {
        format!("{came}/{called} 已报到")
    } else {
        format!("{came} of {called} reported")
    };
    if let Some(m) = &w.muster {
        head.push_str(&if zh {
            format!(" · {} {} 前", m.place, at(m.at))
        } else {
            format!(" · at {} by {}", m.place, at(m.at))
        });
    }
    let label = if zh { "联合报到" } else { "Joint call" };
    let mut out = vec![Line::from(vec![
        Span::styled(pad(label, label_w), theme.muted()),
        Span::raw(head),
    ])];
    for c in &w.calls {
        let role = match (c.role, zh) {
            (shaozi_shared::whistle::CallRole::Lead, true) => "牵头",
            (shaozi_shared::whistle::CallRole::Assisting, true) => "协办",
            (shaozi_shared::whistle::CallRole::Lead, false) => "lead",
            (shaozi_shared::whistle::CallRole::Assisting, false) => "assisting",
        };
        let name = cx.model.dir.department(Some(c.department_id));
        let late = if c.late {
            if zh {
                " 迟报"
            } else {
                " late"
            }
        } else {
            ""
        };
        let (state, alert) = match (c.reported_at, c.missed_at) {
            (Some(t), _) => (
                if zh {
                    format!("已报到 {}{late} {}", at(t), c.staff.join("、"))
                } else {
                    format!("reported {}{late} {}", at(t), c.staff.join(", "))
                },
                false,
            ),
            (None, Some(_)) => (
                if zh {
                    format!("✗ 未按时报到（时限 {}）", at(c.report_by))
                } else {
                    format!("✗ missed its deadline ({})", at(c.report_by))
                },
                true,
            ),
            (None, None) => (
                if zh {
                    format!("待报到（时限 {}）", at(c.report_by))
                } else {
                    format!("to report by {}", at(c.report_by))
                },
                false,
            ),
        };
        let mut spans = vec![
            Span::raw(" ".repeat(label_w)),
            Span::styled(
                format!("{name}（{role}）  "),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                state,
                if alert {
                    theme.alert()
                } else {
                    Style::default()
                },
            ),
        ];
        if let (Some(t), Some(n)) = (c.done_at, &c.done_note) {
            spans.push(Span::raw(if zh {
                format!(" · {} 完成：{n}", at(t))
            } else {
                format!(" · done {}: {n}", at(t))
            }));
        }
        out.push(Line::from(spans));
    }
    out
}

fn middle_lines(cx: &Context, w: &Whistle, label_w: usize, theme: Theme) -> Vec<Line<'static>> {
    let zh = cx.lang == Lang::Zh;
    let key = |step: Step| {
        cx.keymap
            .hint_key(Action::Step(step))
            .filter(|_| cx.offers(step))
            .map(|k| format!("{k} {}", cx.lang.step(step).hint))
    };
    let keys = |steps: &[Step]| -> String {
        let ks: Vec<String> = steps.iter().filter_map(|s| key(*s)).collect();
        if ks.is_empty() {
            String::new()
        } else {
            format!("  [{}]", ks.join("  "))
        }
    };
    let mut out = Vec::new();
    let mut line = |label: &str, value: String, alert: bool| {
        out.push(Line::from(vec![
            Span::styled(pad(label, label_w), theme.muted()),
            Span::styled(
                value,
                if alert {
                    theme.alert()
                } else {
                    Style::default()
                },
            ),
        ]));
    };
    if let Some(r) = &w.pending_return {
        let who = cx.model.dir.department(Some(r.department_id));
        let at = local_time(r.at, cx.now, cx.tz);
        let answer = keys(&[Step::Dispatch, Step::Overrule]);
        line(
            if zh { "退单" } else { "Returned" },
            if zh {
                format!("{who} {at} 退回：{}{answer}", r.reason)
            } else {
                format!("by {who} at {at}: {}{answer}", r.reason)
            },
            true,
        );
    }
    if let Some(x) = &w.pending_extension {
        let until = local_time(x.until, cx.now, cx.tz);
        let answer = keys(&[Step::ApproveExtension, Step::DenyExtension]);
        line(
            if zh { "申请延期" } else { "Asks until" },
            if zh {
                format!("至 {until}：{}{answer}", x.reason)
            } else {
                format!("{until}: {}{answer}", x.reason)
            },
            true,
        );
    }
    if w.extensions_granted + w.extensions_denied > 0 {
        line(
            if zh { "延期" } else { "Extensions" },
            if zh {
                format!(
                    "批准 {} 次，不准 {} 次",
                    w.extensions_granted, w.extensions_denied
                )
            } else {
                format!(
                    "{} granted, {} denied",
                    w.extensions_granted, w.extensions_denied
                )
            },
            false,
        );
    }
    if w.urges > 0 {
        let last = w
            .urged_at
            .map(|t| local_time(t, cx.now, cx.tz))
            .unwrap_or_default();
        line(
            if zh { "催办" } else { "Urged" },
            if zh {
                format!("{} 次，最近 {last}", w.urges)
            } else {
                format!("{} times, last {last}", w.urges)
            },
            false,
        );
    }
    if w.returns_overruled > 0 || !w.returns_upheld.is_empty() {
        line(
            if zh { "退单记录" } else { "Returns" },
            if zh {
                format!(
                    "核准 {} 次，驳回 {} 次",
                    w.returns_upheld.len(),
                    w.returns_overruled
                )
            } else {
                format!(
                    "{} upheld, {} overruled",
                    w.returns_upheld.len(),
                    w.returns_overruled
                )
            },
            false,
        );
    }
    for c in &w.callbacks {
        let at = local_time(c.at, cx.now, cx.tz);
        let outcome = match (c.reached, c.satisfaction, zh) {
            (false, _, true) => "未接通".to_string(),
            (false, _, false) => "not reached".to_string(),
            (true, Some(n), true) => format!("居民评价 {}（{n} 分）", crate::words::stars(n)),
            (true, Some(n), false) => format!("resident rated {} ({n}/5)", crate::words::stars(n)),
            (true, None, true) => "已接通".to_string(),
            (true, None, false) => "reached".to_string(),
        };
        line(
            if zh { "回访" } else { "Call-back" },
            format!("{at} {outcome}：{}", c.note),
            false,
        );
    }
    if w.auto_closed {
        line(
            if zh { "办结" } else { "Closed" },
            if zh {
                "社区超期未确认，自动办结（无评价）".to_string()
            } else {
                "not confirmed in time; closed without a rating".to_string()
            },
            false,
        );
    }
    line(
        if zh { "来源" } else { "Source" },
        crate::words::source(cx.lang, w.source).to_string(),
        false,
    );
    out
}
