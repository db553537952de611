//! Named actions and the keys bound to them; the config file may rebind any of them.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use shaozi_shared::api::Step;

/// Something the dispatcher can ask for with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Move up.
    Up,
    /// Move down.
    Down,
    /// Go to the first row.
    Top,
    /// Go to the last row.
    Bottom,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// Next view.
    NextView,
    /// Queue view.
    ViewQueue,
    /// Departments view.
    ViewDepartments,
    /// Wishes view.
    ViewWishes,
    /// Detail view.
    ViewDetail,
    /// Assessment view.
    ViewAssessment,
    /// 趋势: cases per week and the hotspots.
    ViewTrends,
    /// Webhook subscriptions view.
    ViewWebhooks,
    /// What waits for the dispatcher's decision.
    ViewInbox,
    /// What others did about the token's own cases.
    ViewNotices,
    /// File something new where the screen files it (a whistle, a wish, a subscription).
    New,
    /// Delete the selected subscription (on the webhooks screen), after a question.
    Delete,
    /// Resume the selected webhook subscription.
    WebhookResume,
    /// Send the selected webhook subscription a test message.
    WebhookTest,
    /// Next assessment period.
    Period,
    /// The assessment of the next kind of unit (departments, streets, communities).
    Units,
    /// Export what is shown as CSV: a list of cases as the ledger, or the assessment.
    Export,
    /// Sort by the next column.
    SortNext,
    /// Sort by the previous column.
    SortPrev,
    /// Open the selection.
    Open,
    /// Back out.
    Back,
    /// Quit.
    Quit,
    /// A step on the record (see [`STEP_KEYS`]).
    Step(Step),
    /// Mark or unmark the row.
    Mark,
    /// Filter.
    Filter,
    /// Command line.
    Command,
    /// Help.
    Help,
}

impl Action {
    /// What the token must be allowed to do for it (a step's, from the step table).
    pub fn op(self) -> Option<shaozi_shared::Op> {
        match self {
            Action::Step(step) => Some(step.op()),
            _ => None,
        }
    }
}

impl Action {
    /// Every action but the steps, with its config name.
    pub const ALL: &'static [(Action, &'static str)] = &[
        (Action::Up, "up"),
        (Action::Down, "down"),
        (Action::Top, "top"),
        (Action::Bottom, "bottom"),
        (Action::PageUp, "page_up"),
        (Action::PageDown, "page_down"),
        (Action::NextView, "next_view"),
        (Action::ViewQueue, "view_queue"),
        (Action::ViewDepartments, "view_departments"),
        (Action::ViewWishes, "view_wishes"),
        (Action::ViewDetail, "view_detail"),
        (Action::ViewAssessment, "view_assessment"),
        (Action::ViewTrends, "view_trends"),
        (Action::ViewWebhooks, "view_webhooks"),
        (Action::ViewInbox, "view_inbox"),
        (Action::ViewNotices, "view_notices"),
        (Action::New, "new"),
        (Action::Delete, "delete"),
        (Action::WebhookResume, "webhook_resume"),
        (Action::WebhookTest, "webhook_test"),
        (Action::Period, "period"),
        (Action::Units, "units"),
        (Action::Export, "export"),
        (Action::SortNext, "sort_next"),
        (Action::SortPrev, "sort_prev"),
        (Action::Open, "open"),
        (Action::Back, "back"),
        (Action::Quit, "quit"),
        (Action::Mark, "mark"),
        (Action::Filter, "filter"),
        (Action::Command, "command"),
        (Action::Help, "help"),
    ];

    /// The config name.
    pub fn name(self) -> &'static str {
        if let Action::Step(step) = self {
            return STEP_KEYS
                .iter()
                .find(|(s, _, _)| *s == step)
                .map_or(step.name(), |(_, n, _)| n);
        }
        Action::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map_or("?", |(_, n)| n)
    }

    /// The action a config name stands for.
    pub fn named(name: &str) -> Option<Action> {
        let step = STEP_KEYS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(s, _, _)| Action::Step(*s));
        step.or_else(|| {
            Action::ALL
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(a, _)| *a)
        })
    }
}

/// The dashboard's side of each step it offers: the step's name in the config's `[keys]`, and
/// its default key. The rest (what to ask for, who may, the request) comes from the shared
/// step table; the words, from [`crate::i18n::Lang::step`].
pub const STEP_KEYS: &[(Step, &str, &str)] = &[
    (Step::Dispatch, "assign", "a"),
    (Step::Acknowledge, "acknowledge", "r"),
    (Step::PartDone, "part_done", "f"),
    (Step::Reclassify, "reclassify", "K"),
    (Step::Note, "note", "N"),
    (Step::Resolve, "resolve", "s"),
    (Step::Close, "close", "c"),
    (Step::Reopen, "reopen", "o"),
    (Step::Reject, "reject", "x"),
    (Step::Escalate, "escalate", "e"),
    (Step::Claim, "claim", "t"),
    (Step::Complete, "complete", "d"),
    (Step::Cancel, "cancel", "w"),
    (Step::Return, "return", "b"),
    (Step::Overrule, "overrule", "v"),
    (Step::RequestExtension, "request_extension", "l"),
    (Step::ApproveExtension, "approve_extension", "A"),
    (Step::DenyExtension, "deny_extension", "D"),
    (Step::Urge, "urge", "u"),
    (Step::CallBack, "callback", "C"),
    // Rare (most joint calls are made at dispatch): last, so a narrow footer drops it first.
    (Step::Assisting, "assisting", "H"),
];

/// Steps the dashboard does not offer yet, on purpose, and why.
pub const API_ONLY: &[(Step, &str)] = &[];

/// A key as written in the config file: `a`, `ctrl-r`, `enter`, `pgdn`, `f5`, `space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    /// From a key event (shift is part of the char itself).
    pub fn of(e: &KeyEvent) -> Key {
        Key {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parses a key name.
    pub fn parse(s: &str) -> Option<Key> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "del" | "delete" => KeyCode::Delete,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, ctrl })
    }

    /// The key's name, for the help screen.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// Keys to actions.
#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<Key, Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = HashMap::new();
        let mut bind = |k: &str, a: Action| {
            if let Some(key) = Key::parse(k) {
                map.insert(key, a);
            }
        };
        for (k, a) in [
            ("k", Action::Up),
            ("up", Action::Up),
            ("j", Action::Down),
            ("down", Action::Down),
            ("g", Action::Top),
            ("home", Action::Top),
            ("G", Action::Bottom),
            ("end", Action::Bottom),
            ("pgup", Action::PageUp),
            ("ctrl-b", Action::PageUp),
            ("pgdn", Action::PageDown),
            ("ctrl-f", Action::PageDown),
            ("tab", Action::NextView),
            ("1", Action::ViewQueue),
            ("2", Action::ViewDepartments),
            ("3", Action::ViewWishes),
            ("4", Action::ViewDetail),
            ("5", Action::ViewAssessment),
            ("7", Action::ViewTrends),
            ("6", Action::ViewWebhooks),
            ("i", Action::ViewInbox),
            ("m", Action::ViewNotices),
            ("n", Action::New),
            ("X", Action::Delete),
            ("del", Action::Delete),
            ("R", Action::WebhookResume),
            ("T", Action::WebhookTest),
            ("p", Action::Period),
            ("U", Action::Units),
            ("E", Action::Export),
            ("right", Action::SortNext),
            (">", Action::SortNext),
            ("left", Action::SortPrev),
            ("<", Action::SortPrev),
            ("enter", Action::Open),
            ("esc", Action::Back),
            ("q", Action::Quit),
            ("ctrl-c", Action::Quit),
            ("space", Action::Mark),
            ("/", Action::Filter),
            (":", Action::Command),
            ("?", Action::Help),
        ] {
            bind(k, a);
        }
        for (step, _, k) in STEP_KEYS {
            bind(k, Action::Step(*step));
        }
        Keymap { map }
    }
}

impl Keymap {
    /// The action for a key.
    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::of(e)).copied()
    }

    /// Rebinds from config: action name → list of key names. Unknown names, unreadable keys and
    /// a key that another action keeps are reported, and such a key is not taken: a binding
    /// never silently takes away another action's key (swapping two actions' keys, both named
    /// in the config, is fine).
    pub fn apply(&mut self, binds: &HashMap<String, Vec<String>>) -> Vec<String> {
        let mut problems = Vec::new();
        let mut rebound: Vec<(Action, &String, &Vec<String>)> = Vec::new();
        for (name, keys) in binds {
            match Action::named(name) {
                Some(action) => rebound.push((action, name, keys)),
                None => problems.push(format!("unknown action {name:?} in [keys]")),
            }
        }
        // In the order of the actions, so what is reported does not depend on the map's order.
        rebound.sort_by_key(|(a, _, _)| *a);
        for (action, _, _) in &rebound {
            self.map.retain(|_, a| a != action);
        }
        for (action, name, keys) in rebound {
            for k in keys {
                let Some(key) = Key::parse(k) else {
                    problems.push(format!("cannot read key {k:?} for {name}"));
                    continue;
                };
                match self.map.get(&key) {
                    Some(other) if *other != action => problems.push(format!(
                        "key {k:?} for {name} is already {}'s; not taken (bind {} to another key first)",
                        other.name(),
                        other.name()
                    )),
                    _ => {
                        self.map.insert(key, action);
                    }
                }
            }
        }
        problems
    }

    /// The key to show for an action in a hint: the shortest of its bindings.
    pub fn hint_key(&self, action: Action) -> Option<String> {
        self.map
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k.label())
            .min_by_key(|l| (l.chars().count(), l.clone()))
    }

    /// Every binding, grouped by action, for the help screen.
    pub fn bindings(&self) -> Vec<(Action, Vec<String>)> {
        let mut by: std::collections::BTreeMap<Action, Vec<String>> =
            std::collections::BTreeMap::new();
        for (k, a) in &self.map {
            by.entry(*a).or_default().push(k.label());
        }
        by.into_iter()
            .map(|(a, mut ks)| {
                ks.sort();
                (a, ks)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_a_key_or_is_api_only_on_purpose() {
        let km = Keymap::default();
        for step in Step::WHISTLE.iter().chain(Step::WISH) {
            let keyed = STEP_KEYS.iter().any(|(s, _, _)| s == step);
            let api_only = API_ONLY.iter().any(|(s, _)| s == step);
            assert!(
                keyed != api_only,
                "{step:?}: give it a row in STEP_KEYS, or in API_ONLY with the reason"
            );
            if keyed {
                let action = Action::Step(*step);
                assert!(km.hint_key(action).is_some(), "{step:?} has a default key");
                assert_eq!(Action::named(action.name()), Some(action));
                for lang in [crate::i18n::Lang::Zh, crate::i18n::Lang::En] {
                    assert!(!lang.step(*step).hint.is_empty(), "{step:?} has words");
                }
            }
        }
    }

    #[test]
    fn config_rebinds_and_reports_mistakes() {
        let mut km = Keymap::default();
        let press = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let assign = Action::Step(Step::Dispatch);
        assert_eq!(km.action(&press('a')), Some(assign));
        let mut binds = HashMap::new();
        binds.insert(
            "assign".to_string(),
            vec!["d".to_string(), "ctrl-a".to_string()],
        );
        binds.insert("fly".to_string(), vec!["f".to_string()]);
        binds.insert("quit".to_string(), vec!["ctrl-???".to_string()]);
        let problems = km.apply(&binds);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(km.action(&press('a')), None);
        // `d` is complete's (a wish's step): not taken, and said (issue 27, bug 9).
        let complete = Action::Step(Step::Complete);
        assert_eq!(km.action(&press('d')), Some(complete));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"d\" for assign is already complete's")),
            "{problems:?}"
        );
        let ctrl_a = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(km.action(&ctrl_a), Some(assign));
    }

    #[test]
    fn two_actions_may_swap_their_keys() {
        let mut km = Keymap::default();
        let press = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let (assign, complete) = (Action::Step(Step::Dispatch), Action::Step(Step::Complete));
        let binds = HashMap::from([
            ("assign".to_string(), vec!["d".to_string()]),
            ("complete".to_string(), vec!["a".to_string()]),
        ]);
        assert_eq!(km.apply(&binds), Vec::<String>::new());
        assert_eq!(km.action(&press('d')), Some(assign));
        assert_eq!(km.action(&press('a')), Some(complete));
    }
}
