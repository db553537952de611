//! What the dashboard knows: the directory, the unanswered queue in queue order, stats.

use std::collections::{BTreeMap, HashMap};

use shaozi_shared::api::{Community, Department, Stats, Street};
use shaozi_shared::{Category, CommunityId, DepartmentId, StreetId, Urgency, Whistle, WhistleId};

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

/// A whistle's place in the queue: overdue first, then escalated, then urgent, then earliest
/// deadline, as the server orders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QKey {
    overdue: u8,
    escalated: u8,
    urgent: u8,
    due_ms: i64,
    /// The whistle.
    pub id: u64,
}

impl QKey {
    /// The key of a whistle.
    pub fn of(w: &Whistle) -> QKey {
        QKey {
            overdue: u8::from(!w.overdue),
            escalated: u8::from(w.escalation_level == 0),
            urgent: u8::from(w.urgency != Urgency::Urgent),
            due_ms: w.respond_by.timestamp_millis(),
            id: w.id.0,
        }
    }
}

/// What an update did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It joined the queue.
    Added,
    /// It was in the queue and changed.
    Updated,
    /// It left the queue (someone reported for duty, or it was rejected).
    Removed,
    /// Not in the queue before or after.
    Outside,
    /// Older than what we have; ignored.
    Stale,
}

/// The unanswered whistles, sorted in queue order so a window of rows is a slice.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    keys: Vec<QKey>,
    items: HashMap<WhistleId, Whistle>,
    versions: HashMap<WhistleId, u64>,
}

impl Queue {
    /// Replaces everything with `whistles` (a fresh load): one sort, not n inserts.
    pub fn replace(&mut self, whistles: Vec<Whistle>) {
        self.keys.clear();
        self.items.clear();
        self.versions.clear();
        for w in whistles {
            if self.versions.get(&w.id).is_some_and(|v| *v >= w.version) {
                continue;
            }
            self.versions.insert(w.id, w.version);
            if w.status.is_unanswered() {
                self.items.insert(w.id, w);
            } else {
                self.items.remove(&w.id);
            }
        }
        self.keys = self.items.values().map(QKey::of).collect();
        self.keys.sort_unstable();
    }

    /// Applies a newer version of a whistle; older versions are ignored, so replayed and
    /// reordered events are harmless.
    pub fn upsert(&mut self, w: Whistle) -> Change {
        if self.versions.get(&w.id).is_some_and(|v| *v >= w.version) {
            return Change::Stale;
        }
        self.versions.insert(w.id, w.version);
        let was = self.items.remove(&w.id);
        if let Some(old) = &was {
            if let Ok(i) = self.keys.binary_search(&QKey::of(old)) {
                self.keys.remove(i);
            }
        }
        if w.status.is_unanswered() {
            let k = QKey::of(&w);
            let i = self.keys.binary_search(&k).unwrap_or_else(|i| i);
            self.keys.insert(i, k);
            self.items.insert(w.id, w);
            if was.is_some() {
                Change::Updated
            } else {
                Change::Added
            }
        } else if was.is_some() {
            Change::Removed
        } else {
            Change::Outside
        }
    }

    /// The keys in queue order.
    pub fn keys(&self) -> &[QKey] {
        &self.keys
    }

    /// A whistle in the queue.
    pub fn get(&self, id: WhistleId) -> Option<&Whistle> {
        self.items.get(&id)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The last version seen of a whistle (in the queue or not).
    pub fn version(&self, id: WhistleId) -> Option<u64> {
        self.versions.get(&id).copied()
    }
}

/// A narrowing of the queue: free text and `dept=… cat=… overdue urgent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Words that must all appear in the id, title, community, category or department.
    pub words: Vec<String>,
    /// Department name or id contains this.
    pub dept: Option<String>,
    /// Category code or name contains this.
    pub cat: Option<String>,
    /// Only overdue.
    pub overdue: bool,
    /// Only urgent.
    pub urgent: bool,
}

impl Filter {
    /// Parses what was typed after `/`.
    pub fn parse(s: &str) -> Filter {
        let mut f = Filter::default();
        for w in s.split_whitespace() {
            let lw = w.to_lowercase();
            if let Some(v) = lw.strip_prefix("dept=") {
                f.dept = Some(v.to_string());
            } else if let Some(v) = lw.strip_prefix("cat=") {
                f.cat = Some(v.to_string());
            } else if lw == "overdue" || lw == "超时" {
                f.overdue = true;
            } else if lw == "urgent" || lw == "紧急" {
                f.urgent = true;
            } else {
                f.words.push(lw);
            }
        }
        f
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether a whistle passes.
    pub fn matches(&self, w: &Whistle, dir: &Directory, lang: Lang) -> bool {
        if self.overdue && !w.overdue || self.urgent && w.urgency != Urgency::Urgent {
            return false;
        }
        let dept = dir.department(w.department_id).to_lowercase();
        let dept_id = w
            .department_id
            .map(|d| d.to_string().to_lowercase())
            .unwrap_or_default();
        if let Some(d) = &self.dept {
            if !(dept.contains(d.as_str()) || dept_id == *d) {
                return false;
            }
        }
        let cat = dir.category(&w.category, lang).to_lowercase();
        if let Some(c) = &self.cat {
            if !(cat.contains(c.as_str()) || w.category.contains(c.as_str())) {
                return false;
            }
        }
        if self.words.is_empty() {
            return true;
        }
        let hay = format!(
            "{} {} {} {} {} {}",
            w.id.to_string().to_lowercase(),
            w.title.to_lowercase(),
            dir.community(w.community_id).to_lowercase(),
            cat,
            dept,
            w.address.as_deref().unwrap_or("").to_lowercase()
        );
        self.words.iter().all(|word| hay.contains(word.as_str()))
    }
}

/// Everything fetched from the server.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Names.
    pub dir: Directory,
    /// The unanswered queue.
    pub queue: Queue,
    /// Latest stats.
    pub stats: Option<Stats>,
}
