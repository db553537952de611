//! The interactive loop: input, server messages and timers in; a frame out only when
//! something changed.

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::Utc;
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use crate::app::Msg;
use crate::driver::Driver;
use crate::term::{self, FrameWriter};
use crate::view;

/// Runs the dashboard until the dispatcher quits.
pub async fn run(mut driver: Driver) -> anyhow::Result<()> {
    term::enter()?;
    let result = run_inner(&mut driver).await;
    term::leave();
    result
}

async fn run_inner(driver: &mut Driver) -> anyhow::Result<()> {
    let written = Arc::new(AtomicU64::new(0));
    let backend = CrosstermBackend::new(FrameWriter::new(io::stdout(), written));
    let mut terminal = Terminal::new(backend)?;
    let size = terminal.size()?;
    driver.handle(Msg::Resize(size.width, size.height));
    driver.handle(Msg::Tick(Utc::now()));
    driver.start();
    let mut input = EventStream::new();
    let mut dirty = true;
    let mut bells = 0;
    loop {
        if dirty {
            terminal.draw(|f| view::draw(&driver.app, f))?;
            if driver.bells > bells {
                bells = driver.bells;
                io::Write::write_all(terminal.backend_mut().writer_mut(), b"\x07")?;
            }
            terminal.backend_mut().writer_mut().commit()?;
            dirty = false;
        }
        if driver.app.quit {
            return Ok(());
        }
        let wake = driver.app.next_wake();
        let sleep = (wake - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => { driver.handle(Msg::Key(k)); dirty = true; }
                Some(Ok(TermEvent::Paste(s))) => { driver.handle(Msg::Paste(s)); dirty = true; }
                Some(Ok(TermEvent::Resize(w, h))) => {
                    driver.handle(Msg::Resize(w, h));
                    terminal.autoresize()?;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            m = driver.recv() => {
                let Some(m) = m else { return Ok(()) };
                driver.handle(m);
                // Coalesce a burst into one frame.
                while let Some(m) = driver.try_recv() {
                    driver.handle(m);
                }
                dirty = true;
            }
            _ = tokio::time::sleep(sleep) => {
                driver.handle(Msg::Tick(Utc::now()));
                dirty = true;
            }
        }
    }
}
