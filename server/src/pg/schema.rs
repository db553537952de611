//! Numbered migrations, applied on start under an advisory lock so that servers starting
//! together apply each once. A database whose schema is newer than this build knows is
//! refused and left untouched.

use postgres::Client;

use super::{col, db_error};
use crate::storage::StoreError;

/// The migrations, in order; the schema's version is how many have been applied.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_log_records_directory",
        include_str!("migrations/0001_log_records_directory.sql"),
    ),
    (
        "0002_partial_indexes",
        include_str!("migrations/0002_partial_indexes.sql"),
    ),
    (
        "0003_middle_of_a_case",
        include_str!("migrations/0003_middle_of_a_case.sql"),
    ),
    (
        "0004_webhooks",
        include_str!("migrations/0004_webhooks.sql"),
    ),
    (
        "0005_status_totals",
        include_str!("migrations/0005_status_totals.sql"),
    ),
    (
        "0006_street_department_loads",
        include_str!("migrations/0006_street_department_loads.sql"),
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Any number, so long as no other program on the same database uses it.
const MIGRATION_LOCK: i64 = 0x5348_414f_5a49; // "SHAOZI"

/// Creates or upgrades the schema. Returns the version found before.
pub fn migrate(c: &mut Client) -> Result<i32, StoreError> {
    c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db_error)?;
    let r = migrate_locked(c);
    // Unlocking can only fail with the connection gone, which releases the lock anyway.
    let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    r
}

/// The schema version the database is at, without changing it: None when it has no shaozi
/// tables.
pub fn version_of(c: &mut Client) -> Result<Option<i32>, StoreError> {
    let row = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_name = 'shaozi_schema' AND table_schema = current_schema()",
            &[],
        )
        .map_err(db_error)?;
    if col::<i64>(&row, 0)? == 0 {
        return Ok(None);
    }
    let row = c
        .query_one("SELECT max(version) FROM shaozi_schema", &[])
        .map_err(db_error)?;
    col::<Option<i32>>(&row, 0)
}

fn migrate_locked(c: &mut Client) -> Result<i32, StoreError> {
    let found = version_of(c)?;
    if found.is_none() {
        c.batch_execute("CREATE TABLE IF NOT EXISTS shaozi_schema (version integer NOT NULL)")
            .map_err(db_error)?;
    }
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::Corrupt {
            what: "the database".into(),
            why: format!(
                "its schema is version {found}, newer than this server's {SCHEMA_VERSION}; \
                 run a newer shaozi-server (nothing was changed)"
            ),
        });
    }
    for (n, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = n as i32 + 1;
        tracing::info!(version, name, "applying database migration");
        let mut tx = c.transaction().map_err(db_error)?;
        tx.batch_execute(sql).map_err(db_error)?;
        tx.execute("DELETE FROM shaozi_schema", &[])
            .map_err(db_error)?;
        tx.execute(
            "INSERT INTO shaozi_schema (version) VALUES ($1)",
            &[&version],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    /// Migration 0005 names the statuses by their codes; its list must be `ALL`'s order.
    #[test]
    fn the_status_totals_migration_names_every_status_by_its_code() {
        let sql = include_str!("migrations/0005_status_totals.sql");
        let list = sql
            .split("ARRAY[")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .unwrap_or_default();
        let names: Vec<String> = list
            .split(',')
            .map(|n| n.trim().trim_matches('\'').to_string())
            .collect();
        let want: Vec<String> = shaozi_shared::WhistleStatus::ALL
            .iter()
            .map(|s| {
                assert_eq!(
                    usize::from(s.code()),
                    names.iter().position(|n| n == s.as_str()).unwrap_or(99)
                );
                s.as_str().to_string()
            })
            .collect();
        assert_eq!(names, want);
    }
}
