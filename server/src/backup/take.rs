//! Taking a backup: the log up to N, streamed as it is read, then what the log does not hold,
//! taken back to N.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::file::{hex, write_head, Hashing, Header, Line, FORMAT};
use super::{BackupError, Counts};
use crate::storage::{Export, HookStore, Reads, TokenKeeper};

/// Events read from the store at a time.
const PAGE: usize = 2000;

/// Where a backup is read from: any engine, through the seam.
pub struct Source<'a> {
    /// The log and the records.
    pub reads: &'a dyn Reads,
    /// Tokens with their secrets' hashes.
    pub keeper: &'a dyn TokenKeeper,
    /// Kept answers.
    pub export: &'a dyn Export,
    /// Webhook subscriptions.
    pub hooks: &'a dyn HookStore,
    /// The engine's name, for the header.
    pub engine: &'a str,
}

/// The fields of an event a backup looks at.
#[derive(Deserialize)]
struct Glance<'a> {
    #[serde(rename = "type")]
    kind: shaozi_shared::EventKind,
    #[serde(borrow)]
    subject: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    record: &'a RawValue,
}

/// Writes a backup of `src` at sequence number `seq` (every event up to it, none after) to
/// `out`, signed with the city's key when `signer` has one. Returns its header and what it
/// holds. `out` gets the whole file, trailer included; a failure leaves it incomplete (and a
/// reader refuses it).
pub fn take(
    src: &Source<'_>,
    seq: u64,
    out: impl Write,
    signer: &crate::notify::vault::Vault,
) -> Result<(Header, Counts), BackupError> {
    let header = Header {
        format: FORMAT,
        seq,
        taken_at: chrono::Utc::now(),
        taken_from: src.engine.to_string(),
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        compression: "zstd".into(),
    };
    let mut file = Hashing::new(out);
    write_head(&mut file, &header)?;
    let writing = BackupError::io("writing the backup");
    let mut body = zstd::stream::write::Encoder::new(&mut file, 3)
        .map_err(BackupError::io("starting to compress"))?;
    let mut counts = Counts::default();

    // The log, as it is kept. What the rest needs from it: which subjects exist by N, and
    // each token as it was at N.
    let mut subjects: HashSet<String> = HashSet::new();
    let mut token_at_n: HashMap<String, String> = HashMap::new();
    let mut after = 0;
    'log: while after < seq {
        let page = src.reads.events_after(after, PAGE)?;
        if page.is_empty() {
            break;
        }
        for (s, json) in page {
            if s > seq {
                break 'log;
            }
            if s != after + 1 {
                return Err(BackupError::Differs(format!(
                    "the log has a gap: event {} follows {after}",
                    s
                )));
            }
            let g: Glance<'_> = serde_json::from_str(&json).map_err(|e| {
                BackupError::Store(crate::storage::StoreError::Corrupt {
                    what: format!("event {s}"),
                    why: e.to_string(),
                })
            })?;
            if matches!(
                g.kind,
                shaozi_shared::EventKind::TokenCreated | shaozi_shared::EventKind::TokenRevoked
            ) {
                token_at_n.insert(g.subject.to_string(), g.record.get().to_string());
            } else if !subjects.contains(g.subject.as_ref()) {
                subjects.insert(g.subject.to_string());
            }
            body.write_all(b"{\"event\":")
                .and_then(|_| body.write_all(json.as_bytes()))
                .and_then(|_| body.write_all(b"}\n"))
                .map_err(BackupError::io("writing the backup"))?;
            counts.events += 1;
            after = s;
        }
    }
    if after != seq {
        return Err(BackupError::Differs(format!(
            "the log ends at {after}, before the backup's sequence number {seq}"
        )));
    }

    // Tokens as they were at N: one issued later is left out; the start-up admin token,
    // which is never in the log, is kept as it is.
    let mut tokens: Vec<_> = src.keeper.tokens_by_hash()?.into_iter().collect();
    tokens.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    for (hash, info) in tokens {
        let info = match token_at_n.get(&info.name) {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                BackupError::Store(crate::storage::StoreError::Corrupt {
                    what: format!("token {}", info.name),
                    why: e.to_string(),
                })
            })?,
            None if info.name == "admin" && info.created_by == "shaozi-server" => info,
            None => continue,
        };
        line(
            &mut body,
            &Line::Token {
                hash: hex(&hash),
                info,
            },
        )?;
        counts.tokens += 1;
    }

    // Kept answers of creates whose record exists at N; a retry of a later one runs again.
    let mut kept = src.export.kept_answers()?;
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, k) in kept {
        let id = serde_json::from_str::<serde_json::Value>(&k.answer)
            .ok()
            .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string));
        if !id.is_some_and(|id| subjects.contains(&id)) {
            continue;
        }
        line(
            &mut body,
            &Line::Kept {
                key: hex(&key),
                body: k.body,
                answer: k.answer,
            },
        )?;
        counts.kept += 1;
    }

    // Subscriptions, each from no further than N.
    for hook in src.hooks.hooks()? {
        let mut state = src.hooks.hook_state(hook.id)?.unwrap_or_default();
        state.delivered = state.delivered.min(seq);
        line(&mut body, &Line::Hook { hook, state })?;
        counts.hooks += 1;
    }
    line(&mut body, &Line::End(counts.clone()))?;
    body.finish().map_err(writing)?;
    file.finish(signer)
        .map_err(BackupError::io("writing the backup's end"))?;
    Ok((header, counts))
}

fn line(out: &mut impl Write, l: &Line) -> Result<(), BackupError> {
    let mut json = serde_json::to_vec(l)
        .map_err(|e| BackupError::Damaged(format!("a line cannot be written: {e}")))?;
    json.push(b'\n');
    out.write_all(&json)
        .map_err(BackupError::io("writing the backup"))
}
