//! Postings: an id-ordered list kept as one sled entry per 1,024 ids.
//!
//! sled 0.34 splits a leaf at 16 entries whatever their size, and keeps bookkeeping for every
//! page in memory from start-up on. One entry per id therefore cost a page for every ~9 ids of
//! every list (status, unit with status, an actor's log), and start-up time and memory grew
//! with it. A postings entry is `prefix ++ be(id >> BITS)` whose value is the sorted low bits
//! of its ids, two bytes each (at most 2 KiB).

use super::keys::{be, key, read_be};
use super::StoreError;

/// Low bits of an id kept in the value; the rest is in the key.
pub const BITS: u32 = 10;
const LOW: u64 = (1 << BITS) - 1;

/// The entry holding `id` in the list `prefix`.
pub fn bucket_key(prefix: &[u8], id: u64) -> Vec<u8> {
    key(&[prefix, &be(id >> BITS)])
}

/// The ids of one entry, ascending; `bucket` is the number after the prefix.
pub fn ids(bucket: u64, v: &[u8]) -> impl DoubleEndedIterator<Item = u64> + '_ {
    v.chunks_exact(2)
        .map(move |c| (bucket << BITS) | u64::from(u16::from_be_bytes([c[0], c[1]])))
}

fn low(id: u64) -> [u8; 2] {
    ((id & LOW) as u16).to_be_bytes()
}

/// Where `id` is (Ok) or would go (Err) among the entry's two-byte values.
fn find(v: &[u8], id: u64) -> Result<usize, usize> {
    let want = low(id);
    let n = v.len() / 2;
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match v[mid * 2..mid * 2 + 2].cmp(&want[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// The entry's value with `id` added (unchanged if it was there).
pub fn with(v: &[u8], id: u64) -> Vec<u8> {
    let mut out = v[..v.len() / 2 * 2].to_vec();
    if let Err(at) = find(&out, id) {
        out.splice(at * 2..at * 2, low(id));
    }
    out
}

/// The entry's value with `id` taken out (unchanged if it was not there).
pub fn without(v: &[u8], id: u64) -> Vec<u8> {
    let mut out = v[..v.len() / 2 * 2].to_vec();
    if let Ok(at) = find(&out, id) {
        out.drain(at * 2..at * 2 + 2);
    }
    out
}

/// The ids of the list `prefix` in `tree`, highest first, those below `below` only when given.
pub fn descending(
    tree: &sled::Tree,
    prefix: &[u8],
    below: Option<u64>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let end = match below {
        Some(id) => bucket_key(prefix, id),
        None => key(&[prefix, &[0xff; 9]]),
    };
    walk(
        tree.range(prefix.to_vec()..=end).rev(),
        prefix.len(),
        move |b, v| {
            ids(b, v)
                .rev()
                .filter(|id| below.is_none_or(|x| *id < x))
                .collect()
        },
    )
}

/// The ids of the list `prefix` in `tree`, lowest first, those above `after` only.
pub fn ascending(
    tree: &sled::Tree,
    prefix: &[u8],
    after: u64,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let end = key(&[prefix, &[0xff; 9]]);
    walk(
        tree.range(bucket_key(prefix, after)..=end),
        prefix.len(),
        move |b, v| ids(b, v).filter(|id| *id > after).collect(),
    )
}

/// Yields the ids of each entry in turn, in the order `pick` gives them (`pick` gets the
/// entry's number after the prefix and its value).
fn walk(
    mut entries: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    plen: usize,
    pick: impl Fn(u64, &[u8]) -> std::collections::VecDeque<u64>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let mut buf = std::collections::VecDeque::new();
    std::iter::from_fn(move || loop {
        if let Some(id) = buf.pop_front() {
            return Some(Ok(id));
        }
        match entries.next()? {
            Err(e) => return Some(Err(e.into())),
            Ok((k, v)) => {
                if let Some(b) = k.get(plen..).and_then(read_be) {
                    buf = pick(b, &v);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Adding and removing ids through entries gives the same set as a BTreeSet, and
        /// both iterators walk it in order from any cursor.
        #[test]
        fn postings_behave_like_a_sorted_set(
            ops in proptest::collection::vec((any::<bool>(), 0u64..5000), 0..300),
            cursor in 0u64..5200,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::Config::new().path(dir.path()).temporary(true).open().unwrap();
            let tree = db.open_tree("t").unwrap();
            let prefix = b"px".to_vec();
            // A neighbour list whose keys sort right after ours must never leak in.
            tree.insert(bucket_key(b"py", 3), with(&[], 3)).unwrap();
            let mut model = std::collections::BTreeSet::new();
            for (add, id) in ops {
                let k = bucket_key(&prefix, id);
                let v = tree.get(&k).unwrap().map(|v| v.to_vec()).unwrap_or_default();
                let nv = if add { model.insert(id); with(&v, id) } else { model.remove(&id); without(&v, id) };
                if nv.is_empty() { tree.remove(&k).unwrap(); } else { tree.insert(&k, nv).unwrap(); }
            }
            let all: Vec<u64> = descending(&tree, &prefix, None).map(|r| r.unwrap()).collect();
            prop_assert_eq!(all, model.iter().rev().copied().collect::<Vec<_>>());
            let below: Vec<u64> = descending(&tree, &prefix, Some(cursor)).map(|r| r.unwrap()).collect();
            prop_assert_eq!(below, model.range(..cursor).rev().copied().collect::<Vec<_>>());
            let above: Vec<u64> = ascending(&tree, &prefix, cursor).map(|r| r.unwrap()).collect();
            prop_assert_eq!(above, model.range(cursor + 1..).copied().collect::<Vec<_>>());
        }
    }
}
