//! The dashboard against a real server: keys in, server state out; and a server that goes
//! away and comes back.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use shaozi_tests::{TestServer, TOKEN};
use shaozi_tui::app::{App, Conn, Msg};
use shaozi_tui::driver::Driver;
use shaozi_tui::i18n::Lang;
use shaozi_tui::keys::Keymap;
use shaozi_tui::net::Api;

async fn dashboard(s: &TestServer) -> Driver {
    dashboard_as(s, TOKEN).await
}

async fn dashboard_as(s: &TestServer, token: &str) -> Driver {
    let mut app = App::new(Lang::Zh, Keymap::default(), s.clock.now_utc());
    app.color = false;
    let mut d = Driver::new(app, Api::new(&s.base, token).unwrap());
    d.handle(Msg::Resize(120, 40));
    d.start();
    assert!(
        until(&mut d, |a| a.loaded && a.conn == Conn::Live, 10).await,
        "the dashboard did not come up"
    );
    d
}

/// Handles messages until `cond` holds or `secs` pass.
async fn until(d: &mut Driver, cond: impl Fn(&App) -> bool, secs: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond(&d.app) {
        match tokio::time::timeout_at(deadline, d.recv()).await {
            Ok(Some(m)) => d.handle(m),
            Ok(None) | Err(_) => return cond(&d.app),
        }
    }
    true
}

fn press(d: &mut Driver, code: KeyCode) {
    d.handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_str(d: &mut Driver, s: &str) {
    for c in s.chars() {
        press(d, KeyCode::Char(c));
    }
}

#[tokio::test]
async fn a_dispatcher_assigns_then_closes_from_the_dashboard() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let lamp = s
        .whistle(&city.communities[0], "lighting", "urgent", "朝阳路路灯不亮")
        .await;
    let mut d = dashboard(&s).await;
    assert_eq!(
        d.app.selected().map(|w| w.id.to_string()),
        Some(lamp.clone())
    );

    // a, type an abbreviation of the department, Enter.
    press(&mut d, KeyCode::Char('a'));
    type_str(&mut d, "路灯");
    press(&mut d, KeyCode::Enter);
    d.settle(Duration::from_millis(300)).await;
    let w = s.get(&format!("/api/v1/whistles/{lamp}")).await.body;
    assert_eq!(
        (w["status"].as_str(), w["department_id"].as_str()),
        (Some("dispatched"), Some(city.departments[1].as_str()))
    );
    assert!(
        d.app
            .flash
            .as_ref()
            .is_some_and(|f| !f.error && f.text.contains("市路灯管理处")),
        "{:?}",
        d.app.flash
    );
    assert_eq!(
        d.app
            .model
            .queue
            .get(lamp.parse().unwrap())
            .and_then(|w| w.department_id.map(|d| d.to_string())),
        Some(city.departments[1].clone())
    );

    // The department reports for duty and resolves (through the API, as it would).
    s.ok(
        &format!("/api/v1/whistles/{lamp}/acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{lamp}/resolve"),
        json!({"reply": "已更换灯泡"}),
        200,
    )
    .await;
    assert!(
        until(&mut d, |a| a.model.queue.is_empty(), 5).await,
        "the queue empties live"
    );

    // The dispatcher finds it with :goto and closes it with a rating.
    press(&mut d, KeyCode::Char(':'));
    type_str(&mut d, &format!("goto {lamp}"));
    press(&mut d, KeyCode::Enter);
    assert!(
        until(
            &mut d,
            |a| a.detail.shown.as_ref().is_some_and(|x| x.1.is_some()),
            5
        )
        .await
    );
    press(&mut d, KeyCode::Char('c'));
    press(&mut d, KeyCode::Char('5'));
    type_str(&mut d, "很及时");
    press(&mut d, KeyCode::Enter);
    d.settle(Duration::from_millis(300)).await;
    let w = s.get(&format!("/api/v1/whistles/{lamp}")).await.body;
    assert_eq!(
        (w["status"].as_str(), w["satisfaction"].as_u64()),
        (Some("closed"), Some(5))
    );
    let detail = d
        .app
        .detail
        .shown
        .as_ref()
        .and_then(|x| x.1.as_ref())
        .expect("detail");
    assert_eq!(
        detail.timeline.last().map(|e| e.kind.as_str()),
        Some("whistle.closed"),
        "the open detail refreshed"
    );

    // A step its status does not allow is not sent, and the dashboard says why.
    assert!(d.app.prompt.is_none());
    press(&mut d, KeyCode::Char('r'));
    assert!(
        d.app.prompt.is_none(),
        "no prompt for a step that cannot succeed"
    );
    let flash = d.app.flash.clone().expect("a message");
    assert!(
        flash.error && flash.text.contains("当前为「已关闭」，不能报到"),
        "{}",
        flash.text
    );

    // A refusal only the server can make is worded from its code, in the UI's language.
    let pothole = s
        .whistle(&city.communities[0], "roads", "normal", "路面塌陷")
        .await;
    s.dispatch(&pothole, &city.departments[0]).await;
    let id: shaozi_shared::WhistleId = pothole.parse().unwrap();
    assert!(
        until(
            &mut d,
            |a| a.model.queue.get(id).is_some_and(|w| w.version == 2),
            5
        )
        .await
    );
    press(&mut d, KeyCode::Char(':'));
    type_str(&mut d, &format!("goto {pothole}"));
    press(&mut d, KeyCode::Enter);
    assert_eq!(
        (d.app.view, d.app.queue.sel),
        (shaozi_tui::app::View::Queue, Some(id))
    );
    press(&mut d, KeyCode::Char('r'));
    type_str(&mut d, "张伟 张伟");
    press(&mut d, KeyCode::Enter);
    d.settle(Duration::from_millis(300)).await;
    let flash = d.app.flash.clone().unwrap_or_else(|| {
        panic!(
            "a message: {:?} {:?} {:?}",
            d.app.prompt, d.app.view, d.app.queue.sel
        )
    });
    assert_eq!(
        flash.text,
        format!("{pothole} 未能报到：报到需要两名以上不同的人员")
    );
    assert!(
        matches!(&d.app.prompt, Some(shaozi_tui::prompt::Prompt::Text { editor, .. }) if editor.text() == "张伟 张伟"),
        "what was typed comes back to be fixed"
    );
}

#[tokio::test]
async fn a_server_whose_log_is_behind_the_dashboard_makes_it_reload_not_hang() {
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    for t in ["垃圾堆积", "井盖缺失", "路灯不亮"] {
        s.whistle(&city.communities[0], "sanitation", "normal", t)
            .await;
    }
    let mut d = dashboard(&s).await;
    assert_eq!(d.app.model.queue.len(), 3);

    // The server comes back on a store restored from an older backup: a shorter log.
    s.stop().await;
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let older = tempfile::tempdir().unwrap();
    let restored = TestServer::start_at(&older.path().join("store"), s.clock.clone(), addr).await;
    let city = restored.small_city().await;
    let only = restored
        .whistle(&city.communities[1], "roads", "urgent", "恢复后的问题")
        .await;
    assert!(
        until(
            &mut d,
            |a| a.conn == Conn::Live
                && a.model.queue.len() == 1
                && a.model.queue.get(only.parse().unwrap()).is_some(),
            20
        )
        .await,
        "the dashboard reloaded from the restored server: {:?}",
        d.app.conn
    );
    // And follows it live from its head.
    let next = restored
        .whistle(&city.communities[1], "roads", "normal", "之后的问题")
        .await;
    assert!(
        until(
            &mut d,
            |a| a.model.queue.get(next.parse().unwrap()).is_some(),
            10
        )
        .await
    );
}

#[tokio::test]
async fn the_dashboard_survives_the_server_going_away_and_loses_no_event() {
    let mut s = TestServer::start().await;
    let city = s.small_city().await;
    s.whistle(&city.communities[0], "sanitation", "normal", "垃圾堆积")
        .await;
    let mut d = dashboard(&s).await;
    assert_eq!(d.app.model.queue.len(), 1);

    s.stop().await;
    assert!(
        until(
            &mut d,
            |a| matches!(a.conn, Conn::Reconnecting { .. } | Conn::Offline),
            10
        )
        .await,
        "the dashboard noticed the server left"
    );
    assert_eq!(d.app.model.queue.len(), 1, "the last data is still shown");
    let screen = {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        t.draw(|f| shaozi_tui::view::draw(&d.app, f)).unwrap();
        let buf = t.backend().buffer().clone();
        // Step over the cells that wide characters cover.
        let mut text = String::new();
        for y in 0..40u16 {
            let mut x = 0u16;
            while x < 120 {
                let sym = buf[(x, y)].symbol();
                text.push_str(sym);
                x += sym
                    .chars()
                    .map(|c| if c.is_ascii() { 1 } else { 2 })
                    .sum::<u16>()
                    .max(1);
            }
            text.push('\n');
        }
        (text, buf)
    };
    assert!(
        screen.0.contains("重连中") || screen.0.contains("离线"),
        "the status line says so"
    );
    assert!(
        screen.0.contains("垃圾堆积"),
        "the last data is still on screen"
    );
    let row = (0..120)
        .map(|x| screen.1[(x, 2)].modifier)
        .find(|m| !m.is_empty())
        .unwrap_or_default();
    assert!(
        row.contains(ratatui::style::Modifier::DIM),
        "and dimmed as stale: {row:?}"
    );
    assert!(!d.app.quit);

    // The server comes back; things happen before the dashboard has reconnected.
    s.start_again().await;
    let a = s
        .whistle(&city.communities[1], "roads", "urgent", "井盖缺失")
        .await;
    let b = s
        .whistle(&city.communities[2], "lighting", "normal", "路灯不亮")
        .await;
    s.dispatch(&b, &city.departments[1]).await;
    let b_id: shaozi_shared::WhistleId = b.parse().unwrap();
    let caught_up = |app: &App| {
        app.conn == Conn::Live
            && app.model.queue.len() == 3
            && app
                .model
                .queue
                .get(b_id)
                .is_some_and(|w| w.department_id.is_some())
    };
    assert!(
        until(&mut d, caught_up, 20).await,
        "conn {:?}, queue {}",
        d.app.conn,
        d.app.model.queue.len()
    );
    let dispatched = d.app.model.queue.get(b.parse().unwrap()).expect("b");
    assert_eq!(
        dispatched.department_id.map(|x| x.to_string()),
        Some(city.departments[1].clone()),
        "every event since the gap was replayed"
    );
    assert!(d.app.model.queue.get(a.parse().unwrap()).is_some());
    assert!(
        d.app.queue.new_ids.len() >= 2,
        "arrivals while away are marked new"
    );
}

#[tokio::test]
async fn the_assessment_view_loads_from_the_server_and_exports_csv() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    // A name that a spreadsheet would run as a formula.
    s.ok(
        "/api/v1/departments",
        json!({"name": "=HYPERLINK(\"http://evil.example/\",\"x\")", "categories": ["roads"]}),
        201,
    )
    .await;
    let w = s
        .whistle(&city.communities[0], "lighting", "urgent", "路灯不亮")
        .await;
    s.dispatch(&w, &city.departments[1]).await;
    let mut d = dashboard(&s).await;
    let dir = tempfile::tempdir().unwrap();
    d.export_dir = dir.path().to_path_buf();
    press(&mut d, KeyCode::Char('5'));
    assert!(
        until(&mut d, |a| a.assess.data.is_some(), 5).await,
        "the assessment arrived"
    );
    let top = d
        .app
        .assess
        .sorted()
        .first()
        .map(|u| (u.id.clone(), u.dispatched));
    assert_eq!(
        top,
        Some((city.departments[1].clone(), 1)),
        "the department with a case ranks first"
    );
    press(&mut d, KeyCode::Char('E'));
    assert!(
        until(
            &mut d,
            |a| a.flash.as_ref().is_some_and(|f| f.text.contains(".csv")),
            5
        )
        .await,
        "{:?}",
        d.app.flash
    );
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .expect("a CSV file")
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("\u{feff}名次,单位,得分"), "{text}");
    assert!(text.contains("市路灯管理处"));
    assert!(
        text.contains(",\"'=HYPERLINK(") && !text.contains(",=HYPERLINK("),
        "the file on disk is neutralised too: {text}"
    );
    assert!(
        d.app
            .flash
            .as_ref()
            .unwrap()
            .text
            .contains(&file.display().to_string()),
        "the message says where it went"
    );
    // Issue 27, bug 10: no cell a spreadsheet would read as a date (`2/2` became 2月2日): the
    // returns upheld and overruled are two columns of plain numbers.
    let header = text.lines().next().unwrap();
    assert!(header.contains(",退单核准,退单驳回,"), "{header}");
    for line in text.lines() {
        for cell in line.split(',') {
            let date_like = cell.split('/').count() == 2
                && cell
                    .split('/')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            assert!(!date_like, "{cell:?} in {line}");
        }
    }
    // A second export does not overwrite the first: it gets a name of its own.
    d.app.flash = None;
    press(&mut d, KeyCode::Char('E'));
    assert!(
        until(
            &mut d,
            |a| a.flash.as_ref().is_some_and(|f| f.text.contains(".csv")),
            5
        )
        .await,
        "{:?}",
        d.app.flash
    );
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with("-2.csv"), "{files:?}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "the first is as it was"
    );
}

/// Issue 27, bug 4: a revoked token is said as such, once, and not retried for ever as if the
/// network were down.
#[tokio::test]
async fn a_revoked_token_is_said_and_not_retried_as_an_outage() {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    s.whistle(&city.communities[0], "sanitation", "normal", "垃圾堆积")
        .await;
    let viewer = s.token("viewer", json!({}), "临时查看").await;
    let mut d = dashboard_as(&s, &viewer).await;
    let revoked = s
        .req(reqwest::Method::DELETE, "/api/v1/tokens/临时查看")
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(
        until(&mut d, |a| a.conn == Conn::Refused, 10).await,
        "the dashboard shows {:?}, not that the token was refused",
        d.app.conn
    );
    let said = d.app.flash.clone().map(|f| f.text).unwrap_or_default();
    assert!(said.contains("令牌无效或已被吊销"), "{said}");
    // Nothing more is tried: the state stays, and no reconnection is announced.
    assert!(
        !until(&mut d, |a| a.conn != Conn::Refused, 3).await,
        "it went on to {:?}",
        d.app.conn
    );
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    t.draw(|f| shaozi_tui::view::draw(&d.app, f)).unwrap();
    let screen = format!("{:?}", t.backend().buffer());
    assert!(screen.contains("令牌被拒"), "{screen}");
}
