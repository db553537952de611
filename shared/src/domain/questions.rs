//! The extra questions some categories ask when a problem is filed (Open311 calls them a
//! service's attributes), and the check of the answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::text;
use crate::RuleError;

/// The kind of answer a question takes, as Open311 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// One line of text.
    String,
    /// A number.
    Number,
    /// An RFC 3339 time.
    Datetime,
    /// Free text.
    Text,
    /// One of the listed values.
    Singlevaluelist,
    /// Any of the listed values.
    Multivaluelist,
}

impl Datatype {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
}

/// One allowed answer of a list question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    /// What is sent.
    pub key: String,
    /// What is shown.
    pub name: String,
}

/// A question a category asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    /// Stable code, sent as `attribute[code]`.
    pub code: String,
    /// The kind of answer.
    pub datatype: Datatype,
    /// Whether a report must answer it.
    pub required: bool,
    /// The question, as shown to the resident.
    pub description: String,
    /// How to answer, when the datatype alone does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatype_description: Option<String>,
    /// The allowed answers of a list question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Choice>,
}

/// Answers to a category's questions: code → values (one, or several for a multi-value list).
pub type Answers = BTreeMap<String, Vec<String>>;

fn q(
    code: &str,
    datatype: Datatype,
    required: bool,
    description: &str,
    values: &[(&str, &str)],
) -> Question {
    Question {
        code: code.into(),
        datatype,
        required,
        description: description.into(),
        datatype_description: None,
        values: values
            .iter()
            .map(|(k, n)| Choice {
                key: (*k).into(),
                name: (*n).into(),
            })
            .collect(),
    }
}

/// The built-in group, search keywords and questions of a category code.
pub fn builtin(code: &str) -> (&'static str, &'static [&'static str], Vec<Question>) {
    use Datatype::*;
    match code {
        "sanitation" => (
            "市容环境",
            &["垃圾", "卫生", "rubbish", "litter"],
            vec![q(
                "waste",
                Multivaluelist,
                false,
                "什么垃圾？ What kind of waste?",
                &[
                    ("household", "生活垃圾"),
                    ("construction", "建筑垃圾"),
                    ("bulky", "大件垃圾"),
                    ("other", "其他"),
                ],
            )],
        ),
        "roads" => (
            "市政设施",
            &["道路", "井盖", "pothole", "road"],
            vec![q(
                "hazard",
                Singlevaluelist,
                true,
                "路面出了什么问题？ What is wrong with the road?",
                &[
                    ("pothole", "坑洼"),
                    ("subsidence", "路面塌陷"),
                    ("cover", "井盖缺失或破损"),
                    ("other", "其他"),
                ],
            )],
        ),
        "drainage" => (
            "市政设施",
            &["排水", "积水", "flood", "drain"],
            vec![q(
                "standing_water",
                Singlevaluelist,
                true,
                "现场有积水吗？ Is there standing water?",
                &[("yes", "有"), ("no", "没有")],
            )],
        ),
        "lighting" => (
            "市政设施",
            &["路灯", "照明", "streetlight", "lamp"],
            vec![
                q(
                    "lamps",
                    Number,
                    true,
                    "有几盏灯不亮？ How many lamps are out?",
                    &[],
                ),
                q(
                    "pole",
                    String,
                    false,
                    "灯杆编号（如有） Pole number, if marked",
                    &[],
                ),
            ],
        ),
        "safety" => (
            "公共安全",
            &["安全", "隐患", "danger", "hazard"],
            vec![q(
                "danger",
                Singlevaluelist,
                true,
                "危险正在发生吗？ Is someone in danger now?",
                &[("now", "正在发生"), ("risk", "存在隐患")],
            )],
        ),
        "greening" => ("市容环境", &["绿化", "树木", "tree", "park"], vec![]),
        "traffic" => ("交通秩序", &["停车", "交通", "parking", "traffic"], vec![]),
        "market" => ("市容环境", &["占道", "摊贩", "street trading"], vec![]),
        "construction" => ("城市管理", &["违建", "illegal building"], vec![]),
        "property" => ("住房物业", &["物业", "小区", "property"], vec![]),
        "utilities" => ("市政设施", &["停水", "燃气", "water", "gas"], vec![]),
        "noise" => ("城市管理", &["噪音", "扰民", "noise"], vec![]),
        "elderly" => ("民生服务", &["养老", "助残", "elderly"], vec![]),
        "civility" => ("民生服务", &["文明", "civility"], vec![]),
        _ => ("其他", &[], vec![]),
    }
}

fn bad(field: &str, why: String) -> RuleError {
    RuleError::invalid_owned(format!("attribute[{field}]"), why)
}

/// Checks answers against the questions and returns them trimmed. With `all_required`, a
/// required question left unanswered is refused (Open311 clients read the definitions; the
/// dashboard's quick filing does not ask the questions).
pub fn check(
    questions: &[Question],
    given: &Answers,
    all_required: bool,
) -> Result<Answers, RuleError> {
    let mut out = Answers::new();
    for (code, values) in given {
        let Some(q) = questions.iter().find(|q| &q.code == code) else {
            let known: Vec<&str> = questions.iter().map(|q| q.code.as_str()).collect();
            return Err(bad(
                code,
                if known.is_empty() {
                    "this category asks no questions".into()
                } else {
                    format!(
                        "not a question of this category; it asks {}",
                        known.join(", ")
                    )
                },
            ));
        };
        let values: Vec<String> = values
            .iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        if values.len() > 1 && q.datatype != Datatype::Multivaluelist {
            return Err(bad(code, "takes one answer".into()));
        }
        let mut kept = Vec::with_capacity(values.len());
        for v in &values {
            // Free answers follow the rules of the fields they are like: a line, or a note.
            let free = match q.datatype {
                Datatype::String => Some(text::TITLE),
                Datatype::Text => Some(text::NOTE),
                _ => None,
            };
            if let Some(rule) = free {
                kept.push(text::required("attribute", v, rule).map_err(|e| match e {
                    RuleError::Invalid { reason, .. } => bad(code, reason),
                    other => other,
                })?);
                continue;
            }
            kept.push(v.clone());
            if v.chars().any(char::is_control) {
                return Err(bad(code, "must not contain control characters".into()));
            }
            let ok = match q.datatype {
                Datatype::String | Datatype::Text => true,
                Datatype::Number => v.parse::<f64>().is_ok_and(f64::is_finite),
                Datatype::Datetime => chrono::DateTime::parse_from_rfc3339(v).is_ok(),
                Datatype::Singlevaluelist | Datatype::Multivaluelist => {
                    q.values.iter().any(|c| &c.key == v)
                }
            };
            if !ok {
                let why = match q.datatype {
                    Datatype::Number => format!("must be a number; got {v:?}"),
                    Datatype::Datetime => format!("must be an RFC 3339 time; got {v:?}"),
                    _ => {
                        let keys: Vec<&str> = q.values.iter().map(|c| c.key.as_str()).collect();
                        format!("{v:?} is not one of {}", keys.join(", "))
                    }
                };
                return Err(bad(code, why));
            }
        }
        out.insert(code.clone(), kept);
    }
    if all_required {
        if let Some(q) = questions
            .iter()
            .find(|q| q.required && !out.contains_key(&q.code))
        {
            return Err(bad(&q.code, format!("is required: {}", q.description)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, &[&str])]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn answers_are_checked_by_datatype() {
        let (_, _, roads) = builtin("roads");
        let (_, _, lights) = builtin("lighting");
        let (_, _, waste) = builtin("sanitation");
        assert!(check(&roads, &answers(&[("hazard", &["pothole"])]), true).is_ok());
        assert!(check(&roads, &answers(&[("hazard", &["volcano"])]), true).is_err());
        assert!(check(&roads, &answers(&[("hazard", &["pothole", "cover"])]), true).is_err());
        assert!(check(&roads, &answers(&[]), true).is_err(), "required");
        assert!(check(&roads, &answers(&[]), false).is_ok());
        assert!(check(&roads, &answers(&[("colour", &["red"])]), false).is_err());
        assert!(check(&lights, &answers(&[("lamps", &["3"])]), true).is_ok());
        assert!(check(&lights, &answers(&[("lamps", &["three"])]), true).is_err());
        assert!(check(&lights, &answers(&[("lamps", &["NaN"])]), true).is_err());
        let both = answers(&[("waste", &["household", "bulky"])]);
        assert_eq!(check(&waste, &both, true).map(|a| a["waste"].len()), Ok(2));
        let err = check(&roads, &answers(&[("hazard", &["volcano"])]), true).unwrap_err();
        assert!(err.to_string().contains("attribute[hazard]"), "{err}");
    }
}
