//! Reply templates on the wire: the template itself is the rules' own
//! ([`crate::templates::ReplyTemplate`]); here the body that adds one and the list.

use serde::{Deserialize, Serialize};

pub use crate::templates::{ReplyTemplate, TemplateStep};

/// `POST /api/v1/templates`: a template for the caller's part of the city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// The category it is for (a code); leave out for every category.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub category: Option<String>,
    /// Which prompt offers it (`resolve`, `reject` or `any`).
    #[serde(default)]
    pub step: TemplateStep,
    /// A short name for the picker.
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: String,
    /// The words, with placeholders `{community}`, `{address}`, `{department}`, `{staff}`,
    /// `{title}`, `{id}`.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub text: String,
}

/// `GET /api/v1/templates`: those the caller sees, the rules file's first, then the kept ones
/// by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Templates {
    /// The templates.
    pub items: Vec<ReplyTemplate>,
}
