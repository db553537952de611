//! The ledger's walk: every case a search or list keeps, oldest first, a page at a time from
//! the case after the last one given (a range on the id, so the thousandth page costs what
//! the first does).

use std::ops::Bound;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::{Order, Term};

use shaozi_shared::{Principal, WhistleId};

use super::{Search, SearchError, SearchQuery, Words};
use crate::storage::WhistleQuery;

impl Search {
    /// Up to `limit` ids of the cases `who` may see that the filters and words keep, after
    /// `after`, in filing order.
    pub fn ids_after(
        &self,
        who: &Principal,
        list: &WhistleQuery,
        s: &SearchQuery,
        after: Option<WhistleId>,
        limit: usize,
    ) -> Result<Vec<WhistleId>, SearchError> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = self
            .filters(who, list, s)
            .into_iter()
            .map(|q| (Occur::Must, q))
            .collect();
        match self.words(who, &s.q) {
            Words::None => {}
            Words::Nothing => return Ok(Vec::new()),
            Words::Some { anywhere, .. } => parts.push((Occur::Must, anywhere)),
        }
        if let Some(a) = after {
            parts.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Excluded(Term::from_field_u64(self.f.id, a.0)),
                    Bound::Unbounded,
                )),
            ));
        }
        if parts.is_empty() {
            parts.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        let top = TopDocs::with_limit(limit.max(1)).order_by_fast_field::<u64>("id", Order::Asc);
        Ok(self
            .reader
            .searcher()
            .search(&BooleanQuery::new(parts), &top)?
            .into_iter()
            .filter_map(|(id, _)| id.map(WhistleId))
            .collect())
    }
}
