//! A period's assessment: per unit, read only the entries of that period (the measures of
//! cases dispatched in it, the wishes, the activities), never all history.

use chrono::{DateTime, Utc};

use shaozi_shared::api::Day;
use shaozi_shared::assessment::{measure, rank, CaseMeasures, UnitScore, Weights};

use super::keys::{be, family, key, time_key, WishMeasure};
use super::{Store, StoreError};
use crate::storage::query::{local_days, Group};

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
        let fam = super::keys::group_family(group);
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
