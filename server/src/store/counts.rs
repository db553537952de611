//! The sled store's counters, for the stats ([`Counted`]).

use shaozi_shared::api::{Community, Department};

use super::{Store, StoreError};
use crate::storage::Counted;

impl Counted for Store {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Store::last_seq(self)
    }
    fn counter(&self, name: &str) -> Result<i64, StoreError> {
        Store::counter(self, name)
    }
    fn counters_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Store::counters_under(self, prefix)
    }
    fn departments(&self) -> Result<Vec<Department>, StoreError> {
        Store::departments(self)
    }
    fn communities(&self) -> Result<Vec<Community>, StoreError> {
        Store::communities(self)
    }
}
