//! The stats, read from counters kept in the same transaction as every change: the city's,
//! and what a token's scope may see, worked out the same way over any engine's counters.

use std::collections::HashMap;

use shaozi_shared::api::{
    CommunityWishes, DepartmentLoad, QueueStats, SourceTotal, Stats, WishStats, WishTotals,
};
use shaozi_shared::case::Source;
use shaozi_shared::{Principal, Scope};

use shaozi_shared::api::{Community, Department};

use super::counts::counter::{self, Queue};
use super::StoreError;

fn totals(get: impl Fn(&str) -> i64) -> WishTotals {
    WishTotals {
        total: get("total"),
        claimed: get("claimed"),
        completed: get("completed"),
        value_total_fen: get("value_total"),
        value_completed_fen: get("value_completed"),
    }
}

/// Splits counters named `{id:010}/{field}` into per-id maps.
fn per_unit(rows: Vec<(String, i64)>) -> HashMap<u64, HashMap<String, i64>> {
    let mut out: HashMap<u64, HashMap<String, i64>> = HashMap::new();
    for (name, v) in rows {
        if let Some((id, field)) = name.split_once('/') {
            if let Ok(id) = id.parse() {
                out.entry(id).or_default().insert(field.to_string(), v);
            }
        }
    }
    out
}

/// An engine's counters (kept in the same transaction as every change, named by
/// [`counter`]), from which any engine's stats are worked out the same way.
pub trait Counted {
    /// The sequence number of the last event.
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// A counter's value (0 for one never written).
    fn counter(&self, name: &str) -> Result<i64, StoreError>;
    /// Every counter under `prefix`, as (rest of the name, value).
    fn counters_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError>;
    /// Every department, in id order.
    fn departments(&self) -> Result<Vec<Department>, StoreError>;
    /// Every community, in id order.
    fn communities(&self) -> Result<Vec<Community>, StoreError>;

    /// The city's stats; the cost depends on the directory's size, never on history.
    fn stats(&self) -> Result<Stats, StoreError> {
        let last_seq = self.last_seq()?;
        let queue = QueueStats {
            unanswered: self.counter(&counter::queue(Queue::City, "unanswered"))?,
            overdue: self.counter(&counter::queue(Queue::City, "overdue"))?,
            urgent: self.counter(&counter::queue(Queue::City, "urgent"))?,
        };
        let departments = self.department_loads(counter::DEPARTMENTS)?;
        let wish_rows = self.counters_under(counter::WISHES)?;
        let city = totals(|k| {
            wish_rows
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| *v)
                .unwrap_or(0)
        });
        let per_comm = per_unit(self.counters_under(counter::COMMUNITY_WISHES)?);
        let mut by_community: Vec<CommunityWishes> = self
            .communities()?
            .into_iter()
            .map(|c| {
                let m = per_comm.get(&c.id.0);
                CommunityWishes {
                    community_id: c.id.to_string(),
                    name: c.name,
                    totals: totals(|k| m.and_then(|m| m.get(k)).copied().unwrap_or(0)),
                }
            })
            .collect();
        by_community.sort_by(|a, b| {
            b.totals
                .total
                .cmp(&a.totals.total)
                .then_with(|| a.community_id.cmp(&b.community_id))
        });
        Ok(Stats {
            queue,
            departments,
            wishes: WishStats {
                totals: city,
                by_community,
            },
            sources: self.sources(Queue::City)?,
            last_seq,
        })
    }

    /// Every department's load from the counters under `prefix` (the city's, or one
    /// street's view), busiest first.
    fn department_loads(&self, prefix: &str) -> Result<Vec<DepartmentLoad>, StoreError> {
        let loads = per_unit(self.counters_under(prefix)?);
        let mut departments: Vec<DepartmentLoad> = self
            .departments()?
            .into_iter()
            .map(|d| {
                let c = loads.get(&d.id.0);
                let f = |k: &str| c.and_then(|m| m.get(k)).copied().unwrap_or(0);
                DepartmentLoad {
                    id: d.id.to_string(),
                    name: d.name,
                    dispatched: f("dispatched"),
                    acknowledged: f("acknowledged"),
                    open: f("open"),
                    overdue: f("overdue"),
                }
            })
            .collect();
        departments.sort_by(|a, b| {
            (b.overdue, b.dispatched + b.acknowledged, b.open)
                .cmp(&(a.overdue, a.dispatched + a.acknowledged, a.open))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(departments)
    }

    /// Whistles per source, every source listed, of the city or one unit.
    fn sources(&self, q: Queue) -> Result<Vec<SourceTotal>, StoreError> {
        Source::ALL
            .into_iter()
            .map(|source| {
                Ok(SourceTotal {
                    source,
                    whistles: self.counter(&counter::source(q, source))?,
                })
            })
            .collect()
    }

    /// One unit's queue.
    fn unit_queue(&self, q: Queue) -> Result<QueueStats, StoreError> {
        Ok(QueueStats {
            unanswered: self.counter(&counter::queue(q, "unanswered"))?,
            overdue: self.counter(&counter::queue(q, "overdue"))?,
            urgent: self.counter(&counter::queue(q, "urgent"))?,
        })
    }

    /// The stats a token may see: its unit's queue, the department loads dispatchers need to
    /// assign (a street's counting its own cases; a department sees its own), and the wishes
    /// of the communities it covers.
    fn stats_for(&self, who: &Principal) -> Result<Stats, StoreError> {
        let mut s = self.stats()?;
        let keep_comms = |s: &mut Stats, keep: &dyn Fn(&str) -> bool| {
            s.wishes.by_community.retain(|c| keep(&c.community_id));
            let mut t = WishTotals::default();
            for c in &s.wishes.by_community {
                t.total += c.totals.total;
                t.claimed += c.totals.claimed;
                t.completed += c.totals.completed;
                t.value_total_fen += c.totals.value_total_fen;
                t.value_completed_fen += c.totals.value_completed_fen;
            }
            s.wishes.totals = t;
        };
        match who.scope {
            Scope::City => {}
            Scope::Street(st) => {
                s.queue = self.unit_queue(Queue::Street(st.0))?;
                s.sources = self.sources(Queue::Street(st.0))?;
                // Every department (the dispatcher assigns to any), loaded with the street's
                // own cases only, as opening one shows.
                s.departments = self.department_loads(&counter::street_departments(st.0))?;
                let mine: Vec<String> = self
                    .communities()?
                    .into_iter()
                    .filter(|c| c.street_id == st)
                    .map(|c| c.id.to_string())
                    .collect();
                keep_comms(&mut s, &|c| mine.iter().any(|m| m == c));
            }
            Scope::Department(d) => {
                s.queue = self.unit_queue(Queue::Department(d.0))?;
                s.sources = self.sources(Queue::Department(d.0))?;
                let id = d.to_string();
                s.departments.retain(|x| x.id == id);
            }
            Scope::Community(c) => {
                s.queue = self.unit_queue(Queue::Community(c.0))?;
                s.sources = self.sources(Queue::Community(c.0))?;
                s.departments.clear();
                let id = c.to_string();
                keep_comms(&mut s, &|x| x == id);
            }
        }
        Ok(s)
    }
}
