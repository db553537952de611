//! The real binary in a real terminal: tmux runs `shaozi demo`, keys go in, the screen is read.
//! CI installs tmux; without it this test fails and says so.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed (apt-get install tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = screen(session);
        if s.contains(what) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_demo_runs_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let session = format!("shaozi-smoke-{}", std::process::id());
    let cmd = format!(
        "env LANG=zh_CN.UTF-8 XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data {bin} demo --data {d}/store; echo EXITED:$?; sleep 30",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shaozi"),
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "30",
        &cmd,
    ]);
    let guard = scopeguard(session.clone());

    let s = wait_for(&session, "在线", 30);
    assert!(
        s.contains("在线") && s.contains("待报到"),
        "the live queue is up:\n{s}"
    );
    assert!(
        s.contains('✗'),
        "the demo morning has overdue whistles:\n{s}"
    );

    tmux(&["send-keys", "-t", &session, "2"]);
    let s = wait_for(&session, "处理中", 5);
    assert!(
        s.contains("处理中") && s.contains('█'),
        "departments as bars:\n{s}"
    );

    tmux(&["send-keys", "-t", &session, "3"]);
    let s = wait_for(&session, "已完成", 5);
    assert!(s.contains("已完成") && s.contains('¥'), "wishes:\n{s}");

    tmux(&["send-keys", "-t", &session, "1", "Enter"]);
    let s = wait_for(&session, "时间线", 5);
    assert!(s.contains("时间线"), "detail with its timeline:\n{s}");

    tmux(&["send-keys", "-t", &session, "Escape", "?"]);
    let s = wait_for(&session, "assign", 5);
    assert!(
        s.contains("assign") && s.contains("acknowledge"),
        "help lists the keymap:\n{s}"
    );

    tmux(&["send-keys", "-t", &session, "Escape", "q"]);
    let s = wait_for(&session, "EXITED", 10);
    assert!(
        s.contains("EXITED:0"),
        "q quits cleanly and restores the terminal:\n{s}"
    );
    drop(guard);
}

struct KillSession(String);

impl Drop for KillSession {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn scopeguard(session: String) -> KillSession {
    KillSession(session)
}
