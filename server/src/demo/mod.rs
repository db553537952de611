//! The living demo city: a believable directory, a morning's worth of history, and simulated
//! communities, dispatchers and departments that keep it moving through the real write path.

mod names;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Offset, Utc};
use tokio::sync::watch;

use shaozi_shared::api::{NewCommunity, NewDepartment, NewStreet, NewWhistle, NewWish};
use shaozi_shared::{
    CommunityId, DepartmentId, Principal, Role, Scope, StreetId, Urgency, Whistle, WhistleAction,
    WhistleId, WhistleStatus, WishAction, WishId, WishStatus, CATEGORIES,
};

use crate::clock::Clock;
use crate::routes::stats;
use crate::store::{Store, WhistleQuery, WishQuery};
use crate::writer::{Command, Reply, WriteError, WriterHandle};

/// How lively the demo city is.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// New whistles per minute.
    pub whistles_per_minute: f64,
    /// New wishes per minute.
    pub wishes_per_minute: f64,
    /// Hours of history to backfill into an empty store.
    pub history_hours: i64,
    /// Whistles in that history.
    pub history_whistles: usize,
    /// Seconds a simulated step takes, on average (dispatch, report for duty, fix, rate).
    pub step_seconds: i64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            whistles_per_minute: 6.0,
            wishes_per_minute: 1.0,
            history_hours: 6,
            history_whistles: 240,
            step_seconds: 90,
        }
    }
}

/// A deterministic hash, so each whistle's simulated fate is stable across restarts.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<T: Copy>(items: &[T], seed: u64) -> T {
    items[(seed % items.len() as u64) as usize]
}

fn person(seed: u64) -> String {
    format!(
        "{}{}",
        pick(names::SURNAMES, seed),
        pick(names::GIVEN, seed >> 8)
    )
}

/// The city office, which keeps the directory and registers volunteers' claims.
fn office() -> Principal {
    Principal::new("市创文办", Role::Admin, Scope::City)
}

/// A community's own token.
fn community(city: &City, id: CommunityId) -> Principal {
    Principal::new(
        city.community_name(id),
        Role::Community,
        Scope::Community(id),
    )
}

/// Who acts for a wish: the claiming department, or the office for volunteers.
fn wish_actor(city: &City, dept: Option<DepartmentId>) -> Principal {
    match dept {
        Some(d) => city.department(Some(d)),
        None => Principal::new("市创文办志愿服务", Role::Admin, Scope::City),
    }
}

/// The directory as the demo knows it.
struct City {
    streets: HashMap<StreetId, String>,
    communities: Vec<(CommunityId, String, StreetId)>,
    departments: Vec<(DepartmentId, String, Vec<String>)>,
}

impl City {
    fn read(store: &Store) -> Option<City> {
        let streets = store
            .streets()
            .ok()?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let communities: Vec<_> = store
            .communities()
            .ok()?
            .into_iter()
            .map(|c| (c.id, c.name, c.street_id))
            .collect();
        let departments: Vec<_> = store
            .departments()
            .ok()?
            .into_iter()
            .map(|d| (d.id, d.name, d.categories))
            .collect();
        (!communities.is_empty() && !departments.is_empty()).then_some(City {
            streets,
            communities,
            departments,
        })
    }

    fn community_name(&self, id: CommunityId) -> String {
        self.communities
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.1.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn dispatcher(&self, street: StreetId) -> Principal {
        let name = self
            .streets
            .get(&street)
            .cloned()
            .unwrap_or_else(|| street.to_string());
        Principal::new(
            format!("{name}调度员"),
            Role::Dispatcher,
            Scope::Street(street),
        )
    }

    fn department(&self, id: Option<DepartmentId>) -> Principal {
        match id.and_then(|id| self.departments.iter().find(|d| d.0 == id)) {
            Some(d) => Principal::new(
                format!("{}专干", d.1),
                Role::Department,
                Scope::Department(d.0),
            ),
            None => office(),
        }
    }

    /// The department that handles `category` and carries the least load.
    fn best_department(
        &self,
        category: &str,
        load: &HashMap<String, i64>,
        seed: u64,
    ) -> DepartmentId {
        let mut able: Vec<&(DepartmentId, String, Vec<String>)> = self
            .departments
            .iter()
            .filter(|d| d.2.iter().any(|c| c == category))
            .collect();
        if able.is_empty() {
            able = self.departments.iter().collect();
        }
        able.sort_by_key(|d| {
            (
                load.get(&d.0.to_string()).copied().unwrap_or(0),
                mix(seed ^ d.0 .0),
            )
        });
        able[0].0
    }

    fn whistle(&self, seed: u64) -> NewWhistle {
        let (cid, _, _) = &self.communities[(seed % self.communities.len() as u64) as usize];
        // Lamps, refuse and roads are what residents call about most.
        const WEIGHTED: &[&str] = &[
            "sanitation",
            "sanitation",
            "sanitation",
            "roads",
            "roads",
            "lighting",
            "lighting",
            "drainage",
            "drainage",
            "property",
            "property",
            "traffic",
            "market",
            "construction",
            "greening",
            "utilities",
            "safety",
            "noise",
            "elderly",
            "civility",
        ];
        let category = pick(WEIGHTED, seed >> 7);
        let (title, desc) = pick(names::problems(category), seed >> 13);
        let road = pick(names::ROADS, seed >> 17);
        let n = (seed >> 23) % 8 + 2;
        let fill = |s: &str| s.replace("{road}", road).replace("{n}", &n.to_string());
        NewWhistle {
            community_id: *cid,
            category: category.to_string(),
            title: fill(title),
            description: fill(desc),
            urgency: if (seed >> 29).is_multiple_of(4) {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            address: Some(format!("{road}{}号", (seed >> 33) % 300 + 1)),
            lat: Some(28.55 + ((seed >> 37) % 1000) as f64 / 10_000.0),
            long: Some(112.33 + ((seed >> 41) % 1000) as f64 / 10_000.0),
        }
    }
}

/// Loads the directory into an empty store. Returns false when the store already has one.
async fn load_directory(store: &Store, w: &WriterHandle) -> Result<bool, WriteError> {
    if !store.streets().map(|s| s.is_empty()).unwrap_or(false) {
        return Ok(false);
    }
    let admin = office();
    let mut streets = Vec::new();
    for name in names::STREETS {
        if let Reply::Street(s) = w
            .submit(
                Command::CreateStreet(NewStreet {
                    name: name.to_string(),
                }),
                admin.clone(),
            )
            .await?
        {
            streets.push(s.id);
        }
    }
    for (i, stem) in names::COMMUNITY_STEMS.iter().enumerate() {
        // A few are urban villages (城中村), as in the report.
        let name = if i % 9 == 8 {
            format!("{stem}村")
        } else {
            format!("{stem}社区")
        };
        let street_id = streets[i % streets.len()];
        w.submit(
            Command::CreateCommunity(NewCommunity { name, street_id }),
            admin.clone(),
        )
        .await?;
    }
    for (i, name) in names::DEPARTMENTS.iter().enumerate() {
        let categories = names::categories_for(name, i)
            .into_iter()
            .map(str::to_string)
            .collect();
        w.submit(
            Command::CreateDepartment(NewDepartment {
                name: name.to_string(),
                categories,
            }),
            admin.clone(),
        )
        .await?;
    }
    Ok(true)
}

/// How far one whistle gets, decided by its seed: most are done, some stall.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    New,
    Dispatched,
    Acknowledged,
    Resolved,
    Closed,
    Reopened,
    Rejected,
}

fn step_after(seed: u64, base: i64) -> Span {
    Span::seconds(base / 3 + (seed % (base.max(1) as u64 * 2)) as i64)
}

/// Backfills the past `history_hours`: whistles filed through the morning at their real
/// times, each taken as far as its fate says, all in time order so the log reads naturally.
async fn backfill(
    city: &City,
    w: &WriterHandle,
    cfg: &DemoConfig,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    enum Step {
        File(usize, NewWhistle),
        Act(usize, WhistleAction, Principal),
        Wish(usize, NewWish),
        WishAct(usize, WishAction, Principal),
    }
    let start = now - Span::hours(cfg.history_hours);
    let span_s = (cfg.history_hours * 3600).max(1) as u64;
    let mut plan: Vec<(DateTime<Utc>, Step)> = Vec::new();
    let mut load: HashMap<String, i64> = HashMap::new();
    for i in 0..cfg.history_whistles {
        let seed = mix(i as u64 + 77);
        let filed = start + Span::seconds((seed % span_s) as i64);
        let nw = city.whistle(mix(seed));
        let age = now - filed;
        let street = city
            .communities
            .iter()
            .find(|c| c.0 == nw.community_id)
            .map(|c| c.2)
            .unwrap_or(StreetId(1));
        let community = community(city, nw.community_id);
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
        plan.push((filed, Step::File(i, nw)));
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
        let dept = city.best_department(&category, &load, seed);
        *load.entry(dept.to_string()).or_default() += 1;
        let mut t = filed + step_after(seed >> 7, 900);
        let mut steps = vec![(
            WhistleAction::Dispatch {
                department_id: dept,
                assisting: vec![],
                note: Some("请立即派专干到现场报到".into()),
            },
            city.dispatcher(street),
        )];
        if fate >= Fate::Acknowledged {
            steps.push((
                WhistleAction::Acknowledge {
                    staff: vec![person(seed), person(seed >> 11), person(seed >> 19)],
                    note: Some("专干已到现场".into()),
                },
                city.department(Some(dept)),
            ));
        }
        if fate >= Fate::Resolved {
            steps.push((
                WhistleAction::Resolve {
                    reply: pick(names::REPLIES, seed >> 9).into(),
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
        for (k, (a, who)) in steps.into_iter().enumerate() {
            if k > 0 {
                t += step_after(seed >> (k * 4), 1800);
            }
            if t >= now {
                break;
            }
            plan.push((t, Step::Act(i, a, who)));
        }
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
            Step::File(i, nw) => {
                let who = community(city, nw.community_id);
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
fn claim_for(city: &City, seed: u64) -> (WishAction, Principal) {
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
async fn record_activities(
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

fn rating(seed: u64) -> i64 {
    match (seed >> 15) % 100 {
        0..=49 => 5,
        50..=79 => 4,
        80..=91 => 3,
        92..=96 => 2,
        _ => 1,
    }
}

fn wish_for(city: &City, seed: u64) -> NewWish {
    let (cid, _, _) = city.communities[(seed % city.communities.len() as u64) as usize];
    let (title, yuan) = pick(names::WISHES, seed >> 9);
    NewWish {
        community_id: cid,
        title: title.into(),
        description: None,
        value_fen: yuan * 100,
    }
}

/// Loads the city and a morning of history into an empty store; a store that already has a
/// directory is left as it is.
pub async fn prepare(
    cfg: &DemoConfig,
    store: &Store,
    w: &WriterHandle,
    clock: &dyn Clock,
) -> Result<(), WriteError> {
    if load_directory(store, w).await? {
        if let Some(city) = City::read(store) {
            tracing::info!("demo: loading a morning of history");
            backfill(&city, w, cfg, clock.now()).await?;
        }
    }
    Ok(())
}

/// Keeps the demo city alive until `stop`: whistles and wishes keep coming and moving.
pub async fn run(
    cfg: DemoConfig,
    store: Store,
    w: WriterHandle,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) {
    let Some(city) = City::read(&store) else {
        tracing::warn!("demo: the store has no communities or departments; nothing to simulate");
        return;
    };
    let mut sim = Sim {
        city,
        cfg,
        whistle_credit: 0.0,
        wish_credit: 0.0,
        counter: clock.now().timestamp() as u64,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = sim.tick(&store, &w, clock.now()).await {
            if matches!(e, WriteError::Unavailable(_)) {
                return;
            }
            tracing::debug!(error = %e, "demo step refused");
        }
    }
}

struct Sim {
    city: City,
    cfg: DemoConfig,
    whistle_credit: f64,
    wish_credit: f64,
    counter: u64,
}

impl Sim {
    /// Whether the simulated actor for `id` has got round to step `stage` by `now`.
    fn due(&self, id: u64, stage: u64, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - since >= step_after(mix(id * 31 + stage), self.cfg.step_seconds)
    }

    async fn tick(
        &mut self,
        store: &Store,
        w: &WriterHandle,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        self.whistle_credit += self.cfg.whistles_per_minute / 60.0;
        while self.whistle_credit >= 1.0 {
            self.whistle_credit -= 1.0;
            self.counter += 1;
            let nw = self.city.whistle(mix(self.counter));
            let who = community(&self.city, nw.community_id);
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
        let load: HashMap<String, i64> = stats::compute(store)
            .map(|s| {
                s.departments
                    .into_iter()
                    .map(|d| (d.id, d.dispatched + d.acknowledged))
                    .collect()
            })
            .unwrap_or_default();
        for wh in list(store, &[WhistleStatus::New, WhistleStatus::Dispatched], 300) {
            let seed = mix(wh.id.0);
            // Some whistles stall so that the queue always shows what overdue looks like.
            if seed.is_multiple_of(10) {
                continue;
            }
            match wh.status {
                WhistleStatus::New if self.due(wh.id.0, 1, wh.created_at, now) => {
                    let dept = self.city.best_department(&wh.category, &load, seed);
                    let a = WhistleAction::Dispatch {
                        department_id: dept,
                        assisting: vec![],
                        note: Some("请立即派专干到现场报到".into()),
                    };
                    self.act(w, wh.id, a, self.city.dispatcher(wh.street_id))
                        .await?;
                }
                WhistleStatus::Dispatched
                    if self.due(wh.id.0, 2, wh.dispatched_at.unwrap_or(wh.created_at), now) =>
                {
                    let a = WhistleAction::Acknowledge {
                        staff: vec![person(seed), person(seed >> 11)],
                        note: Some("专干已到现场".into()),
                    };
                    self.act(w, wh.id, a, self.city.department(wh.department_id))
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
            match wh.status {
                WhistleStatus::Acknowledged
                    if self.due(wh.id.0, 3, wh.acknowledged_at.unwrap_or(wh.updated_at), now) =>
                {
                    let a = WhistleAction::Resolve {
                        reply: pick(names::REPLIES, seed >> 9).into(),
                    };
                    self.act(w, wh.id, a, self.city.department(wh.department_id))
                        .await?;
                }
                WhistleStatus::Resolved
                    if self.due(
                        wh.id.0 + u64::from(wh.reopened),
                        4,
                        wh.resolved_at.unwrap_or(wh.updated_at),
                        now,
                    ) =>
                {
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

    async fn act(
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

    async fn move_wishes(
        &self,
        store: &Store,
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

fn list(store: &Store, statuses: &[WhistleStatus], limit: usize) -> Vec<Whistle> {
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

/// Category codes, for callers that want to generate their own load.
pub fn category_codes() -> Vec<&'static str> {
    CATEGORIES.iter().map(|c| c.0).collect()
}
