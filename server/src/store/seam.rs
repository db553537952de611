//! The sled store through the seam: what the server reads, what a backup takes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use shaozi_shared::api::{Community, Day, Department, Stats, Street, TokenInfo};
use shaozi_shared::assessment::{UnitScore, Weights};
use shaozi_shared::{
    CommunityId, Event, Principal, TimelineEntry, Whistle, WhistleId, Wish, WishId,
};

use super::{Store, StoreError};
use crate::storage::{
    Export, FiledPage, Group, KeptAnswer, QueryError, Reads, TokenKeeper, WhistleQuery, WishQuery,
};

impl TokenKeeper for Store {
    fn tokens_by_hash(&self) -> Result<HashMap<[u8; 32], TokenInfo>, StoreError> {
        Self::tokens_by_hash(self)
    }
    fn set_admin_token(
        &self,
        old: Option<[u8; 32]>,
        new: [u8; 32],
        info: &TokenInfo,
    ) -> Result<(), StoreError> {
        Self::set_admin_token(self, old, new, info)
    }
}

impl Export for Store {
    fn kept_answers(&self) -> Result<Vec<(Vec<u8>, KeptAnswer)>, StoreError> {
        self.idem
            .iter()
            .map(|r| {
                let (k, v) = r?;
                Ok((
                    k.to_vec(),
                    crate::store::decode(&v, || "an idempotency key".into())?,
                ))
            })
            .collect()
    }
}

/// The sled engine: its own methods, behind the seam.
impl Reads for Store {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Self::last_seq(self)
    }
    fn whistle(&self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        Self::whistle(self, id)
    }
    fn whistle_timeline(&self, id: WhistleId) -> Result<Vec<TimelineEntry>, StoreError> {
        Self::whistle_timeline(self, id)
    }
    fn wish(&self, id: WishId) -> Result<Option<Wish>, StoreError> {
        Self::wish(self, id)
    }
    fn wish_timeline(&self, id: WishId) -> Result<Vec<TimelineEntry>, StoreError> {
        Self::wish_timeline(self, id)
    }
    fn streets(&self) -> Result<Vec<Street>, StoreError> {
        Self::streets(self)
    }
    fn communities(&self) -> Result<Vec<Community>, StoreError> {
        Self::communities(self)
    }
    fn community(&self, id: CommunityId) -> Result<Option<Community>, StoreError> {
        self.dir_get(crate::store::keys::dir::COMMUNITY, id.0)
    }
    fn departments(&self) -> Result<Vec<Department>, StoreError> {
        Self::departments(self)
    }
    fn templates(&self) -> Result<Vec<shaozi_shared::api::ReplyTemplate>, StoreError> {
        self.dir_list(crate::store::keys::dir::TEMPLATE)
    }
    fn list_whistles(
        &self,
        q: &WhistleQuery,
    ) -> Result<(Vec<Whistle>, Option<String>), QueryError> {
        Self::list_whistles(self, q)
    }
    fn list_wishes(&self, q: &WishQuery) -> Result<(Vec<Wish>, Option<String>), QueryError> {
        Self::list_wishes(self, q)
    }
    fn stats_for(&self, who: &Principal) -> Result<Stats, StoreError> {
        crate::storage::Counted::stats_for(self, who)
    }
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
        Self::events_after(self, after, limit)
    }
    fn token_list(&self) -> Result<Vec<TokenInfo>, StoreError> {
        Self::token_list(self)
    }
    fn audit(
        &self,
        actor: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), StoreError> {
        Self::audit(self, actor, from, to, after, limit)
    }
    fn filed_page(&self, q: &FiledPage) -> Result<Vec<Whistle>, StoreError> {
        Self::filed_page(self, q)
    }
    fn whistle_log_page(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        take: usize,
    ) -> Result<Vec<Event>, StoreError> {
        Self::whistle_log_page(self, from, to, skip, take)
    }
    fn daily(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> Result<Vec<Day>, StoreError> {
        Self::daily(self, from, to, offset)
    }
    fn assessment(
        &self,
        group: Group,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        weights: &Weights,
    ) -> Result<Vec<UnitScore>, StoreError> {
        Self::assessment(self, group, from, to, weights)
    }
    fn status_totals(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Self::counters_under(self, crate::store::keys::counter::STATUS)
    }
    fn size_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}
