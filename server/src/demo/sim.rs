//! The live simulation: communities file, dispatchers dispatch, departments answer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use shaozi_shared::{
    Principal, Whistle, WhistleAction, WhistleId, WhistleStatus, WishAction, WishId, WishStatus,
};

use super::history::{claim_for, rating, step_after, wish_for};
use super::names;
use super::*;
use crate::storage::Reads;
use crate::storage::{WhistleQuery, WishQuery};
use crate::writer::{Command, WriteError, WriterHandle};

pub(super) struct Sim {
    pub(super) city: City,
    pub(super) cfg: DemoConfig,
    pub(super) whistle_credit: f64,
    pub(super) wish_credit: f64,
    pub(super) counter: u64,
}

impl Sim {
    /// Whether the simulated actor for `id` has got round to step `stage` by `now`.
    pub(super) fn due(
        &self,
        id: u64,
        stage: u64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        now - since >= step_after(mix(id * 31 + stage), self.cfg.step_seconds)
    }

    pub(super) async fn tick(
        &mut self,
        store: &dyn Reads,
        w: &WriterHandle,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        self.whistle_credit += self.cfg.whistles_per_minute / 60.0;
        while self.whistle_credit >= 1.0 {
            self.whistle_credit -= 1.0;
            self.counter += 1;
            let seed = mix(self.counter);
            let mut nw = self.city.whistle(seed);
            // The hotline, the window and the street's own whistles come in too.
            let who = self.city.filer(&mut nw, seed);
            w.submit(Command::FileWhistle(nw), who).await?;
        }
        self.wish_credit += self.cfg.wishes_per_minute / 60.0;
        while self.wish_credit >= 1.0 {
            self.wish_credit -= 1.0;
            self.counter += 1;
            let nw = wish_for(&self.city, mix(self.counter ^ 0xabcdef));
            let who = community(&self.city, nw.community_id);
            w.submit(Command::FileWish(nw), who).await?;
        }
        let load: HashMap<String, i64> = store
            .stats_for(&shaozi_shared::Principal::system())
            .map(|s| {
                s.departments
                    .into_iter()
                    .map(|d| (d.id, d.dispatched + d.acknowledged))
                    .collect()
            })
            .unwrap_or_default();
        for wh in list(
            store,
            &[
                WhistleStatus::New,
                WhistleStatus::Dispatched,
                WhistleStatus::Returned,
            ],
            300,
        ) {
            let seed = mix(wh.id.0);
            // The dispatcher presses a department that let a case go overdue, once.
            if wh.overdue && wh.urges == 0 && wh.status == WhistleStatus::Dispatched {
                let a = WhistleAction::Urge {
                    note: "已超时，请立即派人到场".into(),
                };
                self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                    .await?;
                continue;
            }
            // Some whistles stall so that the queue always shows what overdue looks like.
            if seed.is_multiple_of(10) {
                continue;
            }
            match wh.status {
                // One in twenty-five was filed as less urgent than it is: corrected first.
                WhistleStatus::New
                    if wh.urgency == shaozi_shared::Urgency::Normal
                        && (seed >> 49).is_multiple_of(25)
                        && self.due(wh.id.0, 9, wh.created_at, now) =>
                {
                    let a = WhistleAction::Reclassify {
                        category: None,
                        urgency: Some(shaozi_shared::Urgency::Urgent),
                        address: None,
                        reason: "现场核实存在安全隐患，调整为紧急".into(),
                    };
                    self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                        .await?;
                }
                WhistleStatus::New if self.due(wh.id.0, 1, wh.created_at, now) => {
                    let dept = self.city.best_department(&wh.category, &load, seed);
                    // One in four is a joint call: another department to the community's
                    // office within two hours.
                    let helper = self
                        .city
                        .departments
                        .iter()
                        .map(|d| d.0)
                        .find(|d| *d != dept && mix(d.0 ^ seed).is_multiple_of(2))
                        .filter(|_| (seed >> 21).is_multiple_of(4));
                    let a = WhistleAction::Dispatch {
                        department_id: dept,
                        assisting: helper.into_iter().collect(),
                        note: Some("请立即派专干到现场报到".into()),
                        report: helper.map(|_| shaozi_shared::whistle::Muster {
                            place: format!("{}居委会", self.city.community_name(wh.community_id)),
                            at: now + chrono::Duration::hours(2),
                        }),
                    };
                    self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                        .await?;
                    // A word for the department that only staff read.
                    if (seed >> 51) % 100 < 20 {
                        let note = WhistleAction::Note {
                            text: pick(names::INTERNAL_NOTES, seed >> 6).into(),
                            public: false,
                        };
                        self.act(w, wh.id, note, self.city.dispatcher(wh.street_id))
                            .await?;
                    }
                }
                WhistleStatus::Dispatched
                    if self.due(wh.id.0, 2, wh.dispatched_at.unwrap_or(wh.created_at), now) =>
                {
                    // A few are not the department's: it sends them back (once per case).
                    let a = if (seed >> 5) % 100 < 6
                        && wh.returns_upheld.is_empty()
                        && wh.returns_overruled == 0
                    {
                        WhistleAction::Return {
                            reason: pick(names::RETURN_REASONS, seed >> 3).into(),
                        }
                    } else {
                        WhistleAction::Acknowledge {
                            staff: vec![person(seed), person(seed >> 11)],
                            note: Some("专干已到现场".into()),
                        }
                    };
                    let reported = matches!(a, WhistleAction::Acknowledge { .. });
                    self.act(w, wh.id, a, self.city.department(wh.department_id))
                        .await?;
                    // On site, a quarter tell the residents what to expect.
                    if reported && (seed >> 53) % 100 < 25 {
                        let note = WhistleAction::Note {
                            text: pick(names::PUBLIC_NOTES, seed >> 10).into(),
                            public: true,
                        };
                        self.act(w, wh.id, note, self.city.department(wh.department_id))
                            .await?;
                    }
                }
                WhistleStatus::Returned => {
                    let since = wh.pending_return.as_ref().map_or(wh.updated_at, |r| r.at);
                    if !self.due(wh.id.0, 7, since, now) {
                        continue;
                    }
                    // Half are upheld (sent to another department), half overruled.
                    let others: Vec<_> = self
                        .city
                        .departments
                        .iter()
                        .map(|d| d.0)
                        .filter(|d| Some(*d) != wh.department_id)
                        .collect();
                    let other =
                        (!others.is_empty()).then(|| others[(seed >> 9) as usize % others.len()]);
                    let a = match other {
                        Some(d) if (seed >> 7).is_multiple_of(2) => WhistleAction::Dispatch {
                            department_id: d,
                            assisting: vec![],
                            note: Some("退单属实，改派".into()),
                            report: None,
                        },
                        _ => WhistleAction::Overrule {
                            reason: "经核实属于本单位职责，请继续办理".into(),
                        },
                    };
                    self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                        .await?;
                }
                _ => {}
            }
        }
        for wh in list(
            store,
            &[WhistleStatus::Acknowledged, WhistleStatus::Resolved],
            300,
        ) {
            let seed = mix(wh.id.0);
            // Assisting departments come (most of them, in their own time) and finish their
            // part before the lead resolves.
            if self.assist(w, &wh, seed, now).await? {
                continue;
            }
            match wh.status {
                WhistleStatus::Acknowledged
                    if self.due(wh.id.0, 3, wh.acknowledged_at.unwrap_or(wh.updated_at), now) =>
                {
                    let department = self.city.department(wh.department_id);
                    if let Some(x) = &wh.pending_extension {
                        let a = if seed.is_multiple_of(4) {
                            WhistleAction::DenyExtension {
                                reason: "请先临时处置，确保安全".into(),
                            }
                        } else {
                            WhistleAction::ApproveExtension {
                                until: None,
                                note: None,
                            }
                        };
                        if self.due(wh.id.0, 8, x.at, now) {
                            self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                                .await?;
                        }
                        continue;
                    }
                    // A few need more time, asked once before the deadline.
                    let a = if (seed >> 13) % 100 < 5
                        && wh.extensions_granted + wh.extensions_denied == 0
                        && now < wh.resolve_by
                    {
                        WhistleAction::RequestExtension {
                            until: wh.resolve_by + chrono::Duration::days(2),
                            reason: pick(names::EXTENSION_REASONS, seed >> 4).into(),
                        }
                    } else {
                        WhistleAction::Resolve {
                            reply: pick(names::REPLIES, seed >> 9).into(),
                            note: (!shaozi_shared::whistle::parts_open(&wh).is_empty())
                                .then(|| "协办单位未到场，本单位已独立处置完毕".to_string()),
                        }
                    };
                    self.act(w, wh.id, a, department).await?;
                }
                WhistleStatus::Resolved
                    if self.due(
                        wh.id.0 + u64::from(wh.reopened),
                        4,
                        wh.resolved_at.unwrap_or(wh.updated_at),
                        now,
                    ) =>
                {
                    // The dispatcher calls a third of the residents back before the community
                    // confirms.
                    if seed.is_multiple_of(3) && wh.callbacks.is_empty() {
                        let reached = !(seed >> 3).is_multiple_of(5);
                        let a = WhistleAction::CallBack {
                            reached,
                            satisfaction: reached.then(|| rating(seed >> 2)),
                            note: pick(names::CALLBACK_NOTES, seed >> 6).into(),
                        };
                        self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                            .await?;
                        continue;
                    }
                    let who = community(&self.city, wh.community_id);
                    let a = if (seed >> 21) % 100 < 8 && wh.reopened == 0 {
                        WhistleAction::Reopen {
                            reason: pick(names::REOPEN_REASONS, seed).into(),
                        }
                    } else {
                        WhistleAction::Close {
                            satisfaction: rating(seed),
                            note: None,
                        }
                    };
                    self.act(w, wh.id, a, who).await?;
                }
                _ => {}
            }
        }
        self.move_wishes(store, w, now).await
    }

    /// An assisting department's next move on a joint case, if one is due: report for duty
    /// (one in five never does: the clock finds it late), then mark its part done. True when
    /// it acted.
    async fn assist(
        &self,
        w: &WriterHandle,
        wh: &shaozi_shared::Whistle,
        seed: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, WriteError> {
        use shaozi_shared::whistle::CallRole;
        let since = wh.dispatched_at.unwrap_or(wh.created_at);
        for (k, c) in wh.calls.iter().enumerate() {
            if c.role != CallRole::Assisting {
                continue;
            }
            let step = 9 + k as u64;
            let a = match (c.reported_at, c.done_at) {
                (None, _) if c.missed_at.is_none() && !(seed >> (k + 30)).is_multiple_of(5) => {
                    WhistleAction::ReportAssisting {
                        department: c.department_id,
                        staff: vec![person(seed >> k), person(seed >> (k + 11))],
                        note: None,
                    }
                }
                (Some(at), None) if self.due(wh.id.0, step, at, now) => WhistleAction::PartDone {
                    department: Some(c.department_id),
                    note: "本部门负责部分已完成".into(),
                },
                _ => continue,
            };
            if matches!(a, WhistleAction::ReportAssisting { .. })
                && !self.due(wh.id.0, step, since, now)
            {
                continue;
            }
            self.act(w, wh.id, a, self.city.department(Some(c.department_id)))
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    pub(super) async fn act(
        &self,
        w: &WriterHandle,
        id: WhistleId,
        a: WhistleAction,
        who: Principal,
    ) -> Result<(), WriteError> {
        match w.submit(Command::Whistle(id, a, None), who).await {
            Ok(_) | Err(WriteError::Rule(_)) | Err(WriteError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn move_wishes(
        &self,
        store: &dyn Reads,
        w: &WriterHandle,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        let q = WishQuery {
            statuses: vec![WishStatus::Open, WishStatus::Claimed],
            limit: 200,
            ..Default::default()
        };
        let Ok((wishes, _)) = store.list_wishes(&q) else {
            return Ok(());
        };
        for wish in wishes {
            let seed = mix(wish.id.0 ^ 0x5151);
            let action = match wish.status {
                // Some wishes wait a long time for someone to take them on.
                WishStatus::Open if seed % 7 < 2 => continue,
                WishStatus::Open if self.due(wish.id.0, 5, wish.created_at, now) => {
                    claim_for(&self.city, seed).0
                }
                WishStatus::Claimed
                    if self.due(
                        wish.id.0,
                        6,
                        wish.claimed_at.unwrap_or(wish.updated_at),
                        now,
                    ) =>
                {
                    WishAction::Complete {
                        note: Some("心愿已送到居民手中".into()),
                    }
                }
                _ => continue,
            };
            let who = wish_actor(&self.city, wish.department_id);
            match w
                .submit(Command::Wish(WishId(wish.id.0), action, None), who)
                .await
            {
                Ok(_) | Err(WriteError::Rule(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

pub(super) fn list(store: &dyn Reads, statuses: &[WhistleStatus], limit: usize) -> Vec<Whistle> {
    let q = WhistleQuery {
        statuses: statuses.to_vec(),
        limit,
        ..Default::default()
    };
    store
        .list_whistles(&q)
        .map(|(items, _)| items)
        .unwrap_or_default()
}
