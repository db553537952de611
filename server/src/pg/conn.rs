//! Connections: opening one, saying a URL without its password, and reading errors and
//! columns in the engine's words.

use crate::storage::StoreError;

/// Whether `--data` names a PostgreSQL database rather than a directory.
pub fn is_url(data: &str) -> bool {
    data.starts_with("postgres://") || data.starts_with("postgresql://")
}

/// Opens a connection.
pub fn connect(url: &str) -> Result<postgres::Client, StoreError> {
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| StoreError::Unavailable {
        why: format!("cannot reach the database: {}", describe(&e)),
    })
}

/// Empties a database of its city, keeping the schema: what a restore that stopped midway
/// wrote into a database it had found empty. Never called on a database a restore did not
/// find empty.
pub fn wipe(url: &str) -> Result<(), StoreError> {
    let mut c = connect(url)?;
    c.batch_execute(
        "BEGIN; \
         DELETE FROM webhook_state; DELETE FROM webhooks; DELETE FROM idempotency; \
         DELETE FROM tokens; DELETE FROM counters; DELETE FROM activities; \
         DELETE FROM wishes; DELETE FROM whistles; DELETE FROM names; DELETE FROM directory; \
         DELETE FROM series; DELETE FROM events; UPDATE log_head SET seq = 0; \
         COMMIT;",
    )
    .map_err(db_error)
}

/// A database error as a store error: the ones a retry can cure (a lost connection, a
/// standby that cannot take writes, a shutdown) say the store is unavailable.
pub(crate) fn db_error(e: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let transient = match e.code() {
        None => true,
        Some(c) => {
            c.code().starts_with("08")
                || c.code().starts_with("57P")
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        }
    };
    if transient || e.is_closed() {
        let why = if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
            "the database is read-only (a standby?); writes wait for a primary".to_string()
        } else {
            format!("the database is unavailable: {}", describe(&e))
        };
        StoreError::Unavailable { why }
    } else {
        StoreError::Database(describe(&e))
    }
}

/// The server's own words, not just "db error".
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}

/// A row's column, or a store error naming what was being read.
pub(crate) fn col<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| StoreError::Corrupt {
        what: format!("column {i}"),
        why: e.to_string(),
    })
}

/// A database URL as it may be said: without the password. (Not a general URL parser's job:
/// a URL naming several hosts, as a failover set-up does, is not one it reads.)
pub(super) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, hosts)) => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{hosts}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_database_url_is_said_without_its_password() {
        assert_eq!(
            without_password("postgres://shaozi:s3cret@db1:5432,db2:5432/city?sslmode=require"),
            "postgres://shaozi@db1:5432,db2:5432/city?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://127.0.0.1/test"),
            "postgres://127.0.0.1/test"
        );
        assert_eq!(without_password("postgresql://u@h/d"), "postgresql://u@h/d");
    }
}
