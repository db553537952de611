//! An event in words for a phone, Chinese first: what happened, the whistle's id and title,
//! its community and department, and the deadline or how late it is, e.g.
//! `【超时】W1140 危房墙体开裂 · 梅林社区 · 市消防救援支队 · 超时 2小时07分`; and the bodies
//! the WeCom and DingTalk group robots take (`msgtype` markdown).

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{json, Value};

use shaozi_shared::{CommunityId, DepartmentId, Event, EventKind, Whistle, WhistleStatus};

/// The names a message shows instead of ids.
pub trait Names {
    /// A community's name.
    fn community(&self, id: CommunityId) -> Option<String>;
    /// A department's name.
    fn department(&self, id: DepartmentId) -> Option<String>;
}

/// An event worded for a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneText {
    /// `【超时】W1140 危房墙体开裂`.
    pub title: String,
    /// `梅林社区 · 市消防救援支队 · 超时 2小时07分`.
    pub detail: String,
    /// What the person wrote (a reason, a reply), if anything.
    pub note: Option<String>,
}

impl PhoneText {
    /// The whole message on one line, as a chat list shows it.
    pub fn line(&self) -> String {
        format!("{} · {}", self.title, self.detail)
    }

    /// The markdown both robots render. Everything in it that people typed (titles, names,
    /// notes) is [`inert`], and a note is quoted line by line, so no line of it escapes the
    /// quote.
    fn markdown(&self) -> String {
        let mut md = format!("**{}**\n\n{}", inert(&self.title), inert(&self.detail));
        if let Some(n) = &self.note {
            md.push('\n');
            for line in n.lines() {
                md.push_str("\n> ");
                md.push_str(&inert(line));
            }
        }
        md
    }

    /// A 企业微信 group robot's message.
    pub fn wecom(&self) -> Value {
        json!({"msgtype": "markdown", "markdown": {"content": self.markdown()}})
    }

    /// A 钉钉 custom robot's message (its title is what the notification shows).
    pub fn dingtalk(&self) -> Value {
        json!({"msgtype": "markdown", "markdown": {"title": inert(&self.line()), "text": self.markdown()}})
    }
}

/// Text as typed, made inert for the robots' markdown (WeCom's and DingTalk's dialects, which
/// have no escape both honour): each character that could start a link, an image, a mention,
/// a colour tag, emphasis, code, a table or a heading is shown by its full-width twin, which
/// reads the same to a person and means nothing to the renderer; `://` loses its power to
/// make a link the same way, and so does a list marker at the start of a line.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let twin = match c {
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '*' => '＊',
            '_' => '＿',
            '`' => '｀',
            '~' => '～',
            '#' => '＃',
            '@' => '＠',
            '|' => '｜',
            '!' => '！',
            '&' => '＆',
            '\\' => '＼',
            '=' if line_start => '＝',
            '-' | '+' if line_start => {
                if c == '-' {
                    '－'
                } else {
                    '＋'
                }
            }
            ':' if chars.peek() == Some(&'/') => '：',
            '.' if line_start_digits(&out) => '．',
            other => other,
        };
        out.push(twin);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out
}

/// Whether what was written since the last line break is only digits (an ordered list's
/// number, when a `.` follows).
fn line_start_digits(out: &str) -> bool {
    let line = out.rsplit('\n').next().unwrap_or(out).trim_start();
    !line.is_empty() && line.chars().all(|c| c.is_ascii_digit())
}

/// How long, as a phone reads it: `45分`, `2小时07分`, `3天4小时`.
pub fn span_zh(d: Duration) -> String {
    let m = d.num_minutes().max(0);
    let (days, hours, mins) = (m / 1440, m % 1440 / 60, m % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}分"),
        (0, h) => format!("{h}小时{mins:02}分"),
        (d, 0) => format!("{d}天"),
        (d, h) => format!("{d}天{h}小时"),
    }
}

/// The longest a note runs in a message; the rest is in the dashboard.
const NOTE_CHARS: usize = 120;

/// Words an event about a whistle for a phone; `None` for what the robots are not told (the
/// directory, tokens). `now` is when it is sent (lateness grows while a receiver is down);
/// `offset` is the city's, for deadlines.
pub fn phone_text(
    e: &Event,
    now: DateTime<Utc>,
    offset: FixedOffset,
    names: &dyn Names,
) -> Option<PhoneText> {
    use EventKind::*;
    if !e.kind.about_whistle() {
        return None;
    }
    let w: Whistle = serde_json::from_value(e.record.clone()).ok()?;
    let local = |t: DateTime<Utc>| t.with_timezone(&offset).format("%m-%d %H:%M").to_string();
    let stage_due = if w.status.is_unanswered() {
        w.respond_by
    } else {
        w.resolve_by
    };
    // The departments an event is about when it is not the lead: the assisting ones that
    // reported, finished their part, or missed their deadline at this moment.
    let assisting = |pick: &dyn Fn(&shaozi_shared::whistle::Call) -> bool| -> Vec<DepartmentId> {
        w.calls
            .iter()
            .filter(|c| c.role == shaozi_shared::whistle::CallRole::Assisting && pick(c))
            .map(|c| c.department_id)
            .collect()
    };
    let named: Vec<DepartmentId> = match e.kind {
        WhistleAssistReported => assisting(&|c| c.reported_at == Some(e.at)),
        WhistleAssistDone => assisting(&|c| c.done_at == Some(e.at)),
        // The clock's overdue event, and the escalation it brings, name who missed.
        WhistleOverdue | WhistleEscalated if e.actor.role == "system" => {
            assisting(&|c| c.missed_at == Some(e.at))
        }
        _ => Vec::new(),
    };
    let (tag, when) = match e.kind {
        WhistleAssistReported => {
            let (done, all) = w.reported();
            ("协办报到", format!("已报到 {done}/{all}"))
        }
        WhistleAssistDone => ("协办完成", String::new()),
        WhistleNoted => ("进展", String::new()),
        WhistleAssistingChanged => {
            let each: Vec<String> = w
                .assisting
                .iter()
                .map(|d| names.department(*d).unwrap_or_else(|| d.to_string()))
                .collect();
            (
                "调整协办",
                if each.is_empty() {
                    "不再有协办单位".to_string()
                } else {
                    format!("协办：{}", each.join("、"))
                },
            )
        }
        WhistleOverdue if !named.is_empty() => {
            let due = named
                .first()
                .and_then(|d| w.call_of(*d))
                .map_or(w.respond_by, |c| c.report_by);
            ("超时", format!("未按时报到（时限 {}）", local(due)))
        }
        WhistleEscalated if !named.is_empty() => (
            "升级",
            format!("{} 级（协办单位未按时报到）", w.escalation_level),
        ),
        WhistleCreated => ("新哨", format!("报到时限 {}", local(w.respond_by))),
        WhistleDispatched => ("派单", format!("报到时限 {}", local(w.respond_by))),
        WhistleReassigned => ("改派", format!("报到时限 {}", local(w.respond_by))),
        WhistleReturnUpheld => ("退单核准", "已改派".to_string()),
        WhistleAcknowledged => ("已报到", format!("办结时限 {}", local(w.resolve_by))),
        WhistleResolved => ("已办结", "待社区确认".to_string()),
        WhistleClosed => (
            "已关闭",
            w.satisfaction
                .map(|s| format!("满意度 {s} 分"))
                .unwrap_or_default(),
        ),
        WhistleAutoClosed => ("自动办结", "社区超期未确认".to_string()),
        WhistleReopened => ("重办", format!("办结时限 {}", local(w.resolve_by))),
        WhistleRejected => ("驳回", String::new()),
        WhistleEscalated => ("升级", format!("{} 级", w.escalation_level)),
        WhistleOverdue => ("超时", format!("超时 {}", span_zh(now - stage_due))),
        WhistleDueSoon => (
            "即将到期",
            format!(
                "剩余 {}（{} 截止）",
                span_zh(stage_due - now),
                local(stage_due)
            ),
        ),
        WhistleReturned => ("退单", "待调度员改派或驳回".to_string()),
        WhistleReturnOverruled => ("驳回退单", format!("报到时限 {}", local(w.respond_by))),
        WhistleExtensionRequested => (
            "申请延期",
            w.pending_extension
                .as_ref()
                .map(|x| format!("申请延至 {}", local(x.until)))
                .unwrap_or_default(),
        ),
        WhistleExtensionGranted => ("批准延期", format!("办结时限延至 {}", local(w.resolve_by))),
        WhistleExtensionDenied => ("不准延期", format!("办结时限 {}", local(w.resolve_by))),
        WhistleUrged => ("催办", format!("第 {} 次催办", w.urges)),
        WhistleCalledBack => (
            "回访",
            match w.callbacks.last() {
                Some(c) if !c.reached => "未接通".to_string(),
                Some(c) => c
                    .satisfaction
                    .map(|s| format!("居民评价 {s} 分"))
                    .unwrap_or_else(|| "已接通".to_string()),
                None => String::new(),
            },
        ),
        WhistleDuplicateLinked => ("合并重复件", String::new()),
        _ => return None,
    };
    let mut parts: Vec<String> = Vec::new();
    parts.push(
        names
            .community(w.community_id)
            .unwrap_or_else(|| w.community_id.to_string()),
    );
    if !named.is_empty() {
        let each: Vec<String> = named
            .iter()
            .map(|d| names.department(*d).unwrap_or_else(|| d.to_string()))
            .collect();
        parts.push(each.join("、"));
    } else if let Some(d) = w.department_id {
        parts.push(names.department(d).unwrap_or_else(|| d.to_string()));
    }
    if !when.is_empty() {
        parts.push(when);
    }
    // The clock's notes are the server's English, and so is the deadline an extension's note
    // starts with ("until … UTC: why") and an upheld return's: their words are above.
    let note = match e.kind {
        WhistleReturnUpheld => None,
        WhistleExtensionRequested | WhistleExtensionGranted => e
            .note
            .as_deref()
            .and_then(|n| n.split_once(": ").map(|(_, why)| why)),
        _ => e.note.as_deref(),
    };
    let note = note
        .filter(|n| e.actor.role != "system" && !n.trim().is_empty())
        .map(|n| {
            let mut s: String = n.chars().take(NOTE_CHARS).collect();
            if n.chars().count() > NOTE_CHARS {
                s.push('…');
            }
            s
        });
    // A rejected whistle is nobody's to act on: say so rather than a deadline.
    if w.status == WhistleStatus::Rejected && parts.len() < 3 {
        parts.push("不予受理".into());
    }
    Some(PhoneText {
        title: format!("【{tag}】{} {}", w.id, w.title),
        detail: parts.join(" · "),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_typed_is_inert_in_a_robots_markdown() {
        let attack = "[积水已处理，点此查看](http://phish.example/login) <font color=\"warning\">@all</font>";
        let safe = inert(attack);
        for syntax in ["[", "](", "<font", "@all", "://"] {
            assert!(!safe.contains(syntax), "{syntax} in {safe}");
        }
        assert_eq!(
            safe,
            "［积水已处理，点此查看］（http：//phish.example/login） ＜font color=\"warning\"＞＠all＜/font＞"
        );
        assert_eq!(inert("# 标题"), "＃ 标题");
        assert_eq!(inert("- 一项"), "－ 一项");
        assert_eq!(inert("1. 第一"), "1． 第一");
        assert_eq!(inert("甲\n12. 乙"), "甲\n12． 乙");
        assert_eq!(inert("朝阳路3-5号 1.5米"), "朝阳路3-5号 1.5米");
        assert_eq!(
            inert("**粗** `码` ~~删~~ |表|"),
            "＊＊粗＊＊ ｀码｀ ～～删～～ ｜表｜"
        );
        let text = PhoneText {
            title: "【新哨】W1 ![图](http://x/y.png)".into(),
            detail: "梅林社区".into(),
            note: Some("第一行\n# 第二行是标题？\n<@zhangsan> 看这里".into()),
        };
        let md = text.markdown();
        assert!(
            md.ends_with("\n> 第一行\n> ＃ 第二行是标题？\n> ＜＠zhangsan＞ 看这里"),
            "{md}"
        );
        assert!(!md.contains("!["), "{md}");
    }

    #[test]
    fn spans_read_as_a_phone_reads_them() {
        assert_eq!(span_zh(Duration::minutes(45)), "45分");
        assert_eq!(span_zh(Duration::minutes(127)), "2小时07分");
        assert_eq!(span_zh(Duration::minutes(3 * 1440 + 250)), "3天4小时");
        assert_eq!(span_zh(Duration::days(2)), "2天");
        assert_eq!(span_zh(Duration::minutes(-5)), "0分");
    }
}
