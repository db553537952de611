//! 趋势: what a street leader reads at a glance. Cases filed per week (or month) as bars, every
//! category (or community) with its own sparkline of the last twelve periods, and the hotspots
//! (one kind of problem raised again and again in one place) beside them. ← → move between
//! the series and the hotspots, Enter lists the cases behind a row, `U` counts by community
//! instead of category, `p` by month instead of week.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Row};
use ratatui::Frame;

use shaozi_shared::api::{Hotspot, Hotspots, TrendSeries, Trends};

use super::{body, table_rows, Hints, Screen};
use crate::context::Context;
use crate::keys::Action;
use crate::list::ListView;
use crate::message::{Effect, Out};
use crate::text::fit;
use crate::view::Theme;

/// What the series are by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SeriesBy {
    /// Categories.
    #[default]
    Category,
    /// Communities.
    Community,
}

/// Which list Enter acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pane {
    /// The series.
    #[default]
    Series,
    /// The hotspots.
    Hotspots,
}

/// The trends' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendsScreen {
    /// What the series are by.
    pub by: SeriesBy,
    /// Months rather than weeks.
    pub monthly: bool,
    /// The trends and hotspots, once loaded.
    pub data: Option<Box<(Trends, Hotspots)>>,
    /// Why they could not be loaded.
    pub failed: Option<String>,
    /// Which list is moved in.
    pub pane: Pane,
    /// The series' rows.
    pub series: ListView,
    /// The hotspots' rows.
    pub hotspots: ListView,
}

/// Rows the chart of every case takes (with its line of figures): a third of the screen,
/// within bounds.
fn chart_rows(height: u16) -> u16 {
    (height / 3).clamp(7, 14)
}

/// The screen's parts: title, chart, and the two lists side by side (or one above the other
/// when the terminal is narrow).
struct Parts {
    title: Rect,
    chart: Rect,
    series: Rect,
    hotspots: Rect,
}

fn parts(area: Rect) -> Parts {
    let [title, chart, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(chart_rows(area.height)),
        Constraint::Min(0),
    ])
    .areas(area);
    let [series, hotspots] = if area.width >= 100 {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(rest)
    } else {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(rest)
    };
    Parts {
        title,
        chart,
        series: Rect {
            width: series.width.saturating_sub(1),
            ..series
        },
        hotspots,
    }
}

/// Eight heights of a bar, for a sparkline in text.
const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `v`, scaled to its largest figure (a blank for none at all).
pub fn sparkline(v: &[u64]) -> String {
    let max = v.iter().copied().max().unwrap_or(0);
    v.iter()
        .map(|&x| match (x, max) {
            (0, _) => ' ',
            (_, 0) => ' ',
            (x, m) => TICKS[(x * 8).div_ceil(m).saturating_sub(1).min(7) as usize],
        })
        .collect()
}

fn last_two(v: &[u64]) -> (u64, u64) {
    let n = v.len();
    (
        v.get(n.wrapping_sub(1)).copied().unwrap_or(0),
        v.get(n.wrapping_sub(2)).copied().unwrap_or(0),
    )
}

impl TrendsScreen {
    /// What to ask the server for.
    pub fn fetch(&self) -> Effect {
        Effect::FetchPatterns {
            by: match self.by {
                SeriesBy::Category => "category",
                SeriesBy::Community => "community",
            },
            interval: if self.monthly { "month" } else { "week" },
        }
    }

    /// The answer.
    pub fn loaded(&mut self, answer: Result<Box<(Trends, Hotspots)>, String>) {
        match answer {
            Ok(d) => {
                let (ns, nh) = (d.0.series.len(), d.1.items.len());
                self.data = Some(d);
                self.failed = None;
                let (s, h) = (self.series.sel, self.hotspots.sel);
                self.series.place(s, ns);
                self.hotspots.place(h, nh);
            }
            Err(why) => self.failed = Some(why),
        }
    }

    fn counts(&self) -> (usize, usize) {
        self.data
            .as_ref()
            .map_or((0, 0), |d| (d.0.series.len(), d.1.items.len()))
    }

    /// The search that lists the cases behind the selected row.
    fn drill(&self, cx: &Context) -> Option<String> {
        let d = self.data.as_ref()?;
        // Dates as people read them (the server takes a local date as that day's start).
        match self.pane {
            Pane::Series => {
                let s = d.0.series.get(self.series.sel)?;
                let from = d.0.periods.first()?.start;
                let key = match self.by {
                    SeriesBy::Category => "category",
                    SeriesBy::Community => "community_id",
                };
                Some(format!("{key}={} from={from}", s.key))
            }
            Pane::Hotspots => {
                let h = d.1.items.get(self.hotspots.sel)?;
                Some(format!(
                    "community_id={} category={} from={}",
                    h.community_id,
                    h.category,
                    d.1.from.with_timezone(&cx.tz).date_naive()
                ))
            }
        }
    }

    fn title(&self, cx: &Context) -> String {
        let zh = cx.zh();
        let by = match (self.by, zh) {
            (SeriesBy::Category, true) => "按类别",
            (SeriesBy::Community, true) => "按社区",
            (SeriesBy::Category, false) => "by category",
            (SeriesBy::Community, false) => "by community",
        };
        let span = match self.data.as_ref().map(|d| &d.0.periods) {
            Some(p) if !p.is_empty() => {
                let first = p.first().map(|x| x.start.format("%m-%d").to_string());
                // The last period's last day, in the city's calendar the periods are in.
                let last = p.last().map(|x| {
                    let next = if self.monthly {
                        x.start.checked_add_months(chrono::Months::new(1))
                    } else {
                        x.start.checked_add_signed(chrono::Duration::days(7))
                    };
                    next.and_then(|d| d.pred_opt())
                        .unwrap_or(x.start)
                        .format("%m-%d")
                        .to_string()
                });
                format!(
                    " ({}–{})",
                    first.unwrap_or_default(),
                    last.unwrap_or_default()
                )
            }
            _ => String::new(),
        };
        match (self.monthly, zh) {
            (false, true) => format!("趋势 · 近12周{span} · {by}"),
            (true, true) => format!("趋势 · 近12个月{span} · {by}"),
            (false, false) => format!("Trends · last 12 weeks{span} · {by}"),
            (true, false) => format!("Trends · last 12 months{span} · {by}"),
        }
    }
}

impl Screen for TrendsScreen {
    fn tab(&self) -> usize {
        // Beside the assessment: how the units answered, and what keeps coming back.
        4
    }

    fn fit(&mut self, cx: &Context) {
        let p = parts(body(cx.size));
        let (ns, nh) = self.counts();
        // Under each list's own title line.
        self.series
            .set_rows(table_rows(p.series).saturating_sub(1), ns);
        self.hotspots
            .set_rows(table_rows(p.hotspots).saturating_sub(1), nh);
    }

    fn moved(&mut self, _cx: &Context, delta: isize, _action: Action) {
        let (ns, nh) = self.counts();
        match self.pane {
            Pane::Series => self.series.moved(delta, ns),
            Pane::Hotspots => self.hotspots.moved(delta, nh),
        }
    }

    fn on_action(&mut self, cx: &Context, action: Action) -> Option<Vec<Out>> {
        match action {
            Action::SortNext | Action::SortPrev => {
                self.pane = match self.pane {
                    Pane::Series => Pane::Hotspots,
                    Pane::Hotspots => Pane::Series,
                };
                Some(Vec::new())
            }
            Action::Units => {
                self.by = match self.by {
                    SeriesBy::Category => SeriesBy::Community,
                    SeriesBy::Community => SeriesBy::Category,
                };
                self.data = None;
                self.series.place(0, 0);
                Some(vec![Out::Fx(self.fetch())])
            }
            Action::Period => {
                self.monthly = !self.monthly;
                self.data = None;
                Some(vec![Out::Fx(self.fetch())])
            }
            Action::Open => match self.drill(cx) {
                Some(q) => Some(vec![Out::Search(q)]),
                None => Some(vec![Out::warn_in(
                    cx.lang,
                    "未选中：先用 j/k 选一行",
                    "nothing selected: choose a row with j/k",
                )]),
            },
            Action::Back => Some(vec![Out::Show(cx.home())]),
            _ => None,
        }
    }

    fn entered(&mut self, _cx: &Context) -> Vec<Out> {
        vec![Out::Fx(self.fetch())]
    }

    fn hints(&self, cx: &Context) -> Hints {
        // Its own words: the assessment's names for these keys (sort, units) mean other things.
        Hints::Text(if cx.zh() {
            "Enter 列出案件  ←→ 类别/热点  U 按类别/社区  p 按周/月  Esc 返回  ? 帮助"
        } else {
            "Enter cases  ←→ series/hotspots  U by  p week/month  Esc back  ? help"
        })
    }

    fn draw(&self, cx: &Context, f: &mut Frame, area: Rect, theme: Theme) {
        let p = parts(area);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                fit(&self.title(cx), usize::from(area.width)),
                Style::default().add_modifier(Modifier::BOLD),
            ))),
            p.title,
        );
        let Some(d) = &self.data else {
            match &self.failed {
                Some(why) => f.render_widget(
                    Paragraph::new(Span::styled(
                        if cx.zh() {
                            format!("趋势加载失败：{why}")
                        } else {
                            format!("the trends could not be loaded: {why}")
                        },
                        theme.alert(),
                    )),
                    p.chart,
                ),
                None => crate::view::loading(cx.lang, f, p.chart),
            }
            return;
        };
        let (trends, hotspots) = (&d.0, &d.1);
        chart(cx, f, p.chart, trends, theme);
        self.draw_series(cx, f, p.series, trends, theme);
        self.draw_hotspots(cx, f, p.hotspots, hotspots, theme);
    }
}

/// Every case filed per period, as bars, with this period against the one before.
fn chart(cx: &Context, f: &mut Frame, area: Rect, t: &Trends, theme: Theme) {
    let zh = cx.zh();
    let total = &t.total;
    let (now, before) = last_two(&total.filed);
    let on_time: u64 = total.resolved_on_time.iter().sum();
    let filed: u64 = total.filed.iter().sum();
    let late: u64 = total.overdue.iter().sum();
    let bounced: u64 = total.bounced.iter().sum();
    let change = match now.cmp(&before) {
        std::cmp::Ordering::Greater => format!("↑{}", now - before),
        std::cmp::Ordering::Less => format!("↓{}", before - now),
        std::cmp::Ordering::Equal => "=".into(),
    };
    let rate = (on_time * 100)
        .checked_div(filed)
        .map_or_else(|| "–".to_string(), |r| format!("{r}%"));
    let head = if zh {
        format!(
            "本期受理 {now}（上期 {before}，{change}） 合计 {filed} · 按时办结 {rate} · 曾超时 {late} · 转派两次以上 {bounced}"
        )
    } else {
        format!(
            "this period {now} (before {before}, {change}) · total {filed} · resolved on time {rate} · late {late} · moved twice {bounced}"
        )
    };
    let [line, bars] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    f.render_widget(
        Paragraph::new(Span::styled(
            fit(&head, usize::from(area.width)),
            theme.muted(),
        )),
        line,
    );
    let n = t.periods.len().max(1) as u16;
    // As wide as the space allows, a gap between bars; labels are the periods' first days.
    let bar_width = ((bars.width + 1) / n).saturating_sub(1).clamp(1, 8);
    let labels: Vec<String> = t
        .periods
        .iter()
        .map(|p| {
            if bar_width >= 5 {
                p.start.format("%m-%d").to_string()
            } else {
                p.start.format("%d").to_string()
            }
        })
        .collect();
    let group: Vec<Bar> = total
        .filed
        .iter()
        .zip(&labels)
        .map(|(v, l)| {
            Bar::default()
                .value(*v)
                .label(Line::from(l.clone()))
                .style(theme.good())
        })
        .collect();
    f.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&group))
            .bar_width(bar_width)
            .bar_gap(1),
        bars,
    );
}

impl TrendsScreen {
    fn draw_series(&self, cx: &Context, f: &mut Frame, area: Rect, t: &Trends, theme: Theme) {
        let zh = cx.zh();
        let focused = self.pane == Pane::Series;
        let head = match (self.by, zh) {
            (SeriesBy::Category, true) => "各类别",
            (SeriesBy::Community, true) => "各社区",
            (SeriesBy::Category, false) => "categories",
            (SeriesBy::Community, false) => "communities",
        };
        let none = if zh {
            "这段时间没有哨件"
        } else {
            "no cases in this span"
        };
        let Some(area) = titled(
            f,
            area,
            head,
            focused,
            theme,
            t.series.is_empty().then_some(none),
        ) else {
            return;
        };
        let spark = t.periods.len() as u16;
        let names = area.width.saturating_sub(spark + 3 * 6).max(6);
        let cols = if zh {
            ["名称", "走势", "合计", "本期", "超时"]
        } else {
            ["name", "trend", "total", "now", "late"]
        };
        let header = Row::new(cols.map(|c| Span::styled(c, theme.muted())));
        let widths = vec![
            Constraint::Length(names),
            Constraint::Length(spark),
            Constraint::Length(5),
            Constraint::Length(4),
            Constraint::Length(4),
        ];
        self.series
            .table(f, area, header, widths, 1, t.series.len(), |i, sel| {
                let s: &TrendSeries = t.series.get(i)?;
                let name = if s.name.is_empty() { &s.key } else { &s.name };
                let total: u64 = s.filed.iter().sum();
                let late: u64 = s.overdue.iter().sum();
                let (now, _) = last_two(&s.filed);
                let style = row_style(sel && focused, theme);
                Some(
                    Row::new(vec![
                        Span::raw(fit(name, usize::from(names))),
                        Span::styled(sparkline(&s.filed), theme.good()),
                        Span::raw(total.to_string()),
                        Span::raw(now.to_string()),
                        Span::styled(
                            late.to_string(),
                            if late > 0 {
                                theme.alert()
                            } else {
                                Style::default()
                            },
                        ),
                    ])
                    .style(style),
                )
            });
    }

    fn draw_hotspots(&self, cx: &Context, f: &mut Frame, area: Rect, h: &Hotspots, theme: Theme) {
        let zh = cx.zh();
        let focused = self.pane == Pane::Hotspots;
        let head = if zh {
            format!("热点 · 近{}天 ≥{}件", h.days, h.min)
        } else {
            format!("hotspots · {} days, ≥{}", h.days, h.min)
        };
        let none = if zh {
            "没有反复出现的问题"
        } else {
            "nothing keeps coming back"
        };
        let Some(area) = titled(
            f,
            area,
            &head,
            focused,
            theme,
            h.items.is_empty().then_some(none),
        ) else {
            return;
        };
        let place = area.width.saturating_sub(10).max(6);
        let cols = if zh {
            ["社区 · 类别", "件数", "上期"]
        } else {
            ["community · category", "now", "prev"]
        };
        let header = Row::new(cols.map(|c| Span::styled(c, theme.muted())));
        let widths = vec![
            Constraint::Length(place),
            Constraint::Length(4),
            Constraint::Length(5),
        ];
        self.hotspots
            .table(f, area, header, widths, 1, h.items.len(), |i, sel| {
                let x: &Hotspot = h.items.get(i)?;
                let category = cx.model.dir.category_in(&x.category, cx.lang, 8);
                let label = format!("{} · {category}", x.community);
                let grew = x.count > x.previous;
                let style = row_style(sel && focused, theme);
                Some(
                    Row::new(vec![
                        Span::raw(fit(&label, usize::from(place))),
                        Span::styled(
                            format!("{}{}", x.count, if grew { "↑" } else { "" }),
                            if grew {
                                theme.alert()
                            } else {
                                Style::default()
                            },
                        ),
                        Span::styled(x.previous.to_string(), theme.muted()),
                    ])
                    .style(style),
                )
            });
    }
}

/// A row: reversed when it is the selection of the list ← → moves in.
fn row_style(selected: bool, theme: Theme) -> Style {
    if selected {
        theme.selected()
    } else {
        Style::default()
    }
}

/// A list's title line, and under it either `empty` (said when there is nothing to list) or
/// the area for its rows (returned).
fn titled(
    f: &mut Frame,
    area: Rect,
    title: &str,
    focused: bool,
    theme: Theme,
    empty: Option<&str>,
) -> Option<Rect> {
    list_title(f, area, title, focused, theme);
    let below = below_title(area);
    match empty {
        Some(none) => {
            f.render_widget(Paragraph::new(Span::styled(none, theme.muted())), below);
            None
        }
        None => Some(below),
    }
}

/// A list's title: bold when ← → moves in it.
fn list_title(f: &mut Frame, area: Rect, title: &str, focused: bool, theme: Theme) {
    let style = if focused {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        theme.muted()
    };
    let mark = if focused { "▸ " } else { "  " };
    f.render_widget(
        Paragraph::new(Span::styled(
            fit(&format!("{mark}{title}"), usize::from(area.width)),
            style,
        )),
        Rect { height: 1, ..area },
    );
}

fn below_title(area: Rect) -> Rect {
    Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::width;

    #[test]
    fn a_sparkline_scales_to_its_largest_figure() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), " ▁▂▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[]), "");
        assert_eq!(width(&sparkline(&[3; 12])), 12);
    }
}
