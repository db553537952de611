//! A morning of history: whistles, wishes and activities at their real times.

use std::collections::HashMap;

use chrono::{DateTime, Duration as Span, Offset, Utc};

use shaozi_shared::api::{NewWhistle, NewWish};
use shaozi_shared::whistle::Muster;
use shaozi_shared::{DepartmentId, Principal, WhistleAction, WhistleId, WishAction, WishId};

use super::names;
use super::*;
use crate::writer::{Command, Reply, WriteError, WriterHandle};

/// How far one whistle gets, decided by its seed: most are done, some stall.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Fate {
    New,
    Dispatched,
    Acknowledged,
    Resolved,
    Closed,
    Reopened,
    Rejected,
}

pub(super) fn step_after(seed: u64, base: i64) -> Span {
    Span::seconds(base / 3 + (seed % (base.max(1) as u64 * 2)) as i64)
}

/// One planned change of the backfill, by the index of the record it is about.
enum Step {
    File(usize, NewWhistle, Principal),
    Act(usize, WhistleAction, Principal),
    Wish(usize, NewWish),
    WishAct(usize, WishAction, Principal),
}

/// Backfills the past `history_hours`: whistles filed through the morning at their real
/// times, each taken as far as its fate says, all in time order so the log reads naturally.
pub(super) async fn backfill(
    city: &City,
    w: &WriterHandle,
    cfg: &DemoConfig,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let start = now - Span::hours(cfg.history_hours);
    let span_s = (cfg.history_hours * 3600).max(1) as u64;
    let mut plan: Vec<(DateTime<Utc>, Step)> = Vec::new();
    let mut load: HashMap<String, i64> = HashMap::new();
    for i in 0..cfg.history_whistles {
        let seed = mix(i as u64 + 77);
        let filed = start + Span::seconds((seed % span_s) as i64);
        let mut nw = city.whistle(mix(seed));
        let filer = city.filer(&mut nw, seed);
        let age = now - filed;
        let street = city.street_of(nw.community_id);
        let community = community(city, nw.community_id);
        let community_id = nw.community_id;
        // Older whistles got further; the newest are still waiting.
        let fate = match (seed >> 5) % 100 {
            _ if age < Span::minutes(10) => Fate::New,
            0..=4 => Fate::Rejected,
            5..=11 => Fate::New,
            12..=24 => Fate::Dispatched,
            25..=44 => Fate::Acknowledged,
            45..=59 => Fate::Resolved,
            60..=64 => Fate::Reopened,
            _ => Fate::Closed,
        };
        let category = nw.category.clone();
        let (urgency, address) = (nw.urgency, nw.address.clone());
        plan.push((filed, Step::File(i, nw, filer)));
        if fate == Fate::Rejected {
            let t = filed + step_after(seed >> 3, 600);
            let reason = "经核实，该问题已由物业自行处理，不属于部门职责".to_string();
            plan.push((
                t.min(now),
                Step::Act(
                    i,
                    WhistleAction::Reject {
                        reason,
                        duplicate_of: None,
                    },
                    city.dispatcher(street),
                ),
            ));
            continue;
        }
        if fate == Fate::New {
            continue;
        }
        let mut dept = city.best_department(&category, &load, seed);
        *load.entry(dept.to_string()).or_default() += 1;
        let t = filed + step_after(seed >> 7, 900);
        let returned = (seed >> 23) % 100;
        // A quarter are joint calls (联合报到): one or two more departments called to the
        // community's office within two hours, each to report itself.
        let helpers: Vec<DepartmentId> = if returned >= 10 && (seed >> 31) % 100 < 25 {
            city.departments
                .iter()
                .map(|d| d.0)
                .filter(|d| *d != dept)
                .filter(|d| mix(d.0 ^ seed).is_multiple_of(2))
                .take(1 + ((seed >> 33) % 2) as usize)
                .collect()
        } else {
            Vec::new()
        };
        let muster = (!helpers.is_empty()).then(|| Muster {
            place: format!("{}居委会", city.community_name(community_id)),
            at: t + Span::hours(2),
        });
        let mut steps = Vec::new();
        // A few were filed wrong and corrected first (改类): the danger was worse than said,
        // or the address was only a road's name.
        match (seed >> 49) % 25 {
            0 if urgency == shaozi_shared::Urgency::Normal => steps.push((
                WhistleAction::Reclassify {
                    category: None,
                    urgency: Some(shaozi_shared::Urgency::Urgent),
                    address: None,
                    reason: "现场核实存在安全隐患，调整为紧急".into(),
                },
                city.dispatcher(street),
            )),
            1 => steps.push((
                WhistleAction::Reclassify {
                    category: None,
                    urgency: None,
                    address: address.map(|a| format!("{a}（近路口）")),
                    reason: "与居民电话核实了具体位置".into(),
                },
                city.dispatcher(street),
            )),
            _ => {}
        }
        steps.push((
            WhistleAction::Dispatch {
                department_id: dept,
                assisting: helpers.clone(),
                note: Some("请立即派专干到现场报到".into()),
                report: muster,
            },
            city.dispatcher(street),
        ));
        // Coordination that once went to WeChat is on the record: a word for staff, and for
        // the residents what they should know.
        if (seed >> 51) % 100 < 20 {
            steps.push((
                WhistleAction::Note {
                    text: pick(names::INTERNAL_NOTES, seed >> 6).into(),
                    public: false,
                },
                city.dispatcher(street),
            ));
        }
        // A few were misrouted or thought so: returned, then overruled or sent on; a few of
        // the newest still wait for the dispatcher's answer.
        if returned < 10 {
            steps.push((
                WhistleAction::Return {
                    reason: pick(names::RETURN_REASONS, seed >> 2).into(),
                },
                city.department(Some(dept)),
            ));
            if fate == Fate::Dispatched && returned < 4 {
                plan_steps(&mut plan, i, steps, t, now, seed);
                continue;
            }
            if returned.is_multiple_of(2) {
                steps.push((
                    WhistleAction::Overrule {
                        reason: "经核实属于本单位职责，请继续办理".into(),
                    },
                    city.dispatcher(street),
                ));
            } else if let Some(other) = city
                .departments
                .iter()
                .map(|d| d.0)
                .find(|d| *d != dept && mix(d.0 ^ seed).is_multiple_of(3))
            {
                steps.push((
                    WhistleAction::Dispatch {
                        department_id: other,
                        assisting: vec![],
                        note: Some("退单属实，改派".into()),
                        report: None,
                    },
                    city.dispatcher(street),
                ));
                dept = other;
            }
        }
        if fate >= Fate::Acknowledged {
            steps.push((
                WhistleAction::Acknowledge {
                    staff: vec![person(seed), person(seed >> 11), person(seed >> 19)],
                    note: Some("专干已到现场".into()),
                },
                city.department(Some(dept)),
            ));
            if (seed >> 53) % 100 < 25 {
                steps.push((
                    WhistleAction::Note {
                        text: pick(names::PUBLIC_NOTES, seed >> 10).into(),
                        public: true,
                    },
                    city.department(Some(dept)),
                ));
            }
        }
        // Most assisting departments come too; one in five does not (the clock finds it late).
        let came: Vec<DepartmentId> = helpers
            .iter()
            .enumerate()
            .filter(|(k, _)| fate >= Fate::Acknowledged && !(seed >> (40 + k)).is_multiple_of(5))
            .map(|(_, h)| *h)
            .collect();
        for (k, h) in came.iter().enumerate() {
            steps.push((
                WhistleAction::ReportAssisting {
                    department: *h,
                    staff: vec![person(seed >> (3 + k)), person(seed >> (13 + k))],
                    note: None,
                },
                city.department(Some(*h)),
            ));
            if fate >= Fate::Resolved {
                steps.push((
                    WhistleAction::PartDone {
                        department: Some(*h),
                        note: "本部门负责部分已完成".into(),
                    },
                    city.department(Some(*h)),
                ));
            }
        }
        let parts_open = came.len() < helpers.len();
        // Some of those still at work asked for more time.
        if fate == Fate::Acknowledged && (seed >> 27) % 100 < 15 {
            steps.push((
                WhistleAction::RequestExtension {
                    until: filed + Span::days(9),
                    reason: pick(names::EXTENSION_REASONS, seed >> 4).into(),
                },
                city.department(Some(dept)),
            ));
        }
        if fate >= Fate::Resolved {
            steps.push((
                WhistleAction::Resolve {
                    reply: pick(names::REPLIES, seed >> 9).into(),
                    note: parts_open.then(|| "协办单位未到场，本单位已独立处置完毕".to_string()),
                },
                city.department(Some(dept)),
            ));
        }
        if fate == Fate::Closed {
            steps.push((
                WhistleAction::Close {
                    satisfaction: rating(seed),
                    note: None,
                },
                community.clone(),
            ));
        }
        if fate == Fate::Reopened {
            steps.push((
                WhistleAction::Reopen {
                    reason: pick(names::REOPEN_REASONS, seed >> 3).into(),
                },
                community.clone(),
            ));
        }
        plan_steps(&mut plan, i, steps, t, now, seed);
    }
    for i in 0..cfg.history_whistles / 2 {
        let seed = mix(i as u64 + 9001);
        let t = start + Span::seconds((seed % span_s) as i64);
        plan.push((t, Step::Wish(i, wish_for(city, seed))));
        // Most older wishes have been claimed, and most of those fulfilled.
        let claimed = t + step_after(seed >> 4, 3600);
        if claimed < now && (seed >> 12) % 10 < 8 {
            let (claim, who) = claim_for(city, seed);
            plan.push((claimed, Step::WishAct(i, claim, who.clone())));
            let done = claimed + step_after(seed >> 8, 5400);
            if done < now && (seed >> 16) % 10 < 8 {
                let note = Some("心愿已送到居民手中".to_string());
                plan.push((done, Step::WishAct(i, WishAction::Complete { note }, who)));
            }
        }
    }
    plan.sort_by_key(|(t, _)| *t);
    record_activities(city, w, cfg, now).await?;
    let mut ids: HashMap<usize, WhistleId> = HashMap::new();
    let mut wish_ids: HashMap<usize, WishId> = HashMap::new();
    for (t, step) in plan {
        match step {
            Step::File(i, nw, who) => {
                if let Reply::Whistle(wh) =
                    w.submit_at(Command::FileWhistle(nw), who, Some(t)).await?
                {
                    ids.insert(i, wh.id);
                }
            }
            Step::Act(i, a, who) => {
                if let Some(id) = ids.get(&i) {
                    // A refusal here only means the plan raced a deadline; skip the step.
                    match w
                        .submit_at(Command::Whistle(*id, a, None), who, Some(t))
                        .await
                    {
                        Ok(_) | Err(WriteError::Rule(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Step::Wish(i, nw) => {
                let who = community(city, nw.community_id);
                if let Reply::Wish(wish) = w.submit_at(Command::FileWish(nw), who, Some(t)).await? {
                    wish_ids.insert(i, wish.id);
                }
            }
            Step::WishAct(i, a, who) => {
                if let Some(id) = wish_ids.get(&i) {
                    match w.submit_at(Command::Wish(*id, a, None), who, Some(t)).await {
                        Ok(_) | Err(WriteError::Rule(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(())
}

/// Who claims a wish: a volunteer, or a department's party member.
pub(super) fn claim_for(city: &City, seed: u64) -> (WishAction, Principal) {
    let claim = if seed.is_multiple_of(3) {
        WishAction::Claim {
            department_id: None,
            claimer: Some(pick(names::VOLUNTEERS, seed).into()),
        }
    } else {
        let d = &city.departments[(seed % city.departments.len() as u64) as usize];
        WishAction::Claim {
            department_id: Some(d.0),
            claimer: Some(format!("{}党员 {}", d.1, person(seed))),
        }
    };
    let who = match &claim {
        WishAction::Claim { department_id, .. } => wish_actor(city, *department_id),
        _ => office(),
    };
    (claim, who)
}

/// The morning's activities: clean-ups, civility persuasion, the "five smalls" and practice
/// events, each by a department in a community, as the report counts them.
pub(super) async fn record_activities(
    city: &City,
    w: &WriterHandle,
    cfg: &DemoConfig,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    use shaozi_shared::api::{ActivityKind, NewActivity};
    const KINDS: &[(ActivityKind, &str)] = &[
        (ActivityKind::Cleanup, "组织党员干部清理背街小巷垃圾"),
        (ActivityKind::Persuasion, "路口文明劝导，劝阻闯红灯"),
        (ActivityKind::FiveSmalls, "办小事、解小忧：为居民修理水龙头"),
        (ActivityKind::Practice, "新时代文明实践站宣讲"),
    ];
    let today = now
        .with_timezone(
            &chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Utc.fix()),
        )
        .date_naive();
    for i in 0..cfg.history_whistles / 12 {
        let seed = mix(i as u64 + 4242);
        let d = &city.departments[(seed % city.departments.len() as u64) as usize];
        let (cid, _, _) = city.communities[((seed >> 9) % city.communities.len() as u64) as usize];
        let (kind, note) = pick(KINDS, seed >> 17);
        let b = NewActivity {
            department_id: d.0,
            community_id: cid,
            kind,
            date: today,
            participants: (seed >> 23) as i64 % 30 + 5,
            note: Some(note.into()),
        };
        match w
            .submit(Command::RecordActivity(b), city.department(Some(d.0)))
            .await
        {
            Ok(_) | Err(WriteError::Rule(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(super) fn rating(seed: u64) -> i64 {
    match (seed >> 15) % 100 {
        0..=49 => 5,
        50..=79 => 4,
        80..=91 => 3,
        92..=96 => 2,
        _ => 1,
    }
}

pub(super) fn wish_for(city: &City, seed: u64) -> NewWish {
    let (cid, _, _) = city.communities[(seed % city.communities.len() as u64) as usize];
    let (title, yuan) = pick(names::WISHES, seed >> 9);
    NewWish {
        community_id: cid,
        title: title.into(),
        description: None,
        value_fen: yuan * 100,
    }
}

/// Plans a whistle's steps from `t`, each a while after the one before, up to `now`.
fn plan_steps(
    plan: &mut Vec<(DateTime<Utc>, Step)>,
    i: usize,
    steps: Vec<(WhistleAction, Principal)>,
    mut t: DateTime<Utc>,
    now: DateTime<Utc>,
    seed: u64,
) {
    for (k, (a, who)) in steps.into_iter().enumerate() {
        if k > 0 {
            t += step_after(seed >> ((k * 4) % 60), 1800);
        }
        if t >= now {
            break;
        }
        plan.push((t, Step::Act(i, a, who)));
    }
}
