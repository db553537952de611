//! The directory as the demo knows it, and loading it into an empty store.

use std::collections::HashMap;

use shaozi_shared::api::{NewCommunity, NewDepartment, NewStreet, NewWhistle};
use shaozi_shared::case::Source;
use shaozi_shared::whistle::Reporter;
use shaozi_shared::{CommunityId, DepartmentId, Principal, Role, Scope, StreetId, Urgency};

use super::names;
use super::*;
use crate::storage::Reads;
use crate::writer::{Command, Reply, WriteError, WriterHandle};

/// The directory as the demo knows it.
pub(super) struct City {
    pub(super) streets: HashMap<StreetId, String>,
    pub(super) communities: Vec<(CommunityId, String, StreetId)>,
    pub(super) departments: Vec<(DepartmentId, String, Vec<String>)>,
}

impl City {
    pub(super) fn read(store: &dyn Reads) -> Option<City> {
        let streets = store
            .streets()
            .ok()?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let communities: Vec<_> = store
            .communities()
            .ok()?
            .into_iter()
            .map(|c| (c.id, c.name, c.street_id))
            .collect();
        let departments: Vec<_> = store
            .departments()
            .ok()?
            .into_iter()
            .map(|d| (d.id, d.name, d.categories))
            .collect();
        (!communities.is_empty() && !departments.is_empty()).then_some(City {
            streets,
            communities,
            departments,
        })
    }

    pub(super) fn community_name(&self, id: CommunityId) -> String {
        self.communities
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.1.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The street a community belongs to.
    pub(super) fn street_of(&self, id: CommunityId) -> StreetId {
        self.communities
            .iter()
            .find(|c| c.0 == id)
            .map_or(StreetId(1), |c| c.2)
    }

    /// Who files a whistle, by its seed: most come from their community; some reach the city
    /// office by the 12345 hotline, or the street's window, for a resident who gives a name and
    /// a phone; some are the street's own (its grid workers, its law enforcement).
    pub(super) fn filer(&self, nw: &mut NewWhistle, seed: u64) -> Principal {
        let street = self.street_of(nw.community_id);
        let resident = || Reporter {
            name: Some(person(seed >> 3)),
            email: None,
            phone: Some(format!("13{}", 100_000_000 + (seed >> 9) % 900_000_000)),
        };
        let (source, reporter, who) = match (seed >> 45) % 20 {
            0..=2 => (Source::Hotline, Some(resident()), office()),
            3 => (Source::WalkIn, Some(resident()), self.dispatcher(street)),
            4 | 5 => (Source::Grid, None, self.dispatcher(street)),
            6 => (Source::Street, None, self.dispatcher(street)),
            _ => return community(self, nw.community_id),
        };
        nw.source = Some(source);
        nw.reporter = reporter;
        who
    }

    pub(super) fn dispatcher(&self, street: StreetId) -> Principal {
        let name = self
            .streets
            .get(&street)
            .cloned()
            .unwrap_or_else(|| street.to_string());
        Principal::new(
            format!("{name}调度员"),
            Role::Dispatcher,
            Scope::Street(street),
        )
    }

    pub(super) fn department(&self, id: Option<DepartmentId>) -> Principal {
        match id.and_then(|id| self.departments.iter().find(|d| d.0 == id)) {
            Some(d) => Principal::new(
                format!("{}专干", d.1),
                Role::Department,
                Scope::Department(d.0),
            ),
            None => office(),
        }
    }

    /// The department that handles `category` and carries the least load.
    pub(super) fn best_department(
        &self,
        category: &str,
        load: &HashMap<String, i64>,
        seed: u64,
    ) -> DepartmentId {
        let mut able: Vec<&(DepartmentId, String, Vec<String>)> = self
            .departments
            .iter()
            .filter(|d| d.2.iter().any(|c| c == category))
            .collect();
        if able.is_empty() {
            able = self.departments.iter().collect();
        }
        able.sort_by_key(|d| {
            (
                load.get(&d.0.to_string()).copied().unwrap_or(0),
                mix(seed ^ d.0 .0),
            )
        });
        able[0].0
    }

    pub(super) fn whistle(&self, seed: u64) -> NewWhistle {
        let (cid, _, _) = &self.communities[(seed % self.communities.len() as u64) as usize];
        // Lamps, refuse and roads are what residents call about most.
        const WEIGHTED: &[&str] = &[
            "sanitation",
            "sanitation",
            "sanitation",
            "roads",
            "roads",
            "lighting",
            "lighting",
            "drainage",
            "drainage",
            "property",
            "property",
            "traffic",
            "market",
            "construction",
            "greening",
            "utilities",
            "safety",
            "noise",
            "elderly",
            "civility",
        ];
        let category = pick(WEIGHTED, seed >> 7);
        let (title, desc) = pick(names::problems(category), seed >> 13);
        let road = pick(names::ROADS, seed >> 17);
        let n = (seed >> 23) % 8 + 2;
        let fill = |s: &str| s.replace("{road}", road).replace("{n}", &n.to_string());
        NewWhistle {
            community_id: *cid,
            category: category.to_string(),
            title: fill(title),
            description: fill(desc),
            urgency: if (seed >> 29).is_multiple_of(4) {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            address: Some(format!("{road}{}号", (seed >> 33) % 300 + 1)),
            lat: Some(28.55 + ((seed >> 37) % 1000) as f64 / 10_000.0),
            long: Some(112.33 + ((seed >> 41) % 1000) as f64 / 10_000.0),
            media_url: None,
            reporter: None,
            attributes: Default::default(),
            source: None,
        }
    }
}

/// Loads the directory into an empty store. Returns false when the store already has one.
pub(super) async fn load_directory(
    store: &dyn Reads,
    w: &WriterHandle,
) -> Result<bool, WriteError> {
    if !store.streets().map(|s| s.is_empty()).unwrap_or(false) {
        return Ok(false);
    }
    let admin = office();
    let mut streets = Vec::new();
    for name in names::STREETS {
        if let Reply::Street(s) = w
            .submit(
                Command::CreateStreet(NewStreet {
                    name: name.to_string(),
                }),
                admin.clone(),
            )
            .await?
        {
            streets.push(s.id);
        }
    }
    for (i, stem) in names::COMMUNITY_STEMS.iter().enumerate() {
        // A few are urban villages (城中村), as in the report.
        let name = if i % 9 == 8 {
            format!("{stem}村")
        } else {
            format!("{stem}社区")
        };
        let street_id = streets[i % streets.len()];
        w.submit(
            Command::CreateCommunity(NewCommunity { name, street_id }),
            admin.clone(),
        )
        .await?;
    }
    for (i, name) in names::DEPARTMENTS.iter().enumerate() {
        let categories = names::categories_for(name, i)
            .into_iter()
            .map(str::to_string)
            .collect();
        w.submit(
            Command::CreateDepartment(NewDepartment {
                name: name.to_string(),
                categories,
            }),
            admin.clone(),
        )
        .await?;
    }
    Ok(true)
}
