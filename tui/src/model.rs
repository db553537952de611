//! What the dashboard knows: the directory, the unanswered queue in queue order, stats.

use std::collections::HashMap;

use shaozi_shared::api::Stats;
use shaozi_shared::{
    CommunityId, DepartmentId, StreetId, Urgency, Whistle, WhistleId, WhistleStatus,
};

use crate::i18n::Lang;
use shaozi_shared::case::Source;

pub use crate::directory::Directory;

/// A whistle's place in the queue: returned first (the dispatcher must act), then overdue,
/// then escalated, then urgent, then earliest deadline, as the server orders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QKey {
    /// 0 returned, 1 overdue, 2 the rest.
    class: u8,
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
            class: w.queue_class(),
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

/// A narrowing of a list of whistles: free words, and `dept=… cat=… status=… street=…
/// community=… overdue urgent` (or their Chinese names). Names are resolved against the
/// directory as the picker resolves them; see [`Filter::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Words that must all appear in the id, title, community, category or department.
    pub words: Vec<String>,
    /// Led by one of these departments.
    pub dept: Option<Vec<DepartmentId>>,
    /// Category code or name contains this.
    pub cat: Option<String>,
    /// In one of these statuses.
    pub status: Vec<WhistleStatus>,
    /// In one of these streets.
    pub street: Option<Vec<StreetId>>,
    /// Filed by one of these communities.
    pub community: Option<Vec<CommunityId>>,
    /// Only overdue.
    pub overdue: bool,
    /// Only urgent.
    pub urgent: bool,
    /// Only those whose deadline is near (the server warned).
    pub due: bool,
    /// Only from this source.
    pub source: Option<Source>,
}

/// What typed filter text means: the filter, what each name was taken to be, and what
/// cannot be applied as it stands (an unknown key, a name that fits several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The filter (an ambiguous name matches any of its candidates).
    pub filter: Filter,
    /// `部门 = 市住房和城乡建设局`, one per resolved name.
    pub chosen: Vec<String>,
    /// Why it cannot be applied as typed.
    pub problem: Option<String>,
}

/// Which records a typed name stands for: an exact id or name is that one; otherwise every
/// name matching it as the picker matches (containing it, or its characters in order).
fn resolve<T: Copy>(typed: &str, items: &[(T, String, String)]) -> Vec<(T, String)> {
    let t = typed.trim().to_lowercase();
    if let Some((id, _, name)) = items
        .iter()
        .find(|(_, code, name)| code.to_lowercase() == t || name.to_lowercase() == t)
    {
        return vec![(*id, name.clone())];
    }
    let mut hits: Vec<(u8, T, String)> = items
        .iter()
        .filter_map(|(id, _, name)| {
            crate::text::match_rank(name, typed).map(|r| (r, *id, name.clone()))
        })
        .collect();
    hits.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    hits.into_iter().map(|(_, id, name)| (id, name)).collect()
}

/// One name typed in a filter: the records it stands for, with what it was taken to be or
/// why it is not enough.
fn pick(
    zh: bool,
    label: &str,
    typed: &str,
    hits: Vec<(u64, String)>,
    chosen: &mut Vec<String>,
    problems: &mut Vec<String>,
) -> Option<Vec<u64>> {
    match hits.len() {
        0 => {
            problems.push(if zh {
                format!("没有{label}叫“{typed}”")
            } else {
                format!("no {label} matches {typed:?}")
            });
            Some(Vec::new())
        }
        1 => {
            chosen.push(format!("{label} = {}", hits[0].1));
            Some(vec![hits[0].0])
        }
        _ => {
            let names: Vec<String> = hits.iter().map(|h| h.1.clone()).collect();
            problems.push(if zh {
                format!(
                    "“{typed}”可指{}个{label}：{}——请写得更完整，或写编号",
                    names.len(),
                    names.join("、")
                )
            } else {
                format!(
                    "{typed:?} fits {} {label}s: {}; type more of the name, or its id",
                    names.len(),
                    names.join(", ")
                )
            });
            Some(hits.iter().map(|h| h.0).collect())
        }
    }
}

impl Filter {
    /// Parses what was typed after `/`, resolving names against `dir`.
    pub fn parse(s: &str, dir: &Directory, lang: Lang) -> Parsed {
        let zh = lang == Lang::Zh;
        let mut p = Parsed::default();
        let mut problems: Vec<String> = Vec::new();
        for w in s.split_whitespace() {
            let lw = w.to_lowercase();
            if let Some((k, v)) = lw.split_once('=') {
                match k {
                    "dept" | "department" | "部门" => {
                        let items: Vec<(u64, String, String)> = dir
                            .departments
                            .values()
                            .map(|d| (d.id.0, d.id.to_string(), d.name.clone()))
                            .collect();
                        let label = if zh { "部门" } else { "department" };
                        let ids = pick(zh, label, v, resolve(v, &items), &mut p.chosen, &mut problems);
                        p.filter.dept = ids.map(|v| v.into_iter().map(DepartmentId).collect());
                    }
                    "street" | "街道" => {
                        let items: Vec<(u64, String, String)> = dir
                            .streets
                            .values()
                            .map(|d| (d.id.0, d.id.to_string(), d.name.clone()))
                            .collect();
                        let label = if zh { "街道" } else { "street" };
                        let ids = pick(zh, label, v, resolve(v, &items), &mut p.chosen, &mut problems);
                        p.filter.street = ids.map(|v| v.into_iter().map(StreetId).collect());
                    }
                    "community" | "社区" => {
                        let items: Vec<(u64, String, String)> = dir
                            .communities
                            .values()
                            .map(|d| (d.id.0, d.id.to_string(), d.name.clone()))
                            .collect();
                        let label = if zh { "社区" } else { "community" };
                        let ids = pick(zh, label, v, resolve(v, &items), &mut p.chosen, &mut problems);
                        p.filter.community = ids.map(|v| v.into_iter().map(CommunityId).collect());
                    }
                    "cat" | "category" | "类别" => p.filter.cat = Some(v.to_string()),
                    "source" | "来源" => match crate::words::source_named(v) {
                        Some(src) => {
                            p.chosen.push(format!(
                                "{} = {}",
                                if zh { "来源" } else { "source" },
                                crate::words::source(lang, src)
                            ));
                            p.filter.source = Some(src);
                        }
                        None => problems.push(if zh {
                            format!("没有“{v}”这个来源；可用：社区 热线 open311 网格 来访 其他")
                        } else {
                            format!("no source {v:?}; try community, hotline, open311, grid, walk_in, other")
                        }),
                    },
                    "status" | "状态" => {
                        for name in v.split(',') {
                            match crate::words::status_named(name) {
                                Some(st) => p.filter.status.push(st),
                                None => problems.push(if zh {
                                    format!("没有“{name}”这个状态；可用：未派单 待报到 退单 处理中 待确认 已关闭 已驳回")
                                } else {
                                    format!("no status {name:?}; try new, dispatched, returned, acknowledged, resolved, closed, rejected")
                                }),
                            }
                        }
                    }
                    _ => problems.push(if zh {
                        format!("不认识的筛选条件“{k}”；可用：部门= 类别= 状态= 街道= 社区= 来源= 超时 紧急 退单 将到期（或 dept= cat= status= street= community= source= overdue urgent returned due）")
                    } else {
                        format!("unknown filter key {k:?}; use dept= cat= status= street= community= source= overdue urgent returned due")
                    }),
                }
            } else if lw == "overdue" || lw == "超时" {
                p.filter.overdue = true;
            } else if lw == "urgent" || lw == "紧急" {
                p.filter.urgent = true;
            } else if lw == "due" || lw == "将到期" || lw == "即将到期" {
                p.filter.due = true;
            } else if lw == "returned" || lw == "退单" {
                p.filter.status.push(WhistleStatus::Returned);
            } else if let Some(st) =
                crate::words::status_named(&lw).filter(|_| !lw.is_ascii() || lw == "unassigned")
            {
                // A status named in Chinese (未派单), or "unassigned", stands alone.
                p.filter.status.push(st);
            } else {
                p.filter.words.push(lw);
            }
        }
        p.problem = (!problems.is_empty()).then(|| problems.join("；"));
        p
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
        if self.due && !crate::words::due_soon(w) || self.source.is_some_and(|s| w.source != s) {
            return false;
        }
        if !self.status.is_empty() && !self.status.contains(&w.status) {
            return false;
        }
        if let Some(d) = &self.dept {
            if !w.department_id.is_some_and(|x| d.contains(&x)) {
                return false;
            }
        }
        if self
            .street
            .as_ref()
            .is_some_and(|s| !s.contains(&w.street_id))
            || self
                .community
                .as_ref()
                .is_some_and(|c| !c.contains(&w.community_id))
        {
            return false;
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
        let dept = dir.department(w.department_id).to_lowercase();
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
