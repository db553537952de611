//! What the server's own end-to-end tests share: the real binary started on a store, and a
//! PostgreSQL database of a test's own.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The admin token the test servers start with.
pub const TOKEN: &str = "crash-test-token";

// The child is returned to the caller, which kills it.
#[allow(clippy::zombie_processes)]
pub fn start(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shaozi-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            // The tests' webhook receivers live on loopback.
            "--webhook-allow",
            "127.0.0.0/8,::1",
            "--admin-token",
            TOKEN,
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut l = String::new();
        if out.read_line(&mut l).expect("stdout") == 0 {
            let st = child.wait();
            panic!("server exited early: {st:?}");
        }
        if let Some(addr) = l.trim().strip_prefix("shaozi-server listening on ") {
            return (child, addr.to_string());
        }
    }
}

/// A database of its own on the server at `SHAOZI_TEST_DATABASE_URL` (default the local one),
/// dropped afterwards; None, after saying so, when none answers outside CI (under `CI=true`,
/// a failure).
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    name: String,
}

fn database_server() -> String {
    std::env::var("SHAOZI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    /// A new database (any left by an earlier run of the same test is dropped first).
    pub fn create(tag: &str) -> Option<TestDatabase> {
        let server = database_server();
        let name = format!("shaozi_{tag}_{}", std::process::id());
        let (s, n) = (server.clone(), name.clone());
        let made = std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&s, postgres::NoTls)?;
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {n}"))?;
            c.batch_execute(&format!("CREATE DATABASE {n}"))
        })
        .join()
        .expect("database thread");
        match made {
            Ok(()) => {
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                Some(TestDatabase {
                    url: format!("{base}/{name}"),
                    name,
                })
            }
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
                panic!("CI=true and no PostgreSQL for the crash test: {e}")
            }
            Err(e) => {
                eprintln!("skipped: no PostgreSQL answers at {server} ({e})");
                None
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (s, n) = (database_server(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&s, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"));
            }
        })
        .join();
    }
}

/// A server process that is killed when dropped, so a failing test leaves none behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
