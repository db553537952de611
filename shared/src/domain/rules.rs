//! The rules a server runs by: categories with their deadlines, the working calendar, and the
//! assessment's weights (what a rules file sets).

use crate::assessment::Weights;
use crate::calendar::Calendar;
use crate::case::CaseRules;
use crate::category::Category;
use crate::templates::ReplyTemplate;

/// The rules the server counts deadlines by: categories with their deadlines, and the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Categories.
    pub categories: Vec<Category>,
    /// Working hours and holidays.
    pub calendar: Calendar,
    /// How the assessment weighs its measures.
    pub weights: Weights,
    /// Windows and limits of returns, extensions, due-soon warnings and confirmation.
    pub case: CaseRules,
    /// The city's reply templates (`R1`, `R2`… in the file's order).
    pub templates: Vec<ReplyTemplate>,
}

impl Rules {
    /// The built-in categories with default deadlines, and the default calendar.
    pub fn builtin() -> Rules {
        Rules {
            categories: Category::builtin(),
            calendar: Calendar::default(),
            weights: Default::default(),
            case: CaseRules::default(),
            templates: crate::templates::builtin(),
        }
    }
}
