//! `GET /api/v1/stats`: read from counters kept in the same transaction as every change.

use std::collections::HashMap;

use axum::extract::State;
use axum::{Extension, Json};

use shaozi_shared::api::{
    CommunityWishes, DepartmentLoad, QueueStats, Stats, WishStats, WishTotals,
};

use shaozi_shared::{Principal, Scope};

use crate::error::ApiError;
use crate::store::{Store, StoreError};
use crate::AppState;

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

/// Computes the stats; the cost depends on the directory's size, never on history.
pub fn compute(store: &Store) -> Result<Stats, StoreError> {
    let last_seq = store.last_seq()?;
    let queue = QueueStats {
        unanswered: store.counter("queue/unanswered")?,
        overdue: store.counter("queue/overdue")?,
        urgent: store.counter("queue/urgent")?,
    };
    let loads = per_unit(store.counters_under("dept/")?);
    let mut departments: Vec<DepartmentLoad> = store
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
    let wish_rows = store.counters_under("wish/")?;
    let city = totals(|k| {
        wish_rows
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| *v)
            .unwrap_or(0)
    });
    let per_comm = per_unit(store.counters_under("wishc/")?);
    let mut by_community: Vec<CommunityWishes> = store
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
        last_seq,
    })
}

fn unit_queue(store: &Store, prefix: &str) -> Result<QueueStats, StoreError> {
    Ok(QueueStats {
        unanswered: store.counter(&format!("{prefix}/unanswered"))?,
        overdue: store.counter(&format!("{prefix}/overdue"))?,
        urgent: store.counter(&format!("{prefix}/urgent"))?,
    })
}

/// The stats a token may see: its unit's queue, the department loads dispatchers need to
/// assign (a department sees its own), and the wishes of the communities it covers.
pub fn scoped(store: &Store, who: &Principal) -> Result<Stats, StoreError> {
    let mut s = compute(store)?;
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
            s.queue = unit_queue(store, &format!("uq/t/{:010}", st.0))?;
            let mine: Vec<String> = store
                .communities()?
                .into_iter()
                .filter(|c| c.street_id == st)
                .map(|c| c.id.to_string())
                .collect();
            keep_comms(&mut s, &|c| mine.iter().any(|m| m == c));
        }
        Scope::Department(d) => {
            s.queue = unit_queue(store, &format!("uq/d/{:010}", d.0))?;
            let id = d.to_string();
            s.departments.retain(|x| x.id == id);
        }
        Scope::Community(c) => {
            s.queue = unit_queue(store, &format!("uq/c/{:010}", c.0))?;
            s.departments.clear();
            let id = c.to_string();
            keep_comms(&mut s, &|x| x == id);
        }
    }
    Ok(s)
}

/// `GET /api/v1/stats`.
#[utoipa::path(get, path = "/stats", tag = "stats", summary = "Queue, department load and wish totals, within the token's scope",
    responses((status = 200, description = "Counts, read from counters", body = Stats)))]
pub async fn get(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Stats>, ApiError> {
    Ok(Json(scoped(&st.store, &who)?))
}
