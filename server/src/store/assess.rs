//! A period's assessment: per unit, read only the entries of that period (the measures of
//! cases dispatched in it, the wishes, the activities), never all history.

use chrono::{DateTime, Utc};

use shaozi_shared::api::Day;
use shaozi_shared::assessment::{measure, rank, CaseMeasures, UnitKind, UnitScore, Weights};

use super::keys::{be, family, key, time_key, WishMeasure};
use super::{Store, StoreError};

/// Which units to rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Departments.
    Department,
    /// Street offices.
    Street,
    /// Communities.
    Community,
}

impl Group {
    /// Parses `department`, `street` or `community`.
    pub fn parse(s: &str) -> Option<Group> {
        match s {
            "department" => Some(Group::Department),
            "street" => Some(Group::Street),
            "community" => Some(Group::Community),
            _ => None,
        }
    }

    /// Its units' family in the store's keys.
    pub(crate) fn family(self) -> u8 {
        match self {
            Group::Department => family::DEPARTMENT,
            Group::Street => family::STREET,
            Group::Community => family::COMMUNITY,
        }
    }

    /// Every unit of the group, in id order, as (number, id, name).
    pub fn units(
        self,
        reads: &dyn crate::storage::Reads,
    ) -> Result<Vec<(u64, String, String)>, StoreError> {
        Ok(match self {
            Group::Department => reads
                .departments()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
            Group::Street => reads
                .streets()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
            Group::Community => reads
                .communities()?
                .into_iter()
                .map(|d| (d.id.0, d.id.to_string(), d.name))
                .collect(),
        })
    }

    /// The kind of unit, for the measures only some kinds have.
    pub fn kind(self) -> UnitKind {
        match self {
            Group::Department => UnitKind::Department,
            Group::Street => UnitKind::Street,
            Group::Community => UnitKind::Community,
        }
    }

    /// A case's parts in this group's units, by unit number: a department's (the lead's, and
    /// those of departments whose return was upheld), or its street's or community's.
    pub fn case_parts(self, w: &shaozi_shared::Whistle) -> Vec<(u64, CaseMeasures)> {
        match self {
            Group::Department => CaseMeasures::per_department(w)
                .into_iter()
                .map(|(d, m)| (d.0, m))
                .collect(),
            Group::Street => CaseMeasures::of(w)
                .filter(|_| w.department_id.is_some())
                .map(|m| (w.street_id.0, m))
                .into_iter()
                .collect(),
            Group::Community => CaseMeasures::of(w)
                .filter(|_| w.department_id.is_some())
                .map(|m| (w.community_id.0, m))
                .into_iter()
                .collect(),
        }
    }

    /// The counter of a unit's overdue cases now.
    pub fn overdue_counter(self, id: u64) -> String {
        use super::keys::counter::{self, Queue};
        match self {
            Group::Department => counter::department(id, "overdue"),
            Group::Street => counter::queue(Queue::Street(id), "overdue"),
            Group::Community => counter::queue(Queue::Community(id), "overdue"),
        }
    }
}

/// The local days of [from, to) in `offset` (at most 400), each as its date and the part of
/// the range it covers.
pub fn local_days(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> Vec<(chrono::NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    use chrono::TimeZone;
    let mut out = Vec::new();
    let mut date = from.with_timezone(&offset).date_naive();
    while out.len() < 400 {
        let Some(start) = date
            .and_hms_opt(0, 0, 0)
            .and_then(|t| offset.from_local_datetime(&t).single())
        else {
            break;
        };
        let start = start.with_timezone(&Utc);
        if start >= to {
            break;
        }
        let Some(next) = date.succ_opt() else { break };
        let end = next
            .and_hms_opt(0, 0, 0)
            .and_then(|t| offset.from_local_datetime(&t).single())
            .map_or(to, |t| t.with_timezone(&Utc));
        out.push((date, start.max(from), end.min(to)));
        date = next;
    }
    out
}

impl Store {
    fn count_between(
        &self,
        fam: u8,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let start = key(&[&[fam], &be(time_key(from))]);
        let end = key(&[&[fam], &be(time_key(to))]);
        let mut n = 0;
        for r in self.idx.range(start..end) {
            r?;
            n += 1;
        }
        Ok(n)
    }

    /// Whistles filed and closed per local day of [from, to) (at most 400 days).
    pub fn daily(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> Result<Vec<Day>, StoreError> {
        local_days(from, to, offset)
            .into_iter()
            .map(|(date, a, b)| {
                Ok(Day {
                    date,
                    filed: self.filed_count(a, b)?,
                    closed: self.count_between(family::CLOSED, a, b)?,
                })
            })
            .collect()
    }

    /// Values of one unit's entries of `fam` in [from, to).
    fn period(
        &self,
        fam: u8,
        unit: u8,
        id: u64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<sled::IVec>, StoreError> {
        let prefix = key(&[&[fam, unit], &be(id)]);
        let start = key(&[&prefix, &be(time_key(from))]);
        let end = key(&[&prefix, &be(time_key(to))]);
        self.idx.range(start..end).map(|r| Ok(r?.1)).collect()
    }

    /// Every unit of `group`, measured over [from, to), scored and ranked.
    pub fn assessment(
        &self,
        group: Group,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        weights: &Weights,
    ) -> Result<Vec<UnitScore>, StoreError> {
        let units = group.units(self)?;
        let fam = group.family();
        let mut out = Vec::with_capacity(units.len());
        for (uid, id, name) in units {
            let cases: Vec<CaseMeasures> = self
                .period(family::MEASURE, fam, uid, from, to)?
                .iter()
                .filter_map(|v| serde_json::from_slice(v).ok())
                .collect();
            let mut u = measure(group.kind(), &id, &name, &cases);
            for v in self.period(family::WISH_MEASURE, fam, uid, from, to)? {
                if let Ok(w) = serde_json::from_slice::<WishMeasure>(&v) {
                    u.wishes_claimed += i64::from(w.claimed);
                    u.wishes_completed += i64::from(w.completed);
                    u.wishes_value_fen += w.value_fen;
                }
            }
            u.activities = self.period(family::ACTIVITY, fam, uid, from, to)?.len() as i64;
            u.overdue_now = self.counter(&group.overdue_counter(uid))?;
            out.push(u);
        }
        rank(&mut out, weights);
        Ok(out)
    }
}
