//! Deadlines in calendar time or in working time: a calendar of working hours, working days,
//! holidays and make-up working days (调休) decides when "1 working day" ends, as hotline
//! rules count it. Pure: the caller passes the instant to count from.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// How long a stage may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Span {
    /// Wall-clock minutes: `30m`, `24h`, `7d`.
    Minutes(i64),
    /// Minutes of working time: `4wh` (working hours) or `90wm`.
    WorkingMinutes(i64),
    /// Working days: `1wd`; one working day is a working day's length of working time.
    WorkingDays(i64),
}

impl Span {
    /// Parses `30m`, `24h`, `7d`, `90wm`, `4wh`, `1wd`.
    pub fn parse(s: &str) -> Result<Span, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: i64 = n.parse().map_err(|_| {
            format!("{s:?}: expected a number and a unit, e.g. 30m, 24h, 7d, 4wh, 1wd")
        })?;
        if n <= 0 || n > 1_000_000 {
            return Err(format!("{s:?}: must be positive and sensible"));
        }
        match unit {
            "m" => Ok(Span::Minutes(n)),
            "h" => Ok(Span::Minutes(n * 60)),
            "d" => Ok(Span::Minutes(n * 24 * 60)),
            "wm" => Ok(Span::WorkingMinutes(n)),
            "wh" => Ok(Span::WorkingMinutes(n * 60)),
            "wd" => Ok(Span::WorkingDays(n)),
            _ => Err(format!(
                "{s:?}: unknown unit {unit:?}; use m, h, d (calendar) or wm, wh, wd (working time)"
            )),
        }
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Span::Minutes(m) if m % (24 * 60) == 0 && m >= 2 * 24 * 60 => {
                write!(f, "{}d", m / (24 * 60))
            }
            Span::Minutes(m) if m % 60 == 0 => write!(f, "{}h", m / 60),
            Span::Minutes(m) => write!(f, "{m}m"),
            Span::WorkingMinutes(m) if m % 60 == 0 => write!(f, "{}wh", m / 60),
            Span::WorkingMinutes(m) => write!(f, "{m}wm"),
            Span::WorkingDays(d) => write!(f, "{d}wd"),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Span::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Span {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::string_schema(
            "^[0-9]+(m|h|d|wm|wh|wd)$",
            "A length of time: m, h, d on the clock; wm, wh, wd in working time.",
            "4wh",
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Span {}

/// When work happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The city's offset from UTC (working hours are local).
    pub offset: FixedOffset,
    /// Working periods of a working day, in order, not overlapping.
    pub hours: Vec<(NaiveTime, NaiveTime)>,
    /// Weekdays that are working days.
    pub weekdays: Vec<Weekday>,
    /// Days off that would otherwise be working days (public holidays).
    pub holidays: Vec<NaiveDate>,
    /// Days worked that would otherwise be off (调休 make-up days).
    pub extra_days: Vec<NaiveDate>,
}

impl Default for Calendar {
    /// Monday to Friday, 08:30–12:00 and 14:30–17:30, UTC+8, no holidays listed.
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        Calendar {
            offset: FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix()),
            hours: vec![(t(8, 30), t(12, 0)), (t(14, 30), t(17, 30))],
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays: Vec::new(),
            extra_days: Vec::new(),
        }
    }
}

use chrono::Offset;

impl Calendar {
    /// Whether a local date is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.extra_days.contains(&d) {
            return true;
        }
        self.weekdays.contains(&d.weekday()) && !self.holidays.contains(&d)
    }

    /// Minutes of work in a working day.
    pub fn day_minutes(&self) -> i64 {
        self.hours
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes().max(0))
            .sum()
    }

    /// Checks the calendar can ever count working time.
    pub fn validate(&self) -> Result<(), String> {
        if self.day_minutes() <= 0 {
            return Err("the calendar has no working hours".into());
        }
        if self.weekdays.is_empty() && self.extra_days.is_empty() {
            return Err("the calendar has no working days".into());
        }
        for w in self.hours.windows(2) {
            if w[1].0 < w[0].1 {
                return Err("working periods overlap or are out of order".into());
            }
        }
        Ok(())
    }

    /// `from` plus `span`, counting working time where the span says so.
    pub fn add(&self, from: DateTime<Utc>, span: Span) -> DateTime<Utc> {
        match span {
            Span::Minutes(m) => from + Duration::minutes(m),
            Span::WorkingMinutes(m) => self.add_working(from, m),
            Span::WorkingDays(d) => self.add_working(from, d.saturating_mul(self.day_minutes())),
        }
    }

    /// Walks forward through working periods until `minutes` of work have passed. A case
    /// filed outside working hours starts counting when work next begins.
    fn add_working(&self, from: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        if self.validate().is_err() {
            return from + Duration::minutes(minutes);
        }
        let mut left = Duration::minutes(minutes);
        let local = from.with_timezone(&self.offset);
        let mut day = local.date_naive();
        let mut at = local.time();
        // Ten years of days is far past any deadline; the bound only guards a broken calendar.
        for _ in 0..3660 {
            if self.is_working_day(day) {
                for (start, end) in &self.hours {
                    let begin = at.max(*start);
                    if begin >= *end {
                        continue;
                    }
                    let room = *end - begin;
                    if left <= room {
                        let t = day.and_time(begin) + left;
                        return self
                            .offset
                            .from_local_datetime(&t)
                            .single()
                            .map_or(from, |d| d.with_timezone(&Utc));
                    }
                    left -= room;
                }
            }
            day = day.succ_opt().unwrap_or(day);
            at = NaiveTime::MIN;
        }
        from + Duration::minutes(minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        // National Day week, with the Sunday before worked in exchange.
        Calendar {
            holidays: (1..=7)
                .filter_map(|d| NaiveDate::from_ymd_opt(2026, 10, d))
                .collect(),
            extra_days: vec![NaiveDate::from_ymd_opt(2026, 9, 27).unwrap_or_default()],
            ..Calendar::default()
        }
    }

    /// A local (UTC+8) time as UTC.
    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn spans_parse_and_print() {
        for (s, span) in [
            ("30m", Span::Minutes(30)),
            ("24h", Span::Minutes(1440)),
            ("7d", Span::Minutes(10080)),
            ("4wh", Span::WorkingMinutes(240)),
            ("1wd", Span::WorkingDays(1)),
        ] {
            assert_eq!(Span::parse(s), Ok(span));
            assert_eq!(span.to_string(), s);
        }
        for bad in ["", "m", "0m", "-5m", "3y", "1.5h", "5 m"] {
            assert!(Span::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn working_time_skips_nights_lunch_weekends_and_holidays() {
        let c = cal();
        assert_eq!(c.day_minutes(), 390);
        // Thursday 16:00 + 1 working day → Friday 16:00.
        assert_eq!(
            c.add(local(2026, 11, 26, 16, 0), Span::WorkingDays(1)),
            local(2026, 11, 27, 16, 0)
        );
        // Friday 16:00 + 1 working day → Monday 16:00.
        assert_eq!(
            c.add(local(2026, 11, 27, 16, 0), Span::WorkingDays(1)),
            local(2026, 11, 30, 16, 0)
        );
        // 11:30 + 1 working hour: half an hour before lunch, half an hour after.
        assert_eq!(
            c.add(local(2026, 11, 26, 11, 30), Span::WorkingMinutes(60)),
            local(2026, 11, 26, 15, 0)
        );
        // Filed at night: counting starts at 08:30.
        assert_eq!(
            c.add(local(2026, 11, 26, 22, 0), Span::WorkingMinutes(30)),
            local(2026, 11, 27, 9, 0)
        );
        // Filed on Saturday: Monday morning.
        assert_eq!(
            c.add(local(2026, 11, 28, 10, 0), Span::WorkingMinutes(30)),
            local(2026, 11, 30, 9, 0)
        );
        // Before National Day: Wednesday 30 September + 1 working day skips the whole week.
        assert_eq!(
            c.add(local(2026, 9, 30, 10, 0), Span::WorkingDays(1)),
            local(2026, 10, 8, 10, 0)
        );
        // The make-up Sunday is worked.
        assert_eq!(
            c.add(local(2026, 9, 26, 10, 0), Span::WorkingMinutes(30)),
            local(2026, 9, 27, 9, 0)
        );
        // Calendar time ignores all of it.
        assert_eq!(
            c.add(local(2026, 11, 27, 16, 0), Span::Minutes(30)),
            local(2026, 11, 27, 16, 30)
        );
        // Ending exactly at a period's end stays there.
        assert_eq!(
            c.add(local(2026, 11, 26, 11, 0), Span::WorkingMinutes(60)),
            local(2026, 11, 26, 12, 0)
        );
    }

    #[test]
    fn a_calendar_without_work_falls_back_to_clock_time() {
        let c = Calendar {
            hours: Vec::new(),
            ..Calendar::default()
        };
        assert!(c.validate().is_err());
        let t = local(2026, 11, 26, 10, 0);
        assert_eq!(
            c.add(t, Span::WorkingMinutes(30)),
            t + Duration::minutes(30)
        );
    }
}
