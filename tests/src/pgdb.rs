//! A fresh PostgreSQL database for each test that wants one.
//!
//! The server used is the one at `SHAOZI_TEST_DATABASE_URL` (default: the local one on
//! 127.0.0.1:5432). Outside CI, when none answers, a test that needs one says so in one line
//! and is skipped; under `CI=true` it fails instead, so CI never passes by skipping.

use std::sync::atomic::{AtomicU64, Ordering};

/// The database server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("SHAOZI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether the whole suite runs on PostgreSQL (`SHAOZI_TEST_ENGINE=postgres`) rather than
/// sled.
pub fn suite_on_postgres() -> bool {
    std::env::var("SHAOZI_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// An empty database, dropped when this is.
pub struct TestDatabase {
    /// Its URL, to give a server as `--data`.
    pub url: String,
    name: String,
}

/// The URL of database `name` on the server `url` names.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = match base.rsplit_once('/') {
        Some((head, _)) if head.contains("//") && head.len() > "postgres://".len() - 1 => head,
        _ => base,
    };
    format!("{base}/{name}{query}")
}

/// Runs blocking client work on its own thread: the PostgreSQL client must not block an
/// async runtime's thread.
fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .expect("database helper thread")
}

impl TestDatabase {
    /// A new empty database; None, after saying so, when no server answers outside CI.
    pub fn create() -> Option<TestDatabase> {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "shaozi_t_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let admin = server_url();
        let n = name.clone();
        let made = blocking(move || -> Result<(), String> {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .map_err(|e| format!("{admin}: {e}"))?;
            c.batch_execute(&format!("CREATE DATABASE {n}"))
                .map_err(|e| e.to_string())
        });
        match made {
            Ok(()) => Some(TestDatabase {
                url: with_database(&server_url(), &name),
                name,
            }),
            Err(e) if in_ci() => panic!("CI=true and no PostgreSQL for the tests: {e}"),
            Err(e) => {
                eprintln!("skipped: no PostgreSQL answers at {} ({e})", server_url());
                None
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = server_url();
        let name = self.name.clone();
        blocking(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_database_url_is_the_server_url_with_another_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
    }
}
