//! The patterns a street reads from its cases: what one case counts for in hotspots and
//! trends, and the city's weeks and months those are counted in.
//!
//! A trend counts cases by when they were filed (a cohort): of the cases filed in a week, how
//! many were resolved on time, how many were late at some stage, how many were reopened, how
//! many bounced between departments. A week's figures keep moving while its cases are open;
//! nothing is counted twice.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::whistle::{Whistle, WhistleStatus};

/// What a case counts for in hotspots and trends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Filed: every case but one rejected as no problem (a duplicate counts: a problem raised
    /// again is what a hotspot is).
    pub filed: bool,
    /// Resolved (it may have closed since; a reopened case is not, until resolved again),
    /// before its resolve deadline.
    pub resolved_on_time: bool,
    /// Late at some stage: reporting for duty or resolving, or past a deadline now.
    pub overdue: bool,
    /// Reopened by its community at least once.
    pub reopened: bool,
    /// Moved between departments two or more times (dispatched three times or more).
    pub bounced: bool,
}

impl Counts {
    /// What `w` counts for, as it is now.
    pub fn of(w: &Whistle) -> Counts {
        let rejected = w.status == WhistleStatus::Rejected;
        // Resolved now (or closed since): a reopened case is not, until it is again.
        let resolved = matches!(w.status, WhistleStatus::Resolved | WhistleStatus::Closed)
            && w.resolved_at.is_some();
        Counts {
            filed: !rejected || w.duplicate_of.is_some(),
            resolved_on_time: resolved && !w.resolve_late,
            overdue: !rejected && (w.respond_late || w.resolve_late || w.overdue),
            reopened: w.reopened > 0,
            bounced: bounced(w),
        }
    }

    /// As bits, for an index that keeps one number per case.
    pub fn bits(self) -> u64 {
        u64::from(self.filed)
            | u64::from(self.resolved_on_time) << 1
            | u64::from(self.overdue) << 2
            | u64::from(self.reopened) << 3
            | u64::from(self.bounced) << 4
    }

    /// From [`bits`](Self::bits).
    pub fn from_bits(b: u64) -> Counts {
        Counts {
            filed: b & 1 != 0,
            resolved_on_time: b & 2 != 0,
            overdue: b & 4 != 0,
            reopened: b & 8 != 0,
            bounced: b & 16 != 0,
        }
    }
}

/// Moved between departments two or more times: the first dispatch and two more (a
/// reassignment, or a re-dispatch after an upheld return). Lists mark it.
pub fn bounced(w: &Whistle) -> bool {
    w.dispatches >= 3
}

/// The span a trend counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Monday to Sunday, in the city's time.
    Week,
    /// A calendar month, in the city's time.
    Month,
}

impl Interval {
    /// `week` or `month`.
    pub fn parse(s: &str) -> Option<Interval> {
        match s {
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            _ => None,
        }
    }

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The local date its period holding `d` starts on.
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        match self {
            Interval::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Interval::Month => d.with_day(1).unwrap_or(d),
        }
    }

    /// The local date the period after the one starting on `start` starts on.
    pub fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Interval::Week => start.checked_add_signed(Duration::days(7)),
            Interval::Month => start.checked_add_months(chrono::Months::new(1)),
        }
    }

    /// The local date `n` periods before the one starting on `start`.
    pub fn back(self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        match self {
            Interval::Week => start.checked_sub_signed(Duration::days(7 * i64::from(n))),
            Interval::Month => start.checked_sub_months(chrono::Months::new(n)),
        }
    }
}

/// One period of a trend: its first local day and the instants it spans, [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Its first day, in the city's calendar.
    pub start: NaiveDate,
    /// Its first instant.
    pub from: DateTime<Utc>,
    /// The next period's first instant.
    pub to: DateTime<Utc>,
}

/// Why periods could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// `from` is not before `to`.
    #[error("from must be before to")]
    Backwards,
    /// More periods than a chart can show.
    #[error("at most {max} periods at a time; got {got}")]
    TooMany {
        /// The most allowed.
        max: usize,
        /// How many were asked for.
        got: usize,
    },
    /// A date out of the calendar's range.
    #[error("a date out of range")]
    OutOfRange,
}

/// The most periods one trend holds (five years of weeks).
pub const MAX_PERIODS: usize = 262;

/// The periods covering [from, to) in the city's calendar: the first starts on or before
/// `from`, the last holds the instant before `to`.
pub fn periods(
    interval: Interval,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: FixedOffset,
) -> Result<Vec<Period>, PeriodError> {
    if from >= to {
        return Err(PeriodError::Backwards);
    }
    let local_day = |t: DateTime<Utc>| t.with_timezone(&offset).date_naive();
    let instant = |d: NaiveDate| -> Result<DateTime<Utc>, PeriodError> {
        let midnight = d.and_hms_opt(0, 0, 0).ok_or(PeriodError::OutOfRange)?;
        offset
            .from_local_datetime(&midnight)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or(PeriodError::OutOfRange)
    };
    let mut start = interval.start_of(local_day(from));
    let mut out = Vec::new();
    loop {
        let next = interval.next(start).ok_or(PeriodError::OutOfRange)?;
        let (a, b) = (instant(start)?, instant(next)?);
        out.push(Period {
            start,
            from: a,
            to: b,
        });
        if b >= to {
            return Ok(out);
        }
        if out.len() >= MAX_PERIODS {
            let per = (b - a).num_seconds().max(1);
            let got = out.len() + ((to - b).num_seconds() / per) as usize + 1;
            return Err(PeriodError::TooMany {
                max: MAX_PERIODS,
                got,
            });
        }
        start = next;
    }
}

/// The index of the period holding the instant `t` (seconds), if any: `edges` are the
/// periods' first instants and, last, the end of the last.
pub fn period_of(edges: &[i64], t: i64) -> Option<usize> {
    let after = edges.partition_point(|e| *e <= t);
    (after > 0 && after < edges.len()).then(|| after - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn beijing() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn weeks_start_on_the_local_monday() {
        // Sunday 2026-11-29 20:00 UTC is Monday 04:00 in Beijing: a new week there.
        let p = periods(
            Interval::Week,
            utc("2026-11-29T20:00:00Z"),
            utc("2026-12-07T00:00:00Z"),
            beijing(),
        )
        .unwrap_or_default();
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].start.to_string(), "2026-11-30");
        assert_eq!(p[0].from, utc("2026-11-29T16:00:00Z"));
        assert_eq!(p[0].to, utc("2026-12-06T16:00:00Z"));
        assert_eq!(p[1].start.to_string(), "2026-12-07");
    }

    #[test]
    fn months_follow_the_calendar() {
        let p = periods(
            Interval::Month,
            utc("2026-01-31T17:00:00Z"),
            utc("2026-03-01T00:00:00Z"),
            beijing(),
        )
        .unwrap_or_default();
        let starts: Vec<String> = p.iter().map(|x| x.start.to_string()).collect();
        // 2026-01-31 17:00 UTC is 1 February in Beijing; 1 March 00:00 UTC is 08:00 there.
        assert_eq!(starts, ["2026-02-01", "2026-03-01"]);
        assert_eq!(p[0].to - p[0].from, Duration::days(28));
    }

    #[test]
    fn refusals() {
        let t = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            periods(Interval::Week, t, t, beijing()),
            Err(PeriodError::Backwards)
        );
        let far = t + Duration::days(7 * 400);
        assert!(matches!(
            periods(Interval::Week, t, far, beijing()),
            Err(PeriodError::TooMany { max: MAX_PERIODS, got }) if got >= 400
        ));
        assert!(periods(Interval::Month, t, far, beijing()).is_ok());
    }

    #[test]
    fn an_instant_falls_in_one_period() {
        let edges = [10, 20, 30];
        assert_eq!(period_of(&edges, 9), None);
        assert_eq!(period_of(&edges, 10), Some(0));
        assert_eq!(period_of(&edges, 19), Some(0));
        assert_eq!(period_of(&edges, 20), Some(1));
        assert_eq!(period_of(&edges, 29), Some(1));
        assert_eq!(period_of(&edges, 30), None);
    }

    #[test]
    fn counts_round_trip_through_bits() {
        for b in 0..32u64 {
            assert_eq!(Counts::from_bits(b).bits(), b);
        }
    }
}
