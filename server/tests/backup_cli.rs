//! The real binary's `backup` and `restore`: through a running server that holds the store,
//! from a stopped store, and refusing what must be refused (an existing file, a store that
//! is not empty, a file cut short) without leaving anything half made.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "backup-cli-admin-token-0123456789";
/// The city's key: its servers and its backup commands share it, so its backups are signed.
const CITY_KEY: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shaozi-server"));
    c.env_remove("SHAOZI_ADMIN_TOKEN")
        .env_remove("SHAOZI_DATA")
        .env_remove("SHAOZI_SERVER")
        .env("SHAOZI_WEBHOOK_KEY", CITY_KEY);
    c
}

// The child is handed back and stopped by the test.
#[allow(clippy::zombie_processes)]
fn serve(data: &Path) -> (std::process::Child, String) {
    let mut child = bin()
        .args(["--listen", "127.0.0.1:0", "--admin-token", TOKEN, "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut l = String::new();
        assert!(out.read_line(&mut l).expect("read") > 0, "exited early");
        if let Some(a) = l.trim().strip_prefix("shaozi-server listening on http://") {
            return (child, a.to_string());
        }
    }
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut r = String::new();
    s.read_to_string(&mut r).expect("read");
    r
}

fn stop(mut child: std::process::Child) {
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn backup_online_and_offline_then_restore_and_refuse_what_must_be_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let (server, addr) = serve(&data);
    let street = http(&addr, "POST", "/api/v1/streets", r#"{"name":"桃花仑街道"}"#);
    assert!(street.starts_with("HTTP/1.1 201"), "{street}");
    let community = http(
        &addr,
        "POST",
        "/api/v1/communities",
        r#"{"name":"朝阳路社区","street_id":"S1"}"#,
    );
    assert!(community.starts_with("HTTP/1.1 201"), "{community}");
    let w = http(
        &addr,
        "POST",
        "/api/v1/whistles",
        r#"{"community_id":"C1","category":"roads","urgency":"normal","title":"井盖松动","description":"朝阳路口"}"#,
    );
    assert!(w.starts_with("HTTP/1.1 201"), "{w}");

    // The store is held by the server: the backup goes through it.
    let online = dir.path().join("online.backup");
    let url = format!("http://{addr}");
    let args = [
        "backup",
        "--to",
        p(&online),
        "--data",
        p(&data),
        "--server",
        &url,
        "--admin-token",
        TOKEN,
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("backup at sequence 3"), "{}", said(&o));
    assert!(online.exists() && !dir.path().join("online.backup.partial").exists());
    // A backup never overwrites a file.
    let o = run(&args);
    assert!(
        !o.status.success() && said(&o).contains("exists"),
        "{}",
        said(&o)
    );
    // Without the admin token it says what it needs.
    let nameless = dir.path().join("nameless.backup");
    let o = run(&[
        "backup",
        "--to",
        p(&nameless),
        "--data",
        p(&data),
        "--server",
        &url,
    ]);
    assert!(
        !o.status.success() && said(&o).contains("admin token"),
        "{}",
        said(&o)
    );
    assert!(!nameless.exists() && !dir.path().join("nameless.backup.partial").exists());
    stop(server);

    // A stopped store: read directly.
    let offline = dir.path().join("offline.backup");
    let o = run(&["backup", "--to", p(&offline), "--data", p(&data)]);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("backup at sequence 3"), "{}", said(&o));

    // Restored into a new directory; the server there answers as the old one did.
    let again = dir.path().join("restored");
    let o = run(&["restore", "--from", p(&online), "--data", p(&again)]);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("restored 3 events"), "{}", said(&o));
    assert!(!dir.path().join("restored.partial").exists());
    let (server, addr) = serve(&again);
    let got = http(&addr, "GET", "/api/v1/whistles/W1001", "");
    assert!(
        got.starts_with("HTTP/1.1 200") && got.contains("井盖松动"),
        "{got}"
    );
    stop(server);
    // Not into a store that holds something.
    let o = run(&["restore", "--from", p(&offline), "--data", p(&again)]);
    assert!(
        !o.status.success() && said(&o).contains("not empty"),
        "{}",
        said(&o)
    );

    // A file cut short restores nothing and leaves nothing.
    let whole = std::fs::read(&online).unwrap();
    let cut = dir.path().join("cut.backup");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let nowhere = dir.path().join("nowhere");
    let o = run(&["restore", "--from", p(&cut), "--data", p(&nowhere)]);
    assert!(
        !o.status.success() && said(&o).contains("cut short"),
        "{}",
        said(&o)
    );
    assert!(!nowhere.exists() && !dir.path().join("nowhere.partial").exists());
}

#[test]
fn a_backup_or_check_of_a_mistyped_path_or_an_older_store_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.backup");
    // A path with no store: said, and no empty store made there (a nightly backup of the
    // wrong directory would otherwise succeed every night, backing up nothing).
    let missing = dir.path().join("shaozi-dat");
    let o = run(&["backup", "--to", p(&out), "--data", p(&missing)]);
    assert!(
        !o.status.success() && said(&o).contains("no such directory"),
        "{}",
        said(&o)
    );
    assert!(!missing.exists() && !out.exists());
    let o = run(&["check", "--data", p(&missing)]);
    assert_eq!(o.status.code(), Some(2), "{}", said(&o));
    assert!(!missing.exists());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = run(&["backup", "--to", p(&out), "--data", p(&empty)]);
    assert!(
        !o.status.success() && said(&o).contains("holds none"),
        "{}",
        said(&o)
    );
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    // A store of an older format: a backup must not upgrade it under the build that wrote it.
    let data = dir.path().join("store");
    let (server, addr) = serve(&data);
    let street = http(&addr, "POST", "/api/v1/streets", r#"{"name":"桃花仑街道"}"#);
    assert!(street.starts_with("HTTP/1.1 201"), "{street}");
    stop(server);
    let format = |set: Option<u64>| -> Option<u64> {
        let db = sled::open(&data).unwrap();
        let meta = db.open_tree("meta").unwrap();
        if let Some(n) = set {
            meta.insert("format", &n.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        let got = meta
            .get("format")
            .unwrap()
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap()));
        drop(meta);
        drop(db);
        // sled lets go of its lock a moment after.
        std::thread::sleep(Duration::from_millis(300));
        got
    };
    let current = format(None).unwrap();
    format(Some(current - 1));
    let o = run(&["backup", "--to", p(&out), "--data", p(&data)]);
    let words = said(&o);
    assert!(
        !o.status.success()
            && words.contains(&format!("is in format {}", current - 1))
            && words.contains("nothing was changed"),
        "{words}"
    );
    assert!(!out.exists());
    let o = run(&["check", "--data", p(&data)]);
    assert_eq!(o.status.code(), Some(2), "{}", said(&o));
    assert_eq!(format(None), Some(current - 1), "left as it was");
    // In this build's format again, both work; a clean check exits 0.
    format(Some(current));
    let o = run(&["backup", "--to", p(&out), "--data", p(&data)]);
    assert!(o.status.success(), "{}", said(&o));
    let o = run(&["check", "--data", p(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
}

#[test]
fn a_restore_takes_only_the_citys_own_signed_backup_unless_told_what_it_brings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let (server, addr) = serve(&data);
    let street = http(&addr, "POST", "/api/v1/streets", r#"{"name":"桃花仑街道"}"#);
    assert!(street.starts_with("HTTP/1.1 201"), "{street}");
    let token = http(
        &addr,
        "POST",
        "/api/v1/tokens",
        r#"{"role":"viewer","name":"大屏"}"#,
    );
    assert!(token.starts_with("HTTP/1.1 201"), "{token}");
    stop(server);
    let signed = dir.path().join("signed.backup");
    let o = run(&["backup", "--to", p(&signed), "--data", p(&data)]);
    assert!(o.status.success(), "{}", said(&o));
    // Taken by hand without the key (or by another city): not signed.
    let unsigned = dir.path().join("unsigned.backup");
    let o = bin()
        .env_remove("SHAOZI_WEBHOOK_KEY")
        .args(["backup", "--to", p(&unsigned), "--data", p(&data)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", said(&o));

    let into = |name: &str| dir.path().join(name);
    // Unsigned: refused, saying what it would bring in; nothing made.
    let o = run(&["restore", "--from", p(&unsigned), "--data", p(&into("a"))]);
    let text = said(&o);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("is not signed") && text.contains("--accept-unsigned"),
        "{text}"
    );
    assert!(
        text.contains("2 tokens (1 admin, 1 viewer)") && text.contains("0 webhook subscriptions"),
        "{text}"
    );
    assert!(!into("a").exists());
    // Signed, but by another key, or with no key here to check it: refused too.
    let o = bin()
        .env(
            "SHAOZI_WEBHOOK_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .args(["restore", "--from", p(&signed), "--data", p(&into("b"))])
        .output()
        .unwrap();
    assert!(
        !o.status.success() && said(&o).contains("another key"),
        "{}",
        said(&o)
    );
    let o = bin()
        .env_remove("SHAOZI_WEBHOOK_KEY")
        .args(["restore", "--from", p(&signed), "--data", p(&into("c"))])
        .output()
        .unwrap();
    assert!(
        !o.status.success() && said(&o).contains("no key to check it"),
        "{}",
        said(&o)
    );
    assert!(!into("b").exists() && !into("c").exists());
    // The city's own: restored.
    let o = run(&["restore", "--from", p(&signed), "--data", p(&into("d"))]);
    assert!(o.status.success(), "{}", said(&o));
    // An unsigned one when asked for, with a warning of what came in.
    let o = run(&[
        "restore",
        "--from",
        p(&unsigned),
        "--data",
        p(&into("e")),
        "--accept-unsigned",
    ]);
    assert!(o.status.success(), "{}", said(&o));
    assert!(
        said(&o).contains("warning") && said(&o).contains("1 admin"),
        "{}",
        said(&o)
    );
    // A signed file with one byte changed and its checksum made good again is no longer
    // the city's: the signature covers the checksum.
    let mut bytes = std::fs::read(&signed).unwrap();
    let text = String::from_utf8_lossy(&bytes[bytes.len() - 200..]).to_string();
    assert!(text.contains("hmac-sha256:"), "{text}");
    let n = bytes.len();
    bytes[n - 2] = if bytes[n - 2] == b'0' { b'1' } else { b'0' };
    let forged = dir.path().join("forged.backup");
    std::fs::write(&forged, &bytes).unwrap();
    let o = run(&["restore", "--from", p(&forged), "--data", p(&into("f"))]);
    assert!(
        !o.status.success() && said(&o).contains("another key"),
        "{}",
        said(&o)
    );
}
