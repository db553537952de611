//! Driving the real dashboard in tmux: sessions, keys, reading the screen, and a real server
//! with a small city to point it at.

use std::process::Command;
use std::time::{Duration, Instant};

use super::test_ca;
pub(crate) fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed (apt-get install tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

pub(crate) fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = screen(session);
        if s.contains(what) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts the dashboard in tmux against `server` with `token`; returns the session's guard.
pub(crate) fn dashboard(
    dir: &std::path::Path,
    name: &str,
    server: &str,
    token: &str,
) -> KillSession {
    dashboard_with(dir, name, server, token, "")
}

/// [`dashboard`] with more arguments (`--ca-cert …`).
pub(crate) fn dashboard_with(
    dir: &std::path::Path,
    name: &str,
    server: &str,
    token: &str,
    more: &str,
) -> KillSession {
    let session = format!("shaozi-{name}-{}", std::process::id());
    let cmd = format!(
        "env LANG=zh_CN.UTF-8 XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config {bin} --server {server} --token {token} {more}; echo EXITED:$?; sleep 30",
        d = dir.display(),
        bin = env!("CARGO_BIN_EXE_shaozi"),
    );
    start(&session, &cmd, 120, 36)
}

/// A detached tmux session of `w`×`h` running `cmd`, killed when the guard goes.
pub(crate) fn start(session: &str, cmd: &str, w: u16, h: u16) -> KillSession {
    let (w, h) = (w.to_string(), h.to_string());
    tmux(&["new-session", "-d", "-s", session, "-x", &w, "-y", &h, cmd]);
    KillSession(session.to_string())
}

pub(crate) fn keys(session: &str, keys: &[&str]) {
    for k in keys {
        tmux(&["send-keys", "-t", session, k]);
    }
}

pub(crate) fn typed(session: &str, text: &str) {
    tmux(&["send-keys", "-t", session, "-l", text]);
}

/// A real server (the same code as `shaozi-server`) on 127.0.0.1:0 with a street, a
/// community, the lighting department, their two tokens and one lighting case dispatched to
/// the department. Returns the server, its URL, the tokens and the case.
pub(crate) struct City {
    pub(crate) _server: shaozi_server::RunningServer,
    /// A client for the server (trusting its CA when it serves HTTPS).
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) admin: String,
    pub(crate) department: String,
    pub(crate) community: String,
    pub(crate) case: String,
}

pub(crate) async fn city(data: std::path::PathBuf) -> City {
    city_served(data, None).await
}

/// [`city`], served over HTTPS with `ca`'s server certificate when one is given.
pub(crate) async fn city_served(data: std::path::PathBuf, ca: Option<&test_ca::TestCa>) -> City {
    let admin = shaozi_server::auth::generate();
    let mut cfg = shaozi_server::Config::new(data);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.admin_token = Some(admin.clone());
    // The test's robot receiver lives on loopback.
    cfg.webhook_allow = vec!["127.0.0.0/8".parse().unwrap()];
    let mut http = reqwest::Client::builder();
    if let Some(ca) = ca {
        cfg.tls = Some(shaozi_server::tls::TlsFiles::new(
            ca.server_cert.clone(),
            ca.server_key.clone(),
        ));
        http = http.add_root_certificate(reqwest::Certificate::from_pem(&ca.ca_pem()).unwrap());
    }
    let http = http.build().unwrap();
    let server = shaozi_server::start(cfg).await.unwrap();
    let url = match ca {
        Some(_) => format!("https://localhost:{}", server.addr.port()),
        None => format!("http://{}", server.addr),
    };
    let post = |path: &str, body: serde_json::Value| api_post(&http, &url, &admin, path, body);
    let id = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().to_string();
    let street = post("/streets", serde_json::json!({"name": "桃花仑街道"})).await;
    let community = post(
        "/communities",
        serde_json::json!({"name": "朝阳路社区", "street_id": street["id"]}),
    )
    .await;
    let dept = post(
        "/departments",
        serde_json::json!({"name": "市路灯管理处", "categories": ["lighting"]}),
    )
    .await;
    let dt = post(
        "/tokens",
        serde_json::json!({"role": "department", "name": "路灯处专干", "department_id": dept["id"]}),
    )
    .await;
    let ct = post(
        "/tokens",
        serde_json::json!({"role": "community", "name": "朝阳路社区书记", "community_id": community["id"]}),
    )
    .await;
    let w = post(
        "/whistles",
        serde_json::json!({"community_id": community["id"], "category": "lighting", "urgency": "normal",
                           "title": "朝阳路三盏路灯不亮", "description": "连续一周不亮"}),
    )
    .await;
    let case = id(&w, "id");
    post(
        &format!("/whistles/{case}/dispatch"),
        serde_json::json!({"department_id": dept["id"]}),
    )
    .await;
    City {
        _server: server,
        http,
        url,
        admin,
        department: id(&dt, "token"),
        community: id(&ct, "token"),
        case,
    }
}

/// A whistle as the server has it, read with the admin's token.
pub(crate) fn whistle_on_server(rt: &tokio::runtime::Runtime, c: &City) -> serde_json::Value {
    rt.block_on(api_get(
        &c.http,
        &c.url,
        &c.admin,
        &format!("/whistles/{}", c.case),
    ))
}

/// POSTs `body` to `/api/v1{path}` as `token`, insisting on success; the answer. The request
/// is made at once, so the future borrows nothing.
pub(crate) fn api_post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> impl std::future::Future<Output = serde_json::Value> {
    let req = http
        .post(format!("{url}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body);
    let path = path.to_string();
    async move {
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }
}

/// GETs `/api/v1{path}` as `token`.
pub(crate) async fn api_get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
) -> serde_json::Value {
    http.get(format!("{url}/api/v1{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Presses a step's key, types its text and Enter; the screen once `expect` shows.
pub(crate) fn step_in(session: &str, key: &str, text: &str, expect: &str) -> String {
    keys(session, &[key]);
    typed(session, text);
    keys(session, &["Enter"]);
    wait_for(session, expect, 10)
}

/// `q` (from another screen than home, twice: the first goes home), and the dashboard exits
/// cleanly.
pub(crate) fn quit(session: &str) {
    keys(session, &["q"]);
    if !wait_for(session, "EXITED", 2).contains("EXITED") {
        keys(session, &["q"]);
    }
    let s = wait_for(session, "EXITED", 10);
    assert!(s.contains("EXITED:0"), "q quits cleanly:\n{s}");
}

pub(crate) struct KillSession(pub(crate) String);

impl Drop for KillSession {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}
