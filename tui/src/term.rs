//! The terminal: one buffered write per frame inside synchronized-update brackets, and a
//! terminal that is always restored, on panic too.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};

/// Begin synchronized update (the terminal shows the frame whole, not half-drawn).
const BSU: &[u8] = b"\x1b[?2026h";
/// End synchronized update.
const ESU: &[u8] = b"\x1b[?2026l";

/// Collects a frame's output; [`FrameWriter::commit`] sends it in one write.
pub struct FrameWriter<W: Write> {
    buf: Vec<u8>,
    out: W,
    written: Arc<AtomicU64>,
}

impl<W: Write> FrameWriter<W> {
    /// Wraps `out`; `written` counts every byte sent.
    pub fn new(out: W, written: Arc<AtomicU64>) -> Self {
        FrameWriter {
            buf: Vec::with_capacity(64 * 1024),
            out,
            written,
        }
    }

    /// Sends the frame, if it has anything in it.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut frame = Vec::with_capacity(self.buf.len() + BSU.len() + ESU.len());
        frame.extend_from_slice(BSU);
        frame.append(&mut self.buf);
        frame.extend_from_slice(ESU);
        self.out.write_all(&frame)?;
        self.out.flush()?;
        self.written
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    /// Deferred to [`FrameWriter::commit`], so ratatui's flush does not split the frame.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Raw mode, alternate screen, bracketed paste; and a panic hook that undoes them first.
pub fn enter() -> io::Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        hook(info);
    }));
    enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )
}

/// Restores the terminal; safe to call more than once.
pub fn leave() {
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_one_write_inside_sync_brackets() {
        struct Counting(Vec<Vec<u8>>);
        impl Write for Counting {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.push(b.to_vec());
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let n = Arc::new(AtomicU64::new(0));
        let mut w = FrameWriter::new(Counting(Vec::new()), n.clone());
        w.write_all(b"abc").unwrap();
        w.flush().unwrap();
        w.write_all(b"def").unwrap();
        w.commit().unwrap();
        w.commit().unwrap();
        assert_eq!(
            w.out.0.len(),
            1,
            "one write per frame, none for an empty one"
        );
        assert_eq!(w.out.0[0], b"\x1b[?2026habcdef\x1b[?2026l");
        assert_eq!(n.load(Ordering::Relaxed), 6 + 16);
    }
}
