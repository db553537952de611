//! Webhook subscriptions in the sled store: the `hooks` tree (id → subscription, and the next
//! id under `next`) and the `hook_state` tree (id → delivery state). Outside the writer's
//! transactions: a cursor saved here becomes durable with the next flush.

use sled::Transactional;

use super::keys::{be, read_be};
use super::{decode, Store, StoreError};
use crate::storage::{HookChange, HookState, HookStore, StoredHook};

/// The key of the next id in the `hooks` tree (ids are 8 bytes, so it cannot clash).
const NEXT: &[u8] = b"next";

fn json<T: serde::Serialize>(v: &T, what: &str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    })
}

fn flush(store: &Store) -> Result<(), StoreError> {
    // A plain flush from this thread is safe; only flush_async deadlocks (sled #1308).
    store.db.flush()?;
    Ok(())
}

fn tx_error(e: sled::transaction::TransactionError<()>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Storage(e) => StoreError::from(e),
        sled::transaction::TransactionError::Abort(()) => StoreError::Conflict,
    }
}

impl HookStore for Store {
    fn create_hook(&self, hook: &mut StoredHook, state: &HookState) -> Result<(), StoreError> {
        let next = self
            .hooks
            .update_and_fetch(NEXT, |old| {
                let n = old.and_then(read_be).unwrap_or(0) + 1;
                Some(be(n).to_vec())
            })?
            .as_deref()
            .and_then(read_be)
            .unwrap_or(1);
        hook.id = next;
        // The state first: a subscription is never seen without its cursor.
        self.hook_state
            .insert(be(next), json(state, "a webhook's state")?)?;
        self.hooks.insert(be(next), json(hook, "a webhook")?)?;
        flush(self)
    }

    fn restore_hook(&self, hook: &StoredHook, state: &HookState) -> Result<(), StoreError> {
        self.hooks.update_and_fetch(NEXT, |old| {
            let n = old.and_then(read_be).unwrap_or(0).max(hook.id);
            Some(be(n).to_vec())
        })?;
        self.hook_state
            .insert(be(hook.id), json(state, "a webhook's state")?)?;
        self.hooks.insert(be(hook.id), json(hook, "a webhook")?)?;
        flush(self)
    }

    fn hooks(&self) -> Result<Vec<StoredHook>, StoreError> {
        self.hooks
            .iter()
            .filter(|r| r.as_ref().map_or(true, |(k, _)| k.len() == 8))
            .map(|r| {
                let (k, v) = r?;
                decode(&v, || format!("webhook {:?}", read_be(&k)))
            })
            .collect()
    }

    fn hook(&self, id: u64) -> Result<Option<StoredHook>, StoreError> {
        self.hooks
            .get(be(id))?
            .map(|v| decode(&v, || format!("webhook H{id}")))
            .transpose()
    }

    fn hook_state(&self, id: u64) -> Result<Option<HookState>, StoreError> {
        self.hook_state
            .get(be(id))?
            .map(|v| decode(&v, || format!("the state of webhook H{id}")))
            .transpose()
    }

    fn change_hook(&self, id: u64, change: &HookChange) -> Result<Option<StoredHook>, StoreError> {
        // Compare and swap: a resume and an adoption at once both land.
        loop {
            let Some(old) = self.hooks.get(be(id))? else {
                return Ok(None);
            };
            let mut hook: StoredHook = decode(&old, || format!("webhook H{id}"))?;
            change.apply(&mut hook);
            let new = json(&hook, "a webhook")?;
            if self
                .hooks
                .compare_and_swap(be(id), Some(old), Some(new))?
                .is_ok()
            {
                flush(self)?;
                return Ok(Some(hook));
            }
        }
    }

    fn delete_hook(&self, id: u64) -> Result<bool, StoreError> {
        // One transaction over both trees: a deliverer saving its cursor at that moment
        // cannot leave a state behind for a subscription that is gone (the next look at the
        // subscriptions would take it for one still there, and deliver for it).
        let had = (&self.hooks, &self.hook_state)
            .transaction(|(hooks, states)| {
                let had = hooks.remove(&be(id)[..])?.is_some();
                states.remove(&be(id)[..])?;
                Ok(had)
            })
            .map_err(tx_error)?;
        flush(self)?;
        Ok(had)
    }

    fn save_hook_state(&self, id: u64, state: &HookState, durable: bool) -> Result<(), StoreError> {
        // A deleted subscription's deliverer may save once more as it stops: keep no state
        // for a subscription that is gone.
        let value = json(state, "a webhook's state")?;
        (&self.hooks, &self.hook_state)
            .transaction(|(hooks, states)| {
                if hooks.get(&be(id)[..])?.is_some() {
                    states.insert(&be(id)[..], value.as_slice())?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        if durable {
            flush(self)?;
        }
        Ok(())
    }
}
