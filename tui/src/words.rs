//! The dashboard's sentences, in the user's language: role and status names, what a step did,
//! and why the server refused one (worded from its machine code, never cut). The short labels
//! are in `i18n`.

use shaozi_shared::api::{DeliveryFailure, Step};
use shaozi_shared::text;
use shaozi_shared::{RefusalCode, Role, Whistle, WhistleStatus, WishStatus};

use crate::directory::Directory;
use crate::i18n::Lang;
use crate::keys::Action;
use crate::refusal::{Refusal, UNTRUSTED_CERTIFICATE};
use shaozi_shared::case::Source;

/// A role's name.
pub fn role(lang: Lang, r: Role) -> &'static str {
    match (lang, r) {
        (Lang::Zh, Role::Admin) => "管理员",
        (Lang::Zh, Role::Dispatcher) => "调度员",
        (Lang::Zh, Role::Department) => "部门",
        (Lang::Zh, Role::Community) => "社区",
        (Lang::Zh, Role::Viewer) => "只读",
        (Lang::En, r) => r.as_str(),
    }
}

/// A status as a list shows it: what it means for the work (a dispatched case is waiting for
/// its department to report for duty; a returned one for the dispatcher; one with a request
/// for more time for the dispatcher's answer), with `↺` for a reopened case, `↑n` for an
/// escalated one, `!` for one the dispatcher urged and `◷` for one whose deadline is near, so
/// a row that jumped the queue says why.
pub fn list_status(lang: Lang, w: &Whistle) -> String {
    let zh = lang == Lang::Zh;
    let asked = w.pending_extension.is_some();
    let base = match (w.status, zh) {
        (WhistleStatus::New, true) => "未派单",
        (WhistleStatus::Dispatched, true) => "待报到",
        (WhistleStatus::Acknowledged, true) if asked => "待批延期",
        (WhistleStatus::Acknowledged, true) if w.reopened > 0 => "重办中",
        (WhistleStatus::Acknowledged, true) => "处理中",
        (WhistleStatus::Resolved, true) => "待确认",
        (WhistleStatus::Closed, true) => "已关闭",
        (WhistleStatus::Rejected, true) => "已驳回",
        (WhistleStatus::Returned, true) => "退单↩",
        (WhistleStatus::New, false) => "new",
        (WhistleStatus::Dispatched, false) => "waiting",
        (WhistleStatus::Acknowledged, false) if asked => "ext asked",
        (WhistleStatus::Acknowledged, false) if w.reopened > 0 => "reopened",
        (WhistleStatus::Acknowledged, false) => "working",
        (WhistleStatus::Resolved, false) => "resolved",
        (WhistleStatus::Closed, false) => "closed",
        (WhistleStatus::Rejected, false) => "rejected",
        (WhistleStatus::Returned, false) => "returned↩",
    };
    let mut out = base.to_string();
    if w.status.is_terminal() {
        return out;
    }
    if w.escalation_level > 0 {
        out.push_str(&format!("↑{}", w.escalation_level));
    }
    if w.urges > 0 && !matches!(w.status, WhistleStatus::Resolved) {
        out.push('!');
    }
    if due_soon(w) {
        out.push('◷');
    }
    // A joint case: how many of the called departments reported (报到 2/3).
    let (came, called) = w.reported();
    if called > 1
        && matches!(
            w.status,
            WhistleStatus::Dispatched | WhistleStatus::Acknowledged
        )
    {
        out.push_str(&format!(" {came}/{called}"));
    }
    out
}

/// Whether the pending deadline is near: the server warned about it (即将到期) and it has not
/// passed.
pub fn due_soon(w: &Whistle) -> bool {
    w.pending_deadline()
        .is_some_and(|d| w.due_soon_sent_for == Some(d))
}

/// A source's name.
pub fn source(lang: Lang, s: Source) -> &'static str {
    match (lang, s) {
        (Lang::Zh, Source::Community) => "社区",
        (Lang::Zh, Source::Hotline) => "12345热线",
        (Lang::Zh, Source::Open311) => "Open311",
        (Lang::Zh, Source::Grid) => "网格员",
        (Lang::Zh, Source::WalkIn) => "来访",
        (Lang::Zh, Source::Street) => "街道吹哨",
        (Lang::Zh, Source::Other) => "其他",
        (Lang::En, Source::Community) => "community",
        (Lang::En, Source::Hotline) => "12345 hotline",
        (Lang::En, Source::Open311) => "Open311",
        (Lang::En, Source::Grid) => "grid worker",
        (Lang::En, Source::WalkIn) => "walk-in",
        (Lang::En, Source::Street) => "the street's own",
        (Lang::En, Source::Other) => "other",
    }
}

/// The source a filter names, in either language (`source=hotline`, `来源=热线`).
pub fn source_named(word: &str) -> Option<Source> {
    let w = word.to_lowercase();
    Source::parse(&w).or(match w.as_str() {
        "社区" => Some(Source::Community),
        "热线" | "12345" | "12345热线" => Some(Source::Hotline),
        "网格" | "网格员" => Some(Source::Grid),
        "来访" | "walk-in" => Some(Source::WalkIn),
        "街道" | "街道吹哨" => Some(Source::Street),
        "其他" => Some(Source::Other),
        _ => None,
    })
}

/// The statuses a filter accepts by name, in either language (`status=new`, `未派单`).
pub fn status_named(word: &str) -> Option<WhistleStatus> {
    let w = word.to_lowercase();
    WhistleStatus::ALL.into_iter().find(|s| {
        let names: &[&str] = match s {
            WhistleStatus::New => &["new", "未派单", "新建", "unassigned"],
            WhistleStatus::Dispatched => &["dispatched", "待报到", "已派单", "waiting"],
            WhistleStatus::Acknowledged => &["acknowledged", "处理中", "已报到", "working"],
            WhistleStatus::Resolved => &["resolved", "待确认", "已办结"],
            WhistleStatus::Closed => &["closed", "已关闭"],
            WhistleStatus::Rejected => &["rejected", "已驳回"],
            WhistleStatus::Returned => &["returned", "退单", "已退回"],
        };
        names.contains(&w.as_str())
    })
}

/// A wish status's name.
pub fn wish_status(lang: Lang, s: WishStatus) -> &'static str {
    match (lang, s) {
        (Lang::Zh, WishStatus::Open) => "待认领",
        (Lang::Zh, WishStatus::Claimed) => "已认领",
        (Lang::Zh, WishStatus::Completed) => "已完成",
        (Lang::Zh, WishStatus::Cancelled) => "已撤销",
        (Lang::En, WishStatus::Open) => "unclaimed",
        (Lang::En, WishStatus::Claimed) => "claimed",
        (Lang::En, WishStatus::Completed) => "completed",
        (Lang::En, WishStatus::Cancelled) => "withdrawn",
    }
}

/// What a step did to a whistle, said plainly (`W1042 已升级至 2 级（市领导）`).
pub fn whistle_done(lang: Lang, step: Step, w: &Whistle, dir: &Directory) -> String {
    let id = w.id;
    let t = lang.t();
    let dept = dir.department(w.department_id);
    match (step, lang) {
        (Step::Dispatch, Lang::Zh) => format!("{id} 已派往 {dept}，等待报到"),
        (Step::Dispatch, Lang::En) => format!("{id} assigned to {dept}, waiting for it to report"),
        // The last to report, on a joint case, may be a department assisting.
        (Step::Acknowledge, _)
            if w.calls
                .iter()
                .filter(|c| c.reported_at.is_some())
                .max_by_key(|c| c.reported_at)
                .is_some_and(|c| c.role == shaozi_shared::whistle::CallRole::Assisting) =>
        {
            let (came, called) = w.reported();
            let staff = w
                .calls
                .iter()
                .filter(|c| c.reported_at.is_some())
                .max_by_key(|c| c.reported_at)
                .map(|c| c.staff.clone())
                .unwrap_or_default();
            if lang == Lang::Zh {
                format!(
                    "{id} 协办已报到（{}），{came}/{called} 个部门到场",
                    staff.join("、")
                )
            } else {
                format!(
                    "{id}: reported for duty to assist ({}); {came} of {called} departments there",
                    staff.join(", ")
                )
            }
        }
        (Step::Assisting, _) => {
            let names: Vec<String> = w
                .assisting
                .iter()
                .map(|d| dir.department(Some(*d)))
                .collect();
            match (lang, names.is_empty()) {
                (Lang::Zh, true) => format!("{id} 已不再有协办部门"),
                (Lang::Zh, false) => format!("{id} 协办部门：{}", names.join("、")),
                (Lang::En, true) => format!("{id}: no department assists now"),
                (Lang::En, false) => format!("{id}: assisting now {}", names.join(", ")),
            }
        }
        (Step::Note, Lang::Zh) => format!("{id} 备注已记录"),
        (Step::Note, Lang::En) => format!("{id}: note recorded"),
        (Step::PartDone, Lang::Zh) => format!("{id} 本部门负责的部分已完成"),
        (Step::PartDone, Lang::En) => format!("{id}: our part is done"),
        (Step::Reclassify, Lang::Zh) => format!(
            "{id} 已改类：{} · {}，时限已按新类别重算",
            dir.category(&w.category, lang),
            t.urgency[usize::from(w.urgency != shaozi_shared::Urgency::Urgent)]
        ),
        (Step::Reclassify, Lang::En) => format!(
            "{id} reclassified: {} · {}; deadlines worked out again",
            dir.category(&w.category, lang),
            t.urgency[usize::from(w.urgency != shaozi_shared::Urgency::Urgent)]
        ),
        (Step::Acknowledge, Lang::Zh) => {
            format!("{id} 已报到（{}），开始处理", w.staff.join("、"))
        }
        (Step::Acknowledge, Lang::En) => format!(
            "{id}: reported for duty ({}); now in progress",
            w.staff.join(", ")
        ),
        (Step::Resolve, Lang::Zh) => format!("{id} 已答复办结，等待社区确认"),
        (Step::Resolve, Lang::En) => {
            format!("{id} resolved; waiting for the community to confirm")
        }
        (Step::Close, Lang::Zh) => format!(
            "{id} 已确认关闭，评价 {}",
            stars(w.satisfaction.unwrap_or(0))
        ),
        (Step::Close, Lang::En) => {
            format!("{id} closed, rated {}", stars(w.satisfaction.unwrap_or(0)))
        }
        (Step::Reopen, Lang::Zh) => format!("{id} 已退回 {dept} 重办，办结时限重新计算"),
        (Step::Reopen, Lang::En) => {
            format!("{id} sent back to {dept} to redo; the resolve deadline starts again")
        }
        (Step::Reject, Lang::Zh) => match w.duplicate_of {
            Some(o) => format!("{id} 已作为 {o} 的重复件驳回"),
            None => format!("{id} 已驳回"),
        },
        (Step::Reject, Lang::En) => match w.duplicate_of {
            Some(o) => format!("{id} rejected as a duplicate of {o}"),
            None => format!("{id} rejected"),
        },
        (Step::Escalate, Lang::Zh) => format!(
            "{id} 已升级至 {} 级（{}）",
            w.escalation_level,
            t.level(w.escalation_level)
        ),
        (Step::Escalate, Lang::En) => format!(
            "{id} escalated to level {} ({})",
            w.escalation_level,
            t.level(w.escalation_level)
        ),
        (Step::Return, Lang::Zh) => format!("{id} 已退单，等待调度员改派或驳回"),
        (Step::Return, Lang::En) => {
            format!("{id} returned; the dispatcher sends it on or overrules")
        }
        (Step::Overrule, Lang::Zh) => format!("{id} 退单不准，仍由 {dept} 办理"),
        (Step::Overrule, Lang::En) => format!("{id}: return overruled; {dept} keeps it"),
        (Step::RequestExtension, Lang::Zh) => format!("{id} 已申请延期，等待调度员批复"),
        (Step::RequestExtension, Lang::En) => {
            format!("{id}: more time asked; waiting for the dispatcher")
        }
        (Step::ApproveExtension, Lang::Zh) => format!("{id} 已批准延期，办结时限顺延"),
        (Step::ApproveExtension, Lang::En) => format!("{id}: extension granted"),
        (Step::DenyExtension, Lang::Zh) => format!("{id} 延期申请未批准"),
        (Step::DenyExtension, Lang::En) => format!("{id}: extension denied"),
        (Step::Urge, Lang::Zh) => format!("{id} 已催办 {dept}（第 {} 次）", w.urges),
        (Step::Urge, Lang::En) => format!("{id}: {dept} urged (time {})", w.urges),
        (Step::CallBack, Lang::Zh) => format!("{id} 回访已记录"),
        (Step::CallBack, Lang::En) => format!("{id}: call-back recorded"),
        (_, _) => format!("{id} → {}", t.status(w.status)),
    }
}

/// What a step did to a wish.
pub fn wish_done(lang: Lang, step: Step, w: &shaozi_shared::Wish, dir: &Directory) -> String {
    let id = w.id;
    // Claimed for whom: the department, or the person the city office named.
    let whom = w
        .claimer
        .clone()
        .or_else(|| w.department_id.map(|d| dir.department(Some(d))))
        .unwrap_or_default();
    match (step, lang) {
        (Step::Claim, Lang::Zh) => format!("{id} 已由{whom}认领"),
        (Step::Claim, Lang::En) => format!("{id} claimed for {whom}"),
        (Step::Complete, Lang::Zh) => format!("{id} 已完成"),
        (Step::Complete, Lang::En) => format!("{id} marked fulfilled"),
        (_, Lang::Zh) => format!("{id} 已撤销"),
        (_, Lang::En) => format!("{id} withdrawn"),
    }
}

/// `★★★☆☆`.
pub fn stars(n: u8) -> String {
    let n = usize::from(n.min(5));
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

/// A request field's name.
fn field(lang: Lang, f: &str) -> String {
    let zh = lang == Lang::Zh;
    let name = match (f, zh) {
        ("reason", true) => "理由",
        ("reply", true) => "回复",
        ("staff", true) => "报到人员",
        ("note", true) => "备注",
        ("satisfaction", true) => "评分",
        ("department_id", true) => "部门",
        ("assisting", true) => "协办部门",
        ("duplicate_of", true) => "原件编号",
        ("claimer", true) => "认领人",
        ("title", true) => "标题",
        ("description", true) => "描述",
        ("address", true) => "地址",
        ("community_id", true) => "社区",
        ("category", true) => "类别",
        ("value_fen", true) => "价值",
        ("name", true) => "名称",
        ("url", true) => "地址（URL）",
        ("events", true) => "事件",
        ("secret", true) => "密钥",
        ("reporter.name", true) => "报告人",
        ("reporter.phone", true) => "电话",
        ("title", false) => "the title",
        ("description", false) => "the description",
        ("address", false) => "the address",
        ("community_id", false) => "the community",
        ("category", false) => "the category",
        ("value_fen", false) => "the value",
        ("name", false) => "the name",
        ("url", false) => "the URL",
        ("events", false) => "the events",
        ("secret", false) => "the secret",
        ("reporter.name", false) => "the reporter's name",
        ("reporter.phone", false) => "the phone number",
        ("reason", false) => "the reason",
        ("reply", false) => "the reply",
        ("staff", false) => "the staff names",
        ("note", false) => "the note",
        ("satisfaction", false) => "the rating",
        ("department_id", false) => "the department",
        ("duplicate_of", false) => "the original's id",
        ("claimer", false) => "the claimer",
        (other, _) => other,
    };
    name.to_string()
}

/// The longest a field may be, from the shared rules.
fn limit(f: &str) -> usize {
    match f {
        "reply" => text::REPLY.max,
        "staff" | "claimer" | "reporter.name" => text::PERSON.max,
        "title" => text::TITLE.max,
        "description" => text::DESCRIPTION.max,
        "address" => text::ADDRESS.max,
        "name" => text::NAME.max,
        "url" => text::URL.max,
        "reporter.phone" => text::PHONE.max,
        _ => text::NOTE.max,
    }
}

/// Why the server refused `step` on `id`, in the user's language and whole.
pub fn refusal(lang: Lang, id: &str, step: Step, r: &Refusal) -> String {
    let zh = lang == Lang::Zh;
    let verb = lang.step(step).hint;
    if r.status == 0 {
        return if zh {
            format!(
                "{id}：未能连接服务器（{}），输入已保留，可再按 Enter 重试",
                r.detail
            )
        } else {
            format!(
                "{id}: could not reach the server ({}); your input is kept, press Enter to retry",
                r.detail
            )
        };
    }
    let said = refusal_reason(lang, verb, r);
    if zh {
        format!("{id} 未能{verb}：{said}")
    } else {
        format!("{id}: could not {verb}: {said}")
    }
}

/// Why the server refused, without what was refused (`verb` names it where a code needs it).
pub fn refusal_reason(lang: Lang, verb: &str, r: &Refusal) -> String {
    let zh = lang == Lang::Zh;
    let f = field(lang, r.field.as_deref().unwrap_or(""));
    let status = r
        .current_status
        .as_deref()
        .and_then(WhistleStatus::parse)
        .map(|s| lang.t().status(s).to_string())
        .or_else(|| {
            r.current_status
                .as_deref()
                .and_then(WishStatus::parse)
                .map(|s| wish_status(lang, s).to_string())
        })
        .unwrap_or_else(|| r.current_status.clone().unwrap_or_default());
    if r.status == 0 {
        return if zh {
            format!(
                "未能连接服务器（{}），输入已保留，可再按 Enter 重试",
                r.detail
            )
        } else {
            format!(
                "could not reach the server ({}); your input is kept, press Enter to retry",
                r.detail
            )
        };
    }
    let code = r.code.as_deref().and_then(RefusalCode::parse);
    let said = match (code, zh) {
        (Some(RefusalCode::Empty), true) => format!("{f}不能为空"),
        (Some(RefusalCode::Empty), false) => format!("{f} must not be empty"),
        (Some(RefusalCode::TooLong), true) => {
            format!(
                "{f}太长，最多 {} 字",
                limit(r.field.as_deref().unwrap_or(""))
            )
        }
        (Some(RefusalCode::TooLong), false) => format!(
            "{f} is too long: at most {} characters",
            limit(r.field.as_deref().unwrap_or(""))
        ),
        (Some(RefusalCode::ControlCharacters), true) => {
            format!("{f}只能是一行文字，不能有换行或控制字符")
        }
        (Some(RefusalCode::ControlCharacters), false) => {
            format!("{f} must be one line, without line breaks or control characters")
        }
        (Some(RefusalCode::DirectionControl), true) => {
            format!("{f}含有改变文字方向的控制字符，请删除后重试")
        }
        (Some(RefusalCode::DirectionControl), false) => {
            format!("{f} contains a text-direction control character; remove it")
        }
        (Some(RefusalCode::NoVisibleText), true) => format!("{f}没有可见的文字"),
        (Some(RefusalCode::NoVisibleText), false) => format!("{f} has no visible characters"),
        (Some(RefusalCode::TooFewStaff), true) => "报到需要两名以上不同的人员".to_string(),
        (Some(RefusalCode::TooFewStaff), false) => {
            "reporting for duty needs two or more different people".to_string()
        }
        (Some(RefusalCode::TooManyStaff), true) => {
            format!("报到人员最多 {} 名", text::MAX_STAFF)
        }
        (Some(RefusalCode::TooManyStaff), false) => {
            format!("at most {} people can report for duty", text::MAX_STAFF)
        }
        (Some(RefusalCode::ReasonRequired), true) => "改派已派单的哨件需要填写改派理由".to_string(),
        (Some(RefusalCode::ReasonRequired), false) => {
            "reassigning a dispatched case needs a reason".to_string()
        }
        (Some(RefusalCode::OutOfRange), true) => format!("{f}超出允许的范围"),
        (Some(RefusalCode::OutOfRange), false) => format!("{f} is out of range"),
        (Some(RefusalCode::SelfDuplicate), true) => "哨件不能是它自己的重复件".to_string(),
        (Some(RefusalCode::SelfDuplicate), false) => {
            "a case cannot be a duplicate of itself".to_string()
        }
        (Some(RefusalCode::UnknownReference), true) => format!("所填的{f}不存在"),
        (Some(RefusalCode::UnknownReference), false) => format!("{f} does not exist"),
        (Some(RefusalCode::NotAllowed), true) => {
            format!("当前状态为「{status}」，不能{verb}")
        }
        (Some(RefusalCode::NotAllowed), false) => {
            format!("it is {status} now, so it cannot be {verb}ed")
        }
        (Some(RefusalCode::AlreadyAssigned), true) => "已经派给该部门了".to_string(),
        (Some(RefusalCode::AlreadyAssigned), false) => {
            "it is already with that department".to_string()
        }
        (Some(RefusalCode::TopEscalation), true) => "已在最高级（市领导），不能再升级".to_string(),
        (Some(RefusalCode::TopEscalation), false) => {
            "it is already at the top level (the city's leaders)".to_string()
        }
        (Some(RefusalCode::AlreadyOverdue), true) => "已经是超时状态".to_string(),
        (Some(RefusalCode::AlreadyOverdue), false) => "it is already overdue".to_string(),
        (Some(RefusalCode::NotFound), true) => "不存在，或不在你的范围内".to_string(),
        (Some(RefusalCode::NotFound), false) => {
            "does not exist, or is outside your scope".to_string()
        }
        (Some(RefusalCode::Forbidden), true) => format!("你的身份不能{verb}这件"),
        (Some(RefusalCode::Forbidden), false) => format!("your role may not {verb} this one"),
        (Some(RefusalCode::Unauthorized), true) => {
            "令牌无效或已被吊销，请换一个令牌（SHAOZI_TOKEN）".to_string()
        }
        (Some(RefusalCode::Unauthorized), false) => {
            "the token is invalid or revoked; use another (SHAOZI_TOKEN)".to_string()
        }
        (Some(RefusalCode::Stale), true) => "已被他人修改，请看最新状态后再操作".to_string(),
        (Some(RefusalCode::Stale), false) => {
            "someone else changed it; look at it again and retry".to_string()
        }
        (Some(RefusalCode::RateLimited), true) => "操作太频繁，请稍后再试".to_string(),
        (Some(RefusalCode::RateLimited), false) => {
            "too many requests; try again shortly".to_string()
        }
        (Some(RefusalCode::Unavailable), true) => {
            "服务器暂时不受理，请稍后再试（输入已保留）".to_string()
        }
        (Some(RefusalCode::Unavailable), false) => {
            "the server is not taking this now; try again shortly (your input is kept)".to_string()
        }
        // Anything else is said in the server's own words, whole.
        (_, true) => format!("{}（{}）", r.detail, r.status),
        (_, false) => format!("{} ({})", r.detail, r.status),
    };
    said
}

/// Why loading failed, in the user's language (the dashboard keeps retrying).
pub fn load_failed(lang: Lang, r: &Refusal) -> String {
    let zh = lang == Lang::Zh;
    if r.code.as_deref() == Some(UNTRUSTED_CERTIFICATE) {
        return if zh {
            format!(
                "服务器证书不受信任：用 --ca-cert 指定本市的 CA 证书（{}）",
                r.detail
            )
        } else {
            format!(
                "the server's certificate is not trusted: give the city's CA with --ca-cert ({})",
                r.detail
            )
        };
    }
    match (r.status, zh) {
        (0, true) => format!("无法连接服务器，正在重试（{}）", r.detail),
        (0, false) => format!("cannot reach the server; retrying ({})", r.detail),
        (401, true) => "令牌无效或已被吊销，请换一个令牌（--token 或 SHAOZI_TOKEN）".to_string(),
        (401, false) => {
            "the token is invalid or revoked; use another (--token or SHAOZI_TOKEN)".to_string()
        }
        (429 | 503, true) => format!("服务器繁忙，稍后重试（{}）", r.status),
        (429 | 503, false) => format!("the server is busy; retrying shortly ({})", r.status),
        (s, true) => format!("加载失败：{}（{s}）", r.detail),
        (s, false) => format!("loading failed: {} ({s})", r.detail),
    }
}

/// Why a webhook delivery failed, in the user's language. The server's `detail` says it in
/// English with its technical cause, so English shows it as it is; Chinese words the kind and
/// keeps what the receiver itself said (its answer, the robot's `errmsg`, the connection's
/// cause). A state saved before kinds were kept has none: its detail is shown.
pub fn delivery_failure(lang: Lang, failure: Option<&DeliveryFailure>, detail: &str) -> String {
    let (Lang::Zh, Some(failure)) = (lang, failure) else {
        return detail.to_string();
    };
    let after = |prefix: &str| {
        detail
            .strip_prefix(prefix)
            .unwrap_or(detail)
            .trim()
            .to_string()
    };
    match failure {
        DeliveryFailure::Timeout => "对方超时未应答".to_string(),
        DeliveryFailure::Connect => format!("连接不上（{}）", after("could not connect:")),
        DeliveryFailure::Status { status } => {
            let said = detail
                .strip_prefix(&format!("answered {status}:"))
                .map(str::trim)
                .unwrap_or("");
            if said.is_empty() {
                format!("对方回应 {status}")
            } else {
                format!("对方回应 {status}：{said}")
            }
        }
        DeliveryFailure::RobotRefused { errcode } => {
            let said = after(&format!("the robot refused it: {errcode}"));
            format!("机器人拒收：{errcode} {said}")
                .trim_end()
                .to_string()
        }
        DeliveryFailure::Secret => {
            "本服务器解不开它的密钥，无法签名（检查 SHAOZI_WEBHOOK_KEY）".to_string()
        }
        DeliveryFailure::AddressRefused => {
            "地址在内网，未获准推送（服务器 --webhook-allow）".to_string()
        }
        DeliveryFailure::Other => format!("发送失败（{detail}）"),
    }
}

/// Why a subscription sends nothing: its owner's token no longer stands.
pub fn owner_lapsed(lang: Lang, w: &shaozi_shared::api::WebhookInfo) -> String {
    use shaozi_shared::api::OwnerStanding as O;
    let who = &w.created_by;
    match (lang, w.health.owner) {
        (Lang::Zh, O::Expired) => format!("令牌 {who} 已过期，停发待接管（adopt）或删除"),
        (Lang::Zh, O::Unknown) => format!("令牌 {who} 不存在，停发待接管（adopt）或删除"),
        (Lang::Zh, _) => format!("令牌 {who} 已吊销，停发待接管（adopt）或删除"),
        (Lang::En, O::Expired) => format!("owner {who} expired: held until adopted or deleted"),
        (Lang::En, O::Unknown) => format!("owner {who} unknown: held until adopted or deleted"),
        (Lang::En, _) => format!("owner {who} revoked: held until adopted or deleted"),
    }
}

/// An action's name in the help and on the key line.
pub fn action(lang: Lang, a: Action) -> &'static str {
    let zh = lang == Lang::Zh;
    match (a, zh) {
        (Action::Step(step), _) => lang.step(step).hint,
        (Action::Up, true) => "上移",
        (Action::Down, true) => "下移",
        (Action::Top, true) => "到顶",
        (Action::Bottom, true) => "到底",
        (Action::PageUp, true) => "上一页",
        (Action::PageDown, true) => "下一页",
        (Action::NextView, true) => "下一屏",
        (Action::ViewQueue, true) => "首页",
        (Action::ViewDepartments, true) => "部门",
        (Action::ViewWishes, true) => "心愿",
        (Action::ViewDetail, true) => "详情",
        (Action::ViewAssessment, true) => "考核",
        (Action::ViewTrends, true) => "趋势",
        (Action::ViewWebhooks, true) => "推送订阅",
        (Action::ViewInbox, true) => "待办",
        (Action::ViewNotices, true) => "通知",
        (Action::New, true) => "新建",
        (Action::Delete, true) => "删除",
        (Action::WebhookResume, true) => "恢复推送",
        (Action::WebhookTest, true) => "发送测试",
        (Action::Period, true) => "切换周期",
        (Action::Units, true) => "部门/街道/社区",
        (Action::Export, true) => "导出CSV",
        (Action::SortNext, true) => "按下一列排序",
        (Action::SortPrev, true) => "按上一列排序",
        (Action::Open, true) => "打开",
        (Action::Back, true) => "返回",
        (Action::Quit, true) => "退出",
        (Action::Mark, true) => "标记",
        (Action::Filter, true) => "筛选",
        (Action::Command, true) => "命令",
        (Action::Help, true) => "帮助",
        (Action::Up, false) => "up",
        (Action::Down, false) => "down",
        (Action::Top, false) => "top",
        (Action::Bottom, false) => "bottom",
        (Action::PageUp, false) => "page up",
        (Action::PageDown, false) => "page down",
        (Action::NextView, false) => "next screen",
        (Action::ViewQueue, false) => "home",
        (Action::ViewDepartments, false) => "departments",
        (Action::ViewWishes, false) => "wishes",
        (Action::ViewDetail, false) => "case detail",
        (Action::ViewAssessment, false) => "assessment",
        (Action::ViewTrends, false) => "trends",
        (Action::ViewWebhooks, false) => "webhooks",
        (Action::ViewInbox, false) => "inbox",
        (Action::ViewNotices, false) => "notices",
        (Action::New, false) => "new",
        (Action::Delete, false) => "delete",
        (Action::WebhookResume, false) => "resume webhook",
        (Action::WebhookTest, false) => "test webhook",
        (Action::Period, false) => "period",
        (Action::Units, false) => "departments/streets/communities",
        (Action::Export, false) => "export CSV",
        (Action::SortNext, false) => "sort by next column",
        (Action::SortPrev, false) => "sort by previous column",
        (Action::Open, false) => "open",
        (Action::Back, false) => "back",
        (Action::Quit, false) => "quit",
        (Action::Mark, false) => "mark",
        (Action::Filter, false) => "filter",
        (Action::Command, false) => "cmd",
        (Action::Help, false) => "help",
    }
}
