//! Webhook subscriptions and how their deliveries are going: lag, failures in a row, paused or
//! not, the last delivery and the last error. `R` resumes a paused one, `T` sends a test
//! message. Refreshed as events arrive (each moves the lag), at most once a second.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Wrap};
use ratatui::Frame;

use shaozi_shared::api::{HookFormat, WebhookInfo, WebhookTestResult};

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::prompt::{Prompt, Then};
use crate::refusal::Refusal;
use crate::text::{fit, width};
use crate::view::{loading, local_time, Theme};

/// The subscriptions' screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhooksScreen {
    /// Its rows on screen.
    pub list: ListView,
    /// The subscriptions, once loaded.
    pub items: Option<Vec<WebhookInfo>>,
    /// Why they could not be loaded (a viewer may not see them).
    pub failed: Option<String>,
}

/// How a subscription stands, for its state column: 0 delivering, 1 retrying, 2 paused, 3
/// held for want of an owner (its token revoked or expired).
fn state(w: &WebhookInfo) -> usize {
    if !w.health.owner.active() {
        3
    } else if w.health.paused {
        2
    } else if w.health.failures > 0 {
        1
    } else {
        0
    }
}

impl WebhooksScreen {
    /// The selected subscription; none while the list could not be read (what is drawn then is
    /// why, and a key must not act on a row that is not shown).
    fn selected(&self) -> Option<&WebhookInfo> {
        if self.failed.is_some() {
            return None;
        }
        self.items.as_ref()?.get(self.list.sel)
    }

    /// The list arrived (or could not be read).
    pub fn loaded(&mut self, lang: Lang, r: Result<Vec<WebhookInfo>, Refusal>) {
        match r {
            Ok(items) => {
                // The selection stays on its subscription when others come and go.
                let was = self.selected().map(|w| w.id.clone());
                let at = was
                    .and_then(|id| items.iter().position(|w| w.id == id))
                    .unwrap_or(self.list.sel);
                let n = items.len();
                self.items = Some(items);
                self.failed = None;
                self.list.place(at.min(n.saturating_sub(1)), n);
            }
            // A role that may not see them is told so in its language, not the server's words.
            Err(r) if r.status == 403 => self.failed = Some(lang.t().hooks.not_yours.to_string()),
            Err(r) => self.failed = Some(r.detail),
        }
    }

    /// A resume was answered.
    pub fn resumed(
        &mut self,
        lang: Lang,
        id: &str,
        r: Result<Box<WebhookInfo>, Refusal>,
    ) -> Vec<Out> {
        let zh = lang == Lang::Zh;
        match r {
            Ok(w) => {
                if let Some(row) = self
                    .items
                    .as_mut()
                    .and_then(|items| items.iter_mut().find(|x| x.id == w.id))
                {
                    *row = *w;
                }
                vec![
                    Out::Say(if zh {
                        format!("{id} 已恢复推送：从暂停处的那条事件接着送")
                    } else {
                        format!("{id} resumed: delivery goes on from the event it stopped at")
                    }),
                    Out::Fx(Effect::FetchWebhooks),
                ]
            }
            Err(r) => {
                vec![Out::Warn(if zh {
                    format!("{id} 恢复失败：{}", r.detail)
                } else {
                    format!("{id} could not be resumed: {}", r.detail)
                })]
            }
        }
    }

    /// A test message was sent.
    pub fn tested(&self, lang: Lang, id: &str, r: Result<WebhookTestResult, Refusal>) -> Vec<Out> {
        let zh = lang == Lang::Zh;
        let said = match r {
            Ok(t) if t.delivered => Out::Say(if zh {
                format!("{id} 测试消息已送达")
            } else {
                format!("{id}: the test message was delivered")
            }),
            Ok(t) => {
                let why = crate::words::delivery_failure(lang, t.failure.as_ref(), &t.detail);
                Out::Warn(if zh {
                    format!("{id} 测试消息未送达：{why}")
                } else {
                    format!("{id}: the test message was not delivered: {why}")
                })
            }
            Err(r) => Out::Warn(if zh {
                format!("{id} 无法发送测试：{}", r.detail)
            } else {
                format!("{id}: could not send a test: {}", r.detail)
            }),
        };
        vec![said]
    }
}

impl Screen for WebhooksScreen {
    fn tab(&self) -> usize {
        5
    }

    fn fit(&mut self, cx: &Context) {
        let rows = table_rows(body(cx.size));
        let n = self.items.as_ref().map_or(0, Vec::len);
        self.list.set_rows(rows, n);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let n = self.items.as_ref().map_or(0, Vec::len);
        self.list.moved(delta, n);
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        let zh = cx.lang == Lang::Zh;
        match action {
            Action::WebhookResume => {
                let Some(w) = self.selected() else {
                    return Some(vec![Out::Say(cx.lang.t().hooks.nothing.to_string())]);
                };
                if !w.health.paused {
                    let id = w.id.clone();
                    return Some(vec![Out::Say(if zh {
                        format!("{id} 没有暂停，无需恢复")
                    } else {
                        format!("{id} is not paused; nothing to resume")
                    })]);
                }
                Some(vec![Out::Fx(Effect::ResumeWebhook(w.id.clone()))])
            }
            // All of a subscription in one message, wrapped when long: where it goes, for which
            // part of the city, and its last error whole (the row cuts it).
            Action::Open => Some(
                self.selected()
                    .map(|w| Out::Say(about(cx, w)))
                    .into_iter()
                    .collect(),
            ),
            Action::WebhookTest => {
                let Some(w) = self.selected() else {
                    return Some(vec![Out::Say(cx.lang.t().hooks.nothing.to_string())]);
                };
                let id = w.id.clone();
                Some(vec![
                    Out::Say(if zh {
                        format!("正在向 {id} 发送测试消息…")
                    } else {
                        format!("sending {id} a test message…")
                    }),
                    Out::Fx(Effect::TestWebhook(id)),
                ])
            }
            // Nothing more is sent once deleted, and a robot's URL is not shown again: asked.
            Action::Delete => {
                let Some(w) = self.selected() else {
                    return Some(vec![Out::Say(cx.lang.t().hooks.nothing.to_string())]);
                };
                let question = if zh {
                    format!("删除订阅 {}「{}」？删除后不再推送，不能恢复", w.id, w.name)
                } else {
                    format!(
                        "Delete {} ({})? Nothing more is sent, and it cannot be undone",
                        w.id, w.name
                    )
                };
                Some(vec![Out::Prompt(Prompt::Sure {
                    question,
                    then: Then::DeleteWebhook(w.id.clone()),
                })])
            }
            _ => None,
        }
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        vec![Out::Fx(Effect::FetchWebhooks)]
    }

    fn hints(&self, _cx: &Context) -> Hints {
        let any = self.items.as_ref().is_some_and(|i| !i.is_empty());
        let mut keys = vec![Action::New];
        if any {
            keys = vec![
                Action::Open,
                Action::New,
                Action::WebhookResume,
                Action::WebhookTest,
                Action::Delete,
            ];
        }
        keys.extend([Action::NextView, Action::Help, Action::Quit]);
        Hints::Keys(keys)
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let t = &cx.lang.t().hooks;
        if let Some(why) = &self.failed {
            f.render_widget(
                Paragraph::new(why.as_str())
                    .style(theme.warn())
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let Some(items) = &self.items else {
            return loading(cx.lang, f, area);
        };
        if items.is_empty() {
            f.render_widget(Paragraph::new(t.empty).wrap(Wrap { trim: true }), area);
            return;
        }
        // Fixed columns as wide as their header or their widest cell; the name and the
        // reason share what is left. On a narrow terminal the event types and the last
        // delivery give way: what is wrong matters more.
        let narrow = area.width < 100;
        let col = |i: usize, cells: &mut dyn Iterator<Item = usize>| -> u16 {
            cells.max().unwrap_or(0).max(width(t.cols[i])) as u16
        };
        let id_w = col(0, &mut items.iter().map(|w| width(&w.id)));
        let fmt_w = col(2, &mut items.iter().map(|w| width(format_name(w.format))));
        let ev_w = col(3, &mut items.iter().map(|w| width(&events(w)))).min(24);
        let lag_w = col(4, &mut items.iter().map(|w| w.health.lag.to_string().len()));
        let fail_w = col(
            5,
            &mut items.iter().map(|w| w.health.failures.to_string().len()),
        );
        let state_w = col(6, &mut t.states.iter().map(|s| width(s)));
        let when_w = col(7, &mut std::iter::once(11));
        let mut fixed = id_w + fmt_w + lag_w + fail_w + state_w + 6;
        if !narrow {
            fixed += ev_w + when_w + 2;
        }
        let rest = area.width.saturating_sub(fixed + 2);
        let name_w = if narrow { rest * 2 / 5 } else { rest / 3 }.max(8);
        let why_w = rest.saturating_sub(name_w);
        // (header index, width) of the columns shown.
        let mut shown = vec![(0, id_w), (1, name_w), (2, fmt_w)];
        if !narrow {
            shown.push((3, ev_w));
        }
        shown.extend([(4, lag_w), (5, fail_w), (6, state_w)]);
        if !narrow {
            shown.push((7, when_w));
        }
        shown.push((8, why_w));
        let widths = shown.iter().map(|(_, w)| Constraint::Length(*w)).collect();
        let header = Row::new(shown.iter().map(|(i, _)| Line::from(t.cols[*i])))
            .style(Style::default().add_modifier(Modifier::BOLD));
        let dim = cx.stale();
        self.list
            .table(f, area, header, widths, 1, items.len(), |i, sel| {
                let w = &items[i];
                let st = state(w);
                let said = w.health.last_error.as_deref().map(|e| {
                    crate::words::delivery_failure(cx.lang, w.health.last_failure.as_ref(), e)
                });
                let why = match (&said, w.health.next_retry_at) {
                    _ if st == 3 => crate::words::owner_lapsed(cx.lang, w),
                    (Some(e), Some(next)) if !w.health.paused => {
                        let at = local_time(next, cx.now, cx.tz);
                        match cx.lang {
                            Lang::Zh => format!("{e}（{at} 重试）"),
                            Lang::En => format!("{e} (retry {at})"),
                        }
                    }
                    (Some(e), _) => e.clone(),
                    (None, _) => String::new(),
                };
                let cell = |c: usize| -> String {
                    match c {
                        0 => w.id.clone(),
                        1 => fit(&w.name, usize::from(name_w)),
                        2 => format_name(w.format).into(),
                        3 => fit(&events(w), usize::from(ev_w)),
                        4 => w.health.lag.to_string(),
                        5 => w.health.failures.to_string(),
                        6 => t.states[st].into(),
                        7 => w
                            .health
                            .last_delivered_at
                            .map(|d| local_time(d, cx.now, cx.tz))
                            .unwrap_or_else(|| "—".into()),
                        _ => fit(&why, usize::from(why_w)),
                    }
                };
                let mut style = match st {
                    2 | 3 => theme.alert(),
                    1 => theme.warn(),
                    _ => Style::default(),
                };
                if dim {
                    style = style.add_modifier(Modifier::DIM);
                }
                if sel {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                Some(Row::new(shown.iter().map(|(c, _)| Line::from(cell(*c)))).style(style))
            });
    }
}

fn format_name(f: HookFormat) -> &'static str {
    match f {
        HookFormat::Json => "json",
        HookFormat::Wecom => "企业微信",
        HookFormat::Dingtalk => "钉钉",
    }
}

/// The event types, shortened: `whistle.overdue` reads `overdue`.
fn events(w: &WebhookInfo) -> String {
    w.events
        .iter()
        .map(|e| e.strip_prefix("whistle.").unwrap_or(e))
        .collect::<Vec<_>>()
        .join(",")
}

/// Where a subscription's events come from, named from the directory.
fn scope_name(cx: &Context, scope: &shaozi_shared::Scope) -> String {
    use shaozi_shared::Scope;
    let dir = &cx.model.dir;
    match (scope, cx.lang) {
        (Scope::City, Lang::Zh) => "全市".to_string(),
        (Scope::City, Lang::En) => "the whole city".to_string(),
        (Scope::Street(s), _) => dir.street(*s),
        (Scope::Community(c), _) => dir.community(*c),
        (Scope::Department(d), _) => dir.department(Some(*d)),
    }
}

/// Everything about a subscription, in one message.
fn about(cx: &Context, w: &WebhookInfo) -> String {
    let zh = cx.lang == Lang::Zh;
    let mut parts = vec![
        format!("{} {}", w.id, w.name),
        w.url.clone(),
        scope_name(cx, &w.scope),
        format_name(w.format).to_string(),
        events(w),
    ];
    parts.push(if zh {
        format!("由 {} 建立", w.created_by)
    } else {
        format!("made by {}", w.created_by)
    });
    if let Some(e) = &w.health.last_error {
        parts.push(if zh {
            format!("最近的错误：{e}")
        } else {
            format!("last error: {e}")
        });
    }
    parts.join(" · ")
}
