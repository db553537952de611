//! The patterns: hotspots (a problem raised again and again in one place) and trends.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CommunityId, StreetId, WhistleId};

/// `GET /api/v1/hotspots`: where one kind of problem keeps being raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hotspots {
    /// The window's first instant (`days` before `to`).
    pub from: DateTime<Utc>,
    /// Its end (now).
    pub to: DateTime<Utc>,
    /// Its length in days; the previous window is as long, just before it.
    pub days: u32,
    /// The fewest cases a hotspot holds.
    pub min: u32,
    /// Most cases first, then the fastest growing.
    pub items: Vec<Hotspot>,
}

/// One community's cases of one category in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hotspot {
    /// The community.
    pub community_id: CommunityId,
    /// Its name.
    pub community: String,
    /// Its street office.
    pub street_id: StreetId,
    /// The category's code.
    pub category: String,
    /// The category's name.
    pub category_name: String,
    /// Cases filed in the window (a duplicate counts; one rejected as no problem does not).
    pub count: u64,
    /// Cases filed in the window before it.
    pub previous: u64,
    /// The window's newest cases, newest first (at most 20; `count` says how many there are).
    pub whistles: Vec<WhistleId>,
}

/// `GET /api/v1/trends`: cases per period, by what they were filed as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trends {
    /// What the series are: category, street, community or source.
    pub by: String,
    /// week or month, in the city's calendar.
    pub interval: String,
    /// The periods, oldest first; every series has one figure per period.
    pub periods: Vec<TrendPeriod>,
    /// One per category (street, …) with a case in any period, most cases first.
    pub series: Vec<TrendSeries>,
    /// Every case, whatever its series.
    pub total: TrendSeries,
}

/// One period of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPeriod {
    /// Its first day, local (a Monday for weeks).
    pub start: NaiveDate,
    /// Its first instant.
    pub from: DateTime<Utc>,
    /// The next period's first instant.
    pub to: DateTime<Utc>,
}

/// The cases of one series, filed in each period (a cohort: a period's figures keep moving
/// while its cases are open).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendSeries {
    /// Its key: a category code, an id (S1, C3) or a source; empty for the total.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Cases filed (one rejected as no problem does not count; a duplicate does).
    pub filed: Vec<u64>,
    /// Of those, resolved before their deadline.
    pub resolved_on_time: Vec<u64>,
    /// Of those, late at some stage (reporting for duty or resolving), or overdue now.
    pub overdue: Vec<u64>,
    /// Of those, reopened by their community.
    pub reopened: Vec<u64>,
    /// Of those, moved between departments two or more times.
    pub bounced: Vec<u64>,
}

impl TrendSeries {
    /// An empty series of `n` periods.
    pub fn new(key: String, name: String, n: usize) -> TrendSeries {
        TrendSeries {
            key,
            name,
            filed: vec![0; n],
            resolved_on_time: vec![0; n],
            overdue: vec![0; n],
            reopened: vec![0; n],
            bounced: vec![0; n],
        }
    }
}
