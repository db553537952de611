//! Each role's morning: what its dashboard opens on, what it may do there, and the wishes
//! list, at 80×24 and 120×40 in Chinese and English.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::Step;
use shaozi_shared::{CommunityId, DepartmentId, Role, Scope, WhistleId, WishId};
use shaozi_tui::app::{update, Effect, Msg, View};
use shaozi_tui::i18n::Lang;

fn sizes() -> [(Lang, u16, u16); 4] {
    [
        (Lang::Zh, 80, 24),
        (Lang::Zh, 120, 40),
        (Lang::En, 80, 24),
        (Lang::En, 120, 40),
    ]
}

fn name(lang: Lang, w: u16, h: u16) -> String {
    format!("{}_{w}x{h}", if lang == Lang::Zh { "zh" } else { "en" })
}

#[test]
fn a_dispatcher_opens_on_the_city_queue() {
    for (lang, w, h) in sizes() {
        let mut a = app(lang, w, h);
        update(&mut a, me(Role::Dispatcher, Scope::City));
        assert_eq!(a.view, View::Queue);
        insta::assert_snapshot!(format!("dispatcher_{}", name(lang, w, h)), render(&a));
    }
}

#[test]
fn a_department_opens_on_its_own_work_in_sections() {
    for (lang, w, h) in sizes() {
        let a = department_app(lang, w, h);
        assert_eq!(a.view, View::Work);
        // Waiting to report, reopened, in progress, resolved awaiting the community; none of
        // another department's.
        let ids: Vec<u64> = a.work.shown.iter().map(|w| w.id.0).collect();
        assert_eq!(ids, [1004, 1012, 1011, 1013]);
        insta::assert_snapshot!(format!("department_{}", name(lang, w, h)), render(&a));
    }
}

#[test]
fn a_community_opens_on_what_awaits_its_confirmation() {
    for (lang, w, h) in sizes() {
        let a = community_app(lang, w, h);
        assert_eq!(a.view, View::Work);
        let ids: Vec<u64> = a.work.shown.iter().map(|w| w.id.0).collect();
        assert_eq!(
            ids,
            [1013, 1003, 1001, 1014],
            "to confirm, new, waiting, in progress"
        );
        insta::assert_snapshot!(format!("community_{}", name(lang, w, h)), render(&a));
    }
}

#[test]
fn the_wishes_list_for_a_department_and_a_community() {
    for (lang, w, h) in sizes() {
        let mut d = department_app(lang, w, h);
        key(&mut d, KeyCode::Char('3'));
        assert_eq!(d.view, View::Wishes);
        insta::assert_snapshot!(
            format!("wishes_department_{}", name(lang, w, h)),
            render(&d)
        );
        let mut c = community_app(lang, w, h);
        key(&mut c, KeyCode::Char('3'));
        insta::assert_snapshot!(format!("wishes_community_{}", name(lang, w, h)), render(&c));
    }
}

#[test]
fn a_department_reports_for_duty_from_its_list_and_the_case_moves_section() {
    let mut a = department_app(Lang::Zh, 120, 40);
    // The first row is the case waiting for it; the footer offers what that status allows.
    let screen = render(&a);
    let hints = screen.lines().nth(39).unwrap().to_string();
    assert!(hints.contains("r 报到"), "{hints}");
    assert!(
        !hints.contains("s 办结") && !hints.contains("a 派单"),
        "{hints}"
    );
    key(&mut a, KeyCode::Char('r'));
    typed(&mut a, "王强 赵敏");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!((*id, body.step()), (WhistleId(1004), Step::Acknowledge));
    let mut now = a.work.shown[0].clone();
    now.status = shaozi_shared::WhistleStatus::Acknowledged;
    now.staff = vec!["王强".into(), "赵敏".into()];
    now.version += 1;
    update(
        &mut a,
        Msg::Acted {
            id: WhistleId(1004),
            step: Step::Acknowledge,
            result: Ok(Box::new(now)),
            draft: None,
        },
    );
    let flash = a.flash.clone().unwrap();
    assert!(
        flash.text.contains("已报到（王强、赵敏）"),
        "{}",
        flash.text
    );
    let ids: Vec<u64> = a.work.shown.iter().map(|w| w.id.0).collect();
    assert_eq!(
        ids,
        [1012, 1011, 1004, 1013],
        "now in progress; the selection follows it"
    );
    assert_eq!(a.work.shown[a.work.list.sel].id, WhistleId(1004));
    // Resolving is what is offered now.
    let screen = render(&a);
    let hints = screen.lines().nth(39).unwrap().to_string();
    assert!(
        hints.contains("s 办结") && !hints.contains("r 报到"),
        "{hints}"
    );
    // The message stays while moving about, and goes with the next thing done.
    key(&mut a, KeyCode::Char('j'));
    assert!(a.flash.is_some());
    key(&mut a, KeyCode::Char('/'));
    assert!(a.flash.is_none());
}

#[test]
fn a_step_the_status_does_not_allow_is_not_offered_and_says_why() {
    let mut a = community_app(Lang::Zh, 120, 40);
    // W1003 (new): a community may not close it yet.
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.work.shown[a.work.list.sel].id, WhistleId(1003));
    let hints = render(&a).lines().nth(39).unwrap().to_string();
    assert!(
        !hints.contains("c 关闭") && !hints.contains("o 重办"),
        "{hints}"
    );
    assert!(key(&mut a, KeyCode::Char('c')).is_empty());
    assert!(a.prompt.is_none());
    let flash = a.flash.clone().unwrap();
    assert!(
        flash.error && flash.text.contains("W1003 当前为「未派单」，不能关闭"),
        "{}",
        flash.text
    );
    // Help lists only what a community may do, in Chinese.
    key(&mut a, KeyCode::Char('?'));
    let screen = render(&a);
    // The help box's text: what is right of its left border.
    let help: String = screen
        .lines()
        .filter_map(|l| l.split_once('│').and_then(|(_, r)| r.rsplit_once('│')))
        .map(|(inside, _)| inside.to_string() + "\n")
        .collect();
    assert!(
        help.contains("关闭") && help.contains("重办") && help.contains("撤销"),
        "{screen}"
    );
    for not_hers in ["派单", "报到", "驳回", "认领", "acknowledge", "view_wishes"] {
        assert!(!help.contains(not_hers), "{not_hers}: {screen}");
    }
}

#[test]
fn closing_asks_for_a_rating_then_a_note_then_closes_with_both() {
    let mut a = community_app(Lang::Zh, 120, 40);
    assert_eq!(
        a.work.shown[0].id,
        WhistleId(1013),
        "awaiting confirmation comes first"
    );
    key(&mut a, KeyCode::Char('c'));
    // Enter before a rating closes nothing.
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert!(a.prompt.is_some());
    key(&mut a, KeyCode::Char('4'));
    typed(&mut a, "修得及时");
    let screen = render(&a);
    assert!(screen.contains("★★★★☆（4 分）"), "{screen}");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, WhistleId(1013));
    assert_eq!(
        body.json(),
        serde_json::json!({"satisfaction": 4, "note": "修得及时"})
    );
}

#[test]
fn a_department_claims_a_wish_and_a_community_withdraws_one() {
    let mut d = department_app(Lang::Zh, 120, 40);
    key(&mut d, KeyCode::Char('3'));
    assert_eq!(
        d.wishes.shown[0].id,
        WishId(4),
        "unclaimed first, oldest first"
    );
    let fx = key(&mut d, KeyCode::Char('t'));
    let [Effect::ActWish {
        id, body, version, ..
    }] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!((*id, *version), (WishId(4), Some(1)));
    assert_eq!(body.json(), serde_json::json!({"department_id": "D3"}));
    // A department cannot withdraw a wish.
    assert!(key(&mut d, KeyCode::Char('w')).is_empty());
    assert!(d.flash.clone().unwrap().error);

    let mut c = community_app(Lang::Zh, 120, 40);
    key(&mut c, KeyCode::Char('3'));
    key(&mut c, KeyCode::Char('w'));
    assert!(
        key(&mut c, KeyCode::Enter).is_empty(),
        "a withdrawal needs its reason"
    );
    assert!(c.flash.clone().unwrap().text.contains("请填写"));
    typed(&mut c, "已由邻居帮忙解决");
    let fx = key(&mut c, KeyCode::Enter);
    let [Effect::ActWish { body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(body.step(), Step::Cancel);
    // The wishes list narrows to unclaimed ones of a community.
    key(&mut d, KeyCode::Char('/'));
    typed(&mut d, "未认领 社区=梓山");
    key(&mut d, KeyCode::Enter);
    let ids: Vec<WishId> = d.wishes.shown.iter().map(|w| w.id).collect();
    assert_eq!(ids, [WishId(2)]);
    let _ = (CommunityId(1), DepartmentId(1));
}

#[test]
fn enter_on_a_wish_says_all_of_it() {
    let mut d = department_app(Lang::Zh, 120, 40);
    key(&mut d, KeyCode::Char('3'));
    key(&mut d, KeyCode::Char('G'));
    key(&mut d, KeyCode::Enter);
    let text = d.flash.clone().unwrap().text;
    assert_eq!(
        text,
        "M3 村里小广场添两张长椅 · 龙洲村 · ¥1,600 · 已认领 · 社区 发布于 11-25 23:00 · 市城市管理和综合执法局 认领于 02:00:00"
    );
}

/// Issue 27, bug 7: a department is not offered a step on a wish another department claimed,
/// and pressing its key says whose claim it is, in a whole sentence.
#[test]
fn a_department_is_not_offered_a_wish_another_department_claimed() {
    let mut a = department_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('G'));
    assert_eq!(a.wishes.selected().map(|w| w.id.0), Some(3));
    let screen = render(&a);
    let hints = screen.lines().last().unwrap_or_default();
    assert!(!hints.contains("完成"), "{hints}");
    let fx = key(&mut a, KeyCode::Char('d'));
    assert!(fx.is_empty(), "{fx:?}");
    let said = a.flash.clone().map(|f| f.text).unwrap_or_default();
    assert_eq!(
        said,
        "M3 由市城市管理和综合执法局认领，只有认领的部门能完成"
    );
}

/// Issue 27, bug 16: a department told it may not dispatch, not how to word a reason; an
/// unknown language said, not ignored.
#[test]
fn commands_a_role_may_not_run_or_cannot_read_are_said() {
    let mut a = department_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "assign W1004 住房");
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    let said = a.flash.clone().map(|f| f.text).unwrap_or_default();
    assert_eq!(said, "你的身份（部门）不能派单");
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "lang fr");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.lang, Lang::Zh);
    let said = a.flash.clone().map(|f| f.text).unwrap_or_default();
    assert!(said.contains("不支持的语言“fr”"), "{said}");
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "lang en");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.lang, Lang::En);
}

/// Issue 27, bug 17: a department is told when the dispatcher answers one of its cases (its
/// extension denied, an urge), replacing what its status line still said; a community is told
/// a fix waits for it. Nobody is told of others' cases.
#[test]
fn a_department_and_a_community_are_told_what_happened_to_their_cases() {
    let mut a = department_app(Lang::Zh, 120, 40);
    let mut w = a
        .work
        .cases
        .iter()
        .find(|w| w.id.0 == 1011)
        .unwrap()
        .clone();
    a.flash = Some(shaozi_tui::app::Flash {
        text: "W1011 的延期申请已提交，等待调度中心批复".into(),
        error: false,
    });
    w.version += 1;
    update(
        &mut a,
        event_with_note("whistle.extension_denied", &w, 80, "可先临时处置"),
    );
    let said = a.flash.clone().unwrap();
    assert_eq!(said.text, "W1011 延期未获批准，办结时限不变：可先临时处置");
    assert!(said.error);
    w.urges = 1;
    w.version += 1;
    update(
        &mut a,
        event_with_note("whistle.urged", &w, 81, "群众反映强烈"),
    );
    assert_eq!(
        a.flash.clone().unwrap().text,
        "W1011 被催办（第 1 次）：群众反映强烈"
    );
    // Another department's case: nothing said.
    a.flash = None;
    let mut other = a.model.queue.get(WhistleId(1001)).unwrap().clone();
    other.urges = 1;
    other.version += 1;
    update(&mut a, event_with_note("whistle.urged", &other, 82, "快"));
    assert_eq!(a.flash, None);

    let mut c = community_app(Lang::Zh, 120, 40);
    let mut fixed = c
        .work
        .cases
        .iter()
        .find(|w| w.id.0 == 1014)
        .unwrap()
        .clone();
    fixed.status = shaozi_shared::WhistleStatus::Resolved;
    fixed.version += 1;
    update(
        &mut c,
        event_with_note("whistle.resolved", &fixed, 83, "已清运"),
    );
    assert_eq!(
        c.flash.clone().unwrap().text,
        "W1014 已办结，待你确认：已清运"
    );
}

/// Issue 27: a community's departments board (the server gives it no loads) says where its
/// cases are, and its footer offers no Enter into a department.
#[test]
fn a_communitys_departments_board_says_where_its_cases_are() {
    let mut c = community_app(Lang::Zh, 120, 40);
    let mut s = stats();
    s.departments.clear();
    update(&mut c, Msg::Stats(Box::new(s)));
    key(&mut c, KeyCode::Char('2'));
    let screen = render(&c);
    assert!(screen.contains("部门的负荷由调度中心查看"), "{screen}");
    let footer = screen.lines().last().unwrap_or_default();
    assert!(!footer.contains("Enter"), "{footer}");
}

/// Issue 27: the assessment marks the token's own unit, and its scores read with one decimal
/// each (100.0 above 89.4, not 100 above 89.4).
#[test]
fn the_assessment_marks_ones_own_row_and_lines_up_its_scores() {
    let mut a = department_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('5'));
    update(&mut a, Msg::Assessment(Box::new(assessment())));
    let screen = render(&a);
    let own = screen.lines().find(|l| l.contains("市住房和城乡")).unwrap();
    assert!(own.contains("▸市住房和城乡"), "{own}");
    let other = screen.lines().find(|l| l.contains("市路灯管理处")).unwrap();
    assert!(!other.contains('▸'), "{other}");
    for line in screen.lines().filter(|l| l.contains("市")) {
        let score = line.split_whitespace().nth(2).unwrap_or_default();
        if score != "-" && score.parse::<f64>().is_ok() {
            assert!(score.contains('.'), "{score} in {line}");
        }
    }
}

/// Issue 27: claiming a wish says for whom it was claimed.
#[test]
fn a_claim_says_for_whom() {
    let mut a = department_app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('3'));
    let mut w = a.wishes.selected().unwrap().clone();
    let fx = key(&mut a, KeyCode::Char('t'));
    assert_eq!(fx.len(), 1, "{fx:?}");
    w.status = shaozi_shared::WishStatus::Claimed;
    w.department_id = Some(DepartmentId(3));
    w.version += 1;
    update(
        &mut a,
        Msg::WishActed {
            id: w.id,
            step: Step::Claim,
            result: Ok(Box::new(w.clone())),
            draft: None,
        },
    );
    assert_eq!(
        a.flash.clone().unwrap().text,
        format!("{} 已由市住房和城乡建设局认领", w.id)
    );
}

/// Issue 27: a community sees its completed wishes, not only the open ones; a department
/// does not (its list is what it may still do).
#[test]
fn a_community_sees_its_completed_wishes() {
    let done = wish(
        9,
        1,
        shaozi_shared::WishStatus::Completed,
        "给独居老人装扶手",
        30_000,
    );
    let mut c = community_app(Lang::Zh, 120, 40);
    let mut mine: Vec<_> = wishes()
        .into_iter()
        .filter(|w| w.community_id == CommunityId(1))
        .collect();
    mine.push(done.clone());
    update(&mut c, Msg::Wishes(mine.clone()));
    key(&mut c, KeyCode::Char('3'));
    assert!(render(&c).contains("给独居老人装扶手"), "{}", render(&c));
    let mut d = department_app(Lang::Zh, 120, 40);
    update(&mut d, Msg::Wishes(mine));
    key(&mut d, KeyCode::Char('3'));
    assert!(!render(&d).contains("给独居老人装扶手"));
}

/// Issue 27: completing a wish cannot be undone, so `d` asks first, naming the wish, with room
/// for a note of what was done; Esc sends nothing.
#[test]
fn completing_a_wish_asks_first_and_takes_a_note() {
    let mut a = department_app(Lang::Zh, 120, 40);
    update(
        &mut a,
        me(
            shaozi_shared::Role::Department,
            shaozi_shared::Scope::Department(DepartmentId(1)),
        ),
    );
    update(&mut a, Msg::Wishes(wishes()));
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('G'));
    assert_eq!(a.wishes.selected().map(|w| w.id.0), Some(3));
    assert!(key(&mut a, KeyCode::Char('d')).is_empty(), "asks first");
    let screen = render(&a);
    assert!(
        screen.contains("完成心愿：可写备注") && screen.contains("M3 村里小广场添两张长椅"),
        "{screen}"
    );
    assert!(key(&mut a, KeyCode::Esc).is_empty());
    assert_eq!(a.prompt, None);
    key(&mut a, KeyCode::Char('d'));
    typed(&mut a, "两张长椅已装好");
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::ActWish { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(id.0, 3);
    assert_eq!(
        (body.step().name(), body.json()),
        ("complete", serde_json::json!({"note": "两张长椅已装好"}))
    );
    // Without a note, Enter completes it all the same.
    key(&mut a, KeyCode::Char('d'));
    for _ in 0..10 {
        key(&mut a, KeyCode::Backspace);
    }
    let fx = key(&mut a, KeyCode::Enter);
    assert!(
        matches!(fx.as_slice(), [Effect::ActWish { body, .. }] if body.json() == serde_json::json!({})),
        "{fx:?}"
    );
}
