//! Two residents report the same broken lamps (issue 29 §2): the community files the second
//! from the keyboard and is told at once it may be known; the city office opens it, sees the
//! first among its similar cases and merges them from the keyboard.

use super::terminal::*;

#[test]
fn a_second_report_of_the_same_problem_is_seen_and_merged_from_the_keyboard() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The city's case: 朝阳路三盏路灯不亮 (lighting, 朝阳路社区).
    let c = rt.block_on(city(dir.path().join("store")));
    let community = dashboard(dir.path(), "dup-community", &c.url, &c.community);
    wait_for(&community.0, &c.case, 30);
    keys(&community.0, &["n"]);
    wait_for(&community.0, "吹哨立案", 5);
    typed(&community.0, "路灯");
    keys(&community.0, &["Tab"]);
    typed(&community.0, "朝阳路路灯不亮");
    keys(&community.0, &["Tab"]);
    typed(&community.0, "朝阳路三盏路灯连续一周不亮");
    // Address, urgency, reporter and phone left as they are; Enter on the last sends.
    keys(&community.0, &["Tab", "Tab", "Tab", "Tab", "Enter"]);
    let s = wait_for(&community.0, "可能与", 10);
    assert!(
        s.contains(&format!("可能与 {} 朝阳路三盏路灯不亮 重复", c.case)),
        "told at once:\n{s}"
    );
    let filed = rt.block_on(api_get(
        &c.http,
        &c.url,
        &c.admin,
        "/whistles?status=new&q=%E6%9C%9D%E9%98%B3%E8%B7%AF%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE",
    ));
    let second = filed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["title"] == "朝阳路路灯不亮")
        .unwrap_or_else(|| panic!("{filed}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    quit(&community.0);

    let office = dashboard(dir.path(), "dup-office", &c.url, &c.admin);
    wait_for(&office.0, &second, 30);
    typed(&office.0, &format!(":goto {second}"));
    let s = wait_for(&office.0, &format!(":goto {second}"), 5);
    assert!(s.contains(&format!(":goto {second}")), "typed:\n{s}");
    keys(&office.0, &["Enter"]);
    // In the queue, :goto selects the row; Enter opens it.
    wait_for(&office.0, "在队列第", 5);
    keys(&office.0, &["Enter"]);
    let s = wait_for(&office.0, "相似案件", 10);
    let s = if s.contains(&c.case) {
        s
    } else {
        wait_for(&office.0, &c.case, 5)
    };
    assert!(
        s.lines().any(|l| l.contains(&c.case)
            && l.contains("朝阳路三盏路灯不亮")
            && l.contains("同社区")),
        "the first among the similar cases:\n{s}"
    );
    keys(&office.0, &["x"]);
    let s = wait_for(&office.0, &format!("dup {}", c.case), 5);
    assert!(
        s.contains(&format!("dup {}", c.case)),
        "the rejection starts as a duplicate of the closest:\n{s}"
    );
    typed(&office.0, "同一处路灯，并案处理");
    keys(&office.0, &["Enter"]);
    // Rejecting is final: it is confirmed first, naming the case it merges into.
    let s = wait_for(&office.0, "作为重复件", 5);
    assert!(
        s.contains(&format!("并入 {}，作为重复件", c.case)),
        "the confirmation names the original:\n{s}"
    );
    keys(&office.0, &["y"]);
    let s = wait_for(&office.0, "已驳回", 10);
    assert!(s.contains("已驳回"), "rejected:\n{s}");

    let merged = rt.block_on(api_get(
        &c.http,
        &c.url,
        &c.admin,
        &format!("/whistles/{second}"),
    ));
    assert_eq!(merged["status"], "rejected", "{merged}");
    assert_eq!(merged["duplicate_of"], c.case.as_str(), "{merged}");
    let original = rt.block_on(api_get(
        &c.http,
        &c.url,
        &c.admin,
        &format!("/whistles/{}", c.case),
    ));
    assert!(
        original["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == second.as_str()),
        "{original}"
    );
    quit(&office.0);
}
