//! The dashboard's words in Chinese and English. Data stays as the server sends it.

use shaozi_shared::api::Step;
use shaozi_shared::{EventKind, WhistleStatus};

/// Which language the labels are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From `--lang` or `LANG`: anything starting with `zh` is Chinese, other values English.
    pub fn detect(flag: Option<&str>, env_lang: Option<&str>) -> Lang {
        let v = flag.or(env_lang).unwrap_or("zh");
        if v.to_ascii_lowercase().starts_with("zh") || v.is_empty() {
            Lang::Zh
        } else if v == "C" || v == "POSIX" || v.starts_with("C.") {
            // A C locale (C, C.UTF-8: common on servers and over SSH) says nothing about the
            // reader; the data is Chinese anyway. The config's `lang` or --lang chooses.
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The labels.
    pub fn t(self) -> &'static Labels {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// A step's words: a word or two for the key line, and what its prompt asks for.
    pub fn step(self, s: Step) -> StepWords {
        let (hint, ask) = match (s, self) {
            (Step::Dispatch, Lang::Zh) => ("派单", "派往部门（输入筛选，↑↓选择，Enter 确认）"),
            (Step::Dispatch, Lang::En) => (
                "assign",
                "Assign to department (type to filter, ↑↓ to choose, Enter)",
            ),
            (Step::Acknowledge, Lang::Zh) => ("报到", "报到人员（两人以上，逗号或空格分隔）"),
            (Step::Acknowledge, Lang::En) => (
                "duty",
                "Staff reporting for duty (two or more, comma or space separated)",
            ),
            (Step::PartDone, Lang::Zh) => ("协办完成", "协办完成：写明本部门做了什么"),
            (Step::Assisting, Lang::Zh) => ("调整协办", "调整协办部门的理由"),
            (Step::Note, Lang::Zh) => ("备注", "备注：内部或公开"),
            (Step::Note, Lang::En) => ("note", "A note: internal or public"),
            (Step::Reclassify, Lang::Zh) => ("改类", "改类：改对类别、紧急程度或地址，写明理由"),
            (Step::Reclassify, Lang::En) => (
                "reclassify",
                "Reclassify: the right category, urgency or address, and why",
            ),
            (Step::Assisting, Lang::En) => ("assisting", "Why change the assisting departments"),
            (Step::PartDone, Lang::En) => ("part done", "Our part is done: say what we did"),
            (Step::Resolve, Lang::Zh) => ("办结", "办结回复（公开：社区和群众可见）"),
            (Step::Resolve, Lang::En) => ("resolve", "Reply, what was done (public: residents read it)"),
            (Step::Close, Lang::Zh) => ("关闭", "满意度评分：按 1–5"),
            (Step::Close, Lang::En) => ("close", "Satisfaction: press 1–5"),
            (Step::Reopen, Lang::Zh) => ("重办", "重办理由（社区不认可）"),
            (Step::Reopen, Lang::En) => ("reopen", "Why reopen (the community rejects the fix)"),
            (Step::Reject, Lang::Zh) => ("驳回", "驳回理由（公开；重复件可写 dup W1042）"),
            (Step::Reject, Lang::En) => ("reject", "Why reject (public; for a duplicate: dup W1042)"),
            (Step::Escalate, Lang::Zh) => ("升级", "升级理由"),
            (Step::Escalate, Lang::En) => ("escalate", "Why escalate"),
            (Step::Claim, Lang::Zh) => ("认领", "认领心愿"),
            (Step::Claim, Lang::En) => ("claim", "Claim the wish"),
            (Step::Complete, Lang::Zh) => ("完成", "完成心愿：可写备注（做了什么），Enter 确认完成，Esc 取消"),
            (Step::Complete, Lang::En) => (
                "complete",
                "Complete: a note if you like (what was done); Enter confirms, Esc cancels",
            ),
            (Step::Cancel, Lang::Zh) => ("撤销", "撤销理由"),
            (Step::Cancel, Lang::En) => ("withdraw", "Why withdraw the wish"),
            (Step::Return, Lang::Zh) => ("退单", "退单理由（非本部门职责）"),
            (Step::Return, Lang::En) => ("return", "Why return it (not this department's)"),
            // Not "驳回退单": beside x 驳回 (rejecting the case for good) a hurried hand mixes
            // them up.
            (Step::Overrule, Lang::Zh) => ("退单不准", "不准退单的理由（仍由原部门办理）"),
            (Step::Overrule, Lang::En) => (
                "overrule",
                "Why overrule the return (the same department keeps it)",
            ),
            (Step::RequestExtension, Lang::Zh) => (
                "延期",
                "延期至（+3d、+12h 或 2026-12-20 17:30）及理由",
            ),
            (Step::RequestExtension, Lang::En) => (
                "extend",
                "Extend to (+3d, +12h or 2026-12-20 17:30), then why",
            ),
            (Step::ApproveExtension, Lang::Zh) => (
                "批准延期",
                "回车按申请批准；写 +1天 或日期则批准得短些，其后可加备注",
            ),
            (Step::ApproveExtension, Lang::En) => (
                "approve",
                "Enter grants it as asked; +1d or a date grants less; a note may follow",
            ),
            (Step::DenyExtension, Lang::Zh) => ("不准延期", "不批准延期的理由"),
            (Step::DenyExtension, Lang::En) => ("deny", "Why deny the extension"),
            (Step::Urge, Lang::Zh) => ("催办", "催办内容"),
            (Step::Urge, Lang::En) => ("urge", "What to press the department about"),
            (Step::CallBack, Lang::Zh) => (
                "回访",
                "回访：1–5 居民评分，y 接通未评，n 未接通；再写居民说了什么",
            ),
            (Step::CallBack, Lang::En) => (
                "call back",
                "Call-back: 1–5 the resident's rating, y reached, n not reached; then what they said",
            ),
        };
        StepWords { hint, ask }
    }
}

/// What the dashboard says of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepWords {
    /// On the key line, after its key.
    pub hint: &'static str,
    /// What its prompt asks for.
    pub ask: &'static str,
}

/// Every label the dashboard shows.
#[derive(Debug)]
pub struct Labels {
    /// Title.
    pub title: &'static str,
    /// Title on narrow terminals.
    pub title_short: &'static str,
    /// Tab names.
    pub tabs: [&'static str; 6],
    /// Queue columns.
    pub cols: [&'static str; 8],
    /// Connection states.
    pub live: &'static str,
    /// Connection states.
    pub reconnecting: &'static str,
    /// Connection states.
    pub offline: &'static str,
    /// The server refused the token.
    pub refused: &'static str,
    /// Plain http to another machine: the token and the data travel unencrypted.
    pub unencrypted: &'static str,
    /// Connection states.
    pub connecting: &'static str,
    /// "data" before the time of the last data.
    pub data_at: &'static str,
    /// "new" after a count of new arrivals.
    pub new: &'static str,
    /// Empty queue.
    pub queue_empty: &'static str,
    /// Filter prefix.
    pub filter: &'static str,
    /// Too small.
    pub enlarge: &'static str,
    /// Unanswered / overdue / urgent counts.
    pub counts: [&'static str; 3],
    /// The same, short, for a narrow title line.
    pub counts_short: [&'static str; 3],
    /// Department load headers: waiting, in progress, overdue, open.
    pub load: [&'static str; 4],
    /// Wishes: total, claimed, completed, value.
    pub wishes: [&'static str; 4],
    /// Detail labels.
    pub detail: DetailLabels,
    /// Prompts.
    pub prompt: PromptLabels,
    /// Key hints per view.
    pub hints: Hints,
    /// The webhook subscriptions' screen.
    pub hooks: HookLabels,
    /// Status names.
    pub status: [&'static str; 7],
    /// Urgent, normal.
    pub urgency: [&'static str; 2],
    /// Escalation levels: street, city, leaders.
    pub levels: [&'static str; 3],
    /// Help title.
    pub help: &'static str,
    /// "nothing selected".
    pub nothing: &'static str,
    /// "loading".
    pub loading: &'static str,
}

/// Labels of the detail view.
#[derive(Debug)]
pub struct DetailLabels {
    /// Field names, in display order.
    pub fields: [&'static str; 17],
    /// Timeline heading.
    pub timeline: &'static str,
}

/// Labels of prompts (a step's own are [`Lang::step`]'s).
#[derive(Debug)]
pub struct PromptLabels {
    /// Reassign reason.
    pub reassign_reason: &'static str,
    /// Confirm bulk.
    pub confirm: &'static str,
    /// Command line.
    pub command: &'static str,
    /// Filter.
    pub filter: &'static str,
}

/// Labels of the webhook subscriptions' screen.
#[derive(Debug)]
pub struct HookLabels {
    /// Columns: id, name, format, events, lag, failures, state, last delivered, why.
    pub cols: [&'static str; 9],
    /// States: delivering, retrying, paused, held for want of an owner.
    pub states: [&'static str; 4],
    /// No subscriptions.
    pub empty: &'static str,
    /// None selected.
    pub nothing: &'static str,
    /// The token's role may not see them.
    pub not_yours: &'static str,
}

/// Key hints the keymap does not give (the other screens' come from the keymap).
#[derive(Debug)]
pub struct Hints {
    /// Departments.
    pub departments: &'static str,
    /// In a prompt.
    pub prompt: &'static str,
    /// In the picker.
    pub picker: &'static str,
}

/// 中文.
pub static ZH: Labels = Labels {
    title: "哨子 · 吹哨报到调度台",
    title_short: "哨子",
    tabs: ["1 队列", "2 部门", "3 心愿", "4 详情", "5 考核", "6 推送"],
    cols: ["急", "编号", "已过", "剩余", "社区", "类别", "标题", "部门"],
    live: "● 在线",
    reconnecting: "◌ 重连中",
    offline: "○ 离线",
    refused: "✗ 令牌被拒",
    unencrypted: "⚠ 未加密(http)",
    connecting: "◌ 连接中",
    data_at: "数据",
    new: "新",
    queue_empty: "队列已清空：每一声哨都有人报到了。",
    filter: "筛选",
    enlarge: "请放大窗口（至少 80×24）",
    counts: ["未响应", "超时", "紧急"],
    counts_short: ["未响应", "超时", "急"],
    load: ["待报到", "处理中", "超时", "在办"],
    wishes: ["心愿", "已认领", "已完成", "价值"],
    detail: DetailLabels {
        fields: [
            "状态",
            "紧急",
            "类别",
            "社区",
            "街道",
            "牵头部门",
            "协办",
            "地址",
            "报到时限",
            "办结时限",
            "升级",
            "报到人员",
            "回复",
            "满意度",
            "补充信息",
            "照片",
            "居民联系",
        ],
        timeline: "时间线",
    },
    prompt: PromptLabels {
        reassign_reason: "改派理由",
        confirm: "确认对以下哨件执行",
        command: "命令",
        filter: "筛选（文字，或 dept=… cat=… source=… overdue urgent returned due）",
    },
    hooks: HookLabels {
        cols: [
            "编号",
            "名称",
            "方式",
            "事件",
            "积压",
            "失败",
            "状态",
            "最近送达",
            "原因",
        ],
        states: ["正常", "重试中", "已暂停", "待接管"],
        empty: "还没有推送订阅：按 n 新建（或 POST /api/v1/webhooks，见 README「推送到工作群」）。",
        nothing: "未选中推送订阅",
        not_yours: "查看身份不能查看推送订阅：它们属于订阅它们的单位和市调度中心。",
    },
    hints: Hints {
        departments: "Enter 查看该部门哨件  j/k 移动  Tab 切换  ? 帮助  q 退出",
        prompt: "Enter 确认  Esc 取消",
        picker: "✓ 负责所选哨件的类别  输入筛选  ↑↓ 选择  Space 协办  Enter 牵头  Esc 取消",
    },
    status: [
        "新建",
        "已派单",
        "已报到",
        "已办结",
        "已关闭",
        "已驳回",
        "已退单",
    ],
    urgency: ["紧急", "一般"],
    levels: ["街道", "市级", "市领导"],
    help: "按键（可在配置文件中改键）",
    nothing: "未选中哨件",
    loading: "加载中…",
};

/// English.
pub static EN: Labels = Labels {
    title: "shaozi · whistle dispatch",
    title_short: "shaozi",
    tabs: ["1 Queue", "2 Depts", "3 Wishes", "4 Case", "5 Score", "6 Hooks"],
    cols: [
        "!",
        "ID",
        "Age",
        "Left",
        "Community",
        "Category",
        "Title",
        "Department",
    ],
    live: "● live",
    reconnecting: "◌ reconnecting",
    offline: "○ offline",
    refused: "✗ token refused",
    unencrypted: "⚠ unencrypted http",
    connecting: "◌ connecting",
    data_at: "data",
    new: "new",
    queue_empty: "The queue is empty: every whistle has been answered.",
    filter: "filter",
    enlarge: "Enlarge the window (at least 80×24)",
    counts: ["queue", "overdue", "urgent"],
    counts_short: ["queue", "late", "urg"],
    load: ["waiting", "in progress", "overdue", "open"],
    wishes: ["wishes", "claimed", "completed", "value"],
    detail: DetailLabels {
        fields: [
            "Status",
            "Urgency",
            "Category",
            "Community",
            "Street",
            "Lead dept",
            "Assisting",
            "Address",
            "Report by",
            "Resolve by",
            "Escalation",
            "Staff",
            "Reply",
            "Rating",
            "Answers",
            "Photo",
            "Resident",
        ],
        timeline: "Timeline",
    },
    prompt: PromptLabels {
        reassign_reason: "Reason for reassigning",
        confirm: "Confirm for these whistles:",
        command: "command",
        filter: "filter (text, or dept=… cat=… source=… overdue urgent returned due)",
    },
    hooks: HookLabels {
        cols: ["ID", "Name", "Format", "Events", "Lag", "Fails", "State", "Delivered", "Why"],
        states: ["ok", "retrying", "paused", "orphaned"],
        empty: "No webhook subscriptions yet: press n to make one (or POST /api/v1/webhooks; README, \"Pushing to work chats\").",
        nothing: "no subscription selected",
        not_yours: "A viewer may not see webhook subscriptions: they belong to the units that made them and the city office.",
    },
    hints: Hints {
        departments: "j/k move  Enter its cases  Tab switch  ? help  q quit",
        prompt: "Enter confirm  Esc cancel",
        picker:
            "✓ handles the category  type to filter  ↑↓ choose  Space assists  Enter leads  Esc cancel",
    },
    status: [
        "new",
        "dispatched",
        "acknowledged",
        "resolved",
        "closed",
        "rejected",
        "returned",
    ],
    urgency: ["urgent", "normal"],
    levels: ["street", "city", "leaders"],
    help: "Keys (remappable in the config file)",
    nothing: "no whistle selected",
    loading: "loading…",
};

impl Labels {
    /// A status's name.
    pub fn status(&self, s: WhistleStatus) -> &'static str {
        self.status[usize::from(s.code())]
    }

    /// An escalation level's name.
    pub fn level(&self, n: u32) -> &'static str {
        self.levels[(n as usize).min(2)]
    }

    /// What an event means, in words.
    pub fn event(&self, k: EventKind, zh: bool) -> &'static str {
        use EventKind::*;
        match (k, zh) {
            (WhistleCreated, true) => "吹哨",
            (WhistleDispatched, true) => "派单",
            (WhistleReassigned, true) => "改派",
            (WhistleAcknowledged, true) => "报到",
            (WhistleResolved, true) => "办结回复",
            (WhistleClosed, true) => "关闭评价",
            (WhistleReopened, true) => "重办",
            (WhistleRejected, true) => "驳回",
            (WhistleEscalated, true) => "升级",
            (WhistleOverdue, true) => "超时",
            (WhistleDuplicateLinked, true) => "关联重复件",
            (WhistleReturned, true) => "退单",
            (WhistleReturnUpheld, true) => "退单核准",
            (WhistleReturnOverruled, true) => "驳回退单",
            (WhistleExtensionRequested, true) => "申请延期",
            (WhistleExtensionGranted, true) => "批准延期",
            (WhistleExtensionDenied, true) => "不准延期",
            (WhistleUrged, true) => "催办",
            (WhistleCalledBack, true) => "回访",
            (WhistleDueSoon, true) => "即将到期",
            (WhistleAutoClosed, true) => "超期自动办结",
            (WhistleAssistReported, true) => "协办报到",
            (WhistleAssistDone, true) => "协办完成",
            (WhistleAssistingChanged, true) => "调整协办",
            (WhistleNoted, true) => "公开备注",
            (WhistleNotedInternal, true) => "内部备注",
            (WhistleNoted, false) => "public note",
            (WhistleNotedInternal, false) => "internal note",
            (WhistleAssistingChanged, false) => "assisting changed",
            (WhistleAssistReported, false) => "assist on site",
            (WhistleAssistDone, false) => "part done",
            (WhistleCreated, false) => "filed",
            (WhistleDispatched, false) => "dispatched",
            (WhistleReassigned, false) => "reassigned",
            (WhistleAcknowledged, false) => "reported for duty",
            (WhistleResolved, false) => "resolved",
            (WhistleClosed, false) => "closed",
            (WhistleReopened, false) => "reopened",
            (WhistleRejected, false) => "rejected",
            (WhistleEscalated, false) => "escalated",
            (WhistleOverdue, false) => "overdue",
            (WhistleDuplicateLinked, false) => "duplicate linked",
            (WhistleReturned, false) => "returned",
            (WhistleReturnUpheld, false) => "return upheld",
            (WhistleReturnOverruled, false) => "return overruled",
            (WhistleExtensionRequested, false) => "asked more time",
            (WhistleExtensionGranted, false) => "extension granted",
            (WhistleExtensionDenied, false) => "extension denied",
            (WhistleUrged, false) => "urged",
            (WhistleCalledBack, false) => "called back",
            (WhistleDueSoon, false) => "due soon",
            (WhistleAutoClosed, false) => "closed unconfirmed",
            (_, _) => k.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_flag_then_lang() {
        assert_eq!(Lang::detect(Some("en"), Some("zh_CN.UTF-8")), Lang::En);
        assert_eq!(Lang::detect(None, Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::detect(None, Some("en_GB.UTF-8")), Lang::En);
        assert_eq!(Lang::detect(None, None), Lang::Zh);
        // A C locale (servers, SSH) chooses nothing: the city's language (issue 27).
        assert_eq!(Lang::detect(None, Some("C.UTF-8")), Lang::Zh);
        assert_eq!(Lang::detect(Some("en"), Some("C.UTF-8")), Lang::En);
    }
}
