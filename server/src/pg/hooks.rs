//! Webhook subscriptions in PostgreSQL (`webhooks`, `webhook_state`), shared by every server
//! on the database; written on the reading connections, each statement its own transaction.

use super::reads::PgReads;
use super::{col, db_error};
use crate::storage::{decode, StoreError};
use crate::storage::{HookChange, HookState, HookStore, StoredHook};

fn json<T: serde::Serialize>(v: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    })
}

fn id_of(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl HookStore for PgReads {
    fn create_hook(&self, hook: &mut StoredHook, state: &HookState) -> Result<(), StoreError> {
        let (h, st) = (hook.clone(), json(state, "a webhook's state")?);
        let delivered = id_of(state.delivered);
        let id = self.run(move |c| {
            let mut tx = c.transaction().map_err(db_error)?;
            let row = tx
                .query_one("SELECT nextval('webhooks_id_seq')", &[])
                .map_err(db_error)?;
            let id: i64 = col(&row, 0)?;
            let mut h = h.clone();
            h.id = id as u64;
            tx.execute(
                "INSERT INTO webhooks (id, json) VALUES ($1, $2)",
                &[&id, &json(&h, "a webhook")?],
            )
            .map_err(db_error)?;
            tx.execute(
                "INSERT INTO webhook_state (id, delivered, json) VALUES ($1, $2, $3)",
                &[&id, &delivered, &st],
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(id as u64)
        })?;
        hook.id = id;
        Ok(())
    }

    fn restore_hook(&self, hook: &StoredHook, state: &HookState) -> Result<(), StoreError> {
        let (id, h, st) = (
            id_of(hook.id),
            json(hook, "a webhook")?,
            json(state, "a webhook's state")?,
        );
        let delivered = id_of(state.delivered);
        self.run(move |c| {
            let mut tx = c.transaction().map_err(db_error)?;
            tx.execute(
                "INSERT INTO webhooks (id, json) VALUES ($1, $2)",
                &[&id, &h],
            )
            .map_err(db_error)?;
            tx.execute(
                "INSERT INTO webhook_state (id, delivered, json) VALUES ($1, $2, $3)",
                &[&id, &delivered, &st],
            )
            .map_err(db_error)?;
            tx.query_one(
                "SELECT setval('webhooks_id_seq', (SELECT max(id) FROM webhooks))",
                &[],
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)
        })
    }

    fn hooks(&self) -> Result<Vec<StoredHook>, StoreError> {
        self.jsons("SELECT json FROM webhooks ORDER BY id".into(), vec![])
    }

    fn hook(&self, id: u64) -> Result<Option<StoredHook>, StoreError> {
        Ok(self
            .jsons(
                "SELECT json FROM webhooks WHERE id = $1".into(),
                vec![Box::new(id_of(id))],
            )?
            .pop())
    }

    fn hook_state(&self, id: u64) -> Result<Option<HookState>, StoreError> {
        self.run(move |c| {
            let row = c
                .query_opt(
                    "SELECT delivered, json FROM webhook_state WHERE id = $1",
                    &[&id_of(id)],
                )
                .map_err(db_error)?;
            let Some(row) = row else { return Ok(None) };
            let delivered: i64 = col(&row, 0)?;
            let text: String = col(&row, 1)?;
            let mut st: HookState =
                decode(text.as_bytes(), || format!("the state of webhook H{id}"))?;
            // The column is the truth: it only ever moves forward.
            st.delivered = st.delivered.max(delivered as u64);
            Ok(Some(st))
        })
    }

    fn change_hook(&self, id: u64, change: &HookChange) -> Result<Option<StoredHook>, StoreError> {
        let change = change.clone();
        self.run(move |c| {
            // The row locked from read to write: a resume and an adoption at once both land.
            let mut tx = c.transaction().map_err(db_error)?;
            let row = tx
                .query_opt(
                    "SELECT json FROM webhooks WHERE id = $1 FOR UPDATE",
                    &[&id_of(id)],
                )
                .map_err(db_error)?;
            let Some(row) = row else { return Ok(None) };
            let text: String = col(&row, 0)?;
            let mut hook: StoredHook = decode(text.as_bytes(), || format!("webhook H{id}"))?;
            change.apply(&mut hook);
            tx.execute(
                "UPDATE webhooks SET json = $2 WHERE id = $1",
                &[&id_of(id), &json(&hook, "a webhook")?],
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(Some(hook))
        })
    }

    fn delete_hook(&self, id: u64) -> Result<bool, StoreError> {
        self.run(move |c| {
            let n = c
                .execute("DELETE FROM webhooks WHERE id = $1", &[&id_of(id)])
                .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    fn save_hook_state(
        &self,
        id: u64,
        state: &HookState,
        _durable: bool,
    ) -> Result<(), StoreError> {
        // Every commit here is durable; GREATEST keeps the cursor from moving back when two
        // servers delivered for a moment.
        let (text, delivered) = (json(state, "a webhook's state")?, id_of(state.delivered));
        self.run(move |c| {
            c.execute(
                "UPDATE webhook_state SET delivered = GREATEST(delivered, $2), json = $3 \
                 WHERE id = $1",
                &[&id_of(id), &delivered, &text],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }
}

/// The advisory-lock space of webhook leases (the two-key form: this, then the id).
const LEASE_SPACE: i32 = 0x5348_4f4b; // "SHOK"

/// Which subscriptions this server delivers, on a database several servers share: those whose
/// advisory lock its own connection holds. A server that dies or loses its connection lets
/// its locks go with it, and another server takes them at its next look (every 2 s).
pub struct PgLeases {
    url: String,
    conn: std::sync::Mutex<Option<(postgres::Client, std::collections::BTreeSet<u64>)>>,
}

impl PgLeases {
    /// Leases over the database at `url` (connected when first needed).
    pub fn new(url: &str) -> PgLeases {
        PgLeases {
            url: url.to_string(),
            conn: std::sync::Mutex::new(None),
        }
    }
}

impl crate::notify::deliver::Leases for PgLeases {
    fn hold(&self, ids: &[u64]) -> Result<Vec<u64>, StoreError> {
        let mut guard = self.conn.lock().map_err(|_| StoreError::Unavailable {
            why: "the webhook leases' connection was poisoned".into(),
        })?;
        if guard.as_ref().is_some_and(|(c, _)| c.is_closed()) {
            // Its locks went with it.
            *guard = None;
        }
        if guard.is_none() {
            *guard = Some((super::connect(&self.url)?, Default::default()));
        }
        let Some((c, held)) = guard.as_mut() else {
            return Ok(Vec::new());
        };
        let r = (|| {
            // Subscriptions deleted since: let their locks go.
            for gone in held
                .iter()
                .copied()
                .filter(|h| !ids.contains(h))
                .collect::<Vec<_>>()
            {
                c.execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&LEASE_SPACE, &(gone as i32)],
                )
                .map_err(db_error)?;
                held.remove(&gone);
            }
            let wanted: Vec<u64> = ids
                .iter()
                .copied()
                .filter(|id| !held.contains(id))
                .collect();
            for id in wanted {
                let row = c
                    .query_one(
                        "SELECT pg_try_advisory_lock($1, $2)",
                        &[&LEASE_SPACE, &(id as i32)],
                    )
                    .map_err(db_error)?;
                if col::<bool>(&row, 0)? {
                    held.insert(id);
                }
            }
            // A connection that died quietly would fail here rather than let us think we hold.
            c.execute("SELECT 1", &[]).map_err(db_error)?;
            Ok(held.iter().copied().collect())
        })();
        if r.is_err() {
            *guard = None;
        }
        r
    }
}
