//! 趋势 (issue 29 §4): a street leader reads twelve weeks at a glance, the hotspots beside
//! them, and Enter lists the cases behind a row.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::*;
use crossterm::event::KeyCode;

use shaozi_shared::api::{Hotspot, Hotspots, TrendPeriod, TrendSeries, Trends};
use shaozi_shared::{CommunityId, StreetId, WhistleId};
use shaozi_tui::app::{update, App, Effect, Msg, View};
use shaozi_tui::i18n::Lang;

/// Twelve weeks up to the one of 26 November, as the server answers.
fn patterns() -> (Trends, Hotspots) {
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    let periods: Vec<TrendPeriod> = (0..12)
        .map(|i| {
            let start = first + Duration::days(7 * i);
            let from =
                Utc.from_utc_datetime(&start.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(8);
            TrendPeriod {
                start,
                from,
                to: from + Duration::days(7),
            }
        })
        .collect();
    let series = |key: &str, name: &str, filed: [u64; 12], late: [u64; 12]| {
        let mut s = TrendSeries::new(key.into(), name.into(), 12);
        s.filed = filed.to_vec();
        s.overdue = late.to_vec();
        s.resolved_on_time = filed.iter().zip(late).map(|(f, l)| f - l).collect();
        s
    };
    let property = series(
        "property",
        "物业管理",
        [2, 3, 1, 4, 2, 5, 3, 6, 4, 7, 8, 9],
        [0, 1, 0, 0, 0, 1, 0, 2, 0, 1, 2, 3],
    );
    let lighting = series(
        "lighting",
        "路灯照明",
        [1, 0, 2, 1, 1, 0, 3, 1, 0, 2, 1, 1],
        [0; 12],
    );
    let mut total = TrendSeries::new(String::new(), String::new(), 12);
    for s in [&property, &lighting] {
        for i in 0..12 {
            total.filed[i] += s.filed[i];
            total.overdue[i] += s.overdue[i];
            total.resolved_on_time[i] += s.resolved_on_time[i];
        }
    }
    total.bounced[11] = 1;
    let trends = Trends {
        by: "category".into(),
        interval: "week".into(),
        periods,
        series: vec![property, lighting],
        total,
    };
    let hotspots = Hotspots {
        from: now() - Duration::days(30),
        to: now(),
        days: 30,
        min: 3,
        items: vec![
            Hotspot {
                community_id: CommunityId(2),
                community: "梓山社区".into(),
                street_id: StreetId(1),
                category: "property".into(),
                category_name: "物业管理".into(),
                count: 7,
                previous: 3,
                whistles: vec![WhistleId(1040), WhistleId(1031)],
            },
            Hotspot {
                community_id: CommunityId(1),
                community: "朝阳路社区".into(),
                street_id: StreetId(1),
                category: "lighting".into(),
                category_name: "路灯照明".into(),
                count: 3,
                previous: 4,
                whistles: vec![WhistleId(1003)],
            },
        ],
    };
    (trends, hotspots)
}

fn trends(lang: Lang, wd: u16, h: u16) -> App {
    let mut a = app(lang, wd, h);
    let fx = key(&mut a, KeyCode::Char('7'));
    assert_eq!(
        fx,
        [Effect::FetchPatterns {
            by: "category",
            interval: "week"
        }]
    );
    assert_eq!(a.view, View::Trends);
    update(&mut a, Msg::Patterns(Ok(Box::new(patterns()))));
    a
}

#[test]
fn the_trends_show_the_weeks_the_series_and_the_hotspots() {
    let a = trends(Lang::Zh, 120, 40);
    let screen = render(&a);
    assert!(
        screen.contains("趋势 · 近12周 (09-07–11-29) · 按类别"),
        "{screen}"
    );
    assert!(screen.contains("本期受理 10（上期 9，↑1）"), "{screen}");
    assert!(screen.contains("物业管理"), "{screen}");
    // The sparkline of property's twelve weeks, scaled to its busiest.
    let property = screen.lines().find(|l| l.contains("物业管理")).unwrap();
    assert!(property.contains("▂▃▁▄▂▅▃▆▄▇██"), "{property}");
    assert!(
        screen.contains("梓山社区 · 物业管理") && screen.contains("7↑"),
        "{screen}"
    );
}

#[test]
fn enter_lists_the_cases_behind_a_row_and_esc_comes_back() {
    let mut a = trends(Lang::Zh, 120, 40);
    // The first series: property since the first week.
    let fx = key(&mut a, KeyCode::Enter);
    assert_eq!(
        fx,
        [Effect::Search("category=property from=2026-09-07".into())]
    );
    assert_eq!(a.view, View::Search);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view, View::Trends, "back to the trends it drilled from");
    // → to the hotspots; the second one.
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Char('j'));
    let fx = key(&mut a, KeyCode::Enter);
    let [Effect::Search(q)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(
        q.starts_with("community_id=C1 category=lighting from="),
        "{q}"
    );
    // U counts by community, p by month: each asks again.
    key(&mut a, KeyCode::Esc);
    let fx = key(&mut a, KeyCode::Char('U'));
    assert_eq!(
        fx,
        [Effect::FetchPatterns {
            by: "community",
            interval: "week"
        }]
    );
    let fx = key(&mut a, KeyCode::Char('p'));
    assert_eq!(
        fx,
        [Effect::FetchPatterns {
            by: "community",
            interval: "month"
        }]
    );
}

#[test]
fn a_failure_is_said_where_the_chart_would_be() {
    let mut a = app(Lang::En, 80, 24);
    key(&mut a, KeyCode::Char('7'));
    update(
        &mut a,
        Msg::Patterns(Err(shaozi_tui::refusal::Refusal::plain(
            503,
            "the search index is still being built",
        ))),
    );
    let screen = render(&a);
    assert!(screen.contains("could not be loaded"), "{screen}");
}

#[test]
fn trends_80x24_and_120x40_in_both_languages() {
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}\n{}",
        render(&trends(Lang::Zh, 80, 24)),
        render(&trends(Lang::Zh, 120, 40)),
        render(&trends(Lang::En, 80, 24)),
        render(&trends(Lang::En, 120, 40))
    ));
}

#[test]
fn the_trends_open_by_command_in_chinese_too() {
    let mut a = app(Lang::Zh, 80, 24);
    key(&mut a, KeyCode::Char(':'));
    typed(&mut a, "趋势");
    let fx = key(&mut a, KeyCode::Enter);
    assert_eq!(
        fx,
        [Effect::FetchPatterns {
            by: "category",
            interval: "week"
        }]
    );
    assert_eq!(a.view, View::Trends);
}
