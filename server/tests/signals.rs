//! The real binary: prints a new admin token once, serves, and exits 0 on SIGTERM.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// The child is handed to the caller, which waits for it after SIGTERM.
#[allow(clippy::zombie_processes)]
fn start(data: &std::path::Path) -> (std::process::Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shaozi-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env_remove("SHAOZI_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut l = String::new();
        if out.read_line(&mut l).expect("read stdout") == 0 {
            let status = child.wait();
            panic!("server exited early ({status:?}): {lines:?}");
        }
        if let Some(addr) = l.trim().strip_prefix("shaozi-server listening on http://") {
            return (child, addr.to_string(), lines);
        }
        lines.push(l.trim().to_string());
    }
}

fn get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut r = String::new();
    s.read_to_string(&mut r).expect("read");
    r
}

fn sigterm_and_wait(mut child: std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn prints_a_new_token_once_serves_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("store");
    let (child, addr, printed) = start(&data);
    let token = printed
        .iter()
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .cloned()
        .unwrap_or_else(|| panic!("no token printed: {printed:?}"));
    assert!(get(&addr, "/healthz", None).starts_with("HTTP/1.1 200"));
    assert!(get(&addr, "/api/v1/stats", None).starts_with("HTTP/1.1 401"));
    assert!(get(&addr, "/api/v1/stats", Some(&token)).starts_with("HTTP/1.1 200"));
    assert!(sigterm_and_wait(child).success(), "exit 0 on SIGTERM");

    // Second start: the token is not printed again, and still works (only its hash was kept).
    let (child, addr, printed) = start(&data);
    assert!(
        printed.iter().all(|l| !l.contains(&token)),
        "token printed twice: {printed:?}"
    );
    assert!(get(&addr, "/api/v1/stats", Some(&token)).starts_with("HTTP/1.1 200"));
    assert!(sigterm_and_wait(child).success());
    let stored = std::fs::read_dir(&data).expect("store dir").count();
    assert!(stored > 0);
}

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shaozi-server"))
        .args(args)
        .env_remove("SHAOZI_ADMIN_TOKEN")
        .env_remove("SHAOZI_SERVER")
        .env_remove("SHAOZI_DATA")
        .output()
        .expect("cli runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tokens_from_the_command_line_on_a_stopped_store_and_through_a_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("store");
    let d = data.to_str().expect("utf-8 path");

    // Stopped store: straight into it; the token alone on stdout.
    let (ok, out, err) = cli(&[
        "token", "create", "--role", "viewer", "--name", "看板", "--data", d,
    ]);
    assert!(ok, "{err}");
    let viewer = out.trim().to_string();
    assert!(
        viewer.len() == 64 && out.lines().count() == 1,
        "the token alone: {out:?}"
    );
    let admin = err
        .split_whitespace()
        .find(|w| w.len() == 65 && w.ends_with(')'))
        .map(|w| w.trim_end_matches(')').to_string())
        .unwrap_or_else(|| panic!("no admin token noted: {err}"));
    let (ok, _, err) = cli(&[
        "token",
        "create",
        "--role",
        "department",
        "--name",
        "x",
        "--data",
        d,
    ]);
    assert!(
        !ok && err.contains("department_id"),
        "a department token needs its department: {err}"
    );

    let (child, addr, _) = start(&data);
    assert!(get(&addr, "/api/v1/me", Some(&viewer)).contains("看板"));
    let server = format!("http://{addr}");
    // Running server: the store is locked, so the CLI asks the server.
    let (ok, _, err) = cli(&[
        "token", "create", "--role", "viewer", "--name", "大屏", "--data", d, "--server", &server,
    ]);
    assert!(!ok && err.contains("--admin-token"), "{err}");
    let (ok, out, err) = cli(&[
        "token",
        "create",
        "--role",
        "viewer",
        "--name",
        "大屏",
        "--data",
        d,
        "--server",
        &server,
        "--admin-token",
        &admin,
    ]);
    assert!(ok, "{err}");
    let screen = out.trim().to_string();
    assert!(get(&addr, "/api/v1/me", Some(&screen)).starts_with("HTTP/1.1 200"));
    let (ok, out, _) = cli(&[
        "token",
        "list",
        "--data",
        d,
        "--server",
        &server,
        "--admin-token",
        &admin,
    ]);
    assert!(
        ok && out.contains("看板") && out.contains("大屏") && out.contains("admin"),
        "{out}"
    );
    assert!(!out.contains(&screen), "no secrets in the list");
    let (ok, _, err) = cli(&[
        "token",
        "revoke",
        "大屏",
        "--data",
        d,
        "--server",
        &server,
        "--admin-token",
        &admin,
    ]);
    assert!(ok, "{err}");
    assert!(
        get(&addr, "/api/v1/me", Some(&screen)).starts_with("HTTP/1.1 401"),
        "revoked at once"
    );
    assert!(sigterm_and_wait(child).success());

    let (ok, out, _) = cli(&["token", "list", "--data", d]);
    let line = out
        .lines()
        .find(|l| l.starts_with("大屏"))
        .unwrap_or_default()
        .to_string();
    assert!(
        ok && line.split_whitespace().count() > 6,
        "the revocation is on record: {out}"
    );
}

/// `--log-format json`: every line on stderr is one JSON object with a level, a message and
/// the event's fields, from the first line (start) to the last (stopped cleanly).
#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shaozi-server"))
        .args(["--log-format", "json", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("store"))
        .env_remove("SHAOZI_ADMIN_TOKEN")
        .env_remove("SHAOZI_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let addr = loop {
        let mut l = String::new();
        assert!(out.read_line(&mut l).expect("read") > 0, "exited early");
        if let Some(a) = l.trim().strip_prefix("shaozi-server listening on http://") {
            break a.to_string();
        }
    };
    assert!(get(&addr, "/readyz", None).starts_with("HTTP/1.1 200"));
    let mut err = child.stderr.take().expect("stderr");
    assert!(sigterm_and_wait(child).success());
    let mut logs = String::new();
    err.read_to_string(&mut logs).expect("read stderr");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{logs}");
    for l in &lines {
        assert!(l["level"].is_string() && l["timestamp"].is_string(), "{l}");
        assert!(l["message"].is_string(), "{l}");
    }
    let serving = lines
        .iter()
        .find(|l| l["message"] == "serving")
        .unwrap_or_else(|| panic!("{logs}"));
    assert_eq!(serving["addr"], addr.as_str(), "fields at the top level");
    assert!(
        lines.iter().any(|l| l["message"] == "stopped cleanly"),
        "{logs}"
    );
}
