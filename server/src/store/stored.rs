//! How a whistle or wish is stored: the sequence numbers of its events (its timeline) ahead of
//! its JSON, so a timeline costs no index entry of its own and no extra write per change.
//!
//! Layout: `0xFE`, the count as a big-endian u32, that many big-endian u64s, then the JSON.
//! A value that starts with `{` is a record stored before timelines moved here (format 1).

use serde::de::DeserializeOwned;

use crate::storage::{decode, StoreError};

const MARK: u8 = 0xFE;

/// The stored value of a record with this timeline and JSON.
pub fn encode(timeline: &[u64], json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + timeline.len() * 8 + json.len());
    out.push(MARK);
    out.extend_from_slice(&(timeline.len() as u32).to_be_bytes());
    for s in timeline {
        out.extend_from_slice(&s.to_be_bytes());
    }
    out.extend_from_slice(json);
    out
}

/// Splits a stored value into its timeline's bytes (8 per event) and its JSON; None when the
/// header is cut short.
fn split(v: &[u8]) -> Option<(&[u8], &[u8])> {
    if v.first() != Some(&MARK) {
        return Some((&[], v));
    }
    let n = u32::from_be_bytes(v.get(1..5)?.try_into().ok()?) as usize;
    let end = 5usize.checked_add(n.checked_mul(8)?)?;
    Some((v.get(5..end)?, v.get(end..)?))
}

/// The record's JSON.
pub fn json(v: &[u8]) -> Option<&[u8]> {
    split(v).map(|(_, j)| j)
}

/// The sequence numbers of the record's events, oldest first.
pub fn timeline(v: &[u8]) -> Option<Vec<u64>> {
    split(v).map(|(t, _)| t.chunks_exact(8).filter_map(super::keys::read_be).collect())
}

/// Decodes a stored whistle or wish .
pub fn decode_record<T: DeserializeOwned>(
    v: &[u8],
    what: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    match json(v) {
        Some(json) => decode(json, what),
        None => Err(cut_short(what())),
    }
}

pub(super) fn cut_short(what: String) -> StoreError {
    StoreError::Corrupt {
        what,
        why: "its stored timeline is cut short".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let v = encode(&[3, 70, 1 << 40], br#"{"id":"W1"}"#);
        assert_eq!(json(&v), Some(&br#"{"id":"W1"}"#[..]));
        assert_eq!(timeline(&v), Some(vec![3, 70, 1 << 40]));
        let empty = encode(&[], b"{}");
        assert_eq!(
            (json(&empty), timeline(&empty)),
            (Some(&b"{}"[..]), Some(vec![]))
        );
    }

    #[test]
    fn format_1_json_has_no_timeline_and_a_cut_header_is_refused() {
        assert_eq!(json(b"{\"a\":1}"), Some(&b"{\"a\":1}"[..]));
        assert_eq!(timeline(b"{}"), Some(vec![]));
        let v = encode(&[1, 2], b"{}");
        assert_eq!(json(&v[..9]), None);
        assert_eq!(timeline(&[MARK, 0, 0]), None);
    }
}
