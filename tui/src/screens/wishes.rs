//! Residents' micro-wishes: the totals on one line, then every wish still open or claimed,
//! unclaimed first, with the steps the token's role may take on the selected one (a department
//! claims and completes, a community withdraws). `/` narrows it: `未认领`, `社区=梓山`, words.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row};
use ratatui::Frame;

use shaozi_shared::api::Step;
use shaozi_shared::{Wish, WishId, WishStatus};

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::text::{fit, width};
use crate::text::{yuan, yuan_exact};
use crate::view::{loading, short_span, Theme};

/// A narrowing of the wishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WishFilter {
    /// Only this status.
    pub status: Option<WishStatus>,
    /// Community name contains this (or is this id).
    pub community: Option<String>,
    /// Words that must all appear in the id, title, community or claimer.
    pub words: Vec<String>,
}

impl WishFilter {
    /// Parses what was typed after `/` on the wishes screen; an unknown `key=` is an error.
    pub fn parse(s: &str) -> Result<WishFilter, String> {
        let mut f = WishFilter::default();
        for w in s.split_whitespace() {
            let lw = w.to_lowercase();
            let status = match lw.as_str() {
                "unclaimed" | "open" | "未认领" | "待认领" => Some(WishStatus::Open),
                "claimed" | "已认领" => Some(WishStatus::Claimed),
                "completed" | "done" | "已完成" => Some(WishStatus::Completed),
                _ => None,
            };
            if let Some(s) = status {
                f.status = Some(s);
            } else if let Some((k, v)) = lw.split_once('=') {
                match k {
                    "community" | "社区" => f.community = Some(v.to_string()),
                    _ => return Err(k.to_string()),
                }
            } else {
                f.words.push(lw);
            }
        }
        Ok(f)
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == WishFilter::default()
    }

    fn matches(&self, w: &Wish, dir: &Directory) -> bool {
        if self.status.is_some_and(|s| s != w.status) {
            return false;
        }
        let community = dir.community(w.community_id).to_lowercase();
        if let Some(c) = &self.community {
            if !(community.contains(c.as_str()) || w.community_id.to_string().to_lowercase() == *c)
            {
                return false;
            }
        }
        let hay = format!(
            "{} {} {} {} {}",
            w.id.to_string().to_lowercase(),
            w.title.to_lowercase(),
            community,
            w.claimer.as_deref().unwrap_or("").to_lowercase(),
            dir.department(w.department_id).to_lowercase()
        );
        self.words.iter().all(|word| hay.contains(word.as_str()))
    }
}

/// The wishes' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WishesScreen {
    /// The list's rows on screen.
    pub list: ListView,
    /// Every open or claimed wish the token sees.
    pub items: Vec<Wish>,
    /// Those the filter lets through, unclaimed first, oldest first.
    pub shown: Vec<Wish>,
    /// The filter.
    pub filter: WishFilter,
    /// The filter as typed.
    pub filter_text: String,
    /// Whether the first load arrived.
    pub loaded: bool,
}

/// The totals line and the list's header above its rows.
fn table_area(body: Rect) -> Rect {
    Rect {
        y: body.y + 2,
        height: body.height.saturating_sub(2),
        ..body
    }
}

/// Whether a wish belongs on the list (open or claimed).
fn listed(cx: &Context, w: &Wish) -> bool {
    match w.status {
        WishStatus::Open | WishStatus::Claimed => true,
        // A community sees what was done for its residents too.
        WishStatus::Completed => community(cx),
        _ => false,
    }
}

fn community(cx: &Context) -> bool {
    cx.me
        .is_some_and(|m| m.role == shaozi_shared::Role::Community)
}

/// The statuses the wishes list asks the server for: a community's completed ones too.
pub fn statuses(role: Option<shaozi_shared::Role>) -> &'static str {
    match role {
        Some(shaozi_shared::Role::Community) => "open,claimed,completed",
        _ => "open,claimed",
    }
}

impl WishesScreen {
    /// The selected wish.
    pub fn selected(&self) -> Option<&Wish> {
        self.shown.get(self.list.sel)
    }

    /// The wishes arrived.
    pub fn loaded(&mut self, cx: &Context, items: Vec<Wish>) {
        let keep = self.selected().map(|w| w.id);
        self.items = items.into_iter().filter(|w| listed(cx, w)).collect();
        self.loaded = true;
        self.reshow(cx, keep);
    }

    /// A wish changed (an event, or the answer to a step). Newer versions only.
    pub fn changed(&mut self, cx: &Context, w: &Wish) {
        let keep = self.selected().map(|w| w.id);
        let items = &mut self.items;
        match items.iter().position(|x| x.id == w.id) {
            Some(i) if items[i].version >= w.version => return,
            Some(i) if listed(cx, w) => items[i] = w.clone(),
            Some(i) => {
                items.remove(i);
            }
            None if listed(cx, w) => items.push(w.clone()),
            None => return,
        }
        self.reshow(cx, keep);
    }

    /// Applies a filter typed on this screen; says which key it does not know.
    pub fn set_filter(&mut self, cx: &Context, text: &str) -> Result<(), String> {
        let f = WishFilter::parse(text)?;
        self.filter = f;
        self.filter_text = text.trim().to_string();
        let keep = self.selected().map(|w| w.id);
        self.reshow(cx, keep);
        Ok(())
    }

    fn reshow(&mut self, cx: &Context, keep: Option<WishId>) {
        self.items.sort_by_key(|w| (w.status, w.created_at, w.id.0));
        let f = &self.filter;
        let shown: Vec<Wish> = self
            .items
            .iter()
            .filter(|w| f.matches(w, &cx.model.dir))
            .cloned()
            .collect();
        self.shown = shown;
        let n = self.shown.len();
        match keep.and_then(|id| self.shown.iter().position(|w| w.id == id)) {
            Some(i) => self.list.keep_row(i, n),
            None => {
                let sel = self.list.sel;
                self.list.place(sel, n);
            }
        }
    }
}

/// Everything about a wish, in one message.
fn about(cx: &Context, w: &Wish) -> String {
    let zh = cx.lang == Lang::Zh;
    let dir = &cx.model.dir;
    let mut parts = vec![
        format!("{} {}", w.id, w.title),
        dir.community(w.community_id),
        yuan_exact(w.value_fen),
        crate::words::wish_status(cx.lang, w.status).to_string(),
    ];
    if let Some(d) = &w.description {
        parts.push(d.clone());
    }
    let at = |t| crate::view::local_time(t, cx.now, cx.tz);
    parts.push(if zh {
        format!("{} 发布于 {}", w.filed_by, at(w.created_at))
    } else {
        format!("posted by {} at {}", w.filed_by, at(w.created_at))
    });
    let claimer = w
        .claimer
        .clone()
        .or_else(|| w.department_id.map(|d| dir.department(Some(d))));
    match (claimer, w.claimed_at) {
        (Some(c), Some(t)) => parts.push(if zh {
            format!("{c} 认领于 {}", at(t))
        } else {
            format!("claimed by {c} at {}", at(t))
        }),
        (Some(c), None) => parts.push(if zh {
            format!("认领：{c}")
        } else {
            format!("claimed by {c}")
        }),
        _ => {}
    }
    if let Some(t) = w.completed_at {
        parts.push(if zh {
            format!("完成于 {}", at(t))
        } else {
            format!("fulfilled at {}", at(t))
        });
    }
    if let Some(n) = &w.note {
        parts.push(if zh {
            format!("备注：{n}")
        } else {
            format!("note: {n}")
        });
    }
    parts.join(" · ")
}

impl Screen for WishesScreen {
    fn tab(&self) -> usize {
        2
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
            Action::Back if !self.filter.is_empty() => {
                let _ = self.set_filter(cx, "");
                Some(Vec::new())
            }
            // A wish has no screen of its own: Enter says all of it, wrapped when long.
            Action::Open => Some(
                self.selected()
                    .map(|w| Out::Say(about(cx, w)))
                    .into_iter()
                    .collect(),
            ),
            _ => None,
        }
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        vec![Out::Fx(Effect::FetchStats), Out::Fx(Effect::FetchWishes)]
    }

    fn hints(&self, _cx: &Context) -> Hints {
        Hints::Keys(vec![
            Action::Step(Step::Claim),
            Action::Step(Step::Complete),
            Action::Step(Step::Cancel),
            Action::Open,
            Action::New,
            Action::Filter,
            Action::NextView,
            Action::Help,
            Action::Quit,
        ])
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let zh = cx.lang == Lang::Zh;
        if let Some(stats) = &cx.model.stats {
            let w = &stats.wishes.totals;
            let (open, claimed) = (w.total - w.claimed, w.claimed - w.completed);
            let line = if zh {
                format!(
                    "心愿 {} · 待认领 {open} · 已认领 {claimed} · 已完成 {} · 价值 {} / {}",
                    w.total,
                    w.completed,
                    yuan(w.value_completed_fen),
                    yuan(w.value_total_fen)
                )
            } else {
                format!(
                    "{} wishes · {open} unclaimed · {claimed} claimed · {} done · value {} of {}",
                    w.total,
                    w.completed,
                    yuan(w.value_completed_fen),
                    yuan(w.value_total_fen)
                )
            };
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    fit(&line, usize::from(area.width)),
                    Style::default().add_modifier(Modifier::BOLD),
                ))),
                Rect { height: 1, ..area },
            );
        }
        let area = table_area(area);
        if !self.loaded {
            return loading(cx.lang, f, area);
        }
        let shown = &self.shown;
        if shown.is_empty() {
            let msg = match (self.filter.is_empty(), zh) {
                (false, _) => format!("{}: {}", cx.lang.t().filter, self.filter_text),
                (true, true) => "没有待认领或进行中的心愿。".into(),
                (true, false) => "No open or claimed wishes.".into(),
            };
            f.render_widget(
                Paragraph::new(Span::styled(msg, theme.good())),
                Rect { height: 1, ..area },
            );
            return;
        }
        let dir = &cx.model.dir;
        let community_w = dir
            .communities
            .values()
            .map(|c| width(&c.name))
            .max()
            .unwrap_or(8)
            .clamp(8, 16) as u16;
        let (status_w, id_w, age_w, value_w) = (if zh { 6 } else { 9 }, 5u16, 5u16, 9u16);
        let claimer_w = if area.width >= 120 { 20 } else { 12 };
        let title_w = area
            .width
            .saturating_sub(status_w + id_w + community_w + value_w + claimer_w + age_w + 6)
            .max(10);
        let names: [&str; 7] = if zh {
            ["状态", "编号", "社区", "心愿", "价值", "认领", "已过"]
        } else {
            [
                "Status",
                "ID",
                "Community",
                "Wish",
                "Value",
                "Claimed by",
                "Age",
            ]
        };
        let header =
            Row::new(names.map(|h| Span::styled(h, Style::default().add_modifier(Modifier::BOLD))));
        let widths = [
            status_w,
            id_w,
            community_w,
            title_w,
            value_w,
            claimer_w,
            age_w,
        ];
        self.list.table(
            f,
            area,
            header,
            widths.map(Constraint::Length).to_vec(),
            1,
            shown.len(),
            |i, selected| {
                let w = shown.get(i)?;
                let claimer = match (&w.claimer, w.department_id) {
                    (Some(c), _) => c.clone(),
                    (None, Some(d)) => dir.department(Some(d)),
                    (None, None) => String::new(),
                };
                let status_style = if w.status == WishStatus::Open {
                    theme.warn()
                } else {
                    theme.good()
                };
                let mut style = Style::default();
                if cx.stale() {
                    style = style.add_modifier(Modifier::DIM);
                }
                if selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                let c = |i: usize| usize::from(widths[i]);
                Some(
                    Row::new(vec![
                        Span::styled(crate::words::wish_status(cx.lang, w.status), status_style),
                        Span::raw(w.id.to_string()),
                        Span::raw(fit(&dir.community(w.community_id), c(2))),
                        Span::raw(fit(&w.title, c(3))),
                        Span::raw(format!("{:>9}", yuan_exact(w.value_fen))),
                        Span::raw(fit(&claimer, c(5))),
                        Span::raw(short_span(cx.now - w.created_at)),
                    ])
                    .style(style),
                )
            },
        );
    }
}
