//! Filing from the dashboard in a real terminal (issue 27): a community files a whistle and
//! posts a wish from its own screen; the admin makes a robot subscription on 推送 and deletes
//! it. The server holds what was typed.

use super::receiver;
use super::terminal::*;

/// A record list as the admin reads it from the server.
fn listed(rt: &tokio::runtime::Runtime, c: &City, path: &str) -> Vec<serde_json::Value> {
    rt.block_on(async {
        let v = api_get(&c.http, &c.url, &c.admin, path).await;
        v["items"]
            .as_array()
            .cloned()
            .or_else(|| v.as_array().cloned())
            .unwrap_or_default()
    })
}

#[test]
fn a_community_files_a_whistle_and_posts_a_wish_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));
    let community = dashboard(dir.path(), "file-community", &c.url, &c.community);
    wait_for(&community.0, &c.case, 30);

    keys(&community.0, &["n"]);
    wait_for(&community.0, "吹哨立案", 5);
    typed(&community.0, "路灯");
    keys(&community.0, &["Tab"]);
    typed(&community.0, "路口路灯杆倾斜");
    keys(&community.0, &["Tab", "Tab"]);
    typed(&community.0, "朝阳路与龙洲路口");
    keys(&community.0, &["Tab", "Right", "Tab"]);
    typed(&community.0, "王阿姨");
    keys(&community.0, &["Tab"]);
    typed(&community.0, "138-0013-8000");
    keys(&community.0, &["Enter"]);
    let s = wait_for(&community.0, "已立案", 10);
    assert!(
        s.contains("已立案 W") && s.contains("路口路灯杆倾斜（朝阳路社区 · 路灯照明）"),
        "filed:\n{s}"
    );
    let filed = listed(&rt, &c, "/whistles?status=new");
    let w = filed
        .iter()
        .find(|w| w["title"] == "路口路灯杆倾斜")
        .unwrap_or_else(|| panic!("on the server: {filed:?}"));
    assert_eq!(w["urgency"], "urgent");
    assert_eq!(w["address"], "朝阳路与龙洲路口");
    assert_eq!(w["source"], "community");
    assert_eq!(w["reporter"]["phone"], "138-0013-8000");
    let id = w["id"].as_str().unwrap().to_string();
    let s = wait_for(&community.0, &id, 5);
    assert!(
        s.lines().any(|l| l.contains(&id) && l.contains("未派单")),
        "in its own list at once:\n{s}"
    );

    keys(&community.0, &["3"]);
    wait_for(&community.0, "心愿", 5);
    keys(&community.0, &["n"]);
    wait_for(&community.0, "发布心愿", 5);
    typed(&community.0, "给独居老人家装扶手");
    keys(&community.0, &["Tab", "Tab"]);
    typed(&community.0, "35.5");
    keys(&community.0, &["Enter"]);
    let s = wait_for(&community.0, "已发布心愿", 10);
    assert!(s.contains("给独居老人家装扶手"), "posted:\n{s}");
    let wishes = listed(&rt, &c, "/wishes");
    assert!(
        wishes
            .iter()
            .any(|w| w["title"] == "给独居老人家装扶手" && w["value_fen"] == 3550),
        "{wishes:?}"
    );
    quit(&community.0);
}

#[test]
fn the_admin_makes_and_deletes_a_robot_subscription_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));
    let robot = rt
        .block_on(receiver::Receiver::start(receiver::Reply::Status(
            200,
            r#"{"errcode":0,"errmsg":"ok"}"#.into(),
        )))
        .unwrap();
    let admin = dashboard(dir.path(), "file-hooks", &c.url, &c.admin);
    wait_for(&admin.0, &c.case, 30);
    keys(&admin.0, &["6"]);
    wait_for(&admin.0, "按 n 新建", 10);
    keys(&admin.0, &["n"]);
    wait_for(&admin.0, "新建推送订阅", 5);
    typed(&admin.0, "桃花仑街道值班群");
    keys(&admin.0, &["Tab"]);
    typed(&admin.0, &robot.url);
    keys(&admin.0, &["Tab", "Right", "Tab", "Tab", "Enter"]);
    let s = wait_for(&admin.0, "已订阅", 10);
    assert!(
        s.contains("已订阅 H1「桃花仑街道值班群」"),
        "subscribed:\n{s}"
    );
    let hooks = listed(&rt, &c, "/webhooks");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["format"], "wecom");
    // The robot's key is not shown back; the rest of its address is.
    let base = robot.url.split('?').next().unwrap_or_default();
    assert!(
        hooks[0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(base)),
        "{hooks:?}"
    );
    let s = wait_for(&admin.0, "企业微信", 5);
    assert!(s.lines().any(|l| l.contains("H1")), "listed:\n{s}");

    keys(&admin.0, &["X"]);
    let s = wait_for(&admin.0, "请确认", 5);
    assert!(s.contains("删除订阅 H1「桃花仑街道值班群」"), "asked:\n{s}");
    keys(&admin.0, &["y"]);
    let s = wait_for(&admin.0, "已删除订阅", 10);
    assert!(s.contains("已删除订阅 H1，不再推送"), "deleted:\n{s}");
    assert!(listed(&rt, &c, "/webhooks").is_empty());
    quit(&admin.0);
}
