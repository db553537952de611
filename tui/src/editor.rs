//! A one-line text editor: cursor, insert anywhere, delete either way, words, home/end.
//! Works on chars, displays by columns, so CJK input behaves.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::text::width;

/// The text being typed and where the cursor is (in chars).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    chars: Vec<char>,
    cursor: usize,
}

/// What a key did to the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text or cursor changed.
    Changed,
    /// The key is not an editing key.
    Ignored,
}

impl LineEditor {
    /// An editor holding `s`, cursor at the end.
    pub fn with(s: &str) -> Self {
        let chars: Vec<char> = s.chars().collect();
        LineEditor {
            cursor: chars.len(),
            chars,
        }
    }

    /// The text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Columns before the cursor, for placing the terminal cursor.
    pub fn cursor_col(&self) -> usize {
        width(&self.chars[..self.cursor].iter().collect::<String>())
    }

    /// What to show in `cols` columns: the text if it fits, else the part around the cursor
    /// (with `…` where the start is cut off), and the cursor's column in it. A long reply
    /// scrolls as it is typed instead of running under the border.
    pub fn window(&self, cols: usize) -> (String, usize) {
        use unicode_width::UnicodeWidthChar;
        let cols = cols.max(3);
        let w = |cs: &[char]| cs.iter().map(|c| c.width().unwrap_or(0)).sum::<usize>();
        if w(&self.chars) < cols {
            return (self.text(), self.cursor_col());
        }
        // Start as far left as keeps "…", the text up to the cursor and the cursor in view.
        let mut start = 0;
        while start < self.cursor && 1 + w(&self.chars[start..self.cursor]) + 1 > cols {
            start += 1;
        }
        let mut out = String::new();
        let mut used = 0;
        if start > 0 {
            out.push('…');
            used = 1;
        }
        let cursor = used + w(&self.chars[start..self.cursor]);
        for c in &self.chars[start..] {
            let cw = c.width().unwrap_or(0);
            if used + cw > cols {
                break;
            }
            out.push(*c);
            used += cw;
        }
        (out, cursor)
    }

    /// Inserts text at the cursor (pasted or composed input).
    pub fn insert_str(&mut self, s: &str) {
        // A line break in pasted text becomes one space: the line is one line, and the words on
        // either side of the break stay apart.
        let mut last_space = self.cursor > 0 && self.chars[self.cursor - 1] == ' ';
        for c in s.trim_end_matches(['\r', '\n']).chars() {
            let c = match c {
                '\r' | '\n' if last_space => continue,
                '\r' | '\n' => ' ',
                c if c.is_control() => continue,
                c => c,
            };
            last_space = c == ' ';
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Applies an editing key.
    pub fn key(&mut self, k: KeyEvent) -> Edit {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        match k.code {
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.chars.len(),
            KeyCode::Char('u') if ctrl => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.chars.truncate(self.cursor),
            KeyCode::Char('w') if ctrl => {
                let start = self.word_start();
                self.chars.drain(start..self.cursor);
                self.cursor = start;
            }
            KeyCode::Char('b') if alt => self.cursor = self.word_start(),
            KeyCode::Char('f') if alt => self.cursor = self.word_end(),
            KeyCode::Char(c) if !ctrl && !alt => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            KeyCode::Left if ctrl => self.cursor = self.word_start(),
            KeyCode::Right if ctrl => self.cursor = self.word_end(),
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return Edit::Ignored,
        }
        Edit::Changed
    }

    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    fn word_end(&self) -> usize {
        let mut i = self.cursor;
        let n = self.chars.len();
        while i < n && self.chars[i].is_whitespace() {
            i += 1;
        }
        while i < n && !self.chars[i].is_whitespace() {
            i += 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_shows_the_part_around_the_cursor() {
        let e = LineEditor::with("短");
        assert_eq!(e.window(10), ("短".to_string(), 2));
        let long = "井盖".repeat(20);
        let mut e = LineEditor::with(&long);
        let (shown, col) = e.window(20);
        assert!(shown.starts_with('…') && shown.ends_with('盖'), "{shown}");
        assert!(
            crate::text::width(&shown) <= 20 && col < 20,
            "{shown} {col}"
        );
        e.key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
        let (shown, col) = e.window(20);
        assert!(shown.starts_with("井盖") && !shown.contains('…'));
        assert_eq!(col, 0);
    }

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_of_cjk_text() {
        let mut e = LineEditor::with("张伟李娜");
        assert_eq!(e.cursor_col(), 8);
        e.key(k(KeyCode::Left));
        e.key(k(KeyCode::Left));
        e.key(k(KeyCode::Char('、')));
        assert_eq!(e.text(), "张伟、李娜");
        assert_eq!(e.cursor_col(), 6);
        e.key(k(KeyCode::Backspace));
        e.key(k(KeyCode::Backspace));
        assert_eq!(e.text(), "张李娜");
        e.key(k(KeyCode::Home));
        e.key(k(KeyCode::Delete));
        assert_eq!(e.text(), "李娜");
        e.key(k(KeyCode::End));
        e.insert_str(" 王芳\n");
        assert_eq!(e.text(), "李娜 王芳");
        // Pasted lines stay words apart (issue 27: they were joined with nothing between).
        let mut p = LineEditor::default();
        p.insert_str("管道老化\r\n需整体更换\n\n材料三天后到\n");
        assert_eq!(p.text(), "管道老化 需整体更换 材料三天后到");
        e.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(e.text(), "李娜 ");
        assert_eq!(e.key(k(KeyCode::Enter)), Edit::Ignored);
    }
}
