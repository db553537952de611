//! Reply templates (知识库): the words a department or dispatcher answers a kind of problem
//! with, kept per category, with placeholders a case fills (`{community}`, `{address}`,
//! `{department}`, `{staff}`, `{title}`, `{id}`).
//!
//! Two sources: the rules file (the city's standard wording, `R1`, `R2`… in file order, read
//! only) and those people keep through the API (`T1`, `T2`…, in the log). A kept template
//! belongs to the part of the city its author covers: the city office's and a city-wide
//! dispatcher's are everyone's; a street's or a department's are that unit's own.

use serde::{Deserialize, Serialize};

use crate::access::{Principal, Role, Scope};
use crate::text::{self, Rule};
use crate::whistle::Whistle;
use crate::RuleError;

/// A template's name, shown in the picker.
pub const NAME: Rule = text::NAME;

/// The placeholders a template may use, in the order the help lists them.
pub const PLACEHOLDERS: [&str; 6] = ["community", "address", "department", "staff", "title", "id"];

/// Which prompt offers a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateStep {
    /// A department's reply when it resolves a case.
    Resolve,
    /// A dispatcher's reason when it rejects a case.
    Reject,
    /// Both.
    #[default]
    Any,
}

impl TemplateStep {
    /// Whether a prompt for `step` offers templates of this kind.
    pub fn offers(self, step: TemplateStep) -> bool {
        self == TemplateStep::Any || step == TemplateStep::Any || self == step
    }

    /// Its wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStep::Resolve => "resolve",
            TemplateStep::Reject => "reject",
            TemplateStep::Any => "any",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<TemplateStep> {
        [
            TemplateStep::Resolve,
            TemplateStep::Reject,
            TemplateStep::Any,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A reply template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyTemplate {
    /// `T3` for one kept through the API, `R2` for one from the rules file.
    pub id: String,
    /// The category it is for (a code); none for every category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Which prompt offers it.
    #[serde(default)]
    pub step: TemplateStep,
    /// A short name for the picker.
    pub name: String,
    /// The words, with placeholders.
    pub text: String,
    /// Whose it is: `city` for everyone's, else the street or department that keeps it.
    pub owner: Scope,
    /// Whether it comes from the rules file (and so cannot be deleted through the API).
    #[serde(default)]
    pub from_rules: bool,
    /// The token that added it (none for the rules file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When (none for the rules file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Asked for one case (`?whistle=`): the words with that case's values in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<String>,
    /// The placeholders that case cannot fill yet (no one on site, no department), left as
    /// they are in `filled` for the person to write over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfilled: Vec<String>,
}

impl ReplyTemplate {
    /// Whether `p` sees it: everyone's are for everyone; a unit's own for that unit and the
    /// city office.
    pub fn visible_to(&self, p: &Principal) -> bool {
        self.owner == Scope::City || p.role == Role::Admin || self.owner == p.scope
    }

    /// Whether a prompt for a case of `category` at `step` offers it.
    pub fn offered_for(&self, category: &str, step: TemplateStep) -> bool {
        self.step.offers(step) && self.category.as_deref().is_none_or(|c| c == category)
    }

    /// Its number when kept through the API (`T3` is 3).
    pub fn kept_number(id: &str) -> Option<u64> {
        id.strip_prefix('T')?.parse().ok().filter(|n| *n > 0)
    }
}

/// Who may add templates, and whose they become: the city office and city-wide dispatchers
/// add everyone's; a street's dispatcher its street's; a department its own. Communities and
/// viewers write no replies.
pub fn owner_for(p: &Principal) -> Result<Scope, &'static str> {
    match p.role {
        Role::Admin => Ok(Scope::City),
        Role::Dispatcher | Role::Department => Ok(p.scope),
        Role::Community | Role::Viewer => {
            Err("only those who write replies (dispatchers, departments, the city office) keep templates")
        }
    }
}

/// Whether `p` may delete a template owned by `owner`: its own unit's, or any for the city
/// office.
pub fn may_delete(p: &Principal, owner: Scope) -> bool {
    match p.role {
        Role::Admin => true,
        Role::Dispatcher | Role::Department => owner == p.scope,
        Role::Community | Role::Viewer => false,
    }
}

/// Checks a template's words: within a reply's length, and every `{…}` a placeholder this
/// server knows (a typo would otherwise reach a resident as `{comunity}`).
pub fn check_text(value: &str) -> Result<String, RuleError> {
    let v = text::required("text", value, text::REPLY)?;
    let mut rest = v.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(RuleError::invalid(
                "text",
                "a `{` is never closed; write placeholders as {community}",
            ));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(RuleError::invalid(
                "text",
                format!(
                    "{{{name}}} is not a placeholder; known: {}",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(v)
}

/// What a case puts in place of each placeholder; None where it has nothing yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseValues {
    /// The community's name.
    pub community: Option<String>,
    /// The address in words.
    pub address: Option<String>,
    /// The department that has the case.
    pub department: Option<String>,
    /// Who reported on site, joined with 、.
    pub staff: Option<String>,
    /// The case's title.
    pub title: Option<String>,
    /// Its number, `W1042`.
    pub id: Option<String>,
}

impl CaseValues {
    /// A case's values, with the names of its community and of the department that has it
    /// (looked up by the caller, which holds the directory).
    pub fn of(w: &Whistle, community: Option<String>, department: Option<String>) -> CaseValues {
        CaseValues {
            community,
            address: w.address.clone(),
            department: department.filter(|_| w.department_id.is_some()),
            staff: (!w.staff.is_empty()).then(|| w.staff.join("、")),
            title: Some(w.title.clone()),
            id: Some(w.id.to_string()),
        }
    }

    /// What several cases have in common: a value any of them differs in is left out (a step
    /// on several cases sends one text to all).
    pub fn common(all: &[CaseValues]) -> CaseValues {
        let same = |f: fn(&CaseValues) -> &Option<String>| {
            let first = all.first().and_then(|v| f(v).clone())?;
            all.iter()
                .all(|v| f(v).as_deref() == Some(first.as_str()))
                .then_some(first)
        };
        CaseValues {
            community: same(|v| &v.community),
            address: same(|v| &v.address),
            department: same(|v| &v.department),
            staff: same(|v| &v.staff),
            title: same(|v| &v.title),
            id: same(|v| &v.id),
        }
    }

    fn value(&self, name: &str) -> Option<&str> {
        match name {
            "community" => self.community.as_deref(),
            "address" => self.address.as_deref(),
            "department" => self.department.as_deref(),
            "staff" => self.staff.as_deref(),
            "title" => self.title.as_deref(),
            "id" => self.id.as_deref(),
            _ => None,
        }
        .filter(|v| !v.trim().is_empty())
    }
}

/// A template's words for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The words with every value the case has in place.
    pub text: String,
    /// The placeholders it had no value for (left in `text` as they were), each once.
    pub unfilled: Vec<String>,
}

/// Puts a case's values in place of the placeholders; one it has no value for stays as it is,
/// so the person sees what is left to write. Text that is not a placeholder stays untouched.
pub fn fill(template: &str, values: &CaseValues) -> Filled {
    let mut out = String::with_capacity(template.len() + 32);
    let mut unfilled: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name = after.find('}').map(|close| &after[..close]);
        match name.filter(|n| PLACEHOLDERS.contains(n)) {
            Some(name) => {
                match values.value(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                        if !unfilled.iter().any(|u| u == name) {
                            unfilled.push(name.to_string());
                        }
                    }
                }
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Filled {
        text: out,
        unfilled,
    }
}

/// The placeholders still in `text` (a filled template the person has not finished).
pub fn placeholders_in(text: &str) -> Vec<&'static str> {
    PLACEHOLDERS
        .into_iter()
        .filter(|p| text.contains(&format!("{{{p}}}")))
        .collect()
}

/// The templates a server starts with when its rules file names none: plain words for the
/// commonest answers, in the city's language.
pub fn builtin() -> Vec<ReplyTemplate> {
    let t = |n: usize, step, name: &str, text: &str| ReplyTemplate {
        id: format!("R{n}"),
        category: None,
        step,
        name: name.into(),
        text: text.into(),
        owner: Scope::City,
        from_rules: true,
        created_by: None,
        created_at: None,
        filled: None,
        unfilled: Vec::new(),
    };
    vec![
        t(
            1,
            TemplateStep::Resolve,
            "已处理完毕",
            "您好，{community}反映的“{title}”已由{department}{staff}到场处理完毕，请查验。",
        ),
        t(
            2,
            TemplateStep::Resolve,
            "已转长效管理",
            "您好，{address}的问题已由{department}现场处置，后续纳入日常巡查，如再发生请再次反映。",
        ),
        t(
            3,
            TemplateStep::Reject,
            "重复反映",
            "该问题已在办理中，本件作为重复件合并办理，进展将一并答复。",
        ),
        t(
            4,
            TemplateStep::Reject,
            "不属于受理范围",
            "经核实，“{title}”不属于本平台受理范围，已告知反映人相关办理渠道。",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CommunityId, DepartmentId, StreetId};

    fn values() -> CaseValues {
        CaseValues {
            community: Some("梓山社区".into()),
            address: Some("梓山路 3 号".into()),
            department: Some("市供电公司".into()),
            staff: Some("张三、李四".into()),
            title: Some("路灯不亮".into()),
            id: Some("W1042".into()),
        }
    }

    #[test]
    fn every_placeholder_is_filled_from_the_case() {
        let f = fill(
            "{id}：{community}{address}的“{title}”已由{department}{staff}修复。",
            &values(),
        );
        assert_eq!(
            f.text,
            "W1042：梓山社区梓山路 3 号的“路灯不亮”已由市供电公司张三、李四修复。"
        );
        assert!(f.unfilled.is_empty());
    }

    #[test]
    fn what_the_case_lacks_stays_for_the_person_to_write() {
        let v = CaseValues {
            staff: None,
            department: Some("  ".into()),
            ..values()
        };
        let f = fill("由{department}{staff}处理，{staff}负责。", &v);
        assert_eq!(f.text, "由{department}{staff}处理，{staff}负责。");
        assert_eq!(f.unfilled, vec!["department", "staff"]);
        assert_eq!(placeholders_in(&f.text), vec!["department", "staff"]);
    }

    #[test]
    fn several_cases_share_only_what_they_have_in_common() {
        let other = CaseValues {
            staff: Some("王五、赵六".into()),
            id: Some("W1043".into()),
            ..values()
        };
        let c = CaseValues::common(&[values(), other]);
        assert_eq!(c.community.as_deref(), Some("梓山社区"));
        assert_eq!((c.staff, c.id), (None, None));
        assert_eq!(CaseValues::common(&[]), CaseValues::default());
    }

    #[test]
    fn braces_that_are_not_placeholders_stay_as_written() {
        let f = fill("{x} {community {title}} {", &values());
        assert_eq!(f.text, "{x} {community 路灯不亮} {");
        assert!(f.unfilled.is_empty());
    }

    #[test]
    fn a_template_names_only_known_placeholders() {
        assert_eq!(
            check_text("  {community}已修复 ").unwrap(),
            "{community}已修复"
        );
        let e = check_text("{comunity}已修复").unwrap_err().to_string();
        assert!(e.contains("{comunity}") && e.contains("{community}"), "{e}");
        assert!(check_text("已修复{").is_err());
        assert!(check_text("   ").is_err());
    }

    #[test]
    fn a_prompt_offers_its_steps_and_its_category() {
        let mut t = builtin().remove(0);
        assert!(t.offered_for("lighting", TemplateStep::Resolve));
        assert!(!t.offered_for("lighting", TemplateStep::Reject));
        t.category = Some("road".into());
        assert!(!t.offered_for("lighting", TemplateStep::Resolve));
        assert!(t.offered_for("road", TemplateStep::Resolve));
        t.step = TemplateStep::Any;
        assert!(t.offered_for("road", TemplateStep::Reject));
    }

    #[test]
    fn a_unit_keeps_its_own_and_reads_everyones() {
        let street = Principal::new("s", Role::Dispatcher, Scope::Street(StreetId(1)));
        let other = Principal::new("o", Role::Dispatcher, Scope::Street(StreetId(2)));
        let dept = Principal::new("d", Role::Department, Scope::Department(DepartmentId(1)));
        let admin = Principal::new("a", Role::Admin, Scope::City);
        let community = Principal::new("c", Role::Community, Scope::Community(CommunityId(1)));
        assert_eq!(owner_for(&street), Ok(Scope::Street(StreetId(1))));
        assert_eq!(owner_for(&admin), Ok(Scope::City));
        assert!(owner_for(&community).is_err());
        let mut t = builtin().remove(0);
        t.owner = Scope::Street(StreetId(1));
        assert!(t.visible_to(&street) && t.visible_to(&admin));
        assert!(!t.visible_to(&other) && !t.visible_to(&dept));
        assert!(may_delete(&street, t.owner) && may_delete(&admin, t.owner));
        assert!(!may_delete(&other, t.owner) && !may_delete(&community, t.owner));
        t.owner = Scope::City;
        assert!(t.visible_to(&other) && t.visible_to(&community));
        assert!(!may_delete(&street, Scope::City));
    }

    #[test]
    fn the_builtin_templates_pass_their_own_check() {
        for t in builtin() {
            check_text(&t.text).unwrap();
        }
        assert_eq!(ReplyTemplate::kept_number("T12"), Some(12));
        assert_eq!(ReplyTemplate::kept_number("R1"), None);
        assert_eq!(ReplyTemplate::kept_number("T0"), None);
    }
}
