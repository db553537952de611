//! What a department or a community is told, on its status line, when someone else answers
//! one of its cases: its extension granted or denied, an urge, its return upheld or overruled,
//! a fix waiting for its confirmation. A notice replaces an older message about the same
//! thing (a request "waiting" that was answered meanwhile), so nothing stale is left on screen.

use chrono::{DateTime, FixedOffset, Utc};
use shaozi_shared::api::Me;
use shaozi_shared::{EventKind, Scope, Whistle};

use crate::directory::Directory;
use crate::i18n::Lang;
use crate::view::local_time;

/// A notice: its words, and whether it asks for attention (a denial, an urge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The words.
    pub text: String,
    /// A refusal or a push, said as a warning.
    pub warn: bool,
}

/// Where the clock's times are read.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now.
    pub now: DateTime<Utc>,
    /// The city's offset.
    pub tz: FixedOffset,
}

/// The notice an event about `w` makes for the token `me`, if it is about the token's own case
/// and someone else's answer to it.
pub fn of_event(
    lang: Lang,
    me: &Me,
    kind: EventKind,
    w: &Whistle,
    note: Option<&str>,
    dir: &Directory,
    clock: Clock,
) -> Option<Notice> {
    let zh = lang == Lang::Zh;
    let id = w.id;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let with = |zh_text: String, en_text: String| match (note, zh) {
        (Some(n), true) => format!("{zh_text}：{n}"),
        (Some(n), false) => format!("{en_text}: {n}"),
        (None, true) => zh_text,
        (None, false) => en_text,
    };
    match me.scope {
        Scope::Department(mine) => {
            let leads_or_helps = w.department_id == Some(mine) || w.assisting.contains(&mine);
            let (text, warn) = match kind {
                EventKind::WhistleExtensionGranted if leads_or_helps => {
                    let until = local_time(w.resolve_by, clock.now, clock.tz);
                    let text = if zh {
                        format!("{id} 延期已批准：办结时限改为 {until}")
                    } else {
                        format!("{id}: more time granted; resolve by {until}")
                    };
                    (text, false)
                }
                EventKind::WhistleExtensionDenied if leads_or_helps => (
                    with(
                        format!("{id} 延期未获批准，办结时限不变"),
                        format!("{id}: more time denied; the deadline stands"),
                    ),
                    true,
                ),
                EventKind::WhistleUrged if leads_or_helps => (
                    with(
                        format!("{id} 被催办（第 {} 次）", w.urges),
                        format!("{id}: urged (time {})", w.urges),
                    ),
                    true,
                ),
                EventKind::WhistleReturnOverruled if leads_or_helps => (
                    with(
                        format!("{id} 退单未获核准，仍由本部门办理"),
                        format!("{id}: your return was overruled; it stays with you"),
                    ),
                    true,
                ),
                // Called to assist after the dispatch: where and by when to report.
                EventKind::WhistleAssistingChanged
                    if w.call_of(mine).is_some_and(|c| c.reported_at.is_none()) =>
                {
                    let by = w
                        .call_of(mine)
                        .map(|c| local_time(c.report_by, clock.now, clock.tz))
                        .unwrap_or_default();
                    let place = w.muster.as_ref().map(|m| m.place.clone());
                    let text = match (place, zh) {
                        (Some(p), true) => format!("{id} 请本部门协办：{by} 前到 {p} 报到"),
                        (None, true) => format!("{id} 请本部门协办：{by} 前报到"),
                        (Some(p), false) => {
                            format!("{id}: you are called to assist; report at {p} by {by}")
                        }
                        (None, false) => format!("{id}: you are called to assist; report by {by}"),
                    };
                    (with(text.clone(), text), true)
                }
                EventKind::WhistleReturnUpheld if w.returns_upheld.contains(&mine) => {
                    let to = dir.department(w.department_id);
                    let text = if zh {
                        format!("{id} 退单已核准，已改派{to}")
                    } else {
                        format!("{id}: your return was upheld; it went to {to}")
                    };
                    (text, false)
                }
                _ => return None,
            };
            Some(Notice { text, warn })
        }
        Scope::Community(mine) if w.community_id == mine => match kind {
            EventKind::WhistleResolved => Some(Notice {
                text: with(
                    format!("{id} 已办结，待你确认"),
                    format!("{id} is fixed and waits for your confirmation"),
                ),
                warn: false,
            }),
            _ => None,
        },
        _ => None,
    }
}
