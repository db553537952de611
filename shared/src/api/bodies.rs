//! What clients send: every request body of `/api/v1`. Bodies refuse unknown fields, so a
//! typo is an error rather than silently ignored; the limits on free text are those of
//! [`crate::text`], published as `maxLength` (a server test keeps them equal).

use serde::{Deserialize, Serialize};

use crate::category::Urgency;
use crate::ids::{CommunityId, DepartmentId, StreetId};
use crate::whistle::Reporter;

/// `POST /api/v1/streets`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStreet {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
}

/// `POST /api/v1/communities`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCommunity {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Its street office.
    pub street_id: StreetId,
}

/// `POST /api/v1/departments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Category codes it handles.
    pub categories: Vec<String>,
}

/// `POST /api/v1/whistles`: a community blows the whistle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWhistle {
    /// The community.
    pub community_id: CommunityId,
    /// Category code.
    pub category: String,
    /// One line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub title: String,
    /// What the problem is.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub description: String,
    /// Urgent or normal.
    pub urgency: Urgency,
    /// Where, in words.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub address: Option<String>,
    /// Latitude, −90..90.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub lat: Option<f64>,
    /// Longitude, −180..180.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub long: Option<f64>,
    /// A photo of the problem: an http(s) URL.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    #[serde(default)]
    pub media_url: Option<String>,
    /// The resident who reported it, so the department can call back; never published.
    #[serde(default)]
    pub reporter: Option<Reporter>,
    /// Answers to the category's questions (see `questions` in GET /api/v1/categories).
    #[serde(default)]
    pub attributes: crate::questions::Answers,
    /// Where it came from; by default `community` from a community's token, else `other`
    /// (Open311 files `open311`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::case::Source>,
}

/// `POST /api/v1/wishes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWish {
    /// The resident's community.
    pub community_id: CommunityId,
    /// One line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub title: String,
    /// More detail.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    /// Value in fen.
    pub value_fen: i64,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Role.
    pub role: crate::access::Role,
    /// Scope for a street dispatcher.
    #[serde(default)]
    pub street_id: Option<StreetId>,
    /// Scope for a department.
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
    /// Scope for a community.
    #[serde(default)]
    pub community_id: Option<CommunityId>,
    /// A unique name: the actor in the log.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Days until it expires.
    #[serde(default)]
    pub expires_days: Option<i64>,
}

impl NewToken {
    /// The scope the fields describe, or why they do not describe one.
    pub fn scope(&self) -> Result<crate::access::Scope, String> {
        use crate::access::Scope;
        let scope = match (self.street_id, self.department_id, self.community_id) {
            (None, None, None) => Scope::City,
            (Some(s), None, None) => Scope::Street(s),
            (None, Some(d), None) => Scope::Department(d),
            (None, None, Some(c)) => Scope::Community(c),
            _ => return Err("give at most one of street_id, department_id, community_id".into()),
        };
        crate::access::Principal::check_scope(self.role, scope)?;
        Ok(scope)
    }
}

/// Kinds of activity counted in the assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// 环境整治: environmental clean-up.
    Cleanup,
    /// 文明劝导: civility persuasion.
    Persuasion,
    /// 五小: the "five smalls".
    FiveSmalls,
    /// 新时代文明实践: civilisation-practice events.
    Practice,
}

/// `POST /api/v1/activities`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    /// The department that took part.
    pub department_id: DepartmentId,
    /// Where.
    pub community_id: CommunityId,
    /// What kind.
    pub kind: ActivityKind,
    /// The day it took place (local date).
    pub date: chrono::NaiveDate,
    /// How many took part.
    pub participants: i64,
    /// What was done.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}
