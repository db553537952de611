//! The living demo city: a believable directory, a morning's worth of history, and simulated
//! communities, dispatchers and departments that keep it moving through the real write path.

mod names;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use shaozi_shared::{CommunityId, DepartmentId, Principal, Role, Scope, CATEGORIES};

use crate::clock::Clock;
use crate::storage::Reads;
use crate::writer::{WriteError, WriterHandle};

mod city;
mod history;
mod sim;

use city::{load_directory, City};
use history::backfill;
use sim::Sim;

/// How lively the demo city is.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// New whistles per minute.
    pub whistles_per_minute: f64,
    /// New wishes per minute.
    pub wishes_per_minute: f64,
    /// Hours of history to backfill into an empty store.
    pub history_hours: i64,
    /// Whistles in that history.
    pub history_whistles: usize,
    /// Seconds a simulated step takes, on average (dispatch, report for duty, fix, rate).
    pub step_seconds: i64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            whistles_per_minute: 6.0,
            wishes_per_minute: 1.0,
            history_hours: 6,
            history_whistles: 240,
            step_seconds: 90,
        }
    }
}

/// A deterministic hash, so each whistle's simulated fate is stable across restarts.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<T: Copy>(items: &[T], seed: u64) -> T {
    items[(seed % items.len() as u64) as usize]
}

fn person(seed: u64) -> String {
    format!(
        "{}{}",
        pick(names::SURNAMES, seed),
        pick(names::GIVEN, seed >> 8)
    )
}

/// The city office, which keeps the directory and registers volunteers' claims.
fn office() -> Principal {
    Principal::new("市创文办", Role::Admin, Scope::City)
}

/// A community's own token.
fn community(city: &City, id: CommunityId) -> Principal {
    Principal::new(
        city.community_name(id),
        Role::Community,
        Scope::Community(id),
    )
}

/// Who acts for a wish: the claiming department, or the office for volunteers.
fn wish_actor(city: &City, dept: Option<DepartmentId>) -> Principal {
    match dept {
        Some(d) => city.department(Some(d)),
        None => Principal::new("市创文办志愿服务", Role::Admin, Scope::City),
    }
}

/// Loads the city and a morning of history into an empty store; a store that already has a
/// directory is left as it is.
pub async fn prepare(
    cfg: &DemoConfig,
    store: &dyn Reads,
    w: &WriterHandle,
    clock: &dyn Clock,
) -> Result<(), WriteError> {
    if load_directory(store, w).await? {
        if let Some(city) = City::read(store) {
            tracing::info!("demo: loading a morning of history");
            backfill(&city, w, cfg, clock.now()).await?;
        }
    }
    Ok(())
}

/// Keeps the demo city alive until `stop`: whistles and wishes keep coming and moving.
pub async fn run(
    cfg: DemoConfig,
    store: std::sync::Arc<dyn Reads>,
    w: WriterHandle,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) {
    let Some(city) = City::read(store.as_ref()) else {
        tracing::warn!("demo: the store has no communities or departments; nothing to simulate");
        return;
    };
    let mut sim = Sim {
        city,
        cfg,
        whistle_credit: 0.0,
        wish_credit: 0.0,
        counter: clock.now().timestamp() as u64,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = sim.tick(store.as_ref(), &w, clock.now()).await {
            if matches!(e, WriteError::Unavailable(_)) {
                return;
            }
            tracing::debug!(error = %e, "demo step refused");
        }
    }
}

/// Category codes, for callers that want to generate their own load.
pub fn category_codes() -> Vec<&'static str> {
    CATEGORIES.iter().map(|c| c.0).collect()
}
