//! What a dispatcher types for the middle of a case, read into a step's body: a new deadline
//! and a reason for an extension, a call-back's outcome and what the resident said.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use shaozi_shared::api::{Given, Step, StepBody};

/// A refusal, Chinese and English.
pub type Why = (&'static str, &'static str);

/// The body of `step` from the text typed; `current` is the whistle's resolve deadline, which
/// a relative extension (`+3d`) counts from; a typed date and time is the city's (`tz`), not
/// the machine's the dashboard runs on.
pub fn body(
    step: Step,
    text: &str,
    current: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> Result<StepBody, Why> {
    let text = text.trim();
    let (first, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(a, b)| (a, b.trim()));
    let given = match step {
        Step::RequestExtension => {
            // `2026-12-20 17:30 reason`: the time is the second word.
            let (until, reason) = match rest.split_once(char::is_whitespace) {
                Some((time, why)) if time.contains(':') => (
                    deadline(&format!("{first} {time}"), current, now, tz)?,
                    why.trim(),
                ),
                _ if rest.contains(':') && !rest.contains(char::is_whitespace) => {
                    (deadline(&format!("{first} {rest}"), current, now, tz)?, "")
                }
                _ => (deadline(first, current, now, tz)?, rest),
            };
            if reason.is_empty() {
                return Err(("请写明延期理由", "say why more time is needed"));
            }
            Given::Extension(until, reason.to_string())
        }
        Step::CallBack => {
            let (reached, rating) = match first {
                "n" | "N" | "否" | "未接通" => (false, None),
                "y" | "Y" | "是" | "接通" => (true, None),
                r => match r.parse::<i64>() {
                    Ok(n) if (1..=5).contains(&n) => (true, Some(n)),
                    _ => return Err((
                        "先写 1–5（居民评分）、y（接通）或 n（未接通）",
                        "start with 1–5 (the resident's rating), y (reached) or n (not reached)",
                    )),
                },
            };
            if rest.is_empty() {
                return Err(("请写明回访情况", "say what the resident said"));
            }
            Given::CallBack(reached, rating, rest.to_string())
        }
        // Enter alone grants as asked; `+1d` or a date first grants less, a note may follow.
        Step::ApproveExtension => {
            let shorter = first.starts_with(['+', '＋']) || first.contains('-');
            let (until, note) = if text.is_empty() {
                (None, "")
            } else if shorter {
                let (until, note) = match rest.split_once(char::is_whitespace) {
                    Some((time, note)) if time.contains(':') => (
                        deadline(&format!("{first} {time}"), current, now, tz)?,
                        note.trim(),
                    ),
                    _ if rest.contains(':') && !rest.contains(char::is_whitespace) => {
                        (deadline(&format!("{first} {rest}"), current, now, tz)?, "")
                    }
                    _ => (deadline(first, current, now, tz)?, rest),
                };
                (Some(until), note)
            } else {
                (None, text)
            };
            return Ok(StepBody::ApproveExtension(
                shaozi_shared::api::ApproveBody {
                    until,
                    note: Some(note.to_string()).filter(|n| !n.is_empty()),
                },
            ));
        }
        _ => Given::Text(text.to_string()),
    };
    StepBody::build(step, given).ok_or(("无法执行", "that step cannot be taken here"))
}

/// `+3d`, `+12h` (from the current deadline), `2026-12-20` (17:30 the city's time, the end of
/// a working day) or `2026-12-20 17:30` (the city's time).
fn deadline(
    s: &str,
    current: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> Result<DateTime<Utc>, Why> {
    const BAD: Why = (
        "延期时间写作 +3天、+12小时（或 +3d、+12h）、2026-12-20 或 2026-12-20 17:30",
        "write the new deadline as +3d, +12h, 2026-12-20 or 2026-12-20 17:30",
    );
    // As typed in either language: +3d, +3天, ＋3日, +12h, +12小时.
    if let Some(rel) = s.strip_prefix('+').or_else(|| s.strip_prefix('＋')) {
        let (n, unit) = rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
        let n: i64 = n.parse().map_err(|_| BAD)?;
        let span = match unit.to_lowercase().as_str() {
            "d" | "天" | "日" => Duration::days(n),
            "h" | "小时" | "时" | "个小时" => Duration::hours(n),
            _ => return Err(BAD),
        };
        return Ok(current.unwrap_or(now).max(now) + span);
    }
    let local = if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M") {
        t
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| BAD)?
            .and_hms_opt(17, 30, 0)
            .ok_or(BAD)?
    };
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(BAD)
}

/// Where and by when the called departments report, as typed after the picker:
/// `梓山社区居委会 09:30` (the next 09:30, the city's time), `梓山社区居委会 +2h`,
/// `梓山社区居委会 2026-12-08 09:00`; empty for none (each by the category's deadline).
pub fn muster(
    text: &str,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> Result<Option<shaozi_shared::whistle::Muster>, Why> {
    const BAD: Why = (
        "写报到地点和时间，如：梓山社区居委会 09:30、梓山社区居委会 +2h 或 梓山社区居委会 2026-12-08 09:00；不指定就直接 Enter",
        "write the place and the time, like 梓山社区居委会 09:30, … +2h or … 2026-12-08 09:00; or just Enter for none",
    );
    const PAST: Why = (
        "报到时间已过，请写一个还没到的时间",
        "that time has passed; give one still to come",
    );
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let n = words.len();
    let local_now = now.with_timezone(&tz);
    let at_local = |d: NaiveDate, t: chrono::NaiveTime| {
        tz.from_local_datetime(&d.and_time(t))
            .earliest()
            .map(|x| x.with_timezone(&Utc))
    };
    let (at, place_words) = if n >= 3 && NaiveDate::parse_from_str(words[n - 2], "%Y-%m-%d").is_ok()
    {
        let t = NaiveDateTime::parse_from_str(
            &format!("{} {}", words[n - 2], words[n - 1]),
            "%Y-%m-%d %H:%M",
        )
        .map_err(|_| BAD)?;
        (at_local(t.date(), t.time()).ok_or(BAD)?, &words[..n - 2])
    } else if n >= 2 {
        let last = words[n - 1];
        if let Some(rel) = last.strip_prefix('+').or_else(|| last.strip_prefix('＋')) {
            let (num, unit) =
                rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
            let num: i64 = num.parse().map_err(|_| BAD)?;
            let span = match unit.to_lowercase().as_str() {
                "h" | "小时" | "时" => Duration::hours(num),
                "m" | "分" | "分钟" => Duration::minutes(num),
                "d" | "天" | "日" => Duration::days(num),
                _ => return Err(BAD),
            };
            (now + span, &words[..n - 1])
        } else {
            let t = chrono::NaiveTime::parse_from_str(last, "%H:%M").map_err(|_| BAD)?;
            let today = at_local(local_now.date_naive(), t).ok_or(BAD)?;
            // The next such time: today's if still to come, else tomorrow's.
            let at = if today > now {
                today
            } else {
                at_local(local_now.date_naive() + Duration::days(1), t).ok_or(BAD)?
            };
            (at, &words[..n - 1])
        }
    } else {
        return Err(BAD);
    };
    if at <= now {
        return Err(PAST);
    }
    Ok(Some(shaozi_shared::whistle::Muster {
        place: place_words.join(" "),
        at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shaozi_shared::api::{CallBackBody, ExtensionBody};

    fn beijing() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("an offset")
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[test]
    fn an_extension_reads_a_relative_or_a_local_deadline_then_the_reason() {
        let due = t("2026-12-10T09:30:00Z");
        let now = t("2026-12-05T00:00:00Z");
        assert_eq!(
            body(
                Step::RequestExtension,
                "+3d 管道需要更换",
                Some(due),
                now,
                beijing()
            ),
            Ok(StepBody::RequestExtension(ExtensionBody {
                until: due + Duration::days(3),
                reason: "管道需要更换".into()
            }))
        );
        let abs = body(
            Step::RequestExtension,
            "2026-12-20 17:30 等材料",
            Some(due),
            now,
            beijing(),
        );
        let Ok(StepBody::RequestExtension(b)) = abs else {
            panic!("{abs:?}")
        };
        assert_eq!(b.reason, "等材料");
        // The city's 17:30 (UTC+8), whatever zone the machine is in.
        assert_eq!(b.until, t("2026-12-20T09:30:00Z"));
        // As typed in a Chinese interface (issue 27: +3天 was refused).
        for typed in [
            "+3天 管道需要更换",
            "＋3日 管道需要更换",
            "+3D 管道需要更换",
        ] {
            assert_eq!(
                body(Step::RequestExtension, typed, Some(due), now, beijing()),
                Ok(StepBody::RequestExtension(ExtensionBody {
                    until: due + Duration::days(3),
                    reason: "管道需要更换".into()
                })),
                "{typed}"
            );
        }
        let hours = body(
            Step::RequestExtension,
            "+12小时 等材料",
            Some(due),
            now,
            beijing(),
        );
        assert!(
            matches!(&hours, Ok(StepBody::RequestExtension(b)) if b.until == due + Duration::hours(12)),
            "{hours:?}"
        );
        assert!(body(Step::RequestExtension, "+3d", Some(due), now, beijing()).is_err());
        assert!(body(
            Step::RequestExtension,
            "下周 再说",
            Some(due),
            now,
            beijing()
        )
        .is_err());
    }

    #[test]
    fn a_call_back_starts_with_its_outcome() {
        let now = t("2026-12-05T00:00:00Z");
        assert_eq!(
            body(Step::CallBack, "4 路灯亮了，很满意", None, now, beijing()),
            Ok(StepBody::CallBack(CallBackBody {
                reached: true,
                satisfaction: Some(4),
                note: "路灯亮了，很满意".into()
            }))
        );
        assert_eq!(
            body(Step::CallBack, "n 电话无人接听", None, now, beijing()),
            Ok(StepBody::CallBack(CallBackBody {
                reached: false,
                satisfaction: None,
                note: "电话无人接听".into()
            }))
        );
        assert!(body(Step::CallBack, "7 很好", None, now, beijing()).is_err());
        assert!(body(Step::CallBack, "y", None, now, beijing()).is_err());
    }

    #[test]
    fn a_place_and_time_to_report_reads_as_people_write_it() {
        let now = t("2026-12-07T02:00:00Z"); // 10:00 in the city
        let m = |s: &str| muster(s, now, beijing());
        assert_eq!(m("  "), Ok(None));
        let at = |s: &str| m(s).ok().flatten().map(|x| (x.place, x.at));
        assert_eq!(
            at("梓山社区居委会 11:30"),
            Some(("梓山社区居委会".into(), t("2026-12-07T03:30:00Z")))
        );
        assert_eq!(
            at("梓山社区 居委会 09:00"),
            Some(("梓山社区 居委会".into(), t("2026-12-08T01:00:00Z"))),
            "09:00 has passed today: tomorrow's"
        );
        assert_eq!(
            at("梓山社区居委会 +2h"),
            Some(("梓山社区居委会".into(), t("2026-12-07T04:00:00Z")))
        );
        assert_eq!(
            at("梓山社区居委会 2026-12-08 09:00"),
            Some(("梓山社区居委会".into(), t("2026-12-08T01:00:00Z")))
        );
        assert!(m("09:30").is_err(), "a place is needed");
        assert!(m("梓山社区居委会").is_err(), "a time is needed");
        assert!(m("梓山社区居委会 2026-12-01 09:00").is_err(), "past");
        assert!(m("梓山社区居委会 +2周").is_err());
    }
}
