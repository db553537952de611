//! Prints the dashboard's costs with a large queue; a measurement, not a test.
//!
//! cargo run --release -p shaozi-tui --example frame_bench -- [whistles]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::Terminal;

use shaozi_shared::api::{Community, Department, Street};
use shaozi_shared::whistle::Filing;
use shaozi_shared::{
    Category, CommunityId, Deadlines, DepartmentId, Event, StreetId, Urgency, Whistle, WhistleId,
};
use shaozi_tui::app::{update, App, Conn, Msg};
use shaozi_tui::i18n::Lang;
use shaozi_tui::keys::Keymap;
use shaozi_tui::model::Directory;
use shaozi_tui::term::FrameWriter;
use shaozi_tui::view::draw;

struct Sink;
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 26, 2, 0, 0)
        .single()
        .unwrap_or_default();
    let rss_before = rss_mib();
    let dir = Directory {
        streets: (1..=8)
            .map(|i| {
                (
                    StreetId(i),
                    Street {
                        id: StreetId(i),
                        name: format!("第{i}街道"),
                        created_at: t0,
                    },
                )
            })
            .collect(),
        communities: (1..=64)
            .map(|i| {
                (
                    CommunityId(i),
                    Community {
                        id: CommunityId(i),
                        name: format!("朝阳路第{i}社区"),
                        street_id: StreetId(i % 8 + 1),
                        created_at: t0,
                    },
                )
            })
            .collect(),
        departments: (1..=93)
            .map(|i| {
                (
                    DepartmentId(i),
                    Department {
                        id: DepartmentId(i),
                        name: format!("市直单位第{i}局"),
                        categories: vec!["roads".into()],
                        created_at: t0,
                    },
                )
            })
            .collect(),
        categories: Category::builtin(),
        templates: Vec::new(),
    };
    let cats = ["sanitation", "roads", "lighting", "drainage", "property"];
    let whistles: Vec<Whistle> = (0..n)
        .map(|i| {
            let mut w = Whistle::file(
                WhistleId(1001 + i),
                Filing {
                    community_id: CommunityId(i % 64 + 1),
                    street_id: StreetId(i % 8 + 1),
                    category: cats[(i % 5) as usize].into(),
                    title: format!("第{i}号：朝阳路三盏路灯连续一周不亮，居民夜间出行不便"),
                    description: "居民反映强烈".into(),
                    urgency: if i % 4 == 0 {
                        Urgency::Urgent
                    } else {
                        Urgency::Normal
                    },
                    address: Some("朝阳路12号".into()),
                    lat: None,
                    long: None,
                    media_url: None,
                    reporter: None,
                    attributes: Default::default(),
                },
                "社区",
                // Younger than a day, so every visible age ticks each minute (the worst case).
                t0 - Duration::minutes((i % 1200) as i64),
                &Deadlines::DEFAULT,
                &shaozi_shared::calendar::Calendar::default(),
            );
            w.overdue = i % 50 == 0;
            if i % 3 == 0 {
                w.department_id = Some(DepartmentId(i % 93 + 1));
                w.status = shaozi_shared::WhistleStatus::Dispatched;
            }
            w
        })
        .collect();
    let mut app = App::new(Lang::Zh, Keymap::default(), t0);
    let load = Instant::now();
    update(&mut app, Msg::Resize(120, 40));
    update(&mut app, Msg::Directory(Box::new(dir)));
    update(&mut app, Msg::Queue(whistles));
    update(&mut app, Msg::Conn(Conn::Live));
    let load_t = load.elapsed();
    println!(
        "shaozi dashboard bench: {n} queued whistles, 120x40, release: {}",
        !cfg!(debug_assertions)
    );
    println!(
        "load into the app (sort into queue order)      {:>10.1} ms",
        load_t.as_secs_f64() * 1e3
    );
    println!(
        "RSS holding them                               {:>10.1} MiB (process total {:.1} MiB)",
        rss_mib() - rss_before,
        rss_mib()
    );

    // Frame time: draw after moving the selection, so every frame differs.
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
    let down = Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    let mut times = Vec::new();
    for _ in 0..500 {
        update(&mut app, down.clone());
        let t = Instant::now();
        term.draw(|f| draw(&app, f))
            .unwrap_or_else(|e| panic!("{e}"));
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "draw one frame (build + render + diff), 500x   p50 {:>7.3} ms   p99 {:>7.3} ms",
        pct(0.5),
        pct(0.99)
    );

    // A live event at this size: parse, insert in order, keep the selection.
    let mut ev_times = Vec::new();
    for k in 0..200u64 {
        let mut w = app
            .model
            .queue
            .get(WhistleId(1001 + k * 7))
            .cloned()
            .unwrap_or_else(|| panic!("row"));
        w.version += 1;
        w.overdue = true;
        let e = Event {
            seq: 1 + k,
            kind: shaozi_shared::EventKind::WhistleOverdue,
            at: t0,
            actor: shaozi_shared::Actor::system(),
            subject: w.id.to_string(),
            note: None,
            record: serde_json::to_value(&w).unwrap_or_default(),
            scope: Default::default(),
        };
        let t = Instant::now();
        update(&mut app, Msg::Event(Box::new(e)));
        ev_times.push(t.elapsed());
    }
    ev_times.sort();
    println!(
        "apply one live event (no filter), 200x          p50 {:>7.3} ms   p99 {:>7.3} ms",
        ev_times[100].as_secs_f64() * 1e3,
        ev_times[197].as_secs_f64() * 1e3
    );

    // Bytes to the terminal in 60 s with no new data: the real backend and frame writer,
    // woken only when the app asks (the next visible minute).
    let written = Arc::new(AtomicU64::new(0));
    let mut real = Terminal::new(CrosstermBackend::new(FrameWriter::new(
        Sink,
        written.clone(),
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    let frame = |real: &mut Terminal<CrosstermBackend<FrameWriter<Sink>>>, app: &App| {
        real.draw(|f| draw(app, f))
            .unwrap_or_else(|e| panic!("{e}"));
        real.backend_mut()
            .writer_mut()
            .commit()
            .unwrap_or_else(|e| panic!("{e}"));
    };
    frame(&mut real, &app);
    let first = written.load(Ordering::Relaxed);
    let mut now = app.now;
    let end = now + Duration::seconds(60);
    let mut wakes = 0;
    loop {
        let wake = app.next_wake();
        if wake > end {
            break;
        }
        now = wake;
        wakes += 1;
        update(&mut app, Msg::Tick(now));
        frame(&mut real, &app);
    }
    let idle = written.load(Ordering::Relaxed) - first;
    println!(
        "first full frame                               {:>10} bytes",
        first
    );
    println!("60 s with no new data: {wakes} wake(s), each a minute tick {:>7} bytes (ages of the visible rows)", idle);
    // A redraw at the same minute: what an extra wake would cost when nothing changed.
    let frozen = app.clone();
    let before = written.load(Ordering::Relaxed);
    frame(&mut real, &frozen);
    println!(
        "a redraw when nothing visible changed          {:>10} bytes",
        written.load(Ordering::Relaxed) - before
    );
}
