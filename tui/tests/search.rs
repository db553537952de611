//! Finding any case from the dashboard (issue 29 §1): `:search 漏水 梓山` or `/` with a `q=`
//! part asks the server, lists what it found (closed cases too) and Enter opens one.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::{Urgency, Whistle, WhistleId, WhistleStatus};
use shaozi_tui::app::{update, App, Effect, Msg, View};
use shaozi_tui::i18n::Lang;

/// What the server found for 漏水: a closed case from last month and an open one.
fn hits() -> Vec<Whistle> {
    let mut old = resolved(dispatched(
        whistle(
            901,
            2,
            "property",
            Urgency::Normal,
            60 * 24 * 30,
            "楼道漏水",
        ),
        3,
    ));
    old.status = WhistleStatus::Closed;
    old.satisfaction = Some(5);
    old.version += 1;
    vec![
        whistle(1031, 2, "property", Urgency::Urgent, 20, "屋顶漏水了"),
        old,
    ]
}

fn searched(lang: Lang, wd: u16, h: u16) -> App {
    let mut a = app(lang, wd, h);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "search 漏水 梓山");
    let fx = key(&mut a, KeyCode::Enter);
    assert_eq!(fx, [Effect::Search("漏水 梓山".into())]);
    assert_eq!(a.view, View::Search);
    update(
        &mut a,
        Msg::Searched("漏水 梓山".into(), Ok((hits(), false))),
    );
    a
}

#[test]
fn a_search_lists_every_case_found_and_enter_opens_one() {
    let mut a = searched(Lang::Zh, 120, 40);
    let screen = render(&a);
    assert!(
        screen.contains("搜索「漏水 梓山」· 2 件（含已办结）"),
        "{screen}"
    );
    assert!(
        screen.contains("W901") && screen.contains("已关闭"),
        "closed too: {screen}"
    );
    // Enter opens the selected one; Esc goes back home from the results.
    key(&mut a, KeyCode::Char('j'));
    let fx = key(&mut a, KeyCode::Enter);
    assert_eq!(
        fx,
        [
            Effect::FetchDetail(WhistleId(901)),
            Effect::FetchSimilar(WhistleId(901))
        ]
    );
    assert_eq!(a.view, View::Detail);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Search, "back to the results");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Queue);
}

#[test]
fn an_old_answer_is_dropped_and_a_failure_is_said() {
    let mut a = searched(Lang::Zh, 120, 40);
    // An answer to an earlier search arriving late does not replace this one's.
    update(
        &mut a,
        Msg::Searched("路灯".into(), Ok((Vec::new(), false))),
    );
    assert!(render(&a).contains("2 件"));
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "搜索 水管");
    key(&mut a, KeyCode::Enter);
    let refusal = shaozi_tui::refusal::Refusal::plain(503, "the search index is still being built");
    update(&mut a, Msg::Searched("水管".into(), Err(refusal)));
    let screen = render(&a);
    assert!(screen.contains("搜索「水管」失败"), "{screen}");
    // Nothing found says what to try.
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "search 不存在的词");
    key(&mut a, KeyCode::Enter);
    update(
        &mut a,
        Msg::Searched("不存在的词".into(), Ok((Vec::new(), false))),
    );
    assert!(render(&a).contains("没有找到"));
    // A search without words says how.
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "search");
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert!(a.flash.clone().unwrap().text.contains("用法：:search"));
}

#[test]
fn a_q_part_in_the_filter_searches_every_case() {
    let mut a = app(Lang::Zh, 120, 40);
    key(&mut a, KeyCode::Char('/'));
    typed(&mut a, "q=漏水 梓山");
    assert!(render(&a).contains("Enter 搜索全部案件（含已办结）：漏水 梓山"));
    let fx = key(&mut a, KeyCode::Enter);
    assert_eq!(fx, [Effect::Search("漏水 梓山".into())]);
    assert_eq!(a.view, View::Search);
    assert!(a.prompt.is_none());
}

#[test]
fn search_results_80x24_and_120x40_in_both_languages() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        render(&searched(Lang::Zh, 80, 24)),
        render(&searched(Lang::Zh, 120, 40)),
        render(&searched(Lang::En, 80, 24)),
        render(&searched(Lang::En, 120, 40))
    ));
}

/// The detail of W1032 with the case it is most like (W1031, the same roof) listed.
fn detail_with_similar(lang: Lang, wd: u16, h: u16) -> App {
    let mut a = app(lang, wd, h);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "goto W1032");
    key(&mut a, KeyCode::Enter);
    let w = whistle(1032, 2, "property", Urgency::Normal, 5, "屋顶又漏水了");
    update(
        &mut a,
        Msg::Detail(Box::new(shaozi_shared::api::WhistleDetail {
            whistle: w,
            timeline: Vec::new(),
        })),
    );
    let like = shaozi_shared::api::Similar {
        whistle: hits().remove(0),
        score: 0.75,
        same_community: true,
        distance_m: Some(12.0),
        shared: vec!["屋顶".into(), "漏水".into()],
    };
    update(&mut a, Msg::Similar(WhistleId(1032), vec![like]));
    a
}

#[test]
fn the_detail_lists_similar_cases_and_x_offers_the_closest_as_the_original() {
    let mut a = detail_with_similar(Lang::Zh, 120, 40);
    let screen = render(&a);
    assert!(screen.contains("相似案件（可能重复"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("W1031") && l.contains("同社区 · 12 m · 相似 75%")),
        "{screen}"
    );
    key(&mut a, KeyCode::Char('x'));
    assert!(render(&a).contains("> dup W1031 "), "{}", render(&a));
    typed(&mut a, "同一处屋顶");
    let fx = key(&mut a, KeyCode::Enter);
    // Rejecting is confirmed first (it cannot be undone); yes sends it.
    let fx = if fx.is_empty() {
        key(&mut a, KeyCode::Char('y'))
    } else {
        fx
    };
    let [Effect::Act { id, body, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, WhistleId(1032));
    assert_eq!(
        body.json(),
        serde_json::json!({"reason": "同一处屋顶", "duplicate_of": "W1031"})
    );
}

#[test]
fn a_detail_with_similar_cases_80x24_and_120x40_in_both_languages() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        render(&detail_with_similar(Lang::Zh, 80, 24)),
        render(&detail_with_similar(Lang::Zh, 120, 40)),
        render(&detail_with_similar(Lang::En, 80, 24)),
        render(&detail_with_similar(Lang::En, 120, 40))
    ));
}
