//! Modal input, as data: the department picker, text prompts, the rating, bulk confirmation,
//! the `:` command line and the filter. What a key does in one belongs to whoever opened it:
//! a step's prompts to `crate::steps`, the command line to `crate::command`, the filter to
//! `crate::filter`. Each turns into effects only when confirmed.

use shaozi_shared::api::{Step, StepBody};
use shaozi_shared::{DepartmentId, WhistleId, WishId};

use crate::editor::LineEditor;

pub mod form;

pub use form::Form;

/// A department in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptOption {
    /// Id.
    pub id: DepartmentId,
    /// Name.
    pub name: String,
    /// Cases waiting or in progress.
    pub load: i64,
    /// Handles the whistle's category.
    pub handles: bool,
    /// The case (every one of them) is with this department now.
    pub current: bool,
}

/// Who a dispatch calls: the lead, the departments assisting it, and where and by when they
/// all report (联合报到), when set.
#[derive(Debug, Clone, PartialEq)]
pub struct Calling {
    /// The lead department.
    pub lead: DepartmentId,
    /// Departments assisting.
    pub assisting: Vec<DepartmentId>,
    /// Where and by when every one of them reports.
    pub report: Option<shaozi_shared::whistle::Muster>,
}

impl Calling {
    /// The lead alone, reporting by the category's deadline.
    pub fn lead(lead: DepartmentId) -> Calling {
        Calling {
            lead,
            assisting: Vec::new(),
            report: None,
        }
    }
}

/// Why a dispatch asks to be confirmed even for one case: what the dispatcher may not have
/// seen in a hurry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caution {
    /// The case is already with the chosen department.
    AlreadyWith,
    /// The chosen department does not handle the case's category.
    DoesNotHandle,
}

/// What a yes-or-no question leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    /// Delete this webhook subscription.
    DeleteWebhook(String),
}

/// An open prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Choose a department.
    Picker {
        /// Whistles to assign.
        targets: Vec<WhistleId>,
        /// Typed filter.
        editor: LineEditor,
        /// Departments, best first.
        options: Vec<DeptOption>,
        /// Selected among the visible ones.
        sel: usize,
        /// Departments marked (Space) to assist the one chosen with Enter.
        assisting: Vec<DepartmentId>,
        /// What Enter does: dispatch (call the one chosen to lead), or change the assisting
        /// departments of a dispatched case to those marked.
        step: shaozi_shared::api::Step,
    },
    /// Where and by when the departments of a joint call report (empty: each by the category's
    /// deadline).
    Muster {
        /// Whistles to dispatch.
        targets: Vec<WhistleId>,
        /// Who is called.
        calling: Calling,
        /// The place and time typed.
        editor: LineEditor,
    },
    /// Type what a step asks for (staff names, a reply, a reason).
    Text {
        /// The step.
        step: Step,
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The text.
        editor: LineEditor,
        /// For a reassignment to these departments (or, for a change of the assisting ones,
        /// with these assisting), the text is its reason.
        reassign_to: Option<Calling>,
    },
    /// Closing: press 1–5, add a note if wanted, Enter to close.
    Rating {
        /// The step (closing).
        step: Step,
        /// The whistle.
        target: WhistleId,
        /// The rating chosen, once pressed.
        stars: Option<u8>,
        /// An optional comment, typed after the rating.
        note: LineEditor,
    },
    /// Type what a step on a wish asks for (why it is withdrawn, who claims it).
    WishText {
        /// The step.
        step: Step,
        /// The wish.
        id: WishId,
        /// The text.
        editor: LineEditor,
    },
    /// Confirm a step on several whistles, or one that cannot be undone or looks wrong.
    Confirm {
        /// Whistles.
        targets: Vec<WhistleId>,
        /// The step with its body.
        body: StepBody,
        /// What to point out about some of them.
        cautions: Vec<(WhistleId, Caution)>,
    },
    /// `:` command line.
    Command {
        /// The command.
        editor: LineEditor,
        /// Completion candidates or a hint.
        hint: String,
        /// How far back in the history ↑ has gone (0: the line being typed).
        back: usize,
    },
    /// A form of several fields (filing a whistle, a wish, a subscription).
    Form(Box<Form>),
    /// A yes-or-no question before something that cannot be undone (deleting a
    /// subscription): y or Enter does `then`.
    Sure {
        /// The question.
        question: String,
        /// What y does.
        then: Then,
    },
    /// `/` filter of the list shown.
    Filter {
        /// The filter.
        editor: LineEditor,
        /// What it matches so far, or why it cannot be applied.
        hint: String,
    },
}

impl Prompt {
    /// Inserts pasted text into whatever is being typed.
    pub fn paste(&mut self, s: &str) {
        match self {
            Prompt::Picker { editor, sel, .. } => {
                editor.insert_str(s);
                *sel = 0;
            }
            Prompt::Text { editor, .. }
            | Prompt::Muster { editor, .. }
            | Prompt::WishText { editor, .. }
            | Prompt::Command { editor, .. }
            | Prompt::Filter { editor, .. } => editor.insert_str(s),
            Prompt::Rating {
                stars: Some(_),
                note,
                ..
            } => note.insert_str(s),
            Prompt::Form(f) => f.paste(s),
            _ => {}
        }
    }

    /// The picker's options that match what was typed.
    pub fn visible_options(&self) -> Vec<&DeptOption> {
        match self {
            Prompt::Picker {
                editor, options, ..
            } => ranked(options, &editor.text()),
            _ => Vec::new(),
        }
    }
}

/// Departments matching `typed` (by id, name, or abbreviation): the one whose id was typed,
/// then those that handle the category (✓) before those that do not, each by how well the
/// name matched, keeping their order otherwise.
pub fn ranked<'a>(options: &'a [DeptOption], typed: &str) -> Vec<&'a DeptOption> {
    let mut hits: Vec<((bool, bool, u8), &DeptOption)> = options
        .iter()
        .filter_map(|o| {
            if o.id.to_string().eq_ignore_ascii_case(typed.trim()) {
                return Some(((false, false, 0), o));
            }
            crate::text::match_rank(&o.name, typed).map(|r| ((true, !o.handles, r), o))
        })
        .collect();
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().map(|(_, o)| o).collect()
}
