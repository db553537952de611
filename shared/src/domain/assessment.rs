//! The assessment (考核): what each case contributes to its units' measures, and how a
//! period's measures become a score and a rank. Pure; the server keeps the contributions
//! indexed by unit and time, so a period costs what happened in it, not all history.

use serde::{Deserialize, Serialize};

use crate::case::{Call, CallRole};
use crate::ids::DepartmentId;
use crate::whistle::{Whistle, WhistleStatus};

fn yes() -> bool {
    true
}

// The measures are kept with every case in the store's indexes: what is zero is left out.
fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One dispatched case's part in its units' assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseMeasures {
    /// The unit answers for the case (false: a department that returned it and was upheld,
    /// which is measured only for that return).
    #[serde(default = "yes")]
    pub lead: bool,
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
    /// Resolved before the resolve deadline in force (extended deadlines included).
    #[serde(default, skip_serializing_if = "is_false")]
    pub resolved_on_time: bool,
    /// Returns upheld: for a department, its own; for a street or community, the case's
    /// misroutes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returns_upheld: u32,
    /// Returns the dispatcher overruled (against the lead department).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returns_overruled: u32,
    /// Extensions granted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extensions_granted: u32,
    /// Times urged.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub urges: u32,
    /// The resident's call-back rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_rating: Option<u8>,
    /// Closed by the confirmation deadline, without a rating.
    #[serde(default, skip_serializing_if = "is_false")]
    pub closed_unrated: bool,
    /// Closed (by the community or by the clock).
    #[serde(default, skip_serializing_if = "is_false")]
    pub closed: bool,
    /// Times a department was called.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dispatches: u32,
    /// An assisting department's call (joint 报到): measured for its report (responded,
    /// on_time, respond_minutes) and its part, not for the case (`lead` is false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub assisting: bool,
    /// An assisting call whose part was marked done.
    #[serde(default, skip_serializing_if = "is_false")]
    pub part_done: bool,
}

impl Default for CaseMeasures {
    fn default() -> Self {
        CaseMeasures {
            lead: true,
            responded: false,
            on_time: false,
            resolved: false,
            rating: None,
            reopened: 0,
            escalations: 0,
            respond_minutes: None,
            resolve_minutes: None,
            resolved_on_time: false,
            returns_upheld: 0,
            returns_overruled: 0,
            extensions_granted: 0,
            urges: 0,
            resident_rating: None,
            closed_unrated: false,
            closed: false,
            dispatches: 0,
            assisting: false,
            part_done: false,
        }
    }
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
        let resolved = matches!(w.status, WhistleStatus::Resolved | WhistleStatus::Closed);
        Some(CaseMeasures {
            lead: true,
            resolved_on_time: resolved && !w.resolve_late,
            returns_upheld: u32::try_from(w.returns_upheld.len()).unwrap_or(u32::MAX),
            returns_overruled: w.returns_overruled,
            extensions_granted: w.extensions_granted,
            urges: w.urges,
            resident_rating: w.resident_satisfaction(),
            closed_unrated: w.status == WhistleStatus::Closed && w.satisfaction.is_none(),
            closed: w.status == WhistleStatus::Closed,
            // Records from before the count was kept were dispatched once at least.
            dispatches: w.dispatches.max(1),
            responded: w.acknowledged_at.is_some(),
            on_time: w.acknowledged_at.is_some() && !w.respond_late,
            resolved,
            rating: w.satisfaction,
            reopened: w.reopened,
            escalations: w.escalation_level,
            respond_minutes: minutes(w.acknowledged_at),
            resolve_minutes: minutes(w.resolved_at.or(if w.status == WhistleStatus::Closed {
                w.closed_at
            } else {
                None
            })),
            assisting: false,
            part_done: false,
        })
    }

    /// An assisting department's call: reported or not, before its own deadline or not, the
    /// minutes from when it was called (the dispatch, or later when it was added) to its
    /// report, and whether its part is done.
    fn of_assisting_call(c: &Call, dispatched: chrono::DateTime<chrono::Utc>) -> CaseMeasures {
        let called = c.called_at.unwrap_or(dispatched);
        CaseMeasures {
            lead: false,
            assisting: true,
            responded: c.reported_at.is_some(),
            on_time: c.reported_at.is_some() && !c.late,
            respond_minutes: c.reported_at.map(|t| (t - called).num_minutes().max(0)),
            part_done: c.done_at.is_some(),
            ..CaseMeasures::default()
        }
    }

    /// Each department's part, one entry per department: the lead's whole case; each
    /// assisting department's call (joint 报到); and a department whose return was upheld
    /// gets that return on its entry, or an entry with only those returns (the case is not
    /// its to answer for).
    pub fn per_department(w: &Whistle) -> Vec<(DepartmentId, CaseMeasures)> {
        let (Some(lead), Some(dispatched)) = (w.department_id, w.dispatched_at) else {
            return Vec::new();
        };
        let Some(mut lead_part) = CaseMeasures::of(w) else {
            return Vec::new();
        };
        lead_part.returns_upheld = 0;
        let mut out = vec![(lead, lead_part)];
        for c in &w.calls {
            if c.role == CallRole::Assisting && c.department_id != lead {
                out.push((
                    c.department_id,
                    CaseMeasures::of_assisting_call(c, dispatched),
                ));
            }
        }
        for d in &w.returns_upheld {
            if let Some((_, m)) = out.iter_mut().find(|(x, _)| x == d) {
                m.returns_upheld += 1;
            } else {
                out.push((
                    *d,
                    CaseMeasures {
                        lead: false,
                        returns_upheld: 1,
                        ..CaseMeasures::default()
                    },
                ));
            }
        }
        out
    }
}

/// What kind of unit is measured: dispatch accuracy is a street's measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// A department.
    Department,
    /// A street office, which dispatches.
    Street,
    /// A community.
    Community,
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
    /// On-time resolution rate (按期办结率).
    #[serde(default)]
    pub on_time_resolution: f64,
    /// Residents' mean call-back rating, as a fraction of 5.
    #[serde(default)]
    pub resident_satisfaction: f64,
    /// One less overruled returns per case (at least 0).
    #[serde(default)]
    pub returns_kept: f64,
    /// One less urges per case (at least 0).
    #[serde(default)]
    pub unurged: f64,
    /// Share of closures the community confirmed (not closed by the clock).
    #[serde(default)]
    pub confirmed: f64,
    /// A street's dispatch accuracy (派单准确率).
    #[serde(default)]
    pub dispatch_accuracy: f64,
}

impl Weights {
    /// Every weight, for checking a rules file.
    pub fn all(&self) -> [f64; 10] {
        [
            self.on_time,
            self.resolution,
            self.satisfaction,
            self.satisfied_share,
            self.on_time_resolution,
            self.resident_satisfaction,
            self.returns_kept,
            self.unurged,
            self.confirmed,
            self.dispatch_accuracy,
        ]
    }
}

impl Default for Weights {
    /// The four measures of before; the middle's measures are shown but weigh nothing until
    /// a rules file gives them a weight, so an upgrade does not move a city's ranking.
    fn default() -> Self {
        Weights {
            on_time: 0.3,
            resolution: 0.3,
            satisfaction: 0.2,
            satisfied_share: 0.2,
            on_time_resolution: 0.0,
            resident_satisfaction: 0.0,
            returns_kept: 0.0,
            unurged: 0.0,
            confirmed: 0.0,
            dispatch_accuracy: 0.0,
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
    /// Resolved before the resolve deadline in force, of those resolved.
    #[serde(default)]
    pub resolved_on_time: i64,
    /// resolved_on_time / resolved (按期办结率).
    #[serde(default)]
    pub on_time_resolution_rate: Option<f64>,
    /// Returns upheld: a department's own; a street's or community's misroutes.
    #[serde(default)]
    pub returns_upheld: i64,
    /// Returns overruled.
    #[serde(default)]
    pub returns_overruled: i64,
    /// Extensions granted.
    #[serde(default)]
    pub extensions_granted: i64,
    /// Urges received.
    #[serde(default)]
    pub urges: i64,
    /// Call-backs with the resident's rating.
    #[serde(default)]
    pub resident_rated: i64,
    /// The residents' mean call-back rating, 1–5.
    #[serde(default)]
    pub resident_satisfaction_mean: Option<f64>,
    /// Closed (by the community or the clock).
    #[serde(default)]
    pub closed: i64,
    /// Closed without a rating, by the confirmation deadline.
    #[serde(default)]
    pub closed_unrated: i64,
    /// A street's dispatches (first dispatches, reassignments, re-dispatches).
    #[serde(default)]
    pub dispatches: Option<i64>,
    /// A street's dispatch accuracy: dispatches not returned-and-upheld / dispatches.
    #[serde(default)]
    pub dispatch_accuracy: Option<f64>,
    /// A street's cases moved between departments two or more times.
    #[serde(default)]
    pub moved_twice: Option<i64>,
    /// Of the cases it led (`dispatched`), those it reported for duty on.
    #[serde(default)]
    pub reported: i64,
    /// reported / dispatched (报到率, led).
    #[serde(default)]
    pub report_rate: Option<f64>,
    /// A department's assisting calls (joint 报到) in the period.
    #[serde(default)]
    pub assisted: i64,
    /// Of those, the ones it reported for duty on.
    #[serde(default)]
    pub assisted_reported: i64,
    /// assisted_reported / assisted.
    #[serde(default)]
    pub assisted_report_rate: Option<f64>,
    /// Of those, reported before its own deadline.
    #[serde(default)]
    pub assisted_on_time: i64,
    /// assisted_on_time / assisted.
    #[serde(default)]
    pub assisted_on_time_rate: Option<f64>,
    /// Median minutes from being called to reporting, assisting.
    #[serde(default)]
    pub median_assisted_respond_minutes: Option<f64>,
    /// Assisting calls whose part it marked done.
    #[serde(default)]
    pub assisted_parts_done: i64,
    /// Every call it answered: dispatched + assisted.
    #[serde(default)]
    pub calls: i64,
    /// Reported for duty, of every call: reported + assisted_reported.
    #[serde(default)]
    pub calls_reported: i64,
    /// calls_reported / calls (报到率, every call).
    #[serde(default)]
    pub calls_report_rate: Option<f64>,
    /// Reported before the deadline, of every call: on_time + assisted_on_time.
    #[serde(default)]
    pub calls_on_time: i64,
    /// calls_on_time / calls (按时报到率, every call): the score's on-time response.
    #[serde(default)]
    pub calls_on_time_rate: Option<f64>,
    /// Median minutes to report for duty, every call.
    #[serde(default)]
    pub median_calls_respond_minutes: Option<f64>,
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

/// Folds one unit's cases into its measures (score and rank are set by [`rank`]). Entries
/// that are not the unit's own case (a department's upheld return) count only for that.
pub fn measure(kind: UnitKind, id: &str, name: &str, all: &[CaseMeasures]) -> UnitScore {
    let sum = |f: &dyn Fn(&CaseMeasures) -> u32| all.iter().map(|c| i64::from(f(c))).sum::<i64>();
    let returns_upheld = sum(&|c| c.returns_upheld);
    let cases: Vec<CaseMeasures> = all.iter().filter(|c| c.lead).copied().collect();
    let cases = &cases[..];
    let assists: Vec<CaseMeasures> = all.iter().filter(|c| c.assisting).copied().collect();
    let assisted = assists.len() as i64;
    let of_assists =
        |f: &dyn Fn(&CaseMeasures) -> bool| assists.iter().filter(|c| f(c)).count() as i64;
    let assisted_reported = of_assists(&|c| c.responded);
    let assisted_on_time = of_assists(&|c| c.on_time);
    let n = cases.len() as i64;
    let count = |f: &dyn Fn(&CaseMeasures) -> bool| cases.iter().filter(|c| f(c)).count() as i64;
    let ratings: Vec<u8> = cases.iter().filter_map(|c| c.rating).collect();
    let rated = ratings.len() as i64;
    let rate = |k: i64, of: i64| (of > 0).then(|| k as f64 / of as f64);
    let on_time = count(&|c| c.on_time);
    let reported = count(&|c| c.responded);
    let resolved = count(&|c| c.resolved);
    let resolved_on_time = count(&|c| c.resolved_on_time);
    let residents: Vec<u8> = cases.iter().filter_map(|c| c.resident_rating).collect();
    let street = kind == UnitKind::Street;
    let dispatches: i64 = cases.iter().map(|c| i64::from(c.dispatches)).sum();
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
        resolved_on_time,
        on_time_resolution_rate: rate(resolved_on_time, resolved),
        returns_upheld,
        returns_overruled: sum(&|c| c.returns_overruled),
        extensions_granted: sum(&|c| c.extensions_granted),
        urges: sum(&|c| c.urges),
        resident_rated: residents.len() as i64,
        resident_satisfaction_mean: (!residents.is_empty())
            .then(|| residents.iter().map(|r| f64::from(*r)).sum::<f64>() / residents.len() as f64),
        closed: count(&|c| c.closed),
        closed_unrated: count(&|c| c.closed_unrated),
        dispatches: street.then_some(dispatches),
        dispatch_accuracy: if street {
            rate(dispatches - returns_upheld, dispatches)
        } else {
            None
        },
        moved_twice: street.then(|| count(&|c| c.dispatches >= 3)),
        reported,
        report_rate: rate(reported, n),
        assisted,
        assisted_reported,
        assisted_report_rate: rate(assisted_reported, assisted),
        assisted_on_time,
        assisted_on_time_rate: rate(assisted_on_time, assisted),
        median_assisted_respond_minutes: median(
            assists.iter().filter_map(|c| c.respond_minutes).collect(),
        ),
        assisted_parts_done: of_assists(&|c| c.part_done),
        calls: n + assisted,
        calls_reported: reported + assisted_reported,
        calls_report_rate: rate(reported + assisted_reported, n + assisted),
        calls_on_time: on_time + assisted_on_time,
        calls_on_time_rate: rate(on_time + assisted_on_time, n + assisted),
        median_calls_respond_minutes: median(
            cases
                .iter()
                .chain(&assists)
                .filter_map(|c| c.respond_minutes)
                .collect(),
        ),
        ..UnitScore::default()
    }
}

/// Sets each unit's score and rank. The score is the weighted mean of the rates it has,
/// times 100: on-time response (of every call: a department's assisting calls count too),
/// resolution, mean rating / 5, share rated 4–5, on-time
/// resolution, residents' mean call-back rating / 5, one less overruled returns per case,
/// one less urges per case, share of closures confirmed, and (streets) dispatch accuracy. A
/// measure with no data (no ratings yet) drops out and the others are reweighted.
pub fn rank(units: &mut [UnitScore], w: &Weights) {
    for u in units.iter_mut() {
        let of_cases = |k: i64| {
            (u.dispatched > 0).then(|| (1.0 - k as f64 / u.dispatched as f64).clamp(0.0, 1.0))
        };
        let parts = [
            (w.on_time, u.calls_on_time_rate),
            (w.resolution, u.resolution_rate),
            (w.satisfaction, u.satisfaction_mean.map(|m| m / 5.0)),
            (w.satisfied_share, u.satisfied_share),
            (w.on_time_resolution, u.on_time_resolution_rate),
            (
                w.resident_satisfaction,
                u.resident_satisfaction_mean.map(|m| m / 5.0),
            ),
            (w.returns_kept, of_cases(u.returns_overruled)),
            (w.unurged, of_cases(u.urges)),
            (
                w.confirmed,
                (u.closed > 0).then(|| 1.0 - u.closed_unrated as f64 / u.closed as f64),
            ),
            (w.dispatch_accuracy, u.dispatch_accuracy),
        ];
        let (sum, weight) = parts
            .iter()
            .filter_map(|(wt, v)| v.map(|v| (wt * v, *wt)))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        // A department that only assisted is scored on its reports alone.
        u.score = (u.calls > 0 && weight > 0.0).then(|| (sum / weight * 1000.0).round() / 10.0);
    }
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&units[a], &units[b]);
        y.score
            .partial_cmp(&x.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(y.calls.cmp(&x.calls))
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
            measure(
                UnitKind::Department,
                "D1",
                "甲",
                &[c(true, true, Some(5)), c(false, false, None)],
            ),
            measure(UnitKind::Department, "D2", "乙", &[c(true, true, None)]),
            measure(UnitKind::Department, "D3", "丙", &[]),
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
