//! `GET /api/v1/hotspots` and `GET /api/v1/trends`: the patterns in the cases a token may see,
//! counted from the search index (which follows the log within a moment).

use std::collections::HashMap;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{Duration, Utc};

use shaozi_shared::api::{Hotspot, Hotspots, TrendPeriod, TrendSeries, Trends};
use shaozi_shared::case::Source;
use shaozi_shared::patterns::{periods, Interval};
use shaozi_shared::{CommunityId, Principal, StreetId};

use crate::error::ApiError;
use crate::extract::Params;
use crate::search::patterns::{By, IdsOf, Sums, Tallies};
use crate::AppState;

/// A whole number parameter within `range`, or `default`.
fn number(
    p: &Params,
    k: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    match p.get(k) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::bad_param(
                    k,
                    format!(
                        "{k} must be a whole number from {} to {}; got {v:?}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// Adds a tally's sums to period `i` of a series.
fn add(s: &mut TrendSeries, i: usize, t: &Sums) {
    for (v, n) in [
        (&mut s.filed, t.filed),
        (&mut s.resolved_on_time, t.resolved_on_time),
        (&mut s.overdue, t.overdue),
        (&mut s.reopened, t.reopened),
        (&mut s.bounced, t.bounced),
    ] {
        if let Some(x) = v.get_mut(i) {
            *x += n;
        }
    }
}

/// Counts the index's cases for `who`, off the request's thread.
async fn tally(
    st: &AppState,
    who: Principal,
    edges: Vec<i64>,
    by: By,
    ids: Option<IdsOf>,
) -> Result<Tallies, ApiError> {
    super::whistles::index_ready(st).await?;
    let index = st.search.clone();
    tokio::task::spawn_blocking(move || index.tally(&who, &edges, by, ids))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))
}

/// `GET /api/v1/hotspots?days=30&min=3`.
#[utoipa::path(get, path = "/hotspots", tag = "patterns",
    summary = "Where one kind of problem keeps being raised: community × category with this window's and the previous window's counts",
    params(
        ("days" = Option<u32>, Query, minimum = 1, maximum = 366, description = "The window, ending now; default 30"),
        ("min" = Option<u32>, Query, minimum = 1, maximum = 100000, description = "The fewest cases in the window; default 3"),
    ),
    responses((status = 200, description = "The hotspots the token may see, most cases first", body = Hotspots)))]
pub async fn hotspots(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Json<Hotspots>, ApiError> {
    let days = number(&p, "days", 30, 1..=366)?;
    let min = number(&p, "min", 3, 1..=100_000)?;
    let to = st.clock.now();
    let from = to - Duration::days(i64::from(days));
    let before = from - Duration::days(i64::from(days));
    let edges = vec![before.timestamp(), from.timestamp(), to.timestamp() + 1];
    let ids = IdsOf {
        from: 1,
        min: u64::from(min),
    };
    let tallies = tally(&st, who, edges, By::CommunityCategory, Some(ids)).await?;
    let communities: HashMap<u64, (String, StreetId)> = st
        .store
        .communities()?
        .into_iter()
        .map(|c| (c.id.0, (c.name, c.street_id)))
        .collect();
    let mut previous: HashMap<(u64, String), u64> = HashMap::new();
    let mut now: Vec<((u64, String), u64, Vec<u64>)> = Vec::new();
    for ((period, key), t) in tallies {
        match period {
            0 => *previous.entry(key).or_default() += t.counts.filed,
            _ => now.push((key, t.counts.filed, t.newest_first())),
        }
    }
    let mut items: Vec<Hotspot> = now
        .into_iter()
        .filter(|(_, count, _)| *count >= u64::from(min))
        .map(|((community, category), count, ids)| {
            let (name, street_id) = communities
                .get(&community)
                .cloned()
                .unwrap_or_else(|| (String::new(), StreetId(0)));
            Hotspot {
                community_id: CommunityId(community),
                community: name,
                street_id,
                category_name: category_name(&st, &category),
                previous: previous
                    .get(&(community, category.clone()))
                    .copied()
                    .unwrap_or(0),
                category,
                count,
                whistles: ids.into_iter().map(shaozi_shared::WhistleId).collect(),
            }
        })
        .collect();
    items.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((b.count as i64 - b.previous as i64).cmp(&(a.count as i64 - a.previous as i64)))
            .then(a.community_id.cmp(&b.community_id))
            .then(a.category.cmp(&b.category))
    });
    Ok(Json(Hotspots {
        from,
        to,
        days,
        min,
        items,
    }))
}

fn category_name(st: &AppState, code: &str) -> String {
    st.rules
        .categories
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.name_zh.clone())
        .unwrap_or_else(|| code.to_string())
}

/// `GET /api/v1/trends?by=category&interval=week&from=&to=`.
#[utoipa::path(get, path = "/trends", tag = "patterns",
    summary = "Cases filed per week or month, with how many were resolved on time, late, reopened and moved twice, by category, street, community or source",
    params(
        ("by" = Option<String>, Query, description = "category (default), street, community or source"),
        ("interval" = Option<String>, Query, description = "week (default; Monday to Sunday) or month, in the city's calendar"),
        ("from" = Option<String>, Query, description = "A local date or RFC 3339 time; its week (month) is the first. Default: twelve periods up to `to`"),
        ("to" = Option<String>, Query, description = "A local date (through that day) or RFC 3339 time; default now"),
    ),
    responses((status = 200, description = "One figure per period for every series the token may see", body = Trends)))]
pub async fn trends(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Json<Trends>, ApiError> {
    let by_name = p.get("by").unwrap_or("category");
    let by = match by_name {
        "category" => By::Category,
        "street" => By::Street,
        "community" => By::Community,
        "source" => By::Source,
        v => {
            return Err(ApiError::bad_param(
                "by",
                format!("by must be category, street, community or source; got {v:?}"),
            ))
        }
    };
    let interval_name = p.get("interval").unwrap_or("week");
    let interval = Interval::parse(interval_name).ok_or_else(|| {
        ApiError::bad_param(
            "interval",
            format!("interval must be week or month; got {interval_name:?}"),
        )
    })?;
    let offset = st.rules.calendar.offset;
    let to = super::assessment::instant(&st, &p, "to", true)?.unwrap_or_else(|| st.clock.now());
    let from = match super::assessment::instant(&st, &p, "from", false)? {
        Some(f) => f,
        None => {
            let last = interval.start_of(
                (to - Duration::seconds(1))
                    .with_timezone(&offset)
                    .date_naive(),
            );
            let first = interval.back(last, 11).unwrap_or(last);
            first
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(offset).single())
                .map_or(to - Duration::days(84), |t| t.with_timezone(&Utc))
        }
    };
    let ps = periods(interval, from, to, offset).map_err(|e| {
        ApiError::bad_param(
            if matches!(e, shaozi_shared::patterns::PeriodError::Backwards) {
                "from"
            } else {
                "to"
            },
            e.to_string(),
        )
    })?;
    let mut edges: Vec<i64> = ps.iter().map(|x| x.from.timestamp()).collect();
    edges.extend(ps.last().map(|x| x.to.timestamp()));
    let tallies = tally(&st, who, edges, by, None).await?;
    let n = ps.len();
    let names = series_names(&st, by)?;
    let mut series: HashMap<(u64, String), TrendSeries> = HashMap::new();
    let mut total = TrendSeries::new(String::new(), String::new(), n);
    for ((period, key), t) in tallies {
        let s = series.entry(key.clone()).or_insert_with(|| {
            let (k, name) = series_key(by, &key, &names, &st);
            TrendSeries::new(k, name, n)
        });
        add(s, period, &t.counts);
        add(&mut total, period, &t.counts);
    }
    let mut series: Vec<TrendSeries> = series.into_values().collect();
    series.sort_by(|a, b| {
        let sum = |s: &TrendSeries| s.filed.iter().sum::<u64>();
        sum(b).cmp(&sum(a)).then(a.key.cmp(&b.key))
    });
    Ok(Json(Trends {
        by: by_name.to_string(),
        interval: interval.as_str().to_string(),
        periods: ps
            .into_iter()
            .map(|x| TrendPeriod {
                start: x.start,
                from: x.from,
                to: x.to,
            })
            .collect(),
        series,
        total,
    }))
}

/// The names of streets or communities by number (none needed for the others).
fn series_names(st: &AppState, by: By) -> Result<HashMap<u64, String>, ApiError> {
    Ok(match by {
        By::Street => st
            .store
            .streets()?
            .into_iter()
            .map(|s| (s.id.0, s.name))
            .collect(),
        By::Community | By::CommunityCategory => st
            .store
            .communities()?
            .into_iter()
            .map(|c| (c.id.0, c.name))
            .collect(),
        By::Category | By::Source => HashMap::new(),
    })
}

/// A series' key and name on the wire.
fn series_key(
    by: By,
    key: &(u64, String),
    names: &HashMap<u64, String>,
    st: &AppState,
) -> (String, String) {
    let named = |k: String| {
        let name = names.get(&key.0).cloned().unwrap_or_else(|| k.clone());
        (k, name)
    };
    match by {
        By::Category | By::CommunityCategory => (key.1.clone(), category_name(st, &key.1)),
        By::Street => named(StreetId(key.0).to_string()),
        By::Community => named(CommunityId(key.0).to_string()),
        By::Source => {
            let s = Source::ALL
                .get(key.0 as usize)
                .copied()
                .unwrap_or_default()
                .as_str()
                .to_string();
            (s.clone(), s)
        }
    }
}
