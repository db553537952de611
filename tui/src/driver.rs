//! Carries out the app's effects: spawns network work whose results come back as messages.
//! The terminal loop and the tests both drive the app through this.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;

use crate::app::{update, App, Effect, Msg};
use crate::net::{self, Api};
use crate::prompt::form::FormKind;

/// The app plus its connection to the world.
pub struct Driver {
    /// The app.
    pub app: App,
    api: Api,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    stats_poke: Arc<Notify>,
    hooks_poke: Arc<Notify>,
    inflight: Arc<AtomicUsize>,
    following: bool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Times the bell was asked for.
    pub bells: usize,
    /// Where `E` writes the assessment CSV (the working directory by default).
    pub export_dir: std::path::PathBuf,
}

impl Driver {
    /// A driver for `app` against `api`; call [`Driver::start`] to load and follow.
    pub fn new(app: App, api: Api) -> Driver {
        let (tx, rx) = unbounded_channel();
        let stats_poke = Arc::new(Notify::new());
        let mut d = Driver {
            app,
            api,
            tx,
            rx,
            stats_poke,
            hooks_poke: Arc::new(Notify::new()),
            inflight: Arc::new(AtomicUsize::new(0)),
            following: false,
            tasks: Vec::new(),
            bells: 0,
            export_dir: std::env::current_dir().unwrap_or_default(),
        };
        d.spawn_stats_refresher();
        d.spawn_hooks_refresher();
        d
    }

    /// Starts the first load (retrying until the server answers), then the live stream.
    pub fn start(&mut self) {
        self.exec(Effect::LoadAll);
    }

    /// Applies a message and carries out its effects.
    pub fn handle(&mut self, msg: Msg) {
        for e in update(&mut self.app, msg) {
            self.exec(e);
        }
    }

    /// The next message from the network.
    pub async fn recv(&mut self) -> Option<Msg> {
        self.rx.recv().await
    }

    /// A message already waiting, if any.
    pub fn try_recv(&mut self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// Processes network messages until none arrive for `quiet` and no request is in flight.
    pub async fn settle(&mut self, quiet: Duration) {
        loop {
            match tokio::time::timeout(quiet, self.rx.recv()).await {
                Ok(Some(m)) => self.handle(m),
                Ok(None) => return,
                Err(_) if self.inflight.load(Ordering::SeqCst) == 0 => return,
                Err(_) => {}
            }
        }
    }

    fn spawn<F>(&mut self, fut: F)
    where
        F: std::future::Future<Output = Option<Msg>> + Send + 'static,
    {
        let tx = self.tx.clone();
        let inflight = self.inflight.clone();
        inflight.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            if let Some(m) = fut.await {
                let _ = tx.send(m);
            }
            inflight.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Stats refreshes are coalesced: at most one a second however many events arrive.
    fn spawn_stats_refresher(&mut self) {
        let (api, tx, poke) = (self.api.clone(), self.tx.clone(), self.stats_poke.clone());
        let inflight = self.inflight.clone();
        self.tasks.push(tokio::spawn(async move {
            loop {
                poke.notified().await;
                inflight.fetch_add(1, Ordering::SeqCst);
                let r = api.stats().await;
                inflight.fetch_sub(1, Ordering::SeqCst);
                if let Ok(s) = r {
                    if tx.send(Msg::Stats(Box::new(s))).is_err() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }

    /// The subscriptions' health is refetched as events arrive, at most once a second.
    fn spawn_hooks_refresher(&mut self) {
        let (api, tx, poke) = (self.api.clone(), self.tx.clone(), self.hooks_poke.clone());
        self.tasks.push(tokio::spawn(async move {
            loop {
                poke.notified().await;
                if tx.send(Msg::Webhooks(api.webhooks().await)).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }

    fn exec(&mut self, e: Effect) {
        match e {
            Effect::LoadAll => {
                let (api, tx, follow) = (self.api.clone(), self.tx.clone(), !self.following);
                self.following = true;
                let inflight = self.inflight.clone();
                inflight.fetch_add(1, Ordering::SeqCst);
                self.tasks.push(tokio::spawn(async move {
                    let mut attempt = 0;
                    let seq = loop {
                        match net::load_all(&api, &tx).await {
                            Ok(seq) => break seq,
                            // A refused token is said once, not retried as if the network
                            // were down.
                            Err(r) if r.status == 401 => {
                                let _ = tx.send(Msg::LoadFailed(r));
                                let _ = tx.send(Msg::Conn(crate::app::Conn::Refused));
                                inflight.fetch_sub(1, Ordering::SeqCst);
                                return;
                            }
                            Err(r) => {
                                attempt += 1;
                                let _ = tx.send(Msg::LoadFailed(r));
                                let _ = tx.send(Msg::Conn(crate::app::Conn::Offline));
                                tokio::time::sleep(net::backoff(attempt)).await;
                            }
                        }
                    };
                    inflight.fetch_sub(1, Ordering::SeqCst);
                    if follow {
                        net::follow(api, seq, tx).await;
                    }
                }));
            }
            Effect::FetchStats => self.stats_poke.notify_one(),
            Effect::FetchDetail(id) => {
                let api = self.api.clone();
                self.spawn(async move {
                    Some(match api.detail(id).await {
                        Ok(d) => Msg::Detail(Box::new(d)),
                        Err(r) => Msg::DetailFailed(id, r),
                    })
                });
            }
            Effect::FetchWork => {
                let api = self.api.clone();
                let role = self.app.me.as_ref().map(|m| m.role);
                self.spawn(async move {
                    let statuses = crate::screens::work::statuses(role?);
                    match api.all_whistles(&format!("status={statuses}")).await {
                        Ok(w) => Some(Msg::Work(w)),
                        Err(r) => Some(Msg::LoadFailed(r)),
                    }
                });
            }
            Effect::FetchInbox => {
                let api = self.api.clone();
                self.spawn(async move {
                    let asked = api.all_whistles("pending=extension").await;
                    let resolved = api.all_whistles("status=resolved").await;
                    Some(Msg::Inbox(match (asked, resolved) {
                        (Ok(asked), Ok(resolved)) => Ok((asked, resolved)),
                        (Err(why), _) | (_, Err(why)) => Err(why),
                    }))
                });
            }
            Effect::FetchWishes => {
                let api = self.api.clone();
                let role = self.app.me.as_ref().map(|m| m.role);
                self.spawn(async move {
                    match api.wishes(crate::screens::wishes::statuses(role)).await {
                        Ok(w) => Some(Msg::Wishes(w)),
                        Err(r) => Some(Msg::LoadFailed(r)),
                    }
                });
            }
            Effect::ActWish {
                id,
                version,
                body,
                draft,
            } => {
                let api = self.api.clone();
                self.spawn(async move {
                    let result = api.act_wish(id, &body, version).await.map(Box::new);
                    Some(Msg::WishActed {
                        id,
                        step: body.step(),
                        result,
                        draft,
                    })
                });
            }
            Effect::FetchSimilar(id) => {
                let api = self.api.clone();
                self.spawn(async move {
                    // Without them the detail is whole; nothing to say when they fail.
                    api.similar(id).await.ok().map(|s| Msg::Similar(id, s))
                });
            }
            Effect::Search(words) => {
                let api = self.api.clone();
                self.spawn(async move {
                    let answer = api.search(&words).await;
                    Some(Msg::Searched(words, answer))
                });
            }
            Effect::FetchDeptCases(d) => {
                let api = self.api.clone();
                self.spawn(
                    async move { api.dept_cases(d).await.ok().map(|w| Msg::DeptCases(d, w)) },
                );
            }
            Effect::Act {
                id,
                version,
                body,
                draft,
            } => {
                let api = self.api.clone();
                self.spawn(async move {
                    let result = api.act(id, &body, version).await.map(Box::new);
                    Some(Msg::Acted {
                        id,
                        step: body.step(),
                        result,
                        draft,
                    })
                });
            }
            Effect::FetchAssessment(from, to, units) => {
                let api = self.api.clone();
                self.spawn(async move {
                    match api.assessment(from, to, units.wire()).await {
                        Ok(d) => Some(Msg::Assessment(Box::new(d))),
                        Err(r) => Some(Msg::LoadFailed(r)),
                    }
                });
            }
            Effect::FetchPatterns { by, interval } => {
                let api = self.api.clone();
                self.spawn(async move {
                    Some(Msg::Patterns(
                        api.patterns(by, interval).await.map(Box::new),
                    ))
                });
            }
            Effect::FetchWebhooks => self.hooks_poke.notify_one(),
            Effect::FetchTemplates => {
                let api = self.api.clone();
                self.spawn(async move { api.templates().await.ok().map(Msg::Templates) });
            }
            Effect::ResumeWebhook(id) => {
                let api = self.api.clone();
                self.spawn(async move {
                    let r = api.resume_webhook(&id).await.map(Box::new);
                    Some(Msg::WebhookResumed(id, r))
                });
            }
            Effect::TestWebhook(id) => {
                let api = self.api.clone();
                self.spawn(async move {
                    let r = api.test_webhook(&id).await;
                    Some(Msg::WebhookTested(id, r))
                });
            }
            Effect::DeleteWebhook(id) => {
                let api = self.api.clone();
                self.spawn(async move {
                    let r = api.delete(&format!("/api/v1/webhooks/{id}")).await;
                    Some(Msg::WebhookDeleted(id, r))
                });
            }
            Effect::File {
                kind,
                body,
                key,
                draft,
            } => {
                let api = self.api.clone();
                self.spawn(async move {
                    let path = match kind {
                        FormKind::Whistle => "/api/v1/whistles".to_string(),
                        FormKind::Wish => "/api/v1/wishes".to_string(),
                        FormKind::Webhook => "/api/v1/webhooks".to_string(),
                        FormKind::Reclassify(id) => format!("/api/v1/whistles/{id}/reclassify"),
                        FormKind::Note(id) => format!("/api/v1/whistles/{id}/notes"),
                    };
                    let result = api.create(&path, &body, key.as_deref()).await;
                    Some(Msg::Filed {
                        kind,
                        result,
                        draft,
                    })
                });
            }
            Effect::WriteCsv { file, text } => {
                let r = write_new(&self.export_dir, &file, text.as_bytes())
                    .map(|path| path.display().to_string());
                let _ = self.tx.send(Msg::Exported(r));
            }
            Effect::Bell => self.bells += 1,
            Effect::Quit => {}
        }
    }
}

/// Writes `bytes` to `file` in `dir`, or, when a file of that name is there already (an
/// earlier export), to `name-2.csv`, `name-3.csv`…: an export never overwrites another.
pub fn write_new(
    dir: &std::path::Path,
    file: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, String> {
    use std::io::Write as _;
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    for n in 1..1000 {
        let name = match (n, ext) {
            (1, _) => file.to_string(),
            (n, "") => format!("{stem}-{n}"),
            (n, ext) => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(name);
        // create_new: never truncate what is there, even if it appears between two tries.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                return f
                    .write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map(|()| path.clone())
                    .map_err(|e| format!("{}: {e}", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Err(format!(
        "{}: a thousand exports of this name are there already",
        dir.join(file).display()
    ))
}

impl Drop for Driver {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
