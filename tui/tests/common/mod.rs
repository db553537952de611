//! A small city at a fixed moment, for update and rendering tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use shaozi_shared::api::{
    Community, CommunityWishes, Department, DepartmentLoad, QueueStats, Stats, Street, WishStats,
    WishTotals,
};
use shaozi_shared::whistle::Filing;
use shaozi_shared::{
    Category, CommunityId, Deadlines, DepartmentId, StreetId, Urgency, Whistle, WhistleId,
    WhistleStatus,
};
use shaozi_tui::app::{update, App, Effect, Msg};
use shaozi_tui::i18n::Lang;
use shaozi_tui::keys::Keymap;
use shaozi_tui::model::Directory;

/// 10:00 in Yiyang (UTC+8) is 02:00 UTC; tests show UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0)
        .single()
        .unwrap()
}

pub fn directory() -> Directory {
    let t = now();
    let streets = [(1, "桃花仑街道"), (2, "赫山街道")];
    let comms = [(1, "朝阳路社区", 1), (2, "梓山社区", 1), (3, "龙洲村", 2)];
    let depts: [(u64, &str, &[&str]); 3] = [
        (1, "市城市管理和综合执法局", &["sanitation", "market"]),
        (2, "市路灯管理处", &["lighting"]),
        (3, "市住房和城乡建设局", &["property", "lighting"]),
    ];
    Directory {
        streets: streets
            .iter()
            .map(|(i, n)| {
                (
                    StreetId(*i),
                    Street {
                        id: StreetId(*i),
                        name: n.to_string(),
                        created_at: t,
                    },
                )
            })
            .collect(),
        communities: comms
            .iter()
            .map(|(i, n, s)| {
                (
                    CommunityId(*i),
                    Community {
                        id: CommunityId(*i),
                        name: n.to_string(),
                        street_id: StreetId(*s),
                        created_at: t,
                    },
                )
            })
            .collect(),
        departments: depts
            .iter()
            .map(|(i, n, c)| {
                (
                    DepartmentId(*i),
                    Department {
                        id: DepartmentId(*i),
                        name: n.to_string(),
                        categories: c.iter().map(|s| s.to_string()).collect(),
                        created_at: t,
                    },
                )
            })
            .collect(),
        categories: Category::builtin(),
        templates: shaozi_shared::templates::builtin(),
    }
}

/// A whistle filed `ago` minutes before [`now`].
pub fn whistle(
    id: u64,
    community: u64,
    category: &str,
    urgency: Urgency,
    ago: i64,
    title: &str,
) -> Whistle {
    Whistle::file(
        WhistleId(id),
        Filing {
            community_id: CommunityId(community),
            street_id: StreetId(if community == 3 { 2 } else { 1 }),
            category: category.into(),
            title: title.into(),
            description: format!("{title}，居民反映强烈，请尽快处理。"),
            urgency,
            address: Some(
                ["朝阳路12号", "梓山路3号", "龙洲路88号"][(community as usize - 1) % 3].into(),
            ),
            lat: None,
            long: None,
            media_url: None,
            reporter: None,
            attributes: Default::default(),
        },
        "朝阳路社区",
        now() - Duration::minutes(ago),
        &Deadlines::DEFAULT,
        &shaozi_shared::calendar::Calendar::default(),
    )
}

pub fn dispatched(mut w: Whistle, dept: u64) -> Whistle {
    w.status = WhistleStatus::Dispatched;
    w.department_id = Some(DepartmentId(dept));
    w.dispatched_at = Some(w.created_at + Duration::minutes(3));
    w.version += 1;
    w
}

pub fn overdue(mut w: Whistle) -> Whistle {
    w.overdue = true;
    w.respond_late = true;
    w.escalation_level = 1;
    w.version += 1;
    w
}

pub fn queue() -> Vec<Whistle> {
    vec![
        overdue(dispatched(
            whistle(
                1001,
                1,
                "sanitation",
                Urgency::Urgent,
                75,
                "垃圾山需要清运，约三十车次",
            ),
            1,
        )),
        whistle(
            1002,
            2,
            "drainage",
            Urgency::Urgent,
            10,
            "下水道堵塞，污水漫到楼道口",
        ),
        whistle(
            1003,
            1,
            "lighting",
            Urgency::Normal,
            300,
            "朝阳路三盏路灯连续一周不亮，居民夜间出行不便",
        ),
        dispatched(
            whistle(
                1004,
                3,
                "property",
                Urgency::Normal,
                200,
                "老旧小区无物业管理",
            ),
            3,
        ),
        whistle(1005, 3, "noise", Urgency::Normal, 5, "夜间施工噪声扰民"),
    ]
}

pub fn stats() -> Stats {
    let load = |id: &str, name: &str, d, a, o| DepartmentLoad {
        id: id.into(),
        name: name.into(),
        dispatched: d,
        acknowledged: a,
        open: d + a,
        overdue: o,
    };
    let totals = |t, c, d, v, vd| WishTotals {
        total: t,
        claimed: c,
        completed: d,
        value_total_fen: v,
        value_completed_fen: vd,
    };
    Stats {
        sources: Vec::new(),
        queue: QueueStats {
            unanswered: 5,
            overdue: 1,
            urgent: 2,
        },
        departments: vec![
            load("D1", "市城市管理和综合执法局", 1, 4, 1),
            load("D3", "市住房和城乡建设局", 1, 2, 0),
            load("D2", "市路灯管理处", 0, 0, 0),
        ],
        wishes: WishStats {
            totals: totals(12, 9, 6, 480_000, 210_000),
            by_community: vec![
                CommunityWishes {
                    community_id: "C1".into(),
                    name: "朝阳路社区".into(),
                    totals: totals(6, 5, 4, 300_000, 150_000),
                },
                CommunityWishes {
                    community_id: "C3".into(),
                    name: "龙洲村".into(),
                    totals: totals(4, 3, 2, 120_000, 60_000),
                },
                CommunityWishes {
                    community_id: "C2".into(),
                    name: "梓山社区".into(),
                    totals: totals(2, 1, 0, 60_000, 0),
                },
            ],
        },
        last_seq: 42,
    }
}

/// A loaded, live app at [`now`], `w`×`h`.
pub fn app(lang: Lang, w: u16, h: u16) -> App {
    let mut app = App::new(lang, Keymap::default(), now());
    app.color = false;
    update(&mut app, Msg::Resize(w, h));
    update(&mut app, Msg::Directory(Box::new(directory())));
    update(&mut app, Msg::Stats(Box::new(stats())));
    update(&mut app, Msg::Queue(queue()));
    update(&mut app, Msg::Conn(shaozi_tui::app::Conn::Live));
    app
}

pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn typed(app: &mut App, s: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in s.chars() {
        fx.extend(key(app, KeyCode::Char(c)));
    }
    fx
}

pub fn event(kind: &str, w: &Whistle, seq: u64) -> Msg {
    let e = shaozi_shared::Event {
        seq,
        kind: serde_json::from_value(serde_json::json!(kind)).unwrap(),
        at: now(),
        actor: shaozi_shared::Actor {
            name: "admin".into(),
            role: "admin".into(),
        },
        subject: w.id.to_string(),
        note: None,
        record: serde_json::to_value(w).unwrap(),
        scope: Default::default(),
    };
    Msg::Event(Box::new(e))
}

/// A live event about `w` carrying what the actor wrote.
pub fn event_with_note(kind: &str, w: &Whistle, seq: u64, note: &str) -> Msg {
    let Msg::Event(mut e) = event(kind, w, seq) else {
        unreachable!()
    };
    e.note = Some(note.into());
    Msg::Event(e)
}

pub fn ids(app: &App) -> Vec<u64> {
    app.rows().iter().map(|k| k.id).collect()
}

pub fn assessment() -> shaozi_shared::api::Assessment {
    use shaozi_shared::assessment::{measure, rank, CaseMeasures, UnitKind, Weights};
    let c = |on_time, resolved, rating, r, s| CaseMeasures {
        responded: true,
        on_time,
        resolved,
        rating,
        respond_minutes: Some(r),
        resolve_minutes: s,
        // Resolved within an hour and a half: in time.
        resolved_on_time: resolved && s.is_some_and(|m| m <= 100),
        ..Default::default()
    };
    // An assisting call (joint 报到): reported, on time or not, after so many minutes.
    let assist = |on_time, r| CaseMeasures {
        lead: false,
        assisting: true,
        responded: true,
        on_time,
        respond_minutes: Some(r),
        ..Default::default()
    };
    let mut units = vec![
        measure(
            UnitKind::Department,
            "D1",
            "市城市管理和综合执法局",
            &[
                c(true, true, Some(5), 10, Some(70)),
                c(false, true, Some(3), 40, Some(130)),
                c(false, false, None, 200, None),
                assist(true, 15),
                assist(false, 90),
            ],
        ),
        measure(
            UnitKind::Department,
            "D2",
            "市路灯管理处",
            &[
                c(true, true, Some(4), 5, Some(100)),
                c(true, false, None, 20, None),
            ],
        ),
        measure(
            UnitKind::Department,
            "D3",
            "市住房和城乡建设局",
            &[c(true, true, Some(2), 25, Some(45)), assist(true, 20)],
        ),
        measure(UnitKind::Department, "D4", "益阳日报社", &[]),
    ];
    units[0].overdue_now = 1;
    units[0].urges = 2;
    units[0].returns_upheld = 1;
    units[1].returns_overruled = 1;
    units[1].extensions_granted = 1;
    units[0].wishes_completed = 1;
    units[2].activities = 1;
    rank(&mut units, &Weights::default());
    let day = |d: u32, filed, closed| shaozi_shared::api::Day {
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
        filed,
        closed,
    };
    let at = |d| {
        chrono::NaiveDate::from_ymd_opt(2026, 11, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    shaozi_shared::api::Assessment {
        from: at(1),
        to: at(27),
        group: "department".into(),
        weights: Weights::default(),
        units,
        daily: (1..=26)
            .map(|d| day(d, i64::from(d % 7 + 2), i64::from(d % 5)))
            .collect(),
    }
}

pub fn acknowledged(mut w: Whistle) -> Whistle {
    w.status = WhistleStatus::Acknowledged;
    w.staff = vec!["张伟".into(), "李娜".into()];
    w.acknowledged_at = Some(w.created_at + Duration::minutes(20));
    w.version += 1;
    w
}

pub fn resolved(mut w: Whistle) -> Whistle {
    w = acknowledged(w);
    w.status = WhistleStatus::Resolved;
    w.reply = Some("已处理完毕".into());
    w.resolved_at = Some(now() - Duration::minutes(30));
    w.version += 1;
    w
}

pub fn reopened(mut w: Whistle) -> Whistle {
    w = acknowledged(w);
    w.reopened = 1;
    w.resolve_by = now() + Duration::hours(20);
    w.version += 2;
    w
}

/// Who the token is.
pub fn me(role: shaozi_shared::Role, scope: shaozi_shared::Scope) -> Msg {
    use shaozi_shared::Op;
    let may = Op::ALL
        .into_iter()
        .filter(|op| shaozi_shared::access::role_may(role, *op))
        .collect();
    Msg::Me(Box::new(shaozi_tui::app::Me {
        name: match role {
            shaozi_shared::Role::Department => "住建局专干".into(),
            shaozi_shared::Role::Community => "朝阳路社区书记".into(),
            _ => "调度员".into(),
        },
        role,
        scope,
        may,
        // Tests show UTC, so their screens do not depend on the machine's zone.
        utc_offset_minutes: None,
    }))
}

/// Cases across the city in every open status: 住建局 (D3) leads W1004 (waiting), W1011 (in
/// progress), W1012 (reopened) and W1013 (resolved); 朝阳路社区 (C1) filed W1001, W1003,
/// W1013 and W1014.
pub fn open_cases() -> Vec<Whistle> {
    let mut all = queue();
    all.push(acknowledged(dispatched(
        whistle(
            1011,
            2,
            "property",
            Urgency::Normal,
            600,
            "楼顶漏水，三楼住户受影响",
        ),
        3,
    )));
    all.push(reopened(dispatched(
        whistle(
            1012,
            3,
            "lighting",
            Urgency::Urgent,
            900,
            "小区路灯修后又坏",
        ),
        3,
    )));
    all.push(resolved(dispatched(
        whistle(1013, 1, "property", Urgency::Normal, 1500, "单元门禁损坏"),
        3,
    )));
    all.push(acknowledged(dispatched(
        whistle(
            1014,
            1,
            "sanitation",
            Urgency::Normal,
            400,
            "菜市场门口垃圾堆积",
        ),
        1,
    )));
    all
}

pub fn wish(
    id: u64,
    community: u64,
    status: shaozi_shared::WishStatus,
    title: &str,
    fen: i64,
) -> shaozi_shared::Wish {
    use shaozi_shared::{Wish, WishId, WishStatus};
    let claimed = status != WishStatus::Open;
    Wish {
        id: WishId(id),
        status,
        community_id: CommunityId(community),
        street_id: StreetId(if community == 3 { 2 } else { 1 }),
        title: title.into(),
        description: None,
        value_fen: fen,
        filed_by: "社区".into(),
        department_id: claimed.then_some(DepartmentId(1)),
        claimer: None,
        created_at: now() - Duration::hours(id as i64),
        updated_at: now(),
        claimed_at: claimed.then(now),
        completed_at: None,
        note: None,
        version: 1 + u64::from(claimed),
    }
}

pub fn wishes() -> Vec<shaozi_shared::Wish> {
    use shaozi_shared::WishStatus::*;
    vec![
        wish(1, 1, Open, "给留守儿童买一个书包", 12_000),
        wish(2, 2, Open, "独居老人家里换一个灯泡", 3_550),
        wish(3, 3, Claimed, "村里小广场添两张长椅", 160_000),
        wish(4, 1, Open, "帮腿脚不便的老人买菜", 0),
    ]
}

/// A department token's dashboard (住建局, D3) with its work and the wishes loaded.
pub fn department_app(lang: Lang, w: u16, h: u16) -> App {
    let mut a = app(lang, w, h);
    let fx = update(
        &mut a,
        me(
            shaozi_shared::Role::Department,
            shaozi_shared::Scope::Department(DepartmentId(3)),
        ),
    );
    assert!(fx.contains(&Effect::FetchWork), "{fx:?}");
    update(&mut a, Msg::Work(open_cases()));
    update(&mut a, Msg::Wishes(wishes()));
    a
}

/// A community token's dashboard (朝阳路社区, C1) with its work and the wishes loaded.
pub fn community_app(lang: Lang, w: u16, h: u16) -> App {
    let mut a = app(lang, w, h);
    update(
        &mut a,
        me(
            shaozi_shared::Role::Community,
            shaozi_shared::Scope::Community(CommunityId(1)),
        ),
    );
    update(&mut a, Msg::Work(open_cases()));
    update(
        &mut a,
        Msg::Wishes(
            wishes()
                .into_iter()
                .filter(|w| w.community_id == CommunityId(1))
                .collect(),
        ),
    );
    a
}

/// The screen as text, one line per row, trailing blanks trimmed.
pub fn render(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| shaozi_tui::view::draw(app, f)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        let mut x = 0;
        while x < w {
            let sym = buf[(x, y)].symbol();
            line.push_str(sym);
            x += unicode_width::UnicodeWidthStr::width(sym).max(1) as u16;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
