//! A step taken on several cases at once, until every answer is in.

use std::collections::BTreeSet;

use shaozi_shared::api::Step;
use shaozi_shared::{DepartmentId, WhistleId};

use crate::directory::Directory;
use crate::i18n::Lang;

/// A step taken on several cases at once: the answers so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The step.
    pub step: Step,
    /// Where they were dispatched, for a dispatch.
    pub dept: Option<DepartmentId>,
    /// Cases whose answer has not arrived.
    pub pending: BTreeSet<WhistleId>,
    /// Cases the step was taken on.
    pub done: Vec<WhistleId>,
    /// Cases refused, each with why.
    pub refused: Vec<(WhistleId, String)>,
}

impl Batch {
    /// A batch of `step` on `targets`.
    pub fn new(step: Step, dept: Option<DepartmentId>, targets: &[WhistleId]) -> Batch {
        Batch {
            step,
            dept,
            pending: targets.iter().copied().collect(),
            done: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// The summary, once every answer is in.
    pub fn summary(&self, lang: Lang, dir: &Directory) -> String {
        let zh = lang == Lang::Zh;
        let n = self.done.len();
        let dept = dir.department(self.dept);
        let did = match (self.step, zh) {
            (Step::Dispatch, true) => format!("{n} 件已派往 {dept}"),
            (Step::Dispatch, false) => format!("{n} assigned to {dept}"),
            (Step::Reject, true) => format!("{n} 件已驳回"),
            (Step::Reject, false) => format!("{n} rejected"),
            (Step::Escalate, true) => format!("{n} 件已升级"),
            (Step::Escalate, false) => format!("{n} escalated"),
            (step, true) => format!("{n} 件已{}", lang.step(step).hint),
            (step, false) => format!("{n} done ({})", lang.step(step).hint),
        };
        if self.refused.is_empty() {
            return did;
        }
        let why: Vec<&str> = self.refused.iter().map(|(_, w)| w.as_str()).collect();
        if zh {
            format!("{did}，{} 件被拒绝：{}", self.refused.len(), why.join("；"))
        } else {
            format!("{did}; {} refused: {}", self.refused.len(), why.join("; "))
        }
    }
}
