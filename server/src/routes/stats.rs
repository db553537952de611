//! `GET /api/v1/stats`: read from counters kept in the same transaction as every change.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;

use shaozi_shared::api::{
    CommunityWishes, DepartmentLoad, QueueStats, Stats, WishStats, WishTotals,
};

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

/// `GET /api/v1/stats`.
pub async fn get(State(st): State<AppState>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(compute(&st.store)?))
}
