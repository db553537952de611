//! Issue 28 in a real terminal: a street's dispatcher files a hotline whistle with `n`, calls
//! three departments to a place and a time; the two assisting departments report from their
//! own dashboards; the lead does not, and when the server's clock passes the time the
//! dispatcher's queue says who is late.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::terminal::*;

struct JointCity {
    _server: shaozi_server::RunningServer,
    clock: Arc<shaozi_server::clock::ManualClock>,
    url: String,
    dispatcher: String,
    /// 路灯 (the lead), 住建, 供电: each with its token.
    departments: Vec<(String, String)>,
}

async fn joint_city(data: std::path::PathBuf) -> JointCity {
    let admin = shaozi_server::auth::generate();
    let clock = Arc::new(shaozi_server::clock::ManualClock::new(Utc::now()));
    let mut cfg = shaozi_server::Config::new(data);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.admin_token = Some(admin.clone());
    cfg.clock = clock.clone();
    cfg.sweep_every = std::time::Duration::from_secs(1);
    let server = shaozi_server::start(cfg).await.unwrap();
    let url = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| api_post(&http, &url, &admin, path, body);
    let street = post("/streets", json!({"name": "桃花仑街道"})).await;
    post(
        "/communities",
        json!({"name": "朝阳路社区", "street_id": street["id"]}),
    )
    .await;
    let dispatcher = post(
        "/tokens",
        json!({"role": "dispatcher", "name": "桃花仑街道调度", "street_id": street["id"]}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut departments = Vec::new();
    for (name, who) in [
        ("市路灯管理处", "路灯处专干"),
        ("市住建局", "住建局专干"),
        ("市供电公司", "供电公司专干"),
    ] {
        let d = post(
            "/departments",
            json!({"name": name, "categories": ["lighting"]}),
        )
        .await;
        let t = post(
            "/tokens",
            json!({"role": "department", "name": who, "department_id": d["id"]}),
        )
        .await;
        departments.push((
            d["id"].as_str().unwrap().to_string(),
            t["token"].as_str().unwrap().to_string(),
        ));
    }
    JointCity {
        _server: server,
        clock,
        url,
        dispatcher,
        departments,
    }
}

#[test]
fn a_street_files_a_hotline_whistle_and_calls_three_departments_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(joint_city(dir.path().join("store")));
    let disp = dashboard(dir.path(), "joint-disp", &c.url, &c.dispatcher);
    wait_for(&disp.0, "在线", 30);

    // Filed for a resident who phoned: the street's own community, lighting, from the hotline.
    keys(&disp.0, &["n"]);
    wait_for(&disp.0, "吹哨立案", 5);
    typed(&disp.0, "朝阳");
    keys(&disp.0, &["Tab"]);
    typed(&disp.0, "路灯");
    keys(&disp.0, &["Tab"]);
    typed(&disp.0, "路灯杆被车撞倒");
    keys(&disp.0, &["Tab", "Tab", "Tab", "Tab", "Right", "Tab"]);
    typed(&disp.0, "王阿姨");
    keys(&disp.0, &["Tab"]);
    typed(&disp.0, "13800138000");
    keys(&disp.0, &["Enter"]);
    let s = wait_for(&disp.0, "已立案", 10);
    assert!(s.contains("已立案 W1001"), "filed:\n{s}");
    let s = wait_for(&disp.0, "未派单", 5);
    assert!(s.lines().any(|l| l.contains("W1001")), "in the queue:\n{s}");

    // Three departments to the community's office within half an hour: 住建 and 供电 assist,
    // 路灯 leads.
    keys(&disp.0, &["a"]);
    wait_for(&disp.0, "派往部门", 5);
    typed(&disp.0, "住建");
    keys(&disp.0, &["Space", "BSpace", "BSpace"]);
    typed(&disp.0, "供电");
    keys(&disp.0, &["Space", "BSpace", "BSpace"]);
    typed(&disp.0, "路灯");
    keys(&disp.0, &["Enter"]);
    let s = wait_for(&disp.0, "联合报到", 5);
    assert!(
        s.contains("联合报到 市路灯管理处、市住建局、市供电公司"),
        "{s}"
    );
    typed(&disp.0, "朝阳路社区居委会 +30m");
    keys(&disp.0, &["Enter"]);
    let s = wait_for(&disp.0, "0/3", 10);
    assert!(
        s.lines().any(|l| l.contains("W1001") && l.contains("0/3")),
        "called, nobody there yet:\n{s}"
    );

    // The two assisting departments report from their own dashboards.
    for (i, names) in [(1, "陈刚 周洁"), (2, "刘洋 孙丽")] {
        let d = dashboard(
            dir.path(),
            &format!("joint-dept{i}"),
            &c.url,
            &c.departments[i].1,
        );
        let s = wait_for(&d.0, "W1001", 30);
        assert!(
            s.contains("W1001"),
            "an assisting department's own work:\n{s}"
        );
        keys(&d.0, &["r"]);
        typed(&d.0, names);
        keys(&d.0, &["Enter"]);
        let s = wait_for(&d.0, "已报到", 10);
        assert!(s.contains("已报到"), "reported:\n{s}");
        quit(&d.0);
    }
    let s = wait_for(&disp.0, "2/3", 10);
    assert!(
        s.lines().any(|l| l.contains("W1001") && l.contains("2/3")),
        "two of three came:\n{s}"
    );

    // The lead never came: past the time, the queue says who.
    c.clock.advance(Duration::minutes(31));
    let s = wait_for(&disp.0, "✗市路灯管理", 10);
    assert!(
        s.lines()
            .any(|l| l.contains("W1001") && l.contains("2/3") && l.contains("✗市路灯管理")),
        "the late department is named in the queue:\n{s}"
    );
    quit(&disp.0);
}
