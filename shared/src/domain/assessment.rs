//! The assessment (考核): what each case contributes to its units' measures, and how a
//! period's measures become a score and a rank. Pure; the server keeps the contributions
//! indexed by unit and time, so a period costs what happened in it, not all history.

use serde::{Deserialize, Serialize};

use crate::whistle::{Whistle, WhistleStatus};

/// One dispatched case's part in its units' assessment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseMeasures {
    /// Reported for duty.
    pub responded: bool,
    /// Reported for duty before the deadline.
    pub on_time: bool,
    /// Resolved or closed.
    pub resolved: bool,
    /// The community's rating.
    pub rating: Option<u8>,
    /// Times reopened.
    pub reopened: u32,
    /// Escalation level reached.
    pub escalations: u32,
    /// Minutes from dispatch to reporting for duty.
    pub respond_minutes: Option<i64>,
    /// Minutes from dispatch to (the latest) resolution.
    pub resolve_minutes: Option<i64>,
}

impl CaseMeasures {
    /// The measures of a whistle, if it has been dispatched (a case never dispatched, or
    /// rejected before dispatch, is not any department's to answer for).
    pub fn of(w: &Whistle) -> Option<CaseMeasures> {
        let dispatched = w.dispatched_at?;
        if w.status == WhistleStatus::Rejected {
            return None;
        }
        let minutes = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| (t - dispatched).num_minutes().max(0))
        };
        Some(CaseMeasures {
            responded: w.acknowledged_at.is_some(),
            on_time: w.acknowledged_at.is_some() && !w.respond_late,
            resolved: matches!(w.status, WhistleStatus::Resolved | WhistleStatus::Closed),
            rating: w.satisfaction,
            reopened: w.reopened,
            escalations: w.escalation_level,
            respond_minutes: minutes(w.acknowledged_at),
            resolve_minutes: minutes(w.resolved_at.or(if w.status == WhistleStatus::Closed {
                w.closed_at
            } else {
                None
            })),
        })
    }
}

/// How the measures weigh in the score (they are normalised by their sum).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weights {
    /// On-time response rate.
    pub on_time: f64,
    /// Resolution rate.
    pub resolution: f64,
    /// Mean rating, as a fraction of 5.
    pub satisfaction: f64,
    /// Share of ratings that are 4 or 5.
    pub satisfied_share: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            on_time: 0.3,
            resolution: 0.3,
            satisfaction: 0.2,
            satisfied_share: 0.2,
        }
    }
}

/// One unit's measures over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitScore {
    /// Unit id, e.g. `D40`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Cases dispatched to it in the period.
    pub dispatched: i64,
    /// Reported for duty before the deadline, of those.
    pub on_time: i64,
    /// Resolved or closed, of those.
    pub resolved: i64,
    /// on_time / dispatched.
    pub on_time_rate: Option<f64>,
    /// resolved / dispatched.
    pub resolution_rate: Option<f64>,
    /// Ratings given.
    pub rated: i64,
    /// Mean rating, 1–5.
    pub satisfaction_mean: Option<f64>,
    /// Share of ratings 4 or 5.
    pub satisfied_share: Option<f64>,
    /// Median minutes to report for duty.
    pub median_respond_minutes: Option<f64>,
    /// Median minutes to resolve.
    pub median_resolve_minutes: Option<f64>,
    /// Past a deadline right now.
    pub overdue_now: i64,
    /// Times its cases were reopened.
    pub reopened: i64,
    /// Escalation levels its cases reached.
    pub escalations: i64,
    /// Wishes claimed.
    pub wishes_claimed: i64,
    /// Wishes completed.
    pub wishes_completed: i64,
    /// Value of completed wishes, fen.
    pub wishes_value_fen: i64,
    /// Activities recorded (环境整治, 文明劝导, 五小, 新时代文明实践).
    pub activities: i64,
    /// The weighted score, 0–100; none without dispatched cases.
    pub score: Option<f64>,
    /// 1 is best; units without a score come last, unranked.
    pub rank: Option<u32>,
}

/// The median of some numbers (the mean of the middle two for an even count).
pub fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    })
}

/// Folds one unit's cases into its measures (score and rank are set by [`rank`]).
pub fn measure(id: &str, name: &str, cases: &[CaseMeasures]) -> UnitScore {
    let n = cases.len() as i64;
    let count = |f: &dyn Fn(&CaseMeasures) -> bool| cases.iter().filter(|c| f(c)).count() as i64;
    let ratings: Vec<u8> = cases.iter().filter_map(|c| c.rating).collect();
    let rated = ratings.len() as i64;
    let rate = |k: i64, of: i64| (of > 0).then(|| k as f64 / of as f64);
    let on_time = count(&|c| c.on_time);
    let resolved = count(&|c| c.resolved);
    UnitScore {
        id: id.to_string(),
        name: name.to_string(),
        dispatched: n,
        on_time,
        resolved,
        on_time_rate: rate(on_time, n),
        resolution_rate: rate(resolved, n),
        rated,
        satisfaction_mean: (rated > 0)
            .then(|| ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / rated as f64),
        satisfied_share: rate(ratings.iter().filter(|r| **r >= 4).count() as i64, rated),
        median_respond_minutes: median(cases.iter().filter_map(|c| c.respond_minutes).collect()),
        median_resolve_minutes: median(cases.iter().filter_map(|c| c.resolve_minutes).collect()),
        reopened: cases.iter().map(|c| i64::from(c.reopened)).sum(),
        escalations: cases.iter().map(|c| i64::from(c.escalations)).sum(),
        ..UnitScore::default()
    }
}

/// Sets each unit's score and rank. The score is the weighted mean of the rates it has
/// (on-time, resolution, mean rating / 5, share rated 4–5), times 100; a measure with no
/// data (no ratings yet) drops out and the others are reweighted.
pub fn rank(units: &mut [UnitScore], w: &Weights) {
    for u in units.iter_mut() {
        let parts = [
            (w.on_time, u.on_time_rate),
            (w.resolution, u.resolution_rate),
            (w.satisfaction, u.satisfaction_mean.map(|m| m / 5.0)),
            (w.satisfied_share, u.satisfied_share),
        ];
        let (sum, weight) = parts
            .iter()
            .filter_map(|(wt, v)| v.map(|v| (wt * v, *wt)))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        u.score =
            (u.dispatched > 0 && weight > 0.0).then(|| (sum / weight * 1000.0).round() / 10.0);
    }
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&units[a], &units[b]);
        y.score
            .partial_cmp(&x.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(y.dispatched.cmp(&x.dispatched))
            .then(x.id.cmp(&y.id))
    });
    let mut next = 1;
    for i in order {
        if units[i].score.is_some() {
            units[i].rank = Some(next);
            next += 1;
        }
    }
    units.sort_by(|a, b| match (a.rank, b.rank) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_scores() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3.0));
        assert_eq!(median(vec![4, 1, 3, 10]), Some(3.5));
        let c = |on_time, resolved, rating| CaseMeasures {
            responded: true,
            on_time,
            resolved,
            rating,
            ..Default::default()
        };
        // 2 cases: one on time and resolved rated 5, one late and open: 0.3*.5 + 0.3*.5 + 0.2*1 + 0.2*1.
        let mut units = vec![
            measure("D1", "甲", &[c(true, true, Some(5)), c(false, false, None)]),
            measure("D2", "乙", &[c(true, true, None)]),
            measure("D3", "丙", &[]),
        ];
        rank(&mut units, &Weights::default());
        let by = |id: &str| units.iter().find(|u| u.id == id).unwrap().clone();
        assert_eq!(by("D1").score, Some(70.0));
        assert_eq!(
            by("D2").score,
            Some(100.0),
            "no ratings: on-time and resolution only"
        );
        assert_eq!(by("D3").score, None);
        assert_eq!(
            units
                .iter()
                .map(|u| (u.id.as_str(), u.rank))
                .collect::<Vec<_>>(),
            [("D2", Some(1)), ("D1", Some(2)), ("D3", None)]
        );
    }
}
