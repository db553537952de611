//! The server's rules file (`--rules`, `SHAOZI_RULES`, TOML): deadlines per category and urgency, in
//! calendar or working time, and the working calendar they are counted on.
//!
//! ```toml
//! [calendar]
//! utc_offset = "+08:00"
//! hours = ["08:30-12:00", "14:30-17:30"]
//! weekdays = ["mon", "tue", "wed", "thu", "fri"]
//! holidays = ["2026-10-01", "2026-10-02"]
//! extra_days = ["2026-09-27"]          # make-up working days (调休)
//!
//! [deadlines]                          # every category unless it has its own
//! urgent = { respond = "30m", resolve = "24h" }
//! normal = { respond = "24h", resolve = "7d" }
//!
//! [deadlines.category.lighting]
//! normal = { respond = "1wd", resolve = "3wd" }
//!
//! [case]                               # the middle of a case
//! return_within = "1wd"                # a department may return a case this long after dispatch
//! extensions = 2                       # extensions granted per whistle at most
//! longest_extension = "10wd"           # one extension at most, from the deadline it moves
//! due_soon_share = 0.2                 # warn when this share of a deadline's time is left
//! confirm = "3wd"                      # a fix nobody confirms closes by itself after this
//!
//! [[templates]]                        # reply templates (R1, R2… in this order); when
//! category = "lighting"                # given they replace the built-in ones
//! step = "resolve"                     # resolve, reject or any
//! name = "路灯已修复"
//! text = "您好，{community}{address}的路灯已由{department}{staff}修复，请查验。"
//! ```
//! Spans: `m`, `h`, `d` count clock time; `wm`, `wh`, `wd` count working time.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

use shaozi_shared::calendar::Calendar;
use shaozi_shared::{Rules, StageDeadlines};

/// What is wrong with the rules file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong, naming the key.
    pub why: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    calendar: Option<CalendarFile>,
    #[serde(default)]
    deadlines: Option<DeadlinesFile>,
    #[serde(default)]
    assessment: Option<AssessmentFile>,
    #[serde(default)]
    case: Option<shaozi_shared::case::CaseRules>,
    #[serde(default)]
    templates: Option<Vec<TemplateFile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    step: shaozi_shared::templates::TemplateStep,
    name: String,
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentFile {
    weights: Option<shaozi_shared::assessment::Weights>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    utc_offset: Option<String>,
    hours: Option<Vec<String>>,
    weekdays: Option<Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    extra_days: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    urgent: Option<StageDeadlines>,
    normal: Option<StageDeadlines>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesFile {
    urgent: Option<StageDeadlines>,
    normal: Option<StageDeadlines>,
    #[serde(default)]
    category: BTreeMap<String, Pair>,
}

fn date(s: &str, key: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("{key}: {s:?} is not a date like 2026-10-01 ({e})"))
}

fn period(s: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let bad = || format!("calendar.hours: {s:?} is not a period like 08:30-12:00");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
    let (a, b) = (t(a)?, t(b)?);
    if a >= b {
        return Err(format!("calendar.hours: {s:?} ends before it starts"));
    }
    Ok((a, b))
}

fn weekday(s: &str) -> Result<Weekday, String> {
    s.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("calendar.weekdays: {s:?} is not a weekday (mon, tue, …)"))
}

fn offset(s: &str) -> Result<FixedOffset, String> {
    let bad = || format!("calendar.utc_offset: {s:?} is not an offset like +08:00");
    let (sign, rest) = match s.trim().as_bytes().first() {
        Some(b'+') => (1, &s.trim()[1..]),
        Some(b'-') => (-1, &s.trim()[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let secs =
        h.parse::<i32>().map_err(|_| bad())? * 3600 + m.parse::<i32>().map_err(|_| bad())? * 60;
    FixedOffset::east_opt(sign * secs).ok_or_else(bad)
}

/// The rules from a TOML text; anything not given keeps its default.
pub fn parse(text: &str) -> Result<Rules, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut rules = Rules::builtin();
    if let Some(c) = file.calendar {
        let cal: &mut Calendar = &mut rules.calendar;
        if let Some(o) = c.utc_offset {
            cal.offset = offset(&o)?;
        }
        if let Some(h) = c.hours {
            cal.hours = h.iter().map(|p| period(p)).collect::<Result<_, _>>()?;
        }
        if let Some(w) = c.weekdays {
            cal.weekdays = w.iter().map(|d| weekday(d)).collect::<Result<_, _>>()?;
        }
        cal.holidays = c
            .holidays
            .iter()
            .map(|d| date(d, "calendar.holidays"))
            .collect::<Result<_, _>>()?;
        cal.extra_days = c
            .extra_days
            .iter()
            .map(|d| date(d, "calendar.extra_days"))
            .collect::<Result<_, _>>()?;
        cal.validate().map_err(|e| format!("calendar: {e}"))?;
    }
    if let Some(d) = file.deadlines {
        for cat in &mut rules.categories {
            if let Some(u) = d.urgent {
                cat.deadlines.urgent = u;
            }
            if let Some(n) = d.normal {
                cat.deadlines.normal = n;
            }
        }
        for (code, pair) in d.category {
            let Some(cat) = rules.categories.iter_mut().find(|c| c.code == code) else {
                let known: Vec<&str> = rules.categories.iter().map(|c| c.code.as_str()).collect();
                return Err(format!(
                    "deadlines.category.{code}: no such category (known: {})",
                    known.join(", ")
                ));
            };
            if let Some(u) = pair.urgent {
                cat.deadlines.urgent = u;
            }
            if let Some(n) = pair.normal {
                cat.deadlines.normal = n;
            }
        }
    }
    if let Some(w) = file.assessment.and_then(|a| a.weights) {
        let all = w.all();
        if all.iter().any(|x| !x.is_finite() || *x < 0.0) || all.iter().sum::<f64>() <= 0.0 {
            return Err("assessment.weights: each must be zero or more, and not all zero".into());
        }
        rules.weights = w;
    }
    if let Some(c) = file.case {
        c.validate()?;
        rules.case = c;
    }
    if let Some(list) = file.templates {
        rules.templates = templates(list, &rules.categories)?;
    }
    Ok(rules)
}

/// The rules file's templates, checked as the API checks one, numbered R1, R2… in order.
fn templates(
    list: Vec<TemplateFile>,
    categories: &[shaozi_shared::Category],
) -> Result<Vec<shaozi_shared::templates::ReplyTemplate>, String> {
    use shaozi_shared::templates::{check_text, ReplyTemplate, NAME};
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let at = |e: &dyn std::fmt::Display| format!("templates[{i}] ({:?}): {e}", t.name);
        if let Some(c) = &t.category {
            if !categories.iter().any(|k| &k.code == c) {
                let known: Vec<&str> = categories.iter().map(|k| k.code.as_str()).collect();
                return Err(at(&format!(
                    "no category {c} (known: {})",
                    known.join(", ")
                )));
            }
        }
        let name = shaozi_shared::text::required("name", &t.name, NAME).map_err(|e| at(&e))?;
        let text = check_text(&t.text).map_err(|e| at(&e))?;
        out.push(ReplyTemplate {
            id: format!("R{}", i + 1),
            category: t.category,
            step: t.step,
            name,
            text,
            owner: shaozi_shared::Scope::City,
            from_rules: true,
            created_by: None,
            created_at: None,
            filled: None,
            unfilled: Vec::new(),
        });
    }
    Ok(out)
}

/// Reads the rules file.
pub fn load(path: &Path) -> Result<Rules, ConfigError> {
    let err = |why: String| ConfigError {
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    parse(&text).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shaozi_shared::calendar::Span;

    #[test]
    fn the_case_table_sets_the_middles_windows_and_limits() {
        use shaozi_shared::calendar::Span;
        let r = parse(
            "[case]\nreturn_within = \"2wd\"\nextensions = 1\nlongest_extension = \"5d\"\ndue_soon_share = 0.25\nconfirm = \"7d\"",
        )
        .unwrap();
        assert_eq!(r.case.return_within, Span::WorkingDays(2));
        assert_eq!(r.case.extensions, 1);
        assert_eq!(r.case.longest_extension, Span::Minutes(5 * 24 * 60));
        assert_eq!(r.case.due_soon_share, 0.25);
        assert_eq!(r.case.confirm, Span::Minutes(7 * 24 * 60));
        // What it does not name keeps its default.
        let partial = parse("[case]\nextensions = 3").unwrap();
        assert_eq!(partial.case.return_within, Span::WorkingDays(1));
        for (bad, says) in [
            ("[case]\ndue_soon_share = 1.5", "case.due_soon_share"),
            ("[case]\nextensions = 99", "case.extensions"),
            ("[case]\nconfirm = \"soon\"", "soon"),
            ("[case]\nreturns = 1", "returns"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn rules_files_override_what_they_name() {
        let r = parse(
            r#"
            [calendar]
            utc_offset = "+08:00"
            hours = ["09:00-12:00", "13:00-18:00"]
            holidays = ["2026-10-01"]
            [deadlines]
            normal = { respond = "8wh", resolve = "5wd" }
            [deadlines.category.lighting]
            urgent = { respond = "15m", resolve = "4h" }
            "#,
        )
        .unwrap();
        assert_eq!(r.calendar.day_minutes(), 480);
        let lighting = r.categories.iter().find(|c| c.code == "lighting").unwrap();
        assert_eq!(lighting.deadlines.urgent.respond, Span::Minutes(15));
        assert_eq!(lighting.deadlines.normal.resolve, Span::WorkingDays(5));
        let roads = r.categories.iter().find(|c| c.code == "roads").unwrap();
        assert_eq!(
            roads.deadlines.urgent.respond,
            Span::Minutes(30),
            "untouched stays default"
        );
        assert_eq!(roads.deadlines.normal.respond, Span::WorkingMinutes(480));
        assert_eq!(parse("").unwrap(), Rules::builtin());
    }

    #[test]
    fn a_rules_files_templates_replace_the_builtin_ones_in_order() {
        let r = parse(
            r#"
            [[templates]]
            category = "lighting"
            step = "resolve"
            name = "路灯已修复"
            text = "{community}的路灯已由{department}修复。"
            [[templates]]
            name = "通用"
            text = "已处理。"
            "#,
        )
        .unwrap();
        let ids: Vec<&str> = r.templates.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["R1", "R2"]);
        assert_eq!(r.templates[0].category.as_deref(), Some("lighting"));
        assert_eq!(
            r.templates[1].step,
            shaozi_shared::templates::TemplateStep::Any
        );
        assert!(r.templates.iter().all(|t| t.from_rules));
        assert!(parse("templates = []").unwrap().templates.is_empty());
        let typo = parse("[[templates]]\nname = \"x\"\ntext = \"{comunity}\"").unwrap_err();
        assert!(
            typo.contains("templates[0]") && typo.contains("{comunity}"),
            "{typo}"
        );
        let unknown =
            parse("[[templates]]\ncategory = \"moon\"\nname = \"x\"\ntext = \"y\"").unwrap_err();
        assert!(unknown.contains("no category moon"), "{unknown}");
    }

    #[test]
    fn mistakes_name_the_key() {
        for (text, says) in [
            (
                "[deadlines.category.dragons]\nurgent = { respond = \"1h\", resolve = \"2h\" }",
                "deadlines.category.dragons",
            ),
            (
                "[deadlines]\nurgent = { respond = \"soon\", resolve = \"2h\" }",
                "soon",
            ),
            (
                "[calendar]\nhours = [\"12:00-08:00\"]",
                "ends before it starts",
            ),
            ("[calendar]\nweekdays = [\"funday\"]", "funday"),
            ("[calendar]\nholidays = [\"1 Oct\"]", "calendar.holidays"),
            ("[calendar]\nhours = []", "no working hours"),
            ("[calendar]\nutc_offset = \"8\"", "utc_offset"),
            ("[weather]\nsunny = true", "weather"),
            ("[assessment.weights]\non_time = -1.0\nresolution = 1.0\nsatisfaction = 0.0\nsatisfied_share = 0.0", "assessment.weights"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}
