//! The city's directory as the dashboard keeps it, for names.

use std::collections::{BTreeMap, HashMap};

use shaozi_shared::api::{Community, Department, Street};
use shaozi_shared::{Category, CommunityId, DepartmentId, StreetId};

use crate::i18n::Lang;

/// Streets, communities, departments and categories, for names.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Streets.
    pub streets: HashMap<StreetId, Street>,
    /// Communities.
    pub communities: HashMap<CommunityId, Community>,
    /// Departments, in id order.
    pub departments: BTreeMap<DepartmentId, Department>,
    /// Categories.
    pub categories: Vec<Category>,
    /// The reply templates the token sees (the city's and its unit's own).
    pub templates: Vec<shaozi_shared::api::ReplyTemplate>,
}

impl Directory {
    /// A community's name, or its id.
    pub fn community(&self, id: CommunityId) -> String {
        self.communities
            .get(&id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    }

    /// A street's name, or its id.
    pub fn street(&self, id: StreetId) -> String {
        self.streets
            .get(&id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }

    /// A department's name, or its id; empty for none.
    pub fn department(&self, id: Option<DepartmentId>) -> String {
        match id {
            None => String::new(),
            Some(id) => self
                .departments
                .get(&id)
                .map_or_else(|| id.to_string(), |d| d.name.clone()),
        }
    }

    /// A category's name in `lang`, or its code.
    /// A category's name in `room` columns: the built-in ones have a short English name for a
    /// narrow column ("Street lighting" and "Street trading and markets" would both read
    /// "Street…"); others are cut.
    pub fn category_in(&self, code: &str, lang: Lang, room: usize) -> String {
        let full = self.category(code, lang);
        if lang == Lang::En && crate::text::width(&full) > room {
            if let Some(short) = short_category_en(code) {
                return short.to_string();
            }
        }
        full
    }

    pub fn category(&self, code: &str, lang: Lang) -> String {
        self.categories.iter().find(|c| c.code == code).map_or_else(
            || code.to_string(),
            |c| match lang {
                Lang::Zh => c.name_zh.clone(),
                Lang::En => c.name_en.clone(),
            },
        )
    }
}

/// Short English names of the built-in categories: one word of at most six letters (the
/// column's least width), none alike.
fn short_category_en(code: &str) -> Option<&'static str> {
    Some(match code {
        "sanitation" => "Refuse",
        "roads" => "Roads",
        "drainage" => "Drains",
        "lighting" => "Lights",
        "greening" => "Parks",
        "traffic" => "Cars",
        "market" => "Market",
        "construction" => "Build",
        "property" => "Estate",
        "utilities" => "Water",
        "safety" => "Safety",
        "noise" => "Noise",
        "elderly" => "Care",
        "civility" => "Civic",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_category_names_fit_the_narrowest_column_and_differ() {
        let mut seen = std::collections::BTreeSet::new();
        for (code, _, _) in shaozi_shared::category::CATEGORIES {
            let short = super::short_category_en(code).unwrap_or_default();
            assert!((1..=6).contains(&short.len()), "{code}: {short:?}");
            assert!(seen.insert(short), "{short} twice");
        }
    }
}
