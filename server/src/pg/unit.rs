//! The PostgreSQL engine's write side. A batch is one transaction: it locks the log head
//! first, fetches the rows the batch names in one go, runs the commands against them in
//! memory, then writes everything in a few multi-row statements and commits. A 2xx is sent
//! only after COMMIT returned.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::{ToSql, Type};
use postgres::Transaction;

use shaozi_shared::api::{Activity, Community, ReplyTemplate, TokenInfo};
use shaozi_shared::{CommunityId, StreetId, Whistle, WhistleId, Wish, WishId};

use super::statements::{
    id_of, in_list, insert, insert_events, insert_whistles, record_rows, update, whistle_row,
    wish_row, write_counters, Param, Pending, PendingEvent, Prepared, WHISTLE_COLUMNS,
    WISH_COLUMNS,
};
use super::{col, db_error};
use crate::storage::{decode, StoreError};
use crate::storage::{DirectoryKind, KeptAnswer, LogEntry, NameHolder, Series, Unit};

/// The letter of a directory kind in the `directory` and `names` tables.
pub(crate) fn dir_letter(kind: DirectoryKind) -> &'static str {
    match kind {
        DirectoryKind::Street => "S",
        DirectoryKind::Community => "C",
        DirectoryKind::Department => "D",
    }
}

pub(super) fn corrupt(what: impl Into<String>, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        why: e.to_string(),
    }
}

/// A series' next id, and whether its row exists yet.
struct SeriesState {
    next: u64,
    stored: bool,
    changed: bool,
}

pub(super) struct PgUnit<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    prepared: &'t Prepared,
    head: u64,
    whistles: HashMap<u64, Option<Whistle>>,
    wishes: HashMap<u64, Option<Wish>>,
    new_whistles: BTreeMap<u64, Pending<Whistle>>,
    new_wishes: BTreeMap<u64, Pending<Wish>>,
    /// Ids of each directory kind, loaded whole on first use (a city has hundreds).
    directory_ids: HashMap<&'static str, HashSet<u64>>,
    communities: Option<HashMap<u64, Community>>,
    new_directory: Vec<(&'static str, u64, String)>,
    new_activities: Vec<(u64, i64, i64, i64, DateTime<Utc>, String)>,
    series: HashMap<&'static str, SeriesState>,
    names: HashMap<(&'static str, String), Option<NameHolder>>,
    new_names: Vec<(&'static str, String, NameHolder)>,
    tokens: HashMap<[u8; 32], (bool, String)>,
    events: Vec<PendingEvent>,
    /// Events of earlier batches to put on a record's timeline.
    earlier_marks: Vec<(&'static str, u64, u64)>,
    counters: BTreeMap<String, i64>,
    kept: HashMap<Vec<u8>, Option<KeptAnswer>>,
    new_kept: Vec<(Vec<u8>, KeptAnswer)>,
}

impl<'t, 'c> PgUnit<'t, 'c> {
    pub(super) fn new(tx: &'t mut Transaction<'c>, prepared: &'t Prepared, head: u64) -> Self {
        PgUnit {
            tx,
            prepared,
            head,
            whistles: HashMap::new(),
            wishes: HashMap::new(),
            new_whistles: BTreeMap::new(),
            new_wishes: BTreeMap::new(),
            directory_ids: HashMap::new(),
            communities: None,
            new_directory: Vec::new(),
            new_activities: Vec::new(),
            series: HashMap::new(),
            names: HashMap::new(),
            new_names: Vec::new(),
            tokens: HashMap::new(),
            events: Vec::new(),
            earlier_marks: Vec::new(),
            counters: BTreeMap::new(),
            kept: HashMap::new(),
            new_kept: Vec::new(),
        }
    }

    /// Loads records by id into `cache` (None for those that do not exist).
    fn load<T: serde::de::DeserializeOwned>(
        tx: &mut Transaction<'c>,
        table: &str,
        ids: &[u64],
        cache: &mut HashMap<u64, Option<T>>,
        letter: char,
    ) -> Result<(), StoreError> {
        let want: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !cache.contains_key(id))
            .collect();
        for chunk in want.chunks(1000) {
            let list = in_list(chunk);
            let rows = tx
                .query_typed(
                    &format!("SELECT id, json FROM {table} WHERE id IN ({list})"),
                    &[],
                )
                .map_err(db_error)?;
            for id in chunk {
                cache.insert(*id, None);
            }
            for row in rows {
                let id = col::<i64>(&row, 0)?.max(0) as u64;
                let json: String = col(&row, 1)?;
                let rec = decode(json.as_bytes(), || format!("{letter}{id}"))?;
                cache.insert(id, Some(rec));
            }
        }
        Ok(())
    }

    fn directory_ids(&mut self, letter: &'static str) -> Result<&mut HashSet<u64>, StoreError> {
        if !self.directory_ids.contains_key(letter) {
            let rows = self
                .tx
                .query_typed(
                    "SELECT id FROM directory WHERE kind = $1",
                    &[(&letter, Type::TEXT)],
                )
                .map_err(db_error)?;
            let ids = rows
                .iter()
                .map(|r| col::<i64>(r, 0).map(|i| i.max(0) as u64))
                .collect::<Result<HashSet<_>, _>>()?;
            self.directory_ids.insert(letter, ids);
        }
        self.directory_ids
            .get_mut(letter)
            .ok_or_else(|| corrupt("directory", "not loaded"))
    }

    fn series(&mut self, series: Series) -> Result<&mut SeriesState, StoreError> {
        let name = series.name();
        if !self.series.contains_key(name) {
            let row = self
                .tx
                .query_typed(
                    "SELECT next_id FROM series WHERE name = $1",
                    &[(&name, Type::TEXT)],
                )
                .map_err(db_error)?
                .pop();
            let state = match row {
                Some(r) => SeriesState {
                    next: col::<i64>(&r, 0)?.max(0) as u64,
                    stored: true,
                    changed: false,
                },
                None => SeriesState {
                    next: series.first(),
                    stored: false,
                    changed: false,
                },
            };
            self.series.insert(name, state);
        }
        self.series
            .get_mut(name)
            .ok_or_else(|| corrupt("series", "not loaded"))
    }

    /// Puts the events `seqs` on the timeline of record `id`: those of this batch as they
    /// are written, earlier ones (a city being copied) by an update at the end.
    fn mark_timeline(&mut self, letter: &'static str, id: u64, seqs: &[u64]) {
        let first_pending = self.events.first().map_or(u64::MAX, |e| e.seq);
        for &seq in seqs {
            match seq.checked_sub(first_pending) {
                Some(i) => {
                    if let Some(e) = self.events.get_mut(i as usize).filter(|e| e.seq == seq) {
                        e.record = Some((letter, id));
                    }
                }
                None => self.earlier_marks.push((letter, id, seq)),
            }
        }
    }

    /// Writes everything the batch did, a few statements per table.
    pub(super) fn write_all(&mut self) -> Result<(), StoreError> {
        let tx = &mut *self.tx;
        // New whistles through the prepared array insert (every batch of creates has them).
        insert_whistles(tx, self.prepared, &self.new_whistles)?;
        let changed = record_rows(&self.new_whistles, false, whistle_row);
        update(tx, "whistles", WHISTLE_COLUMNS, changed)?;
        let (new, changed) = (
            record_rows(&self.new_wishes, true, wish_row),
            record_rows(&self.new_wishes, false, wish_row),
        );
        insert(tx, "wishes", WISH_COLUMNS, new)?;
        update(tx, "wishes", WISH_COLUMNS, changed)?;
        insert_events(tx, self.prepared, &self.events)?;
        let marks: Vec<Vec<Param>> = self
            .earlier_marks
            .iter()
            .map(|(k, id, seq)| -> Vec<Param> {
                vec![
                    Box::new(id_of(*seq)),
                    Box::new(k.to_string()),
                    Box::new(id_of(*id)),
                ]
            })
            .collect();
        update(
            tx,
            "events",
            &[
                ("seq", "bigint"),
                ("record_kind", "text"),
                ("record_id", "bigint"),
            ],
            marks,
        )?;
        let directory: Vec<Vec<Param>> = self
            .new_directory
            .iter()
            .map(|(k, id, json)| -> Vec<Param> {
                vec![
                    Box::new(k.to_string()),
                    Box::new(id_of(*id)),
                    Box::new(json.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "directory",
            &[("kind", "text"), ("id", "bigint"), ("json", "text")],
            directory,
        )?;
        let names: Vec<Vec<Param>> = self
            .new_names
            .iter()
            .map(|(k, name, holder)| -> Vec<Param> {
                let (id, hash) = match holder {
                    NameHolder::Directory(_, id) => (Some(id_of(*id)), None),
                    NameHolder::Token(h) => (None, Some(h.to_vec())),
                };
                vec![
                    Box::new(k.to_string()),
                    Box::new(name.clone()),
                    Box::new(id),
                    Box::new(hash),
                ]
            })
            .collect();
        insert(
            tx,
            "names",
            &[
                ("kind", "text"),
                ("name", "text"),
                ("holder_id", "bigint"),
                ("holder_hash", "bytea"),
            ],
            names,
        )?;
        let activities: Vec<Vec<Param>> = self
            .new_activities
            .iter()
            .map(|(id, d, c, s, day, json)| -> Vec<Param> {
                vec![
                    Box::new(id_of(*id)),
                    Box::new(*d),
                    Box::new(*c),
                    Box::new(*s),
                    Box::new(*day),
                    Box::new(json.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "activities",
            &[
                ("id", "bigint"),
                ("department_id", "bigint"),
                ("community_id", "bigint"),
                ("street_id", "bigint"),
                ("day", "timestamptz"),
                ("json", "text"),
            ],
            activities,
        )?;
        let token_rows = |stored: bool| -> Vec<Vec<Param>> {
            self.tokens
                .iter()
                .filter(|(_, (s, _))| *s == stored)
                .map(|(h, (_, json))| -> Vec<Param> {
                    vec![Box::new(h.to_vec()), Box::new(json.clone())]
                })
                .collect()
        };
        let token_cols = &[("hash", "bytea"), ("json", "text")];
        insert(tx, "tokens", token_cols, token_rows(false))?;
        update(tx, "tokens", token_cols, token_rows(true))?;
        let kept: Vec<Vec<Param>> = self
            .new_kept
            .iter()
            .map(|(k, v)| -> Vec<Param> {
                vec![
                    Box::new(k.clone()),
                    Box::new(v.body.clone()),
                    Box::new(v.answer.clone()),
                ]
            })
            .collect();
        insert(
            tx,
            "idempotency",
            &[("key", "bytea"), ("body", "text"), ("answer", "text")],
            kept,
        )?;
        let series_rows = |stored: bool| -> Vec<Vec<Param>> {
            self.series
                .iter()
                .filter(|(_, s)| s.changed && s.stored == stored)
                .map(|(n, s)| -> Vec<Param> {
                    vec![Box::new(n.to_string()), Box::new(id_of(s.next))]
                })
                .collect()
        };
        let series_cols = &[("name", "text"), ("next_id", "bigint")];
        insert(tx, "series", series_cols, series_rows(false))?;
        update(tx, "series", series_cols, series_rows(true))?;
        write_counters(tx, self.prepared, &self.counters)?;
        if let Some(last) = self.events.last() {
            tx.execute_typed(
                "UPDATE log_head SET seq = $1 WHERE one = 1",
                &[(&id_of(last.seq), Type::INT8)],
            )
            .map_err(db_error)?;
        }
        Ok(())
    }
}

impl Unit for PgUnit<'_, '_> {
    fn log_head(&mut self) -> Result<u64, StoreError> {
        Ok(self.head)
    }

    fn prefetch(
        &mut self,
        whistles: &[WhistleId],
        wishes: &[WishId],
        keys: &[&[u8]],
    ) -> Result<(), StoreError> {
        let w: Vec<u64> = whistles.iter().map(|w| w.0).collect();
        Self::load(self.tx, "whistles", &w, &mut self.whistles, 'W')?;
        let m: Vec<u64> = wishes.iter().map(|w| w.0).collect();
        Self::load(self.tx, "wishes", &m, &mut self.wishes, 'M')?;
        let keys: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| !self.kept.contains_key(**k))
            .map(|k| k.to_vec())
            .collect();
        for chunk in keys.chunks(1000) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<(&(dyn ToSql + Sync), Type)> = chunk
                .iter()
                .map(|k| (k as &(dyn ToSql + Sync), Type::BYTEA))
                .collect();
            let rows = self
                .tx
                .query_typed(
                    &format!(
                        "SELECT key, body, answer FROM idempotency WHERE key IN ({})",
                        list.join(",")
                    ),
                    &params,
                )
                .map_err(db_error)?;
            for k in chunk {
                self.kept.insert(k.clone(), None);
            }
            for r in rows {
                let key: Vec<u8> = col(&r, 0)?;
                let kept = KeptAnswer {
                    body: col(&r, 1)?,
                    answer: col(&r, 2)?,
                };
                self.kept.insert(key, Some(kept));
            }
        }
        Ok(())
    }

    fn whistle(&mut self, id: WhistleId) -> Result<Option<Whistle>, StoreError> {
        Self::load(self.tx, "whistles", &[id.0], &mut self.whistles, 'W')?;
        Ok(self.whistles.get(&id.0).cloned().flatten())
    }

    fn wish(&mut self, id: WishId) -> Result<Option<Wish>, StoreError> {
        Self::load(self.tx, "wishes", &[id.0], &mut self.wishes, 'M')?;
        Ok(self.wishes.get(&id.0).cloned().flatten())
    }

    fn put_whistle(
        &mut self,
        old: Option<&Whistle>,
        new: &Whistle,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        let id = new.id.0;
        self.whistles.insert(id, Some(new.clone()));
        let is_new = self
            .new_whistles
            .get(&id)
            .map_or(old.is_none(), |p| p.is_new);
        self.new_whistles.insert(
            id,
            Pending {
                is_new,
                record: new.clone(),
                json: json.to_string(),
            },
        );
        self.mark_timeline("W", id, events);
        Ok(())
    }

    fn put_wish(
        &mut self,
        old: Option<&Wish>,
        new: &Wish,
        json: &str,
        events: &[u64],
    ) -> Result<(), StoreError> {
        let id = new.id.0;
        self.wishes.insert(id, Some(new.clone()));
        let is_new = self.new_wishes.get(&id).map_or(old.is_none(), |p| p.is_new);
        self.new_wishes.insert(
            id,
            Pending {
                is_new,
                record: new.clone(),
                json: json.to_string(),
            },
        );
        self.mark_timeline("M", id, events);
        Ok(())
    }

    fn has(&mut self, kind: DirectoryKind, id: u64) -> Result<bool, StoreError> {
        Ok(self.directory_ids(dir_letter(kind))?.contains(&id))
    }

    fn community(&mut self, id: CommunityId) -> Result<Option<Community>, StoreError> {
        if self.communities.is_none() {
            let rows = self
                .tx
                .query_typed("SELECT id, json FROM directory WHERE kind = 'C'", &[])
                .map_err(db_error)?;
            let mut all = HashMap::new();
            for r in rows {
                let cid = col::<i64>(&r, 0)?.max(0) as u64;
                let json: String = col(&r, 1)?;
                all.insert(cid, decode(json.as_bytes(), || format!("C{cid}"))?);
            }
            self.communities = Some(all);
        }
        Ok(self
            .communities
            .as_ref()
            .and_then(|all| all.get(&id.0).cloned()))
    }

    fn put_directory(
        &mut self,
        kind: DirectoryKind,
        id: u64,
        json: &str,
    ) -> Result<(), StoreError> {
        let letter = dir_letter(kind);
        self.directory_ids(letter)?.insert(id);
        if kind == DirectoryKind::Community {
            let c: Community = decode(json.as_bytes(), || format!("C{id}"))?;
            if let Some(all) = self.communities.as_mut() {
                all.insert(id, c);
            }
        }
        self.new_directory.push((letter, id, json.to_string()));
        Ok(())
    }

    fn put_activity(
        &mut self,
        a: &Activity,
        id: u64,
        street: StreetId,
        day: DateTime<Utc>,
        json: &str,
    ) -> Result<(), StoreError> {
        self.new_activities.push((
            id,
            id_of(a.department_id.0),
            id_of(a.community_id.0),
            id_of(street.0),
            day,
            json.to_string(),
        ));
        Ok(())
    }

    fn put_template(&mut self, id: u64, json: Option<&str>) -> Result<(), StoreError> {
        // Rare and small: written at once inside the transaction rather than gathered.
        match json {
            Some(json) => self.tx.execute(
                "INSERT INTO directory (kind, id, json) VALUES ('R', $1, $2) \
                 ON CONFLICT (kind, id) DO UPDATE SET json = EXCLUDED.json",
                &[&id_of(id), &json],
            ),
            None => self.tx.execute(
                "DELETE FROM directory WHERE kind = 'R' AND id = $1",
                &[&id_of(id)],
            ),
        }
        .map_err(db_error)?;
        Ok(())
    }

    fn template(&mut self, id: u64) -> Result<Option<ReplyTemplate>, StoreError> {
        let row = self
            .tx
            .query_opt(
                "SELECT json FROM directory WHERE kind = 'R' AND id = $1",
                &[&id_of(id)],
            )
            .map_err(db_error)?;
        row.map(|r| {
            let json: String = col(&r, 0)?;
            decode(json.as_bytes(), || format!("T{id}"))
        })
        .transpose()
    }

    fn peek_id(&mut self, series: Series) -> Result<u64, StoreError> {
        Ok(self.series(series)?.next)
    }

    fn take_id(&mut self, series: Series) -> Result<u64, StoreError> {
        let s = self.series(series)?;
        let id = s.next;
        s.next += 1;
        s.changed = true;
        Ok(id)
    }

    fn restore_series(&mut self, series: Series, next: u64) -> Result<(), StoreError> {
        let s = self.series(series)?;
        s.next = next;
        s.changed = true;
        Ok(())
    }

    fn claim_name(
        &mut self,
        name: &str,
        holder: NameHolder,
    ) -> Result<Option<NameHolder>, StoreError> {
        let (letter, kind) = match holder {
            NameHolder::Directory(kind, _) => (dir_letter(kind), Some(kind)),
            NameHolder::Token(_) => ("T", None),
        };
        if let Some(had) = self.name_holder(letter, kind, name)? {
            return Ok(Some(had));
        }
        self.names.insert((letter, name.to_string()), Some(holder));
        self.new_names.push((letter, name.to_string(), holder));
        Ok(None)
    }

    fn token_named(&mut self, name: &str) -> Result<Option<([u8; 32], TokenInfo)>, StoreError> {
        let Some(NameHolder::Token(hash)) = self.name_holder("T", None, name)? else {
            return Ok(None);
        };
        let json = match self.tokens.get(&hash) {
            Some((_, json)) => json.clone(),
            None => {
                let Some(row) = self
                    .tx
                    .query_opt("SELECT json FROM tokens WHERE hash = $1", &[&hash.to_vec()])
                    .map_err(db_error)?
                else {
                    return Ok(None);
                };
                col(&row, 0)?
            }
        };
        Ok(Some((hash, decode(json.as_bytes(), || name.to_string())?)))
    }

    fn put_token(&mut self, hash: &[u8; 32], json: &str) -> Result<(), StoreError> {
        let stored = match self.tokens.get(hash) {
            Some((stored, _)) => *stored,
            None => self
                .tx
                .query_opt("SELECT 1 FROM tokens WHERE hash = $1", &[&hash.to_vec()])
                .map_err(db_error)?
                .is_some(),
        };
        self.tokens.insert(*hash, (stored, json.to_string()));
        Ok(())
    }

    fn append_event(&mut self, e: &LogEntry<'_>) -> Result<(), StoreError> {
        self.events.push(PendingEvent {
            seq: e.seq,
            kind: e.kind.as_str(),
            at: e.at,
            actor: e.actor.to_string(),
            subject: e.subject.to_string(),
            about_whistle: e.kind.about_whistle(),
            record: None,
            json: e.json.to_string(),
        });
        Ok(())
    }

    fn add_to_counters(&mut self, deltas: &BTreeMap<String, i64>) -> Result<(), StoreError> {
        for (name, d) in deltas {
            *self.counters.entry(name.clone()).or_default() += d;
        }
        Ok(())
    }

    fn kept(&mut self, key: &[u8]) -> Result<Option<KeptAnswer>, StoreError> {
        if let Some(k) = self.kept.get(key) {
            return Ok(k.clone());
        }
        let row = self
            .tx
            .query_opt(
                "SELECT body, answer FROM idempotency WHERE key = $1",
                &[&key.to_vec()],
            )
            .map_err(db_error)?;
        let k = match row {
            Some(r) => Some(KeptAnswer {
                body: col(&r, 0)?,
                answer: col(&r, 1)?,
            }),
            None => None,
        };
        self.kept.insert(key.to_vec(), k.clone());
        Ok(k)
    }

    fn keep(&mut self, key: &[u8], kept: &KeptAnswer) -> Result<(), StoreError> {
        self.kept.insert(key.to_vec(), Some(kept.clone()));
        self.new_kept.push((key.to_vec(), kept.clone()));
        Ok(())
    }
}

impl PgUnit<'_, '_> {
    /// Who holds a name (a directory kind's, or a token's when `kind` is None).
    fn name_holder(
        &mut self,
        letter: &'static str,
        kind: Option<DirectoryKind>,
        name: &str,
    ) -> Result<Option<NameHolder>, StoreError> {
        let key = (letter, name.to_string());
        if let Some(h) = self.names.get(&key) {
            return Ok(*h);
        }
        let row = self
            .tx
            .query_opt(
                "SELECT holder_id, holder_hash FROM names WHERE kind = $1 AND name = $2",
                &[&letter, &name],
            )
            .map_err(db_error)?;
        let holder = match row {
            None => None,
            Some(r) => {
                let id: Option<i64> = col(&r, 0)?;
                let hash: Option<Vec<u8>> = col(&r, 1)?;
                match (kind, id, hash) {
                    (Some(k), Some(id), _) => Some(NameHolder::Directory(k, id.max(0) as u64)),
                    (None, _, Some(h)) => Some(NameHolder::Token(
                        <[u8; 32]>::try_from(h.as_slice())
                            .map_err(|e| corrupt(format!("token {name}"), e))?,
                    )),
                    _ => return Err(corrupt(format!("the name {name}"), "no holder")),
                }
            }
        };
        self.names.insert(key, holder);
        Ok(holder)
    }
}
