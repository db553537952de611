//! `shaozi-server backup`, `restore` and `check`: the commands around
//! `shaozi_server::backup` and `shaozi_server::check`.
//!
//! A backup is written to `FILE.partial` and renamed to `FILE` only once it is whole and on
//! disk, so a file under the asked-for name is always a complete backup. A restore into a
//! directory builds the store beside it and renames it into place at the end; into a
//! database, it empties the database again if it stops midway.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};

use shaozi_server::backup::restore::{ensure_empty, restore as restore_into, verify, Provenance};
use shaozi_server::backup::take::{take, Source};
use shaozi_server::backup::{check as check_file, Counts, Header};
use shaozi_server::notify::vault::Vault;
use shaozi_server::{open_engine_blocking, open_existing_blocking, OpenedEngine};

use super::StoreOrServer;

fn partial_of(to: &Path) -> PathBuf {
    let mut p = to.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn say(header: &Header, counts: &Counts, size: u64, to: &Path, started: Instant) {
    println!(
        "backup at sequence {} ({} events, {} tokens, {} kept answers, {} webhook subscriptions) \
         written to {}: {} in {:.1} s",
        header.seq,
        counts.events,
        counts.tokens,
        counts.kept,
        counts.hooks,
        to.display(),
        mib(size),
        started.elapsed().as_secs_f64()
    );
}

/// `shaozi-server backup --to FILE`: from the store directly when it is free (or a
/// database), else through the running server that holds it.
pub async fn backup(to: &Path, at: &StoreOrServer, vault: &Vault) -> anyhow::Result<()> {
    if to.exists() {
        bail!(
            "{} exists; give a new file (a backup never overwrites one)",
            to.display()
        );
    }
    let partial = partial_of(to);
    let started = Instant::now();
    let result = match directly(at).await? {
        Some(opened) => {
            let (partial2, vault) = (partial.clone(), vault.clone());
            tokio::task::spawn_blocking(move || offline(&opened, &partial2, &vault).map(Some))
                .await
                .context("the backup task stopped")?
        }
        None => online(at, &partial).await.map(|()| None),
    };
    let counts = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // Whole and intact on disk, or it does not get the name.
    let checked = match check_file(&partial) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e).context("the backup written does not check out");
        }
    };
    std::fs::rename(&partial, to)
        .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
    sync_dir(to);
    // A download is read through whole once more, as a restore would.
    let counts = match counts {
        Some(c) => c,
        None => {
            verify(to)
                .with_context(|| {
                    format!(
                        "{} was downloaded whole but does not read back",
                        to.display()
                    )
                })?
                .counts
        }
    };
    say(&checked.header, &counts, checked.size, to, started);
    Ok(())
}

/// The store opened here when it can be read here (a database, or a sled store no server
/// holds); None when a running server holds it, and then that server is asked. Opened once,
/// off the async runtime.
async fn directly(at: &StoreOrServer) -> anyhow::Result<Option<OpenedEngine>> {
    let data = at.data.clone();
    tokio::task::spawn_blocking(move || {
        if data.to_str().is_some_and(shaozi_server::pg::is_url) {
            return open_existing_blocking(&data)
                .map(Some)
                .with_context(|| format!("opening {}", data.display()));
        }
        match super::unless_held(&data, true)? {
            Some(store) => Ok(Some(OpenedEngine::of_sled(store)?)),
            None => Ok(None),
        }
    })
    .await
    .context("opening the store stopped")?
}

/// Makes a rename durable: the directory's entry, not only the file.
fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Reads the store at `data` directly; its log head is the backup's sequence number.
fn offline(opened: &OpenedEngine, partial: &Path, vault: &Vault) -> anyhow::Result<Counts> {
    let seq = opened.reads.last_seq()?;
    let file = std::fs::File::create_new(partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let src = Source {
        reads: opened.reads.as_ref(),
        keeper: opened.keeper.as_ref(),
        export: opened.export.as_ref(),
        hooks: opened.hooks.as_ref(),
        engine: opened.engine_name(),
    };
    let (_, counts) = take(&src, seq, &mut out, vault)?;
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .context("writing the backup")?;
    file.sync_all().context("flushing the backup to disk")?;
    Ok(counts)
}

/// Asks the running server that holds the store for `/api/v1/admin/{call}` with the admin
/// token; its URL and its answer, when 2xx.
async fn ask(
    at: &StoreOrServer,
    method: reqwest::Method,
    call: &str,
    to: &str,
) -> anyhow::Result<(String, reqwest::Response)> {
    let token = at.admin_token.as_deref().with_context(|| {
        format!(
            "the store is in use by a running server: give its admin token (--admin-token or \
             SHAOZI_ADMIN_TOKEN) to {to}"
        )
    })?;
    let url = format!("{}/api/v1/admin/{call}", at.server.trim_end_matches('/'));
    let res = at
        .client()?
        .request(method, &url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    if !res.status().is_success() {
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        bail!("{url} answered {status}: {body}");
    }
    Ok((url, res))
}

/// Downloads a backup from the running server.
async fn online(at: &StoreOrServer, partial: &Path) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    let (url, res) = ask(
        at,
        reqwest::Method::GET,
        "backup",
        "take the backup through it",
    )
    .await?;
    let mut file = std::fs::File::create_new(partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("reading the backup from {url} (cut short)"))?;
        file.write_all(&chunk)
            .with_context(|| format!("writing {}", partial.display()))?;
    }
    file.sync_all().context("flushing the backup to disk")?;
    Ok(())
}

/// `shaozi-server restore --from FILE --data <dir|url>`.
pub fn restore(
    from: &Path,
    data: &Path,
    rules: Option<&Path>,
    vault: &Vault,
    accept_unsigned: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let rules = match rules {
        Some(p) => shaozi_server::config::load(p)?,
        None => shaozi_shared::Rules::builtin(),
    };
    // The whole file is checked before anything is created.
    let verified =
        verify(from).with_context(|| format!("{} cannot be restored", from.display()))?;
    // A backup brings in tokens (an admin's among them) and where events are sent: only the
    // city's own is trusted without being asked.
    let why = match verified.provenance(vault) {
        Provenance::Signed => None,
        Provenance::Unsigned => Some("is not signed"),
        Provenance::Foreign if vault.keyed() => Some("is signed with another key than this city's"),
        Provenance::Foreign => {
            Some("is signed, and this restore has no key to check it (set SHAOZI_WEBHOOK_KEY)")
        }
    };
    if let Some(why) = why {
        let brings = verified.brings_in();
        if !accept_unsigned {
            bail!(
                "{} {why}: it may not be this city's backup, and it would bring in {brings}. \
                 Restore it only if you know where it came from, with --accept-unsigned; nothing was restored",
                from.display()
            );
        }
        eprintln!(
            "warning: {} {why}; restoring it as asked (--accept-unsigned), with {brings}",
            from.display()
        );
    }
    let header = verified.header.clone();
    let is_db = data.to_str().is_some_and(shaozi_server::pg::is_url);
    let restored = if is_db {
        let mut dest =
            open_engine_blocking(data).with_context(|| format!("opening {}", data.display()))?;
        ensure_empty(&mut dest)?;
        match restore_into(from, verified, &mut dest, rules.calendar.offset) {
            Ok(r) => {
                dest.engine.close()?;
                r
            }
            Err(e) => {
                drop(dest);
                let url = data.to_string_lossy();
                let wiped = shaozi_server::pg::wipe(&url);
                return Err(anyhow::Error::new(e).context(match wiped {
                    Ok(()) => "the restore stopped; the database was emptied again".to_string(),
                    Err(w) => format!(
                        "the restore stopped, and emptying the database failed too ({w}): drop it before trying again"
                    ),
                }));
            }
        }
    } else {
        if data.exists()
            && std::fs::read_dir(data)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            bail!(
                "{} is not empty; restore into a new directory",
                data.display()
            );
        }
        let building = partial_of(data);
        if building.exists() {
            std::fs::remove_dir_all(&building).with_context(|| {
                format!("removing {} left by an earlier restore", building.display())
            })?;
        }
        let result = (|| -> anyhow::Result<_> {
            let mut dest = open_engine_blocking(&building)
                .with_context(|| format!("creating {}", building.display()))?;
            let r = restore_into(from, verified, &mut dest, rules.calendar.offset)?;
            dest.engine.close()?;
            drop(dest);
            Ok(r)
        })();
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&building);
                return Err(e.context("the restore stopped; nothing was left behind"));
            }
        };
        if data.exists() {
            std::fs::remove_dir(data)
                .with_context(|| format!("replacing the empty {}", data.display()))?;
        }
        // sled's threads let go of the directory a moment after it is closed.
        let mut renamed = std::fs::rename(&building, data);
        for _ in 0..50 {
            if renamed.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            renamed = std::fs::rename(&building, data);
        }
        renamed
            .with_context(|| format!("renaming {} to {}", building.display(), data.display()))?;
        sync_dir(data);
        r
    };
    println!(
        "restored {} events, {} whistles and wishes, {} tokens, {} kept answers and {} webhook \
         subscriptions into {} in {:.1} s, from a backup taken at sequence {} on {} ({}); its \
         counters match a recount of its records",
        restored.counts.events,
        restored.records,
        restored.counts.tokens,
        restored.counts.kept,
        restored.counts.hooks,
        data.display(),
        started.elapsed().as_secs_f64(),
        header.seq,
        header.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
        header.taken_from,
    );
    Ok(())
}

/// Prints a check's report; whether it was clean.
fn print_report(r: &shaozi_shared::api::ConsistencyReport) -> bool {
    for d in &r.listed {
        println!("  {:<8} {}", d.part, d.what);
    }
    if r.differences > r.listed.len() as u64 {
        println!("  … and {} more", r.differences - r.listed.len() as u64);
    }
    println!(
        "checked at sequence {}: {} entries, counters, records and names compared, {} {}{}",
        r.seq,
        r.compared,
        r.differences,
        if r.differences == 1 {
            "difference"
        } else {
            "differences"
        },
        if r.repaired {
            ", rewritten from the records and the log"
        } else {
            ""
        }
    );
    r.clean
}

/// `shaozi-server check [--repair]`. Returns whether the store is (now) clean.
pub async fn check(at: &StoreOrServer, repair: bool, rules: Option<&Path>) -> anyhow::Result<bool> {
    let rules = match rules {
        Some(p) => shaozi_server::config::load(p)?,
        None => shaozi_shared::Rules::builtin(),
    };
    let offset = rules.calendar.offset;
    let Some(opened) = directly(at).await? else {
        if repair {
            bail!(
                "{} is in use by a running server: stop it to repair the store (the server can \
                 check it while it runs: drop --repair)",
                at.data.display()
            );
        }
        let (_, res) = ask(
            at,
            reqwest::Method::POST,
            "check",
            "have it check the store",
        )
        .await?;
        let report: shaozi_shared::api::ConsistencyReport =
            res.json().await.context("reading the check's report")?;
        return Ok(print_report(&report));
    };
    let data = at.data.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
        let started = Instant::now();
        let first = shaozi_server::check::check_store(&data, &opened, offset, repair)?;
        let clean = print_report(&first);
        println!("({:.1} s)", started.elapsed().as_secs_f64());
        if !first.repaired {
            return Ok(clean);
        }
        let second = shaozi_server::check::check_store(&data, &opened, offset, false)?;
        if second.clean {
            println!("a second check is clean");
        } else {
            println!("a second check still finds differences:");
            print_report(&second);
        }
        Ok(second.clean)
    })
    .await
    .context("the check stopped")?
}
