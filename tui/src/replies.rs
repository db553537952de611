//! Reply templates in the resolve and reject prompts: Tab puts the next template the cases'
//! category is offered in the line, filled from the cases, to edit and send; Shift-Tab the one
//! before. A rejection's `dup W1042` stays in front of whatever template is put after it.

use shaozi_shared::api::Step;
use shaozi_shared::templates::{fill, placeholders_in, CaseValues, TemplateStep};
use shaozi_shared::WhistleId;

use crate::app::App;

/// A template as a prompt offers it: filled from the cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offered {
    /// Its name.
    pub name: String,
    /// Its words with the cases' values in place.
    pub text: String,
}

/// Which templates a step's prompt offers, if any.
fn template_step(step: Step) -> Option<TemplateStep> {
    match step {
        Step::Resolve => Some(TemplateStep::Resolve),
        Step::Reject => Some(TemplateStep::Reject),
        _ => None,
    }
}

/// The templates offered for `step` on `targets`: those for every target's category, filled
/// with what the targets have in common.
pub(crate) fn offered(app: &App, step: Step, targets: &[WhistleId]) -> Vec<Offered> {
    let Some(ts) = template_step(step) else {
        return Vec::new();
    };
    let dir = &app.model.dir;
    let cases: Vec<_> = targets.iter().filter_map(|id| app.whistle(*id)).collect();
    if cases.is_empty() {
        return Vec::new();
    }
    let values: Vec<CaseValues> = cases
        .iter()
        .map(|w| {
            let community = dir.community(w.community_id);
            let department = w.department_id.map(|d| dir.department(Some(d)));
            CaseValues::of(w, Some(community), department)
        })
        .collect();
    let common = CaseValues::common(&values);
    dir.templates
        .iter()
        .filter(|t| cases.iter().all(|w| t.offered_for(&w.category, ts)))
        .map(|t| Offered {
            name: t.name.clone(),
            text: fill(&t.text, &common).text,
        })
        .collect()
}

/// The typed line as the part a template fills and what stays before it (`dup W1042 `).
fn split(step: Step, typed: &str) -> (String, String) {
    if step == Step::Reject {
        if let Some((orig, rest)) = duplicate_of(typed) {
            return (format!("dup {orig} "), rest.to_string());
        }
    }
    (String::new(), typed.trim().to_string())
}

/// Which offered template the line holds as it was put there, if any.
pub(crate) fn current(step: Step, offered: &[Offered], typed: &str) -> Option<usize> {
    let (_, body) = split(step, typed);
    offered.iter().position(|o| o.text == body)
}

/// The line with the next (or, going back, the previous) template in place of the one it
/// holds, and which it is; None when none is offered.
pub(crate) fn cycle(
    step: Step,
    offered: &[Offered],
    typed: &str,
    forward: bool,
) -> Option<(String, usize)> {
    let n = offered.len();
    if n == 0 {
        return None;
    }
    let i = match (current(step, offered, typed), forward) {
        (Some(i), true) => (i + 1) % n,
        (Some(i), false) => (i + n - 1) % n,
        (None, true) => 0,
        (None, false) => n - 1,
    };
    let (keep, _) = split(step, typed);
    Some((format!("{keep}{}", offered[i].text), i))
}

/// The placeholders a line still holds (a template the cases could not fill), to be written
/// over before it goes to a resident.
pub(crate) fn unfinished(step: Step, typed: &str) -> Vec<&'static str> {
    match template_step(step) {
        Some(_) => placeholders_in(typed),
        None => Vec::new(),
    }
}

/// `dup W1042 …` (or `duplicate`, `重复`, `重复件`, `重复于`, with or without a space, a colon
/// or a comma): the original's id and what follows it, without the punctuation between.
pub(crate) fn duplicate_of(text: &str) -> Option<(WhistleId, &str)> {
    let text = text.trim();
    let rest = ["duplicate", "dup", "重复件", "重复于", "重复"]
        .iter()
        .find_map(|word| {
            text.get(..word.len())
                .filter(|head| head.eq_ignore_ascii_case(word))
                .map(|_| &text[word.len()..])
        })?;
    let between = |c: char| c.is_whitespace() || "，,、：:；;。.".contains(c);
    let rest = rest.trim_start_matches(between);
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let orig = rest[..end].to_ascii_uppercase().parse::<WhistleId>().ok()?;
    Some((orig, rest[end..].trim_start_matches(between).trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Vec<Offered> {
        vec![
            Offered {
                name: "已处理".into(),
                text: "梓山社区的问题已处理。".into(),
            },
            Offered {
                name: "重复".into(),
                text: "本件作为重复件合并办理。".into(),
            },
        ]
    }

    #[test]
    fn tab_goes_round_the_templates_and_back() {
        let o = two();
        let (line, i) = cycle(Step::Resolve, &o, "", true).unwrap();
        assert_eq!((line.as_str(), i), ("梓山社区的问题已处理。", 0));
        let (line, i) = cycle(Step::Resolve, &o, &line, true).unwrap();
        assert_eq!((line.as_str(), i), ("本件作为重复件合并办理。", 1));
        assert_eq!(cycle(Step::Resolve, &o, &line, true).unwrap().1, 0);
        assert_eq!(cycle(Step::Resolve, &o, &line, false).unwrap().1, 0);
        assert_eq!(cycle(Step::Resolve, &o, "我自己写的", false).unwrap().1, 1);
        // An edited template is the person's own line: Tab starts again from the first.
        assert_eq!(
            current(Step::Resolve, &o, "梓山社区的问题已处理。明天复查"),
            None
        );
        assert!(cycle(Step::Resolve, &[], "", true).is_none());
    }

    #[test]
    fn a_duplicates_original_stays_in_front() {
        let o = two();
        let (line, _) = cycle(Step::Reject, &o, "dup W1001 ", true).unwrap();
        assert_eq!(line, "dup W1001 梓山社区的问题已处理。");
        let (line, i) = cycle(Step::Reject, &o, &line, true).unwrap();
        assert_eq!(
            (line.as_str(), i),
            ("dup W1001 本件作为重复件合并办理。", 1)
        );
        // Not for a reply: `dup` means nothing there.
        let (line, _) = cycle(Step::Resolve, &o, "dup W1001 ", true).unwrap();
        assert_eq!(line, "梓山社区的问题已处理。");
    }

    #[test]
    fn a_line_with_a_placeholder_left_is_unfinished() {
        assert_eq!(unfinished(Step::Resolve, "已由{staff}处理"), ["staff"]);
        assert!(unfinished(Step::Resolve, "已处理").is_empty());
        assert!(unfinished(Step::Urge, "{staff}").is_empty());
    }
}
