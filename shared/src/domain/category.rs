//! Problem categories and their deadlines.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Span};

/// How urgent a whistle is; urgent ones must be reported for within 30 minutes by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 紧急.
    Urgent,
    /// 一般.
    Normal,
}

/// How long a department has for each stage, counted from the whistle (or its reopening),
/// in calendar or working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StageDeadlines {
    /// To report for duty (报到), e.g. `30m` or `1wd`.
    pub respond: Span,
    /// To resolve and reply, e.g. `7d` or `5wd`.
    pub resolve: Span,
}

/// Deadlines by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadlines {
    /// For urgent whistles.
    pub urgent: StageDeadlines,
    /// For normal whistles.
    pub normal: StageDeadlines,
}

impl Deadlines {
    /// The defaults of domain.md: report within 30 min (urgent) or 24 h; resolve within 24 h
    /// (urgent) or 7 days.
    pub const DEFAULT: Deadlines = Deadlines {
        urgent: StageDeadlines {
            respond: Span::Minutes(30),
            resolve: Span::Minutes(24 * 60),
        },
        normal: StageDeadlines {
            respond: Span::Minutes(24 * 60),
            resolve: Span::Minutes(7 * 24 * 60),
        },
    };

    /// The deadlines for one urgency.
    pub fn for_urgency(&self, urgency: Urgency) -> StageDeadlines {
        match urgency {
            Urgency::Urgent => self.urgent,
            Urgency::Normal => self.normal,
        }
    }

    /// When a whistle of this urgency filed at `from` must be reported for.
    pub fn respond_by(
        &self,
        urgency: Urgency,
        from: DateTime<Utc>,
        cal: &Calendar,
    ) -> DateTime<Utc> {
        cal.add(from, self.for_urgency(urgency).respond)
    }

    /// When a whistle of this urgency filed (or reopened) at `from` must be resolved.
    pub fn resolve_by(
        &self,
        urgency: Urgency,
        from: DateTime<Utc>,
        cal: &Calendar,
    ) -> DateTime<Utc> {
        cal.add(from, self.for_urgency(urgency).resolve)
    }
}

/// A kind of problem a community can whistle about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    /// Stable code used in the API, e.g. `sanitation`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Its deadlines.
    pub deadlines: Deadlines,
    /// The group it is listed under, e.g. 市政设施.
    #[serde(default)]
    pub group: String,
    /// Words a resident might search for it by.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The extra questions a report in this category answers.
    #[serde(default)]
    pub questions: Vec<crate::questions::Question>,
}

/// The built-in categories: (code, Chinese, English).
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    ("sanitation", "环境卫生", "Sanitation and refuse"),
    ("roads", "道路设施", "Roads and pavements"),
    ("drainage", "排水防涝", "Drains and flooding"),
    ("lighting", "路灯照明", "Street lighting"),
    ("greening", "园林绿化", "Parks and greenery"),
    ("traffic", "交通秩序", "Traffic and parking"),
    ("market", "市容市场", "Street trading and markets"),
    ("construction", "违章建设", "Unauthorised building"),
    ("property", "物业管理", "Property management"),
    ("utilities", "供水供气", "Water and gas supply"),
    ("safety", "安全隐患", "Safety hazards"),
    ("noise", "噪声扰民", "Noise"),
    ("elderly", "养老助残", "Elderly and disabled care"),
    ("civility", "文明创建", "Civility campaign"),
];

impl Category {
    /// The built-in categories with default deadlines.
    pub fn builtin() -> Vec<Category> {
        CATEGORIES
            .iter()
            .map(|(code, zh, en)| {
                let (group, keywords, questions) = crate::questions::builtin(code);
                Category {
                    code: (*code).to_string(),
                    name_zh: (*zh).to_string(),
                    name_en: (*en).to_string(),
                    deadlines: Deadlines::DEFAULT,
                    group: group.to_string(),
                    keywords: keywords.iter().map(|k| k.to_string()).collect(),
                    questions,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn default_deadlines_follow_the_domain() {
        use chrono::Duration;
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let d = Deadlines::DEFAULT;
        let c = Calendar::default();
        assert_eq!(
            d.respond_by(Urgency::Urgent, t, &c),
            t + Duration::minutes(30)
        );
        assert_eq!(
            d.respond_by(Urgency::Normal, t, &c),
            t + Duration::hours(24)
        );
        assert_eq!(
            d.resolve_by(Urgency::Urgent, t, &c),
            t + Duration::hours(24)
        );
        assert_eq!(d.resolve_by(Urgency::Normal, t, &c), t + Duration::days(7));
        let cats = Category::builtin();
        assert_eq!(cats.len(), CATEGORIES.len());
        let mut codes: Vec<_> = cats.iter().map(|c| &c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), cats.len(), "category codes are unique");
    }
}
