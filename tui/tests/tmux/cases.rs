//! The flows of issues 14, 25 and 27 in a real terminal.

use std::time::{Duration, Instant};

use super::receiver;
use super::terminal::*;
use super::test_ca;
#[test]
fn the_demo_runs_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let session = format!("shaozi-smoke-{}", std::process::id());
    let cmd = format!(
        "env LANG=zh_CN.UTF-8 XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data {bin} demo --data {d}/store; echo EXITED:$?; sleep 30",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shaozi"),
    );
    let guard = start(&session, &cmd, 100, 30);

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
    let s = wait_for(&session, "按键", 5);
    assert!(
        s.contains("派单") && s.contains("报到") && !s.contains("acknowledge"),
        "help lists the keymap in the UI's language:\n{s}"
    );

    tmux(&["send-keys", "-t", &session, "Escape", "q"]);
    let s = wait_for(&session, "EXITED", 10);
    assert!(
        s.contains("EXITED:0"),
        "q quits cleanly and restores the terminal:\n{s}"
    );
    drop(guard);
}

/// The issue-14 morning, for real: a department reports for duty and resolves from its own
/// list; the community confirms with a rating from its own. The server holds the result.
#[test]
fn a_department_and_a_community_work_a_case_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));

    let dept = dashboard(dir.path(), "dept", &c.url, &c.department);
    let s = wait_for(&dept.0, &c.case, 30);
    assert!(
        s.contains("我的工作") && s.contains("待报到 1") && s.contains(&c.case),
        "a department opens on its own work:\n{s}"
    );
    let s = step_in(&dept.0, "r", "王强 赵敏", "已报到（王强、赵敏）");
    assert!(
        s.contains("已报到（王强、赵敏）") && s.contains("处理中 1"),
        "reported for duty:\n{s}"
    );
    let s = step_in(&dept.0, "s", "已更换灯泡三个", "已答复办结");
    assert!(
        s.contains("待社区确认 1"),
        "resolved, waiting for the community:\n{s}"
    );
    quit(&dept.0);

    let comm = dashboard(dir.path(), "comm", &c.url, &c.community);
    let s = wait_for(&comm.0, "待我确认 1", 30);
    assert!(
        s.contains("本社区") && s.contains("待我确认 1") && s.contains("待确认"),
        "a community opens on what awaits its confirmation:\n{s}"
    );
    keys(&comm.0, &["c", "4"]);
    typed(&comm.0, "修得及时");
    let s = wait_for(&comm.0, "4 分", 5);
    assert!(
        s.contains("★★★★☆"),
        "the rating is shown before closing:\n{s}"
    );
    keys(&comm.0, &["Enter"]);
    let s = wait_for(&comm.0, "已确认关闭", 10);
    assert!(
        s.contains("已确认关闭，评价 ★★★★☆"),
        "closed with its rating:\n{s}"
    );
    quit(&comm.0);

    // The server has it: closed, rated 4, with the note.
    let w = whistle_on_server(&rt, &c);
    assert_eq!(w["status"], "closed", "{w}");
    assert_eq!(w["satisfaction"], 4);
    assert_eq!(w["staff"], serde_json::json!(["王强", "赵敏"]));
    let closed = w["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(closed["note"], "修得及时", "{closed}");
}

/// Issue 16 for real: a department called by mistake returns the case from its own list; the
/// dispatcher finds it at the top of the queue, marked, and overrules the return.
#[test]
fn a_department_returns_a_case_and_the_dispatcher_overrules_it_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));
    let http = reqwest::Client::new();
    let dispatcher: serde_json::Value = rt.block_on(async {
        http.post(format!("{}/api/v1/tokens", c.url))
            .bearer_auth(&c.admin)
            .json(&serde_json::json!({"role": "dispatcher", "name": "市调度员"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let dispatcher = dispatcher["token"].as_str().unwrap().to_string();

    let dept = dashboard(dir.path(), "ret", &c.url, &c.department);
    let s = wait_for(&dept.0, &c.case, 30);
    assert!(
        s.contains("b 退单"),
        "the department is offered the return:\n{s}"
    );
    let s = step_in(&dept.0, "b", "该路段路灯归开发区管理", "已退单");
    assert!(s.contains("已退单，等待调度员"), "returned:\n{s}");
    let s = wait_for(&dept.0, "退单↩", 5);
    assert!(
        s.contains("退单↩"),
        "the department still sees it, marked, until the dispatcher answers:\n{s}"
    );
    quit(&dept.0);

    let disp = dashboard(dir.path(), "overrule", &c.url, &dispatcher);
    let s = wait_for(&disp.0, "退单↩", 30);
    let first = s.lines().find(|l| l.contains(&c.case)).unwrap_or("");
    assert!(
        first.contains("退单↩"),
        "the returned case heads the queue, marked:\n{s}"
    );
    let s = step_in(&disp.0, "v", "朝阳路路灯属路灯处", "退单不准，仍由");
    assert!(
        s.contains("退单不准，仍由 市路灯管理处 办理"),
        "overruled:\n{s}"
    );
    quit(&disp.0);

    let w = whistle_on_server(&rt, &c);
    assert_eq!(
        (&w["status"], &w["returns_overruled"]),
        (&serde_json::json!("dispatched"), &serde_json::json!(1)),
        "{w}"
    );
    let kinds: Vec<&str> = w["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        kinds.ends_with(&["whistle.returned", "whistle.return_overruled"]),
        "{kinds:?}"
    );
}

/// The admin's webhooks screen in a real terminal: a work-chat robot that is failing shows as
/// retrying with its reason, `T` sends a test and says what the robot answered, and once the
/// robot answers again the row says so.
#[test]
fn the_admin_watches_a_failing_robot_and_sends_it_a_test_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));
    let robot = rt
        .block_on(receiver::Receiver::start(receiver::Reply::Status(
            200,
            r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#.into(),
        )))
        .unwrap();
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        rt.block_on(async {
            let res = http
                .post(format!("{}/api/v1{path}", c.url))
                .bearer_auth(&c.admin)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            res.json::<serde_json::Value>().await.unwrap()
        })
    };
    post(
        "/webhooks".into(),
        serde_json::json!({"name": "桃花仑街道值班群", "url": robot.url, "events": ["*"], "format": "wecom"}),
    );
    // A dispatch for the robot to be told about (and refuse).
    let w = post(
        "/whistles".into(),
        serde_json::json!({"community_id": "C1", "category": "lighting", "urgency": "normal",
                           "title": "路灯闪烁", "description": "夜里一闪一闪"}),
    );
    post(
        format!("/whistles/{}/dispatch", w["id"].as_str().unwrap()),
        serde_json::json!({"department_id": "D1"}),
    );

    let admin = dashboard(dir.path(), "hooks", &c.url, &c.admin);
    wait_for(&admin.0, &c.case, 30);
    keys(&admin.0, &["6"]);
    let s = wait_for(&admin.0, "重试中", 20);
    assert!(
        s.contains("H1") && s.contains("桃花仑街道值班群") && s.contains("重试中"),
        "the failing robot is listed as retrying:\n{s}"
    );
    assert!(s.contains("93000"), "with the robot's own reason:\n{s}");
    keys(&admin.0, &["R"]);
    let s = wait_for(&admin.0, "没有暂停", 5);
    assert!(
        s.contains("H1 没有暂停，无需恢复"),
        "R on one that is not paused:\n{s}"
    );
    keys(&admin.0, &["T"]);
    let s = wait_for(&admin.0, "测试消息未送达", 15);
    assert!(
        s.contains("H1 测试消息未送达") && s.contains("93000"),
        "T says what the robot answered:\n{s}"
    );
    // The robot is fixed; the next retry goes through, and the next event refreshes the row.
    robot.set(receiver::Reply::Status(
        200,
        r#"{"errcode":0,"errmsg":"ok"}"#.into(),
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut s = String::new();
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        post(
            "/streets".into(),
            serde_json::json!({"name": format!("新街道{n}")}),
        );
        s = wait_for(&admin.0, "正常", 2);
        if s.lines().any(|l| l.contains("H1") && l.contains("正常")) {
            break;
        }
    }
    assert!(
        s.lines().any(|l| l.contains("H1") && l.contains("正常")),
        "delivering again:\n{s}"
    );
    assert!(robot.count() >= 3, "retried, tested, delivered");
    quit(&admin.0);
}

/// Issue 18: the dispatcher's dashboard reaches a server that serves HTTPS with a certificate
/// from the city's own CA, given with `--ca-cert`; the queue loads and live events arrive
/// through TLS. Without the CA it does not connect, and says why.
#[test]
fn the_dashboard_connects_over_https_with_the_citys_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca::TestCa::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city_served(dir.path().join("store"), Some(&ca)));
    assert!(c.url.starts_with("https://"));

    let more = format!("--ca-cert {}", ca.ca_cert.display());
    let d = dashboard_with(dir.path(), "tls", &c.url, &c.admin, &more);
    wait_for(&d.0, &c.case, 30);
    // The queue loads before the event stream is up; both are waited for (under load the
    // second can come a moment later).
    let s = wait_for(&d.0, "在线", 10);
    assert!(
        s.contains("在线") && s.contains(&c.case) && s.contains("朝阳路三盏路灯不亮"),
        "the queue over https:\n{s}"
    );
    assert!(!s.contains("未加密"), "https is not warned about:\n{s}");

    // A live event through the TLS event stream.
    rt.block_on(async {
        let res = c
            .http
            .post(format!("{}/api/v1/whistles", c.url))
            .bearer_auth(&c.admin)
            .json(&serde_json::json!({"community_id": "C1", "category": "lighting", "urgency": "normal",
                                      "title": "梓园小区门口井盖松动", "description": "踩上去会响"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    });
    let s = wait_for(&d.0, "梓园小区门口井盖松动", 15);
    assert!(
        s.contains("梓园小区门口井盖松动"),
        "the new whistle arrived live over https:\n{s}"
    );
    quit(&d.0);

    // The same server without the city's CA: no connection, and the reason on screen.
    let d = dashboard_with(dir.path(), "tls-untrusted", &c.url, &c.admin, "");
    let s = wait_for(&d.0, "证书", 20);
    assert!(
        !s.contains(&c.case) && s.contains("服务器证书不受信任") && s.contains("--ca-cert"),
        "an unknown CA is refused and said so:\n{s}"
    );
    quit(&d.0);
}

/// Issue 27's morning, for real: a department returns one case and asks for more time on
/// another; the dispatcher sees both in the inbox, upholds the return with `a` (the note the
/// new department needs is asked for) and denies the request; the department, still watching,
/// is told of both answers.
#[test]
fn a_morning_in_the_inbox_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(city(dir.path().join("store")));
    let post = |path: &str, token: &str, body: serde_json::Value| -> serde_json::Value {
        rt.block_on(async {
            let res = c
                .http
                .post(format!("{}/api/v1{path}", c.url))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            res.json().await.unwrap()
        })
    };
    // A second department to uphold the return to, a dispatcher, and a second case that the
    // lighting department has reported for duty on.
    post(
        "/departments",
        &c.admin,
        serde_json::json!({"name": "市住房和城乡建设局", "categories": ["lighting", "property"]}),
    );
    let dispatcher = post(
        "/tokens",
        &c.admin,
        serde_json::json!({"role": "dispatcher", "name": "市调度员"}),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let first = whistle_on_server(&rt, &c);
    let second = post(
        "/whistles",
        &c.admin,
        serde_json::json!({"community_id": first["community_id"], "category": "lighting",
                           "urgency": "normal", "title": "朝阳路整条线路老化",
                           "description": "需要更换线路"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        &format!("/whistles/{second}/dispatch"),
        &c.admin,
        serde_json::json!({"department_id": first["department_id"]}),
    );
    post(
        &format!("/whistles/{second}/acknowledge"),
        &c.department,
        serde_json::json!({"staff": ["王强", "赵敏"]}),
    );

    // The department: returns the first case, asks three more days on the second.
    let dept = dashboard(dir.path(), "morning-dept", &c.url, &c.department);
    let s = wait_for(&dept.0, &second, 30);
    assert!(s.contains(&c.case), "both cases are the department's:\n{s}");
    let s = step_in(&dept.0, "b", "该路段路灯归开发区管理", "已退单");
    assert!(s.contains("已退单"), "returned:\n{s}");
    keys(&dept.0, &["G"]);
    let s = step_in(&dept.0, "l", "+3d 需要更换整条线路", "已申请延期");
    let s = if s.contains("待批延期") {
        s
    } else {
        wait_for(&dept.0, "待批延期", 5)
    };
    assert!(s.contains("待批延期"), "the request waits:\n{s}");

    // The dispatcher: both in the inbox.
    let disp = dashboard(dir.path(), "morning-disp", &c.url, &dispatcher);
    wait_for(&disp.0, "在线", 30);
    keys(&disp.0, &["i"]);
    let s = wait_for(&disp.0, "延期待批 1", 10);
    assert!(
        s.contains("退单待定 1") && s.contains(&c.case) && s.contains(&second),
        "the inbox holds both:\n{s}"
    );
    // Uphold the return with `a`: the picker, then the note for the new department.
    keys(&disp.0, &["g", "a"]);
    typed(&disp.0, "住房");
    keys(&disp.0, &["Enter"]);
    let s = wait_for(&disp.0, "理由", 10);
    assert!(
        !s.contains("已派往"),
        "nothing is sent without the note:\n{s}"
    );
    typed(&disp.0, "路灯线路由住建局统一改造");
    keys(&disp.0, &["Enter"]);
    let s = wait_for(&disp.0, "已派往", 10);
    assert!(
        s.contains("市住房和城乡建设局"),
        "upheld to the other department:\n{s}"
    );
    // Deny the request for more time.
    let s = wait_for(&disp.0, "退单待定 0", 10);
    assert!(s.contains("延期待批 1"), "{s}");
    keys(&disp.0, &["g"]);
    let s = step_in(&disp.0, "D", "可先临时处置，按原时限办结", "延期申请未批准");
    assert!(!s.contains("延期待批 1"), "answered:\n{s}");
    quit(&disp.0);

    // The department was told of both, as they happened.
    let s = wait_for(&dept.0, "延期未获批准", 10);
    assert!(s.contains("延期未获批准"), "the denial is said:\n{s}");
    assert!(!s.contains(&c.case), "the upheld case left its list:\n{s}");
    // Both answers stay among its notices until seen.
    assert!(s.contains("✉ 2 条新通知"), "counted:\n{s}");
    keys(&dept.0, &["m"]);
    let s = wait_for(&dept.0, "退单已核准", 10);
    assert!(
        s.contains(&format!("{} 退单已核准", c.case))
            && s.contains(&format!("{second} 延期未获批准")),
        "both answers listed:\n{s}"
    );
    quit(&dept.0);

    let upheld = whistle_on_server(&rt, &c);
    assert_eq!(
        upheld["returns_upheld"].as_array().map(Vec::len),
        Some(1),
        "{upheld}"
    );
}
