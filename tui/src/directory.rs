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
