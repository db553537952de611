//! The `:` command line for experts: `:assign W1042 城管 [reason]`, `:goto W1042`,
//! `:search 漏水 梓山`, `:filter …`, `:lang en`, `:period …`, `:q`, each with Chinese names too
//! (`:派单`, `:跳转`, `:搜索`, `:筛选`, `:语言`, `:周期`, `:退出`). Tab completes commands, whistle ids and departments;
//! ↑/↓ go through the commands run before.

use shaozi_shared::api::Step;
use shaozi_shared::{DepartmentId, WhistleId};

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::{App, Effect, View};
use crate::editor::LineEditor;
use crate::i18n::Lang;
use crate::prompt::Prompt;
use crate::steps::picker;

const COMMANDS: &[&str] = &[
    "assign", "goto", "search", "filter", "lang", "period", "trends", "quit",
];

/// Chinese names of the commands.
const ALIASES: &[(&str, &str)] = &[
    ("派单", "assign"),
    ("派", "assign"),
    ("改派", "assign"),
    ("搜索", "search"),
    ("趋势", "trends"),
    ("热点", "trends"),
    ("查找", "search"),
    ("找", "search"),
    ("跳转", "goto"),
    ("转到", "goto"),
    ("查看", "goto"),
    ("筛选", "filter"),
    ("过滤", "filter"),
    ("语言", "lang"),
    ("周期", "period"),
    ("退出", "quit"),
];

/// The command a typed word names: a Chinese name, or the start of an English one.
fn command_named(word: &str) -> Option<&'static str> {
    if let Some((_, c)) = ALIASES.iter().find(|(a, _)| *a == word) {
        return Some(c);
    }
    let w = word.to_lowercase();
    COMMANDS.iter().find(|c| c.starts_with(&w)).copied()
}

fn err(app: &mut App, zh: &str, en: &str) -> Vec<Effect> {
    app.warn_in(zh, en);
    Vec::new()
}

/// The department typed text means, matched as the picker matches: its id or full name; else
/// the one name that matches, or the one of several that handles the case's category (✓).
/// Several otherwise: `Err` with their names, to ask rather than guess.
fn find_department(app: &App, id: WhistleId, text: &str) -> Result<DepartmentId, Vec<String>> {
    if let Ok(d) = text.parse::<DepartmentId>() {
        return match app.model.dir.departments.contains_key(&d) {
            true => Ok(d),
            false => Err(Vec::new()),
        };
    }
    let Prompt::Picker { options, .. } = picker(app, vec![id]) else {
        return Err(Vec::new());
    };
    if let Some(o) = options.iter().find(|o| o.name == text) {
        return Ok(o.id);
    }
    let hits = crate::prompt::ranked(&options, text);
    let ticked: Vec<_> = hits.iter().filter(|o| o.handles).collect();
    match (hits.as_slice(), ticked.as_slice()) {
        ([one], _) => Ok(one.id),
        (_, [one]) => Ok(one.id),
        _ => Err(hits.iter().map(|o| o.name.clone()).collect()),
    }
}

/// Runs a command line.
pub fn run(app: &mut App, line: &str) -> Vec<Effect> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(cmd) = words.first() else {
        return Vec::new();
    };
    if app.history.last().is_none_or(|l| l != line.trim()) {
        app.history.push(line.trim().to_string());
    }
    match command_named(cmd) {
        Some("quit") => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Some("goto") => match words.get(1).and_then(|w| w.parse::<WhistleId>().ok()) {
            Some(id) => goto(app, id),
            None => err(app, "用法：:goto W1042", "usage: :goto W1042"),
        },
        // Every case the token may see, closed ones too, by its words (and from= / to=).
        Some("search") => {
            let text = words[1..].join(" ");
            if text.is_empty() {
                return err(
                    app,
                    "用法：:search 漏水 梓山（可加 from=2026-11-01 to=2026-11-30）",
                    "usage: :search leak Zishan (from=2026-11-01 to=2026-11-30 too)",
                );
            }
            app.open_search(&text)
        }
        Some("trends") => {
            app.view = View::Trends;
            vec![app.trends.fetch()]
        }
        Some("filter") => {
            let text = words[1..].join(" ");
            if app.view != View::Wishes && app.view != app.home() {
                app.view = app.home();
            }
            if let Err(why) = crate::filter::commit(app, &text) {
                app.warn(why);
            }
            Vec::new()
        }
        Some("period") => {
            let day = |i: usize| {
                words
                    .get(i)
                    .and_then(|w| chrono::NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            };
            match (day(1), day(2)) {
                (Some(a), Some(b)) if a <= b => {
                    app.assess.period = crate::screens::assessment::Period::Custom(a, b);
                    app.assess.data = None;
                    app.view = View::Assessment;
                    vec![app.fetch_assessment()]
                }
                (Some(a), Some(b)) => err(
                    app,
                    &format!("开始日期 {a} 晚于结束日期 {b}：应写作 :period {b} {a}"),
                    &format!("{a} is after {b}: the period reads :period {b} {a}"),
                ),
                _ => err(
                    app,
                    "用法：:period 2026-11-01 2026-11-30",
                    "usage: :period 2026-11-01 2026-11-30",
                ),
            }
        }
        Some("lang") => match words.get(1).map(|w| w.to_lowercase()).as_deref() {
            Some("en" | "english" | "英文" | "英语") => {
                app.lang = Lang::En;
                Vec::new()
            }
            Some("zh" | "cn" | "chinese" | "中文" | "汉语") => {
                app.lang = Lang::Zh;
                Vec::new()
            }
            Some(other) => err(
                app,
                &format!("不支持的语言“{other}”；可用：zh（中文）、en（English）"),
                &format!("no language {other:?}; use zh (中文) or en (English)"),
            ),
            None => err(app, "用法：:lang zh 或 :lang en", "usage: :lang zh or :lang en"),
        },
        // A role that may not dispatch is told so, not how to word a reason it may not give.
        Some("assign") if !app.may(Step::Dispatch.op()) => {
            let role = app
                .me
                .as_ref()
                .map(|m| crate::words::role(app.lang, m.role))
                .unwrap_or("");
            err(
                app,
                &format!("你的身份（{role}）不能派单"),
                &format!("your role ({role}) may not dispatch"),
            )
        }
        Some("assign") => {
            let id = words.get(1).and_then(|w| w.parse::<WhistleId>().ok());
            let (Some(id), Some(dept_text)) = (id, words.get(2)) else {
                return err(
                    app,
                    "用法：:assign W1042 城管 [改派理由]",
                    "usage: :assign W1042 department [reason]",
                );
            };
            let dept = match find_department(app, id, dept_text) {
                Ok(d) => d,
                Err(names) if names.is_empty() => {
                    return err(
                        app,
                        &format!("找不到部门“{dept_text}”"),
                        &format!("no department matches {dept_text:?}"),
                    )
                }
                Err(names) => {
                    return err(
                        app,
                        &format!(
                            "“{dept_text}”可指：{}——请写得更完整，或写部门编号",
                            names.join("、")
                        ),
                        &format!(
                            "{dept_text:?} fits {}; type more of the name, or its id",
                            names.join(", ")
                        ),
                    )
                }
            };
            let note = (words.len() > 3).then(|| words[3..].join(" "));
            // A reassignment needs its reason on the line: a box opened behind the command
            // line would take the next command typed as the reason.
            if let Some(why) = crate::steps::all_already_with(app, &[id], dept) {
                app.warn(why);
                return Vec::new();
            }
            if crate::steps::reassigning(app, &[id], dept) && note.is_none() {
                let (now, returned) = app
                    .whistle(id)
                    .map(|w| {
                        (
                            app.model.dir.department(w.department_id),
                            w.status == shaozi_shared::WhistleStatus::Returned,
                        )
                    })
                    .unwrap_or_default();
                return if returned {
                    err(
                        app,
                        &format!("{id} 被 {now} 退回；派往他处需写给新部门的说明：:assign {id} {dept_text} 说明…"),
                        &format!(
                            "{now} returned {id}; dispatching it elsewhere needs a note for the new department: :assign {id} {dept_text} note…"
                        ),
                    )
                } else {
                    err(
                        app,
                        &format!("{id} 已派给 {now}，改派需写理由：:assign {id} {dept_text} 理由…"),
                        &format!(
                            "{id} is already with {now}; reassigning needs a reason: :assign {id} {dept_text} reason…"
                        ),
                    )
                };
            }
            match app.whistle(id) {
                None => {
                    return err(
                        app,
                        &format!("找不到 {id}：不在队列或列表中（可先 :goto {id} 查看）"),
                        &format!("{id} is not in the queue or a list here (try :goto {id})"),
                    )
                }
                Some(w) if !Step::Dispatch.fits_whistle(w) => {
                    let why = crate::steps::not_now(app, Step::Dispatch, w);
                    app.warn(why);
                    return Vec::new();
                }
                Some(_) => {}
            }
            crate::steps::assign(app, vec![id], dept, note)
        }
        _ => err(
            app,
            &format!("未知命令“{cmd}”；可用：派单(assign) 跳转(goto) 筛选(filter) 周期(period) 语言(lang) 退出(quit)"),
            &format!("unknown command {cmd:?}; try assign, goto, filter, period, lang, quit"),
        ),
    }
}

/// Completes the word being typed; returns the new line and the candidates.
pub fn complete(app: &App, line: &str) -> (String, Vec<String>) {
    let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    if line.ends_with(' ') || words.is_empty() {
        words.push(String::new());
    }
    let i = words.len() - 1;
    let typed = words[i].to_lowercase();
    // A Chinese name stands for its command from the first word on (:派单 W… completes as
    // :assign W… does).
    let cmd = command_named(&words[0].to_lowercase())
        .map(str::to_string)
        .unwrap_or_else(|| words[0].to_lowercase());
    let candidates: Vec<String> = match (i, cmd.as_str()) {
        // In a Chinese interface, or once a Chinese character is typed, the Chinese names.
        (0, _) if app.zh() && (typed.is_empty() || !typed.is_ascii()) => ALIASES
            .iter()
            .map(|(alias, _)| *alias)
            .filter(|a| !a.is_ascii() && a.starts_with(typed.as_str()))
            .map(str::to_string)
            .collect(),
        (0, _) => COMMANDS
            .iter()
            .filter(|c| c.starts_with(&typed))
            .map(|c| c.to_string())
            .collect(),
        (1, c) if "assign".starts_with(c) || "goto".starts_with(c) => app
            .rows()
            .iter()
            .map(|k| WhistleId(k.id).to_string())
            .filter(|id| id.to_lowercase().starts_with(&typed))
            .take(8)
            .collect(),
        (2, c) if "assign".starts_with(c) => {
            let id = words[1].parse::<WhistleId>().ok();
            match id.map(|id| picker(app, vec![id])) {
                Some(Prompt::Picker { options, .. }) => crate::prompt::ranked(&options, &typed)
                    .into_iter()
                    .map(|o| o.name.clone())
                    .take(8)
                    .collect(),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    if let Some(first) = candidates.first() {
        words[i] = if candidates.len() == 1 {
            format!("{first} ")
        } else {
            common_prefix(&candidates)
        };
    }
    let mut out = words.join(" ");
    if out.ends_with("  ") {
        out.pop();
    }
    (out, candidates)
}

fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut n = first.chars().count();
    for s in items {
        n = n.min(
            first
                .chars()
                .zip(s.chars())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first.chars().take(n).collect()
}

/// Shows a whistle: selects it in the queue, or opens its detail.
fn goto(app: &mut App, id: WhistleId) -> Vec<Effect> {
    goto_said(app, id, false)
}

/// [`goto`], saying where the case was found (and that the filter was cleared to show it).
fn goto_said(app: &mut App, id: WhistleId, cleared: bool) -> Vec<Effect> {
    if let Some(row) = app.position(id) {
        app.view = View::Queue;
        app.queue.sel = Some(id);
        app.fix_selection();
        let n = app.rows().len();
        app.say(match (cleared, app.zh()) {
            (false, true) => format!("{id} 在队列第 {} 行（共 {n} 行）", row + 1),
            (true, true) => format!("{id} 在队列第 {} 行（共 {n} 行）；筛选已清除", row + 1),
            (false, false) => format!("{id} is row {} of {n} in the queue", row + 1),
            (true, false) => format!(
                "{id} is row {} of {n} in the queue; the filter was cleared",
                row + 1
            ),
        });
        return Vec::new();
    }
    if app.model.queue.get(id).is_some() && !app.queue.filter.is_empty() {
        app.clear_filter();
        return goto_said(app, id, true);
    }
    // Not unanswered: show it in detail instead.
    app.open_detail(id)
}

/// A key in the command line: Enter runs it, ↑/↓ go through the history, Tab completes.
pub(crate) fn on_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    let (next, fx) = match &mut p {
        Prompt::Command { editor, hint, back } => match k.code {
            KeyCode::Enter => {
                let line = editor.text();
                app.flash = None;
                let fx = run(app, &line);
                // A line that could not run stays, to be corrected rather than typed again.
                if app.prompt.is_none() && app.flash.as_ref().is_some_and(|f| f.error) {
                    app.prompt = Some(Prompt::Command {
                        editor: LineEditor::with(&line),
                        hint: String::new(),
                        back: 0,
                    });
                }
                return fx;
            }
            // ↑/↓ go back and forth through the commands run before.
            KeyCode::Up | KeyCode::Down => {
                let n = app.history.len();
                let next = match (k.code, *back) {
                    (KeyCode::Up, b) if b < n => b + 1,
                    (KeyCode::Down, b) if b > 0 => b - 1,
                    (_, b) => b,
                };
                *back = next;
                *editor = match next {
                    0 => LineEditor::default(),
                    b => LineEditor::with(&app.history[n - b]),
                };
                hint.clear();
                (Some(p), Vec::new())
            }
            KeyCode::Tab => {
                let (line, candidates) = complete(app, &editor.text());
                *editor = LineEditor::with(&line);
                *hint = candidates.join("  ");
                (Some(p), Vec::new())
            }
            _ => {
                editor.key(k);
                hint.clear();
                (Some(p), Vec::new())
            }
        },
        _ => (Some(p), Vec::new()),
    };
    app.prompt = next;
    fx
}
