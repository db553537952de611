//! A form of several fields, as data: filing a whistle, posting a wish, subscribing a receiver.
//! Each field is typed text, a choice typed into (a community, a category: the same matching
//! as the department picker), or a choice cycled with ← → (urgency, source, format). What it
//! is for, and what its values become, belong to whoever opened it (`crate::filing`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::editor::{Edit, LineEditor};
use crate::text::match_rank;

/// What a form files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// A whistle (社区吹哨, or filed for a resident).
    Whistle,
    /// A micro-wish.
    Wish,
    /// A webhook subscription.
    Webhook,
    /// A case's category, urgency and address corrected (改类): a step, not a new record.
    Reclassify(shaozi_shared::WhistleId),
    /// A note on a case, internal or public: a step too.
    Note(shaozi_shared::WhistleId),
}

/// One option of a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What goes on the wire (an id, a code).
    pub value: String,
    /// What people read.
    pub label: String,
}

/// How a field takes its value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// Typed text.
    Text {
        /// Whether it must be filled.
        required: bool,
    },
    /// One of `options`, narrowed by what is typed; ← → go through the matches.
    Pick {
        /// The options.
        options: Vec<Choice>,
        /// Which of the matches is chosen.
        sel: usize,
    },
    /// One of a few `options`, gone through with ← → (or Space).
    Cycle {
        /// The options.
        options: Vec<Choice>,
        /// Which is chosen.
        sel: usize,
    },
    /// Shown, not changed (a community token files for its own community).
    Fixed(Choice),
}

/// A field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name in the request (`title`, `community_id`…).
    pub name: &'static str,
    /// What it is called on screen.
    pub label: String,
    /// What was typed (the text, or the choice's filter).
    pub editor: LineEditor,
    /// How it takes its value.
    pub kind: FieldKind,
}

impl Field {
    /// A text field.
    pub fn text(name: &'static str, label: String, required: bool) -> Field {
        Field {
            name,
            label,
            editor: LineEditor::default(),
            kind: FieldKind::Text { required },
        }
    }

    /// A text field with something already in it.
    pub fn prefilled(name: &'static str, label: String, text: &str) -> Field {
        Field {
            editor: LineEditor::with(text),
            ..Field::text(name, label, false)
        }
    }

    /// A choice typed into.
    pub fn pick(name: &'static str, label: String, options: Vec<Choice>) -> Field {
        Field {
            name,
            label,
            editor: LineEditor::default(),
            kind: FieldKind::Pick { options, sel: 0 },
        }
    }

    /// A choice gone through with ← →.
    pub fn cycle(name: &'static str, label: String, options: Vec<Choice>) -> Field {
        Field {
            name,
            label,
            editor: LineEditor::default(),
            kind: FieldKind::Cycle { options, sel: 0 },
        }
    }

    /// A value shown and not changed.
    pub fn fixed(name: &'static str, label: String, choice: Choice) -> Field {
        Field {
            name,
            label,
            editor: LineEditor::default(),
            kind: FieldKind::Fixed(choice),
        }
    }

    /// The options of a choice that match what was typed, best first.
    pub fn matches(&self) -> Vec<&Choice> {
        let FieldKind::Pick { options, .. } = &self.kind else {
            return Vec::new();
        };
        let typed = self.editor.text();
        let mut hits: Vec<(u8, &Choice)> = options
            .iter()
            .filter_map(|o| {
                let t = typed.trim().to_lowercase();
                if o.value.to_lowercase() == t {
                    return Some((0, o));
                }
                // A name, or a word of it, that starts with what was typed comes first
                // (路 → 路灯照明 before 道路设施; l → Lights before Civility).
                let label = o.label.to_lowercase();
                if !t.is_empty()
                    && (label.starts_with(&t)
                        || label.split_whitespace().any(|w| w.starts_with(&t)))
                {
                    return Some((1, o));
                }
                match_rank(&o.label, &typed).map(|r| (r + 2, o))
            })
            .collect();
        hits.sort_by_key(|(r, _)| *r);
        hits.into_iter().map(|(_, o)| o).collect()
    }

    /// The choice made, for a choice; `None` for text or when nothing matches.
    pub fn chosen(&self) -> Option<&Choice> {
        match &self.kind {
            FieldKind::Pick { sel, .. } => self.matches().get(*sel).copied(),
            FieldKind::Cycle { options, sel } => options.get(*sel),
            FieldKind::Fixed(c) => Some(c),
            FieldKind::Text { .. } => None,
        }
    }

    /// The text typed, trimmed.
    pub fn typed(&self) -> String {
        self.editor.text().trim().to_string()
    }

    fn takes_focus(&self) -> bool {
        !matches!(self.kind, FieldKind::Fixed(_))
    }
}

/// An open form.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// What it files.
    pub kind: FormKind,
    /// Its fields, in order.
    pub fields: Vec<Field>,
    /// The field being typed into.
    pub focus: usize,
    /// What is wrong, said under the fields (after a refusal or a check).
    pub error: Option<String>,
    /// Sent as `Idempotency-Key`: the same form sent twice (an answer lost on a weak link) files
    /// one record.
    pub key: String,
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    /// Stay open.
    Stay,
    /// Send it (Enter on the last field).
    Submit,
}

impl Form {
    /// A form of `fields`, the focus on the first that takes it.
    pub fn new(kind: FormKind, fields: Vec<Field>, key: String) -> Form {
        let focus = fields.iter().position(Field::takes_focus).unwrap_or(0);
        Form {
            kind,
            fields,
            focus,
            error: None,
            key,
        }
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Puts the focus on the field named `name` (a refusal's field), when there is one.
    pub fn focus_on(&mut self, name: &str) {
        if let Some(i) = self
            .fields
            .iter()
            .position(|f| f.name == name && f.takes_focus())
        {
            self.focus = i;
        }
    }

    fn step_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        let mut i = self.focus;
        for _ in 0..n {
            i = if forward {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            if self.fields[i].takes_focus() {
                self.focus = i;
                return;
            }
        }
    }

    fn is_last(&self) -> bool {
        !self.fields[self.focus + 1..].iter().any(Field::takes_focus)
    }

    /// Pasted text goes into the focused field (a choice's filter included).
    pub fn paste(&mut self, s: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.editor.insert_str(s);
            if let FieldKind::Pick { sel, .. } = &mut f.kind {
                *sel = 0;
            }
        }
    }

    /// A key: Tab / ↓ and Shift-Tab / ↑ move between fields, Enter moves on and sends from the
    /// last field, ← → go through a choice, anything else is typed.
    pub fn key(&mut self, k: KeyEvent) -> FormKey {
        match k.code {
            KeyCode::Tab | KeyCode::Down => {
                self.step_focus(true);
                return FormKey::Stay;
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.step_focus(false);
                return FormKey::Stay;
            }
            KeyCode::Enter if self.is_last() => return FormKey::Submit,
            KeyCode::Enter => {
                self.step_focus(true);
                return FormKey::Stay;
            }
            _ => {}
        }
        let Some(field) = self.fields.get_mut(self.focus) else {
            return FormKey::Stay;
        };
        let matches = field.matches().len();
        match &mut field.kind {
            FieldKind::Cycle { options, sel } => {
                let n = options.len().max(1);
                match k.code {
                    KeyCode::Right | KeyCode::Char(' ') => *sel = (*sel + 1) % n,
                    KeyCode::Left => *sel = (*sel + n - 1) % n,
                    _ => {}
                }
            }
            FieldKind::Pick { sel, .. }
                if matches!(k.code, KeyCode::Left | KeyCode::Right)
                    && !k.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                let n = matches.max(1);
                *sel = if k.code == KeyCode::Right {
                    (*sel + 1) % n
                } else {
                    (*sel + n - 1) % n
                };
            }
            FieldKind::Pick { sel, .. } => {
                if field.editor.key(k) == Edit::Changed {
                    *sel = 0;
                }
            }
            FieldKind::Text { .. } => {
                field.editor.key(k);
            }
            FieldKind::Fixed(_) => {}
        }
        FormKey::Stay
    }

    /// Whether anything was typed or chosen (worth keeping when the form is put away).
    pub fn touched(&self) -> bool {
        self.fields.iter().any(|f| match &f.kind {
            FieldKind::Cycle { sel, .. } => *sel != 0,
            _ => !f.editor.is_empty(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(f: &mut Form, code: KeyCode) -> FormKey {
        f.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(f: &mut Form, s: &str) {
        for c in s.chars() {
            press(f, KeyCode::Char(c));
        }
    }

    fn choices(labels: &[(&str, &str)]) -> Vec<Choice> {
        labels
            .iter()
            .map(|(v, l)| Choice {
                value: v.to_string(),
                label: l.to_string(),
            })
            .collect()
    }

    fn form() -> Form {
        Form::new(
            FormKind::Whistle,
            vec![
                Field::fixed(
                    "community_id",
                    "社区".into(),
                    choices(&[("C1", "朝阳路社区")])[0].clone(),
                ),
                Field::pick(
                    "category",
                    "类别".into(),
                    choices(&[
                        ("lighting", "路灯照明"),
                        ("roads", "道路破损"),
                        ("water", "供水"),
                    ]),
                ),
                Field::text("title", "标题".into(), true),
                Field::cycle(
                    "urgency",
                    "紧急程度".into(),
                    choices(&[("normal", "一般"), ("urgent", "紧急")]),
                ),
            ],
            "k".into(),
        )
    }

    #[test]
    fn focus_skips_fixed_fields_and_enter_sends_from_the_last() {
        let mut f = form();
        assert_eq!(f.focus, 1, "the fixed community takes no focus");
        assert_eq!(press(&mut f, KeyCode::Enter), FormKey::Stay);
        assert_eq!(f.focus, 2);
        press(&mut f, KeyCode::Tab);
        assert_eq!(f.focus, 3);
        assert_eq!(press(&mut f, KeyCode::Enter), FormKey::Submit);
        press(&mut f, KeyCode::Down);
        assert_eq!(f.focus, 1, "round, past the fixed field");
        press(&mut f, KeyCode::Up);
        assert_eq!(f.focus, 3);
    }

    #[test]
    fn a_choice_is_typed_into_and_gone_through() {
        let mut f = form();
        typed(&mut f, "路");
        assert_eq!(f.fields[1].matches().len(), 2, "路灯照明 and 道路破损");
        assert_eq!(
            f.fields[1].chosen().map(|c| c.value.as_str()),
            Some("lighting")
        );
        press(&mut f, KeyCode::Right);
        assert_eq!(
            f.fields[1].chosen().map(|c| c.value.as_str()),
            Some("roads")
        );
        press(&mut f, KeyCode::Right);
        assert_eq!(
            f.fields[1].chosen().map(|c| c.value.as_str()),
            Some("lighting")
        );
        typed(&mut f, "x");
        assert_eq!(f.fields[1].chosen(), None, "nothing matches 路x");
        press(&mut f, KeyCode::Backspace);
        typed(&mut f, "water");
        assert_eq!(f.fields[1].chosen(), None);
        for _ in 0..6 {
            press(&mut f, KeyCode::Backspace);
        }
        typed(&mut f, "water");
        assert_eq!(
            f.fields[1].chosen().map(|c| c.value.as_str()),
            Some("water"),
            "its code works too"
        );
    }

    #[test]
    fn a_cycle_goes_round_and_marks_the_form_touched() {
        let mut f = form();
        assert!(!f.touched());
        f.focus = 3;
        press(&mut f, KeyCode::Right);
        assert_eq!(
            f.fields[3].chosen().map(|c| c.value.as_str()),
            Some("urgent")
        );
        assert!(f.touched());
        press(&mut f, KeyCode::Left);
        press(&mut f, KeyCode::Left);
        assert_eq!(
            f.fields[3].chosen().map(|c| c.value.as_str()),
            Some("urgent")
        );
    }
}
