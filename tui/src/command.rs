//! The `:` command line for experts: `:assign W1042 城管 [reason]`, `:goto W1042`,
//! `:filter …`, `:lang en`, `:q`. Tab completes commands, whistle ids and departments.

use shaozi_shared::{DepartmentId, WhistleId};

use crate::app::{App, Effect, View};
use crate::i18n::Lang;
use crate::model::Filter;
use crate::prompt::{picker, Prompt};

const COMMANDS: &[&str] = &["assign", "goto", "filter", "lang", "period", "quit"];

fn err(app: &mut App, zh: &str, en: &str) -> Vec<Effect> {
    let text = if app.lang == Lang::Zh {
        zh.to_string()
    } else {
        en.to_string()
    };
    app.flash = Some(crate::app::Flash {
        text,
        error: true,
        until: app.now + chrono::Duration::seconds(6),
    });
    Vec::new()
}

/// The department best matching typed text: exact id, else names containing it, ranked
/// like the picker (handles the category, least load).
fn find_department(app: &App, id: WhistleId, text: &str) -> Option<DepartmentId> {
    if let Ok(d) = text.parse::<DepartmentId>() {
        return app.model.dir.departments.contains_key(&d).then_some(d);
    }
    match picker(app, vec![id]) {
        Prompt::Picker { options, .. } => {
            crate::prompt::ranked(&options, text).first().map(|o| o.id)
        }
        _ => None,
    }
}

/// Runs a command line.
pub fn run(app: &mut App, line: &str) -> Vec<Effect> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(cmd) = words.first() else {
        return Vec::new();
    };
    let full = COMMANDS
        .iter()
        .find(|c| c.starts_with(&cmd.to_lowercase()))
        .copied();
    match full {
        Some("quit") => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Some("goto") => match words.get(1).and_then(|w| w.parse::<WhistleId>().ok()) {
            Some(id) => app.goto_id(id),
            None => err(app, "用法：:goto W1042", "usage: :goto W1042"),
        },
        Some("filter") => {
            let text = words[1..].join(" ");
            app.queue.filter = Filter::parse(&text);
            app.queue.filter_text = text;
            app.view = View::Queue;
            app.refresh_rows();
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
                _ => err(
                    app,
                    "用法：:period 2026-11-01 2026-11-30",
                    "usage: :period 2026-11-01 2026-11-30",
                ),
            }
        }
        Some("lang") => {
            app.lang = match words.get(1).copied() {
                Some("en") => Lang::En,
                _ => Lang::Zh,
            };
            Vec::new()
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
            let Some(dept) = find_department(app, id, dept_text) else {
                return err(
                    app,
                    &format!("找不到部门“{dept_text}”"),
                    &format!("no department matches {dept_text:?}"),
                );
            };
            let note = (words.len() > 3).then(|| words[3..].join(" "));
            app.assign(vec![id], dept, note)
        }
        _ => err(
            app,
            &format!("未知命令“{cmd}”；可用：assign goto filter lang quit"),
            &format!("unknown command {cmd:?}; try assign, goto, filter, lang, quit"),
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
    let cmd = words[0].to_lowercase();
    let candidates: Vec<String> = match (i, cmd.as_str()) {
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
